//! MotorNet's six-muscle arm: `RigidTendonArm26` with `RigidTendonHillMuscle` (pip `motornet` 0.3,
//! `motornet/effector.py`, `muscle.py`, `skeleton.py`), the arm most motor-control network studies use.
//!
//! - **Skeleton** (`TwoDofArm` with arm26's parameters, Nijhof & Kouwenhoven 2000): shoulder and elbow
//!   in the horizontal plane, `M(θ)·θ̈ = τ − c(θ, θ̇) + Jᵀ·F`, masses 1.82 / 1.43 kg, lengths 0.309 /
//!   0.333 m, centres of mass 0.135 / 0.165 m from the joints, inertias about the centres of mass 0.051 /
//!   0.057 kg·m²; joint limits [0, 135°] (shoulder) and [0, 155°] (elbow), joint velocities within ±1000
//!   rad/s, no joint damping (MotorNet's defaults).
//! - **Muscles** (Kistemaker, Wong & Gribble 2010, rigid tendon): pectoralis, deltoid, brachioradialis,
//!   triceps lateral, biceps, triceps long; maximal isometric forces, tendon slack and optimal fibre
//!   lengths as arm26 sets them. Force `F = F_max·(f_a(l, v, a) + f_pe(l))` with the force–length curve
//!   `max(1 − (l̃ − 1)²/0.66², 0.01)`, the passive element `k_pe·max(l − 1.4·l₀, 0)²/l₀²`, and the
//!   force–velocity relation with its shortening hyperbola and lengthening branch.
//! - **Activation** (Thelen 2003): `ȧ = (u − a)/τ`, `τ = τ_act·(0.5 + 1.5a)` when the excitation `u`
//!   exceeds `a`, else `τ_deact/(0.5 + 1.5a)`, τ_act 15 ms, τ_deact 50 ms; `u` and `a` clipped to
//!   `[a_min, 1]`, a_min = 0.001.
//! - **Geometry**: musculotendon lengths and moment arms are polynomials in the joint angles (arm26's
//!   `a0…a3`); the joint torque of the muscles is `−Σ_m F_m·r_m` (MotorNet's sign: a negative moment arm
//!   pulls the joint toward positive angles).
//! - **Integration**: MotorNet's explicit Euler, in its order: the derivatives from the state at the start
//!   of the step; the new activation with the muscle forces recomputed from the *old* geometry; joint
//!   velocity `+ θ̈·dt`, angle `+ θ̇_old·dt`; velocities clipped to their bounds and zeroed where the new
//!   angle is at or past a limit and the velocity would carry it further; angles clipped; then the new
//!   geometry. Everything is computed in `f64` (MotorNet computes in `f32`); the test against MotorNet's
//!   own code run in float64 (`envs/tests/arm26.rs`) holds the two to 1e-10 (measured: 2e-14).
//!
//! Where MotorNet's rigid- and compliant-tendon variants differ (tendon slack lengths and `a0` of the
//! pectoralis and deltoid, the integrator, `a_min`), this is the rigid variant exactly as MotorNet's
//! `RigidTendonArm26` defines it.

use serde::{Deserialize, Serialize};

mod dynamics;

pub use dynamics::{Arm26Model, Arm26State, Geometry, Muscles};

use super::real::infallible;
use super::{Effector, ForceLaw, HandState};
use crate::error::{EnvError, Result};
use crate::reach::EffectorConfig;
use crate::space::{BoxSpace, Space};

/// Number of muscles.
pub const N_MUSCLES: usize = 6;

/// The muscles' names, in action order.
pub const MUSCLE_NAMES: [&str; N_MUSCLES] = [
    "pectoralis",
    "deltoid",
    "brachioradialis",
    "triceps_lateral",
    "biceps",
    "triceps_long",
];

/// Settings of the arm26 effector in a reaching env (`effector = { kind = "arm26", … }`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Arm26Config {
    /// Physical parameters (MotorNet's by default).
    pub params: Arm26Params,
    /// Joint angles at the start (rad): shoulder, elbow. The default (45°, 90°) puts the hand 0.45 m in
    /// front of the shoulder (x −0.02, y 0.45), where 10 cm reaches in every direction stay inside the
    /// joint limits.
    pub start_angles: [f64; 2],
    /// Proprioception in the observation: each muscle's fibre length / optimal length and fibre
    /// velocity / maximal velocity (12 components, after the task's), as MotorNet's environments observe.
    pub proprioception: bool,
}

impl Default for Arm26Config {
    fn default() -> Self {
        Arm26Config {
            params: Arm26Params::default(),
            start_angles: [std::f64::consts::FRAC_PI_4, std::f64::consts::FRAC_PI_2],
            proprioception: true,
        }
    }
}

/// Physical parameters of the arm26 model (MotorNet's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Arm26Params {
    /// Segment masses (kg): upper arm, forearm.
    pub masses: [f64; 2],
    /// Segment lengths (m).
    pub lengths: [f64; 2],
    /// Distance from each joint to its segment's centre of mass (m).
    pub com: [f64; 2],
    /// Moments of inertia about the centres of mass (kg·m²).
    pub inertias: [f64; 2],
    /// Joint angle limits (rad): `[[shoulder_lo, shoulder_hi], [elbow_lo, elbow_hi]]`.
    pub joint_limits: [[f64; 2]; 2],
    /// Joint velocity bound (rad/s), symmetric.
    pub velocity_limit: f64,
    /// Joint damping (N·m·s/rad), on both joints (MotorNet's `Effector(damping=…)`, 0 by default).
    pub damping: f64,
    /// Maximal isometric forces (N).
    pub max_isometric_force: [f64; N_MUSCLES],
    /// Tendon slack lengths (m).
    pub tendon_length: [f64; N_MUSCLES],
    /// Optimal fibre lengths (m).
    pub optimal_muscle_length: [f64; N_MUSCLES],
    /// Fibre length, in optimal lengths, past which the passive element pulls.
    pub normalized_slack_muscle_length: f64,
    /// Minimum activation (excitations and activations are clipped to `[min_activation, 1]`).
    pub min_activation: f64,
    /// Activation time constant (s).
    pub tau_activation: f64,
    /// Deactivation time constant (s).
    pub tau_deactivation: f64,
    /// Musculotendon length at `θ = a3` (m): `l_mt = a0 + Σ_j (a1_j + a2_j·φ_j)·φ_j`, `φ = θ − a3`.
    pub a0: [f64; N_MUSCLES],
    /// Linear moment-arm coefficients, per joint (m).
    pub a1: [[f64; N_MUSCLES]; 2],
    /// Quadratic coefficients, per joint (m/rad).
    pub a2: [[f64; N_MUSCLES]; 2],
    /// Angle offsets of the polynomials (rad): shoulder π/2, elbow 0.
    pub a3: [f64; 2],
}

impl Default for Arm26Params {
    fn default() -> Self {
        let deg = std::f64::consts::PI / 180.0;
        Arm26Params {
            masses: [1.82, 1.43],
            lengths: [0.309, 0.333],
            com: [0.135, 0.165],
            inertias: [0.051, 0.057],
            joint_limits: [[0.0, 135.0 * deg], [0.0, 155.0 * deg]],
            velocity_limit: 1000.0,
            damping: 0.0,
            max_isometric_force: [838.0, 1207.0, 1422.0, 1549.0, 414.0, 603.0],
            tendon_length: [0.039, 0.066, 0.172, 0.187, 0.204, 0.217],
            optimal_muscle_length: [0.134, 0.140, 0.092, 0.093, 0.137, 0.127],
            normalized_slack_muscle_length: 1.4,
            min_activation: 0.001,
            tau_activation: 0.015,
            tau_deactivation: 0.05,
            a0: [0.151, 0.2322, 0.2859, 0.2355, 0.3329, 0.2989],
            a1: [
                [-0.03, 0.03, 0.0, 0.0, -0.03, 0.03],
                [0.0, 0.0, -0.014, 0.025, -0.016, 0.03],
            ],
            a2: [[0.0; N_MUSCLES], [0.0, 0.0, -4e-3, -2.2e-3, -5.7e-3, -3.2e-3]],
            a3: [std::f64::consts::FRAC_PI_2, 0.0],
        }
    }
}

impl Arm26Params {
    /// Checks every value; the error names the key (under `prefix`).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        let bad = |key: &str, why: &str| Err(EnvError::config(format!("{prefix}.{key}"), why.to_string()));
        let positive = |v: &[f64]| v.iter().all(|x| x.is_finite() && *x > 0.0);
        if !positive(&self.masses) || !positive(&self.lengths) || !positive(&self.inertias) || !positive(&self.com) {
            return bad(
                "masses",
                "masses, lengths, centres of mass and inertias must be finite and > 0",
            );
        }
        if !positive(&self.max_isometric_force) || !positive(&self.optimal_muscle_length) {
            return bad(
                "max_isometric_force",
                "forces and optimal lengths must be finite and > 0",
            );
        }
        if !self.tendon_length.iter().all(|x| x.is_finite() && *x >= 0.0) {
            return bad("tendon_length", "must be finite and ≥ 0");
        }
        for (j, [lo, hi]) in self.joint_limits.iter().enumerate() {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return bad(
                    "joint_limits",
                    &format!("joint {j}: need finite lo < hi, got [{lo}, {hi}]"),
                );
            }
        }
        if !(self.velocity_limit > 0.0 && self.damping.is_finite() && self.damping >= 0.0) {
            return bad(
                "velocity_limit",
                "velocity_limit must be > 0 and damping finite and ≥ 0",
            );
        }
        if !(self.min_activation > 0.0 && self.min_activation < 1.0) {
            return bad("min_activation", "must be in (0, 1)");
        }
        if !positive(&[
            self.tau_activation,
            self.tau_deactivation,
            self.normalized_slack_muscle_length,
        ]) {
            return bad(
                "tau_activation",
                "time constants and the slack length must be finite and > 0",
            );
        }
        let finite = self
            .a0
            .iter()
            .chain(self.a1.iter().flatten())
            .chain(self.a2.iter().flatten())
            .chain(&self.a3)
            .all(|x| x.is_finite());
        if !finite {
            return bad("a0", "the geometry coefficients must be finite");
        }
        Ok(())
    }
}

/// The arm26 model in `f64`: its constants ([`Arm26Model`]) and its state.
///
/// ```
/// use reachlab_envs::effector::arm26::{Arm26, Arm26Params};
///
/// // Excite the biceps alone for 200 ms: it flexes the elbow (the angle grows) and its activation rises
/// // toward the excitation with the 15 ms activation time constant.
/// let mut arm = Arm26::new(Arm26Params::default(), 0.01, [0.75, 1.5]).unwrap();
/// let biceps = [0.0, 0.0, 0.0, 0.0, 0.6, 0.0];
/// for _ in 0..20 {
///     arm.step(&biceps, [0.0, 0.0]);
/// }
/// assert!(arm.joint()[1] > 1.5 + 0.1);
/// assert!(arm.muscles().activation[4] > 0.5);
/// ```
#[derive(Debug, Clone)]
pub struct Arm26 {
    model: Arm26Model,
    state: Arm26State<f64, [f64; N_MUSCLES]>,
    /// Where the env puts the arm at rest, and the fingertip there (the origin of the env's hand frame).
    start_angles: [f64; 2],
    start_hand: [f64; 2],
    proprioception: bool,
}

impl Arm26 {
    /// An arm at rest at joint angles `angles` (rad), muscles at the minimum activation, for time step
    /// `dt` (s; MotorNet's default is 0.01).
    pub fn new(p: Arm26Params, dt: f64, angles: [f64; 2]) -> Result<Self> {
        p.validate("effector")?;
        if !(dt.is_finite() && dt > 0.0) {
            return Err(EnvError::config("dt", format!("must be > 0, got {dt}")));
        }
        let model = Arm26Model::new(p, dt);
        let mut arm = Arm26 {
            state: infallible(model.rest([angles[0], angles[1], 0.0, 0.0], &[0.0; N_MUSCLES])),
            model,
            start_angles: angles,
            start_hand: [0.0; 2],
            proprioception: false,
        };
        arm.reset(angles, [0.0; 2])?;
        arm.start_hand = arm.fingertip().0;
        Ok(arm)
    }

    /// Puts the arm at `angles` with joint velocities `velocities`, muscles at the minimum activation
    /// and their forces those of that state (MotorNet's `reset` with a given joint state).
    pub fn reset(&mut self, angles: [f64; 2], velocities: [f64; 2]) -> Result<()> {
        let p = &self.model.p;
        for (j, (&q, [lo, hi])) in angles.iter().zip(&p.joint_limits).enumerate() {
            if !(q >= *lo && q <= *hi) {
                return Err(EnvError::config(
                    "effector.start_angles",
                    format!("joint {j} at {q} rad is outside its limits [{lo}, {hi}]"),
                ));
            }
        }
        if !velocities.iter().all(|v| v.abs() <= p.velocity_limit) {
            return Err(EnvError::config("effector.start_velocities", "beyond velocity_limit"));
        }
        let joint = [angles[0], angles[1], velocities[0], velocities[1]];
        self.state = infallible(self.model.rest(joint, &[0.0; N_MUSCLES]));
        Ok(())
    }

    /// θ₁, θ₂, θ̇₁, θ̇₂ (rad, rad/s).
    pub fn joint(&self) -> [f64; 4] {
        self.state.joint
    }

    /// The muscles' states (one entry per muscle in each field).
    pub fn muscles(&self) -> &Muscles<[f64; N_MUSCLES]> {
        &self.state.muscles
    }

    /// The geometry of the current joint state.
    pub fn geometry(&self) -> &Geometry<[f64; N_MUSCLES]> {
        &self.state.geometry
    }

    /// The whole state.
    pub fn state(&self) -> &Arm26State<f64, [f64; N_MUSCLES]> {
        &self.state
    }

    /// The parameters.
    pub fn params(&self) -> &Arm26Params {
        &self.model.p
    }

    /// The constants the step is computed with (what the differentiable twin steps by too).
    pub fn model(&self) -> &Arm26Model {
        &self.model
    }

    /// The fingertip at the start posture, in the shoulder's frame: the origin of the env's hand frame.
    pub fn start_hand(&self) -> [f64; 2] {
        self.start_hand
    }

    /// Hand (fingertip) position and velocity in the shoulder's frame (m, m/s).
    pub fn fingertip(&self) -> ([f64; 2], [f64; 2]) {
        infallible(self.model.fingertip(&self.state.joint))
    }

    /// One step of `dt` with excitations `u` (clipped to `[min_activation, 1]`) and the external force
    /// `endpoint_load` (N) at the hand.
    pub fn step(&mut self, u: &[f64; N_MUSCLES], endpoint_load: [f64; 2]) {
        self.state = infallible(self.model.step(&self.state, u, &endpoint_load));
    }
}

impl Effector for Arm26 {
    type Action = [f32; N_MUSCLES];
    type Command = [f64; N_MUSCLES];

    fn from_config(config: &EffectorConfig, dt: f64) -> Result<Self> {
        let EffectorConfig::Arm26(c) = config else {
            return Err(EnvError::config(
                "effector.kind",
                "a `Reach<Arm26>` needs `effector = { kind = \"arm26\", … }`",
            ));
        };
        let mut arm = Arm26::new(c.params, dt, c.start_angles)?;
        arm.proprioception = c.proprioception;
        Ok(arm)
    }

    fn action_space(&self, _bound: f64) -> Space {
        Space::Box(BoxSpace::uniform(N_MUSCLES, 0.0, 1.0))
    }

    /// Excitations clipped to [0, 1] (the muscles clip them to `[min_activation, 1]` again).
    fn command(&self, action: &[f32; N_MUSCLES], _bound: f64) -> [f64; N_MUSCLES] {
        action.map(|u| f64::from(u).clamp(0.0, 1.0))
    }

    fn effort_scale(&self, _bound: f64) -> f64 {
        1.0
    }

    /// The force law's force at the hand (from the hand's state at the start of the step) is the
    /// endpoint load, mapped to joint torques through Jᵀ, as MotorNet applies `endpoint_load`.
    fn step(&mut self, u: &[f64; N_MUSCLES], law: &ForceLaw) {
        let h = Effector::hand(self);
        let load = law.force(h.pos, h.vel);
        Arm26::step(self, u, load);
    }

    fn hand(&self) -> HandState {
        let (pos, vel) = self.fingertip();
        HandState {
            pos: [pos[0] - self.start_hand[0], pos[1] - self.start_hand[1]],
            vel,
        }
    }

    fn rest_at_start(&mut self) {
        self.reset(self.start_angles, [0.0; 2])
            .expect("the start angles were checked when the arm was built");
    }

    fn hand_inertia(&self) -> crate::effector::Mat2 {
        self.model.hand_inertia(&self.state.joint)
    }

    fn describe_actions() -> Option<String> {
        Some(format!("muscle excitations: {}", MUSCLE_NAMES.join(", ")))
    }

    fn proprioception_dim(&self) -> usize {
        if self.proprioception {
            2 * N_MUSCLES
        } else {
            0
        }
    }

    fn write_proprioception(&self, out: &mut [f32]) {
        if !self.proprioception {
            return;
        }
        let (length, velocity) = infallible(self.model.proprioception(&self.state.muscles));
        for m in 0..N_MUSCLES {
            out[m] = length[m] as f32;
            out[N_MUSCLES + m] = velocity[m] as f32;
        }
    }
}
