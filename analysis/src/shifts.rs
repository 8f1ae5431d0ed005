//! Learning and washout shifts of the preparatory states, the uniform-shift axis, and whether the
//! uniform shift depends on the distance from the trained target.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};
use crate::la::column_means;
use crate::stats::{linear_fit, permutation_slope_test, rank_sum_test, LineFit};

/// Centroid over conditions of states (C × n).
pub fn centroid(states: MatRef<'_, f64>) -> Vec<f64> {
    column_means(states)
}

/// The learning shift Δ_L = c_lateLearn − c_base, the washout shift Δ_W = c_lateWash − c_lateLearn, and
/// the angle θ_LW between them (90° orthogonal, 180° pure reversion).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShiftAngles {
    /// Δ_L.
    pub learning_shift: Vec<f64>,
    /// Δ_W.
    pub washout_shift: Vec<f64>,
    /// |Δ_L|.
    pub learning_norm: f64,
    /// |Δ_W|.
    pub washout_norm: f64,
    /// θ_LW in degrees.
    pub theta_lw_deg: f64,
}

/// Computes [`ShiftAngles`] from the three phase centroids.
pub fn shift_angles(base: &[f64], late_learning: &[f64], late_washout: &[f64]) -> Result<ShiftAngles> {
    if base.len() != late_learning.len() || base.len() != late_washout.len() {
        return Err(AnalysisError::Shape {
            op: "shift_angles",
            expected: format!("three centroids of {} units", base.len()),
            got: format!("{} and {}", late_learning.len(), late_washout.len()),
        });
    }
    let dl: Vec<f64> = late_learning.iter().zip(base).map(|(a, b)| a - b).collect();
    let dw: Vec<f64> = late_washout.iter().zip(late_learning).map(|(a, b)| a - b).collect();
    let (nl, nw) = (norm(&dl), norm(&dw));
    let theta = if nl > 0.0 && nw > 0.0 {
        (dot(&dl, &dw) / (nl * nw)).clamp(-1.0, 1.0).acos().to_degrees()
    } else {
        f64::NAN
    };
    Ok(ShiftAngles {
        learning_shift: dl,
        washout_shift: dw,
        learning_norm: nl,
        washout_norm: nw,
        theta_lw_deg: theta,
    })
}

/// The uniform-shift axis: û ∝ mean(after) − mean(before), orthogonalised against the orthonormal
/// columns of `exclude` (for example the TDR axes, n × M), and normalised.
pub fn uniform_shift_axis(
    before: MatRef<'_, f64>,
    after: MatRef<'_, f64>,
    exclude: Option<MatRef<'_, f64>>,
) -> Result<Vec<f64>> {
    let mut u: Vec<f64> = centroid(after)
        .iter()
        .zip(centroid(before))
        .map(|(a, b)| a - b)
        .collect();
    if let Some(q) = exclude {
        for j in 0..q.ncols() {
            let c: f64 = (0..q.nrows()).map(|i| q[(i, j)] * u[i]).sum();
            for (i, ui) in u.iter_mut().enumerate() {
                *ui -= c * q[(i, j)];
            }
        }
    }
    let n = norm(&u);
    if n == 0.0 || !n.is_finite() {
        return Err(AnalysisError::InvalidParameter {
            op: "uniform_shift_axis",
            name: "before/after",
            reason: "no shift left after orthogonalisation".into(),
        });
    }
    Ok(u.iter().map(|v| v / n).collect())
}

/// Shift of each target along the uniform axis against its angular distance from the trained target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UniformShiftTest {
    /// s_k = (x_k^after − x_k^before)·û, per target.
    pub shifts: Vec<f64>,
    /// Angular distance of each target from the trained one (degrees, 0–180).
    pub distances_deg: Vec<f64>,
    /// Line of shift on distance (slope ≈ 0 means uniform).
    pub fit: LineFit,
    /// Permutation p-value of the slope.
    pub permutation_p: f64,
    /// Two-sided rank-sum p-value, near (≤ 45°) vs far (≥ 135°) targets.
    pub near_far_p: f64,
}

/// Tests whether the shift along `axis` depends on the distance from `trained_target`, for targets
/// evenly spaced on a circle (row k of `before`/`after` = target k).
pub fn uniform_shift_vs_distance(
    before: MatRef<'_, f64>,
    after: MatRef<'_, f64>,
    axis: &[f64],
    trained_target: usize,
    n_perm: usize,
    seed: u64,
) -> Result<UniformShiftTest> {
    let k = before.nrows();
    if after.nrows() != k || before.ncols() != axis.len() || after.ncols() != axis.len() {
        return Err(AnalysisError::Shape {
            op: "uniform_shift_vs_distance",
            expected: format!("before and after of {k} targets × {} units", axis.len()),
            got: format!(
                "{}×{} and {}×{}",
                before.nrows(),
                before.ncols(),
                after.nrows(),
                after.ncols()
            ),
        });
    }
    let shifts: Vec<f64> = (0..k)
        .map(|t| {
            (0..axis.len())
                .map(|i| (after[(t, i)] - before[(t, i)]) * axis[i])
                .sum()
        })
        .collect();
    shift_distance_test(shifts, trained_target, n_perm, seed)
}

/// The tests of [`uniform_shift_vs_distance`] on given per-target shifts (target k at index k, targets
/// evenly spaced on a circle), e.g. from [`split_half_uniform_shifts`].
pub fn shift_distance_test(
    shifts: Vec<f64>,
    trained_target: usize,
    n_perm: usize,
    seed: u64,
) -> Result<UniformShiftTest> {
    let k = shifts.len();
    let distances_deg: Vec<f64> = (0..k)
        .map(|t| {
            let steps = (t as i64 - trained_target as i64).rem_euclid(k as i64) as usize;
            (steps.min(k - steps) as f64) * 360.0 / k as f64
        })
        .collect();
    let fit = linear_fit(&distances_deg, &shifts)?;
    let permutation_p = permutation_slope_test(&distances_deg, &shifts, n_perm, seed)?;
    let pick = |keep: &dyn Fn(f64) -> bool| -> Vec<f64> {
        shifts
            .iter()
            .zip(&distances_deg)
            .filter(|(_, d)| keep(**d))
            .map(|(s, _)| *s)
            .collect()
    };
    let near = pick(&|d| d <= 45.0 + 1e-9);
    let far = pick(&|d| d >= 135.0 - 1e-9);
    let near_far_p = rank_sum_test(&near, &far)?.1;
    Ok(UniformShiftTest {
        shifts,
        distances_deg,
        fit,
        permutation_p,
        near_far_p,
    })
}

/// Per-target shifts along a uniform axis estimated on other trials, so that they are not positive by
/// construction: with the trials of each target split in halves A and B (condition averages
/// `before_a`/`after_a` and `before_b`/`after_b`, targets × units), the axis is estimated on A
/// ([`uniform_shift_axis`], orthogonal to `exclude`) and B's shifts are projected on it, then the other
/// way round; the two are averaged. With no shift, the per-target values are centred on zero, whereas
/// projecting the data that defined the axis always gives a positive mean.
pub fn split_half_uniform_shifts(
    before_a: MatRef<'_, f64>,
    after_a: MatRef<'_, f64>,
    before_b: MatRef<'_, f64>,
    after_b: MatRef<'_, f64>,
    exclude: Option<MatRef<'_, f64>>,
) -> Result<Vec<f64>> {
    let k = before_a.nrows();
    let n = before_a.ncols();
    for m in [after_a, before_b, after_b] {
        if m.nrows() != k || m.ncols() != n {
            return Err(AnalysisError::Shape {
                op: "split_half_uniform_shifts",
                expected: format!("four {k} × {n} matrices"),
                got: format!("{} × {}", m.nrows(), m.ncols()),
            });
        }
    }
    let axis_a = uniform_shift_axis(before_a, after_a, exclude)?;
    let axis_b = uniform_shift_axis(before_b, after_b, exclude)?;
    let project = |before: MatRef<'_, f64>, after: MatRef<'_, f64>, axis: &[f64], t: usize| -> f64 {
        (0..n).map(|i| (after[(t, i)] - before[(t, i)]) * axis[i]).sum()
    };
    Ok((0..k)
        .map(|t| 0.5 * (project(before_b, after_b, &axis_a, t) + project(before_a, after_a, &axis_b, t)))
        .collect())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
mod split_half_tests {
    use super::*;
    use faer::Mat;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn split_half_shifts_are_centred_on_zero_without_a_shift_and_find_a_planted_one() {
        // 8 targets × 20 units, each half-average = a target pattern + noise (σ = 1); before and after
        // drawn alike (no learning) or with a planted uniform shift of 2 along unit 5.
        let (k, n) = (8, 20);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let pattern = Mat::from_fn(k, n, |t, i| ((t * 7 + i * 3) % 11) as f64);
        let mut draw = |shift: f64| -> Mat<f64> {
            Mat::from_fn(k, n, |t, i| {
                let e: f64 = StandardNormal.sample(&mut rng);
                pattern[(t, i)] + e + if i == 5 { shift } else { 0.0 }
            })
        };
        let (mut split, mut same) = (0.0, 0.0);
        let reps = 200;
        for _ in 0..reps {
            let (ba, aa, bb, ab) = (draw(0.0), draw(0.0), draw(0.0), draw(0.0));
            let s = split_half_uniform_shifts(ba.as_ref(), aa.as_ref(), bb.as_ref(), ab.as_ref(), None).unwrap();
            split += s.iter().sum::<f64>() / (k * reps) as f64;
            // The circular estimate: axis and shifts from the same data.
            let axis = uniform_shift_axis(ba.as_ref(), aa.as_ref(), None).unwrap();
            let c: f64 = (0..k)
                .map(|t| (0..n).map(|i| (aa[(t, i)] - ba[(t, i)]) * axis[i]).sum::<f64>())
                .sum::<f64>();
            same += c / (k * reps) as f64;
        }
        // Same data: the mean shift is |mean difference| > 0 (≈ √(2n/k) = 2.2 here); split halves: ≈ 0
        // (s.e. of the mean over 200 × 8 values of s.d. √2 ≈ 0.035).
        assert!(same > 1.5, "circular {same}");
        assert!(split.abs() < 0.15, "split-half {split}");
        let (ba, aa, bb, ab) = (draw(0.0), draw(2.0), draw(0.0), draw(2.0));
        let s = split_half_uniform_shifts(ba.as_ref(), aa.as_ref(), bb.as_ref(), ab.as_ref(), None).unwrap();
        let mean = s.iter().sum::<f64>() / k as f64;
        assert!(mean > 1.0, "planted shift of 2 along one unit: {mean}");
    }
}
