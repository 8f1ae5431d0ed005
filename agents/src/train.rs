//! Policy-gradient training with whole-episode BPTT: PPO (clipped surrogate, GAE), A2C and REINFORCE with a
//! learned baseline.
//!
//! One update = one rollout of whole episodes + `epochs` passes over minibatches of whole episodes (the
//! recurrent state starts at zero at every episode start; value bootstrapped on truncation, never on
//! termination). A2C and REINFORCE are the same loss with one epoch, one minibatch and no clipping (at
//! θ = θ_old the gradient of ratio·A is ∇log π·A); REINFORCE uses λ = 1 (Monte-Carlo returns against the
//! learned baseline).

use std::time::Instant;

use candle_core::{DType, Tensor, D};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::Env;
use serde::{Deserialize, Serialize};

use crate::distributions::{
    categorical_entropy, categorical_log_prob, gaussian_entropy, gaussian_kl, gaussian_log_prob,
};
use crate::error::{AgentError, Result};
use crate::gae::{gae, RunningMeanStd};
use crate::optim::Adam;
use crate::policy::{HeadKind, Policy};
use crate::rollout::{EpisodeOutcome, PolicyAction, Rollout, RolloutConfig, RolloutWorkers};

/// The policy-gradient estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    Ppo,
    A2c,
    Reinforce,
}

/// Weights of the regularisers added to the loss (0 = off). Each is logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegularizerConfig {
    /// Mean squared hidden activity.
    pub activity_l2: f64,
    /// Mean squared weight over every weight matrix (not biases, not log-σ).
    pub weight_l2: f64,
    /// Mean absolute weight over every weight matrix.
    pub weight_l1: f64,
    /// λ_z of E_t KL(π(·|h_t) ‖ N(0, σ_z²)) ("zeroness").
    pub zeroness: f64,
    /// σ_z of the zeroness prior.
    pub zeroness_std: f64,
    /// λ_s of E_t KL(π(·|h_t) ‖ sg[π(·|h_{t−1})]) ("smoothness").
    pub smoothness: f64,
    /// Mean squared action mean (effort).
    pub effort: f64,
    /// Mean squared second difference of the action mean (jerk).
    pub jerk: f64,
}

impl Default for RegularizerConfig {
    fn default() -> Self {
        RegularizerConfig {
            activity_l2: 0.0,
            weight_l2: 0.0,
            weight_l1: 0.0,
            zeroness: 0.0,
            zeroness_std: 1.0,
            smoothness: 0.0,
            effort: 0.0,
            jerk: 0.0,
        }
    }
}

/// Training settings (a TOML table in scenario files). Defaults are those known to learn the reaching task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub algorithm: Algorithm,
    /// Whole episodes per rollout.
    pub episodes_per_update: usize,
    /// Envs per worker block (fixes the work split; results depend on it, not on the thread count).
    pub envs_per_block: usize,
    /// Rollout threads (0 = one per core).
    pub threads: usize,
    pub rollout: RolloutConfig,
    pub gamma: f64,
    pub gae_lambda: f64,
    pub epochs: usize,
    pub minibatches: usize,
    /// PPO ratio clip ε.
    pub clip: f64,
    /// Clip the value change to ± this (in normalised units); 0 = off.
    pub value_clip: f64,
    pub value_coef: f64,
    pub entropy_coef: f64,
    pub normalize_advantages: bool,
    /// Value targets divided by a running standard deviation of the returns.
    pub normalize_returns: bool,
    /// Global gradient-norm clip (0 = off).
    pub max_grad_norm: f64,
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to this fraction over `anneal_updates` updates (0 = constant).
    pub lr_final_fraction: f64,
    pub anneal_updates: usize,
    /// Stop an update's epochs once the approximate KL exceeds this (0 = off).
    pub target_kl: f64,
    pub adam_eps: f64,
    pub regularizers: RegularizerConfig,
    /// Seed of the rollouts and minibatch order.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            algorithm: Algorithm::Ppo,
            episodes_per_update: 64,
            envs_per_block: 8,
            threads: 0,
            rollout: RolloutConfig::default(),
            gamma: 0.99,
            gae_lambda: 0.95,
            epochs: 4,
            minibatches: 4,
            clip: 0.2,
            value_clip: 0.0,
            value_coef: 0.5,
            entropy_coef: 0.0,
            normalize_advantages: true,
            normalize_returns: true,
            max_grad_norm: 0.5,
            learning_rate: 1e-3,
            lr_final_fraction: 1.0,
            anneal_updates: 0,
            target_kl: 0.0,
            adam_eps: 1e-5,
            regularizers: RegularizerConfig::default(),
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// The epochs, minibatches, λ and clipping the algorithm implies.
    fn effective(&self) -> (usize, usize, f64, Option<f64>) {
        match self.algorithm {
            Algorithm::Ppo => (self.epochs, self.minibatches, self.gae_lambda, Some(self.clip)),
            Algorithm::A2c => (1, 1, self.gae_lambda, None),
            Algorithm::Reinforce => (1, 1, 1.0, None),
        }
    }

    pub fn validate(&self) -> Result<()> {
        let unit = |key: &'static str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(AgentError::config(key, format!("{v} is not in [0, 1]")))
            }
        };
        unit("train.gamma", self.gamma)?;
        unit("train.gae_lambda", self.gae_lambda)?;
        unit("train.lr_final_fraction", self.lr_final_fraction)?;
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(AgentError::config("train.learning_rate", "must be finite and > 0"));
        }
        if self.epochs == 0 {
            return Err(AgentError::config("train.epochs", "must be at least 1"));
        }
        if self.minibatches == 0 || self.minibatches > self.episodes_per_update {
            return Err(AgentError::config(
                "train.minibatches",
                format!("must be in 1..={} (episodes_per_update)", self.episodes_per_update),
            ));
        }
        if self.clip <= 0.0 {
            return Err(AgentError::config("train.clip", "must be > 0"));
        }
        let r = &self.regularizers;
        for (key, v) in [
            ("train.regularizers.activity_l2", r.activity_l2),
            ("train.regularizers.weight_l2", r.weight_l2),
            ("train.regularizers.weight_l1", r.weight_l1),
            ("train.regularizers.zeroness", r.zeroness),
            ("train.regularizers.smoothness", r.smoothness),
            ("train.regularizers.effort", r.effort),
            ("train.regularizers.jerk", r.jerk),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(AgentError::config(key, format!("{v} must be finite and ≥ 0")));
            }
        }
        if r.zeroness_std.is_nan() || r.zeroness_std <= 0.0 {
            return Err(AgentError::config("train.regularizers.zeroness_std", "must be > 0"));
        }
        Ok(())
    }
}

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
}

impl<E> Trainer<E>
where
    E: Env,
    E::Action: PolicyAction,
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
        let opt = Adam::new(policy.params(), config.learning_rate, config.adam_eps)?;
        Ok(Trainer {
            policy,
            config,
            workers,
            opt,
            state: TrainerState::default(),
            last: None,
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
        let cfg = &self.config;
        let rc = &cfg.regularizers;
        let p = &self.policy;
        let out = p.forward(&b.obs, (b.noise_actor.as_ref(), b.noise_critic.as_ref()))?;
        let mask = &b.mask;
        let count = b.count;
        let mmean = |x: &Tensor| -> Result<Tensor> { Ok((x.mul(mask)?.sum_all()? / count)?) };
        let (logp, entropy) = match p.head_kind() {
            HeadKind::Gaussian { .. } => {
                let ls = p.log_std().expect("Gaussian heads have log-σ");
                (gaussian_log_prob(&out.head, ls, &b.actions)?, gaussian_entropy(ls)?)
            }
            HeadKind::Categorical { .. } => {
                let a = b.actions.squeeze(D::Minus1)?;
                (
                    categorical_log_prob(&out.head, &a)?,
                    mmean(&categorical_entropy(&out.head)?)?,
                )
            }
        };
        let log_ratio = (&logp - &b.old_log_probs)?;
        let ratio = log_ratio.exp()?;
        let pg = match clip {
            Some(eps) => {
                let s1 = ratio.mul(&b.advantages)?;
                let s2 = ratio.clamp(1.0 - eps, 1.0 + eps)?.mul(&b.advantages)?;
                mmean(&s1.minimum(&s2)?)?.neg()?
            }
            None => mmean(&ratio.mul(&b.advantages)?)?.neg()?,
        };
        let verr = (&out.value - &b.targets)?.sqr()?;
        let vloss = if cfg.value_clip > 0.0 {
            let vc = (&b.old_values + (&out.value - &b.old_values)?.clamp(-cfg.value_clip, cfg.value_clip)?)?;
            (mmean(&verr.maximum(&(vc - &b.targets)?.sqr()?)?)? * 0.5)?
        } else {
            (mmean(&verr)? * 0.5)?
        };
        let mut loss = ((&pg + (&vloss * cfg.value_coef)?)? - (&entropy * cfg.entropy_coef)?)?;

        let mut regs = [0.0f64; 7];
        let mut add = |loss: &mut Tensor, i: usize, w: f64, term: Tensor| -> Result<()> {
            regs[i] = term.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            *loss = (&*loss + (term * w)?)?;
            Ok(())
        };
        if rc.activity_l2 > 0.0 {
            add(
                &mut loss,
                0,
                rc.activity_l2,
                mmean(&out.hidden.sqr()?.mean(D::Minus1)?)?,
            )?;
        }
        if rc.weight_l2 > 0.0 || rc.weight_l1 > 0.0 {
            let ws: Vec<Tensor> = p
                .params()
                .vars()
                .filter(|(k, _)| k.contains("weight"))
                .map(|(_, v)| v.as_tensor().clone())
                .collect();
            let total: usize = ws.iter().map(|w| w.elem_count()).sum();
            if rc.weight_l2 > 0.0 {
                let mut s = ws[0].sqr()?.sum_all()?;
                for w in &ws[1..] {
                    s = (s + w.sqr()?.sum_all()?)?;
                }
                add(&mut loss, 1, rc.weight_l2, (s / total as f64)?)?;
            }
            if rc.weight_l1 > 0.0 {
                let mut s = ws[0].abs()?.sum_all()?;
                for w in &ws[1..] {
                    s = (s + w.abs()?.sum_all()?)?;
                }
                add(&mut loss, 2, rc.weight_l1, (s / total as f64)?)?;
            }
        }
        if let HeadKind::Gaussian { .. } = p.head_kind() {
            let mean = &out.head;
            let ls = p.log_std().expect("Gaussian heads have log-σ");
            if rc.zeroness > 0.0 {
                let zero = Tensor::zeros(1, mean.dtype(), mean.device())?;
                let ls_z = Tensor::new(&[rc.zeroness_std.ln()], mean.device())?.to_dtype(mean.dtype())?;
                add(&mut loss, 3, rc.zeroness, mmean(&gaussian_kl(mean, ls, &zero, &ls_z)?)?)?;
            }
            let t = mean.dim(0)?;
            if rc.smoothness > 0.0 && t > 1 {
                let now = mean.narrow(0, 1, t - 1)?;
                let before = mean.narrow(0, 0, t - 1)?.detach();
                let kl = gaussian_kl(&now, ls, &before, &ls.detach())?;
                let m2 = (mask.narrow(0, 1, t - 1)? * mask.narrow(0, 0, t - 1)?)?;
                let n2 = m2.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?.max(1.0);
                add(&mut loss, 4, rc.smoothness, (kl.mul(&m2)?.sum_all()? / n2)?)?;
            }
            if rc.effort > 0.0 {
                add(&mut loss, 5, rc.effort, mmean(&mean.sqr()?.sum(D::Minus1)?)?)?;
            }
            if rc.jerk > 0.0 && t > 2 {
                let d2 =
                    ((mean.narrow(0, 2, t - 2)? - (mean.narrow(0, 1, t - 2)? * 2.0)?)? + mean.narrow(0, 0, t - 2)?)?;
                let m3 = ((mask.narrow(0, 2, t - 2)? * mask.narrow(0, 1, t - 2)?)? * mask.narrow(0, 0, t - 2)?)?;
                let n3 = m3.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?.max(1.0);
                add(
                    &mut loss,
                    6,
                    rc.jerk,
                    (d2.sqr()?.sum(D::Minus1)?.mul(&m3)?.sum_all()? / n3)?,
                )?;
            }
        }
        let scalar = |t: &Tensor| -> Result<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
        let loss_v = scalar(&loss)?;
        if !loss_v.is_finite() {
            return Err(AgentError::NonFinite { what: "loss", update });
        }
        let mut grads = loss.backward()?;
        let vars: Vec<_> = p.params().vars().map(|(_, v)| v.clone()).collect();
        let mut sq = 0.0f64;
        for v in &vars {
            if let Some(g) = grads.get(v.as_tensor()) {
                sq += scalar(&g.sqr()?.sum_all()?)?;
            }
        }
        let grad_norm = sq.sqrt();
        if !grad_norm.is_finite() {
            return Err(AgentError::NonFinite {
                what: "gradient",
                update,
            });
        }
        if cfg.max_grad_norm > 0.0 && grad_norm > cfg.max_grad_norm {
            let scale = cfg.max_grad_norm / grad_norm;
            for v in &vars {
                if let Some(g) = grads.remove(v.as_tensor()) {
                    grads.insert(v.as_tensor(), (g * scale)?);
                }
            }
        }
        self.opt.step(&grads)?;
        self.policy.enforce_structure()?;

        let approx_kl = scalar(&mmean(&((&ratio - 1.0)? - &log_ratio)?)?)?;
        let clipped = match clip {
            Some(eps) => scalar(&mmean(&(&ratio - 1.0)?.abs()?.gt(eps)?.to_dtype(mask.dtype())?)?)?,
            None => 0.0,
        };
        Ok(UpdateStats {
            policy_loss: scalar(&pg)?,
            value_loss: scalar(&vloss)?,
            entropy: scalar(&entropy)?,
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

fn explained_variance(valid: &[usize], values: &[f32], returns: &[f32]) -> f64 {
    let n = valid.len().max(1) as f64;
    let mr = valid.iter().map(|&k| f64::from(returns[k])).sum::<f64>() / n;
    let var_r = valid.iter().map(|&k| (f64::from(returns[k]) - mr).powi(2)).sum::<f64>() / n;
    let res: Vec<f64> = valid.iter().map(|&k| f64::from(returns[k] - values[k])).collect();
    let mres = res.iter().sum::<f64>() / n;
    let var_res = res.iter().map(|x| (x - mres).powi(2)).sum::<f64>() / n;
    if var_r > 0.0 {
        1.0 - var_res / var_r
    } else {
        f64::NAN
    }
}

/// Sums of per-minibatch diagnostics.
#[derive(Default)]
struct Accum {
    n: usize,
    sum: UpdateStats,
}

impl Accum {
    fn add(&mut self, s: &UpdateStats) {
        self.n += 1;
        let a = &mut self.sum;
        a.policy_loss += s.policy_loss;
        a.value_loss += s.value_loss;
        a.entropy += s.entropy;
        a.approx_kl += s.approx_kl;
        a.clip_fraction += s.clip_fraction;
        a.grad_norm += s.grad_norm;
        a.reg_activity_l2 += s.reg_activity_l2;
        a.reg_weight_l2 += s.reg_weight_l2;
        a.reg_weight_l1 += s.reg_weight_l1;
        a.reg_zeroness += s.reg_zeroness;
        a.reg_smoothness += s.reg_smoothness;
        a.reg_effort += s.reg_effort;
        a.reg_jerk += s.reg_jerk;
    }

    fn mean(self) -> UpdateStats {
        let k = self.n.max(1) as f64;
        let a = self.sum;
        UpdateStats {
            policy_loss: a.policy_loss / k,
            value_loss: a.value_loss / k,
            entropy: a.entropy / k,
            approx_kl: a.approx_kl / k,
            clip_fraction: a.clip_fraction / k,
            grad_norm: a.grad_norm / k,
            reg_activity_l2: a.reg_activity_l2 / k,
            reg_weight_l2: a.reg_weight_l2 / k,
            reg_weight_l1: a.reg_weight_l1 / k,
            reg_zeroness: a.reg_zeroness / k,
            reg_smoothness: a.reg_smoothness / k,
            reg_effort: a.reg_effort / k,
            reg_jerk: a.reg_jerk / k,
            ..Default::default()
        }
    }
}

/// Whole episodes gathered from a rollout, time-major, trimmed to the longest of them.
struct Minibatch {
    obs: Tensor,
    actions: Tensor,
    old_log_probs: Tensor,
    old_values: Tensor,
    advantages: Tensor,
    targets: Tensor,
    mask: Tensor,
    count: f64,
    noise_actor: Option<Tensor>,
    noise_critic: Option<Tensor>,
}

impl Minibatch {
    fn gather<I>(ro: &Rollout<I>, eps: &[usize], adv: &[f32], targets: &[f32], dtype: DType) -> Result<Self> {
        let t = eps.iter().map(|&e| ro.lengths[e]).max().unwrap_or(0).max(1);
        let (b, n) = (eps.len(), ro.episodes);
        let dev = candle_core::Device::Cpu;
        // `[t, b, w]`, or `[t, b]` for per-step scalars (w = 0 means one scalar).
        let take = |src: &[f32], w: usize| -> Result<Tensor> {
            let (w, scalar) = if w == 0 { (1, true) } else { (w, false) };
            let mut v = Vec::with_capacity(t * b * w);
            for s in 0..t {
                for &e in eps {
                    let k = s * n + e;
                    v.extend_from_slice(&src[k * w..(k + 1) * w]);
                }
            }
            let shape: Vec<usize> = if scalar { vec![t, b] } else { vec![t, b, w] };
            Ok(Tensor::from_vec(v, shape, &dev)?.to_dtype(dtype)?)
        };
        let mask = take(&ro.mask, 0)?;
        let count = eps.iter().map(|&e| ro.lengths[e]).sum::<usize>().max(1) as f64;
        let nw = if ro.noise_actor.is_empty() {
            0
        } else {
            ro.noise_actor.len() / (ro.steps * n)
        };
        let actions = take(&ro.actions, ro.action_width)?;
        Ok(Minibatch {
            obs: take(&ro.obs, ro.obs_dim)?,
            actions,
            old_log_probs: take(&ro.log_probs, 0)?,
            old_values: take(&ro.values, 0)?,
            advantages: take(adv, 0)?,
            targets: take(targets, 0)?,
            mask,
            count,
            noise_actor: if nw > 0 { Some(take(&ro.noise_actor, nw)?) } else { None },
            noise_critic: if nw > 0 && !ro.noise_critic.is_empty() {
                Some(take(&ro.noise_critic, nw)?)
            } else {
                None
            },
        })
    }
}
