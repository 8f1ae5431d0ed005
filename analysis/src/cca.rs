//! Canonical correlation analysis (CCA) and SVCCA between two sets of states.

use faer::MatRef;
use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::la::{centred, check_finite, column_means, orthonormal_basis, singular_values, thin_svd};

/// Canonical correlations and the CCA distance between two state sets.
#[derive(Debug, Clone, Serialize)]
pub struct CcaResult {
    /// Canonical correlations ρᵢ, nonincreasing, in [0, 1].
    pub correlations: Vec<f64>,
    /// 1 − mean ρ.
    pub distance: f64,
}

fn check_pair(op: &'static str, x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<()> {
    if x.nrows() != y.nrows() {
        return Err(AnalysisError::Shape {
            op,
            expected: format!("the same number of samples ({})", x.nrows()),
            got: format!("{}", y.nrows()),
        });
    }
    let need = x.ncols().max(y.ncols()) + 1;
    if x.nrows() < need {
        return Err(AnalysisError::TooFewSamples {
            op,
            need,
            got: x.nrows(),
        });
    }
    check_finite(op, x)?;
    check_finite(op, y)
}

/// CCA of `x` (samples × p) and `y` (samples × q): centre both, take thin QR, ρ = σ(Q_xᵀ·Q_y).
/// Both must have full column rank (use [`svcca`] for redundant states).
pub fn cca(x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<CcaResult> {
    const OP: &str = "cca";
    check_pair(OP, x, y)?;
    let qx = orthonormal_basis(centred(x, &column_means(x)).as_ref());
    let qy = orthonormal_basis(centred(y, &column_means(y)).as_ref());
    let m = qx.transpose() * &qy;
    let correlations: Vec<f64> = singular_values(OP, m.as_ref())?
        .iter()
        .map(|r| r.clamp(0.0, 1.0))
        .collect();
    let distance = 1.0 - correlations.iter().sum::<f64>() / correlations.len().max(1) as f64;
    Ok(CcaResult { correlations, distance })
}

/// SVCCA: keep each set's top-`k` singular directions (after centring), then CCA.
pub fn svcca(x: MatRef<'_, f64>, y: MatRef<'_, f64>, k: usize) -> Result<CcaResult> {
    const OP: &str = "svcca";
    check_pair(OP, x, y)?;
    if k == 0 {
        return Err(AnalysisError::InvalidParameter {
            op: OP,
            name: "k",
            reason: "must be ≥ 1".into(),
        });
    }
    let reduce = |m: MatRef<'_, f64>| -> Result<faer::Mat<f64>> {
        let mc = centred(m, &column_means(m));
        let (u, s, _) = thin_svd(OP, mc.as_ref())?;
        let k = k.min(s.len());
        Ok(faer::Mat::from_fn(m.nrows(), k, |i, j| u[(i, j)] * s[j]))
    };
    cca(reduce(x)?.as_ref(), reduce(y)?.as_ref())
}
