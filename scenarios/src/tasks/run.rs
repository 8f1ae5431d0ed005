//! Running a task scenario: supervised BPTT on batches of the battery, a fixed evaluation set scored
//! per task every `eval_every` steps (the long-format `learning_curve.csv`), checkpoints that resume
//! exactly, and the analysis at the end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::commit::{commit, committed, read_json, write_json};
use reachlab_envs::cognitive::TaskSet;
use serde::{Deserialize, Serialize};

use super::analysis::analyse_unit;
pub use super::config::eval_batch;
use super::config::{Arm, TaskScenario};
use super::method::TaskTrainer;
pub use super::results::{unit_dir, TaskCurveRow, UnitResult};
use crate::collection::Collection;
use crate::error::{Result, ScenarioError};
use crate::observer::{Observer, Silent};
use crate::output::CsvLog;
use crate::units::{run_units, RunOptions, Unit, UnitObservers};

/// Where a unit (one arm, one seed) stands; written with every checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitProgress {
    pub update: usize,
    pub curve_rows: usize,
    pub wall_seconds: f64,
    /// First evaluated step at which every task reached the criterion.
    pub steps_to_criterion: Option<usize>,
    pub evals_since_criterion: usize,
    pub last_perf: Vec<f64>,
    pub finished: bool,
}

struct UnitRun<'a> {
    /// The arm's scenario (its overrides applied).
    s: &'a TaskScenario,
    /// The run's scenario as its folder holds it: what a checkpoint records and a resume compares.
    settings: String,
    arm: Arm,
    seed: u64,
    dir: PathBuf,
    /// The run's folder (the unit's, or the comparison's above it): what `--resume` takes.
    root: PathBuf,
    label: String,
    set: TaskSet,
    trainer: TaskTrainer,
    curve: CsvLog<TaskCurveRow>,
    progress: UnitProgress,
    started: Instant,
    wall_before: f64,
}

impl UnitRun<'_> {
    fn wall(&self) -> f64 {
        self.wall_before + self.started.elapsed().as_secs_f64()
    }

    /// Flushes the curve and commits weights, optimiser and counters together (see [`crate::commit`]).
    fn checkpoint(&mut self) -> Result<()> {
        self.curve.flush()?;
        self.progress.curve_rows = self.curve.rows();
        self.progress.wall_seconds = self.wall();
        let (trainer, progress, settings) = (&self.trainer, &self.progress, &self.settings);
        commit(&self.dir.join("checkpoints"), |dir| {
            trainer.save(dir, progress.update)?;
            // The settings this state was reached with: a resume refuses a scenario.toml edited since.
            std::fs::write(dir.join("scenario.toml"), settings)
                .map_err(|e| ScenarioError::io(&dir.join("scenario.toml"), e))?;
            write_json(&dir.join("progress.json"), progress)
        })?;
        // A copy where users look; the resume reads the committed one.
        write_json(&self.dir.join("progress.json"), &self.progress)
    }

    fn evaluate(&mut self, loss: f64, observer: &mut dyn Observer) -> Result<()> {
        let (u, wall) = (self.progress.update, self.wall());
        let trials = u as u64 * self.s.training.batch_size as u64;
        let mut rows = Vec::new();
        let perfs = self.trainer.performances(self.s, &self.set)?;
        for (k, &perf) in perfs.iter().enumerate() {
            rows.push(TaskCurveRow {
                update: u,
                trials,
                wall_s: wall,
                loss,
                task: self.set.tasks()[k].name(),
                perf,
            });
        }
        let mean = perfs.iter().sum::<f64>() / perfs.len() as f64;
        let min = perfs.iter().copied().fold(f64::INFINITY, f64::min);
        for (task, perf) in [("mean", mean), ("min", min)] {
            rows.push(TaskCurveRow {
                update: u,
                trials,
                wall_s: wall,
                loss,
                task: task.into(),
                perf,
            });
        }
        for r in &rows {
            self.curve.write(r)?;
        }
        if self.progress.steps_to_criterion.is_some() {
            self.progress.evals_since_criterion += 1;
        } else if min >= self.s.training.criterion {
            self.progress.steps_to_criterion = Some(u);
        }
        self.progress.last_perf = perfs;
        observer.evaluated(&self.label, &rows, self.s.training.updates);
        self.checkpoint()
    }

    fn done_early(&self) -> bool {
        self.s.training.stop_at_criterion
            && self.progress.steps_to_criterion.is_some()
            && self.progress.evals_since_criterion >= self.s.training.extra_evals_after_criterion
    }

    fn train(&mut self, observer: &mut dyn Observer) -> Result<()> {
        let t = self.s.training.clone();
        if self.progress.update == 0 && self.progress.curve_rows == 0 {
            self.evaluate(f64::NAN, observer)?;
        }
        let (mut loss_sum, mut n) = (0.0, 0usize);
        while self.progress.update < t.updates && !self.done_early() {
            loss_sum += self.trainer.step(self.s, &self.set, self.seed, self.progress.update)?;
            n += 1;
            self.progress.update += 1;
            if let Some(param) = self.trainer.policy().params().first_non_finite()? {
                return Err(ScenarioError::Diverged {
                    dir: self.dir.clone(),
                    update: self.progress.update,
                    param: param.to_string(),
                });
            }
            if self.progress.update.is_multiple_of(t.eval_every) || self.progress.update == t.updates {
                self.evaluate(loss_sum / n.max(1) as f64, observer)?;
                (loss_sum, n) = (0.0, 0);
                if observer.interrupt() {
                    return Err(ScenarioError::Interrupted { dir: self.root.clone() });
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<UnitResult> {
        let analysis = analyse_unit(self.s, &self.set, self.trainer.policy(), &self.dir)?;
        self.progress.finished = true;
        self.checkpoint()?;
        let names: Vec<String> = self.set.tasks().iter().map(|t| t.name()).collect();
        let perfs = &self.progress.last_perf;
        let result = UnitResult {
            arm: self.arm.name.clone(),
            seed: self.seed,
            updates: self.progress.update,
            steps_to_criterion: self.progress.steps_to_criterion,
            trials_to_criterion: self
                .progress
                .steps_to_criterion
                .map(|u| u as u64 * self.s.training.batch_size as u64),
            wall_seconds: self.progress.wall_seconds,
            mean_perf: perfs.iter().sum::<f64>() / perfs.len().max(1) as f64,
            min_perf: perfs.iter().copied().fold(f64::INFINITY, f64::min),
            per_task: names.into_iter().zip(perfs.iter().copied()).collect(),
            analysis,
        };
        write_json(&self.dir.join("result.json"), &result)?;
        Ok(result)
    }
}

/// The scenario the units of `arm` run (its core and overrides applied to `s`).
fn arm_scenario(s: &TaskScenario, arm: &Arm) -> Result<TaskScenario> {
    arm.scenario(s).map_err(|(key, reason)| ScenarioError::Invalid {
        file: std::path::PathBuf::from("scenario.toml"),
        key: format!("arm `{}`: {key}", arm.name),
        reason,
    })
}

/// How a unit runs beside the others.
#[derive(Debug, Clone, Copy)]
struct UnitSettings {
    /// Continue a unit checkpointed under other settings.
    force: bool,
    /// Rollout threads of a policy-gradient unit (0: every core; a share of them when units run at once).
    threads: usize,
}

/// Runs (or resumes) one arm × seed in `dir`; returns its result (read back if it had finished).
fn run_unit(
    s: &TaskScenario,
    arm: &Arm,
    seed: u64,
    dir: &Path,
    root: &Path,
    observer: &mut dyn Observer,
    UnitSettings { force, threads }: UnitSettings,
) -> Result<UnitResult> {
    if !force {
        let resolve = |t: &str| {
            TaskScenario::from_toml(t, Path::new("scenario.toml"))
                .ok()
                .map(|s| s.to_toml())
        };
        crate::commit::refuse_edits(dir, &committed(&dir.join("checkpoints")), &s.to_toml(), resolve)?;
    }
    let result_path = dir.join("result.json");
    if result_path.exists() {
        return read_json(&result_path);
    }
    let settings = s.to_toml();
    let own = arm_scenario(s, arm)?;
    let set = own.tasks.task_set()?;
    let mut trainer = TaskTrainer::new(&own, seed, &set, threads)?;
    let ppath = dir.join("progress.json");
    let label = if s.is_comparison() {
        Unit::new(root, &arm.name, seed).label()
    } else {
        s.name.clone()
    };
    let (curve, progress, wall_before) = match std::fs::read_to_string(&ppath) {
        Ok(text) => {
            let bad = |reason: String| ScenarioError::Resume {
                dir: dir.to_owned(),
                reason,
            };
            let ck = committed(&dir.join("checkpoints"));
            // The committed counters; runs from before atomic commits kept them beside the checkpoint.
            let progress: UnitProgress = match read_json(&ck.join("progress.json")) {
                Ok(p) => p,
                Err(_) => serde_json::from_str(&text).map_err(|e| bad(format!("progress.json: {e}")))?,
            };
            trainer.restore(&ck, progress.update).map_err(bad)?;
            let curve = CsvLog::reopen(&dir.join("learning_curve.csv"), progress.curve_rows)?;
            let w = progress.wall_seconds;
            (curve, progress, w)
        }
        Err(_) => {
            std::fs::create_dir_all(dir.join("checkpoints")).map_err(|e| ScenarioError::io(dir, e))?;
            (
                CsvLog::create(&dir.join("learning_curve.csv"))?,
                UnitProgress::default(),
                0.0,
            )
        }
    };
    let mut unit = UnitRun {
        s: &own,
        settings,
        arm: arm.clone(),
        seed,
        dir: dir.to_owned(),
        root: root.to_owned(),
        label,
        set,
        trainer,
        curve,
        progress,
        started: Instant::now(),
        wall_before,
    };
    unit.train(observer)?;
    unit.finish()
}

/// Recomputes the analysis of every finished unit of a task run from its last checkpoint (updating each
/// `result.json`), then the report and figures; returns the results.
pub fn reanalyse(dir: &Path) -> Result<Vec<UnitResult>> {
    let spath = dir.join("scenario.toml");
    let text = std::fs::read_to_string(&spath).map_err(|e| ScenarioError::io(&spath, e))?;
    let s = TaskScenario::from_toml(&text, &spath)?;
    let set = s.tasks.task_set()?;
    let arms = s.arm_list();
    let collection = Collection::gather(&super::results::units(&s, dir), |u| {
        let rpath = u.dir.join("result.json");
        let text = std::fs::read_to_string(&rpath).map_err(|e| ScenarioError::Resume {
            dir: u.dir.clone(),
            reason: format!("no result.json ({e}): the unit has not finished; `train_agent --resume` it first"),
        })?;
        let mut r: UnitResult = crate::json::from_str(&text).map_err(|e| ScenarioError::output(&rpath, e))?;
        let arm = arms.iter().find(|a| a.name == u.arm).expect("a unit of an arm");
        let (policy, _) = reachlab_agents::load_checkpoint(&u.dir.join("checkpoints").join("latest"))?;
        r.analysis = analyse_unit(&arm_scenario(&s, arm)?, &set, &policy, &u.dir)?;
        write_json(&rpath, &r)?;
        Ok(r)
    })?;
    super::report::write_report(&s, dir, &collection)?;
    Ok(collection.into_records())
}

/// Runs every arm × seed of `s` into `dir`, a new folder (or an empty one), then writes `results.csv`,
/// `results.md` and the figures.
pub fn run_tasks(s: &TaskScenario, dir: &Path, observer: &mut dyn Observer) -> Result<Vec<UnitResult>> {
    run_tasks_with(s, dir, observer, RunOptions::default(), &|_| Box::new(Silent))
}

/// Continues the run of `s` in `dir` (skipping finished units, resuming a killed one); refused when the
/// folder holds no run, or a run of another scenario, or a unit checkpointed under other settings.
pub fn resume_tasks(s: &TaskScenario, dir: &Path, observer: &mut dyn Observer) -> Result<Vec<UnitResult>> {
    run_tasks_with(s, dir, observer, RunOptions::resume(false), &|_| Box::new(Silent))
}

/// As [`run_tasks`] or [`resume_tasks`] (`how.mode`), `how.jobs` units at a time (a lone job reports to
/// `observer`, more each to an observer from `unit_observer`; the results do not depend on it); a resume
/// with `force` lets units checkpointed under other settings continue with `s`'s.
pub fn run_tasks_with(
    s: &TaskScenario,
    dir: &Path,
    observer: &mut dyn Observer,
    how: RunOptions,
    unit_observer: UnitObservers<'_>,
) -> Result<Vec<UnitResult>> {
    crate::commit::check_folder(dir, how.is_resume())?;
    let (force, jobs) = (how.force(), how.jobs);
    let spath = dir.join("scenario.toml");
    if how.is_resume() {
        let text = std::fs::read_to_string(&spath).map_err(|e| ScenarioError::io(&spath, e))?;
        if &TaskScenario::from_toml(&text, &spath)? != s {
            return Err(ScenarioError::Resume {
                dir: dir.to_owned(),
                reason: "the folder holds a run of a different scenario".into(),
            });
        }
    } else {
        // scenario.toml first, whole or not at all: once it exists, `--resume` can continue the run.
        std::fs::create_dir_all(dir).map_err(|e| ScenarioError::io(dir, e))?;
        crate::commit::write_atomic(&spath, s.to_toml().as_bytes())?;
    }
    std::fs::create_dir_all(dir.join("figures")).map_err(|e| ScenarioError::io(dir, e))?;
    let arms = s.arm_list();
    let units = super::results::units(s, dir);
    // Units run at once share the cores (the results do not depend on the thread count).
    let settings = UnitSettings {
        force,
        threads: if jobs > 1 {
            crate::units::threads_per_unit(jobs)
        } else {
            0
        },
    };
    let arm_of = |u: &Unit| arms.iter().find(|a| a.name == u.arm).expect("a unit of an arm");
    let results = run_units(
        &units,
        jobs,
        &mut |u| run_unit(s, arm_of(u), u.seed, &u.dir, dir, observer, settings),
        &|u| {
            let mut obs = unit_observer(&u.label());
            run_unit(s, arm_of(u), u.seed, &u.dir, dir, obs.as_mut(), settings)
        },
    )?;
    let collection = Collection::of(&units, results);
    super::report::write_report(s, dir, &collection)?;
    Ok(collection.into_records())
}
