//! The one abstraction both kinds of scenario implement: an [`Experiment`] parses and validates (its
//! scenario type's `from_toml`), takes the settings a user gives when starting it ([`Settings`]), expands
//! into units (arms × seeds, [`crate::units`]), runs them into a folder that resumes after a kill,
//! finishes (analysis, summary, figures: what `analyze_run` recomputes), and hands a sweep's collection
//! ([`crate::population`]) the measures and hidden states of a finished unit.
//!
//! ```
//! use reachlab_scenarios::builtin;
//! use reachlab_scenarios::experiment::Settings;
//! let any = builtin::resolve_any("curl_field_compare").unwrap();
//! let quick = Settings { quick: true, ..Default::default() }.apply(any, "curl_field_compare").unwrap();
//! let e = quick.experiment();
//! assert_eq!(e.kind(), "reaching");
//! // Every arm × seed, each in its folder.
//! let units = e.units(std::path::Path::new("runs/x"));
//! assert_eq!(units.len(), 4 * 2);
//! assert!(units[1].dir.ends_with("naive/seed-1"));
//! ```

use std::path::Path;

use reachlab_analysis::faer::Mat;

use crate::builtin::AnyScenario;
use crate::error::{Result, ScenarioError};
use crate::observer::Observer;
use crate::reaching::compare::ArmMeasure;
use crate::reaching::summary::Summary;
use crate::tasks::UnitResult;
pub use crate::units::{Mode, RunOptions};
use crate::units::{Unit, UnitObservers};

mod reaching;
mod tasks;

/// A scenario that runs as an experiment: reaching (phases of a force field, one run or arms × seeds)
/// or cognitive tasks (arms × seeds of networks trained on a battery).
pub trait Experiment: std::fmt::Debug + Send + Sync {
    /// `"reaching"` or `"tasks"` (as a sweep's manifest names it).
    fn kind(&self) -> &'static str;
    fn name(&self) -> &str;
    /// The scenario file it was read from, every default written out.
    fn to_toml(&self) -> String;
    /// Refuses what cannot run, naming the key (`file` names the scenario in the error).
    fn validate(&self, file: &Path) -> Result<()>;
    /// Takes what a user may change when starting it (quick, a seed, a list of seeds, threads); not yet
    /// validated (see [`Settings::apply`]).
    fn apply(&mut self, settings: &Settings, label: &str) -> Result<()>;
    /// The units it expands into in the folder `dir`, in the order they run and report: arms × seeds,
    /// each in `<dir>/<arm>/seed-<k>`, or `dir` itself for a single network.
    fn units(&self, dir: &Path) -> Vec<Unit>;
    /// Runs it into `dir`, or with `resume` continues the run there (`force`: even though its settings
    /// were edited since the last checkpoint); finished units are skipped. `jobs` units run at once
    /// where it has several; `observer` follows a lone unit, `units` makes one for each otherwise.
    fn run(
        &self,
        dir: &Path,
        how: RunOptions,
        observer: &mut dyn Observer,
        units: UnitObservers<'_>,
    ) -> Result<Outcome>;
    /// What a finished run in `dir` prints at its end (`train_agent`, `analyze_run`): a reaching run's
    /// summary table, the compared measures of a run over seeds, a task run's report.
    fn report(&self, dir: &Path, outcome: &Outcome) -> String;
    /// Recomputes what the finished run in `dir` (of this scenario) derives from its saved files: the
    /// analysis, summaries, reports and figures; an analysis that fails is an error, and leaves the
    /// run's files as they were.
    fn finish(&self, dir: &Path, observer: &mut dyn Observer) -> Result<Outcome>;
    /// The measures of the finished single-network run in `dir`, as (name, value): the same names, in
    /// the same order, for every run of a kind (NaN where a measure does not apply).
    fn measures(&self, dir: &Path) -> Result<Vec<(String, f64)>>;
    /// The network of the finished run in `dir` for comparison with other runs of the same scenario
    /// family: hidden states on conditions that are the same whatever the seed or size; `None` when the
    /// run kept none.
    fn states(&self, dir: &Path) -> Result<Option<UnitStates>>;
}

/// The hidden states of one network on fixed conditions, for SVCCA and DSA between networks.
#[derive(Debug, Clone)]
pub struct UnitStates {
    /// `[conditions · time × units]`: rows in the same order in every run of the scenario family.
    pub states: Mat<f64>,
    /// Its DSA operator (whitened Hankel DMD over the conditions' trajectories), when one could be fit.
    pub operator: Option<Mat<f64>>,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// One reaching run: its summary.
    Run(Box<Summary>),
    /// A reaching scenario over seeds (and arms): the compared measures (the findings are in
    /// `findings.md`).
    Seeds(Vec<ArmMeasure>),
    /// A task run: each unit's result (the report is in `results.md`).
    Tasks(Vec<UnitResult>),
}

/// What a user may change about a scenario when starting it (not when resuming: a folder keeps its
/// scenario).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// The reduced version (`--quick`).
    pub quick: bool,
    /// One seed instead of the scenario's (not for a scenario with several seeds).
    pub seed: Option<u64>,
    /// Run these seeds and report over them (`--seeds`).
    pub seeds: Option<Vec<u64>>,
    /// Rollout threads of a reaching run (results do not depend on them).
    pub threads: Option<usize>,
}

impl Settings {
    /// `any` with these settings, validated again; `label` names the scenario in errors.
    pub fn apply(&self, mut any: AnyScenario, label: &str) -> Result<AnyScenario> {
        if self.seed.is_some() && self.seeds.is_some() {
            return Err(invalid(label, "seed", "give one seed or a list of seeds, not both"));
        }
        let e = any.experiment_mut();
        e.apply(self, label)?;
        e.validate(Path::new(label))?;
        Ok(any)
    }
}

fn invalid(label: &str, key: &str, reason: &str) -> ScenarioError {
    ScenarioError::Invalid {
        file: label.into(),
        key: key.into(),
        reason: reason.into(),
    }
}

impl AnyScenario {
    /// The scenario as an experiment, whichever its kind.
    pub fn experiment(&self) -> &dyn Experiment {
        match self {
            AnyScenario::Reaching(s) => s.as_ref(),
            AnyScenario::Tasks(s) => s.as_ref(),
        }
    }

    pub fn experiment_mut(&mut self) -> &mut dyn Experiment {
        match self {
            AnyScenario::Reaching(s) => s.as_mut(),
            AnyScenario::Tasks(s) => s.as_mut(),
        }
    }
}

/// A DSA operator from per-condition trajectories (`[time × units]` each): whitened Hankel DMD with
/// DSA's defaults (10 delays, rank 10); `None` when the trajectories are too short to fit one.
pub(crate) fn operator(trajectories: &[reachlab_analysis::faer::MatRef<'_, f64>]) -> Option<Mat<f64>> {
    let cfg = reachlab_analysis::DsaConfig::default();
    reachlab_analysis::dmd_operator(trajectories, cfg.n_delays, cfg.rank, 1e-6).ok()
}
