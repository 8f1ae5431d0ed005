//! Effectors (what the agent moves) and the force law the environment applies to the hand.
//!
//! Both effectors report the hand in Cartesian coordinates relative to the start position, so the
//! reaching task and the analysis do not care which one moves.

pub mod arm26;
mod linalg;
mod point_mass;
mod two_link_arm;

pub use arm26::{Arm26, Arm26Params};
pub use linalg::{expm, mat2_vec, Mat2};
pub use point_mass::{Integrator, PointMass, PointMassAction, PointMassConfig};
pub use two_link_arm::{ArmAction, ArmConfig, ArmParams, TwoLinkArm};

use serde::{Deserialize, Serialize};

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
        let mut f = mat2_vec(&self.viscous, vel);
        if let Some(c) = &self.channel {
            let e = rel_pos[0] * c.normal[0] + rel_pos[1] * c.normal[1];
            let ed = vel[0] * c.normal[0] + vel[1] * c.normal[1];
            let mag = -(c.stiffness * e + c.damping * ed);
            f[0] += mag * c.normal[0];
            f[1] += mag * c.normal[1];
        }
        f
    }

    /// True when the law exerts no force whatever the state.
    pub fn is_null(&self) -> bool {
        self.channel.is_none() && self.viscous == [[0.0; 2]; 2]
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
