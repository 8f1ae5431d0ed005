//! What a task run writes and reads back: its learning-curve rows, each unit's result and the unit
//! folders; shared by the runner, the report and the population analysis, so that none imports another.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::analysis::UnitAnalysis;
use super::config::TaskScenario;
use crate::measure::Measure;
pub use crate::rows::TaskCurveRow;
use crate::units::Unit;

/// What a finished unit reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitResult {
    pub arm: String,
    pub seed: u64,
    pub updates: usize,
    pub steps_to_criterion: Option<usize>,
    pub trials_to_criterion: Option<u64>,
    pub wall_seconds: f64,
    pub mean_perf: f64,
    pub min_perf: f64,
    /// (task, perf) at the last evaluation.
    pub per_task: Vec<(String, f64)>,
    pub analysis: UnitAnalysis,
}

/// The scalar measures of a task unit, declared once (see [`crate::measure`]): a
/// sweep's collection takes its columns from here. NaN where the unit has no value (no criterion
/// reached, no fixed-point search).
pub const TASKS: &[Measure<UnitResult>] = &[
    Measure::<UnitResult>::new("mean_perf", "", |r| r.mean_perf),
    Measure::<UnitResult>::new("min_perf", "", |r| r.min_perf),
    Measure::<UnitResult>::new("steps_to_criterion", "", |r| count(r.steps_to_criterion)),
    Measure::<UnitResult>::new("wall_seconds", "s", |r| r.wall_seconds),
    Measure::<UnitResult>::new("stable_fixed_points", "", |r| count(fixed(r).map(|f| f.stable))),
    Measure::<UnitResult>::new("saddles", "", |r| count(fixed(r).map(|f| f.saddles.iter().sum()))),
    Measure::<UnitResult>::new("slow_points", "", |r| count(fixed(r).map(|f| f.slow))),
    Measure::<UnitResult>::new("distinct_readout_signs", "", |r| {
        count(fixed(r).map(|f| f.distinct_readout_signs))
    }),
    // 1 when every stable point holds its own memory (one per readout sign pattern).
    Measure::<UnitResult>::new("one_stable_point_per_memory", "", |r| {
        fixed(r).map_or(f64::NAN, |f| {
            f64::from(u8::from(f.stable > 0 && f.stable == f.distinct_readout_signs))
        })
    }),
];

fn fixed(r: &UnitResult) -> Option<&super::analysis::FixedPointSummary> {
    r.analysis.fixed_points.as_ref()
}

fn count(v: Option<usize>) -> f64 {
    v.map_or(f64::NAN, |x| x as f64)
}

impl UnitResult {
    /// Every [`TASKS`] measure of this unit, by name.
    pub fn named(&self) -> Vec<(String, f64)> {
        TASKS.iter().map(|m| (m.name.to_string(), (m.read)(self))).collect()
    }
}

/// The folder of a unit: the run folder itself for a single network, `<arm>/seed-<k>` otherwise (as a
/// reaching comparison's, [`Unit::new`]). Runs written before that layout (`units/<arm>/seed<k>`) keep
/// theirs, so that they resume and report as before.
pub fn unit_dir(s: &TaskScenario, dir: &Path, arm: &str, seed: u64) -> PathBuf {
    if !s.is_comparison() {
        return dir.to_owned();
    }
    let legacy = dir.join("units").join(arm).join(format!("seed{seed}"));
    if legacy.exists() {
        legacy
    } else {
        Unit::new(dir, arm, seed).dir
    }
}

/// Every unit of a task run in `dir`: arms × seeds, in the order they run and report.
pub fn units(s: &TaskScenario, dir: &Path) -> Vec<Unit> {
    s.arm_list()
        .iter()
        .flat_map(|arm| {
            s.seed_list().into_iter().map(|seed| Unit {
                arm: arm.name.clone(),
                seed,
                dir: unit_dir(s, dir, &arm.name, seed),
            })
        })
        .collect()
}
