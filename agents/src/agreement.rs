//! Do policy gradient and backpropagation through the plant push a policy the same way?
//!
//! Under `reward.kind = "cost"` the env's expected return is minus the cost that training through the plant
//! minimises, so at a fixed policy, with the exploration noise equal to the plant's motor noise, two
//! unbiased estimates of one gradient exist:
//!
//! - pathwise ([`pathwise_ascent`]): backpropagation through the point mass (`plant_rollout`);
//! - likelihood ratio ([`likelihood_ratio_ascent`], what PPO's surrogate follows at its first
//!   minibatch): Σₜ ∇log π(aₜ|hₜ)·(Rₜ − bₜ) over env rollouts, Rₜ the reward to go and bₜ the mean reward
//!   to go at step t of the other trials with the same target and trial type (a baseline that the
//!   actions do not change, so the estimate stays unbiased; a baseline over all trials left the curl
//!   field's cosine at 0.1–0.4 at 512–4096 trials, noise from the other targets' costs).
//!
//! Their cosine over the actor's parameters ([`cosine`] of [`actor_gradient`]s) says how far the two
//! training routes agree; `examples/gradient_agreement.rs` prints it for a run's checkpoint.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor};
use reachlab_envs::reach::{Phase, ReachConfig, ReachEnv, RewardKind};

use crate::distributions::gaussian_log_prob;
use crate::error::{AgentError, Result};
use crate::plant::plant_rollout;
use crate::policy::Policy;
use crate::rollout::{RolloutConfig, RolloutWorkers};

/// The actor's gradient (core and action head, in name order) as one vector.
pub fn actor_gradient(policy: &Policy, grads: &GradStore) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for (name, var) in policy.params().vars() {
        if !(name.starts_with("actor.") || name == "pi.weight" || name == "pi.bias") {
            continue;
        }
        match grads.get(var.as_tensor()) {
            Some(g) => out.extend(g.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?),
            None => out.extend(std::iter::repeat_n(0.0, var.as_tensor().elem_count())),
        }
    }
    Ok(out)
}

/// The cosine of the angle between two vectors (NaN when one is zero).
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// The ascent direction of the expected return through the plant (minus the cost's gradient), with motor
/// noise `motor_noise` (N), averaged over ⌈trials/512⌉ batches of min(trials, 512) trials (the graph of a
/// batch holds every step).
pub fn pathwise_ascent(
    policy: &Policy,
    env: &ReachConfig,
    phase: &Phase,
    trials: usize,
    motor_noise: f64,
    seed: u64,
) -> Result<Vec<f64>> {
    let mut out = vec![];
    let batches = trials.div_ceil(512);
    for b in 0..batches {
        let ro = plant_rollout(policy, env, phase, trials.min(512), motor_noise, seed + b as u64)?;
        let g = actor_gradient(policy, &ro.loss.backward()?)?;
        if out.is_empty() {
            out = vec![0.0; g.len()];
        }
        for (o, x) in out.iter_mut().zip(g) {
            *o -= x / batches as f64;
        }
    }
    Ok(out)
}

/// The likelihood-ratio estimate of the same ascent direction from `trials` env rollouts under the cost
/// reward (the policy's own exploration noise), with a leave-one-out baseline per target and trial type.
pub fn likelihood_ratio_ascent(
    policy: &Policy,
    env: &ReachConfig,
    phase: &Phase,
    trials: usize,
    seed: u64,
) -> Result<Vec<f64>> {
    let mut env_cfg = env.clone();
    env_cfg.reward.kind = RewardKind::Cost;
    let mut workers = RolloutWorkers::new(trials, 16, 0, |_| {
        let mut e = ReachEnv::new(env_cfg.clone())?;
        e.set_phase(phase.clone())?;
        Ok(e)
    })?;
    let cfg = RolloutConfig {
        max_steps: env_cfg.trial_steps as usize,
        ..RolloutConfig::default()
    };
    let ro = workers.collect(&policy.snapshot()?, seed, &cfg)?;
    let (t, n) = (ro.steps, ro.episodes);
    // Reward to go.
    let mut to_go = vec![0.0f64; t * n];
    for i in 0..n {
        let mut acc = 0.0;
        for k in (0..t).rev() {
            acc += f64::from(ro.rewards[k * n + i]) * f64::from(ro.mask[k * n + i]);
            to_go[k * n + i] = acc;
        }
    }
    // Baseline: the mean reward to go at step t of the other trials with the same target and trial type
    // (neither depends on the actions, and leaving the trial itself out keeps the estimate unbiased).
    let group = |i: usize| (ro.final_infos[i].target, ro.final_infos[i].trial_type as usize);
    let mut groups: std::collections::BTreeMap<(usize, usize), Vec<usize>> = Default::default();
    for i in 0..n {
        groups.entry(group(i)).or_default().push(i);
    }
    let mut adv = vec![0.0f32; t * n];
    for members in groups.values() {
        for k in 0..t {
            let sum: f64 = members.iter().map(|&i| to_go[k * n + i]).sum();
            let m = members.len() as f64;
            for &i in members {
                let b = if m > 1.0 {
                    (sum - to_go[k * n + i]) / (m - 1.0)
                } else {
                    0.0
                };
                adv[k * n + i] = ((to_go[k * n + i] - b) * f64::from(ro.mask[k * n + i])) as f32;
            }
        }
    }
    let dev = Device::Cpu;
    let obs = Tensor::from_vec(ro.obs.clone(), (t, n, ro.obs_dim), &dev)?;
    let out = policy.forward(&obs, (None, None))?;
    let actions = Tensor::from_vec(ro.actions.clone(), (t, n, ro.action_width), &dev)?;
    let log_std = policy
        .log_std()
        .ok_or_else(|| AgentError::Mismatch("the likelihood-ratio gradient needs a Gaussian head".into()))?;
    let logp = gaussian_log_prob(&out.head, log_std, &actions)?;
    let adv = Tensor::from_vec(adv, (t, n), &dev)?;
    let surrogate = (logp.mul(&adv)?.sum_all()? / n as f64)?;
    actor_gradient(policy, &surrogate.backward()?)
}
