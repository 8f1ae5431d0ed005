//! `summary.json` and the table printed at the end of a run, computed from the run's CSV files.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::Scenario;
use crate::error::{Result, ScenarioError};
use crate::run::{CurveRow, TrialRow};

/// Behaviour of one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    pub stage: String,
    pub updates: usize,
    /// Training success rate, mean of the stage's last 3 updates.
    pub final_success: f64,
    /// Fraction of training episodes that started before the go cue, over the stage.
    pub early_start_fraction: f64,
    /// Mean signed MPD to the trained target (cm) in the evaluation block at the stage's start / end
    /// (deterministic policy, normal trials).
    pub mpd_trained_early_cm: f64,
    pub mpd_trained_late_cm: f64,
    /// Mean |MPD| (cm) over all targets in the late evaluation block.
    pub mpd_all_late_cm: f64,
    /// Mean peak lateral force (N) into the channel on the trained target, late block.
    pub channel_force_late: f64,
    /// Evaluation success rate in the late block (normal trials).
    pub eval_success_late: f64,
    /// Updates until the rolling mean (3) of |MPD| to the trained target fell to half its first value
    /// (NaN if never).
    pub updates_to_half_mpd: f64,
    /// Mean |MPD| to the trained target (cm) over the stage's first 10 updates (training rollouts).
    pub mpd_trained_first10_cm: f64,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub stages: Vec<StageSummary>,
    /// MPD jump at field onset: learning early − baseline late (cm).
    pub onset_jump_cm: f64,
    /// After-effect: washout early MPD (cm), opposite in sign to the onset jump when present.
    pub after_effect_cm: f64,
    /// 1 − (relearning's mean |MPD| over its first 10 updates) / (learning's): > 0 means savings.
    pub savings: f64,
    /// θ_LW (degrees) between the learning and washout shifts of the preparatory states (analysis.json).
    pub theta_lw_deg: f64,
    pub wall_seconds: f64,
}

fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let mut r = csv::Reader::from_path(path).map_err(|e| ScenarioError::output(path, e))?;
    r.deserialize()
        .map(|x| x.map_err(|e| ScenarioError::output(path, e)))
        .collect()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Computes the summary of the run in `dir` and writes `summary.json`.
pub fn summarize(s: &Scenario, dir: &Path) -> Result<Summary> {
    let curve: Vec<CurveRow> = read(&dir.join("learning_curve.csv"))?;
    let trials: Vec<TrialRow> = read(&dir.join("trials.csv"))?;
    let trained = s.evaluation.trained_target;
    let mut stages = Vec::new();
    for st in std::iter::once(&s.pretraining).chain(&s.phases) {
        let rows: Vec<&CurveRow> = curve.iter().filter(|r| r.stage == st.name).collect();
        let tail = &rows[rows.len().saturating_sub(3)..];
        let block = |b: &str, kind: &str, tgt: Option<usize>| -> Vec<&TrialRow> {
            trials
                .iter()
                .filter(|t| t.stage == st.name && t.block == b && t.trial_type == kind)
                .filter(|t| tgt.is_none_or(|k| t.target == k))
                .collect()
        };
        let abs_tr: Vec<f64> = rows.iter().map(|r| r.mpd_trained.abs()).collect();
        let rolling: Vec<f64> = (0..abs_tr.len())
            .map(|i| mean(abs_tr[i.saturating_sub(2)..=i].iter().copied()))
            .collect();
        let first = rolling.first().copied().unwrap_or(f64::NAN);
        let half = rolling
            .iter()
            .position(|&v| v <= 0.5 * first)
            .map_or(f64::NAN, |i| (i + 1) as f64);
        stages.push(StageSummary {
            stage: st.name.clone(),
            updates: rows.len(),
            final_success: mean(tail.iter().map(|r| r.success_rate)),
            early_start_fraction: mean(rows.iter().map(|r| r.early_start_fraction)),
            mpd_trained_early_cm: 100.0 * mean(block("early", "normal", Some(trained)).iter().map(|t| t.mpd)),
            mpd_trained_late_cm: 100.0 * mean(block("late", "normal", Some(trained)).iter().map(|t| t.mpd)),
            mpd_all_late_cm: 100.0 * mean(block("late", "normal", None).iter().map(|t| t.mpd.abs())),
            channel_force_late: mean(block("late", "channel", Some(trained)).iter().map(|t| t.peak_force)),
            eval_success_late: mean(
                block("late", "normal", None)
                    .iter()
                    .map(|t| f64::from(u8::from(t.success))),
            ),
            updates_to_half_mpd: half,
            mpd_trained_first10_cm: 100.0 * mean(abs_tr.iter().take(10).copied()),
        });
    }
    let get = |name: &str| stages.iter().find(|x| x.stage == name);
    let onset_jump_cm = match (get("learning"), get("baseline")) {
        (Some(l), Some(b)) => l.mpd_trained_early_cm - b.mpd_trained_late_cm,
        _ => f64::NAN,
    };
    let after_effect_cm = get("washout").map_or(f64::NAN, |w| w.mpd_trained_early_cm);
    let savings = match (get("learning"), get("relearning")) {
        (Some(l), Some(r)) => 1.0 - r.mpd_trained_first10_cm / l.mpd_trained_first10_cm,
        _ => f64::NAN,
    };
    let theta_lw_deg = std::fs::read_to_string(dir.join("analysis.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["shifts"]["theta_lw_deg"].as_f64())
        .unwrap_or(f64::NAN);
    let summary = Summary {
        theta_lw_deg,
        scenario: s.name.clone(),
        stages,
        onset_jump_cm,
        after_effect_cm,
        savings,
        wall_seconds: curve.last().map_or(0.0, |r| r.wall_seconds),
    };
    let path = dir.join("summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&summary).expect("summary serialises"),
    )
    .map_err(|e| ScenarioError::io(&path, e))?;
    Ok(summary)
}

impl Summary {
    /// A short plain-text table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<12} {:>7} {:>8} {:>7} {:>11} {:>10} {:>9} {:>9}\n",
            "stage", "updates", "success", "early", "MPD₀ cm", "MPD₁ cm", "force N", "½-MPD upd"
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
                s.channel_force_late,
                if s.updates_to_half_mpd.is_finite() {
                    format!("{}", s.updates_to_half_mpd)
                } else {
                    "-".into()
                }
            );
        }
        out += &format!(
            "onset jump {:+.2} cm, after-effect {:+.2} cm, savings {:.2}, θ_LW {:.0}°, {:.0} s\n",
            self.onset_jump_cm, self.after_effect_cm, self.savings, self.theta_lw_deg, self.wall_seconds
        );
        out
    }
}
