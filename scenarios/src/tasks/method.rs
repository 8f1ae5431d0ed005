//! The training methods of a task scenario behind one face: supervised BPTT on the tasks' targets, or a
//! policy gradient (PPO, A2C, REINFORCE) on the tasks as a [`DecisionEnv`]. A unit's run loop, its
//! evaluation schedule, checkpoints and analysis do not know which one trains it.

use std::path::Path;

use candle_core::DType;
use reachlab_agents::{
    restore_trainer, save_checkpoint, save_trainer, HeadKind, Policy, PolicyAgent, RolloutWorkers, SupervisedBatch,
    SupervisedConfig, SupervisedTrainer, Trainer, TrainerState,
};
use reachlab_envs::cognitive::{DecisionEnv, DecisionOptions, TaskSet, TrialBatch};
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::Env;

#[cfg(doc)]
use super::config::Arm;
use super::config::{eval_batch, BatchMode, TaskScenario};
use crate::error::{Result, ScenarioError};

fn to_supervised(b: &TrialBatch) -> Result<SupervisedBatch> {
    Ok(SupervisedBatch::from_vecs(
        b.steps,
        b.batch,
        b.inputs.clone(),
        b.targets.clone(),
        b.mask.clone(),
        DType::F32,
    )?)
}

/// A unit's trainer, whichever the method.
pub(crate) enum TaskTrainer {
    Supervised(Box<SupervisedTrainer>),
    PolicyGradient(Box<Trainer<DecisionEnv>>),
}

impl TaskTrainer {
    /// The trainer of one unit of an arm whose scenario is `s` ([`Arm::scenario`]): a fresh network
    /// (initialised from `seed`) and its optimiser; a policy gradient's rollouts on `threads` threads (0:
    /// one per core).
    pub fn new(s: &TaskScenario, seed: u64, set: &TaskSet, threads: usize) -> Result<Self> {
        let mut pc = s.policy.clone();
        pc.init_seed = derive_seed(seed, 2);
        let t = &s.training;
        if t.method.algorithm().is_none() {
            let policy = Policy::new(&pc, set.input_dim(), HeadKind::Gaussian { dim: set.output_dim() })?;
            return Ok(TaskTrainer::Supervised(Box::new(SupervisedTrainer::new(
                policy,
                SupervisedConfig {
                    learning_rate: t.learning_rate,
                    max_grad_norm: t.max_grad_norm,
                    activity_l2: t.activity_l2,
                    weight_l2: t.weight_l2,
                    output: t.output,
                    noise_seed: derive_seed(seed, 3),
                },
            )?)));
        }
        let config = reachlab_agents::TrainConfig {
            threads,
            ..t.train_config(seed)
        };
        let workers = RolloutWorkers::new(config.episodes_per_update, config.envs_per_block, threads, |_| {
            Ok(s.tasks.decision_env(&t.policy_gradient)?)
        })?;
        let head = HeadKind::for_space(workers.first_env().action_space())?;
        let policy = Policy::new(&pc, set.input_dim(), head)?;
        Ok(TaskTrainer::PolicyGradient(Box::new(Trainer::new(
            policy, config, workers,
        )?)))
    }

    pub fn policy(&self) -> &Policy {
        match self {
            TaskTrainer::Supervised(t) => t.policy(),
            TaskTrainer::PolicyGradient(t) => t.policy(),
        }
    }

    /// Update `u` (0-based) of the unit with seed `seed`; returns its training loss: the supervised
    /// loss, or for a policy gradient minus the mean return per trial (what it lowers in expectation).
    pub fn step(&mut self, s: &TaskScenario, set: &TaskSet, seed: u64, u: usize) -> Result<f64> {
        match self {
            TaskTrainer::Supervised(trainer) => {
                let t = &s.training;
                let bseed = derive_seed(seed, 1_000_000 + u as u64);
                let b = match t.batches {
                    BatchMode::Mixed => set.batch(t.batch_size, bseed),
                    BatchMode::OneTask => {
                        let k = set.sample_task(&mut reachlab_envs::seeding::rng_from_seed(bseed));
                        set.batch_of(k, t.batch_size, derive_seed(bseed, 1))?
                    }
                };
                Ok(trainer.step(&to_supervised(&b)?)?)
            }
            TaskTrainer::PolicyGradient(trainer) => Ok(-trainer.update()?.mean_return),
        }
    }

    /// Performance on every task of `set` over its fixed evaluation trials, in task order: Yang et al.'s
    /// score of the outputs (supervised), or the fraction of trials the greedy policy ends correct in the
    /// decision env (one snapshot of the policy and one env for all tasks).
    pub fn performances(&mut self, s: &TaskScenario, set: &TaskSet) -> Result<Vec<f64>> {
        let trials = s.training.eval_trials_per_task;
        let tasks = 0..set.tasks().len();
        match self {
            TaskTrainer::Supervised(trainer) => tasks
                .map(|k| {
                    let b = eval_batch(set, k, trials)?;
                    let pred = trainer.predict(&to_supervised(&b)?)?;
                    let scores = b.score(set, &pred.outputs)?;
                    Ok(scores.iter().sum::<f64>() / scores.len() as f64)
                })
                .collect(),
            TaskTrainer::PolicyGradient(trainer) => {
                let pg = &s.training.policy_gradient;
                let mut env = s.tasks.decision_env(pg)?;
                let snap = trainer.policy().snapshot()?;
                tasks
                    .map(|k| {
                        // Each task's trials from the agent's first stream (recurrent noise, if any).
                        let mut agent = PolicyAgent::new(snap.clone(), true, 0);
                        // The same trials at every evaluation, for every arm and seed (as `eval_batch`).
                        let plan: Vec<(u64, DecisionOptions)> = (0..trials)
                            .map(|i| {
                                let seed = derive_seed(derive_seed(0xE7A1, k as u64), i as u64);
                                (seed, DecisionOptions { task: Some(k) })
                            })
                            .collect();
                        let episodes = reachlab_agents::evaluate(&mut env, &mut agent, &plan, pg.max_steps)?;
                        let correct = episodes.iter().filter(|e| e.final_info().correct == Some(true)).count();
                        Ok(correct as f64 / trials as f64)
                    })
                    .collect()
            }
        }
    }

    /// Writes weights, counters (`updates`) and optimiser state into `dir` (inside a commit).
    pub fn save(&self, dir: &Path, updates: usize) -> Result<()> {
        match self {
            TaskTrainer::Supervised(t) => {
                let state = TrainerState {
                    updates,
                    ..TrainerState::default()
                };
                save_checkpoint(dir, t.policy(), state)?;
                let opt_path = dir.join("optimizer.safetensors");
                candle_core::safetensors::save(&t.optimizer().state()?, &opt_path)
                    .map_err(|e| ScenarioError::output(&opt_path, e))
            }
            TaskTrainer::PolicyGradient(t) => Ok(save_trainer(dir, t.as_ref())?),
        }
    }

    /// Restores what [`save`](Self::save) wrote in `ck`, at update `updates`.
    pub fn restore(&mut self, ck: &Path, updates: usize) -> std::result::Result<(), String> {
        match self {
            TaskTrainer::Supervised(trainer) => {
                let weights = ck.join("weights.safetensors");
                trainer
                    .policy_mut()
                    .params_mut()
                    .load(&weights)
                    .map_err(|e| format!("{}: {e}", weights.display()))?;
                let opt_path = ck.join("optimizer.safetensors");
                let opt = candle_core::safetensors::load(&opt_path, &candle_core::Device::Cpu)
                    .map_err(|e| format!("{}: {e}", opt_path.display()))?;
                trainer.optimizer_mut().load_state(&opt).map_err(|e| e.to_string())?;
                trainer.set_steps(updates);
                Ok(())
            }
            TaskTrainer::PolicyGradient(trainer) => {
                restore_trainer(ck, trainer.as_mut()).map_err(|e| format!("{}: {e}", ck.display()))
            }
        }
    }
}
