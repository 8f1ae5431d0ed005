//! Policy-gradient training with whole-episode BPTT: PPO (clipped surrogate, GAE), A2C and REINFORCE with a
//! learned baseline.
//!
//! One update = one rollout of whole episodes + `epochs` passes over minibatches of whole episodes (the
//! recurrent state starts at zero at every episode start; value bootstrapped on truncation, never on
//! termination). A2C and REINFORCE are the same loss with one epoch, one minibatch and no clipping (at
//! θ = θ_old the gradient of ratio·A is ∇log π·A); REINFORCE uses λ = 1 (Monte-Carlo returns against the
//! learned baseline).

use std::time::Instant;

use candle_core::{DType, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::Env;
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::gae::{gae, RunningMeanStd};
use crate::optim::{clip_grad_norm, Adam};
use crate::policy::{HeadKind, Policy};
use crate::rollout::{EpisodeOutcome, Rollout, RolloutConfig, RolloutWorkers};

mod config;
mod loss;

pub use config::{Algorithm, RegularizerConfig, TrainConfig};
use loss::{explained_variance, minibatch_loss, Accum, Minibatch};

/// Diagnostics of one update (a row of `learning_curve.csv`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateStats {
    pub update: usize,
    pub env_steps: u64,
    pub episodes: usize,
    pub mean_return: f64,
    /// Success rate, when the env reports success (NaN otherwise).
    pub success_rate: f64,
    pub mean_length: f64,
    pub policy_loss: f64,
    pub value_loss: f64,
    pub entropy: f64,
    pub approx_kl: f64,
    pub clip_fraction: f64,
    pub explained_variance: f64,
    pub grad_norm: f64,
    pub learning_rate: f64,
    pub epochs_run: usize,
    pub reg_activity_l2: f64,
    pub reg_weight_l2: f64,
    pub reg_weight_l1: f64,
    pub reg_zeroness: f64,
    pub reg_smoothness: f64,
    pub reg_effort: f64,
    pub reg_jerk: f64,
    pub rollout_seconds: f64,
    pub learn_seconds: f64,
    pub env_steps_per_second: f64,
}

/// What a trainer carries between updates besides the weights (saved with checkpoints).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    pub updates: usize,
    pub env_steps: u64,
    pub return_stats: RunningMeanStd,
}

/// Trains a [`Policy`] on the envs of a [`RolloutWorkers`].
pub struct Trainer<E: Env> {
    policy: Policy,
    config: TrainConfig,
    workers: RolloutWorkers<E>,
    opt: Adam,
    state: TrainerState,
    last: Option<Rollout<E::Info>>,
    critic_only: bool,
    frozen: Vec<String>,
}

impl<E> Trainer<E>
where
    E: Env,
    E::Info: EpisodeOutcome,
{
    pub fn new(policy: Policy, config: TrainConfig, workers: RolloutWorkers<E>) -> Result<Self> {
        config.validate()?;
        let head = HeadKind::for_space(workers.first_env().action_space())?;
        if head != policy.head_kind() {
            return Err(AgentError::Mismatch(format!(
                "the env needs a {head:?} head, the policy has {:?}",
                policy.head_kind()
            )));
        }
        let r = &config.regularizers;
        if matches!(head, HeadKind::Categorical { .. }) && (r.zeroness > 0.0 || r.smoothness > 0.0 || r.jerk > 0.0) {
            return Err(AgentError::config(
                "train.regularizers",
                "zeroness, smoothness and jerk apply to Gaussian (Box) action heads only",
            ));
        }
        let mut opt = Adam::new(policy.params(), config.learning_rate, config.adam_eps)?;
        opt.warmup = config.warmup_steps;
        Ok(Trainer {
            policy,
            config,
            workers,
            opt,
            state: TrainerState::default(),
            last: None,
            critic_only: false,
            frozen: Vec::new(),
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn policy_mut(&mut self) -> &mut Policy {
        &mut self.policy
    }

    pub fn into_policy(self) -> Policy {
        self.policy
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn workers_mut(&mut self) -> &mut RolloutWorkers<E> {
        &mut self.workers
    }

    pub fn state(&self) -> TrainerState {
        self.state
    }

    /// Restores the counters and return statistics of a checkpoint.
    pub fn set_state(&mut self, state: TrainerState) {
        self.state = state;
    }

    /// The optimiser (its state goes into checkpoints, so a resumed run continues exactly).
    pub fn optimizer(&self) -> &Adam {
        &self.opt
    }

    pub fn optimizer_mut(&mut self) -> &mut Adam {
        &mut self.opt
    }

    /// Changes the learning rate (before annealing) from the next update on, e.g. per stage of an
    /// experiment.
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.config.learning_rate = lr;
    }

    /// Learn the value function only (the policy loss, entropy and regularisers are left out), e.g. to fit
    /// the critic of a policy trained another way before policy-gradient updates start moving it. Refused
    /// for a policy whose value head shares the actor's core: the value loss would train that core, and
    /// the policy would change.
    pub fn set_critic_only(&mut self, on: bool) -> Result<()> {
        if on && !self.policy.config().separate_critic {
            return Err(AgentError::config(
                "policy.separate_critic",
                "a critic-only stage needs a separate critic: with a shared core the value loss moves the policy",
            ));
        }
        self.critic_only = on;
        Ok(())
    }

    /// Variables (by name) that the updates leave unchanged from now on, e.g. the input and output
    /// layers ([`Policy::layer_variables`]) in a stage that trains only the recurrent weights.
    pub fn set_frozen(&mut self, names: Vec<String>) {
        self.frozen = names;
    }

    /// The policy and the optimiser together, for training the policy by another route (through the
    /// plant) with the optimiser whose state checkpoints save.
    pub fn policy_and_optimizer_mut(&mut self) -> (&mut Policy, &mut Adam) {
        (&mut self.policy, &mut self.opt)
    }

    /// The rollout the last [`update`](Self::update) learned from (with per-step infos if the rollout
    /// config records them).
    pub fn last_rollout(&self) -> Option<&Rollout<E::Info>> {
        self.last.as_ref()
    }

    /// One rollout with the current policy (no learning), with the trainer's seed stream for this update.
    pub fn rollout(&mut self, cfg: &RolloutConfig, seed: u64) -> Result<Rollout<E::Info>> {
        let snap = self.policy.snapshot()?;
        self.workers.collect(&snap, seed, cfg)
    }

    /// One rollout and one learning step (all epochs).
    pub fn update(&mut self) -> Result<UpdateStats> {
        let u = self.state.updates;
        let t0 = Instant::now();
        let snap = self.policy.snapshot()?;
        let seed = derive_seed(self.config.seed, u as u64);
        let ro = self.workers.collect(&snap, seed, &self.config.rollout)?;
        let rollout_seconds = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let mut stats = self.learn(&ro, seed)?;
        stats.learn_seconds = t1.elapsed().as_secs_f64();
        stats.rollout_seconds = rollout_seconds;
        self.state.updates += 1;
        self.state.env_steps += ro.env_steps() as u64;
        stats.update = self.state.updates;
        stats.env_steps = self.state.env_steps;
        stats.episodes = ro.episodes;
        stats.mean_return = ro.mean_return();
        stats.success_rate = ro.success_rate().unwrap_or(f64::NAN);
        stats.mean_length = ro.env_steps() as f64 / ro.episodes as f64;
        stats.env_steps_per_second = ro.env_steps() as f64 / (rollout_seconds + stats.learn_seconds).max(1e-9);
        self.last = Some(ro);
        Ok(stats)
    }

    fn current_lr(&self) -> f64 {
        let c = &self.config;
        if c.anneal_updates == 0 {
            return c.learning_rate;
        }
        let frac = (self.state.updates as f64 / c.anneal_updates as f64).min(1.0);
        c.learning_rate * (1.0 - frac * (1.0 - c.lr_final_fraction))
    }

    /// The learning step on a collected rollout.
    pub fn learn(&mut self, ro: &Rollout<E::Info>, seed: u64) -> Result<UpdateStats> {
        let cfg = self.config.clone();
        let (epochs, minibatches, lambda, clip) = cfg.effective();
        let (t_n, n) = (ro.steps, ro.episodes);
        let norm = self.state.return_stats;
        let (mu, sd) = if cfg.normalize_returns {
            (norm.mean, norm.std())
        } else {
            (0.0, 1.0)
        };
        let denorm = |v: f32| (f64::from(v) * sd + mu) as f32;
        let values: Vec<f32> = ro.values.iter().map(|&v| denorm(v)).collect();
        let boot: Vec<f32> = ro.bootstrap.iter().map(|&v| denorm(v)).collect();
        let (mut adv, ret) = gae(
            t_n,
            n,
            &ro.rewards,
            &values,
            &ro.lengths,
            &ro.terminated,
            &boot,
            cfg.gamma,
            lambda,
        );
        let valid: Vec<usize> = (0..t_n * n).filter(|&k| ro.mask[k] > 0.0).collect();
        let explained_variance = explained_variance(&valid, &values, &ret);
        if cfg.normalize_advantages {
            let m = valid.iter().map(|&k| f64::from(adv[k])).sum::<f64>() / valid.len().max(1) as f64;
            let v = valid.iter().map(|&k| (f64::from(adv[k]) - m).powi(2)).sum::<f64>() / valid.len().max(1) as f64;
            let s = v.sqrt() + 1e-8;
            for &k in &valid {
                adv[k] = ((f64::from(adv[k]) - m) / s) as f32;
            }
        }
        if cfg.normalize_returns {
            self.state.return_stats.update(valid.iter().map(|&k| f64::from(ret[k])));
        }
        let norm = self.state.return_stats;
        let (mu, sd) = if cfg.normalize_returns {
            (norm.mean, norm.std())
        } else {
            (0.0, 1.0)
        };
        let targets: Vec<f32> = ret.iter().map(|&r| ((f64::from(r) - mu) / sd) as f32).collect();
        let lr = self.current_lr();
        self.opt.lr = lr;

        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, 1 << 41));
        let mut order: Vec<usize> = (0..n).collect();
        let mut acc = Accum::default();
        let mut epochs_run = 0;
        'epochs: for _ in 0..epochs {
            epochs_run += 1;
            order.shuffle(&mut rng);
            let per = n.div_ceil(minibatches);
            for mb in order.chunks(per) {
                let batch = Minibatch::gather(ro, mb, &adv, &targets, self.policy.params().dtype())?;
                let m = self.step_minibatch(&batch, clip, self.state.updates)?;
                acc.add(&m);
                if cfg.target_kl > 0.0 && m.approx_kl > 1.5 * cfg.target_kl {
                    break 'epochs;
                }
            }
        }
        let mut s = acc.mean();
        s.explained_variance = explained_variance;
        s.learning_rate = lr;
        s.epochs_run = epochs_run;
        Ok(s)
    }

    fn step_minibatch(&mut self, b: &Minibatch, clip: Option<f64>, update: usize) -> Result<UpdateStats> {
        let l = minibatch_loss(&self.policy, b, &self.config, clip)?;
        let (mask, count) = (&b.mask, b.count);
        let mmean = |x: &Tensor| -> Result<Tensor> { Ok((x.mul(mask)?.sum_all()? / count)?) };
        let (ratio, log_ratio) = (&l.ratio, &l.log_ratio);
        let regs = l.regs;
        let scalar = |t: &Tensor| -> Result<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
        let loss_v = scalar(&l.total)?;
        if !loss_v.is_finite() {
            return Err(AgentError::NonFinite { what: "loss", update });
        }
        let mut grads = if self.critic_only {
            (&l.value * self.config.value_coef)?.backward()?
        } else {
            l.total.backward()?
        };
        crate::plant::drop_frozen(self.policy.params(), &mut grads, &self.frozen);
        let grad_norm = clip_grad_norm(self.policy.params(), &mut grads, self.config.max_grad_norm)?;
        if !grad_norm.is_finite() {
            return Err(AgentError::NonFinite {
                what: "gradient",
                update,
            });
        }
        self.opt.step(&grads)?;
        self.policy.enforce_structure()?;

        let approx_kl = scalar(&mmean(&((ratio - 1.0)? - log_ratio)?)?)?;
        let clipped = match clip {
            Some(eps) => scalar(&mmean(&(ratio - 1.0)?.abs()?.gt(eps)?.to_dtype(mask.dtype())?)?)?,
            None => 0.0,
        };
        Ok(UpdateStats {
            policy_loss: scalar(&l.policy)?,
            value_loss: scalar(&l.value)?,
            entropy: scalar(&l.entropy)?,
            approx_kl,
            clip_fraction: clipped,
            grad_norm,
            reg_activity_l2: regs[0],
            reg_weight_l2: regs[1],
            reg_weight_l1: regs[2],
            reg_zeroness: regs[3],
            reg_smoothness: regs[4],
            reg_effort: regs[5],
            reg_jerk: regs[6],
            ..Default::default()
        })
    }
}
