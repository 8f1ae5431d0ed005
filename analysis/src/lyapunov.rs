//! Lyapunov spectrum of input-driven dynamics by the QR method (Vogt et al. 2022).

use faer::Mat;

use crate::dynamics::Dynamics;
use crate::error::{AnalysisError, Result};

/// The `k` largest Lyapunov exponents of `dynamics` along the trajectory from `h0` driven by `inputs`
/// (one input vector per step), in nats per step divided by `dt` (so 1/s when dt is in seconds).
///
/// `Q_t R_t = J_t·Q_{t−1}`, re-orthonormalised every step; λᵢ = Σ log|R_t,ii| / (T − warmup) / dt over
/// the steps after `warmup`. Exponents are sorted in nonincreasing order.
pub fn lyapunov_spectrum<D: Dynamics>(
    dynamics: &D,
    h0: &[f64],
    inputs: &[Vec<f64>],
    k: usize,
    warmup: usize,
    dt: f64,
) -> Result<Vec<f64>> {
    const OP: &str = "lyapunov_spectrum";
    let n = dynamics.dim();
    if h0.len() != n {
        return Err(AnalysisError::Shape {
            op: OP,
            expected: format!("h0 of {n}"),
            got: format!("{}", h0.len()),
        });
    }
    if k == 0 || k > n {
        return Err(AnalysisError::InvalidParameter {
            op: OP,
            name: "k",
            reason: format!("must be in 1..={n}"),
        });
    }
    if inputs.len() <= warmup {
        return Err(AnalysisError::TooFewSamples {
            op: OP,
            need: warmup + 1,
            got: inputs.len(),
        });
    }
    let mut h = h0.to_vec();
    let mut next = vec![0.0; n];
    let mut jac = vec![0.0; n * n];
    let mut q = Mat::<f64>::from_fn(n, k, |i, j| if i == j { 1.0 } else { 0.0 });
    let mut sums = vec![0.0; k];
    for (t, u) in inputs.iter().enumerate() {
        dynamics.jacobian(&h, u, &mut jac);
        dynamics.step(&h, u, &mut next);
        std::mem::swap(&mut h, &mut next);
        let j = Mat::<f64>::from_fn(n, n, |a, b| jac[a * n + b]);
        let m = &j * &q;
        let qr = m.qr();
        let r = qr.thin_R();
        let mut qn = qr.compute_thin_Q();
        for c in 0..k {
            // Keep the diagonal of R positive so the basis does not flip between steps.
            if r[(c, c)] < 0.0 {
                for a in 0..n {
                    qn[(a, c)] = -qn[(a, c)];
                }
            }
            if t >= warmup {
                sums[c] += r[(c, c)].abs().ln();
            }
        }
        q = qn;
        if h.iter().any(|v| !v.is_finite()) {
            return Err(AnalysisError::NonFinite { op: OP });
        }
    }
    let steps = (inputs.len() - warmup) as f64;
    let mut out: Vec<f64> = sums.iter().map(|s| s / steps / dt).collect();
    out.sort_by(|a, b| b.total_cmp(a));
    Ok(out)
}
