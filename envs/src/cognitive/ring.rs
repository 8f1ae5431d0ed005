//! Ring codes of Yang et al. 2019: units with evenly spaced preferred directions, Gaussian tuning in the
//! periodic distance, and the population-vector readout used for scoring.

use std::f64::consts::{PI, TAU};

/// The periodic distance between two angles, in `[0, π]`.
pub fn periodic_distance(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(TAU);
    d.min(TAU - d)
}

/// Wraps an angle into `[0, 2π)`.
pub fn wrap(angle: f64) -> f64 {
    angle.rem_euclid(TAU)
}

/// Preferred directions of an `n`-unit ring: `2πk/n`, `k = 0..n`.
pub fn preferred(n: usize) -> Vec<f64> {
    (0..n).map(|k| TAU * k as f64 / n as f64).collect()
}

/// Response of a unit preferring `pref` to a stimulus at `loc`: `0.8·exp(−d²/2)` with `d` the periodic
/// distance in units of π/8 (Yang et al. 2019, `add_x_loc`).
pub fn tuning(loc: f64, pref: f64) -> f64 {
    let d = periodic_distance(loc, pref) / (PI / 8.0);
    0.8 * (-d * d / 2.0).exp()
}

/// The population-vector direction of ring activity `r` (Yang et al.'s `popvec`), in `[0, 2π)`.
/// Returns `None` when the activity sums to zero or is not finite.
///
/// As in the reference (gyyang/multitask `network.py`, `popvec`), the cosine and sine sums are divided
/// by the total activity before `atan2`, so activity that sums to a negative number (reachable with
/// linear outputs) reads out π away from where `atan2(Σ r·sin, Σ r·cos)` would put it: a negative bump
/// reads out at the bump.
pub fn population_vector(r: &[f32]) -> Option<f64> {
    let n = r.len();
    let (mut c, mut s, mut total) = (0.0f64, 0.0f64, 0.0f64);
    for (k, &v) in r.iter().enumerate() {
        let theta = TAU * k as f64 / n as f64;
        let v = f64::from(v);
        c += v * theta.cos();
        s += v * theta.sin();
        total += v;
    }
    if total == 0.0 || !(c.is_finite() && s.is_finite() && total.is_finite()) {
        return None;
    }
    Some(wrap((s / total).atan2(c / total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuning_peaks_at_the_preferred_direction_and_wraps() {
        assert!((tuning(1.0, 1.0) - 0.8).abs() < 1e-12);
        // One tuning width (π/8) away: 0.8·e^{-1/2}.
        assert!((tuning(PI / 8.0, 0.0) - 0.8 * (-0.5f64).exp()).abs() < 1e-12);
        assert!((tuning(0.05, TAU - 0.05) - tuning(0.1, 0.0)).abs() < 1e-12);
        assert!((periodic_distance(0.1, TAU - 0.1) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn population_vector_recovers_a_bump() {
        let pref = preferred(32);
        for loc in [0.0, 0.3, 3.0, 6.2] {
            let r: Vec<f32> = pref.iter().map(|&p| tuning(loc, p) as f32).collect();
            let est = population_vector(&r).unwrap();
            assert!(periodic_distance(est, loc) < 1e-4, "{loc} -> {est}");
        }
        assert_eq!(population_vector(&[0.0; 8]), None);
        // Yang's popvec on a negative bump at 1.0 rad (32 units): atan2(Σ r sin / Σ r, Σ r cos / Σ r).
        // numpy: r = -0.8*exp(-d**2/2), d = periodic distance to 1.0 in units of π/8; popvec(r) = 1.0
        // (the signs cancel); atan2(Σ r sin, Σ r cos) without the division would give 1.0 + π.
        let neg: Vec<f32> = (0..32).map(|k| -tuning(1.0, TAU * k as f64 / 32.0) as f32).collect();
        let est = population_vector(&neg).unwrap();
        assert!((est - 1.0).abs() < 1e-5, "{est}");
    }
}
