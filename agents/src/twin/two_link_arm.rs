//! The torque- or force-driven two-link arm's twin: the env's own step (`TwoLinkModel::step`, written once
//! over `Real`, Runge–Kutta 4 with the force law evaluated at every stage) run on tensors, a batch of
//! trials at once, with the force law's one definition (`LawCoefficients::force`).

use candle_core::{DType, Tensor};
use reachlab_envs::effector::{ForceLaw, LawCoefficients, Real, TwoLinkArm, TwoLinkModel};
use reachlab_envs::reach::{EffectorConfig, ReachConfig};

use super::{column, hand_tensors, law_columns, observed_hand, Twin, T};
use crate::error::{AgentError, Result};

/// A batch of two-link arms in the graph.
pub struct TwoLinkTwin {
    model: TwoLinkModel,
    /// θ₁, θ₂, θ̇₁, θ̇₂, one `[N, 1]` column each.
    q: [T; 4],
    /// The hand at the start posture (the origin of the env's hand frame).
    start_hand: [f64; 2],
    /// Each trial's force law, one column per coefficient.
    laws: LawCoefficients<T>,
    /// The hand of the current state, relative to the start (computed once per step).
    hand: ([T; 2], [T; 2]),
    /// The env's observation scales of the hand's position and velocity.
    scales: (f64, f64),
}

impl TwoLinkTwin {
    /// `laws.len()` arms at rest in the env's start posture.
    pub fn new(env: &ReachConfig, laws: &[ForceLaw], dtype: DType) -> Result<Self> {
        let EffectorConfig::TwoLinkArm(config) = env.effector else {
            return Err(AgentError::config(
                "env.effector",
                "the two-link arm's twin needs a two-link arm",
            ));
        };
        let arm = TwoLinkArm::new(config, env.dt)?;
        let n = laws.len();
        let col = |v: f64| -> Result<T> { Ok(T(column(vec![v; n], dtype)?)) };
        let j = arm.joints();
        let q = [col(j[0])?, col(j[1])?, col(j[2])?, col(j[3])?];
        let model = arm.model().clone();
        let start_hand = arm.start_hand();
        Ok(TwoLinkTwin {
            hand: model.hand(&q, start_hand)?,
            laws: law_columns(laws, dtype)?,
            scales: (env.observation.position_scale, env.observation.velocity_scale),
            model,
            q,
            start_hand,
        })
    }
}

impl Twin for TwoLinkTwin {
    fn step(&mut self, u: &Tensor, on: &Tensor) -> Result<()> {
        let on = T(on.clone());
        // The law acts only while `on` is 1: every coefficient times `on` (the env steps with the null
        // law before the go cue).
        let gate = |r: &T| r.mul(&on);
        let v = &self.laws.viscous;
        let law = LawCoefficients {
            viscous: [[gate(&v[0][0])?, gate(&v[0][1])?], [gate(&v[1][0])?, gate(&v[1][1])?]],
            channel: match &self.laws.channel {
                Some((k, c, n)) => Some((gate(k)?, gate(c)?, n.clone())),
                None => None,
            },
        };
        let action = [T(u.narrow(1, 0, 1)?), T(u.narrow(1, 1, 1)?)];
        self.q = self.model.step(&self.q, &action, &law, self.start_hand)?;
        self.hand = self.model.hand(&self.q, self.start_hand)?;
        Ok(())
    }

    fn hand(&self) -> Result<(Tensor, Tensor)> {
        hand_tensors(&self.hand)
    }

    fn observe_hand(&self) -> Result<Tensor> {
        observed_hand(&self.hand, self.scales)
    }

    fn proprioception(&self) -> Result<Option<Tensor>> {
        Ok(None)
    }
}
