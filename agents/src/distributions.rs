//! Log-probabilities, entropies and KL divergences of the action heads, as differentiable candle ops.

use candle_core::{DType, Tensor, D};

use crate::error::Result;

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Log-density of `actions [T, B, A]` under N(mean, exp(log_std)²), summed over A → `[T, B]`.
pub fn gaussian_log_prob(mean: &Tensor, log_std: &Tensor, actions: &Tensor) -> Result<Tensor> {
    let a = mean.dim(D::Minus1)? as f64;
    let z = (actions - mean)?.broadcast_div(&log_std.exp()?)?;
    let quad = (z.sqr()?.sum(D::Minus1)? * -0.5)?;
    Ok((quad.broadcast_sub(&log_std.sum_all()?)? - 0.5 * a * LN_2PI)?)
}

/// Entropy of the diagonal Gaussian (the same at every step): Σ log σ + A(1 + ln 2π)/2.
pub fn gaussian_entropy(log_std: &Tensor) -> Result<Tensor> {
    let a = log_std.dim(0)? as f64;
    Ok((log_std.sum_all()? + 0.5 * a * (1.0 + LN_2PI))?)
}

/// KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) summed over the last axis:
/// Σ log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½. Arguments broadcast.
pub fn gaussian_kl(mu1: &Tensor, log_std1: &Tensor, mu2: &Tensor, log_std2: &Tensor) -> Result<Tensor> {
    let var1 = (log_std1 * 2.0)?.exp()?;
    let var2 = (log_std2 * 2.0)?.exp()?;
    let diff2 = mu1.broadcast_sub(mu2)?.sqr()?;
    let num = diff2.broadcast_add(&var1)?;
    let term = (num.broadcast_div(&(var2 * 2.0)?)? - 0.5)?;
    let logs = log_std2.broadcast_sub(log_std1)?;
    Ok(term.broadcast_add(&logs)?.sum(D::Minus1)?)
}

/// Log-probability of action indices `[T, B]` (stored as floats) under `logits [T, B, N]` → `[T, B]`.
pub fn categorical_log_prob(logits: &Tensor, actions: &Tensor) -> Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let idx = actions.to_dtype(DType::U32)?.unsqueeze(D::Minus1)?;
    Ok(logp.gather(&idx, D::Minus1)?.squeeze(D::Minus1)?)
}

/// Entropy of the categorical distributions `[T, B, N]` → `[T, B]`.
pub fn categorical_entropy(logits: &Tensor) -> Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    Ok((logp.exp()? * &logp)?.sum(D::Minus1)?.neg()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn gaussian_formulas_match_closed_forms() -> Result<()> {
        let dev = Device::Cpu;
        let mean = Tensor::new(&[[[0.3f64, -1.0]]], &dev)?;
        let ls = Tensor::new(&[0.1f64, -0.7], &dev)?;
        let act = Tensor::new(&[[[0.5f64, -0.2]]], &dev)?;
        let lp = gaussian_log_prob(&mean, &ls, &act)?.flatten_all()?.to_vec1::<f64>()?[0];
        let want: f64 = [(0.5, 0.3, 0.1f64), (-0.2, -1.0, -0.7)]
            .iter()
            .map(|&(a, m, l)| -0.5 * ((a - m) / l.exp()).powi(2) - l - 0.5 * LN_2PI)
            .sum();
        assert!((lp - want).abs() < 1e-12);
        // KL of a distribution with itself is 0; KL to a wider one matches the formula.
        let kl0 = gaussian_kl(&mean, &ls, &mean, &ls)?.flatten_all()?.to_vec1::<f64>()?[0];
        assert!(kl0.abs() < 1e-12);
        let zero = Tensor::zeros((1, 1, 2), DType::F64, &dev)?;
        let ls0 = Tensor::zeros(2, DType::F64, &dev)?;
        let kl = gaussian_kl(&mean, &ls, &zero, &ls0)?.flatten_all()?.to_vec1::<f64>()?[0];
        let want: f64 = [(0.3, 0.1f64), (-1.0, -0.7)]
            .iter()
            .map(|&(m, l)| -l + ((2.0 * l).exp() + m * m) / 2.0 - 0.5)
            .sum();
        assert!((kl - want).abs() < 1e-12);
        let logits = Tensor::new(&[[[0.0f64, (2.0f64).ln()]]], &dev)?;
        let lp = categorical_log_prob(&logits, &Tensor::new(&[[1.0f64]], &dev)?)?;
        assert!((lp.flatten_all()?.to_vec1::<f64>()?[0] - (2.0f64 / 3.0).ln()).abs() < 1e-12);
        let h = categorical_entropy(&logits)?.flatten_all()?.to_vec1::<f64>()?[0];
        let want = -(1.0 / 3.0f64) * (1.0 / 3.0f64).ln() - (2.0 / 3.0f64) * (2.0 / 3.0f64).ln();
        assert!((h - want).abs() < 1e-12);
        Ok(())
    }
}
