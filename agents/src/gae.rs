//! Generalised advantage estimation over padded, time-major episodes, and a running return normaliser.

use serde::{Deserialize, Serialize};

/// Advantages and returns `[T, N]` (zero past each episode's end).
///
/// `δ_t = r_t + γ·V_{t+1} − V_t`, `A_t = δ_t + γλ·A_{t+1}`, where past the last step `V` is the bootstrap
/// value for a truncated episode and 0 for a terminated one. λ = 1 gives Monte-Carlo returns minus the
/// baseline (REINFORCE); λ = 0 the one-step TD error.
#[allow(clippy::too_many_arguments)]
pub fn gae(
    steps: usize,
    episodes: usize,
    rewards: &[f32],
    values: &[f32],
    lengths: &[usize],
    terminated: &[bool],
    bootstrap: &[f32],
    gamma: f64,
    lambda: f64,
) -> (Vec<f32>, Vec<f32>) {
    let mut adv = vec![0.0f32; steps * episodes];
    let mut ret = vec![0.0f32; steps * episodes];
    for e in 0..episodes {
        let len = lengths[e];
        let mut next_value = if terminated[e] { 0.0 } else { f64::from(bootstrap[e]) };
        let mut next_adv = 0.0f64;
        for t in (0..len).rev() {
            let k = t * episodes + e;
            let v = f64::from(values[k]);
            let delta = f64::from(rewards[k]) + gamma * next_value - v;
            next_adv = delta + gamma * lambda * next_adv;
            adv[k] = next_adv as f32;
            ret[k] = (next_adv + v) as f32;
            next_value = v;
        }
    }
    (adv, ret)
}

/// Running mean and variance (Chan et al. parallel update), to express value targets in units of about 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    pub mean: f64,
    pub var: f64,
    pub count: f64,
}

impl Default for RunningMeanStd {
    fn default() -> Self {
        RunningMeanStd {
            mean: 0.0,
            var: 1.0,
            count: 1e-4,
        }
    }
}

impl RunningMeanStd {
    /// Folds in a batch of values.
    pub fn update(&mut self, xs: impl Iterator<Item = f64> + Clone) {
        let n = xs.clone().count() as f64;
        if n == 0.0 {
            return;
        }
        let mean = xs.clone().sum::<f64>() / n;
        let var = xs.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        let delta = mean - self.mean;
        let tot = self.count + n;
        let m2 = self.var * self.count + var * n + delta * delta * self.count * n / tot;
        self.mean += delta * n / tot;
        self.var = m2 / tot;
        self.count = tot;
    }

    pub fn std(&self) -> f64 {
        self.var.sqrt().max(1e-8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gae_matches_hand_computation_and_bootstraps_only_truncations() {
        // Two episodes of length 3 and 2, γ = 0.9, λ = 0.5.
        let (g, l) = (0.9f64, 0.5f64);
        let rewards = [1.0, 0.0, 0.5, 2.0, 1.0, 0.0f32]; // [T=3, N=2]
        let values = [0.2, 0.1, 0.3, -0.4, 0.6, 0.0f32];
        let (adv, ret) = gae(3, 2, &rewards, &values, &[3, 2], &[true, false], &[9.0, 0.7], g, l);
        // Episode 0 (terminated, bootstrap ignored).
        let d2 = 1.0 - 0.6;
        let d1 = 0.5 + g * 0.6 - 0.3;
        let d0 = 1.0 + g * 0.3 - 0.2;
        let a2 = d2;
        let a1 = d1 + g * l * a2;
        let a0 = d0 + g * l * a1;
        for (k, want) in [(0, a0), (2, a1), (4, a2)] {
            assert!((f64::from(adv[k]) - want).abs() < 1e-6, "{k}");
        }
        // Episode 1 (truncated after 2 steps: bootstrap 0.7).
        let d1 = 2.0 + g * 0.7 - (-0.4);
        let d0 = 0.0 + g * -0.4 - 0.1;
        let b1 = d1;
        let b0 = d0 + g * l * b1;
        assert!((f64::from(adv[3]) - b1).abs() < 1e-6);
        assert!((f64::from(adv[1]) - b0).abs() < 1e-6);
        assert!((f64::from(ret[1]) - (b0 + 0.1)).abs() < 1e-6);
        assert_eq!(adv[5], 0.0);
        // λ = 1: returns are discounted Monte-Carlo returns.
        let (_, ret) = gae(3, 2, &rewards, &values, &[3, 2], &[true, false], &[9.0, 0.7], g, 1.0);
        let mc0 = 1.0 + g * (0.5 + g * 1.0);
        assert!((f64::from(ret[0]) - mc0).abs() < 1e-6);
    }

    #[test]
    fn running_moments_equal_batch_moments() {
        let xs: Vec<f64> = (0..100).map(|i| (i as f64 * 0.7).sin() * 3.0 + 1.0).collect();
        let mut r = RunningMeanStd {
            mean: 0.0,
            var: 0.0,
            count: 0.0,
        };
        for chunk in xs.chunks(7) {
            r.update(chunk.iter().copied());
        }
        let mean = xs.iter().sum::<f64>() / 100.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 100.0;
        assert!((r.mean - mean).abs() < 1e-12 && (r.var - var).abs() < 1e-12);
    }
}
