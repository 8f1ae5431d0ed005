//! arm26's twin: the env's own step (`Arm26Model::step`, written once over `Real`/`Lanes`) run on
//! tensors, a batch of trials at once, with the force law's one definition (`LawCoefficients::force`)
//! giving the load at the hand.

use candle_core::{DType, Tensor};
use reachlab_envs::effector::arm26::{Arm26Model, Arm26State, Geometry, Muscles};
use reachlab_envs::effector::{Arm26, Effector, ForceLaw, LawCoefficients, Real};
use reachlab_envs::reach::ReachConfig;

use super::{column, hand_tensors, law_columns, observed_hand, rows_of, Twin, T};
use crate::error::Result;

/// A batch of arm26 arms in the graph.
pub struct Arm26Twin {
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

impl Arm26Twin {
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
        Ok(Arm26Twin {
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

impl Twin for Arm26Twin {
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
