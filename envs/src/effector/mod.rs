//! Effectors (what the agent moves) and the force law the environment applies to the hand.
//!
//! Every effector reports the hand in Cartesian coordinates relative to the start position, so the
//! reaching task and the analysis do not care which one moves. [`Effector`] is the seam the reaching
//! task ([`Reach`](crate::reach::Reach)) is written against: an effector declares its action (any number of
//! actuators), how a step maps that action and the external force at the hand to its next state, where
//! the hand is, and what it senses of itself.

pub mod arm26;
mod linalg;
mod point_mass;
pub mod real;
mod two_link_arm;

pub use arm26::{Arm26, Arm26Config, Arm26Params};
pub use linalg::{expm, mat2_vec, Mat2};
pub use point_mass::{Integrator, PointMass, PointMassAction, PointMassConfig};
pub use real::{Lanes, Real};
pub use two_link_arm::{ArmAction, ArmConfig, ArmParams, TwoLinkArm, TwoLinkModel};

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::reach::EffectorConfig;
use crate::space::{Space, SpaceValue};

/// What the reaching task needs of an effector.
///
/// The point mass and the torque- or force-driven two-link arm (2 actions, through
/// [`Body`](crate::reach::Body)) and MotorNet's six-muscle arm ([`Arm26`], 6 excitations) implement it.
pub trait Effector: Clone + Debug + Send + Sync + 'static {
    /// The agent's action, one `f32` per actuator.
    type Action: SpaceValue + AsRef<[f32]> + Copy + Debug + Send + Sync + 'static;
    /// The action as applied (clipped to the action space), in `f64`; recorded in every step's info.
    type Command: AsRef<[f64]>
        + Copy
        + Debug
        + Default
        + PartialEq
        + Send
        + Sync
        + Serialize
        + DeserializeOwned
        + 'static;

    /// Builds the effector from the env's `effector` table for steps of `dt` (s); an error naming the key
    /// when the table describes another effector.
    fn from_config(config: &EffectorConfig, dt: f64) -> Result<Self>;
    /// The action space; `bound` is the env's `action_bound`, for effectors whose actions are forces or
    /// torques.
    fn action_space(&self, bound: f64) -> Space;
    /// The action clipped to the action space, as it will be applied.
    fn command(&self, action: &Self::Action, bound: f64) -> Self::Command;
    /// The unit in which effort is measured: the effort terms of the reward and the cost are
    /// `Σ (u_i / scale)²` (`bound` for forces and torques, 1 for muscle excitations).
    fn effort_scale(&self, bound: f64) -> f64;
    /// One step of the env's `dt` under command `u`, with `law` giving the external force at the hand.
    fn step(&mut self, u: &Self::Command, law: &ForceLaw);
    /// The hand now, relative to the start position.
    fn hand(&self) -> HandState;
    /// At rest in the start posture.
    fn rest_at_start(&mut self);
    /// The hand's apparent inertia in its present posture: the 2×2 matrix `Λ` with `F = Λ·a` between a
    /// force `F` at the hand and the acceleration `a` it gives the hand when nothing else acts (kg): `m·I`
    /// for a point mass, `(J·M⁻¹·Jᵀ)⁻¹` for an arm. Turns a hand acceleration into the force behind it.
    fn hand_inertia(&self) -> Mat2;
    /// Components of the effector's sense of itself, appended to the task's observation (none by default).
    fn proprioception_dim(&self) -> usize {
        0
    }
    /// Writes those components (`out.len() == proprioception_dim()`).
    fn write_proprioception(&self, _out: &mut [f32]) {}
    /// What the actions are, for a recording's description, when the env's name for them (forces or
    /// torques) does not say (e.g. arm26's muscle excitations, by name).
    fn describe_actions() -> Option<String> {
        None
    }
}

/// `Σ x_i²`, summed from 0 in order (for two components exactly `x₀² + x₁²`, as the 2-D code it replaces).
#[inline]
pub fn sum_sq(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |acc, v| acc + v * v)
}

/// The external force on the hand during one step: a viscous field `B·v` plus, in a force-channel
/// (error-clamp) trial, a spring–damper that cancels motion perpendicular to the start→target line:
///
/// `F = B·v − (K·e⊥ + C·ė⊥)·n̂`, with `e⊥ = (p − p₀)·n̂` and `ė⊥ = v·n̂`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ForceLaw {
    /// Viscous matrix B (N·s/m); zero for no field.
    pub viscous: Mat2,
    /// The channel, if this is a channel trial.
    pub channel: Option<ChannelLaw>,
}

/// A force channel's spring–damper acting along the unit normal `normal` of the start→target line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChannelLaw {
    /// Stiffness K (N/m).
    pub stiffness: f64,
    /// Damping C (N·s/m).
    pub damping: f64,
    /// Unit normal n̂ to the channel.
    pub normal: [f64; 2],
}

impl ForceLaw {
    /// No force at all.
    pub const NULL: ForceLaw = ForceLaw {
        viscous: [[0.0; 2]; 2],
        channel: None,
    };

    /// A curl field `F = b·[[0, 1], [−1, 0]]·v` (clockwise for b > 0).
    pub fn curl(b: f64) -> Self {
        ForceLaw {
            viscous: [[0.0, b], [-b, 0.0]],
            channel: None,
        }
    }

    /// Force at hand position `rel_pos` (relative to the start) and velocity `vel`.
    #[inline]
    pub fn force(&self, rel_pos: [f64; 2], vel: [f64; 2]) -> [f64; 2] {
        real::infallible(self.coefficients().force(&rel_pos, &vel))
    }

    /// The law's numbers as [`LawCoefficients`] in `f64`.
    pub fn coefficients(&self) -> LawCoefficients<f64> {
        LawCoefficients {
            viscous: self.viscous,
            channel: self.channel.map(|c| (c.stiffness, c.damping, c.normal)),
        }
    }

    /// True when the law exerts no force whatever the state.
    pub fn is_null(&self) -> bool {
        self.channel.is_none() && self.viscous == [[0.0; 2]; 2]
    }
}

/// A force law's numbers in any [`Real`]: the env's law in `f64`, a batch of trials' laws at once in the
/// differentiable twin (the one definition of `F = B·v − (K·e⊥ + C·ė⊥)·n̂`).
#[derive(Debug, Clone, PartialEq)]
pub struct LawCoefficients<R> {
    /// Viscous matrix B.
    pub viscous: [[R; 2]; 2],
    /// The channel's stiffness K, damping C and unit normal n̂, if there is one.
    pub channel: Option<(R, R, [R; 2])>,
}

impl<R: Real> LawCoefficients<R> {
    /// Force at hand position `rel_pos` (relative to the start) and velocity `vel`.
    #[inline]
    pub fn force(&self, rel_pos: &[R; 2], vel: &[R; 2]) -> Result<[R; 2], R::Error> {
        let m = &self.viscous;
        let mut f = [
            m[0][0].mul(&vel[0])?.add(&m[0][1].mul(&vel[1])?)?,
            m[1][0].mul(&vel[0])?.add(&m[1][1].mul(&vel[1])?)?,
        ];
        if let Some((k, c, n)) = &self.channel {
            let e = rel_pos[0].mul(&n[0])?.add(&rel_pos[1].mul(&n[1])?)?;
            let ed = vel[0].mul(&n[0])?.add(&vel[1].mul(&n[1])?)?;
            let mag = k.mul(&e)?.add(&c.mul(&ed)?)?.neg()?;
            f = [f[0].add(&mag.mul(&n[0])?)?, f[1].add(&mag.mul(&n[1])?)?];
        }
        Ok(f)
    }
}

/// Hand state in Cartesian coordinates, relative to the start position (m, m/s).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct HandState {
    /// Position relative to the start.
    pub pos: [f64; 2],
    /// Velocity.
    pub vel: [f64; 2],
}
