//! Fixed (and slow) points of a recurrent map, their Jacobians and their stability.
//!
//! Minimises q(x) = ½‖F(x, u*) − x‖² from many starts (as Golub & Sussillo's FixedPointFinder), each
//! start optimised on its own with Adam (a mean of q over starts would leave every Adam step far below
//! its ε), with a per-start plateau decay of the learning rate; starts run in fixed groups of 32 in
//! lockstep, so that q and its gradient for the whole group are two matrix–matrix products per iteration
//! (`Dynamics::q_and_grad_batch`) and groups spread over threads without changing any result. Then it
//! refines each candidate with damped Newton steps `(J − I)·δ = −(F(x) − x)` in f64, which converge
//! quadratically where Adam crawls (stopping a start whose q no longer halves). Then
//! drops outliers (farther than `outlier_factor` × the mean start-to-centroid distance from the starts'
//! centroid), merges duplicates closer than `unique_tol`, and classifies each point by the moduli of its
//! Jacobian's eigenvalues (discrete time: stable if all |λ| < 1).

use faer::linalg::solvers::Solve;
use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::dynamics::Dynamics;
use crate::error::{AnalysisError, Result};
use crate::simd::clear_upper_vector_state;

/// Settings of [`find_fixed_points`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FixedPointConfig {
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Adam iterations per start, at most.
    pub max_iters: usize,
    /// Stop a start when q falls below this.
    pub q_tol: f64,
    /// Hand a start to Newton refinement once q falls below this. Adam spends most of its iterations
    /// between q = 0.1 and 0.001; Newton crosses that in a few steps where it converges at all (on a
    /// multistable random GRU-128, handing over at 0.1 instead of 0.001 cut Adam's iterations 80-fold and
    /// the time 2-3-fold, with as many fixed points found; on a trained flip-flop it found 941 fixed-point
    /// starts of 1024 instead of 727).
    pub newton_threshold: f64,
    /// Newton iterations at most.
    pub newton_iters: usize,
    /// Stop Newton on a start when q has not halved over this many iterations (0 = never). Without it,
    /// starts near slow points spent all `newton_iters`, each with a full line search: half the time of a
    /// GRU-128 search, for points that stay slow.
    pub newton_stall_window: usize,
    /// Plateau decay: multiply the rate by `decay_factor` after `patience` iterations without improvement.
    pub decay_factor: f64,
    /// See `decay_factor`.
    pub patience: usize,
    /// Keep points with q below this that did not reach `q_tol`, as slow points.
    pub slow_q_tol: f64,
    /// Points closer than this are one point.
    pub unique_tol: f64,
    /// Outlier cut-off, in units of the mean start-to-centroid distance.
    pub outlier_factor: f64,
    /// |λ| within this of 1 counts as marginal (line or ring attractor hint).
    pub marginal_tol: f64,
    /// Give up on a start (a slow point or none) when q has not halved over this many iterations
    /// (0 = never; run to `max_iters`).
    pub stall_window: usize,
    /// Threads the starts are spread over (0 = one per core). Each start is optimised on its own, so the
    /// result does not depend on this.
    pub threads: usize,
}

impl Default for FixedPointConfig {
    fn default() -> Self {
        FixedPointConfig {
            learning_rate: 0.1,
            max_iters: 5000,
            q_tol: 1e-12,
            newton_threshold: 1e-1,
            newton_iters: 50,
            newton_stall_window: 10,
            decay_factor: 0.95,
            patience: 5,
            slow_q_tol: 1e-6,
            unique_tol: 1e-3,
            outlier_factor: 10.0,
            marginal_tol: 0.01,
            stall_window: 500,
            threads: 0,
        }
    }
}

impl FixedPointConfig {
    /// Every setting in its range, or the first that is not: its name and why.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        let positive = [
            ("learning_rate", self.learning_rate),
            ("q_tol", self.q_tol),
            ("newton_threshold", self.newton_threshold),
            ("slow_q_tol", self.slow_q_tol),
            ("unique_tol", self.unique_tol),
            ("outlier_factor", self.outlier_factor),
        ];
        for (key, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err((key, format!("must be finite and > 0, got {v}")));
            }
        }
        if !(self.decay_factor > 0.0 && self.decay_factor <= 1.0) {
            return Err(("decay_factor", format!("must be in (0, 1], got {}", self.decay_factor)));
        }
        if !(self.marginal_tol.is_finite() && self.marginal_tol >= 0.0) {
            return Err((
                "marginal_tol",
                format!("must be finite and ≥ 0, got {}", self.marginal_tol),
            ));
        }
        if self.slow_q_tol < self.q_tol {
            return Err(("slow_q_tol", format!("must be ≥ q_tol ({})", self.q_tol)));
        }
        if self.max_iters == 0 {
            return Err(("max_iters", "must be at least 1".into()));
        }
        Ok(())
    }
}

/// Stability of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stability {
    /// All |λ| < 1.
    Stable,
    /// Some |λ| > 1: a saddle (or a repeller when all are).
    Saddle {
        /// Number of unstable modes.
        unstable: usize,
    },
}

/// One fixed or slow point.
#[derive(Debug, Clone, Serialize)]
pub struct FixedPoint {
    /// The state.
    pub x: Vec<f64>,
    /// q(x).
    pub q: f64,
    /// True when q < `q_tol` (a fixed point); false for a slow point.
    pub converged: bool,
    /// Eigenvalue moduli of the Jacobian, nonincreasing.
    pub eigen_moduli: Vec<f64>,
    /// Eigenvalues (re, im), in the order of `eigen_moduli`.
    pub eigenvalues: Vec<(f64, f64)>,
    /// Stability class.
    pub stability: Stability,
    /// Number of |λ| within `marginal_tol` of 1.
    pub marginal_modes: usize,
}

/// The points found and what happened to the starts.
#[derive(Debug, Clone, Serialize)]
pub struct FixedPointResult {
    /// Unique points, fixed before slow, then by q.
    pub points: Vec<FixedPoint>,
    /// Starts that converged below `q_tol` (a fixed point).
    pub n_converged: usize,
    /// Starts that ended below `slow_q_tol` only (a slow point).
    pub n_slow: usize,
    /// Starts dropped as outliers.
    pub n_outliers: usize,
    /// Starts that reached neither tolerance.
    pub n_failed: usize,
}

impl FixedPointResult {
    /// Number of stable fixed points (converged only).
    pub fn n_stable(&self) -> usize {
        self.points
            .iter()
            .filter(|p| p.converged && p.stability == Stability::Stable)
            .count()
    }
}

fn q_and_residual<D: Dynamics>(d: &D, x: &[f64], u: &[f64], f: &mut [f64], r: &mut [f64]) -> f64 {
    d.step(x, u, f);
    let mut q = 0.0;
    for i in 0..x.len() {
        r[i] = f[i] - x[i];
        q += r[i] * r[i];
    }
    0.5 * q
}

/// A start's end point and its q.
type Candidate = (Vec<f64>, f64);

/// Starts optimised together: one matrix–matrix product per iteration serves the whole group.
const GROUP: usize = 32;

/// Adam on q from one start.
struct Descent {
    m1: Vec<f64>,
    m2: Vec<f64>,
    lr: f64,
    best: f64,
    since_best: usize,
    window_start: f64,
    /// `Some(q)` once the start has stopped: below the Newton threshold, stalled, or not finite.
    done: Option<f64>,
}

/// Minimises q from each start of a group (at most [`GROUP`] starts) in lockstep: each start keeps its
/// own Adam moments, learning rate and stopping rule (the group shares only the matrix products); then
/// refines each with Newton. Returns (x, q) per start.
fn optimise_group<D: Dynamics>(d: &D, u: &[f64], starts: &[Vec<f64>], cfg: &FixedPointConfig) -> Vec<Candidate> {
    let n = d.dim();
    let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
    let mut xs: Vec<Vec<f64>> = starts.to_vec();
    let mut st: Vec<Descent> = starts
        .iter()
        .map(|_| Descent {
            m1: vec![0.0; n],
            m2: vec![0.0; n],
            lr: cfg.learning_rate,
            best: f64::INFINITY,
            since_best: 0,
            window_start: f64::INFINITY,
            done: None,
        })
        .collect();
    let (mut batch, mut grads, mut qs) = (Vec::new(), Vec::new(), Vec::new());
    for it in 1..=cfg.max_iters {
        let active: Vec<usize> = (0..st.len()).filter(|&k| st[k].done.is_none()).collect();
        if active.is_empty() {
            break;
        }
        batch.clear();
        for &k in &active {
            batch.extend_from_slice(&xs[k]);
        }
        grads.resize(active.len() * n, 0.0);
        qs.resize(active.len(), 0.0);
        // q and ∇q = (J − I)ᵀ·r for every active start (vector–Jacobian products; no n×n matrix).
        d.q_and_grad_batch(&batch, u, &mut grads, &mut qs);
        let (c1, c2) = (1.0 - b1.powi(it as i32), 1.0 - b2.powi(it as i32));
        for (row, &k) in active.iter().enumerate() {
            let (q, g, s, x) = (qs[row], &grads[row * n..(row + 1) * n], &mut st[k], &mut xs[k]);
            if !q.is_finite() {
                s.done = Some(f64::INFINITY);
                continue;
            }
            if q < cfg.newton_threshold || q < cfg.q_tol {
                s.done = Some(q);
                continue;
            }
            if cfg.stall_window > 0 && (it - 1) % cfg.stall_window == 0 {
                if q > 0.5 * s.window_start {
                    s.done = Some(q);
                    continue;
                }
                s.window_start = q;
            }
            if q < s.best {
                s.best = q;
                s.since_best = 0;
            } else {
                s.since_best += 1;
                if s.since_best > cfg.patience {
                    s.lr *= cfg.decay_factor;
                    s.since_best = 0;
                }
            }
            for j in 0..n {
                s.m1[j] = b1 * s.m1[j] + (1.0 - b1) * g[j];
                s.m2[j] = b2 * s.m2[j] + (1.0 - b2) * g[j] * g[j];
                x[j] -= s.lr * (s.m1[j] / c1) / ((s.m2[j] / c2).sqrt() + eps);
            }
        }
    }
    xs.into_iter()
        .zip(st)
        .map(|(x, s)| match s.done {
            Some(q) if q == f64::INFINITY => (x, q),
            _ => newton_refine(d, u, x, cfg),
        })
        .collect()
}

/// Halvings of a Newton step before giving it up (the last tried is 2⁻¹¹ of the step). Where J − I is
/// nearly singular (a local minimum of q that is not a fixed point, most of the failed starts of a
/// multistable network) every halving is one more evaluation of F; 20 halvings cost a third more time on
/// a random multistable GRU-128 and found no further point.
const LINE_SEARCH_HALVINGS: usize = 12;

/// Damped Newton on F(x) − x = 0: halves the step until q decreases.
fn newton_refine<D: Dynamics>(d: &D, u: &[f64], mut x: Vec<f64>, cfg: &FixedPointConfig) -> (Vec<f64>, f64) {
    let n = x.len();
    let (mut f, mut r, mut jac) = (vec![0.0; n], vec![0.0; n], vec![0.0; n * n]);
    let mut trial = vec![0.0; n];
    let mut q = q_and_residual(d, &x, u, &mut f, &mut r);
    // q of the iterations so far, to give up where Newton only creeps (a slow point, or J − I nearly
    // singular): near a fixed point each full step squares the residual.
    let mut history = vec![q];
    let window = cfg.newton_stall_window;
    for _ in 0..cfg.newton_iters {
        if q < cfg.q_tol * 1e-6 {
            break;
        }
        if window > 0 && history.len() > window && q > 0.5 * history[history.len() - 1 - window] {
            break;
        }
        d.jacobian(&x, u, &mut jac);
        for i in 0..n {
            jac[i * n + i] -= 1.0;
        }
        // `jac` holds J − I row-major, which read column-major is its transpose: factor that (one copy,
        // inside the LU) and solve with the transpose, rather than copying into column-major first.
        let lu = MatRef::from_column_major_slice(&jac, n, n).partial_piv_lu();
        let mut delta = Mat::<f64>::from_fn(n, 1, |i, _| -r[i]);
        lu.solve_transpose_in_place(delta.as_mut());
        clear_upper_vector_state();
        if (0..n).any(|i| !delta[(i, 0)].is_finite()) {
            break;
        }
        let mut step = 1.0;
        let mut improved = false;
        for _ in 0..LINE_SEARCH_HALVINGS {
            for i in 0..n {
                trial[i] = x[i] + step * delta[(i, 0)];
            }
            let qt = q_and_residual(d, &trial, u, &mut f, &mut r);
            if qt < q {
                x.copy_from_slice(&trial);
                q = qt;
                improved = true;
                break;
            }
            step *= 0.5;
        }
        if !improved {
            break;
        }
        history.push(q);
    }
    (x, q)
}

fn classify<D: Dynamics>(d: &D, u: &[f64], x: Vec<f64>, q: f64, cfg: &FixedPointConfig) -> Result<FixedPoint> {
    let n = x.len();
    let mut jac = vec![0.0; n * n];
    d.jacobian(&x, u, &mut jac);
    let j = MatRef::from_row_major_slice(&jac, n, n).to_owned();
    let eig = j.eigenvalues().map_err(|_| AnalysisError::NoConvergence {
        op: "fixed_points",
        what: "eigendecomposition",
    })?;
    let mut ev: Vec<(f64, f64)> = eig.iter().map(|c| (c.re, c.im)).collect();
    ev.sort_by(|a, b| b.0.hypot(b.1).total_cmp(&a.0.hypot(a.1)));
    let eigen_moduli: Vec<f64> = ev.iter().map(|(re, im)| re.hypot(*im)).collect();
    let unstable = eigen_moduli.iter().filter(|m| **m > 1.0).count();
    let marginal_modes = eigen_moduli
        .iter()
        .filter(|m| (**m - 1.0).abs() <= cfg.marginal_tol)
        .count();
    Ok(FixedPoint {
        x,
        q,
        converged: q < cfg.q_tol,
        eigen_moduli,
        eigenvalues: ev,
        stability: if unstable == 0 {
            Stability::Stable
        } else {
            Stability::Saddle { unstable }
        },
        marginal_modes,
    })
}

/// Finds the fixed points of `dynamics` under constant input `u` from `starts` (typically states sampled
/// from trajectories, optionally with noise). Deterministic: starts are processed in order.
pub fn find_fixed_points<D: Dynamics + Sync>(
    dynamics: &D,
    u: &[f64],
    starts: &[Vec<f64>],
    cfg: &FixedPointConfig,
) -> Result<FixedPointResult> {
    const OP: &str = "fixed_points";
    let n = dynamics.dim();
    if u.len() != dynamics.input_dim() {
        return Err(AnalysisError::Shape {
            op: OP,
            expected: format!("input of {}", dynamics.input_dim()),
            got: format!("{}", u.len()),
        });
    }
    if starts.is_empty() {
        return Err(AnalysisError::TooFewSamples {
            op: OP,
            need: 1,
            got: 0,
        });
    }
    if let Some(s) = starts.iter().find(|s| s.len() != n) {
        return Err(AnalysisError::Shape {
            op: OP,
            expected: format!("starts of {n}"),
            got: format!("{}", s.len()),
        });
    }
    let centroid: Vec<f64> = (0..n)
        .map(|i| starts.iter().map(|s| s[i]).sum::<f64>() / starts.len() as f64)
        .collect();
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let mean_spread = starts.iter().map(|s| dist(s, &centroid)).sum::<f64>() / starts.len() as f64;
    let cut = cfg.outlier_factor * mean_spread.max(1e-12);

    // Fixed groups of starts (independent of the thread count), handed to the threads in turn.
    let groups: Vec<&[Vec<f64>]> = starts.chunks(GROUP).collect();
    let threads = match cfg.threads {
        0 => std::thread::available_parallelism().map_or(1, |t| t.get()),
        t => t,
    }
    .min(groups.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<Candidate>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let g = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(group) = groups.get(g) else { break };
                        out.push((g, optimise_group(dynamics, u, group, cfg)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a fixed-point worker panicked"))
            .collect()
    });
    done.sort_by_key(|(g, _)| *g);
    let optimised = done.into_iter().flat_map(|(_, r)| r);
    let (mut n_converged, mut n_slow, mut n_outliers, mut n_failed) = (0, 0, 0, 0);
    let mut kept: Vec<(Vec<f64>, f64)> = Vec::new();
    for (x, q) in optimised {
        if q.is_nan() || q >= cfg.slow_q_tol {
            n_failed += 1;
            continue;
        }
        if dist(&x, &centroid) > cut {
            n_outliers += 1;
            continue;
        }
        if q < cfg.q_tol {
            n_converged += 1;
        } else {
            n_slow += 1;
        }
        kept.push((x, q));
    }
    // Fixed before slow, then by q, so each cluster keeps its best representative.
    kept.sort_by(|a, b| (a.1 >= cfg.q_tol).cmp(&(b.1 >= cfg.q_tol)).then(a.1.total_cmp(&b.1)));
    let mut unique: Vec<(Vec<f64>, f64)> = Vec::new();
    for (x, q) in kept {
        if unique.iter().all(|(y, _)| dist(&x, y) > cfg.unique_tol) {
            unique.push((x, q));
        }
    }
    let points = unique
        .into_iter()
        .map(|(x, q)| classify(dynamics, u, x, q, cfg))
        .collect::<Result<Vec<_>>>()?;
    Ok(FixedPointResult {
        points,
        n_converged,
        n_slow,
        n_outliers,
        n_failed,
    })
}
