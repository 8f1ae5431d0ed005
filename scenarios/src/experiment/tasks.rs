//! A cognitive-task scenario as an [`Experiment`]: arms × seeds of networks trained on a battery
//! ([`crate::tasks`]).

use std::path::Path;

use reachlab_analysis::faer::Mat;

use super::{Experiment, Outcome, RunOptions, Settings, UnitStates};
use crate::error::{Result, ScenarioError};
use crate::observer::Observer;
use crate::tasks::{self, TaskScenario, UnitResult};
use crate::units::{Unit, UnitObservers};

/// Trials whose trajectories fit a unit's DSA operator (of the first task's evaluation trials).
const OPERATOR_TRIALS: usize = 32;

impl Experiment for TaskScenario {
    fn kind(&self) -> &'static str {
        "tasks"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn to_toml(&self) -> String {
        TaskScenario::to_toml(self)
    }

    fn validate(&self, file: &Path) -> Result<()> {
        TaskScenario::validate(self, file)
    }

    fn apply(&mut self, settings: &Settings, _label: &str) -> Result<()> {
        if settings.quick {
            *self = self.clone().quick();
        }
        if let Some(seed) = settings.seed {
            self.seed = seed;
            self.seeds.clear();
        }
        if let Some(seeds) = &settings.seeds {
            self.seeds = seeds.clone();
        }
        Ok(())
    }

    fn units(&self, dir: &Path) -> Vec<Unit> {
        tasks::results::units(self, dir)
    }

    fn run(
        &self,
        dir: &Path,
        how: RunOptions,
        observer: &mut dyn Observer,
        units: UnitObservers<'_>,
    ) -> Result<Outcome> {
        // Units already finished in the folder are skipped, a killed one continues.
        Ok(Outcome::Tasks(tasks::run_tasks_with(self, dir, observer, how, units)?))
    }

    fn finish(&self, dir: &Path, _observer: &mut dyn Observer) -> Result<Outcome> {
        Ok(Outcome::Tasks(tasks::run::reanalyse(dir)?))
    }

    fn report(&self, dir: &Path, outcome: &Outcome) -> String {
        match outcome {
            Outcome::Tasks(results) => tasks::report::markdown(
                self,
                &crate::collection::Collection::of(&tasks::results::units(self, dir), results.clone()),
            ),
            _ => String::new(),
        }
    }

    fn measures(&self, dir: &Path) -> Result<Vec<(String, f64)>> {
        let path = dir.join("result.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ScenarioError::io(&path, e))?;
        let r: UnitResult = crate::json::from_str(&text).map_err(|e| ScenarioError::output(&path, e))?;
        // Every task measure, as declared once in `tasks::results::TASKS`.
        Ok(r.named())
    }

    /// The hidden states (`h` only) on the first task's evaluation trials, time-major (`[T·B × H]`),
    /// from the last checkpoint; the operator from the first 32 trials.
    fn states(&self, dir: &Path) -> Result<Option<UnitStates>> {
        let latest = dir.join("checkpoints").join("latest");
        if !latest.exists() {
            return Ok(None);
        }
        let set = self.tasks.task_set()?;
        let (policy, _) = reachlab_agents::load_checkpoint(&latest)?;
        let b = tasks::config::eval_batch(&set, 0, self.training.eval_trials_per_task)?;
        let (st, sw) = tasks::analysis::states(&policy, &b)?;
        let (h, trials) = (policy.hidden(), b.batch);
        let states = Mat::from_fn(st.len() / sw, h, |r, j| f64::from(st[r * sw + j]));
        let per: Vec<Mat<f64>> = (0..trials.min(OPERATOR_TRIALS))
            .map(|i| Mat::from_fn(b.steps, h, |t, j| states[(t * trials + i, j)]))
            .collect();
        let refs: Vec<_> = per.iter().map(|m| m.as_ref()).collect();
        let operator = super::operator(&refs);
        Ok(Some(UnitStates { states, operator }))
    }
}
