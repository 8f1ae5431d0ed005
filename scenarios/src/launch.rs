//! The one place that picks the kind of run: a scenario of either kind, with the settings a user gives on
//! the command line or from Python (a quick run, a seed, a list of seeds, threads), run or resumed into a
//! folder. A reaching scenario runs once, or over seeds and arms ([`crate::compare`]); a task scenario
//! runs its arms × seeds ([`crate::tasks`]). `train_agent` and `reachlab.train` both call [`run`].

use std::path::Path;

use crate::builtin::AnyScenario;
use crate::compare::{self, ArmMeasure, CompareSpec};
use crate::error::{Result, ScenarioError};
use crate::experiment::UnitObservers;
use crate::run::{Observer, Run};
use crate::summary::Summary;
use crate::tasks::{self, TaskObserver, UnitResult};

/// An observer of a run of either kind.
pub trait RunObserver: Observer + TaskObserver {}
impl<T: Observer + TaskObserver> RunObserver for T {}

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
    pub fn apply(&self, any: AnyScenario, label: &str) -> Result<AnyScenario> {
        let file = Path::new(label);
        if self.seed.is_some() && self.seeds.is_some() {
            return Err(invalid(label, "seed", "give one seed or a list of seeds, not both"));
        }
        match any {
            AnyScenario::Tasks(s) => {
                let mut s = *s;
                if self.quick {
                    s = s.quick();
                }
                if let Some(seed) = self.seed {
                    s.seed = seed;
                    s.seeds.clear();
                }
                if let Some(seeds) = &self.seeds {
                    s.seeds = seeds.clone();
                }
                s.validate(file)?;
                Ok(AnyScenario::Tasks(Box::new(s)))
            }
            AnyScenario::Reaching(s) => {
                let mut s = *s;
                if self.quick {
                    s = s.quick();
                }
                if let Some(seed) = self.seed {
                    if s.compare.is_some() {
                        return Err(invalid(
                            label,
                            "seed",
                            "a scenario with [compare] seeds takes its seeds from there; give a list of seeds instead (`--seeds`)",
                        ));
                    }
                    s.seed = seed;
                }
                if let Some(n) = self.threads {
                    s.train.threads = n;
                }
                if let Some(seeds) = &self.seeds {
                    match &mut s.compare {
                        Some(c) => c.seeds = seeds.clone(),
                        None => {
                            s.compare = Some(CompareSpec {
                                seeds: seeds.clone(),
                                arms: Vec::new(),
                            })
                        }
                    }
                }
                s.validate(file)?;
                Ok(AnyScenario::Reaching(Box::new(s)))
            }
        }
    }
}

fn invalid(label: &str, key: &str, reason: &str) -> ScenarioError {
    ScenarioError::Invalid {
        file: label.into(),
        key: key.into(),
        reason: reason.into(),
    }
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

/// Runs `any` into `dir`, or with `resume` continues the run there (`force`: even though its settings
/// were edited since the last checkpoint); finished units are skipped. `jobs` units run at once where
/// the scenario has several; `observer` follows a lone unit, `units` makes one for each otherwise.
pub fn run(
    any: &AnyScenario,
    dir: &Path,
    resume: bool,
    force: bool,
    jobs: usize,
    observer: &mut dyn RunObserver,
    units: UnitObservers<'_>,
) -> Result<Outcome> {
    match any {
        AnyScenario::Tasks(s) => Ok(Outcome::Tasks(tasks::run_tasks_with(
            s, dir, observer, force, jobs, units,
        )?)),
        AnyScenario::Reaching(s) if s.compare.is_some() => {
            Ok(Outcome::Seeds(compare::run_compare(s, dir, jobs, observer, units)?))
        }
        AnyScenario::Reaching(s) => {
            let run = if resume {
                Run::resume_with(dir, observer, force)?
            } else {
                Run::create((**s).clone(), dir, observer)?
            };
            Ok(Outcome::Run(Box::new(run.run()?)))
        }
    }
}

/// Recomputes what a finished run derives from its saved files (what `analyze_run --run` does): a
/// reaching run's analysis, figures and summary; every finished unit of a run over seeds, then its
/// findings; a task run's fixed points from each unit's checkpoint, then its report. An analysis that
/// fails (recordings missing, say) is an error here, and leaves the run's files as they were.
pub fn finish(dir: &Path, observer: &mut dyn RunObserver) -> Result<Outcome> {
    match AnyScenario::load(&dir.join("scenario.toml"))? {
        AnyScenario::Tasks(_) => Ok(Outcome::Tasks(tasks::run::reanalyse(dir)?)),
        AnyScenario::Reaching(s) => match &s.compare {
            None => Ok(Outcome::Run(Box::new(crate::run::finish(&s, dir, observer, true)?))),
            Some(spec) => {
                for unit in compare::units(spec, dir) {
                    if crate::run::Progress::finished_in(&unit.dir) {
                        let u = crate::config::Scenario::load(&unit.dir.join("scenario.toml"))?;
                        crate::run::finish(&u, &unit.dir, observer, true)?;
                    }
                }
                // Finished units are skipped: this collects the findings again.
                Ok(Outcome::Seeds(compare::run_compare(&s, dir, 1, observer, &|_| {
                    Box::new(crate::run::Silent)
                })?))
            }
        },
    }
}
