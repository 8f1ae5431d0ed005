//! What a task run writes and reads back: its learning-curve rows, each unit's result and the unit
//! folders; shared by the runner, the report and the population analysis, so that none imports another.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::analysis::UnitAnalysis;
use super::config::TaskScenario;
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
