//! Thin helpers over faer shared by the analyses: centring, orthonormal bases, SVD, least squares.

use faer::linalg::solvers::SolveLstsq;
use faer::{Mat, MatRef};

use crate::error::{AnalysisError, Result};

/// Fails with `NonFinite` when `x` holds NaN or infinity.
pub(crate) fn check_finite(op: &'static str, x: MatRef<'_, f64>) -> Result<()> {
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            if !x[(i, j)].is_finite() {
                return Err(AnalysisError::NonFinite { op });
            }
        }
    }
    Ok(())
}

/// Column means of `x` (samples × features).
pub fn column_means(x: MatRef<'_, f64>) -> Vec<f64> {
    let n = x.nrows() as f64;
    (0..x.ncols())
        .map(|j| (0..x.nrows()).map(|i| x[(i, j)]).sum::<f64>() / n)
        .collect()
}

/// `x` with `mean` subtracted from every row.
pub fn centred(x: MatRef<'_, f64>, mean: &[f64]) -> Mat<f64> {
    Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - mean[j])
}

/// An orthonormal basis of the column space of `a` (thin QR; `a` must have full column rank).
pub fn orthonormal_basis(a: MatRef<'_, f64>) -> Mat<f64> {
    a.qr().compute_thin_Q()
}

/// Thin SVD `(U, s, V)` with singular values in nonincreasing order.
pub(crate) fn thin_svd(op: &'static str, a: MatRef<'_, f64>) -> Result<(Mat<f64>, Vec<f64>, Mat<f64>)> {
    let svd = a
        .thin_svd()
        .map_err(|_| AnalysisError::NoConvergence { op, what: "SVD" })?;
    let s = svd.S().column_vector().iter().copied().collect();
    Ok((svd.U().to_owned(), s, svd.V().to_owned()))
}

/// Singular values, nonincreasing.
pub(crate) fn singular_values(op: &'static str, a: MatRef<'_, f64>) -> Result<Vec<f64>> {
    a.singular_values()
        .map_err(|_| AnalysisError::NoConvergence { op, what: "SVD" })
}

/// Least-squares solution `argmin ‖a·x − b‖` (a tall, full column rank).
pub(crate) fn lstsq(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    a.qr().solve_lstsq(b)
}

/// Moore–Penrose pseudo-inverse by SVD, dropping singular values below `rcond·σ_max`.
pub(crate) fn pinv(op: &'static str, a: MatRef<'_, f64>, rcond: f64) -> Result<Mat<f64>> {
    let (u, s, v) = thin_svd(op, a)?;
    let cutoff = rcond * s.first().copied().unwrap_or(0.0);
    let inv: Vec<f64> = s.iter().map(|&x| if x > cutoff { 1.0 / x } else { 0.0 }).collect();
    Ok(Mat::from_fn(a.ncols(), a.nrows(), |i, j| {
        (0..s.len()).map(|k| v[(i, k)] * inv[k] * u[(j, k)]).sum()
    }))
}

/// Row-major `rows × cols` data as a matrix.
pub fn mat_from_rows(rows: usize, cols: usize, data: &[f64]) -> Result<Mat<f64>> {
    if data.len() != rows * cols {
        return Err(AnalysisError::Shape {
            op: "mat_from_rows",
            expected: format!("{rows}×{cols} = {} values", rows * cols),
            got: format!("{} values", data.len()),
        });
    }
    Ok(Mat::from_fn(rows, cols, |i, j| data[i * cols + j]))
}
