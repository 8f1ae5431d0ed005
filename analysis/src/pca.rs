//! Principal component analysis by thin SVD of the centred data.

use faer::{Mat, MatRef};
use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::la::{centred, check_finite, column_means, thin_svd};

/// A fitted PCA: `components` holds the principal axes as columns (features × k), in order of
/// decreasing variance.
#[derive(Debug, Clone)]
pub struct Pca {
    /// Feature means removed before projection.
    pub mean: Vec<f64>,
    /// Principal axes (features × k), orthonormal columns.
    pub components: Mat<f64>,
    /// Variance along each axis (sample variance, divisor n − 1).
    pub explained_variance: Vec<f64>,
    /// Fraction of the total variance along each axis.
    pub explained_variance_ratio: Vec<f64>,
}

/// Summary of a PCA for JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct PcaSummary {
    /// Fraction of variance per component.
    pub explained_variance_ratio: Vec<f64>,
}

impl Pca {
    /// Fits `k` components to `x` (samples × features); `k` is capped at min(samples, features).
    ///
    /// ```
    /// use reachlab_analysis::{mat_from_rows, Pca};
    /// // Points on the line y = 2x: one component explains everything.
    /// let x = mat_from_rows(4, 2, &[0., 0., 1., 2., 2., 4., 3., 6.]).unwrap();
    /// let pca = Pca::fit(x.as_ref(), 2).unwrap();
    /// assert!((pca.explained_variance_ratio[0] - 1.0).abs() < 1e-12);
    /// ```
    pub fn fit(x: MatRef<'_, f64>, k: usize) -> Result<Self> {
        const OP: &str = "pca";
        if x.nrows() < 2 {
            return Err(AnalysisError::TooFewSamples {
                op: OP,
                need: 2,
                got: x.nrows(),
            });
        }
        check_finite(OP, x)?;
        let mean = column_means(x);
        let xc = centred(x, &mean);
        let (_, s, v) = thin_svd(OP, xc.as_ref())?;
        let dof = (x.nrows() - 1) as f64;
        let total: f64 = s.iter().map(|v| v * v / dof).sum();
        let k = k.min(s.len());
        let explained_variance: Vec<f64> = s[..k].iter().map(|v| v * v / dof).collect();
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| if total > 0.0 { v / total } else { 0.0 })
            .collect();
        Ok(Pca {
            mean,
            components: v.subcols(0, k).to_owned(),
            explained_variance,
            explained_variance_ratio,
        })
    }

    /// Scores of `x` (samples × features) on the components: samples × k.
    pub fn transform(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if x.ncols() != self.mean.len() {
            return Err(AnalysisError::Shape {
                op: "pca.transform",
                expected: format!("{} features", self.mean.len()),
                got: format!("{}", x.ncols()),
            });
        }
        Ok(centred(x, &self.mean) * &self.components)
    }
}
