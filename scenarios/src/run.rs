//! Running a scenario: pretraining and phases, evaluation blocks, CSV logs, recordings, checkpoints,
//! resuming, figures and the summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use reachlab_agents::{restore_trainer, save_trainer, Policy, PolicyAgent, RolloutWorkers, Trainer, UpdateStats};
use reachlab_envs::reach::{ReachEnv, ReachInfo, ReachOptions, TrialType};
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::Env;
use serde::{Deserialize, Serialize};

use crate::config::{Scenario, StageSpec};
use crate::error::{Result, ScenarioError};
use crate::metrics::{trial_metrics, TrialMetrics};
use crate::output::{CsvLog, Recording};

/// Receives progress (the binary draws bars or prints JSON lines; tests stay silent).
pub trait Observer {
    fn stage_started(&mut self, _stage: &StageSpec, _done: usize) {}
    fn updated(&mut self, _row: &CurveRow) {}
    fn stage_finished(&mut self, _stage: &StageSpec) {}
    fn message(&mut self, _text: &str) {}
    /// Asked after every update: `true` stops the run there (as a kill would; `--resume` continues it
    /// from the last checkpoint).
    fn interrupt(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// One row of `learning_curve.csv`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurveRow {
    pub stage: String,
    pub stage_update: usize,
    pub update: usize,
    pub env_steps: u64,
    pub wall_seconds: f64,
    pub mean_return: f64,
    pub success_rate: f64,
    /// Fraction of episodes that left the start before the go cue.
    pub early_start_fraction: f64,
    /// Mean |MPD| (m) over the rollout's normal trials.
    pub mpd_abs_mean: f64,
    /// Mean signed MPD (m) over the rollout's normal trials to the trained target (NaN if none).
    pub mpd_trained: f64,
    pub policy_loss: f64,
    pub value_loss: f64,
    pub entropy: f64,
    pub approx_kl: f64,
    pub clip_fraction: f64,
    pub explained_variance: f64,
    pub grad_norm: f64,
    pub learning_rate: f64,
    pub reg_activity_l2: f64,
    pub reg_weight_l2: f64,
    pub reg_weight_l1: f64,
    pub reg_zeroness: f64,
    pub reg_smoothness: f64,
    pub reg_effort: f64,
    pub reg_jerk: f64,
    pub env_steps_per_second: f64,
}

/// One row of `trials.csv`: an evaluation trial (deterministic policy) in a recorded block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRow {
    pub stage: String,
    /// `early` (stage start) or `late` (stage end).
    pub block: String,
    pub trial: usize,
    pub target: usize,
    pub trial_type: String,
    pub mpd: f64,
    pub curvature: f64,
    pub reach_time: f64,
    pub peak_force: f64,
    pub success: bool,
    pub premature: bool,
}

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
    pub wall_seconds: f64,
    pub finished: bool,
}

impl Progress {
    /// Whether the run in `dir` has finished (false when it has no readable `progress.json`).
    pub fn finished_in(dir: &Path) -> bool {
        std::fs::read_to_string(dir.join("progress.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Progress>(&t).ok())
            .is_some_and(|p| p.finished)
    }
}

/// A scenario being run into an output folder.
pub struct Run<'o> {
    scenario: Scenario,
    dir: PathBuf,
    trainer: Trainer<ReachEnv>,
    progress: Progress,
    curve: CsvLog<CurveRow>,
    trials: CsvLog<TrialRow>,
    observer: &'o mut dyn Observer,
    started: Instant,
    wall_before: f64,
}

fn stages(s: &Scenario) -> Vec<StageSpec> {
    std::iter::once(s.pretraining.clone())
        .chain(s.phases.iter().cloned())
        .collect()
}

fn build_trainer(s: &Scenario) -> Result<Trainer<ReachEnv>> {
    let mut train = s.train.clone();
    train.seed = derive_seed(s.seed, 1);
    train.rollout.record_infos = true;
    train.rollout.max_steps = s.env.trial_steps as usize;
    let workers = RolloutWorkers::new(train.episodes_per_update, train.envs_per_block, train.threads, |_| {
        Ok(ReachEnv::new(s.env.clone())?)
    })?;
    let env = workers.first_env();
    let mut pc = s.policy.clone();
    pc.init_seed = derive_seed(s.seed, 2);
    let policy = Policy::for_spaces(&pc, env.observation_space(), env.action_space())?;
    Ok(Trainer::new(policy, train, workers)?)
}

impl<'o> Run<'o> {
    /// Starts a new run of `scenario` in `dir` (created; must be empty or absent).
    pub fn create(scenario: Scenario, dir: &Path, observer: &'o mut dyn Observer) -> Result<Self> {
        if dir.exists()
            && std::fs::read_dir(dir)
                .map_err(|e| ScenarioError::io(dir, e))?
                .next()
                .is_some()
        {
            return Err(ScenarioError::output(
                dir,
                "the output folder is not empty (use --resume to continue a run there)",
            ));
        }
        std::fs::create_dir_all(dir.join("checkpoints")).map_err(|e| ScenarioError::io(dir, e))?;
        std::fs::create_dir_all(dir.join("recordings")).map_err(|e| ScenarioError::io(dir, e))?;
        std::fs::create_dir_all(dir.join("figures")).map_err(|e| ScenarioError::io(dir, e))?;
        let path = dir.join("scenario.toml");
        std::fs::write(&path, scenario.to_toml()).map_err(|e| ScenarioError::io(&path, e))?;
        let trainer = build_trainer(&scenario)?;
        Ok(Run {
            curve: CsvLog::create(&dir.join("learning_curve.csv"))?,
            trials: CsvLog::create(&dir.join("trials.csv"))?,
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
        let bad = |reason: String| ScenarioError::Resume {
            dir: dir.to_owned(),
            reason,
        };
        let scenario = Scenario::load(&dir.join("scenario.toml"))?;
        let ppath = dir.join("progress.json");
        let text = std::fs::read_to_string(&ppath).map_err(|e| bad(format!("progress.json: {e}")))?;
        let progress: Progress = serde_json::from_str(&text).map_err(|e| bad(format!("progress.json: {e}")))?;
        let mut trainer = build_trainer(&scenario)?;
        restore_trainer(&dir.join("checkpoints").join("latest"), &mut trainer)?;
        Ok(Run {
            curve: CsvLog::reopen(&dir.join("learning_curve.csv"), progress.curve_rows)?,
            trials: CsvLog::reopen(&dir.join("trials.csv"), progress.trial_rows)?,
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

    fn checkpoint(&mut self, stage_end: Option<&str>) -> Result<()> {
        self.curve.flush()?;
        self.trials.flush()?;
        let latest = self.dir.join("checkpoints").join("latest");
        let tmp = self.dir.join("checkpoints").join("latest.tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        save_trainer(&tmp, &self.trainer)?;
        let _ = std::fs::remove_dir_all(&latest);
        std::fs::rename(&tmp, &latest).map_err(|e| ScenarioError::io(&latest, e))?;
        if let Some(name) = stage_end {
            save_trainer(&self.dir.join("checkpoints").join(name), &self.trainer)?;
        }
        self.progress.curve_rows = self.curve.rows();
        self.progress.trial_rows = self.trials.rows();
        self.progress.wall_seconds = self.wall();
        let path = self.dir.join("progress.json");
        let tmp = self.dir.join("progress.json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_string_pretty(&self.progress).expect("progress serialises"),
        )
        .map_err(|e| ScenarioError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| ScenarioError::io(&path, e))
    }

    /// Runs every remaining stage, then the figures and the summary; returns the summary.
    pub fn run(mut self) -> Result<crate::summary::Summary> {
        let all = stages(&self.scenario);
        if self.progress.stage == 0 && self.progress.stage_update == 0 && self.progress.curve_rows == 0 {
            self.checkpoint(None)?;
        }
        while self.progress.stage < all.len() {
            let st = all[self.progress.stage].clone();
            self.run_stage(&st)?;
            self.progress.stage += 1;
            self.progress.stage_update = 0;
            self.progress.consecutive = 0;
            self.checkpoint(Some(&st.name))?;
        }
        self.progress.finished = true;
        self.checkpoint(None)?;
        // The analysis is not worth losing the run over: its failure is reported and written down.
        if let Err(e) = crate::analysis::analyze(&self.scenario, &self.dir) {
            self.observer.message(&format!("analysis failed: {e}"));
            let path = self.dir.join("analysis.json");
            let _ = std::fs::write(&path, serde_json::json!({ "error": e.to_string() }).to_string());
        }
        let summary = crate::summary::summarize(&self.scenario, &self.dir)?;
        crate::plots::draw_all(&self.scenario, &self.dir)?;
        Ok(summary)
    }

    fn set_phase(&mut self, st: &StageSpec) -> Result<()> {
        let phase = st.phase();
        self.trainer
            .workers_mut()
            .for_each_env(|e| Ok(e.set_phase(phase.clone())?))?;
        Ok(())
    }

    fn run_stage(&mut self, st: &StageSpec) -> Result<()> {
        self.set_phase(st)?;
        self.observer.stage_started(st, self.progress.stage_update);
        if self.progress.stage_update == 0 && st.record {
            self.record_block(st, "early")?;
        }
        while self.progress.stage_update < st.updates {
            let stats = self.trainer.update()?;
            self.progress.stage_update += 1;
            let row = self.curve_row(st, &stats)?;
            self.curve.write(&row)?;
            self.observer.updated(&row);
            let hit = st.stop_at_success > 0.0 && row.success_rate >= st.stop_at_success;
            self.progress.consecutive = if hit { self.progress.consecutive + 1 } else { 0 };
            if hit && self.progress.consecutive >= st.consecutive {
                self.observer
                    .message(&format!("{}: success ≥ {} reached", st.name, st.stop_at_success));
                break;
            }
            if self
                .progress
                .stage_update
                .is_multiple_of(self.scenario.checkpoint_every)
            {
                self.checkpoint(None)?;
            }
            if self.observer.interrupt() {
                self.curve.flush()?;
                self.trials.flush()?;
                return Err(ScenarioError::Interrupted { dir: self.dir.clone() });
            }
        }
        if st.record {
            self.record_block(st, "late")?;
        }
        self.observer.stage_finished(st);
        Ok(())
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
            update: s.update,
            env_steps: s.env_steps,
            wall_seconds: self.wall(),
            mean_return: s.mean_return,
            success_rate: s.success_rate,
            early_start_fraction: div(early as f64, s.episodes),
            mpd_abs_mean: div(abs_sum, n_abs),
            mpd_trained: div(tr_sum, n_tr),
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

    /// Evaluation trials with the deterministic policy (every target × trial type), written to
    /// `trials.csv` and `recordings/<stage>_<block>.safetensors`.
    fn record_block(&mut self, st: &StageSpec, block: &str) -> Result<()> {
        let ev = &self.scenario.evaluation;
        let mut env = ReachEnv::new(self.scenario.env.clone())?;
        env.set_phase(st.phase())?;
        let mut plan: Vec<(u64, ReachOptions)> = Vec::new();
        let n_targets = self.scenario.env.n_targets;
        let seed0 = derive_seed(
            self.scenario.seed,
            3 + self.progress.stage as u64 * 2 + u64::from(block == "late"),
        );
        for (kind, count) in [
            (TrialType::Normal, ev.trials_per_target),
            (TrialType::Channel, ev.channel_trials_per_target),
            (TrialType::Catch, ev.catch_trials_per_target),
        ] {
            for target in 0..n_targets {
                for _ in 0..count {
                    let seed = derive_seed(seed0, plan.len() as u64);
                    plan.push((
                        seed,
                        ReachOptions {
                            target: Some(target),
                            trial_type: Some(kind),
                        },
                    ));
                }
            }
        }
        let mut agent = PolicyAgent::new(self.trainer.policy().snapshot()?, true, seed0);
        let steps = self.scenario.env.trial_steps as usize;
        let episodes = reachlab_agents::evaluate(&mut env, &mut agent, &plan, steps)?;
        let rc = &self.scenario.env;
        let mut rec = Recording::new(episodes.len(), steps, self.trainer.policy().hidden());
        for (i, ep) in episodes.iter().enumerate() {
            let last: ReachInfo = ep.final_info();
            let m: TrialMetrics = trial_metrics(&ep.infos, rc.reward.success_radius, rc.dt);
            self.trials.write(&TrialRow {
                stage: st.name.clone(),
                block: block.to_string(),
                trial: i,
                target: last.target,
                trial_type: format!("{:?}", last.trial_type).to_lowercase(),
                mpd: m.mpd,
                curvature: m.curvature,
                reach_time: m.reach_time,
                peak_force: m.peak_force,
                success: m.success,
                premature: m.premature,
            })?;
            rec.push(i, ep);
        }
        rec.save(
            &self
                .dir
                .join("recordings")
                .join(format!("{}_{block}.safetensors", st.name)),
        )
    }
}
