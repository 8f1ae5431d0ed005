//! The point mass's twin: its step is affine, `z' = A·z + B·u` for `z = [p, v]`, under every force law
//! the env has (each is linear in the hand state), so the map is read off the env's own point mass by
//! stepping it from basis states (exact, and the two cannot disagree).

use candle_core::{DType, Device, Tensor};
use reachlab_envs::effector::{ForceLaw, PointMass};
use reachlab_envs::reach::{EffectorConfig, ReachConfig};

use super::Twin;
use crate::error::{AgentError, Result};

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

/// A batch of point masses: `z [N, 4]` stepped by the null map, or by each trial's own law's map where
/// its law acts.
pub struct PointMassTwin {
    z: Tensor,
    a_t: Tensor,
    b_t: Tensor,
    /// Each trial's map under its own law (none when every law is null).
    law_step: Option<(Tensor, Tensor)>,
    /// `diag(ps, ps, vs, vs)`: `z` to the hand's observation.
    obs_map: Tensor,
}

impl PointMassTwin {
    /// `laws.len()` point masses at rest at the start.
    pub fn new(env: &ReachConfig, laws: &[ForceLaw], dtype: DType) -> Result<Self> {
        let dev = Device::Cpu;
        let plant = PlantModel::of(env)?;
        let (ps, vs) = (env.observation.position_scale, env.observation.velocity_scale);
        let tensor = |v: Vec<f64>, shape: (usize, usize)| -> Result<Tensor> {
            Ok(Tensor::from_vec(v, shape, &dev)?.to_dtype(dtype)?)
        };
        let law_step = if laws.iter().any(|l| !l.is_null()) {
            Some(law_maps(env, laws, dtype)?)
        } else {
            None
        };
        Ok(PointMassTwin {
            z: Tensor::zeros((laws.len(), 4), dtype, &dev)?,
            a_t: tensor(plant.a.iter().flat_map(|row| *row).collect(), (4, 4))?.t()?,
            b_t: tensor(plant.b.iter().flat_map(|row| *row).collect(), (4, 2))?.t()?,
            law_step,
            obs_map: tensor(
                vec![
                    ps, 0.0, 0.0, 0.0, 0.0, ps, 0.0, 0.0, 0.0, 0.0, vs, 0.0, 0.0, 0.0, 0.0, vs,
                ],
                (4, 4),
            )?,
        })
    }
}

impl Twin for PointMassTwin {
    fn step(&mut self, u: &Tensor, on: &Tensor) -> Result<()> {
        let z = &self.z;
        let null_step = (z.matmul(&self.a_t)? + u.matmul(&self.b_t)?)?;
        self.z = match &self.law_step {
            Some((fa, fb)) => {
                let field_step = (z.unsqueeze(1)?.matmul(fa)? + u.unsqueeze(1)?.matmul(fb)?)?.squeeze(1)?;
                (&null_step + (field_step - &null_step)?.broadcast_mul(on)?)?
            }
            None => null_step,
        };
        Ok(())
    }

    fn hand(&self) -> Result<(Tensor, Tensor)> {
        Ok((self.z.narrow(1, 0, 2)?, self.z.narrow(1, 2, 2)?))
    }

    /// `z·diag(ps, ps, vs, vs)` (one product, as the plant computed it before the twins).
    fn observe_hand(&self) -> Result<Tensor> {
        Ok(self.z.matmul(&self.obs_map)?)
    }

    fn proprioception(&self) -> Result<Option<Tensor>> {
        Ok(None)
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // matrix entries by row and column read as the formulas do
mod tests {
    use super::*;
    use reachlab_envs::effector::{Integrator, PointMassConfig};
    use reachlab_envs::reach::{Phase, ReachEnv, ReachOptions};
    use reachlab_envs::Env;

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
