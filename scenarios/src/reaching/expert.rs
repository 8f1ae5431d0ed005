//! The expert-baseline criterion: what a block of deterministic evaluation trials must show before the
//! curl-field phases start (issue 13): reach and hold on every target, straight paths, single-peaked
//! bell-shaped speed profiles, a stable hold and plausible reach times.

use serde::{Deserialize, Serialize};

use crate::reaching::metrics::TrialMetrics;

/// Whether a trial meets the expert-baseline criterion's per-trial parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExpertCriterion {
    /// Success (reach and hold) in at least this fraction of each target's normal trials.
    pub success_per_target: f64,
    /// Path length / straight distance up to the end of the hold, at most (in every successful trial).
    pub max_curvature: f64,
    /// A second speed peak disqualifies a trial; at least this fraction of successful trials must be
    /// single-peaked with a minimum-jerk correlation ≥ `min_minjerk_corr`.
    pub bell_fraction: f64,
    pub min_minjerk_corr: f64,
    /// Drift of the hand during the hold below this (m), in every successful trial.
    pub max_hold_drift: f64,
    /// Reach time (go cue to target entry, s) within this range in every successful trial.
    pub reach_time_range: [f64; 2],
}

impl Default for ExpertCriterion {
    fn default() -> Self {
        ExpertCriterion {
            success_per_target: 0.95,
            max_curvature: 1.05,
            bell_fraction: 0.9,
            min_minjerk_corr: 0.9,
            max_hold_drift: 0.005,
            // Monkeys reach 10 cm in ~0.3-0.5 s of movement after a ~0.25 s reaction time; agents have no
            // sensory or motor delay, so we accept 0.15-0.8 s from the go cue to the target window.
            reach_time_range: [0.15, 0.8],
        }
    }
}

/// How an evaluation block measures up to an [`ExpertCriterion`]: each part's value and verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertCheck {
    /// Lowest per-target success rate.
    pub min_target_success: f64,
    /// Highest curvature among successful trials.
    pub max_curvature: f64,
    /// Fraction of successful trials single-peaked and minimum-jerk-like.
    pub bell_fraction: f64,
    /// Largest hold drift (m).
    pub max_hold_drift: f64,
    /// Shortest and longest reach time (s) among successful trials.
    pub reach_time: [f64; 2],
    /// Every part met.
    pub met: bool,
    /// The parts not met, in words.
    pub misses: Vec<String>,
}

impl ExpertCriterion {
    /// Refuses a threshold that no trial can meet or that every trial meets by construction: NaN,
    /// infinite, below 0, a fraction above 1, or a reach-time range that is empty. Errors are
    /// `(field, reason)`.
    pub fn validate(&self) -> std::result::Result<(), (&'static str, String)> {
        let fraction = |key: &'static str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err((key, format!("{v} is not a fraction in [0, 1]")))
            }
        };
        fraction("success_per_target", self.success_per_target)?;
        fraction("bell_fraction", self.bell_fraction)?;
        // A correlation: -1 to 1.
        if !(-1.0..=1.0).contains(&self.min_minjerk_corr) {
            return Err((
                "min_minjerk_corr",
                format!("{} is not in [-1, 1]", self.min_minjerk_corr),
            ));
        }
        for (key, v) in [
            ("max_curvature", self.max_curvature),
            ("max_hold_drift", self.max_hold_drift),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err((key, format!("{v} must be finite and ≥ 0")));
            }
        }
        let [lo, hi] = self.reach_time_range;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
            return Err((
                "reach_time_range",
                format!("[{lo}, {hi}] must be finite with 0 ≤ low ≤ high"),
            ));
        }
        Ok(())
    }

    /// Checks the normal trials `(target, metrics)` of one evaluation block over `n_targets` targets.
    pub fn check(&self, trials: &[(usize, TrialMetrics)], n_targets: usize) -> ExpertCheck {
        let mut min_target_success = f64::INFINITY;
        for k in 0..n_targets {
            let of_k: Vec<_> = trials.iter().filter(|(t, _)| *t == k).collect();
            let ok = of_k.iter().filter(|(_, m)| m.success).count();
            let rate = if of_k.is_empty() {
                0.0
            } else {
                ok as f64 / of_k.len() as f64
            };
            min_target_success = min_target_success.min(rate);
        }
        let succ: Vec<&TrialMetrics> = trials.iter().map(|(_, m)| m).filter(|m| m.success).collect();
        let fold = |f: &dyn Fn(&TrialMetrics) -> f64, init: f64, pick: fn(f64, f64) -> f64| {
            succ.iter().map(|m| f(m)).fold(init, pick)
        };
        let max_curvature = fold(&|m| m.curvature, f64::NAN, f64::max);
        let max_hold_drift = fold(&|m| m.hold_drift, f64::NAN, f64::max);
        let reach_time = [
            fold(&|m| m.reach_time, f64::NAN, f64::min),
            fold(&|m| m.reach_time, f64::NAN, f64::max),
        ];
        let bell = succ
            .iter()
            .filter(|m| m.speed_peaks == 1 && m.minjerk_corr >= self.min_minjerk_corr)
            .count();
        let bell_fraction = if succ.is_empty() {
            0.0
        } else {
            bell as f64 / succ.len() as f64
        };
        let mut misses = Vec::new();
        let ok = min_target_success >= self.success_per_target; // NaN fails
        if !ok {
            misses.push(format!(
                "success {min_target_success:.2} < {} on some target",
                self.success_per_target
            ));
        }
        let ok = max_curvature <= self.max_curvature;
        if !ok {
            misses.push(format!("curvature {max_curvature:.3} > {}", self.max_curvature));
        }
        let ok = bell_fraction >= self.bell_fraction;
        if !ok {
            misses.push(format!("bell-shaped {bell_fraction:.2} < {}", self.bell_fraction));
        }
        let ok = max_hold_drift < self.max_hold_drift;
        if !ok {
            misses.push(format!(
                "hold drift {:.2} cm ≥ {} cm",
                100.0 * max_hold_drift,
                100.0 * self.max_hold_drift
            ));
        }
        let ok = reach_time[0] >= self.reach_time_range[0] && reach_time[1] <= self.reach_time_range[1];
        if !ok {
            misses.push(format!(
                "reach time {:.2}–{:.2} s outside {:.2}–{:.2} s",
                reach_time[0], reach_time[1], self.reach_time_range[0], self.reach_time_range[1]
            ));
        }
        ExpertCheck {
            min_target_success,
            max_curvature,
            bell_fraction,
            max_hold_drift,
            reach_time,
            met: misses.is_empty(),
            misses,
        }
    }
}
