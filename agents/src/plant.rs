//! Training a reaching policy by backpropagation through the plant, as MotorNet trains its policies.
//!
//! Every force law of the reaching env is linear in the hand state, so one step of the point mass is an
//! affine map `z' = A·z + B·u` of `z = [p, v]` (see `reachlab_envs::effector::PointMass`). [`PlantModel`]
//! reads `A` and `B` off the env's own point mass by stepping it from basis states (the map is exactly
//! linear, so this is exact, and the two cannot disagree), and [`plant_bptt_step`] runs the policy in
//! closed loop through that map inside candle's graph, so the gradient of a behavioural cost flows through
//! the hand's whole trajectory.
//!
//! The cost is the env's own per-step cost (`env.cost`, see `reachlab_envs::reach::cost`), computed
//! here on tensors from the same weights: the loss of a batch is the mean over trials of each trial's
//! mean step cost, which is minus the return the env pays under `reward.kind = "cost"` for the same
//! trial and actions (held to round-off by `agents/tests/consistency.rs`). Motor noise (`action_noise`,
//! N, added to the commands) makes the policy use its feedback inputs rather than replay one open-loop
//! command; the effort and jerk terms see the applied (noisy, clipped) command, as the env's cost does.
//!
//! Every trial type of a phase is simulated as the env runs it: its force law (a curl or viscous field,
//! a force channel, nothing in a catch trial) acts from the go cue on, and every such law is linear in
//! the hand state, so each trial steps by its own exact affine map.

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use reachlab_envs::effector::{ForceLaw, PointMass};
use reachlab_envs::reach::{CostConfig, EffectorConfig, Phase, ReachConfig, ReachEnv, ReachOptions};
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::Env;
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::optim::{clip_grad_norm, Adam};
use crate::policy::Policy;

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

/// The null-field step of the env's point mass as `z' = A·z + B·u`, `z = [px, py, vx, vy]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantModel {
    pub a: [[f64; 4]; 4],
    pub b: [[f64; 2]; 4],
}

impl PlantModel {
    /// Reads the map off the env's point mass (its integrator and action meaning) in the null field.
    pub fn of(env: &ReachConfig) -> Result<Self> {
        Self::with_law(env, &ForceLaw::NULL)
    }

    /// The same under a force law linear in the hand state (a curl or viscous field): still an affine
    /// map, read off the env's point mass the same way (exact for its exact integrator too).
    pub fn with_law(env: &ReachConfig, law: &ForceLaw) -> Result<Self> {
        let EffectorConfig::PointMass(pm) = env.effector else {
            return Err(AgentError::config(
                "env.effector",
                "training through the plant needs the point mass (its step is affine)",
            ));
        };
        let mut body = PointMass::new(pm, env.dt)?;
        let state = |body: &PointMass| {
            let h = body.hand();
            [h.pos[0], h.pos[1], h.vel[0], h.vel[1]]
        };
        let mut a = [[0.0; 4]; 4];
        for j in 0..4 {
            let mut z = [0.0; 4];
            z[j] = 1.0;
            body.set_state([z[0], z[1]], [z[2], z[3]]);
            body.step([0.0, 0.0], law);
            let col = state(&body);
            for i in 0..4 {
                a[i][j] = col[i];
            }
        }
        let mut b = [[0.0; 2]; 4];
        for j in 0..2 {
            let mut u = [0.0; 2];
            u[j] = 1.0;
            body.set_state([0.0; 2], [0.0; 2]);
            body.step(u, law);
            let col = state(&body);
            for i in 0..4 {
                b[i][j] = col[i];
            }
        }
        Ok(PlantModel { a, b })
    }
}

/// The transposed maps of the force law `laws[i]` of each trial `i`, as `([N, 4, 4], [N, 2, 4])`
/// tensors, so that `z.unsqueeze(1)·A + u.unsqueeze(1)·B` steps every trial at once.
pub fn law_maps(env: &ReachConfig, laws: &[ForceLaw], dtype: DType) -> Result<(Tensor, Tensor)> {
    let n = laws.len();
    let (mut a, mut b) = (Vec::with_capacity(n * 16), Vec::with_capacity(n * 8));
    for law in laws {
        let m = PlantModel::with_law(env, law)?;
        a.extend((0..4).flat_map(|j| (0..4).map(move |i| m.a[i][j])));
        b.extend((0..2).flat_map(|j| (0..4).map(move |i| m.b[i][j])));
    }
    let dev = Device::Cpu;
    Ok((
        Tensor::from_vec(a, (n, 4, 4), &dev)?.to_dtype(dtype)?,
        Tensor::from_vec(b, (n, 2, 4), &dev)?.to_dtype(dtype)?,
    ))
}

/// [`law_maps`] of curl fields of coefficients `bs`.
pub fn curl_maps(env: &ReachConfig, bs: &[f64], dtype: DType) -> Result<(Tensor, Tensor)> {
    let laws: Vec<ForceLaw> = bs.iter().map(|&b| ForceLaw::curl(b)).collect();
    law_maps(env, &laws, dtype)
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
    /// The applied (noisy, clipped) command of every trial at every step, `[T][N][2]`.
    pub actions: Vec<Vec<[f64; 2]>>,
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
    let mut controller = |obs: &Tensor, _t: u32| -> Result<Tensor> {
        let (next, mean) = policy.step_mean(obs, &h)?;
        h = next;
        Ok(mean)
    };
    closed_loop(&mut controller, dtype, env_cfg, phase, batch, noise_std, seed)
}

/// [`plant_rollout`] with any controller: `controller(obs [N, O], t)` gives the mean command [N, 2] at step
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
    let mut env = ReachEnv::new(env_cfg.clone())?;
    env.set_phase(phase.clone())?;
    let mut trials = Vec::with_capacity(n);
    let mut laws = Vec::with_capacity(n);
    for i in 0..n {
        let options = ReachOptions {
            target: Some(i % env_cfg.n_targets),
            trial_type: None,
        };
        let (_, info) = env.reset(Some(derive_seed(seed, i as u64)), &options)?;
        trials.push(info);
        laws.push(env.trial_force_law());
    }
    let cost = &env_cfg.cost;
    let r = env_cfg.radius;
    let (ps, vs) = (env_cfg.observation.position_scale, env_cfg.observation.velocity_scale);
    let bound = env_cfg.action_bound;
    let move_steps = cost.move_steps(env_cfg.dt);
    let tensor = |v: Vec<f64>, shape: (usize, usize)| -> Result<Tensor> {
        Ok(Tensor::from_vec(v, shape, &dev)?.to_dtype(dtype)?)
    };
    let plant = PlantModel::of(env_cfg)?;
    let a_t = tensor(plant.a.iter().flat_map(|row| *row).collect(), (4, 4))?.t()?;
    let b_t = tensor(plant.b.iter().flat_map(|row| *row).collect(), (4, 2))?.t()?;
    // z [N, 4] → observation columns: hand position ×ps, velocity ×vs.
    let obs_map = tensor(
        vec![
            ps, 0.0, 0.0, 0.0, 0.0, ps, 0.0, 0.0, 0.0, 0.0, vs, 0.0, 0.0, 0.0, 0.0, vs,
        ],
        (4, 4),
    )?;
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
    // Each trial's own step after the go cue (its field, channel or nothing), batched: z' = z·A_iᵀ + u·B_iᵀ.
    let law_step = if laws.iter().any(|l| !l.is_null()) {
        Some(law_maps(env_cfg, &laws, dtype)?)
    } else {
        None
    };
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, u64::MAX));
    let extra = env_cfg.obs_dim() - 7;
    // The eighth observation, k = b·scale when the phase shows it (the env's rule).
    let k_column = if phase.show_field_input {
        let scale = env_cfg.observation.field_input_scale;
        tensor(trials.iter().map(|i| i.field_b * scale).collect(), (n, 1))?
    } else {
        Tensor::zeros((n, 1), dtype, &dev)?
    };
    let mut z = Tensor::zeros((n, 4), dtype, &dev)?;
    let mut prev_u: Option<Tensor> = None;
    let mut loss = Tensor::zeros((), dtype, &dev)?;
    let mut actions = Vec::with_capacity(t_max);
    for t in 0..t_max as u32 {
        let col = |f: &dyn Fn(&reachlab_envs::reach::ReachInfo) -> f64| tensor(trials.iter().map(f).collect(), (n, 1));
        let shown = col(&|i| f64::from(u8::from(t >= i.cue_step)))?;
        let go = col(&|i| f64::from(u8::from(t >= i.go_step)))?;
        let mut parts = vec![(targets.broadcast_mul(&shown)? * ps)?, go, z.matmul(&obs_map)?];
        if extra > 0 {
            parts.push(k_column.clone());
        }
        let obs = Tensor::cat(&parts, 1)?;
        let mean = controller(&obs, t)?;
        let noise: Vec<f64> = (0..2 * n)
            .map(|_| {
                let e: f64 = StandardNormal.sample(&mut rng);
                noise_std * e
            })
            .collect();
        let u = (&mean + tensor(noise, (n, 2))?)?.clamp(-bound, bound)?;
        actions.push(
            u.to_dtype(DType::F64)?
                .to_vec2::<f64>()?
                .into_iter()
                .map(|r| [r[0], r[1]])
                .collect(),
        );
        let null_step = (z.matmul(&a_t)? + u.matmul(&b_t)?)?;
        z = match &law_step {
            Some((fa, fb)) => {
                let field_step = (z.unsqueeze(1)?.matmul(fa)? + u.unsqueeze(1)?.matmul(fb)?)?.squeeze(1)?;
                // The env switches the law on from the go cue (its step count t ≥ go_step).
                let on = col(&|i| f64::from(u8::from(t >= i.go_step && i.field_on)))?;
                (&null_step + (field_step - &null_step)?.broadcast_mul(&on)?)?
            }
            None => null_step,
        };
        // The cost of the state after this step (step count s = t + 1): `CostConfig::step_cost` on tensors.
        let s = t + 1;
        let before = col(&|i| f64::from(u8::from(s < i.go_step)))?;
        let moving = col(&|i| f64::from(u8::from(s >= i.go_step)))?;
        let after = col(&|i| f64::from(u8::from(s >= i.go_step + move_steps)))?;
        let p = z.narrow(1, 0, 2)?;
        let v = z.narrow(1, 2, 2)?;
        let start_cost = (p.sqr()?.sum_keepdim(1)? * (cost.w_start / (r * r)))?.broadcast_mul(&before)?;
        let off = ((&p - &targets)?.sqr()?.sum_keepdim(1)? + 1e-6)?.sqrt()?;
        let stop = (v.sqr()?.sum_keepdim(1)? * (cost.move_time * cost.move_time / (r * r)))?;
        let target_cost = ((off * (cost.w_target / r))? + (stop * cost.w_stop)?)?;
        let target_cost = target_cost.broadcast_mul(&after)?;
        let perp = (p.narrow(1, 0, 1)?.mul(&dir.narrow(1, 1, 1)?)? - p.narrow(1, 1, 1)?.mul(&dir.narrow(1, 0, 1)?)?)?;
        let path_cost = (perp.sqr()? * (cost.w_path / (r * r)))?.broadcast_mul(&moving)?;
        let effort = (u.sqr()?.sum_keepdim(1)? * (cost.w_effort / (bound * bound)))?;
        let mut step_cost = (((start_cost + target_cost)? + effort)? + path_cost)?;
        if let Some(pu) = &prev_u {
            let jerk = ((&u - pu)?.sqr()?.sum_keepdim(1)? * (cost.w_jerk / (bound * bound)))?;
            step_cost = (step_cost + jerk)?;
        }
        prev_u = Some(u);
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
#[allow(clippy::needless_range_loop)] // matrix entries by row and column read as the formulas do
mod tests {
    use super::*;
    use crate::core::{CoreConfig, CoreKind};
    use crate::policy::{HeadKind, PolicyConfig};
    use reachlab_envs::effector::{Integrator, PointMassConfig};

    #[test]
    fn stepping_a_core_in_the_graph_gives_the_fused_sequence() {
        for kind in [CoreKind::Gru, CoreKind::Lstm, CoreKind::Vanilla] {
            let cfg = PolicyConfig {
                core: CoreConfig {
                    kind,
                    hidden: 6,
                    ..CoreConfig::default()
                },
                ..PolicyConfig::default()
            };
            let policy = Policy::with_dtype(&cfg, 3, HeadKind::Gaussian { dim: 2 }, DType::F64).unwrap();
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

    /// The env's own trajectory in a curl field, step for step: the null map before the go cue, the field
    /// map from it on (how `plant_bptt_step` steps a field trial).
    #[test]
    fn the_field_map_follows_the_env_through_a_curl_field_trial() {
        use reachlab_envs::reach::{FieldSpec, TrialType};
        let cfg = ReachConfig::default();
        let mut env = ReachEnv::new(cfg.clone()).unwrap();
        env.set_phase(Phase {
            field: FieldSpec::Curl { b: 12.0 },
            ..Phase::null("field")
        })
        .unwrap();
        let options = ReachOptions {
            target: Some(2),
            trial_type: Some(TrialType::Normal),
        };
        let (_, info) = env.reset(Some(3), &options).unwrap();
        assert!(info.field_on && info.field_b == 12.0);
        let (null, field) = (
            PlantModel::of(&cfg).unwrap(),
            PlantModel::with_law(&cfg, &ForceLaw::curl(12.0)).unwrap(),
        );
        let mut z = [0.0; 4];
        let mut moved = 0;
        for t in 0..cfg.trial_steps {
            let u: [f32; 2] = if t >= info.go_step {
                [(3.0 * (0.1 * t as f32).sin()), (2.0 * (0.07 * t as f32).cos())]
            } else {
                [0.0, 0.0]
            };
            let m = if t >= info.go_step { &field } else { &null };
            let mut next = [0.0; 4];
            for i in 0..4 {
                next[i] = (0..4).map(|j| m.a[i][j] * z[j]).sum::<f64>()
                    + (0..2).map(|j| m.b[i][j] * f64::from(u[j])).sum::<f64>();
            }
            z = next;
            let step = env.step(&u).unwrap();
            let h = step.info.hand;
            let got = [h.pos[0], h.pos[1], h.vel[0], h.vel[1]];
            for i in 0..4 {
                assert!(
                    (got[i] - z[i]).abs() < 1e-12,
                    "step {t}, state {i}: env {} vs map {}",
                    got[i],
                    z[i]
                );
            }
            moved += usize::from(t >= info.go_step);
            if step.terminated || step.truncated {
                break;
            }
        }
        assert!(moved > 20, "the field acted for {moved} steps");
        // The batched maps of `plant_bptt_step` step each trial by its own map.
        let bs = [12.0, -5.0];
        let (fa, fb) = curl_maps(&cfg, &bs, DType::F64).unwrap();
        let (zs, us) = (
            [[0.01, -0.02, 0.3, -0.1], [0.0, 0.05, -0.2, 0.4]],
            [[1.0, -2.0], [0.5, 3.0]],
        );
        let zt = Tensor::new(&zs, &Device::Cpu).unwrap().unsqueeze(1).unwrap();
        let ut = Tensor::new(&us, &Device::Cpu).unwrap().unsqueeze(1).unwrap();
        let got: Vec<Vec<f64>> = (zt.matmul(&fa).unwrap() + ut.matmul(&fb).unwrap())
            .unwrap()
            .squeeze(1)
            .unwrap()
            .to_vec2()
            .unwrap();
        for (k, &b) in bs.iter().enumerate() {
            let m = PlantModel::with_law(&cfg, &ForceLaw::curl(b)).unwrap();
            for i in 0..4 {
                let want = (0..4).map(|j| m.a[i][j] * zs[k][j]).sum::<f64>()
                    + (0..2).map(|j| m.b[i][j] * us[k][j]).sum::<f64>();
                assert!((got[k][i] - want).abs() < 1e-12, "trial {k}, state {i}");
            }
        }
        // The field bends the path: the curl map differs from the null map in the velocity rows.
        assert!((field.a[2][3] - null.a[2][3]).abs() > 0.05);
    }

    #[test]
    fn the_plant_map_of_the_exact_point_mass_is_the_double_integrator() {
        let cfg = ReachConfig::default();
        let m = PlantModel::of(&cfg).unwrap();
        let (dt, mass) = (cfg.dt, 1.0);
        // Exact zero-order hold of a double integrator: p' = p + v·dt + u·dt²/(2m), v' = v + u·dt/m.
        let want_a = [
            [1.0, 0.0, dt, 0.0],
            [0.0, 1.0, 0.0, dt],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        let want_b = [
            [dt * dt / (2.0 * mass), 0.0],
            [0.0, dt * dt / (2.0 * mass)],
            [dt / mass, 0.0],
            [0.0, dt / mass],
        ];
        for i in 0..4 {
            for j in 0..4 {
                assert!((m.a[i][j] - want_a[i][j]).abs() < 1e-12, "A[{i}][{j}] = {}", m.a[i][j]);
            }
            for j in 0..2 {
                assert!((m.b[i][j] - want_b[i][j]).abs() < 1e-12, "B[{i}][{j}] = {}", m.b[i][j]);
            }
        }
        // MotorNet's explicit Euler: the position ignores this step's force.
        let euler = ReachConfig {
            effector: EffectorConfig::PointMass(PointMassConfig {
                integrator: Integrator::ExplicitEuler,
                ..PointMassConfig::default()
            }),
            ..ReachConfig::default()
        };
        assert_eq!(PlantModel::of(&euler).unwrap().b[0][0], 0.0);
    }
}
