//! Training a reaching policy by backpropagation through the plant, as MotorNet trains its policies.
//!
//! Every force law of the reaching env is linear in the hand state, so one step of the point mass is an
//! affine map `z' = A·z + B·u` of `z = [p, v]` (see `reachlab_envs::effector::PointMass`). [`PlantModel`]
//! reads `A` and `B` off the env's own point mass by stepping it from basis states (the map is exactly
//! linear, so this is exact, and the two cannot disagree), and [`plant_bptt_step`] runs the policy in
//! closed loop through that map inside candle's graph, so the gradient of a behavioural cost flows through
//! the hand's whole trajectory.
//!
//! The cost of a trial (per step, averaged over steps and trials, distances in units of the reach radius
//! R, actions in units of the bound):
//!
//! - before the go cue: `w_start·|p|²/R²` (hold at the start);
//! - from `move_time` after the go cue on: `w_target·|p − p*|/R + w_stop·|v·τ/R|²` with τ = `move_time`
//!   (be at the target, and still);
//! - from the go cue on: `w_path·(d⊥/R)²`, d⊥ the distance from the straight start→target line;
//! - always: `w_effort·|u/u_max|²` and `w_jerk·|Δu/u_max|²` (smooth, economical commands).
//!
//! With no cost on the way, the cheapest reach that arrives by `move_time` with the smallest squared jerk
//! of the command is close to the minimum-jerk trajectory (Flash & Hogan 1985): a straight path and a
//! single bell-shaped speed peak. An explicit path cost (`w_path`, off by default) straightens what the
//! network's approximation bends (curvature 1.017 instead of 1.047 at the expert criterion in one run),
//! but did not keep the paths straight through the policy-gradient phases that follow. Motor noise (`action_noise`, N, added to the commands) makes the policy
//! use its feedback inputs rather than replay one open-loop command.

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use reachlab_envs::effector::{ForceLaw, PointMass};
use reachlab_envs::reach::{EffectorConfig, Phase, ReachConfig, ReachEnv, ReachOptions};
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::Env;
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::optim::{clip_grad_norm, Adam};
use crate::policy::Policy;

/// Settings of training through the plant (a TOML table in scenario files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlantBpttConfig {
    /// Trials per gradient step (targets taken in turn).
    pub batch: usize,
    pub learning_rate: f64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// Time (s) after the go cue from which the hand should be on the target and still.
    pub move_time: f64,
    pub w_start: f64,
    pub w_target: f64,
    pub w_stop: f64,
    /// Weight of the squared distance from the straight start→target line after the go cue.
    pub w_path: f64,
    pub w_effort: f64,
    pub w_jerk: f64,
    /// Standard deviation (in action units, N for a force) of the motor noise added to each command.
    pub action_noise: f64,
}

impl Default for PlantBpttConfig {
    fn default() -> Self {
        PlantBpttConfig {
            batch: 64,
            learning_rate: 2e-3,
            max_grad_norm: 1.0,
            move_time: 0.4,
            w_start: 50.0,
            w_target: 1.0,
            w_stop: 0.1,
            w_path: 0.0,
            w_effort: 1e-3,
            w_jerk: 1e-2,
            action_noise: 0.5,
        }
    }
}

impl PlantBpttConfig {
    pub fn validate(&self) -> Result<()> {
        if self.batch == 0 {
            return Err(AgentError::config("plant_bptt.batch", "must be at least 1"));
        }
        for (key, v) in [
            ("plant_bptt.learning_rate", self.learning_rate),
            ("plant_bptt.max_grad_norm", self.max_grad_norm),
            ("plant_bptt.move_time", self.move_time),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(AgentError::config(key, format!("{v} must be finite and > 0")));
            }
        }
        for (key, v) in [
            ("plant_bptt.w_start", self.w_start),
            ("plant_bptt.w_target", self.w_target),
            ("plant_bptt.w_stop", self.w_stop),
            ("plant_bptt.w_path", self.w_path),
            ("plant_bptt.w_effort", self.w_effort),
            ("plant_bptt.w_jerk", self.w_jerk),
            ("plant_bptt.action_noise", self.action_noise),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(AgentError::config(key, format!("{v} must be finite and ≥ 0")));
            }
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

/// The transposed maps of a curl field of coefficient `bs[i]` for each trial `i`, as `([N, 4, 4],
/// [N, 2, 4])` tensors, so that `z.unsqueeze(1)·A + u.unsqueeze(1)·B` steps every trial at once.
pub fn curl_maps(env: &ReachConfig, bs: &[f64], dtype: DType) -> Result<(Tensor, Tensor)> {
    let n = bs.len();
    let (mut a, mut b) = (Vec::with_capacity(n * 16), Vec::with_capacity(n * 8));
    for &k in bs {
        let m = PlantModel::with_law(env, &ForceLaw::curl(k))?;
        a.extend((0..4).flat_map(|j| (0..4).map(move |i| m.a[i][j])));
        b.extend((0..2).flat_map(|j| (0..4).map(move |i| m.b[i][j])));
    }
    let dev = Device::Cpu;
    Ok((
        Tensor::from_vec(a, (n, 4, 4), &dev)?.to_dtype(dtype)?,
        Tensor::from_vec(b, (n, 2, 4), &dev)?.to_dtype(dtype)?,
    ))
}

/// What one step through the plant measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlantBpttStats {
    pub loss: f64,
    pub grad_norm: f64,
}

/// One gradient step of `policy` through the plant on `cfg.batch` trials drawn by the env in `phase` from
/// `seed` (trial `i` to target `i mod n_targets`), with `opt` (its learning rate is set to the config's).
/// A curl field of the phase acts from the go cue on, as in the env, each trial with its own coefficient
/// (a random curl field draws one per trial), and the field-strength input k shows it when the phase says
/// so. Channel and catch trials are not simulated here (the phase must have none).
pub fn plant_bptt_step(
    policy: &mut Policy,
    opt: &mut Adam,
    env_cfg: &ReachConfig,
    phase: &Phase,
    cfg: &PlantBpttConfig,
    seed: u64,
) -> Result<PlantBpttStats> {
    let plant = PlantModel::of(env_cfg)?;
    let dev = Device::Cpu;
    let dtype = policy.params().dtype();
    let (n, t_max) = (cfg.batch, env_cfg.trial_steps as usize);
    let mut env = ReachEnv::new(env_cfg.clone())?;
    env.set_phase(phase.clone())?;
    let mut trials = Vec::with_capacity(n);
    for i in 0..n {
        let options = ReachOptions {
            target: Some(i % env_cfg.n_targets),
            trial_type: None,
        };
        let (_, info) = env.reset(Some(derive_seed(seed, i as u64)), &options)?;
        trials.push(info);
    }
    let r = env_cfg.radius;
    let (ps, vs) = (env_cfg.observation.position_scale, env_cfg.observation.velocity_scale);
    let bound = env_cfg.action_bound;
    let move_steps = (cfg.move_time / env_cfg.dt).round() as u32;
    let tensor = |v: Vec<f64>, shape: (usize, usize)| -> Result<Tensor> {
        Ok(Tensor::from_vec(v, shape, &dev)?.to_dtype(dtype)?)
    };
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
    // Each field trial's own step after the go cue, batched: z' = z·A_iᵀ + u·B_iᵀ.
    let field_b: Vec<f64> = trials
        .iter()
        .map(|i| if i.field_on { i.field_b } else { 0.0 })
        .collect();
    let field_maps = if field_b.iter().any(|b| *b != 0.0) {
        Some(curl_maps(env_cfg, &field_b, dtype)?)
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
    let mut h = Tensor::zeros((n, policy.actor().config().state_width()), dtype, &dev)?;
    let mut prev_u: Option<Tensor> = None;
    let mut loss = Tensor::zeros((), dtype, &dev)?;
    for t in 0..t_max as u32 {
        let col = |f: &dyn Fn(&reachlab_envs::reach::ReachInfo) -> f64| tensor(trials.iter().map(f).collect(), (n, 1));
        let shown = col(&|i| f64::from(u8::from(t >= i.cue_step)))?;
        let go = col(&|i| f64::from(u8::from(t >= i.go_step)))?;
        let mut parts = vec![(targets.broadcast_mul(&shown)? * ps)?, go, z.matmul(&obs_map)?];
        if extra > 0 {
            parts.push(k_column.clone());
        }
        let obs = Tensor::cat(&parts, 1)?;
        let (next, mean) = policy.step_mean(&obs, &h)?;
        h = next;
        let noise: Vec<f64> = (0..2 * n)
            .map(|_| {
                let e: f64 = StandardNormal.sample(&mut rng);
                cfg.action_noise * e
            })
            .collect();
        let u = (&mean + tensor(noise, (n, 2))?)?.clamp(-bound, bound)?;
        let null_step = (z.matmul(&a_t)? + u.matmul(&b_t)?)?;
        z = match &field_maps {
            Some((fa, fb)) => {
                let field_step = (z.unsqueeze(1)?.matmul(fa)? + u.unsqueeze(1)?.matmul(fb)?)?.squeeze(1)?;
                // The env switches the field on from the go cue (its step count t ≥ go_step).
                let on = col(&|i| f64::from(u8::from(t >= i.go_step && i.field_on && i.field_b != 0.0)))?;
                (&null_step + (field_step - &null_step)?.broadcast_mul(&on)?)?
            }
            None => null_step,
        };
        // Costs of the state after this step (step count t + 1).
        let s = t + 1;
        let before = col(&|i| f64::from(u8::from(s < i.go_step)))?;
        let moving = col(&|i| f64::from(u8::from(s >= i.go_step)))?;
        let after = col(&|i| f64::from(u8::from(s >= i.go_step + move_steps)))?;
        let p = z.narrow(1, 0, 2)?;
        let v = z.narrow(1, 2, 2)?;
        let start_cost = (p.sqr()?.sum_keepdim(1)? * (cfg.w_start / (r * r)))?.broadcast_mul(&before)?;
        // The distance itself (smoothed within 1 mm), not its square: its pull does not fade near the
        // target, so the hand stops on it (MotorNet's position loss is an L1 norm for the same reason).
        let off = ((&p - &targets)?.sqr()?.sum_keepdim(1)? + 1e-6)?.sqrt()?;
        let stop = (v.sqr()?.sum_keepdim(1)? * (cfg.move_time * cfg.move_time / (r * r)))?;
        let target_cost = ((off * (cfg.w_target / r))? + (stop * cfg.w_stop)?)?;
        let target_cost = target_cost.broadcast_mul(&after)?;
        let perp = (p.narrow(1, 0, 1)?.mul(&dir.narrow(1, 1, 1)?)? - p.narrow(1, 1, 1)?.mul(&dir.narrow(1, 0, 1)?)?)?;
        let path_cost = (perp.sqr()? * (cfg.w_path / (r * r)))?.broadcast_mul(&moving)?;
        let effort = (mean.sqr()?.sum_keepdim(1)? * (cfg.w_effort / (bound * bound)))?;
        let mut step_cost = (((start_cost + target_cost)? + effort)? + path_cost)?;
        if let Some(pu) = &prev_u {
            let jerk = ((&mean - pu)?.sqr()?.sum_keepdim(1)? * (cfg.w_jerk / (bound * bound)))?;
            step_cost = (step_cost + jerk)?;
        }
        prev_u = Some(mean);
        loss = (loss + step_cost.mean_all()?)?;
    }
    let loss = (loss / t_max as f64)?;
    let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    if !value.is_finite() {
        return Err(AgentError::NonFinite {
            what: "loss through the plant",
            update: opt.steps() as usize,
        });
    }
    let mut grads = loss.backward()?;
    let grad_norm = clip_grad_norm(policy.params(), &mut grads, cfg.max_grad_norm)?;
    opt.lr = cfg.learning_rate;
    opt.step(&grads)?;
    policy.enforce_structure()?;
    Ok(PlantBpttStats { loss: value, grad_norm })
}

#[cfg(test)]
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
