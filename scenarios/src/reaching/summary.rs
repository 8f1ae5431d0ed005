//! `summary.json` and the table printed at the end of a run, computed from the run's CSV files.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::reaching::config::{Scenario, Until};
use crate::rows::{baseline_band, mean, read_csv, CurveRow, EvalRow, TrialRow};

/// Behaviour of one stage. `early`/`late` are its first and last evaluation blocks (deterministic
/// policy); the training measures come from the noisy rollouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    pub stage: String,
    pub updates: usize,
    /// Training success rate, mean of the stage's last 3 updates.
    pub final_success: f64,
    /// Fraction of training episodes that started before the go cue, over the stage.
    pub early_start_fraction: f64,
    /// Mean signed MPD to the trained target (cm) in the evaluation block at the stage's start / end
    /// (normal trials).
    pub mpd_trained_early_cm: f64,
    pub mpd_trained_late_cm: f64,
    /// Mean |MPD| (cm) over all targets in the late evaluation block.
    pub mpd_all_late_cm: f64,
    /// Mean peak lateral force (N) into the channel on the trained target, late block.
    pub channel_force_late_n: f64,
    /// Adaptation index (channel trials, trained target) at the stage's start and end.
    pub adaptation_index_early: f64,
    pub adaptation_index_late: f64,
    /// Evaluation success rate in the late block (normal trials).
    pub eval_success_late: f64,
    /// Kinematics of the late block: median curvature, mean peak speed (m/s), fraction single-peaked,
    /// median minimum-jerk correlation, mean reach time (s), mean endpoint error (cm), largest hold drift (cm).
    pub curvature_late: f64,
    pub peak_speed_late_m_per_s: f64,
    pub single_peak_late: f64,
    pub minjerk_corr_late: f64,
    pub reach_time_late_s: f64,
    pub endpoint_error_late_cm: f64,
    pub hold_drift_max_late_cm: f64,
    /// The late block meets the expert-baseline criterion; what it misses otherwise.
    pub expert_late: bool,
    pub expert_misses_late: String,
    /// Updates until the first evaluation block with the trained target's MPD inside the baseline band
    /// (NaN if none; the blocks come every `evaluation.every` updates).
    pub updates_to_band: f64,
    /// Updates until the rolling mean (3) of |MPD| to the trained target in training rollouts fell to
    /// half its first value (NaN if never).
    pub updates_to_half_mpd: f64,
    /// Mean |MPD| to the trained target (cm) over the stage's first 10 updates (training rollouts).
    pub mpd_trained_first10_cm: f64,
}

/// MPD change on one target early in learning against the end of baseline (Sun et al. ED Fig. 2e).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generalisation {
    pub target: usize,
    /// Angular distance from the trained target (degrees, 0–180).
    pub distance_deg: f64,
    /// Signed MPD in the first evaluation block inside learning minus the late baseline block (cm).
    pub mpd_change_cm: f64,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub stages: Vec<StageSummary>,
    /// The late baseline block meets the expert-baseline criterion.
    pub expert_baseline: bool,
    /// MPD jump at field onset: learning early − baseline late (cm).
    pub onset_jump_cm: f64,
    /// After-effect: washout early MPD − baseline late MPD (cm), opposite in sign to the onset jump when
    /// present.
    pub after_effect_cm: f64,
    /// Fraction of the onset error removed by the end of learning, relative to the late baseline:
    /// 1 − |MPD late − MPD baseline| / |MPD₀ − MPD baseline| (learning stage, trained target).
    #[serde(default = "nan")]
    pub error_removed_learning: f64,
    /// The same at the first evaluation block inside learning (after `evaluation.every` updates): how
    /// gradual the adaptation is.
    #[serde(default = "nan")]
    pub error_removed_first_block: f64,
    /// 1 − (relearning's mean |MPD − MPD late baseline| over the evaluation blocks of its first 10 updates)
    /// / (learning's): > 0 means savings.
    pub savings: f64,
    /// Baseline band of the trained target's MPD (cm): [mean, half-width].
    pub baseline_band_cm: [f64; 2],
    /// The late washout block is inside the baseline band.
    pub washed_out: bool,
    /// Updates to criterion (MPD back inside the band) in learning and relearning, and their difference
    /// (learning − relearning: > 0 means savings).
    pub updates_to_criterion_learning: f64,
    pub updates_to_criterion_relearning: f64,
    pub savings_updates: f64,
    /// Behavioural generalisation early in learning, by distance from the trained target.
    pub generalisation: Vec<Generalisation>,
    /// θ_LW (degrees) between the learning and washout shifts of the preparatory states (analysis.json).
    pub theta_lw_deg: f64,
    /// What did not go as the protocol intends (criteria not met), in words.
    pub warnings: Vec<String>,
    pub wall_seconds: f64,
}

impl Summary {
    /// Reads a run's `summary.json` (NaN measures, written as `null`, come back as NaN).
    pub fn read(dir: &Path) -> Result<Self> {
        crate::commit::read_json(&dir.join("summary.json"))
    }
}

/// Computes the summary of the run in `dir` and writes `summary.json`.
pub fn summarize(s: &Scenario, dir: &Path) -> Result<Summary> {
    let curve: Vec<CurveRow> = read_csv(&dir.join("learning_curve.csv"))?;
    let trials: Vec<TrialRow> = read_csv(&dir.join("trials.csv"))?;
    let evals: Vec<EvalRow> = read_csv(&dir.join("evaluations.csv"))?;
    let band = baseline_band(s, &evals);
    let in_band = |r: &EvalRow| (r.mpd_trained_cm - band.0).abs() <= band.1;
    let mut stages = Vec::new();
    let mut warnings = Vec::new();
    let nan_row = EvalRow {
        success_rate: f64::NAN,
        mpd_trained_cm: f64::NAN,
        adaptation_index: f64::NAN,
        ..EvalRow::default()
    };
    for st in std::iter::once(&s.pretraining).chain(&s.phases) {
        let rows: Vec<&CurveRow> = curve.iter().filter(|r| r.stage == st.name).collect();
        let tail = &rows[rows.len().saturating_sub(3)..];
        let blocks: Vec<&EvalRow> = evals.iter().filter(|r| r.stage == st.name).collect();
        let block = |name: &str| blocks.iter().find(|r| r.block == name).copied().unwrap_or(&nan_row);
        let (early, late) = (block("early"), block("late"));
        let abs_tr: Vec<f64> = rows.iter().map(|r| r.mpd_trained_cm.abs()).collect();
        let rolling: Vec<f64> = (0..abs_tr.len())
            .map(|i| mean(abs_tr[i.saturating_sub(2)..=i].iter().copied()))
            .collect();
        let first = rolling.first().copied().unwrap_or(f64::NAN);
        let half = rolling
            .iter()
            .position(|&v| v <= 0.5 * first)
            .map_or(f64::NAN, |i| (i + 1) as f64);
        let updates_to_band = blocks
            .iter()
            .filter(|r| r.block != "early")
            .find(|r| in_band(r))
            .map_or(f64::NAN, |r| r.stage_update as f64);
        if st.until != Until::Never {
            let met = match st.until {
                Until::Expert => late.expert,
                _ => in_band(late),
            };
            if !met {
                warnings.push(format!(
                    "{}: the {} criterion was not met within {} updates{}",
                    st.name,
                    st.until.name(),
                    st.updates,
                    if st.until == Until::Expert {
                        format!(" ({})", late.expert_misses)
                    } else {
                        String::new()
                    }
                ));
            }
        }
        stages.push(StageSummary {
            stage: st.name.clone(),
            updates: rows.len(),
            final_success: mean(tail.iter().map(|r| r.success_rate)),
            early_start_fraction: mean(rows.iter().map(|r| r.early_start_fraction)),
            mpd_trained_early_cm: early.mpd_trained_cm,
            mpd_trained_late_cm: late.mpd_trained_cm,
            mpd_all_late_cm: late.mpd_abs_cm,
            channel_force_late_n: late.channel_force_trained_n,
            adaptation_index_early: early.adaptation_index,
            adaptation_index_late: late.adaptation_index,
            eval_success_late: late.success_rate,
            curvature_late: late.curvature_median,
            peak_speed_late_m_per_s: late.peak_speed_m_per_s,
            single_peak_late: late.single_peak_fraction,
            minjerk_corr_late: late.minjerk_corr_median,
            reach_time_late_s: late.reach_time_s,
            endpoint_error_late_cm: late.endpoint_error_cm,
            hold_drift_max_late_cm: late.hold_drift_max_cm,
            expert_late: late.expert,
            expert_misses_late: late.expert_misses.clone(),
            updates_to_band,
            updates_to_half_mpd: half,
            mpd_trained_first10_cm: mean(abs_tr.iter().take(10).copied()),
        });
    }
    let get = |name: &str| stages.iter().find(|x| x.stage == name);
    let ev = &s.evaluation;
    let (learning, washout, relearning) = (
        ev.learning_stage.as_str(),
        ev.washout_stage.as_str(),
        ev.relearning_stage.as_str(),
    );
    // The measures of the protocol find their phases by role (`evaluation.*_stage`); a role with no
    // such phase would leave them NaN without a word, so say which are missing and what they cost.
    let roles = [
        (
            "learning_stage",
            learning,
            "the onset jump, savings, generalisation, TDR after learning and θ_LW",
        ),
        (
            "washout_stage",
            washout,
            "the after-effect, washout into the band and θ_LW",
        ),
        ("relearning_stage", relearning, "savings"),
    ];
    let missing: Vec<String> = roles
        .iter()
        .filter(|(_, name, _)| get(name).is_none())
        .map(|(key, name, what)| format!("`{name}` (`evaluation.{key}`: {what})"))
        .collect();
    if !missing.is_empty() && s.phases.len() > 1 {
        warnings.push(format!(
            "no recorded phase named {}: those measures are NaN (name the phases that play these roles in \
             `evaluation.learning_stage`, `washout_stage`, `relearning_stage`)",
            missing.join(", ")
        ));
    }
    let expert_baseline = get(&s.evaluation.baseline_stage).is_some_and(|b| b.expert_late);
    if !expert_baseline {
        warnings.push(format!(
            "the late `{}` block is not an expert baseline ({})",
            s.evaluation.baseline_stage,
            get(&s.evaluation.baseline_stage).map_or("no such stage", |b| b.expert_misses_late.as_str())
        ));
    }
    let onset_jump_cm = match (get(learning), get(&s.evaluation.baseline_stage)) {
        (Some(l), Some(b)) => l.mpd_trained_early_cm - b.mpd_trained_late_cm,
        _ => f64::NAN,
    };
    let baseline_late = get(&s.evaluation.baseline_stage).map_or(f64::NAN, |b| b.mpd_trained_late_cm);
    let after_effect_cm = get(washout).map_or(f64::NAN, |w| w.mpd_trained_early_cm - baseline_late);
    let removed = |at: f64| {
        get(learning).map_or(f64::NAN, |l| {
            1.0 - (at - baseline_late).abs() / (l.mpd_trained_early_cm - baseline_late).abs()
        })
    };
    let error_removed_learning = get(learning).map_or(f64::NAN, |l| removed(l.mpd_trained_late_cm));
    let first_block = evals
        .iter()
        .find(|r| r.stage == learning && r.block != "early")
        .map_or(f64::NAN, |r| r.mpd_trained_cm);
    let error_removed_first_block = removed(first_block);
    // The error of the deterministic policy over a stage's first 10 updates (its evaluation blocks there),
    // relative to the late baseline: the same measure whichever way the stage trains.
    let first10 = |stage: &str| {
        mean(
            evals
                .iter()
                .filter(|r| r.stage == stage && r.stage_update <= 10)
                .map(|r| (r.mpd_trained_cm - baseline_late).abs()),
        )
    };
    let savings = 1.0 - first10(relearning) / first10(learning);
    let washed_out = evals
        .iter()
        .find(|r| r.stage == washout && r.block == "late")
        .is_some_and(in_band);
    let to_crit = |name: &str| get(name).map_or(f64::NAN, |x| x.updates_to_band);
    let (ucl, ucr) = (to_crit(learning), to_crit(relearning));
    let generalisation = generalisation(s, &trials, &evals);
    let theta_lw_deg = crate::reaching::analysis::Analysis::read(dir)
        .ok()
        .and_then(|a| a.shifts)
        .map_or(f64::NAN, |s| s.theta_lw_deg);
    let summary = Summary {
        theta_lw_deg,
        scenario: s.name.clone(),
        stages,
        expert_baseline,
        onset_jump_cm,
        after_effect_cm,
        error_removed_learning,
        error_removed_first_block,
        savings,
        baseline_band_cm: [band.0, band.1],
        washed_out,
        updates_to_criterion_learning: ucl,
        updates_to_criterion_relearning: ucr,
        savings_updates: ucl - ucr,
        generalisation,
        warnings,
        wall_seconds: curve.last().map_or(0.0, |r| r.wall_seconds),
    };
    crate::commit::write_json(&dir.join("summary.json"), &summary)?;
    Ok(summary)
}

/// Per untrained target, the MPD change from the late baseline block to the first evaluation block
/// inside learning (the first `uNNNN` block, or the late one if the stage has none).
fn generalisation(s: &Scenario, trials: &[TrialRow], evals: &[EvalRow]) -> Vec<Generalisation> {
    let learning = s.evaluation.learning_stage.as_str();
    let Some(first) = evals
        .iter()
        .find(|r| r.stage == learning && r.block.starts_with('u'))
        .or_else(|| evals.iter().find(|r| r.stage == learning && r.block == "late"))
    else {
        return Vec::new();
    };
    let n = s.env.n_targets;
    let trained = s.evaluation.trained_target;
    let mpd = |stage: &str, block: &str, k: usize| {
        mean(
            trials
                .iter()
                .filter(|t| t.stage == stage && t.block == block && t.trial_type == "normal" && t.target == k)
                .map(|t| t.mpd_cm),
        )
    };
    (0..n)
        .filter(|&k| k != trained)
        .map(|k| {
            let steps = (k as i64 - trained as i64).rem_euclid(n as i64) as usize;
            let d = 360.0 * steps.min(n - steps) as f64 / n as f64;
            Generalisation {
                target: k,
                distance_deg: d,
                mpd_change_cm: mpd(learning, &first.block, k) - mpd(&s.evaluation.baseline_stage, "late", k),
            }
        })
        .collect()
}

impl Summary {
    /// A short plain-text table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<12} {:>7} {:>8} {:>7} {:>11} {:>10} {:>9} {:>9}\n",
            "stage", "updates", "success", "early", "MPD₀ cm", "MPD₁ cm", "AI₁", "to band"
        );
        for s in &self.stages {
            out += &format!(
                "{:<12} {:>7} {:>8.2} {:>7.2} {:>11.2} {:>10.2} {:>9.2} {:>9}\n",
                s.stage,
                s.updates,
                s.final_success,
                s.early_start_fraction,
                s.mpd_trained_early_cm,
                s.mpd_trained_late_cm,
                s.adaptation_index_late,
                if s.updates_to_band.is_finite() {
                    format!("{}", s.updates_to_band)
                } else {
                    "-".into()
                }
            );
        }
        out += "(success: training rollouts, last 3 updates; early: premature starts; MPD₀/MPD₁: signed MPD to \
                the trained target in the stage's first/last evaluation block; AI₁: adaptation index of the \
                last block's channel trials; to band: updates until the MPD is back in the baseline band)\n";
        out += &format!(
            "expert baseline: {}; baseline band {:+.2} ± {:.2} cm; washed out: {}\n",
            if self.expert_baseline { "yes" } else { "NO" },
            self.baseline_band_cm[0],
            self.baseline_band_cm[1],
            if self.washed_out { "yes" } else { "no" }
        );
        out += &format!(
            "onset jump {:+.2} cm, after-effect {:+.2} cm, updates to criterion {} (learning) vs {} (relearning), \
             initial-error savings {:.2}, θ_LW {:.0}°, {:.0} s\n",
            self.onset_jump_cm,
            self.after_effect_cm,
            self.updates_to_criterion_learning,
            self.updates_to_criterion_relearning,
            self.savings,
            self.theta_lw_deg,
            self.wall_seconds
        );
        for w in &self.warnings {
            out += &format!("WARNING: {w}\n");
        }
        out
    }
}

fn nan() -> f64 {
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_with_nan_measures_reads_back() {
        // serde_json writes NaN as null; reading used to fail with "invalid type: null, expected f64".
        let s = Summary {
            scenario: "x".into(),
            stages: Vec::new(),
            expert_baseline: true,
            onset_jump_cm: -3.25,
            after_effect_cm: f64::NAN,
            error_removed_learning: f64::NAN,
            error_removed_first_block: f64::NAN,
            savings: 0.18,
            baseline_band_cm: [0.1, f64::NAN],
            washed_out: false,
            updates_to_criterion_learning: f64::NAN,
            updates_to_criterion_relearning: f64::NAN,
            savings_updates: f64::NAN,
            generalisation: vec![Generalisation {
                target: 2,
                distance_deg: 90.0,
                mpd_change_cm: f64::NAN,
            }],
            theta_lw_deg: 83.7,
            warnings: vec!["w".into()],
            wall_seconds: 1.5,
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains("\"after_effect_cm\":null"));
        let back: Summary = crate::json::from_str(&text).unwrap();
        assert!(back.after_effect_cm.is_nan() && back.baseline_band_cm[1].is_nan());
        assert!(back.generalisation[0].mpd_change_cm.is_nan());
        assert_eq!(
            (back.onset_jump_cm, back.savings, back.theta_lw_deg),
            (-3.25, 0.18, 83.7)
        );
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
