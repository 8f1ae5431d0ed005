//! Small fixed-size matrix helpers for the physics (no tensor or linear-algebra dependency in `envs`).

/// A 2×2 matrix, row-major.
pub type Mat2 = [[f64; 2]; 2];

/// `m · v`.
#[inline]
pub fn mat2_vec(m: &Mat2, v: [f64; 2]) -> [f64; 2] {
    [m[0][0] * v[0] + m[0][1] * v[1], m[1][0] * v[0] + m[1][1] * v[1]]
}

/// The inverse of a 2×2 matrix (no check: the callers' matrices are inertias, positive definite).
pub fn inv2(m: &Mat2) -> Mat2 {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    [[m[1][1] / det, -m[0][1] / det], [-m[1][0] / det, m[0][0] / det]]
}

/// `a · b` for square matrices.
pub fn matmul<const N: usize>(a: &[[f64; N]; N], b: &[[f64; N]; N]) -> [[f64; N]; N] {
    let mut out = [[0.0; N]; N];
    for (i, row) in out.iter_mut().enumerate() {
        for (k, &aik) in a[i].iter().enumerate() {
            for (j, o) in row.iter_mut().enumerate() {
                *o += aik * b[k][j];
            }
        }
    }
    out
}

/// Matrix exponential by scaling and squaring with a degree-20 Taylor series.
///
/// The argument is scaled by 2⁻ˢ until its 1-norm is below 1/2, so the truncated series errs by less
/// than (1/2)²¹/21! ≈ 1e-26 relative before squaring: exact to rounding for the small, well-conditioned
/// matrices of the physics (6×6 augmented plant matrices times dt).
pub fn expm<const N: usize>(a: &[[f64; N]; N]) -> [[f64; N]; N] {
    let norm = (0..N)
        .map(|j| (0..N).map(|i| a[i][j].abs()).sum::<f64>())
        .fold(0.0f64, f64::max);
    let mut s = 0u32;
    while norm * 0.5f64.powi(s as i32) > 0.5 && s < 60 {
        s += 1;
    }
    let scale = 0.5f64.powi(s as i32);
    let mut x = *a;
    for row in x.iter_mut() {
        for v in row.iter_mut() {
            *v *= scale;
        }
    }
    // Horner form of Σ x^k / k!, k = 0..=20.
    let mut out = identity::<N>();
    for k in (1..=20).rev() {
        let mut t = matmul(&x, &out);
        for row in t.iter_mut() {
            for v in row.iter_mut() {
                *v /= f64::from(k);
            }
        }
        out = t;
        for (i, row) in out.iter_mut().enumerate() {
            row[i] += 1.0;
        }
    }
    for _ in 0..s {
        out = matmul(&out, &out);
    }
    out
}

/// The identity matrix.
pub fn identity<const N: usize>() -> [[f64; N]; N] {
    let mut out = [[0.0; N]; N];
    for (i, row) in out.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expm_of_rotation_generator_is_a_rotation() {
        let w = 1.3;
        let e = expm(&[[0.0, w], [-w, 0.0]]);
        assert!((e[0][0] - w.cos()).abs() < 1e-15);
        assert!((e[0][1] - w.sin()).abs() < 1e-15);
        assert!((e[1][0] + w.sin()).abs() < 1e-15);
    }

    #[test]
    fn expm_of_large_diagonal_matches_exp() {
        let e = expm(&[[3.0, 0.0], [0.0, -7.5]]);
        assert!((e[0][0] / 3f64.exp() - 1.0).abs() < 1e-13);
        assert!((e[1][1] / (-7.5f64).exp() - 1.0).abs() < 1e-11);
        assert_eq!(e[0][1], 0.0);
    }

    #[test]
    fn expm_of_nilpotent_is_finite_series() {
        // [[0,1],[0,0]] → [[1,1],[0,1]].
        let e = expm(&[[0.0, 1.0], [0.0, 0.0]]);
        assert_eq!(e, [[1.0, 1.0], [0.0, 1.0]]);
    }
}
