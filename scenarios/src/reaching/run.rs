//! Running a scenario: pretraining and phases, evaluation blocks, CSV logs, recordings, checkpoints,
//! resuming, figures and the summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use reachlab_agents::{restore_trainer, save_trainer, Policy, RolloutWorkers, Trainer, UpdateStats};
use reachlab_envs::effector::Effector;
use reachlab_envs::reach::{Body, EffectorVisitor, Reach, TrialType};
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::Env;
use serde::{Deserialize, Serialize};

use crate::commit::{commit, committed, read_json, refuse_edits, write_atomic, write_json};
use crate::error::{Result, ScenarioError};
use crate::output::CsvLog;
use crate::reaching::config::{Method, Until};
use crate::reaching::config::{Scenario, StageSpec};
use crate::reaching::metrics::trial_metrics;

mod evaluation;

use crate::observer::Observer;
pub use crate::rows::{CurveRow, EvalRow, TrialRow};

/// Where a run stands (`progress.json`), written with every checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Index of the current stage (0 = pretraining).
    pub stage: usize,
    /// Updates done in it.
    pub stage_update: usize,
    /// Consecutive updates at the stopping criterion so far.
    pub consecutive: usize,
    /// Rows of each CSV at this point.
    pub curve_rows: usize,
    pub trial_rows: usize,
    #[serde(default)]
    pub eval_rows: usize,
    pub wall_seconds: f64,
    pub finished: bool,
}

impl Progress {
    /// Whether the run in `dir` has finished: every update done and every output written (its
    /// `summary.json`, written last, exists).
    pub fn finished_in(dir: &Path) -> bool {
        dir.join("summary.json").is_file()
            && std::fs::read_to_string(dir.join("progress.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Progress>(&t).ok())
                .is_some_and(|p| p.finished)
    }
}

/// How a reaching run starts in its folder.
pub enum Start {
    /// A new run of this scenario (the folder must be empty or absent).
    Create(Box<Scenario>),
    /// The run killed there, continued; `force` accepts a scenario.toml edited since its last checkpoint.
    Resume { force: bool },
}

/// Runs a reaching scenario in `dir` to its end with the effector its env names (`Reach<Body>` for the
/// point mass and the two-link arm, `Reach<Arm26>` for the muscle arm); returns the summary.
pub fn run_reaching(
    start: Start,
    dir: &Path,
    observer: &mut dyn Observer,
) -> Result<crate::reaching::summary::Summary> {
    let effector = match &start {
        Start::Create(s) => s.env.effector,
        // A folder without a readable scenario.toml: the resume below says what is wrong with it.
        Start::Resume { .. } => Scenario::load(&dir.join("scenario.toml"))
            .map(|s| s.env.effector)
            .unwrap_or_default(),
    };
    effector.visit(Begin { start, dir, observer })
}

/// [`run_reaching`]'s visit: the run of effector `B`.
struct Begin<'a> {
    start: Start,
    dir: &'a Path,
    observer: &'a mut dyn Observer,
}

impl EffectorVisitor for Begin<'_> {
    type Output = Result<crate::reaching::summary::Summary>;
    fn visit<B: Effector>(self) -> Self::Output {
        RunOf::<B>::begin(self.start, self.dir, self.observer)?.run()
    }
}

/// A reaching scenario being run into an output folder, moving effector `B` ([`run_reaching`] picks `B`
/// from the scenario's env).
pub struct RunOf<'o, B: Effector> {
    scenario: Scenario,
    dir: PathBuf,
    trainer: Trainer<Reach<B>>,
    progress: Progress,
    curve: CsvLog<CurveRow>,
    trials: CsvLog<TrialRow>,
    evals: CsvLog<EvalRow>,
    /// The rows of `evals` (the baseline band is computed from them).
    eval_rows: Vec<EvalRow>,
    observer: &'o mut dyn Observer,
    started: Instant,
    wall_before: f64,
}

fn stages(s: &Scenario) -> Vec<StageSpec> {
    std::iter::once(s.pretraining.clone())
        .chain(s.phases.iter().cloned())
        .collect()
}

fn build_trainer<B: Effector>(s: &Scenario) -> Result<Trainer<Reach<B>>> {
    let mut train = s.train.clone();
    train.seed = derive_seed(s.seed, 1);
    train.rollout.record_infos = true;
    train.rollout.max_steps = s.env.trial_steps as usize;
    let workers = RolloutWorkers::new(train.episodes_per_update, train.envs_per_block, train.threads, |_| {
        Ok(Reach::<B>::new(s.env.clone())?)
    })?;
    let env = workers.first_env();
    let mut pc = s.policy.clone();
    pc.init_seed = derive_seed(s.seed, 2);
    let policy = Policy::for_spaces(&pc, env.observation_space(), env.action_space())?;
    Ok(Trainer::new(policy, train, workers)?)
}

/// A run of the point mass or the two-link arm (2-D actions).
pub type Run<'o> = RunOf<'o, Body>;

impl<'o, B: Effector> RunOf<'o, B> {
    /// A run as `start` says.
    pub fn begin(start: Start, dir: &Path, observer: &'o mut dyn Observer) -> Result<Self> {
        match start {
            Start::Create(s) => Self::create(*s, dir, observer),
            Start::Resume { force } => Self::resume_with(dir, observer, force),
        }
    }

    /// Starts a new run of `scenario` in `dir` (created; must be empty or absent).
    pub fn create(scenario: Scenario, dir: &Path, observer: &'o mut dyn Observer) -> Result<Self> {
        crate::commit::check_folder(dir, false)?;
        // scenario.toml first, whole or not at all: once it exists, `--resume` can continue the run.
        std::fs::create_dir_all(dir).map_err(|e| ScenarioError::io(dir, e))?;
        write_atomic(&dir.join("scenario.toml"), scenario.to_toml().as_bytes())?;
        Self::start(scenario, dir, observer)
    }

    /// A fresh run in `dir`, whose scenario.toml is written: the output folders and empty CSV files.
    fn start(scenario: Scenario, dir: &Path, observer: &'o mut dyn Observer) -> Result<Self> {
        for sub in ["checkpoints", "recordings", "figures"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| ScenarioError::io(dir, e))?;
        }
        let trainer = build_trainer(&scenario)?;
        Ok(RunOf {
            curve: CsvLog::create(&dir.join("learning_curve.csv"))?,
            trials: CsvLog::create(&dir.join("trials.csv"))?,
            evals: CsvLog::create(&dir.join("evaluations.csv"))?,
            eval_rows: Vec::new(),
            dir: dir.to_owned(),
            scenario,
            trainer,
            progress: Progress::default(),
            observer,
            started: Instant::now(),
            wall_before: 0.0,
        })
    }

    /// Reopens a run killed in `dir`: the last checkpoint's weights, optimiser and counters, and the CSVs cut
    /// back to the rows written before it (the updates after it are redone identically).
    pub fn resume(dir: &Path, observer: &'o mut dyn Observer) -> Result<Self> {
        Self::resume_with(dir, observer, false)
    }

    /// As [`resume`](Self::resume); a `scenario.toml` edited since the last checkpoint is refused (the
    /// changed keys named) unless `force`, in which case the run continues with the edited settings.
    pub fn resume_with(dir: &Path, observer: &'o mut dyn Observer, force: bool) -> Result<Self> {
        let bad = |reason: String| ScenarioError::Resume {
            dir: dir.to_owned(),
            reason,
        };
        let scenario = Scenario::load(&dir.join("scenario.toml"))?;
        let latest = committed(&dir.join("checkpoints"));
        if !force {
            let resolve = |t: &str| {
                Scenario::from_toml(t, Path::new("scenario.toml"))
                    .ok()
                    .map(|s| s.to_toml())
            };
            refuse_edits(dir, &latest, &scenario.to_toml(), resolve)?;
        }
        // The committed counters; runs from before atomic commits kept them beside the checkpoint.
        let progress: Progress = match read_json(&latest.join("progress.json")) {
            Ok(p) => p,
            Err(_) if !latest.exists() && !dir.join("progress.json").exists() => {
                // Killed before the first commit: nothing was reached yet, so the run starts over.
                return Self::start(scenario, dir, observer);
            }
            Err(_) => read_json(&dir.join("progress.json"))
                .map_err(|e| bad(format!("no committed checkpoint to resume from ({e})")))?,
        };
        let mut trainer = build_trainer(&scenario)?;
        restore_trainer(&latest, &mut trainer)?;
        Ok(RunOf {
            curve: CsvLog::reopen(&dir.join("learning_curve.csv"), progress.curve_rows)?,
            trials: CsvLog::reopen(&dir.join("trials.csv"), progress.trial_rows)?,
            evals: CsvLog::reopen(&dir.join("evaluations.csv"), progress.eval_rows)?,
            eval_rows: crate::rows::read_csv::<EvalRow>(&dir.join("evaluations.csv"))?,
            dir: dir.to_owned(),
            wall_before: progress.wall_seconds,
            scenario,
            trainer,
            progress,
            observer,
            started: Instant::now(),
        })
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn policy(&self) -> &Policy {
        self.trainer.policy()
    }

    fn wall(&self) -> f64 {
        self.wall_before + self.started.elapsed().as_secs_f64()
    }

    /// Flushes the CSV files and commits weights, optimiser, counters and CSV row counts together (see
    /// [`crate::commit`]); at a stage's end, also keeps that stage's weights in `checkpoints/<stage>/`.
    fn checkpoint(&mut self, stage_end: Option<&str>) -> Result<()> {
        self.curve.flush()?;
        self.trials.flush()?;
        self.evals.flush()?;
        let ck = self.dir.join("checkpoints");
        if let Some(name) = stage_end {
            save_trainer(&ck.join(name), &self.trainer)?;
        }
        self.progress.curve_rows = self.curve.rows();
        self.progress.trial_rows = self.trials.rows();
        self.progress.eval_rows = self.evals.rows();
        self.progress.wall_seconds = self.wall();
        let (trainer, progress, scenario) = (&self.trainer, &self.progress, &self.scenario);
        commit(&ck, |dir| {
            save_trainer(dir, trainer)?;
            // The settings this state was reached with: a resume refuses a scenario.toml edited since.
            std::fs::write(dir.join("scenario.toml"), scenario.to_toml())
                .map_err(|e| ScenarioError::io(&dir.join("scenario.toml"), e))?;
            write_json(&dir.join("progress.json"), progress)
        })?;
        // A copy where users (and `Progress::finished_in`) look; the resume reads the committed one.
        write_json(&self.dir.join("progress.json"), &self.progress)
    }

    /// Runs every remaining stage, then the figures and the summary; returns the summary.
    pub fn run(mut self) -> Result<crate::reaching::summary::Summary> {
        let all = stages(&self.scenario);
        if self.progress.stage == 0 && self.progress.stage_update == 0 && self.progress.curve_rows == 0 {
            self.checkpoint(None)?;
        }
        while self.progress.stage < all.len() {
            let st = all[self.progress.stage].clone();
            let next = all.get(self.progress.stage + 1).map(|n| n.method);
            self.run_stage(&st, next)?;
            self.progress.stage += 1;
            self.progress.stage_update = 0;
            self.progress.consecutive = 0;
            self.checkpoint(Some(&st.name))?;
        }
        self.progress.finished = true;
        self.checkpoint(None)?;
        finish(&self.scenario, &self.dir, self.observer, false)
    }

    fn set_phase(&mut self, st: &StageSpec) -> Result<()> {
        let phase = st.phase();
        self.trainer
            .workers_mut()
            .for_each_env(|e| Ok(e.set_phase(phase.clone())?))?;
        Ok(())
    }

    /// Runs stage `st`; `next` is how the stage after it trains (none after the last).
    fn run_stage(&mut self, st: &StageSpec, next: Option<Method>) -> Result<()> {
        self.set_phase(st)?;
        self.trainer
            .set_learning_rate(st.learning_rate.unwrap_or(self.scenario.train.learning_rate));
        let frozen = self.frozen(st);
        self.trainer.set_frozen(frozen);
        self.observer.stage_started(st, self.progress.stage_update);
        if self.progress.stage_update == 0 {
            self.evaluate_block(st, "early")?;
        }
        let every = self.scenario.evaluation.every;
        while self.progress.stage_update < st.updates {
            let row = match st.method {
                Method::Rl | Method::Critic => {
                    self.trainer.set_critic_only(st.method == Method::Critic)?;
                    let stats = self.trainer.update()?;
                    self.trainer.set_critic_only(false)?;
                    self.progress.stage_update += 1;
                    self.curve_row(st, &stats)?
                }
                Method::PlantBptt => self.plant_bptt_update(st)?,
            };
            if let Some(param) = self.trainer.policy().params().first_non_finite()? {
                return Err(ScenarioError::Diverged {
                    dir: self.dir.clone(),
                    update: row.update,
                    param: param.to_string(),
                });
            }
            self.curve.write(&row)?;
            self.observer.updated(&row);
            if st.stop_at_success > 0.0 {
                let hit = row.success_rate >= st.stop_at_success;
                self.progress.consecutive = if hit { self.progress.consecutive + 1 } else { 0 };
                if hit && self.progress.consecutive >= st.consecutive {
                    self.observer
                        .message(&format!("{}: success ≥ {} reached", st.name, st.stop_at_success));
                    break;
                }
            }
            let k = self.progress.stage_update;
            if every > 0 && k.is_multiple_of(every) && k < st.updates {
                let block = self.evaluate_block(st, &format!("u{k:04}"))?;
                if st.until != Until::Never {
                    let met = self.criterion_met(st.until, &block);
                    self.progress.consecutive = if met { self.progress.consecutive + 1 } else { 0 };
                    if met && self.progress.consecutive >= st.consecutive {
                        self.observer.message(&format!(
                            "{}: {} criterion met after {k} updates",
                            st.name,
                            st.until.name()
                        ));
                        break;
                    }
                }
            }
            if k.is_multiple_of(self.scenario.checkpoint_every) {
                self.checkpoint(None)?;
            }
            if self.observer.interrupt() {
                self.curve.flush()?;
                self.trials.flush()?;
                self.evals.flush()?;
                return Err(ScenarioError::Interrupted { dir: self.dir.clone() });
            }
        }
        // A policy-gradient stage after training through the plant starts with a fresh optimiser (the
        // plant's moments belong to another loss); a plant stage after a plant stage too, unless
        // `plant_bptt.keep_optimizer` keeps it (a fresh Adam's first steps move every weight by about the
        // learning rate whatever the gradient's noise, |m̂/√v̂| = 1).
        let keep = self.scenario.plant_bptt.keep_optimizer && next == Some(Method::PlantBptt);
        if st.method == Method::PlantBptt && !keep {
            let t = &self.scenario.train;
            let mut fresh = reachlab_agents::Adam::new(self.trainer.policy().params(), t.learning_rate, t.adam_eps)?;
            fresh.warmup = t.warmup_steps;
            *self.trainer.optimizer_mut() = fresh;
        }
        let late = self.evaluate_block(st, "late")?;
        if st.until != Until::Never && !self.criterion_met(st.until, &late) {
            self.observer.message(&format!(
                "WARNING: {}: the {} criterion was NOT met within {} updates{}",
                st.name,
                st.until.name(),
                st.updates,
                if late.expert_misses.is_empty() || st.until != Until::Expert {
                    String::new()
                } else {
                    format!(" ({})", late.expert_misses)
                }
            ));
        }
        self.observer.stage_finished(st);
        Ok(())
    }

    /// The variables the stage leaves unchanged.
    fn frozen(&self, st: &StageSpec) -> Vec<String> {
        let policy = self.trainer.policy();
        st.freeze.iter().flat_map(|&l| policy.layer_variables(l)).collect()
    }

    /// One gradient step through the plant; its learning-curve row (loss and gradient norm; the
    /// behavioural columns come from the evaluation blocks).
    fn plant_bptt_update(&mut self, st: &StageSpec) -> Result<CurveRow> {
        let started = Instant::now();
        let seed = derive_seed(
            derive_seed(self.scenario.seed, 5 + self.progress.stage as u64),
            self.progress.stage_update as u64,
        );
        // The stage's own learning rate, when it has one, replaces `plant_bptt.learning_rate`; it falls
        // linearly over the stage's updates to `lr_final_fraction` of itself.
        let mut cfg = self.scenario.plant_bptt.clone();
        let done = self.progress.stage_update as f64 / st.updates.max(1) as f64;
        cfg.learning_rate = st.learning_rate.unwrap_or(cfg.learning_rate) * (1.0 - done * (1.0 - st.lr_final_fraction));
        let frozen = self.frozen(st);
        let (policy, opt) = self.trainer.policy_and_optimizer_mut();
        let phase = st.phase();
        let stats = reachlab_agents::plant_bptt_step(policy, opt, &self.scenario.env, &phase, &cfg, &frozen, seed)?;
        self.progress.stage_update += 1;
        let steps = (self.scenario.plant_bptt.batch * self.scenario.env.trial_steps as usize) as u64;
        let mut state = self.trainer.state();
        state.env_steps += steps;
        self.trainer.set_state(state);
        Ok(CurveRow {
            stage: st.name.clone(),
            stage_update: self.progress.stage_update,
            update: self.curve.rows() + 1,
            env_steps: state.env_steps,
            wall_seconds: self.wall(),
            mean_return: f64::NAN,
            success_rate: f64::NAN,
            early_start_fraction: f64::NAN,
            mpd_abs_mean_cm: f64::NAN,
            mpd_trained_cm: f64::NAN,
            policy_loss: stats.loss,
            grad_norm: stats.grad_norm,
            learning_rate: cfg.learning_rate,
            env_steps_per_second: steps as f64 / started.elapsed().as_secs_f64(),
            ..CurveRow::default()
        })
    }

    fn curve_row(&mut self, st: &StageSpec, s: &UpdateStats) -> Result<CurveRow> {
        // The behaviour of the rollout that produced this update, from its per-step infos.
        let ro = self.trainer.last_rollout();
        let rc = &self.scenario.env;
        let trained = self.scenario.evaluation.trained_target;
        let (mut abs_sum, mut n_abs, mut tr_sum, mut n_tr, mut early) = (0.0, 0usize, 0.0, 0usize, 0usize);
        if let Some(ro) = ro {
            for infos in &ro.step_infos {
                let Some(last) = infos.last() else { continue };
                let m = trial_metrics(infos, rc.reward.success_radius, rc.dt);
                early += usize::from(m.premature);
                if last.trial_type == TrialType::Normal && m.mpd.is_finite() {
                    abs_sum += m.mpd.abs();
                    n_abs += 1;
                    if last.target == trained {
                        tr_sum += m.mpd;
                        n_tr += 1;
                    }
                }
            }
        }
        let div = |a: f64, n: usize| if n > 0 { a / n as f64 } else { f64::NAN };
        Ok(CurveRow {
            stage: st.name.clone(),
            stage_update: self.progress.stage_update,
            // The run's update count (updates through the plant included).
            update: self.curve.rows() + 1,
            env_steps: s.env_steps,
            wall_seconds: self.wall(),
            mean_return: s.mean_return,
            success_rate: s.success_rate,
            early_start_fraction: div(early as f64, s.episodes),
            mpd_abs_mean_cm: 100.0 * div(abs_sum, n_abs),
            mpd_trained_cm: 100.0 * div(tr_sum, n_tr),
            policy_loss: s.policy_loss,
            value_loss: s.value_loss,
            entropy: s.entropy,
            approx_kl: s.approx_kl,
            clip_fraction: s.clip_fraction,
            explained_variance: s.explained_variance,
            grad_norm: s.grad_norm,
            learning_rate: s.learning_rate,
            reg_activity_l2: s.reg_activity_l2,
            reg_weight_l2: s.reg_weight_l2,
            reg_weight_l1: s.reg_weight_l1,
            reg_zeroness: s.reg_zeroness,
            reg_smoothness: s.reg_smoothness,
            reg_effort: s.reg_effort,
            reg_jerk: s.reg_jerk,
            env_steps_per_second: s.env_steps_per_second,
        })
    }
}

/// What ends a reaching run, and what `analyze_run` does again on a saved one: the analysis
/// (`analysis.json`), the figures, then the summary (last: its presence marks a finished run, see
/// [`Progress::finished_in`]). At the end of a run a failed analysis is reported and written down in
/// `analysis.json`, not worth losing the run over; `strict` (a re-analysis) returns the error instead and
/// leaves the files as they were.
pub(crate) fn finish(
    s: &Scenario,
    dir: &Path,
    observer: &mut dyn Observer,
    strict: bool,
) -> Result<crate::reaching::summary::Summary> {
    if strict {
        crate::reaching::analysis::analyze(s, dir)?;
    } else if let Err(e) = crate::reaching::analysis::analyze(s, dir) {
        observer.message(&format!("analysis failed: {e}"));
        let path = dir.join("analysis.json");
        let _ = std::fs::write(&path, serde_json::json!({ "error": e.to_string() }).to_string());
    }
    crate::plots::draw_all(s, dir)?;
    crate::reaching::summary::summarize(s, dir)
}
