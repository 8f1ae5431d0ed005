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

/// One muscle's state after a step, as MotorNet's muscle state holds it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MuscleState {
    /// Activation in `[min_activation, 1]`.
    pub activation: f64,
    /// Fibre length (m) (rigid tendon: musculotendon length − tendon slack length, ≥ 0).
    pub length: f64,
    /// Fibre velocity (m/s) (= musculotendon velocity).
    pub velocity: f64,
    /// Passive force–length factor.
    pub flpe: f64,
    /// Active force–length factor.
    pub flce: f64,
    /// Active force, normalised (force–length × force–velocity × activation).
    pub active_force: f64,
    /// Total force (N).
    pub force: f64,
}

/// Musculotendon lengths and velocities and the moment arms at one joint state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Geometry {
    /// Musculotendon lengths (m).
    pub length: [f64; N_MUSCLES],
    /// Musculotendon velocities (m/s).
    pub velocity: [f64; N_MUSCLES],
    /// Moment arms `∂l/∂θ_j` (m), per joint.
    pub moment_arm: [[f64; N_MUSCLES]; 2],
}

/// The arm26 model: joint state, muscle states and the geometry of the joint state.
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
/// assert!(arm.muscles()[4].activation > 0.5);
/// ```
#[derive(Debug, Clone)]
pub struct Arm26 {
    p: Arm26Params,
    dt: f64,
    /// θ₁, θ₂, θ̇₁, θ̇₂.
    joint: [f64; 4],
    muscles: [MuscleState; N_MUSCLES],
    geometry: Geometry,
    // Derived constants (MotorNet's `build`).
    l0_pe: [f64; N_MUSCLES],
    k_pe: [f64; N_MUSCLES],
    inv_l0_ce: [f64; N_MUSCLES],
    inv_tau_deactivation: f64,
    /// 1 / (10 × optimal length): the maximal shortening velocity's reciprocal.
    inv_vmax: [f64; N_MUSCLES],
    inertia_c: [[f64; 2]; 2],
    inertia_m: [[f64; 2]; 2],
    coriolis: f64,
    /// Where the env puts the arm at rest, and the fingertip there (the origin of the env's hand frame).
    start_angles: [f64; 2],
    start_hand: [f64; 2],
    proprioception: bool,
}

// The Hill muscle's constants (MotorNet `RigidTendonHillMuscle.__init__`, after Kistemaker et al. 2010).
const S_AS: f64 = 0.001;
const F_ISO_N_DEN: f64 = 0.66 * 0.66;
const Q_CRIT: f64 = 0.3;
const MIN_FLCE: f64 = 0.01;

impl Arm26 {
    /// An arm at rest at joint angles `angles` (rad), muscles at the minimum activation, for time step
    /// `dt` (s; MotorNet's default is 0.01).
    pub fn new(p: Arm26Params, dt: f64, angles: [f64; 2]) -> Result<Self> {
        p.validate("effector")?;
        if !(dt.is_finite() && dt > 0.0) {
            return Err(EnvError::config("dt", format!("must be > 0, got {dt}")));
        }
        let mut l0_pe = [0.0; N_MUSCLES];
        let mut k_pe = [0.0; N_MUSCLES];
        let mut inv_l0_ce = [0.0; N_MUSCLES];
        let mut inv_vmax = [0.0; N_MUSCLES];
        for m in 0..N_MUSCLES {
            let l0 = p.optimal_muscle_length[m];
            l0_pe[m] = p.normalized_slack_muscle_length * l0;
            k_pe[m] = 1.0 / (1.66 - l0_pe[m] / l0).powi(2);
            inv_l0_ce[m] = 1.0 / l0;
            inv_vmax[m] = 1.0 / (10.0 * l0);
        }
        let [m1, m2] = p.masses;
        let [l1, _] = p.lengths;
        let [l1g, l2g] = p.com;
        let [i1, i2] = p.inertias;
        let i11 = m1 * l1g * l1g + i1 + m2 * (l2g * l2g + l1 * l1) + i2;
        let i12 = m2 * l2g * l2g + i2;
        let mut arm = Arm26 {
            dt,
            joint: [0.0; 4],
            muscles: [MuscleState::default(); N_MUSCLES],
            geometry: Geometry::default(),
            l0_pe,
            k_pe,
            inv_l0_ce,
            inv_vmax,
            inv_tau_deactivation: 1.0 / p.tau_deactivation,
            inertia_c: [[i11, i12], [i12, i12]],
            inertia_m: [[2.0 * m2 * l1 * l2g, m2 * l1 * l2g], [m2 * l1 * l2g, 0.0]],
            coriolis: m2 * l1 * l2g,
            start_angles: angles,
            start_hand: [0.0; 2],
            proprioception: false,
            p,
        };
        arm.reset(angles, [0.0; 2])?;
        arm.start_hand = arm.fingertip().0;
        Ok(arm)
    }

    /// Puts the arm at `angles` with joint velocities `velocities`, muscles at the minimum activation
    /// and their forces those of that state (MotorNet's `reset` with a given joint state).
    pub fn reset(&mut self, angles: [f64; 2], velocities: [f64; 2]) -> Result<()> {
        for (j, (&q, [lo, hi])) in angles.iter().zip(&self.p.joint_limits).enumerate() {
            if !(q >= *lo && q <= *hi) {
                return Err(EnvError::config(
                    "effector.start_angles",
                    format!("joint {j} at {q} rad is outside its limits [{lo}, {hi}]"),
                ));
            }
        }
        if !velocities.iter().all(|v| v.abs() <= self.p.velocity_limit) {
            return Err(EnvError::config("effector.start_velocities", "beyond velocity_limit"));
        }
        self.joint = [angles[0], angles[1], velocities[0], velocities[1]];
        self.update_geometry();
        let a0 = self.p.min_activation;
        for m in 0..N_MUSCLES {
            self.muscles[m] = self.muscle_state(m, a0, &self.geometry);
        }
        Ok(())
    }

    /// θ₁, θ₂, θ̇₁, θ̇₂ (rad, rad/s).
    pub fn joint(&self) -> [f64; 4] {
        self.joint
    }

    /// The muscles' states.
    pub fn muscles(&self) -> &[MuscleState; N_MUSCLES] {
        &self.muscles
    }

    /// The geometry of the current joint state.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The parameters.
    pub fn params(&self) -> &Arm26Params {
        &self.p
    }

    /// Hand (fingertip) position and velocity in the shoulder's frame (m, m/s).
    pub fn fingertip(&self) -> ([f64; 2], [f64; 2]) {
        let [q1, q2, v1, v2] = self.joint;
        let [l1, l2] = self.p.lengths;
        let (s1, c1) = q1.sin_cos();
        let (s12, c12) = (q1 + q2).sin_cos();
        let pos = [l1 * c1 + l2 * c12, l1 * s1 + l2 * s12];
        let vel = [
            -(l1 * s1 + l2 * s12) * v1 - l2 * s12 * v2,
            (l1 * c1 + l2 * c12) * v1 + l2 * c12 * v2,
        ];
        (pos, vel)
    }

    /// One step of `dt` with excitations `u` (clipped to `[min_activation, 1]`) and the external force
    /// `endpoint_load` (N) at the hand.
    pub fn step(&mut self, u: &[f64; N_MUSCLES], endpoint_load: [f64; 2]) {
        let dt = self.dt;
        // Derivatives at the start of the step (MotorNet `Effector.ode`).
        let mut torque = [0.0; 2];
        for (j, t) in torque.iter_mut().enumerate() {
            let muscles: f64 = (0..N_MUSCLES)
                .map(|m| self.muscles[m].force * self.geometry.moment_arm[j][m])
                .sum();
            *t = -muscles - self.p.damping * self.joint[2 + j];
        }
        let acc = self.joint_acceleration(torque, endpoint_load);
        // Muscles: the new activation, forces from the old geometry (MotorNet `integration_step`).
        for (m, &u) in u.iter().enumerate() {
            let a = self.clip_activation(self.muscles[m].activation);
            let da = self.activation_derivative(u, a);
            let a_new = self.clip_activation(self.muscles[m].activation + da * dt);
            self.muscles[m] = self.muscle_state(m, a_new, &self.geometry);
        }
        // Skeleton (MotorNet `TwoDofArm._integrate`): explicit Euler, then the limits.
        for (j, acc) in acc.iter().enumerate() {
            let old_vel = self.joint[2 + j];
            let mut vel = old_vel + acc * dt;
            let pos = self.joint[j] + old_vel * dt;
            let [lo, hi] = self.p.joint_limits[j];
            vel = vel.max(-self.p.velocity_limit).min(self.p.velocity_limit);
            if (vel < 0.0 && pos <= lo) || (vel > 0.0 && pos >= hi) {
                vel = 0.0;
            }
            self.joint[j] = pos.max(lo).min(hi);
            self.joint[2 + j] = vel;
        }
        self.update_geometry();
    }

    fn clip_activation(&self, a: f64) -> f64 {
        a.max(self.p.min_activation).min(1.0)
    }

    /// `ȧ` for excitation `u` at activation `a` (Thelen 2003; MotorNet `Muscle.activation_ode`).
    fn activation_derivative(&self, u: f64, a: f64) -> f64 {
        let u = self.clip_activation(u);
        let tmp = 0.5 + 1.5 * a;
        if u > a {
            (u - a) / (self.p.tau_activation * tmp)
        } else {
            // (u − a) / (τ_deact / tmp), without the second division.
            (u - a) * tmp * self.inv_tau_deactivation
        }
    }

    /// The geometry of the current joint state, written in place (MotorNet
    /// `RigidTendonArm26._get_geometry`).
    fn update_geometry(&mut self) {
        let p = &self.p;
        let joint = &self.joint;
        let phi = [joint[0] - p.a3[0], joint[1] - p.a3[1]];
        let g = &mut self.geometry;
        for m in 0..N_MUSCLES {
            let mut len = 0.0;
            let mut vel = 0.0;
            for j in 0..2 {
                let arm = phi[j] * p.a2[j][m] * 2.0 + p.a1[j][m];
                g.moment_arm[j][m] = arm;
                len += (p.a1[j][m] + phi[j] * p.a2[j][m]) * phi[j];
                vel += joint[2 + j] * arm;
            }
            g.length[m] = len + p.a0[m];
            g.velocity[m] = vel;
        }
    }

    /// Muscle `m`'s state at activation `a` and geometry `g` (MotorNet `RigidTendonHillMuscle._integrate`
    /// after the activation update).
    fn muscle_state(&self, m: usize, a: f64, g: &Geometry) -> MuscleState {
        // Divisions by constants are multiplications by their reciprocals here (a few ulps from MotorNet's
        // quotients; the reference test holds the trajectories to 1e-10): the muscles are most of a step.
        let inv_l0_ce = self.inv_l0_ce[m];
        let length = (g.length[m] - self.p.tendon_length[m]).max(0.0);
        let velocity = g.velocity[m];
        let strain = ((length - self.l0_pe[m]) * inv_l0_ce).max(0.0);
        let len_n = length * inv_l0_ce;
        let vel_n = velocity * self.inv_vmax[m];
        let flpe = self.k_pe[m] * strain * strain;
        let flce = (1.0 + (-len_n * len_n + 2.0 * len_n - 1.0) * (1.0 / F_ISO_N_DEN)).max(MIN_FLCE);
        let a_rel_st = if len_n > 1.0 { 0.41 * flce } else { 0.41 };
        let b_rel_st = if a < Q_CRIT {
            let x = 1.0 - 0.9 * ((a - Q_CRIT) * (1.0 / (5e-3 - Q_CRIT)));
            5.2 * x * x
        } else {
            5.2
        };
        let f_x_a = flce * a;
        let (nom, den) = if vel_n < 0.0 {
            // Shortening: the Hill hyperbola.
            (vel_n * a * a_rel_st + f_x_a * b_rel_st, b_rel_st - vel_n)
        } else {
            // Lengthening: a hyperbola through the isometric point with the slope `dfdvcon0` there, its
            // asymptote at 1.5 × the isometric force, plus the small slope `S_AS`.
            // MotorNet: dfdvcon0 = a·(flce + a_rel)/b_rel, p_den = S_AS − 2·dfdvcon0; one division here.
            let p_nom = f_x_a * 0.5;
            let inv_p_den = b_rel_st / (S_AS * b_rel_st - 2.0 * a * (flce + a_rel_st));
            let p1 = -p_nom * inv_p_den;
            let p2 = p_nom * p_nom * inv_p_den;
            let p3 = -1.5 * f_x_a;
            (
                -p1 * p3 + p1 * S_AS * vel_n + p2 - p3 * vel_n + S_AS * vel_n * vel_n,
                p1 + vel_n,
            )
        };
        let active_force = (nom / den).max(0.0);
        MuscleState {
            activation: a,
            length,
            velocity,
            flpe,
            flce,
            active_force,
            force: (active_force + flpe) * self.p.max_isometric_force[m],
        }
    }

    /// `θ̈ = M⁻¹·(τ + Jᵀ·F − c)` (MotorNet `TwoDofArm._ode`).
    fn joint_acceleration(&self, torque: [f64; 2], load: [f64; 2]) -> [f64; 2] {
        let [q1, q2, v1, v2] = self.joint;
        let [l1, l2] = self.p.lengths;
        let (s1, c1) = q1.sin_cos();
        let (s2, c2) = q2.sin_cos();
        // sin and cos of θ₁ + θ₂ by the addition formulas (one sin_cos fewer; round-off apart, the same).
        let (s12, c12) = (s1 * c2 + c1 * s2, c1 * c2 - s1 * s2);
        let ic = &self.inertia_c;
        let im = &self.inertia_m;
        let i = [
            [ic[0][0] + c2 * im[0][0], ic[0][1] + c2 * im[0][1]],
            [ic[1][0] + c2 * im[1][0], ic[1][1] + c2 * im[1][1]],
        ];
        let cor1 = (-self.coriolis * s2 * (2.0 * v1 + v2)) * v2;
        let cor2 = (self.coriolis * s2 * v1) * v1;
        let j11 = -l1 * s1 - l2 * s12;
        let j12 = -l2 * s12;
        let j21 = l1 * c1 + l2 * c12;
        let j22 = l2 * c12;
        let r1 = torque[0] + j11 * load[0] + j21 * load[1] - cor1;
        let r2 = torque[1] + j12 * load[0] + j22 * load[1] - cor2;
        let det = 1.0 / (i[0][0] * i[1][1] - i[0][1] * i[1][0]);
        [
            det * (i[1][1] * r1 - i[0][1] * r2),
            det * (-i[1][0] * r1 + i[0][0] * r2),
        ]
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
        for (m, s) in self.muscles.iter().enumerate() {
            out[m] = (s.length * self.inv_l0_ce[m]) as f32;
            out[N_MUSCLES + m] = (s.velocity * self.inv_vmax[m]) as f32;
        }
    }
}
