//! Do policy gradient and backpropagation through the plant push a policy the same way?
//!
//! At a fixed policy (a run's checkpoint), with the exploration noise equal to the plant's motor noise,
//! this estimates the gradient of one objective, the expected return under `reward.kind = "cost"` (minus
//! the per-step cost `env.cost`), two ways over the same number of trials:
//!
//! - pathwise: backpropagation through the point mass (`plant_rollout`), the gradient of the cost;
//! - likelihood ratio (what PPO's surrogate follows at its first minibatch): Σₜ ∇log π(aₜ|hₜ)·(Rₜ − bₜ)
//!   over env rollouts, Rₜ the reward to go and bₜ the mean reward to go at step t of the other trials
//!   with the same target and trial type (a baseline that the actions do not change, so the estimate
//!   stays unbiased);
//!
//! and prints their cosine over the actor's parameters (core and action head), in the null field and in
//! the phase's field. Two independent pathwise estimates give the cosine that sampling noise alone
//! leaves, for scale.
//!
//! ```sh
//! cargo run --release --example gradient_agreement -- RUN_DIR [STAGE_CHECKPOINT] [PHASE] [TRIALS]
//! # e.g. after `train_agent --scenario curl_field_plant --out runs/plant`:
//! cargo run --release --example gradient_agreement -- runs/plant baseline learning 4096
//! ```

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use reachlab::agents::{gaussian_log_prob, load_checkpoint, plant_rollout, Policy, RolloutConfig, RolloutWorkers};
use reachlab::envs::reach::{ReachEnv, RewardKind};
use reachlab::scenarios::Scenario;

/// The actor's gradient (core and action head, in name order) as one vector.
fn actor_gradient(policy: &Policy, grads: &candle_core::backprop::GradStore) -> Result<Vec<f64>> {
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

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// The ascent direction of the expected return through the plant (minus the cost's gradient).
fn pathwise(
    policy: &Policy,
    s: &Scenario,
    phase: &reachlab::envs::reach::Phase,
    trials: usize,
    seed: u64,
) -> Result<Vec<f64>> {
    let mut out = vec![];
    // Batches of 512 trials, averaged (the graph of one batch holds every step).
    let batches = trials.div_ceil(512);
    for b in 0..batches {
        let ro = plant_rollout(policy, &s.env, phase, 512, s.plant_bptt.action_noise, seed + b as u64)?;
        eprintln!("  plant loss {:.5}", ro.loss.to_dtype(DType::F64)?.to_scalar::<f64>()?);
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

/// The likelihood-ratio estimate of the same ascent direction from env rollouts under the cost reward.
fn likelihood_ratio(
    policy: &Policy,
    s: &Scenario,
    phase: &reachlab::envs::reach::Phase,
    trials: usize,
    seed: u64,
) -> Result<Vec<f64>> {
    let mut env_cfg = s.env.clone();
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
    eprintln!("  env mean return {:.5}", ro.mean_return());
    let (t, n) = (ro.steps, ro.episodes);
    // Reward to go, and its mean over trials at each step.
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
    let log_std = policy.log_std().context("a Gaussian head")?;
    let logp = gaussian_log_prob(&out.head, log_std, &actions)?;
    let adv = Tensor::from_vec(adv, (t, n), &dev)?;
    let surrogate = (logp.mul(&adv)?.sum_all()? / n as f64)?;
    actor_gradient(policy, &surrogate.backward()?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(run) = args.first().map(PathBuf::from) else {
        bail!("usage: gradient_agreement RUN_DIR [STAGE_CHECKPOINT] [PHASE] [TRIALS]");
    };
    let stage = args.get(1).map_or("baseline", String::as_str);
    let phase_name = args.get(2).map_or("learning", String::as_str);
    let trials: usize = args.get(3).map_or(Ok(4096), |s| s.parse())?;
    let s = Scenario::load(&run.join("scenario.toml"))?;
    let (policy, _) = load_checkpoint(&run.join("checkpoints").join(stage))?;
    let noise = policy
        .log_std()
        .context("a Gaussian head")?
        .to_dtype(DType::F64)?
        .exp()?
        .to_vec1::<f64>()?;
    println!(
        "policy: {} ({stage}); exploration σ = {noise:.3?} N, plant motor noise {} N; {trials} trials per estimate",
        run.display(),
        s.plant_bptt.action_noise
    );
    let field = s
        .phases
        .iter()
        .find(|p| p.name == phase_name)
        .with_context(|| format!("no phase `{phase_name}`"))?
        .phase();
    let null = reachlab::envs::reach::Phase {
        channel_prob: field.channel_prob,
        ..reachlab::envs::reach::Phase::null("null")
    };
    for (label, phase) in [("null field", &null), (phase_name, &field)] {
        let started = std::time::Instant::now();
        let p1 = pathwise(&policy, &s, phase, trials, 1)?;
        let p2 = pathwise(&policy, &s, phase, trials, 1 << 20)?;
        let lr = likelihood_ratio(&policy, &s, phase, trials, 7)?;
        println!(
            "{label:<12} cos(likelihood ratio, pathwise) = {:.3}   cos(pathwise, pathwise') = {:.3}   ({:.1} s)",
            cosine(&lr, &p1),
            cosine(&p1, &p2),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
