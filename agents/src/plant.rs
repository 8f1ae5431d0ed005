//! Training a reaching policy by backpropagation through the plant, as MotorNet trains its policies.
//!
//! [`closed_loop`] runs the policy in closed loop through the env effector's differentiable twin
//! ([`crate::twin`]: the point mass's exact affine map, arm26's own step on tensors) inside candle's graph,
//! so the gradient of a behavioural cost flows through the hand's whole trajectory, and
//! [`plant_bptt_step`] takes one optimiser step on it.
//!
//! The cost is the env's own per-step cost (`env.cost`, see `reachlab_envs::reach::cost`), computed
//! here on tensors from the same weights: the loss of a batch is the mean over trials of each trial's
//! mean step cost, which is minus the return the env pays under `reward.kind = "cost"` for the same
//! trial and actions (held to round-off by `agents/tests/consistency.rs` and `agents/tests/twin.rs`).
//! Motor noise (`action_noise`, in action units: N for a force, excitation for a muscle, added to the
//! commands) makes the policy use its feedback inputs rather than replay one open-loop command; the effort
//! and jerk terms see the applied (noisy, clipped) command, as the env's cost does.
//!
//! Every trial type of a phase is simulated as the env runs it: its force law (a curl or viscous field,
//! a force channel, nothing in a catch trial) acts from the go cue on, and the trials are drawn by an env
//! of the configured effector, so they are those a rollout would see.

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use reachlab_envs::effector::{Effector, ForceLaw};
use reachlab_envs::reach::{CostConfig, EffectorVisitor, Phase, Reach, ReachConfig, ReachInfo, ReachOptions};
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::{Env, Space};
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::optim::{clip_grad_norm, Adam};
use crate::policy::Policy;
use crate::twin;

/// Settings of training through the plant (a TOML table in scenario files). The cost it minimises is
/// the env's (`env.cost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlantBpttConfig {
    /// Trials per gradient step (targets taken in turn).
    pub batch: usize,
    /// Learning rate (a stage's own `learning_rate` replaces it for that stage).
    pub learning_rate: f64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// Standard deviation (in action units, N for a force) of the motor noise added to each command.
    pub action_noise: f64,
    /// Keep the optimiser (Adam's moments and step counts) from one plant stage to the next, as one learner
    /// continues across the phases of an experiment. Off (the default, what every result in
    /// docs/results.md ran): each stage after a plant stage starts with a fresh Adam, whose first steps
    /// move every weight by about the learning rate whatever the gradient's noise. A policy-gradient stage
    /// after a plant stage always starts fresh (the plant's moments belong to another loss).
    pub keep_optimizer: bool,
    /// Keys that moved to `env.cost` (read from files written before, then moved there; see
    /// [`PlantBpttConfig::take_legacy_cost`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_start: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_stop: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_path: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_effort: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_jerk: Option<f64>,
}

impl Default for PlantBpttConfig {
    fn default() -> Self {
        PlantBpttConfig {
            batch: 64,
            learning_rate: 2e-3,
            max_grad_norm: 1.0,
            action_noise: 0.5,
            keep_optimizer: false,
            move_time: None,
            w_start: None,
            w_target: None,
            w_stop: None,
            w_path: None,
            w_effort: None,
            w_jerk: None,
        }
    }
}

impl PlantBpttConfig {
    /// Moves the cost weights of a file written when they lived here (`plant_bptt.w_path`, …) into
    /// `cost`, where they live now; returns the keys moved.
    pub fn take_legacy_cost(&mut self, cost: &mut CostConfig) -> Vec<&'static str> {
        let mut moved = Vec::new();
        for (key, old, new) in [
            ("move_time", &mut self.move_time, &mut cost.move_time),
            ("w_start", &mut self.w_start, &mut cost.w_start),
            ("w_target", &mut self.w_target, &mut cost.w_target),
            ("w_stop", &mut self.w_stop, &mut cost.w_stop),
            ("w_path", &mut self.w_path, &mut cost.w_path),
            ("w_effort", &mut self.w_effort, &mut cost.w_effort),
            ("w_jerk", &mut self.w_jerk, &mut cost.w_jerk),
        ] {
            if let Some(v) = old.take() {
                *new = v;
                moved.push(key);
            }
        }
        moved
    }

    pub fn validate(&self) -> Result<()> {
        if self.batch == 0 {
            return Err(AgentError::config("plant_bptt.batch", "must be at least 1"));
        }
        for (key, v) in [
            ("plant_bptt.learning_rate", self.learning_rate),
            ("plant_bptt.max_grad_norm", self.max_grad_norm),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(AgentError::config(key, format!("{v} must be finite and > 0")));
            }
        }
        if !(self.action_noise.is_finite() && self.action_noise >= 0.0) {
            return Err(AgentError::config(
                "plant_bptt.action_noise",
                format!("{} must be finite and ≥ 0", self.action_noise),
            ));
        }
        Ok(())
    }
}

/// What one step through the plant measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlantBpttStats {
    /// The batch's cost (the mean over trials of each trial's mean step cost).
    pub loss: f64,
    pub grad_norm: f64,
}

/// One batch of trials through the plant: the loss as a differentiable tensor, and the commands applied.
pub struct PlantRollout {
    /// The batch's cost (a scalar tensor in the policy's graph).
    pub loss: Tensor,
    /// The applied (noisy, clipped) command of every trial at every step, `[T][N][A]`.
    pub actions: Vec<Vec<Vec<f64>>>,
}

/// Runs `policy` in closed loop through the plant on `cfg.batch` trials drawn by the env in `phase` from
/// `seed` (trial `i` to target `i mod n_targets`, trial types drawn as the env draws them), with the
/// motor noise `noise_std` (N), and returns the batch's cost in candle's graph.
pub fn plant_rollout(
    policy: &Policy,
    env_cfg: &ReachConfig,
    phase: &Phase,
    batch: usize,
    noise_std: f64,
    seed: u64,
) -> Result<PlantRollout> {
    let dtype = policy.params().dtype();
    let mut h = Tensor::zeros((batch, policy.actor().config().state_width()), dtype, &Device::Cpu)?;
    let stepper = policy.stepper()?;
    let mut controller = |obs: &Tensor, _t: u32| -> Result<Tensor> {
        let (next, mean) = stepper.step_mean(obs, &h)?;
        h = next;
        Ok(mean)
    };
    closed_loop(&mut controller, dtype, env_cfg, phase, batch, noise_std, seed)
}

/// The trials a batch runs, drawn by the env (with the env's effector, so the same stream as a rollout).
struct Batch {
    trials: Vec<ReachInfo<()>>,
    laws: Vec<ForceLaw>,
    /// The action space's bounds (the same on every component) and the effort unit.
    low: f64,
    high: f64,
    effort_scale: f64,
}

/// [`draw_batch`] for the effector the env names.
struct Draw<'a> {
    env_cfg: &'a ReachConfig,
    phase: &'a Phase,
    n: usize,
    seed: u64,
}

impl EffectorVisitor for Draw<'_> {
    type Output = Result<Batch>;
    fn visit<B: Effector>(self) -> Self::Output {
        draw_batch::<B>(self.env_cfg, self.phase, self.n, self.seed)
    }
}

/// Draws `n` trials in `phase` from `seed` (trial `i` to target `i mod n_targets`) with an env of
/// effector `B`.
fn draw_batch<B: Effector>(env_cfg: &ReachConfig, phase: &Phase, n: usize, seed: u64) -> Result<Batch> {
    let mut env: Reach<B> = Reach::new(env_cfg.clone())?;
    env.set_phase(phase.clone())?;
    let (mut trials, mut laws) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let options = ReachOptions {
            target: Some(i % env_cfg.n_targets),
            trial_type: None,
        };
        let (_, info) = env.reset(Some(derive_seed(seed, i as u64)), &options)?;
        trials.push(info.map_action(|_| ()));
        laws.push(env.trial_force_law());
    }
    let Space::Box(b) = env.action_space() else {
        return Err(AgentError::Mismatch("the reaching env's actions are a box".into()));
    };
    Ok(Batch {
        trials,
        laws,
        low: f64::from(b.low[0]),
        high: f64::from(b.high[0]),
        effort_scale: env.effector().effort_scale(env_cfg.action_bound),
    })
}

/// [`plant_rollout`] with any controller: `controller(obs [N, O], t)` gives the mean command [N, A] at step
/// `t` (a policy stepping its state, or a fixed sequence of commands).
pub fn closed_loop(
    controller: &mut dyn FnMut(&Tensor, u32) -> Result<Tensor>,
    dtype: DType,
    env_cfg: &ReachConfig,
    phase: &Phase,
    batch: usize,
    noise_std: f64,
    seed: u64,
) -> Result<PlantRollout> {
    let dev = Device::Cpu;
    let (n, t_max) = (batch, env_cfg.trial_steps as usize);
    let Batch {
        trials,
        laws,
        low,
        high,
        effort_scale,
    } = env_cfg.effector.visit(Draw {
        env_cfg,
        phase,
        n,
        seed,
    })?;
    let mut twin = twin::build(env_cfg, &laws, dtype)?;
    let cost = &env_cfg.cost;
    let r = env_cfg.radius;
    let ps = env_cfg.observation.position_scale;
    let move_steps = cost.move_steps(env_cfg.dt);
    let tensor = |v: Vec<f64>, shape: (usize, usize)| -> Result<Tensor> {
        Ok(Tensor::from_vec(v, shape, &dev)?.to_dtype(dtype)?)
    };
    let targets = tensor(trials.iter().flat_map(|i| i.target_pos).collect(), (n, 2))?;
    // Unit reach directions.
    let dir = tensor(
        trials
            .iter()
            .flat_map(|i| {
                let d = i.target_pos[0].hypot(i.target_pos[1]).max(f64::MIN_POSITIVE);
                [i.target_pos[0] / d, i.target_pos[1] / d]
            })
            .collect(),
        (n, 2),
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, u64::MAX));
    let extra = env_cfg.obs_dim() - 7;
    // The eighth observation, k = b·scale when the phase shows it (the env's rule).
    let k_column = if phase.show_field_input {
        let scale = env_cfg.observation.field_input_scale;
        tensor(trials.iter().map(|i| i.field_b * scale).collect(), (n, 1))?
    } else {
        Tensor::zeros((n, 1), dtype, &dev)?
    };
    let mut prev_u: Option<Tensor> = None;
    // The hand's velocity after the previous two steps (the hand jerk term; at rest before the trial).
    let mut earlier_v = [Tensor::zeros((n, 2), dtype, &dev)?, Tensor::zeros((n, 2), dtype, &dev)?];
    let jerk_scale = cost.move_time.powi(3) / (env_cfg.dt * env_cfg.dt * r);
    let mut loss = Tensor::zeros((), dtype, &dev)?;
    let mut actions = Vec::with_capacity(t_max);
    let (vision_delay, proprioception_delay) = env_cfg.observation.delay_steps(env_cfg.dt);
    let (mut seen_hand, mut seen_self) = (Vec::with_capacity(t_max), Vec::with_capacity(t_max));
    for t in 0..t_max as u32 {
        let col = |f: &dyn Fn(&ReachInfo<()>) -> f64| tensor(trials.iter().map(f).collect(), (n, 1));
        let shown = col(&|i| f64::from(u8::from(t >= i.cue_step)))?;
        let go = col(&|i| f64::from(u8::from(t >= i.go_step)))?;
        // The senses of this step, and what the delays let through (the env's `senses` delay line: the
        // values of step t − d, the reset's before that).
        seen_hand.push(twin.observe_hand()?);
        if let Some(sense) = twin.proprioception()? {
            seen_self.push(sense);
        }
        let late = |d: usize| (t as usize).saturating_sub(d);
        let mut parts = vec![
            (targets.broadcast_mul(&shown)? * ps)?,
            go,
            seen_hand[late(vision_delay)].clone(),
        ];
        if extra > 0 {
            parts.push(k_column.clone());
        }
        if !seen_self.is_empty() {
            parts.push(seen_self[late(proprioception_delay)].clone());
        }
        let obs = Tensor::cat(&parts, 1)?;
        let mean = controller(&obs, t)?;
        let width = mean.dim(1)?;
        let noise: Vec<f64> = (0..width * n)
            .map(|_| {
                let e: f64 = StandardNormal.sample(&mut rng);
                noise_std * e
            })
            .collect();
        let u = (&mean + tensor(noise, (n, width))?)?.clamp(low, high)?;
        actions.push(u.to_dtype(DType::F64)?.to_vec2::<f64>()?);
        // The env switches the law on from the go cue (its step count t ≥ go_step).
        let on = col(&|i| f64::from(u8::from(t >= i.go_step && i.field_on)))?;
        twin.step(&u, &on)?;
        let (p, v) = twin.hand()?;
        // The cost of the state after this step (step count s = t + 1): `CostConfig::step_cost` on tensors.
        let s = t + 1;
        let before = col(&|i| f64::from(u8::from(s < i.go_step)))?;
        let moving = col(&|i| f64::from(u8::from(s >= i.go_step)))?;
        let after = col(&|i| f64::from(u8::from(s >= i.go_step + move_steps)))?;
        let start_cost = (p.sqr()?.sum_keepdim(1)? * (cost.w_start / (r * r)))?.broadcast_mul(&before)?;
        let off = ((&p - &targets)?.sqr()?.sum_keepdim(1)? + 1e-6)?.sqrt()?;
        let stop = (v.sqr()?.sum_keepdim(1)? * (cost.move_time * cost.move_time / (r * r)))?;
        let target_cost = ((off * (cost.w_target / r))? + (stop * cost.w_stop)?)?;
        let target_cost = target_cost.broadcast_mul(&after)?;
        let perp = (p.narrow(1, 0, 1)?.mul(&dir.narrow(1, 1, 1)?)? - p.narrow(1, 1, 1)?.mul(&dir.narrow(1, 0, 1)?)?)?;
        let path_cost = (perp.sqr()? * (cost.w_path / (r * r)))?.broadcast_mul(&moving)?;
        let path_cost = if cost.w_overshoot > 0.0 {
            // The distance past the target along the reach direction, from the go cue on.
            let along = (&p - &targets)?.mul(&dir)?.sum_keepdim(1)?.relu()?;
            (path_cost + (along.sqr()? * (cost.w_overshoot / (r * r)))?.broadcast_mul(&moving)?)?
        } else {
            path_cost
        };
        let scale2 = effort_scale * effort_scale;
        let effort = (u.sqr()?.sum_keepdim(1)? * (cost.w_effort / scale2))?;
        let mut step_cost = (((start_cost + target_cost)? + effort)? + path_cost)?;
        if let Some(pu) = &prev_u {
            let jerk = ((&u - pu)?.sqr()?.sum_keepdim(1)? * (cost.w_jerk / scale2))?;
            step_cost = (step_cost + jerk)?;
        }
        prev_u = Some(u);
        if cost.w_hand_jerk > 0.0 {
            let [v1, v2] = &earlier_v;
            let j = ((&v - (v1 * 2.0)?)? + v2)?;
            let hand_jerk = ((j * jerk_scale)?.sqr()?.sum_keepdim(1)? * cost.w_hand_jerk)?;
            step_cost = (step_cost + hand_jerk)?;
            earlier_v = [v.clone(), v1.clone()];
        }
        loss = (loss + step_cost.mean_all()?)?;
    }
    let loss = (loss / t_max as f64)?;
    Ok(PlantRollout { loss, actions })
}

/// One gradient step of `policy` through the plant (see [`plant_rollout`]) with `opt` at the learning
/// rate `cfg.learning_rate`. Variables named in `frozen` keep their values (their gradients are dropped,
/// and Adam leaves their moments and step counts alone).
pub fn plant_bptt_step(
    policy: &mut Policy,
    opt: &mut Adam,
    env_cfg: &ReachConfig,
    phase: &Phase,
    cfg: &PlantBpttConfig,
    frozen: &[String],
    seed: u64,
) -> Result<PlantBpttStats> {
    let ro = plant_rollout(policy, env_cfg, phase, cfg.batch, cfg.action_noise, seed)?;
    let value = ro.loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    if !value.is_finite() {
        return Err(AgentError::NonFinite {
            what: "loss through the plant",
            update: opt.steps() as usize,
        });
    }
    let mut grads = ro.loss.backward()?;
    drop_frozen(policy.params(), &mut grads, frozen);
    let grad_norm = clip_grad_norm(policy.params(), &mut grads, cfg.max_grad_norm)?;
    opt.lr = cfg.learning_rate;
    opt.step(&grads)?;
    policy.enforce_structure()?;
    Ok(PlantBpttStats { loss: value, grad_norm })
}

/// Removes the gradients of the variables named in `frozen` (so that an optimiser step leaves them be).
pub fn drop_frozen(params: &crate::params::Params, grads: &mut candle_core::backprop::GradStore, frozen: &[String]) {
    for name in frozen {
        if let Some(v) = params.get(name) {
            grads.remove(v.as_tensor());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{CoreConfig, CoreKind};
    use crate::policy::{HeadKind, PolicyConfig};

    /// An f64 policy of 3 inputs and 2 Gaussian actions on a core of `kind` with `hidden` units.
    fn small_policy(kind: CoreKind, hidden: usize) -> Policy {
        let cfg = PolicyConfig {
            core: CoreConfig {
                kind,
                hidden,
                ..CoreConfig::default()
            },
            ..PolicyConfig::default()
        };
        Policy::with_dtype(&cfg, 3, HeadKind::Gaussian { dim: 2 }, DType::F64).unwrap()
    }

    #[test]
    fn stepping_a_core_in_the_graph_gives_the_fused_sequence() {
        for kind in [CoreKind::Gru, CoreKind::Lstm, CoreKind::Vanilla] {
            let policy = small_policy(kind, 6);
            let core = policy.actor();
            let (t, b) = (4, 2);
            let xs: Vec<f64> = (0..t * b * 3).map(|k| ((k * 7 % 11) as f64 - 5.0) / 5.0).collect();
            let x = Tensor::from_vec(xs, (t, b, 3), &Device::Cpu).unwrap();
            let h0 = core.zero_state(b, DType::F64, &Device::Cpu).unwrap();
            let whole = core.forward(&x, &h0, None).unwrap();
            let mut state = h0;
            for s in 0..t {
                let (next, h) = core.step_graph(&x.get(s).unwrap(), &state).unwrap();
                state = next;
                let d = (h - whole.get(s).unwrap()).unwrap().abs().unwrap().max_all().unwrap();
                assert!(d.to_scalar::<f64>().unwrap() < 1e-12, "{kind:?} step {s}");
            }
        }
    }

    /// A stepper's weights, unpacked once for all steps, give the outputs and the weight gradients that
    /// unpacking them at every step gives, to the bit.
    #[test]
    fn a_stepper_steps_and_differentiates_as_separate_steps_do() {
        for kind in [CoreKind::Gru, CoreKind::Vanilla, CoreKind::Lstm] {
            let policy = small_policy(kind, 5);
            let (t, b) = (6, 3);
            let xs: Vec<f64> = (0..t * b * 3).map(|k| ((k * 5 % 13) as f64 - 6.0) / 6.0).collect();
            let x = Tensor::from_vec(xs, (t, b, 3), &Device::Cpu).unwrap();
            let run = |shared: bool| {
                let stepper = policy.stepper().unwrap();
                let mut h = policy.actor().zero_state(b, DType::F64, &Device::Cpu).unwrap();
                let mut loss = Tensor::zeros((), DType::F64, &Device::Cpu).unwrap();
                for s in 0..t {
                    let obs = x.get(s).unwrap();
                    let (next, mean) = if shared {
                        stepper.step_mean(&obs, &h).unwrap()
                    } else {
                        policy.step_mean(&obs, &h).unwrap()
                    };
                    // The state's terms reach the core's weights (the head may start at 0).
                    let term =
                        (next.sqr().unwrap().sum_all().unwrap() * (s + 1) as f64 + mean.sum_all().unwrap()).unwrap();
                    h = next;
                    loss = (loss + term).unwrap();
                }
                let grads = loss.backward().unwrap();
                let g: Vec<Vec<f64>> = policy
                    .params()
                    .vars()
                    .map(|(_, v)| match grads.get(v.as_tensor()) {
                        Some(g) => g.flatten_all().unwrap().to_vec1().unwrap(),
                        None => vec![],
                    })
                    .collect();
                (loss.to_scalar::<f64>().unwrap(), g)
            };
            let (a, b) = (run(true), run(false));
            assert_eq!(a.0, b.0, "{kind:?}: loss");
            assert_eq!(a.1, b.1, "{kind:?}: gradients");
            assert!(a.1.iter().any(|g| g.iter().any(|x| *x != 0.0)), "{kind:?}: a gradient");
        }
    }
}
