//! Classical (Torgerson) multidimensional scaling: points in a few dimensions whose Euclidean distances
//! best match a distance matrix (for embedding networks by their SVCCA distances).

use faer::Mat;

use crate::error::{AnalysisError, Result};
use crate::la::thin_svd;

/// Coordinates (`n × dims`, row-major) of `n` points whose pairwise distances approximate `d` (`n × n`,
/// row-major, symmetric, zero diagonal): the top eigenvectors of `B = −½·J·D²·J` (J centres), scaled by
/// √λ. Dimensions with a non-positive eigenvalue are returned as zeros.
///
/// ```
/// // Three points on a line at 0, 1 and 3: MDS recovers their distances.
/// let d = [0.0, 1.0, 3.0, 1.0, 0.0, 2.0, 3.0, 2.0, 0.0];
/// let x = reachlab_analysis::classical_mds(&d, 3, 2).unwrap();
/// let dist = |a: usize, b: usize| ((x[2 * a] - x[2 * b]).powi(2) + (x[2 * a + 1] - x[2 * b + 1]).powi(2)).sqrt();
/// assert!((dist(0, 2) - 3.0).abs() < 1e-9 && (dist(1, 2) - 2.0).abs() < 1e-9);
/// ```
pub fn classical_mds(d: &[f64], n: usize, dims: usize) -> Result<Vec<f64>> {
    if d.len() != n * n {
        return Err(AnalysisError::Shape {
            op: "classical_mds",
            expected: format!("{n}×{n} distances"),
            got: format!("{}", d.len()),
        });
    }
    if let Some(i) = d.iter().position(|v| !v.is_finite()) {
        return Err(AnalysisError::InvalidParameter {
            op: "classical_mds",
            name: "d",
            reason: format!("entry {i} is not finite"),
        });
    }
    let sq = Mat::from_fn(n, n, |i, j| {
        let v = 0.5 * (d[i * n + j] + d[j * n + i]);
        v * v
    });
    let row: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| sq[(i, j)]).sum::<f64>() / n as f64)
        .collect();
    let all = row.iter().sum::<f64>() / n as f64;
    let b = Mat::from_fn(n, n, |i, j| -0.5 * (sq[(i, j)] - row[i] - row[j] + all));
    let (u, s, v) = thin_svd("classical_mds", b.as_ref())?;
    let mut out = vec![0.0; n * dims];
    for k in 0..dims.min(s.len()) {
        // For a symmetric B, u_k = ±v_k; the sign is the sign of the eigenvalue.
        let sign: f64 = (0..n).map(|i| u[(i, k)] * v[(i, k)]).sum();
        if sign <= 0.0 || s[k] <= 0.0 {
            continue;
        }
        let scale = s[k].sqrt();
        for i in 0..n {
            out[i * dims + k] = u[(i, k)] * scale;
        }
    }
    Ok(out)
}
