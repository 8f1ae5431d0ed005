//! Dynamical similarity analysis (Ostrow et al. 2023, arXiv 2306.10168), as the reference code
//! (mitchellostrow/DSA) computes it: fit each system's dynamics by a reduced-rank DMD on a Hankel delay
//! embedding, in the *whitened* coordinates of the embedding (the top left singular vectors, `dmd.py`'s
//! `V`, each of unit norm), scale both operators to unit Frobenius norm, and compare them up to an
//! orthogonal change of basis C (`simdist.py`): the angular score `arccos(⟨A, C·B·Cᵀ⟩ / (‖A‖‖B‖))`
//! (DSA's default) and the Euclidean `‖A − C·B·Cᵀ‖_F`, at `C = argmin_{C ∈ O(r)} ‖A − C·B·Cᵀ‖_F`.
//! Whitening makes two systems that differ by any invertible linear map of their states (not only a
//! rotation) compare as equal.
//!
//! The minimisation runs Riemannian gradient descent on O(r) (Cayley retraction, Armijo backtracking) from
//! several starts (the identity, a reflection, random orthogonal matrices) and keeps the best (the
//! reference uses Adam on a Cayley parametrisation from the identity and a permutation).

use faer::linalg::solvers::Solve;
use faer::{Mat, MatRef};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};
use crate::la::{check_finite, thin_svd};

/// Settings of [`dsa`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DsaConfig {
    /// Delays in the Hankel embedding (1 = no embedding).
    pub n_delays: usize,
    /// Rank of the DMD (dimension of the compared operators).
    pub rank: usize,
    /// Ridge λ of the DMD regression.
    pub ridge: f64,
    /// Gradient iterations per start.
    pub iters: usize,
    /// Random orthogonal starts besides the identity and a reflection.
    pub random_starts: usize,
    pub seed: u64,
}

impl Default for DsaConfig {
    fn default() -> Self {
        DsaConfig {
            n_delays: 10,
            rank: 10,
            ridge: 0.0,
            iters: 500,
            random_starts: 4,
            seed: 0,
        }
    }
}

/// What [`dsa`] and [`dsa_operators`] return.
#[derive(Debug, Clone, Serialize)]
pub struct DsaResult {
    /// `min_C ‖A_x − C·A_y·Cᵀ‖_F` of the operators scaled to unit Frobenius norm (0 to 2).
    pub distance: f64,
    /// DSA's default score: `arccos(⟨A_x, C·A_y·Cᵀ⟩ / (‖A_x‖·‖A_y‖))` at the best C, in radians (0 to π).
    pub angular: f64,
    /// Eigenvalues (re, im) of the two fitted operators.
    pub eigen_x: Vec<(f64, f64)>,
    pub eigen_y: Vec<(f64, f64)>,
}

/// The reduced-rank DMD operator `A` (rank × rank) of one system: trajectories (`T × n` each) delay-embedded
/// with `n_delays`, stacked into the Hankel matrix `H = U·S·Vᵀ`, whitened to the top `rank` columns of
/// `U` (`H·V·S⁻¹`: every coordinate of unit norm, as DSA's `dmd.py` fits `A_v`), and `z_{t+1} ≈ A·z_t`
/// fitted by ridge regression within each trajectory.
pub fn dmd_operator(trajectories: &[MatRef<'_, f64>], n_delays: usize, rank: usize, ridge: f64) -> Result<Mat<f64>> {
    const OP: &str = "dmd_operator";
    let bad = |name: &'static str, reason: String| AnalysisError::InvalidParameter { op: OP, name, reason };
    if n_delays == 0 || rank == 0 {
        return Err(bad("n_delays/rank", "must be at least 1".into()));
    }
    if !(ridge >= 0.0 && ridge.is_finite()) {
        return Err(bad("ridge", "must be finite and >= 0".into()));
    }
    let n = trajectories.first().map_or(0, |t| t.ncols());
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for tr in trajectories {
        check_finite(OP, *tr)?;
        if tr.ncols() != n {
            return Err(AnalysisError::Shape {
                op: OP,
                expected: format!("{n} columns in every trajectory"),
                got: format!("{}", tr.ncols()),
            });
        }
        if tr.nrows() < n_delays + 1 {
            continue;
        }
        let first = rows.len();
        for t in 0..=tr.nrows() - n_delays {
            rows.push(
                (0..n_delays)
                    .flat_map(|k| (0..n).map(move |j| (t + k, j)))
                    .map(|(r, j)| tr[(r, j)])
                    .collect(),
            );
            if t > 0 {
                pairs.push((first + t - 1, first + t));
            }
        }
    }
    let width = n * n_delays;
    if pairs.len() < rank {
        return Err(AnalysisError::TooFewSamples {
            op: OP,
            need: rank + 1,
            got: pairs.len(),
        });
    }
    if rank > width {
        return Err(bad("rank", format!("{rank} exceeds the embedding dimension {width}")));
    }
    let h = Mat::from_fn(rows.len(), width, |i, j| rows[i][j]);
    let (u, s, _) = thin_svd(OP, h.as_ref())?;
    if s.get(rank - 1).is_none_or(|&x| x <= s[0] * 1e-12) {
        return Err(bad(
            "rank",
            format!("the embedding has fewer than {rank} independent directions; lower the rank"),
        ));
    }
    let z = u.subcols(0, rank);
    let zm = Mat::from_fn(pairs.len(), rank, |i, j| z[(pairs[i].0, j)]);
    let zp = Mat::from_fn(pairs.len(), rank, |i, j| z[(pairs[i].1, j)]);
    // A = Z₊ᵀ·Z₋·(Z₋ᵀ·Z₋ + λI)⁻¹, i.e. Aᵀ = (Z₋ᵀZ₋ + λI)⁻¹·Z₋ᵀ·Z₊.
    let mut gram = zm.transpose() * &zm;
    for i in 0..rank {
        gram[(i, i)] += ridge;
    }
    let rhs = zm.transpose() * &zp;
    let at = gram.partial_piv_lu().solve(&rhs);
    if (0..rank).any(|i| (0..rank).any(|j| !at[(i, j)].is_finite())) {
        return Err(AnalysisError::NoConvergence {
            op: OP,
            what: "DMD regression (rank-deficient; add ridge)",
        });
    }
    Ok(at.transpose().to_owned())
}

fn frob2(m: MatRef<'_, f64>) -> f64 {
    let mut s = 0.0;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            s += m[(i, j)] * m[(i, j)];
        }
    }
    s
}

/// `(I − W/2)⁻¹·(I + W/2)`: orthogonal for skew-symmetric W.
fn cayley(w: MatRef<'_, f64>) -> Mat<f64> {
    let r = w.nrows();
    let minus = Mat::from_fn(r, r, |i, j| if i == j { 1.0 } else { 0.0 } - 0.5 * w[(i, j)]);
    let plus = Mat::from_fn(r, r, |i, j| if i == j { 1.0 } else { 0.0 } + 0.5 * w[(i, j)]);
    minus.partial_piv_lu().solve(&plus)
}

/// `min_{C ∈ O(r)} ‖A − C·B·Cᵀ‖²` from `c`: Riemannian gradient descent; returns (C, value).
fn descend(a: MatRef<'_, f64>, b: MatRef<'_, f64>, mut c: Mat<f64>, iters: usize) -> (Mat<f64>, f64) {
    let f = |c: &Mat<f64>| frob2((a - c * b * c.transpose()).as_ref());
    let mut val = f(&c);
    let mut step = 1.0;
    for _ in 0..iters {
        let r = a - &c * b * c.transpose();
        let g = -2.0 * (&r * &c * b.transpose() + r.transpose() * &c * b);
        // Riemannian gradient C·Ω with Ω = skew(Cᵀ·G).
        let cg = c.transpose() * &g;
        let omega = 0.5 * (&cg - cg.transpose());
        let gnorm = frob2(omega.as_ref());
        if gnorm < 1e-24 {
            break;
        }
        let mut accepted = false;
        for _ in 0..40 {
            let trial = &c * cayley((-step * &omega).as_ref());
            let tv = f(&trial);
            if tv <= val - 1e-4 * step * gnorm {
                c = trial;
                val = tv;
                step *= 2.0;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    (c, val)
}

/// `min_{C ∈ O(r)} ‖A − C·B·Cᵀ‖_F` and the minimising C, from the identity, a reflection and
/// `random_starts` random orthogonal matrices.
pub fn procrustes_dynamics(a: MatRef<'_, f64>, b: MatRef<'_, f64>, cfg: &DsaConfig) -> Result<(f64, Mat<f64>)> {
    const OP: &str = "procrustes_dynamics";
    let r = a.nrows();
    if a.ncols() != r || b.nrows() != r || b.ncols() != r {
        return Err(AnalysisError::Shape {
            op: OP,
            expected: format!("two square matrices of the same size ({r}×{r})"),
            got: format!("{}×{} and {}×{}", a.nrows(), a.ncols(), b.nrows(), b.ncols()),
        });
    }
    check_finite(OP, a)?;
    check_finite(OP, b)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut starts = vec![
        Mat::<f64>::identity(r, r),
        Mat::from_fn(r, r, |i, j| {
            if i != j {
                0.0
            } else if i == 0 {
                -1.0
            } else {
                1.0
            }
        }),
    ];
    for _ in 0..cfg.random_starts {
        let g = Mat::<f64>::from_fn(r, r, |_, _| StandardNormal.sample(&mut rng));
        starts.push(g.qr().compute_Q());
    }
    let mut best: Option<(f64, Mat<f64>)> = None;
    for c0 in starts {
        let (c, v) = descend(a, b, c0, cfg.iters);
        if best.as_ref().is_none_or(|(bv, _)| v < *bv) {
            best = Some((v, c));
        }
    }
    let (v, c) = best.expect("at least two starts");
    Ok((v.max(0.0).sqrt(), c))
}

fn eigen(a: MatRef<'_, f64>) -> Result<Vec<(f64, f64)>> {
    let ev = a.eigenvalues().map_err(|_| AnalysisError::NoConvergence {
        op: "dsa",
        what: "eigendecomposition",
    })?;
    let mut v: Vec<(f64, f64)> = ev.iter().map(|z| (z.re, z.im)).collect();
    v.sort_by(|p, q| q.0.hypot(q.1).total_cmp(&p.0.hypot(p.1)));
    Ok(v)
}

/// DSA between two systems, each given as trajectories (`T × n`; the two may differ in n).
///
/// ```
/// use reachlab_analysis::{dsa, DsaConfig};
/// use faer::Mat;
/// // A damped rotation, and the same dynamics seen through another basis: distance ≈ 0.
/// let step = |x: (f64, f64)| (0.95 * (0.3f64.cos() * x.0 - 0.3f64.sin() * x.1), 0.95 * (0.3f64.sin() * x.0 + 0.3f64.cos() * x.1));
/// let mut x = (1.0, 0.0);
/// let traj = Mat::from_fn(60, 2, |t, j| { if j == 0 && t > 0 { x = step(x); } if j == 0 { x.0 } else { x.1 } });
/// let swapped = Mat::from_fn(60, 2, |t, j| traj[(t, 1 - j)]);
/// let cfg = DsaConfig { n_delays: 1, rank: 2, ..DsaConfig::default() };
/// let r = dsa(&[traj.as_ref()], &[swapped.as_ref()], &cfg).unwrap();
/// assert!(r.distance < 1e-6, "{}", r.distance);
/// ```
pub fn dsa(x: &[MatRef<'_, f64>], y: &[MatRef<'_, f64>], cfg: &DsaConfig) -> Result<DsaResult> {
    let ax = dmd_operator(x, cfg.n_delays, cfg.rank, cfg.ridge)?;
    let ay = dmd_operator(y, cfg.n_delays, cfg.rank, cfg.ridge)?;
    dsa_operators(ax.as_ref(), ay.as_ref(), cfg)
}

/// DSA's comparison of two fitted operators: both scaled to unit Frobenius norm, the best orthogonal C,
/// then the Euclidean distance and the angular score at it (`simdist.py`).
pub fn dsa_operators(ax: MatRef<'_, f64>, ay: MatRef<'_, f64>, cfg: &DsaConfig) -> Result<DsaResult> {
    let unit = |m: MatRef<'_, f64>| -> Mat<f64> {
        let norm = frob2(m).sqrt().max(1e-300);
        Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] / norm)
    };
    let (a, b) = (unit(ax), unit(ay));
    let (distance, c) = procrustes_dynamics(a.as_ref(), b.as_ref(), cfg)?;
    let cb = &c * &b * c.transpose();
    let mut dot = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            dot += a[(i, j)] * cb[(i, j)];
        }
    }
    Ok(DsaResult {
        distance,
        angular: dot.clamp(-1.0, 1.0).acos(),
        eigen_x: eigen(ax)?,
        eigen_y: eigen(ay)?,
    })
}
