//! The analysis of a curl-field run from its recordings (`analysis.json`): preparatory states per target
//! and stage, the force-predictive (TDR) subspace, the learning and washout shifts and θ_LW, the uniform
//! shift along its axis against the distance from the trained target.

use std::path::Path;

use reachlab_analysis::faer::Mat;
use reachlab_analysis::{
    centroid, find_fixed_points, principal_angles, shift_angles, shift_distance_test, split_half_uniform_shifts,
    uniform_shift_axis, uniform_shift_vs_distance, DecoderScore, Dynamics, FixedPointConfig, LinearDecoder, Pca,
    ShiftAngles, Tdr, UniformShiftTest,
};
use reachlab_envs::effector::Mat2;
use serde::{Deserialize, Serialize};

use crate::core_dynamics::{core_dynamics, CoreDynamics};
use crate::error::{Result, ScenarioError};
use crate::output::LoadedRecording;
use crate::reaching::config::{Scenario, TdrCentring};

/// Condition averages of one recorded block: a row per target.
struct Conditions {
    /// Mean hidden state over the preparatory window (targets × H).
    prep: Mat<f64>,
    /// Initial force estimate: the hand's apparent inertia at the start posture (`Λ`: the mass for the
    /// point mass, `(J·M⁻¹·Jᵀ)⁻¹` for an arm) times its mean acceleration over the first 100 ms after the
    /// go cue (targets × 2).
    force: Mat<f64>,
    /// The same per normal trial, in recording order: (target, preparatory state, initial force).
    trials: Vec<(usize, Vec<f64>, [f64; 2])>,
    /// The recording they were computed from (the fixed-point search starts from its delay states).
    rec: LoadedRecording,
}

fn conditions(rec: LoadedRecording, n_targets: usize, window: usize, dt: f64, inertia: &Mat2) -> Option<Conditions> {
    let (t, h) = (rec.t, rec.h);
    let lead = (0.1 / dt).round().max(1.0) as usize;
    let mut trials = Vec::new();
    for i in (0..rec.n).filter(|&i| rec.trial_type[i] == 0 && (rec.target[i] as usize) < n_targets) {
        let go = rec.go_step[i] as usize;
        let (a, b) = (go.saturating_sub(window), go.max(1).min(t));
        let prep: Vec<f64> = (0..h)
            .map(|j| (a..b).map(|s| f64::from(rec.hidden[(i * t + s) * h + j])).sum::<f64>() / (b - a) as f64)
            .collect();
        let v = |s: usize, d: usize| f64::from(rec.hand_vel_at(i, s.min(t - 1), d));
        let dv = [0, 1].map(|d| v(go + lead - 1, d) - v(go.saturating_sub(1), d));
        // Λ·Δv / (lead·dt), each product divided as before (the point mass's forces keep their bits).
        let force = [0, 1].map(|d| (0..2).map(|k| inertia[d][k] * dv[k] / (lead as f64 * dt)).sum::<f64>());
        trials.push((rec.target[i] as usize, prep, force));
    }
    let (prep, force) = averages(&trials, n_targets, h, |_| true)?;
    Some(Conditions {
        prep,
        force,
        trials,
        rec,
    })
}

/// Condition averages (targets × H, targets × 2) of the trials `keep` selects by their index within
/// their target; `None` when a target has none.
fn averages(
    trials: &[(usize, Vec<f64>, [f64; 2])],
    n_targets: usize,
    h: usize,
    keep: impl Fn(usize) -> bool,
) -> Option<(Mat<f64>, Mat<f64>)> {
    let mut prep = Mat::<f64>::zeros(n_targets, h);
    let mut force = Mat::<f64>::zeros(n_targets, 2);
    let mut count = vec![0usize; n_targets];
    let mut seen = vec![0usize; n_targets];
    for (k, p, f) in trials {
        seen[*k] += 1;
        if !keep(seen[*k] - 1) {
            continue;
        }
        count[*k] += 1;
        for j in 0..h {
            prep[(*k, j)] += p[j];
        }
        for d in 0..2 {
            force[(*k, d)] += f[d];
        }
    }
    if count.contains(&0) {
        return None;
    }
    for k in 0..n_targets {
        let c = count[k] as f64;
        for j in 0..h {
            prep[(k, j)] /= c;
        }
        for d in 0..2 {
            force[(k, d)] /= c;
        }
    }
    Some((prep, force))
}

/// The even- and odd-numbered trials of each target, averaged: two independent halves.
fn halves(c: &Conditions, n_targets: usize) -> Option<[(Mat<f64>, Mat<f64>); 2]> {
    let h = c.prep.ncols();
    Some([
        averages(&c.trials, n_targets, h, |i| i % 2 == 0)?,
        averages(&c.trials, n_targets, h, |i| i % 2 == 1)?,
    ])
}

/// The trials' preparatory states (rows × H) and initial forces (rows × 2), those `keep` selects by
/// their index within their target.
fn trial_rows(c: &Conditions, keep: impl Fn(usize) -> bool) -> (Mat<f64>, Mat<f64>) {
    let mut seen = std::collections::HashMap::new();
    let picked: Vec<&(usize, Vec<f64>, [f64; 2])> = c
        .trials
        .iter()
        .filter(|(k, _, _)| {
            let n = seen.entry(*k).or_insert(0usize);
            *n += 1;
            keep(*n - 1)
        })
        .collect();
    let h = c.prep.ncols();
    (
        Mat::from_fn(picked.len(), h, |i, j| picked[i].1[j]),
        Mat::from_fn(picked.len(), 2, |i, d| picked[i].2[d]),
    )
}

/// Initial force decoded from the 2-D TDR state, trial by trial, as Sun et al. report it (ED Fig. 2a):
/// cross-validated over the two halves of the trials (TDR plane and decoder fit on one half's trials,
/// scored on the other's, pooled). `None` with fewer than two trials per target.
fn tdr_decoder_cross_validated(c: &Conditions, n_targets: usize) -> Option<DecoderScore> {
    let halves = halves(c, n_targets)?;
    let mut pred = Vec::new();
    let mut actual = Vec::new();
    for (fold, (fit_prep, fit_force)) in halves.iter().enumerate() {
        let tdr = Tdr::fit(fit_prep.as_ref(), fit_force.as_ref()).ok()?;
        let (train_x, train_y) = trial_rows(c, |i| i % 2 == fold);
        let (test_x, test_y) = trial_rows(c, |i| i % 2 != fold);
        let dec = LinearDecoder::fit(tdr.project(train_x.as_ref()).ok()?.as_ref(), train_y.as_ref()).ok()?;
        let p = dec.predict(tdr.project(test_x.as_ref()).ok()?.as_ref());
        for i in 0..p.nrows() {
            pred.push([p[(i, 0)], p[(i, 1)]]);
            actual.push([test_y[(i, 0)], test_y[(i, 1)]]);
        }
    }
    let (p, a) = (
        Mat::from_fn(pred.len(), 2, |i, d| pred[i][d]),
        Mat::from_fn(actual.len(), 2, |i, d| actual[i][d]),
    );
    // Identity "decoder": score the pooled held-out predictions as they are.
    LinearDecoder::score_of(p.as_ref(), a.as_ref()).ok()
}

/// What `analysis.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Analysis {
    /// Stages whose recordings were used (late blocks).
    pub stages: Vec<String>,
    /// How the TDR fit was centred (pooled over baseline and learning when both exist and the scenario
    /// asks for it, else on the baseline alone).
    pub tdr_centring: TdrCentring,
    /// Variance explained by the top principal components of all preparatory states.
    pub prep_pca_variance_ratio: Vec<f64>,
    /// Force decoder fit on the baseline's preparatory states (their top principal components): R² on
    /// baseline, and on each later stage.
    pub force_decoder_r2: Vec<(String, f64)>,
    /// Initial force decoded trial by trial from the 2-D TDR preparatory state (Sun et al. ED Fig. 2a;
    /// monkeys: R² 0.59, slope 0.41): on the baseline cross-validated over halves of the trials; on each
    /// later stage with the plane and decoder fit on every baseline trial.
    pub tdr_force_decoder: Vec<(String, DecoderScore)>,
    /// Principal angles (degrees) between the baseline's TDR plane and each later stage's.
    pub tdr_angles_deg: Vec<(String, Vec<f64>)>,
    /// Δ_L, Δ_W and θ_LW of the centroids of the preparatory states.
    pub shifts: Option<ShiftAngles>,
    /// The learning shift of each target along the uniform axis (orthogonal to the TDR plane) against its
    /// distance from the trained target.
    pub uniform_shift: Option<UniformShiftTest>,
    /// The same test on shifts not positive by construction: the uniform axis estimated on one half of
    /// the trials and the other half projected on it, both ways (`split_half_uniform_shifts`).
    pub uniform_shift_split_half: Option<UniformShiftTest>,
    /// Fraction of the learning shift's squared norm inside the TDR plane.
    pub learning_shift_in_tdr: f64,
    /// Of the learning shift along the uniform axis (mean over targets), the fraction still there at the
    /// end of washout: (washout − baseline)·û / (learning − baseline)·û. Sun et al.: the uniform shift
    /// persists through washout (≈ 1).
    pub uniform_shift_retained_after_washout: f64,
    /// The same inside the TDR plane (norm of the centroid shift projected on it): the force-subspace
    /// states revert (≈ 0).
    pub tdr_shift_retained_after_washout: f64,
    /// Fixed points of the trained GRU under each target's delay-period input, per stage (GRU policies).
    pub preparatory_fixed_points: Vec<PrepFixedPoints>,
    /// Preparatory states (one point per target, in target order) in the baseline's TDR plane, per stage.
    pub tdr_plane: Vec<StagePoints>,
    /// Per later stage, each target's rotation (degrees, counter-clockwise > 0) in the baseline's TDR
    /// plane: the angle of its preparatory state about the stage's centroid, minus the baseline's.
    pub tdr_rotation_deg: Vec<(String, Vec<f64>)>,
    /// The same on the first two principal components of all preparatory states.
    pub pc_plane: Vec<StagePoints>,
}

impl Analysis {
    /// Reads a run's `analysis.json` (NaN measures, written as `null`, come back as NaN). An analysis
    /// that failed wrote `{"error": …}` instead, which is an error here.
    pub fn read(dir: &Path) -> Result<Self> {
        crate::commit::read_json(&dir.join("analysis.json"))
    }
}

/// One 2-D point per target for one stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StagePoints {
    pub stage: String,
    pub points: Vec<[f64; 2]>,
}

/// Per point, the change (degrees, wrapped to (−180, 180]) of its angle about its set's centroid from
/// `base` to `other` (same points in the same order).
pub fn plane_rotation_deg(base: &[[f64; 2]], other: &[[f64; 2]]) -> Vec<f64> {
    let angles = |pts: &[[f64; 2]]| -> Vec<f64> {
        let n = pts.len().max(1) as f64;
        let (cx, cy) = (
            pts.iter().map(|p| p[0]).sum::<f64>() / n,
            pts.iter().map(|p| p[1]).sum::<f64>() / n,
        );
        pts.iter().map(|p| (p[1] - cy).atan2(p[0] - cx)).collect()
    };
    angles(base)
        .iter()
        .zip(angles(other))
        .map(|(a, b)| {
            let d = (b - a).to_degrees().rem_euclid(360.0);
            if d > 180.0 {
                d - 360.0
            } else {
                d
            }
        })
        .collect()
}

fn plane(m: &Mat<f64>) -> Vec<[f64; 2]> {
    (0..m.nrows())
        .map(|i| [m[(i, 0)], if m.ncols() > 1 { m[(i, 1)] } else { 0.0 }])
        .collect()
}

/// Fixed points of the policy's recurrent core (any kind) with the input it receives during the delay (target shown, no go cue,
/// hand at rest), started from the recorded delay-period states.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrepFixedPoints {
    pub stage: String,
    pub target: usize,
    /// Unique fixed points (q below tolerance) and how many are stable.
    pub n_fixed: usize,
    pub n_stable: usize,
    /// Largest eigenvalue modulus of the Jacobian at the fixed point nearest the preparatory state.
    pub max_eigen_modulus: f64,
    /// Distance from that fixed point to the trial-averaged preparatory state, relative to the spread of
    /// the preparatory states across targets.
    pub relative_distance: f64,
    /// That fixed point on the first two principal components of the preparatory states.
    pub pc: Option<[f64; 2]>,
    /// Whether that fixed point is stable.
    pub stable: bool,
}

/// The recurrent core of a run's checkpoint at the end of `stage`, as analysis dynamics (any core kind),
/// with the policy's input width; `None` when the stage left no checkpoint.
fn checkpoint_dynamics(dir: &Path, stage: &str) -> Result<Option<(CoreDynamics, usize)>> {
    let ck = dir.join("checkpoints").join(stage);
    if !ck.join("weights.safetensors").exists() {
        return Ok(None);
    }
    let (policy, _) = reachlab_agents::load_checkpoint(&ck)?;
    Ok(Some((core_dynamics(&policy)?, policy.obs_dim())))
}

fn prep_fixed_points(
    s: &Scenario,
    dir: &Path,
    stage: &str,
    rec: &LoadedRecording,
    prep: &Mat<f64>,
    pca: Option<&Pca>,
) -> Result<Vec<PrepFixedPoints>> {
    let Some((dynamics, m)) = checkpoint_dynamics(dir, stage)? else {
        return Ok(vec![]);
    };
    // A recording without the LSTM's cell state (written before cells were kept) cannot start the search
    // from the states the network had: no search, and the measure reads NaN.
    if rec.h + rec.c != dynamics.dim() {
        return Ok(vec![]);
    }
    let n_targets = s.env.n_targets;
    let spread = {
        let c = centroid(prep.as_ref());
        let v: f64 = (0..prep.nrows())
            .map(|k| (0..c.len()).map(|j| (prep[(k, j)] - c[j]).powi(2)).sum::<f64>())
            .sum::<f64>()
            / prep.nrows() as f64;
        v.sqrt().max(1e-12)
    };
    let cfg = FixedPointConfig::default();
    let mut out = Vec::new();
    for k in 0..n_targets {
        let a = 2.0 * std::f64::consts::PI * k as f64 / n_targets as f64;
        let scale = s.env.observation.position_scale;
        let mut u = vec![0.0; m];
        u[0] = scale * s.env.radius * a.cos();
        u[1] = scale * s.env.radius * a.sin();
        // Starts: this target's recorded delay-period states, every other step.
        let mut starts = Vec::new();
        // The effector's own inputs (arm26's proprioception, after the task's): their mean over those steps.
        let task = s.env.obs_dim().min(m);
        let mut sensed = vec![0.0; m - task];
        for i in (0..rec.n).filter(|&i| rec.trial_type[i] == 0 && rec.target[i] as usize == k) {
            let go = rec.go_step[i] as usize;
            for t in (go.saturating_sub(s.evaluation.prep_window_steps.max(1) * 2)..go).step_by(2) {
                starts.push(rec.state_at(i, t));
                let obs = &rec.obs[(i * rec.t + t) * rec.o..(i * rec.t + t + 1) * rec.o];
                for (acc, &x) in sensed.iter_mut().zip(obs.get(task..m).unwrap_or(&[])) {
                    *acc += f64::from(x);
                }
            }
        }
        for (u, acc) in u[task..].iter_mut().zip(&sensed) {
            *u = acc / starts.len().max(1) as f64;
        }
        if starts.is_empty() {
            continue;
        }
        let res = find_fixed_points(&dynamics, &u, &starts, &cfg).map_err(|e| ScenarioError::output(dir, e))?;
        // Every fixed and slow point, for Python (as task runs write theirs).
        let fp_dir = dir.join("fixed_points");
        std::fs::create_dir_all(&fp_dir).map_err(|e| ScenarioError::io(&fp_dir, e))?;
        crate::output::save_fixed_points(&fp_dir.join(format!("{stage}_target{k}.safetensors")), &res)?;
        let fixed: Vec<_> = res.points.iter().filter(|p| p.converged).collect();
        // Distances and coordinates in the space of the recorded `h` (an LSTM's point is `[h | c]`).
        let h = prep.ncols();
        let target_prep: Vec<f64> = (0..h).map(|j| prep[(k, j)]).collect();
        let dist = |x: &[f64]| {
            x[..h]
                .iter()
                .zip(&target_prep)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let nearest = fixed.iter().min_by(|a, b| dist(&a.x).total_cmp(&dist(&b.x)));
        out.push(PrepFixedPoints {
            stage: stage.to_string(),
            target: k,
            n_fixed: fixed.len(),
            n_stable: res.n_stable(),
            max_eigen_modulus: nearest.map_or(f64::NAN, |p| p.eigen_moduli.first().copied().unwrap_or(f64::NAN)),
            relative_distance: nearest.map_or(f64::NAN, |p| dist(&p.x) / spread),
            pc: match (nearest, pca) {
                (Some(p), Some(pca)) => {
                    let row = Mat::from_fn(1, h, |_, j| p.x[j]);
                    pca.transform(row.as_ref())
                        .ok()
                        .map(|t| [t[(0, 0)], if t.ncols() > 1 { t[(0, 1)] } else { 0.0 }])
                }
                _ => None,
            },
            stable: nearest.is_some_and(|p| p.stability == reachlab_analysis::Stability::Stable),
        });
    }
    Ok(out)
}

/// Mean over targets of (after − before)·axis.
fn mean_projection(before: &Mat<f64>, after: &Mat<f64>, axis: &[f64]) -> f64 {
    let k = before.nrows();
    (0..k)
        .map(|t| {
            (0..axis.len())
                .map(|i| (after[(t, i)] - before[(t, i)]) * axis[i])
                .sum::<f64>()
        })
        .sum::<f64>()
        / k as f64
}

/// Norm of the centroid shift (after − before) projected on the orthonormal columns of `q`.
fn projected_centroid_shift(before: &Mat<f64>, after: &Mat<f64>, q: &Mat<f64>) -> f64 {
    let (cb, ca) = (centroid(before.as_ref()), centroid(after.as_ref()));
    (0..q.ncols())
        .map(|j| {
            let c: f64 = (0..cb.len()).map(|i| q[(i, j)] * (ca[i] - cb[i])).sum();
            c * c
        })
        .sum::<f64>()
        .sqrt()
}

/// Runs the analysis on the late recordings of `baseline`, `learning` and `washout` (and any other
/// recorded phase) and writes `analysis.json`.
pub fn analyze(s: &Scenario, dir: &Path) -> Result<Analysis> {
    let n_targets = s.env.n_targets;
    let window = s.evaluation.prep_window_steps.max(1);
    let inertia = s
        .env
        .effector
        .hand_inertia_at_start(s.env.dt)
        .map_err(|e| ScenarioError::output(dir, e))?;
    let mut conds: Vec<(String, Conditions)> = Vec::new();
    for st in s.phases.iter().filter(|p| p.record) {
        let path = dir.join("recordings").join(format!("{}_late.safetensors", st.name));
        if !path.exists() {
            continue;
        }
        let rec = LoadedRecording::load(&path)?;
        if let Some(c) = conditions(rec, n_targets, window, s.env.dt, &inertia) {
            conds.push((st.name.clone(), c));
        }
    }
    let bad = |e: reachlab_analysis::AnalysisError| ScenarioError::output(&dir.join("analysis.json"), e);
    let get = |name: &str| conds.iter().find(|(n, _)| n == name).map(|(_, c)| c);
    let mut all = Mat::<f64>::zeros(0, 0);
    if let Some((_, first)) = conds.first() {
        let h = first.prep.ncols();
        all = Mat::from_fn(conds.len() * n_targets, h, |i, j| {
            conds[i / n_targets].1.prep[(i % n_targets, j)]
        });
    }
    // The force decoder reads the top principal components of the preparatory states (8 condition
    // averages cannot fit a decoder on every unit).
    let k = n_targets.saturating_sub(3).clamp(1, 5);
    let pca = if all.nrows() > k + 1 {
        Some(Pca::fit(all.as_ref(), k).map_err(bad)?)
    } else {
        None
    };
    // The protocol's stages by role (`evaluation.*_stage`).
    let ev = &s.evaluation;
    let (baseline, learning, washout) = (
        ev.baseline_stage.as_str(),
        ev.learning_stage.as_str(),
        ev.washout_stage.as_str(),
    );
    let pooled = ev.tdr_centring == TdrCentring::Pooled && get(learning).is_some();
    let mut out = Analysis {
        stages: conds.iter().map(|(n, _)| n.clone()).collect(),
        tdr_centring: if pooled {
            TdrCentring::Pooled
        } else {
            TdrCentring::FitOnly
        },
        prep_pca_variance_ratio: pca.as_ref().map_or(vec![], |p| p.explained_variance_ratio.clone()),
        force_decoder_r2: vec![],
        tdr_force_decoder: vec![],
        uniform_shift_split_half: None,
        tdr_angles_deg: vec![],
        shifts: None,
        uniform_shift: None,
        learning_shift_in_tdr: f64::NAN,
        uniform_shift_retained_after_washout: f64::NAN,
        tdr_shift_retained_after_washout: f64::NAN,
        preparatory_fixed_points: vec![],
        tdr_plane: vec![],
        tdr_rotation_deg: vec![],
        pc_plane: vec![],
    };
    if let Some(p) = &pca {
        for (name, c) in &conds {
            out.pc_plane.push(StagePoints {
                stage: name.clone(),
                points: plane(&p.transform(c.prep.as_ref()).map_err(bad)?),
            });
        }
    }
    for (name, c) in &conds {
        out.preparatory_fixed_points
            .extend(prep_fixed_points(s, dir, name, &c.rec, &c.prep, pca.as_ref())?);
    }
    if let Some(base) = get(baseline) {
        let tdr = match get(learning).filter(|_| pooled) {
            Some(learn) => Tdr::fit_pooled(base.prep.as_ref(), base.force.as_ref(), learn.prep.as_ref()),
            None => Tdr::fit(base.prep.as_ref(), base.force.as_ref()),
        }
        .map_err(bad)?;
        let pcs = |m: &Mat<f64>| -> Result<Mat<f64>> {
            match &pca {
                Some(p) => p.transform(m.as_ref()).map_err(bad),
                None => Ok(m.clone()),
            }
        };
        let dec = LinearDecoder::fit(pcs(&base.prep)?.as_ref(), base.force.as_ref()).map_err(bad)?;
        for (name, c) in &conds {
            out.tdr_plane.push(StagePoints {
                stage: name.clone(),
                points: plane(&tdr.project(c.prep.as_ref()).map_err(bad)?),
            });
        }
        if let Some(b) = out.tdr_plane.iter().find(|p| p.stage == baseline) {
            out.tdr_rotation_deg = out
                .tdr_plane
                .iter()
                .filter(|p| p.stage != baseline)
                .map(|p| (p.stage.clone(), plane_rotation_deg(&b.points, &p.points)))
                .collect();
        }
        // Trial by trial in the 2-D TDR state: cross-validated on the baseline, then baseline → stage.
        if let Some(cv) = tdr_decoder_cross_validated(base, n_targets) {
            out.tdr_force_decoder.push((baseline.to_string(), cv));
        }
        let (bx, by) = trial_rows(base, |_| true);
        let tdr_dec = LinearDecoder::fit(tdr.project(bx.as_ref()).map_err(bad)?.as_ref(), by.as_ref()).map_err(bad)?;
        for (name, c) in conds.iter().filter(|(n, _)| n != baseline) {
            let (x, y) = trial_rows(c, |_| true);
            let score = tdr_dec
                .score(tdr.project(x.as_ref()).map_err(bad)?.as_ref(), y.as_ref())
                .map_err(bad)?;
            out.tdr_force_decoder.push((name.clone(), score));
        }
        for (name, c) in &conds {
            let score = dec.score(pcs(&c.prep)?.as_ref(), c.force.as_ref()).map_err(bad)?;
            out.force_decoder_r2.push((name.clone(), score.r2));
            if name != baseline {
                if let Ok(other) = Tdr::fit(c.prep.as_ref(), c.force.as_ref()) {
                    let ang = principal_angles(tdr.axes.as_ref(), other.axes.as_ref()).map_err(bad)?;
                    out.tdr_angles_deg
                        .push((name.clone(), ang.iter().map(|a| a.to_degrees()).collect()));
                }
            }
        }
        if let (Some(learn), Some(wash)) = (get(learning), get(washout)) {
            let (cb, cl, cw) = (
                centroid(base.prep.as_ref()),
                centroid(learn.prep.as_ref()),
                centroid(wash.prep.as_ref()),
            );
            let sh = shift_angles(&cb, &cl, &cw).map_err(bad)?;
            let dl = &sh.learning_shift;
            let in_plane: f64 = (0..tdr.axes.ncols())
                .map(|j| {
                    let c: f64 = (0..dl.len()).map(|i| tdr.axes[(i, j)] * dl[i]).sum();
                    c * c
                })
                .sum();
            out.learning_shift_in_tdr = in_plane / sh.learning_norm.powi(2).max(1e-300);
            out.shifts = Some(sh);
            out.tdr_shift_retained_after_washout = projected_centroid_shift(&base.prep, &wash.prep, &tdr.axes)
                / projected_centroid_shift(&base.prep, &learn.prep, &tdr.axes);
            if let (Some([ba, bb]), Some([la, lb])) = (halves(base, n_targets), halves(learn, n_targets)) {
                if let Ok(shifts) = split_half_uniform_shifts(
                    ba.0.as_ref(),
                    la.0.as_ref(),
                    bb.0.as_ref(),
                    lb.0.as_ref(),
                    Some(tdr.axes.as_ref()),
                ) {
                    out.uniform_shift_split_half =
                        Some(shift_distance_test(shifts, s.evaluation.trained_target, 10_000, s.seed).map_err(bad)?);
                }
            }
            if let Ok(axis) = uniform_shift_axis(base.prep.as_ref(), learn.prep.as_ref(), Some(tdr.axes.as_ref())) {
                out.uniform_shift_retained_after_washout =
                    mean_projection(&base.prep, &wash.prep, &axis) / mean_projection(&base.prep, &learn.prep, &axis);
                out.uniform_shift = Some(
                    uniform_shift_vs_distance(
                        base.prep.as_ref(),
                        learn.prep.as_ref(),
                        &axis,
                        s.evaluation.trained_target,
                        10_000,
                        s.seed,
                    )
                    .map_err(bad)?,
                );
            }
        }
    }
    let path = dir.join("analysis.json");
    std::fs::write(&path, serde_json::to_string_pretty(&out).expect("analysis serialises"))
        .map_err(|e| ScenarioError::io(&path, e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::plane_rotation_deg;

    #[test]
    fn a_rotated_and_shifted_ring_reports_its_rotation() {
        let base: Vec<[f64; 2]> = (0..8)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / 8.0;
                [a.cos(), 0.5 * a.sin()]
            })
            .collect();
        let th = 30f64.to_radians();
        let other: Vec<[f64; 2]> = base
            .iter()
            .map(|p| {
                [
                    3.0 + th.cos() * p[0] - th.sin() * p[1],
                    -1.0 + th.sin() * p[0] + th.cos() * p[1],
                ]
            })
            .collect();
        let r = plane_rotation_deg(&base, &other);
        assert!(r.iter().all(|d| (d - 30.0).abs() < 1e-9), "{r:?}");
        let back = plane_rotation_deg(&other, &base);
        assert!(back.iter().all(|d| (d + 30.0).abs() < 1e-9), "{back:?}");
    }
}
