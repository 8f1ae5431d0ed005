//! arm26's twins: the env's own step (`Arm26Model::step`, written once over `Real`/`Lanes`), with the force
//! law's one definition (`LawCoefficients::force`) giving the load at the hand, run for a batch of trials
//! either as one graph node per step ([`Arm26Twin`], `arm26_fused`: `f64` forward, dual numbers backward)
//! or as tensor operations ([`Arm26GraphTwin`], ~250 per step: the fused twin's check, and the route for a
//! device other than the CPU).

use std::sync::Arc;

use candle_core::{CustomOp3, DType, Tensor};
use reachlab_envs::effector::arm26::{Arm26Model, Arm26State, Geometry, Muscles};
use reachlab_envs::effector::{Arm26, Effector, ForceLaw, LawCoefficients, Real};
use reachlab_envs::reach::ReachConfig;

use super::arm26_fused::{pack, FusedArm26Step, FIBRE, HAND, WIDTH};
use super::{column, hand_tensors, law_columns, observed_hand, rows_of, Twin, T};
use crate::error::Result;

/// A batch of arm26 arms in the graph, one node per step.
pub struct Arm26Twin {
    step: Arc<Box<dyn CustomOp3 + Send + Sync>>,
    /// The packed states `[N, WIDTH]` (`arm26_fused`).
    state: Tensor,
    /// The env's observation scales of the hand's position and velocity, as a row `[1, 4]`.
    hand_scales: Tensor,
    /// The proprioception's scales of fibre lengths and velocities, as a row `[1, 12]`, when the env
    /// observes them.
    sense_scales: Option<Tensor>,
}

impl Arm26Twin {
    /// `laws.len()` arms at rest in the env's start posture.
    pub fn new(env: &ReachConfig, laws: &[ForceLaw], dtype: DType) -> Result<Self> {
        let arm = Arm26::from_config(&env.effector, env.dt)?;
        let n = laws.len();
        let model = arm.model().clone();
        let start = arm.start_hand();
        let packed = pack(&model, arm.state(), start);
        let state = rows_of(&packed, n, dtype)?;
        debug_assert_eq!(state.dims(), [n, WIDTH]);
        let (ps, vs) = (env.observation.position_scale, env.observation.velocity_scale);
        let hand_scales = rows_of(&[ps, ps, vs, vs], 1, dtype)?;
        let sense_scales = if arm.proprioception_dim() > 0 {
            let row: Vec<f64> = model.inv_l0_ce.iter().chain(&model.inv_vmax).copied().collect();
            Some(rows_of(&row, 1, dtype)?)
        } else {
            None
        };
        let op = FusedArm26Step {
            model,
            start,
            laws: laws.iter().map(ForceLaw::coefficients).collect(),
        };
        Ok(Arm26Twin {
            step: Arc::new(Box::new(op)),
            state,
            hand_scales,
            sense_scales,
        })
    }
}

impl Twin for Arm26Twin {
    fn step(&mut self, u: &Tensor, on: &Tensor) -> Result<()> {
        let (u, on) = (u.contiguous()?, on.contiguous()?);
        self.state = self.state.apply_op3_arc(&u, &on, self.step.clone())?;
        Ok(())
    }

    fn hand(&self) -> Result<(Tensor, Tensor)> {
        Ok((self.state.narrow(1, HAND, 2)?, self.state.narrow(1, HAND + 2, 2)?))
    }

    fn observe_hand(&self) -> Result<Tensor> {
        Ok(self.state.narrow(1, HAND, 4)?.broadcast_mul(&self.hand_scales)?)
    }

    fn proprioception(&self) -> Result<Option<Tensor>> {
        let Some(scales) = &self.sense_scales else {
            return Ok(None);
        };
        Ok(Some(self.state.narrow(1, FIBRE, 12)?.broadcast_mul(scales)?))
    }
}

/// The same twin as [`Arm26Twin`], run as tensor operations (each state quantity a `[N, 1]` or `[N, 6]`
/// tensor): slower at every batch on the CPU, kept as the fused twin's independent check.
pub struct Arm26GraphTwin {
    model: Arm26Model,
    state: Arm26State<T, T>,
    /// The fingertip at the start posture (the origin of the env's hand frame).
    start_hand: [f64; 2],
    /// Each trial's force law, one column per coefficient.
    laws: LawCoefficients<T>,
    /// Whether the env observes the arm's proprioception.
    senses: bool,
    /// The hand of the current state, relative to the start (computed once per step).
    hand: ([T; 2], [T; 2]),
    /// The env's observation scales of the hand's position and velocity.
    scales: (f64, f64),
}

impl Arm26GraphTwin {
    /// `laws.len()` arms at rest in the env's start posture.
    pub fn new(env: &ReachConfig, laws: &[ForceLaw], dtype: DType) -> Result<Self> {
        let arm = Arm26::from_config(&env.effector, env.dt)?;
        let n = laws.len();
        let s = arm.state();
        let col = |v: f64| -> Result<T> { Ok(T(column(vec![v; n], dtype)?)) };
        let lanes = |v: &[f64]| -> Result<T> { Ok(T(rows_of(v, n, dtype)?)) };
        let m = &s.muscles;
        let g = &s.geometry;
        let state = Arm26State {
            joint: [col(s.joint[0])?, col(s.joint[1])?, col(s.joint[2])?, col(s.joint[3])?],
            muscles: Muscles {
                activation: lanes(&m.activation)?,
                length: lanes(&m.length)?,
                velocity: lanes(&m.velocity)?,
                flpe: lanes(&m.flpe)?,
                flce: lanes(&m.flce)?,
                active_force: lanes(&m.active_force)?,
                force: lanes(&m.force)?,
            },
            geometry: Geometry {
                length: lanes(&g.length)?,
                velocity: lanes(&g.velocity)?,
                moment_arm: [lanes(&g.moment_arm[0])?, lanes(&g.moment_arm[1])?],
            },
        };
        let model = arm.model().clone();
        let start_hand = arm.start_hand();
        Ok(Arm26GraphTwin {
            senses: arm.proprioception_dim() > 0,
            scales: (env.observation.position_scale, env.observation.velocity_scale),
            hand: relative_hand(&model, &state, start_hand)?,
            model,
            state,
            start_hand,
            laws: law_columns(laws, dtype)?,
        })
    }
}

/// The fingertip of `state` relative to the start posture's, and its velocity.
fn relative_hand(model: &Arm26Model, state: &Arm26State<T, T>, start: [f64; 2]) -> Result<([T; 2], [T; 2])> {
    let ([x, y], vel) = model.fingertip(&state.joint)?;
    Ok(([x.add_c(-start[0])?, y.add_c(-start[1])?], vel))
}

impl Twin for Arm26GraphTwin {
    fn step(&mut self, u: &Tensor, on: &Tensor) -> Result<()> {
        let (pos, vel) = &self.hand;
        let [f0, f1] = self.laws.force(pos, vel)?;
        let on = T(on.clone());
        let load = [f0.mul(&on)?, f1.mul(&on)?];
        self.state = self.model.step(&self.state, &T(u.clone()), &load)?;
        self.hand = relative_hand(&self.model, &self.state, self.start_hand)?;
        Ok(())
    }

    fn hand(&self) -> Result<(Tensor, Tensor)> {
        hand_tensors(&self.hand)
    }

    fn observe_hand(&self) -> Result<Tensor> {
        observed_hand(&self.hand, self.scales)
    }

    fn proprioception(&self) -> Result<Option<Tensor>> {
        if !self.senses {
            return Ok(None);
        }
        let (length, velocity) = self.model.proprioception(&self.state.muscles)?;
        Ok(Some(Tensor::cat(&[length.0, velocity.0], 1)?))
    }
}
