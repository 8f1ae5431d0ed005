//! A torque-driven two-link planar arm (shoulder and elbow) in the horizontal plane.
//!
//! Dynamics `M(θ)·θ̈ + c(θ, θ̇) + B·θ̇ = τ + J(θ)ᵀ·F`, with the hand force `F` of the force law mapped to
//! joint torques through the Jacobian transpose, and
//!
//! - `M = [[a₁ + 2a₂cos θ₂, a₃ + a₂cos θ₂], [a₃ + a₂cos θ₂, a₃]]`,
//!   `a₁ = I₁ + I₂ + m₂l₁²`, `a₂ = m₂l₁s₂`, `a₃ = I₂`;
//! - `c = a₂ sin θ₂ · [−θ̇₂(2θ̇₁ + θ̇₂), θ̇₁²]`.
//!
//! Parameters default to Li & Todorov (2004, ICINCO, "Iterative linear quadratic regulator design for
//! nonlinear biological movement systems", §5): m = (1.4, 1.0) kg, l = (0.30, 0.33) m, centre-of-mass
//! distances s = (0.11, 0.16) m, I = (0.025, 0.045) kg·m², joint viscosity B = [[0.05, 0.025], [0.025, 0.05]]
//! N·m·s/rad. Integration: classical Runge–Kutta 4 with `substeps` sub-steps per env step, the
//! control and the force law held over the step.

use serde::{Deserialize, Serialize};

use super::{linalg::Mat2, ForceLaw, HandState};
use crate::error::{EnvError, Result};

/// Physical parameters of the arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArmParams {
    /// Segment masses (kg): upper arm, forearm.
    pub masses: [f64; 2],
    /// Segment lengths (m).
    pub lengths: [f64; 2],
    /// Distance from each joint to its segment's centre of mass (m).
    pub com: [f64; 2],
    /// Moments of inertia (kg·m²).
    pub inertias: [f64; 2],
    /// Joint viscosity matrix (N·m·s/rad); zero it for a conservative arm.
    pub joint_damping: Mat2,
}

impl Default for ArmParams {
    fn default() -> Self {
        ArmParams {
            // Li & Todorov 2004 §5: m₁ = 1.4 kg, m₂ = 1.0 kg (1.1 kg here before was a transcription
            // error; the independent iLQR implementations of the paper's arm agree on 1.0 kg).
            masses: [1.4, 1.0],
            lengths: [0.30, 0.33],
            com: [0.11, 0.16],
            inertias: [0.025, 0.045],
            joint_damping: [[0.05, 0.025], [0.025, 0.05]],
        }
    }
}

/// What the action of the arm means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmAction {
    /// Shoulder and elbow torques (N·m).
    #[default]
    Torque,
    /// A hand force (N), mapped to torques through `Jᵀ`: the same interface as a point mass.
    EndpointForce,
}

/// Settings of a [`TwoLinkArm`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArmConfig {
    /// Physical parameters.
    pub params: ArmParams,
    /// Meaning of the action.
    pub action: ArmAction,
    /// Joint angles at the start (rad): shoulder, elbow.
    pub start_angles: [f64; 2],
    /// RK4 sub-steps per env step.
    pub substeps: u32,
}

impl Default for ArmConfig {
    fn default() -> Self {
        ArmConfig {
            params: ArmParams::default(),
            action: ArmAction::Torque,
            start_angles: [std::f64::consts::FRAC_PI_4, std::f64::consts::FRAC_PI_2],
            substeps: 1,
        }
    }
}

/// The two-link arm.
#[derive(Debug, Clone)]
pub struct TwoLinkArm {
    config: ArmConfig,
    dt: f64,
    /// θ₁, θ₂, θ̇₁, θ̇₂.
    q: [f64; 4],
    start_hand: [f64; 2],
}

impl TwoLinkArm {
    /// An arm at rest in its start posture, for env time step `dt` (s).
    pub fn new(config: ArmConfig, dt: f64) -> Result<Self> {
        let p = &config.params;
        let positive = p
            .masses
            .iter()
            .chain(&p.lengths)
            .chain(&p.inertias)
            .all(|v| v.is_finite() && *v > 0.0);
        if !positive {
            return Err(EnvError::config(
                "effector.params",
                "masses, lengths and inertias must be > 0",
            ));
        }
        if config.substeps == 0 {
            return Err(EnvError::config("effector.substeps", "must be ≥ 1"));
        }
        if !(dt.is_finite() && dt > 0.0) {
            return Err(EnvError::config("dt", format!("must be > 0, got {dt}")));
        }
        let mut arm = TwoLinkArm {
            config,
            dt,
            q: [config.start_angles[0], config.start_angles[1], 0.0, 0.0],
            start_hand: [0.0; 2],
        };
        arm.start_hand = arm.hand_absolute(&[config.start_angles[0], config.start_angles[1]]);
        Ok(arm)
    }

    /// The settings.
    pub fn config(&self) -> &ArmConfig {
        &self.config
    }

    /// Joint angles and velocities `[θ₁, θ₂, θ̇₁, θ̇₂]`.
    pub fn joints(&self) -> [f64; 4] {
        self.q
    }

    /// Sets the joint state.
    pub fn set_joints(&mut self, q: [f64; 4]) {
        self.q = q;
    }

    /// Back to rest in the start posture.
    pub fn reset(&mut self) {
        let s = self.config.start_angles;
        self.q = [s[0], s[1], 0.0, 0.0];
    }

    /// Hand position in shoulder-centred coordinates for joint angles `th`.
    pub fn hand_absolute(&self, th: &[f64; 2]) -> [f64; 2] {
        let [l1, l2] = self.config.params.lengths;
        let (s1, c1) = th[0].sin_cos();
        let (s12, c12) = (th[0] + th[1]).sin_cos();
        [l1 * c1 + l2 * c12, l1 * s1 + l2 * s12]
    }

    /// The hand Jacobian `∂x/∂θ` at joint angles `th`.
    pub fn jacobian(&self, th: &[f64; 2]) -> Mat2 {
        let [l1, l2] = self.config.params.lengths;
        let (s1, c1) = th[0].sin_cos();
        let (s12, c12) = (th[0] + th[1]).sin_cos();
        [[-l1 * s1 - l2 * s12, -l2 * s12], [l1 * c1 + l2 * c12, l2 * c12]]
    }

    /// The inertia matrix `M(θ)`.
    pub fn mass_matrix(&self, th2: f64) -> Mat2 {
        let (a1, a2, a3) = self.inertia_constants();
        let c2 = th2.cos();
        [[a1 + 2.0 * a2 * c2, a3 + a2 * c2], [a3 + a2 * c2, a3]]
    }

    /// Kinetic energy `½ θ̇ᵀ M θ̇` (J).
    pub fn kinetic_energy(&self) -> f64 {
        let m = self.mass_matrix(self.q[1]);
        let w = [self.q[2], self.q[3]];
        0.5 * (w[0] * (m[0][0] * w[0] + m[0][1] * w[1]) + w[1] * (m[1][0] * w[0] + m[1][1] * w[1]))
    }

    fn inertia_constants(&self) -> (f64, f64, f64) {
        let p = &self.config.params;
        let a1 = p.inertias[0] + p.inertias[1] + p.masses[1] * p.lengths[0] * p.lengths[0];
        let a2 = p.masses[1] * p.lengths[0] * p.com[1];
        (a1, a2, p.inertias[1])
    }

    /// Hand position (relative to the start posture's hand) and velocity.
    pub fn hand(&self) -> HandState {
        hand_of(self, &self.q)
    }

    /// `Λ = (J·M⁻¹·Jᵀ)⁻¹` in the present posture (the operational-space inertia of the hand).
    pub fn hand_inertia(&self) -> Mat2 {
        let j = self.jacobian(&[self.q[0], self.q[1]]);
        let jt = [[j[0][0], j[1][0]], [j[0][1], j[1][1]]];
        let m_inv = crate::effector::linalg::inv2(&self.mass_matrix(self.q[1]));
        use crate::effector::linalg::{inv2, matmul};
        inv2(&matmul(&matmul(&j, &m_inv), &jt))
    }

    /// Joint torques produced by `action`.
    pub fn action_torque(&self, action: [f64; 2]) -> [f64; 2] {
        match self.config.action {
            ArmAction::Torque => action,
            ArmAction::EndpointForce => jt_times(&self.jacobian(&[self.q[0], self.q[1]]), action),
        }
    }

    /// Advances one env step under `action` and force law `law`.
    pub fn step(&mut self, action: [f64; 2], law: &ForceLaw) {
        let h = self.dt / f64::from(self.config.substeps);
        for _ in 0..self.config.substeps {
            let q = self.q;
            let k1 = self.deriv(&q, action, law);
            let k2 = self.deriv(&axpy(&q, 0.5 * h, &k1), action, law);
            let k3 = self.deriv(&axpy(&q, 0.5 * h, &k2), action, law);
            let k4 = self.deriv(&axpy(&q, h, &k3), action, law);
            for i in 0..4 {
                self.q[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
            }
        }
    }

    /// `d/dt [θ, θ̇]` with the action's torque (held) and the law's hand force (state-dependent).
    fn deriv(&self, q: &[f64; 4], action: [f64; 2], law: &ForceLaw) -> [f64; 4] {
        let th = [q[0], q[1]];
        let w = [q[2], q[3]];
        let jac = self.jacobian(&th);
        let tau_a = match self.config.action {
            ArmAction::Torque => action,
            ArmAction::EndpointForce => jt_times(&jac, action),
        };
        let hs = hand_of(self, q);
        let tau_f = jt_times(&jac, law.force(hs.pos, hs.vel));
        let (_, a2, _) = self.inertia_constants();
        let s2 = q[1].sin();
        let c = [-a2 * s2 * w[1] * (2.0 * w[0] + w[1]), a2 * s2 * w[0] * w[0]];
        let b = &self.config.params.joint_damping;
        let rhs = [
            tau_a[0] + tau_f[0] - c[0] - (b[0][0] * w[0] + b[0][1] * w[1]),
            tau_a[1] + tau_f[1] - c[1] - (b[1][0] * w[0] + b[1][1] * w[1]),
        ];
        let m = self.mass_matrix(q[1]);
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        let acc = [
            (m[1][1] * rhs[0] - m[0][1] * rhs[1]) / det,
            (-m[1][0] * rhs[0] + m[0][0] * rhs[1]) / det,
        ];
        [w[0], w[1], acc[0], acc[1]]
    }
}

fn hand_of(arm: &TwoLinkArm, q: &[f64; 4]) -> HandState {
    let th = [q[0], q[1]];
    let x = arm.hand_absolute(&th);
    let j = arm.jacobian(&th);
    HandState {
        pos: [x[0] - arm.start_hand[0], x[1] - arm.start_hand[1]],
        vel: [j[0][0] * q[2] + j[0][1] * q[3], j[1][0] * q[2] + j[1][1] * q[3]],
    }
}

fn jt_times(j: &Mat2, f: [f64; 2]) -> [f64; 2] {
    [j[0][0] * f[0] + j[1][0] * f[1], j[0][1] * f[0] + j[1][1] * f[1]]
}

fn axpy(q: &[f64; 4], h: f64, k: &[f64; 4]) -> [f64; 4] {
    [q[0] + h * k[0], q[1] + h * k[1], q[2] + h * k[2], q[3] + h * k[3]]
}
