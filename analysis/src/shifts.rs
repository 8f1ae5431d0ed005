//! Learning and washout shifts of the preparatory states, the uniform-shift axis, and whether the
//! uniform shift depends on the distance from the trained target.

use faer::MatRef;
use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::la::column_means;
use crate::stats::{linear_fit, permutation_slope_test, rank_sum_test, LineFit};

/// Centroid over conditions of states (C × n).
pub fn centroid(states: MatRef<'_, f64>) -> Vec<f64> {
    column_means(states)
}

/// The learning shift Δ_L = c_lateLearn − c_base, the washout shift Δ_W = c_lateWash − c_lateLearn, and
/// the angle θ_LW between them (90° orthogonal, 180° pure reversion).
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}
