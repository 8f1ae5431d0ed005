//! The rows a reaching run writes (`learning_curve.csv`, `trials.csv`, `evaluations.csv`) and a task run's
//! learning-curve row, and what is computed from them alone: the shared vocabulary of runs, their
//! observers, summaries and figures, so that none of them imports another.

use std::path::Path;

use reachlab_envs::reach::FieldSpec;
use serde::{Deserialize, Serialize};

use crate::error::{Result, ScenarioError};
use crate::reaching::config::Scenario;

/// One row of a task run's `learning_curve.csv`: the performance of one task (or `mean`/`min` over
/// tasks) at one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCurveRow {
    pub update: usize,
    /// Training trials seen so far.
    pub trials: u64,
    pub wall_s: f64,
    /// Mean training loss over the steps since the previous evaluation (NaN at step 0).
    pub loss: f64,
    pub task: String,
    /// Fraction of the evaluation trials scored correct (Yang et al.'s criterion for the ring tasks).
    pub perf: f64,
}

/// One row of `learning_curve.csv`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurveRow {
    pub stage: String,
    pub stage_update: usize,
    pub update: usize,
    pub env_steps: u64,
    pub wall_seconds: f64,
    pub mean_return: f64,
    pub success_rate: f64,
    /// Fraction of episodes that left the start before the go cue.
    pub early_start_fraction: f64,
    /// Mean |MPD| (cm) over the rollout's normal trials.
    pub mpd_abs_mean_cm: f64,
    /// Mean signed MPD (cm) over the rollout's normal trials to the trained target (NaN if none).
    pub mpd_trained_cm: f64,
    pub policy_loss: f64,
    pub value_loss: f64,
    pub entropy: f64,
    pub approx_kl: f64,
    pub clip_fraction: f64,
    pub explained_variance: f64,
    pub grad_norm: f64,
    pub learning_rate: f64,
    pub reg_activity_l2: f64,
    pub reg_weight_l2: f64,
    pub reg_weight_l1: f64,
    pub reg_zeroness: f64,
    pub reg_smoothness: f64,
    pub reg_effort: f64,
    pub reg_jerk: f64,
    pub env_steps_per_second: f64,
}

/// One row of `trials.csv`: an evaluation trial (deterministic policy) in an evaluation block. Measures
/// over the movement window (go cue to the end of the hold, see [`crate::reaching::metrics`]); units in the names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRow {
    pub stage: String,
    /// `early` (stage start), `uNNNN` (after NNNN updates of the stage) or `late` (stage end).
    pub block: String,
    pub trial: usize,
    pub target: usize,
    pub trial_type: String,
    /// Steps the trial ran (it ends with the hold when the env terminates on success).
    pub steps: usize,
    pub mpd_cm: f64,
    pub curvature: f64,
    pub reach_time_s: f64,
    pub peak_speed_m_per_s: f64,
    pub time_to_peak_s: f64,
    pub speed_peaks: u32,
    pub minjerk_corr: f64,
    pub endpoint_error_cm: f64,
    pub hold_drift_cm: f64,
    pub peak_force_n: f64,
    pub success: bool,
    pub premature: bool,
}

/// One row of `evaluations.csv`: what an evaluation block (deterministic policy, every target) shows.
/// Means over the block's normal trials unless the name says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalRow {
    pub stage: String,
    pub block: String,
    /// Updates of the stage before the block.
    pub stage_update: usize,
    /// Updates of the run before the block.
    pub update: usize,
    pub success_rate: f64,
    /// Signed MPD to the trained target (cm).
    pub mpd_trained_cm: f64,
    /// Mean |MPD| over all targets (cm).
    pub mpd_abs_cm: f64,
    pub curvature_median: f64,
    pub peak_speed_m_per_s: f64,
    pub time_to_peak_s: f64,
    /// Fraction of trials with one speed peak.
    pub single_peak_fraction: f64,
    pub minjerk_corr_median: f64,
    pub reach_time_s: f64,
    pub endpoint_error_cm: f64,
    /// Largest hold drift over the successful trials (cm).
    pub hold_drift_max_cm: f64,
    /// Peak lateral force into the channel on the trained target (N).
    pub channel_force_trained_n: f64,
    /// Adaptation index of the trained target's channel trials against the scenario's curl field (see
    /// [`adaptation_index`]); NaN without channel trials or a curl phase.
    pub adaptation_index: f64,
    /// The block meets the expert-baseline criterion (`evaluation.expert`).
    pub expert: bool,
    /// What it misses, `; `-separated (empty when met).
    pub expert_misses: String,
}

/// Reads every row of a CSV file written by a run.
pub(crate) fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let mut r = csv::Reader::from_path(path).map_err(|e| ScenarioError::output(path, e))?;
    r.deserialize()
        .map(|x| x.map_err(|e| ScenarioError::output(path, e)))
        .collect()
}

/// Mean of the finite values (NaN if none).
pub fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for x in xs.filter(|x| x.is_finite()) {
        sum += x;
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// Median of the finite values (NaN if none).
pub fn median(xs: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = xs.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The curl coefficient the adaptation index is measured against: the first phase with a curl field
/// (NaN when none has one).
pub fn reference_b(s: &Scenario) -> f64 {
    s.phases
        .iter()
        .find_map(|p| match p.field {
            FieldSpec::Curl { b } => Some(b),
            _ => None,
        })
        .unwrap_or(f64::NAN)
}

/// The baseline band of the trained target's MPD (cm): the mean of the baseline stage's evaluation
/// blocks and the half-width max(2 s.d., `evaluation.band_floor`).
pub fn baseline_band(s: &Scenario, rows: &[EvalRow]) -> (f64, f64) {
    let v: Vec<f64> = rows
        .iter()
        .filter(|r| r.stage == s.evaluation.baseline_stage && r.mpd_trained_cm.is_finite())
        .map(|r| r.mpd_trained_cm)
        .collect();
    let floor = 100.0 * s.evaluation.band_floor;
    if v.is_empty() {
        return (f64::NAN, floor);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, (2.0 * sd).max(floor))
}
