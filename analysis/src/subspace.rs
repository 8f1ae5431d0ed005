//! Principal angles between subspaces.

use faer::MatRef;

use crate::error::{AnalysisError, Result};
use crate::la::{orthonormal_basis, singular_values};

/// Principal angles (radians, ascending) between the column spaces of `a` and `b` (both n × k, full
/// column rank): θᵢ = arccos σᵢ(Q_aᵀ·Q_b).
///
/// ```
/// use reachlab_analysis::{mat_from_rows, principal_angles};
/// let x = mat_from_rows(3, 1, &[1., 0., 0.]).unwrap();
/// let y = mat_from_rows(3, 1, &[1., 1., 0.]).unwrap();
/// let angles = principal_angles(x.as_ref(), y.as_ref()).unwrap();
/// assert!((angles[0] - std::f64::consts::FRAC_PI_4).abs() < 1e-12);
/// ```
pub fn principal_angles(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Result<Vec<f64>> {
    if a.nrows() != b.nrows() {
        return Err(AnalysisError::Shape {
            op: "principal_angles",
            expected: format!("{} rows in both", a.nrows()),
            got: format!("{}", b.nrows()),
        });
    }
    let qa = orthonormal_basis(a);
    let qb = orthonormal_basis(b);
    let cross = qa.transpose() * &qb;
    // cos θ from σ(Q_aᵀQ_b) (nonincreasing) and sin θ from σ((I − Q_aQ_aᵀ)·Q_b) (reversed to nondecreasing):
    // atan2 of the pair is accurate for small angles too, where arccos alone loses half the digits.
    let cos = singular_values("principal_angles", cross.as_ref())?;
    let residual = &qb - &qa * &cross;
    let mut sin = singular_values("principal_angles", residual.as_ref())?;
    sin.reverse();
    Ok(cos
        .iter()
        .enumerate()
        .map(|(i, &c)| sin.get(i).copied().unwrap_or(0.0).atan2(c.clamp(-1.0, 1.0)))
        .collect())
}
