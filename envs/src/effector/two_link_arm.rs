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

use super::real::{infallible, Real};
use super::{linalg::Mat2, ForceLaw, HandState, LawCoefficients};
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

/// The two-link arm's constants for steps of `dt`, and its step written once over [`Real`]: the env runs
/// it in `f64`, the differentiable twin in `reachlab-agents` on tensors (a batch of trials in an autograd
/// graph). The order of every operation is that of the `f64` code it replaced, so the env's trajectories
/// did not move by a bit.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLinkModel {
    params: ArmParams,
    action: ArmAction,
    /// Sub-step length (s): `dt / substeps`.
    h: f64,
    substeps: u32,
    /// `a₁ = I₁ + I₂ + m₂l₁²`, `a₂ = m₂l₁s₂`, `a₃ = I₂`.
    a: (f64, f64, f64),
}

impl TwoLinkModel {
    /// The constants of `config` (checked by the caller) for env steps of `dt` (s).
    pub fn new(config: &ArmConfig, dt: f64) -> Self {
        let p = config.params;
        let a1 = p.inertias[0] + p.inertias[1] + p.masses[1] * p.lengths[0] * p.lengths[0];
        let a2 = p.masses[1] * p.lengths[0] * p.com[1];
        TwoLinkModel {
            params: p,
            action: config.action,
            h: dt / f64::from(config.substeps),
            substeps: config.substeps,
            a: (a1, a2, p.inertias[1]),
        }
    }

    /// Hand position in shoulder-centred coordinates for joint angles `th`.
    pub fn hand_absolute<R: Real>(&self, th: &[R; 2]) -> Result<[R; 2], R::Error> {
        let [l1, l2] = self.params.lengths;
        let (s1, c1) = (th[0].sin()?, th[0].cos()?);
        let th12 = th[0].add(&th[1])?;
        let (s12, c12) = (th12.sin()?, th12.cos()?);
        Ok([c1.mul_c(l1)?.add(&c12.mul_c(l2)?)?, s1.mul_c(l1)?.add(&s12.mul_c(l2)?)?])
    }

    /// The hand Jacobian `∂x/∂θ` at joint angles `th`.
    pub fn jacobian<R: Real>(&self, th: &[R; 2]) -> Result<[[R; 2]; 2], R::Error> {
        let [l1, l2] = self.params.lengths;
        let (s1, c1) = (th[0].sin()?, th[0].cos()?);
        let th12 = th[0].add(&th[1])?;
        let (s12, c12) = (th12.sin()?, th12.cos()?);
        Ok([
            [s1.mul_c(-l1)?.sub(&s12.mul_c(l2)?)?, s12.mul_c(-l2)?],
            [c1.mul_c(l1)?.add(&c12.mul_c(l2)?)?, c12.mul_c(l2)?],
        ])
    }

    /// The inertia matrix `M(θ)` at elbow angle `th2`.
    pub fn mass_matrix<R: Real>(&self, th2: &R) -> Result<[[R; 2]; 2], R::Error> {
        let (a1, a2, a3) = self.a;
        let c2 = th2.cos()?;
        let off = c2.mul_c(a2)?.add_c(a3)?;
        Ok([[c2.mul_c(2.0 * a2)?.add_c(a1)?, off.clone()], [off, th2.full_like(a3)?]])
    }

    /// Hand position relative to `start` (the start posture's hand) and hand velocity, for joint state
    /// `q = [θ₁, θ₂, θ̇₁, θ̇₂]`.
    pub fn hand<R: Real>(&self, q: &[R; 4], start: [f64; 2]) -> Result<([R; 2], [R; 2]), R::Error> {
        let th = [q[0].clone(), q[1].clone()];
        let x = self.hand_absolute(&th)?;
        let j = self.jacobian(&th)?;
        Ok((
            [x[0].add_c(-start[0])?, x[1].add_c(-start[1])?],
            [
                j[0][0].mul(&q[2])?.add(&j[0][1].mul(&q[3])?)?,
                j[1][0].mul(&q[2])?.add(&j[1][1].mul(&q[3])?)?,
            ],
        ))
    }

    /// One env step from joint state `q` under the action (torques, or a hand force through `Jᵀ`), held
    /// over the step, and the force law `law` (state-dependent, evaluated at every Runge–Kutta stage);
    /// `start` is the start posture's hand, the origin of the law's positions.
    pub fn step<R: Real>(
        &self,
        q: &[R; 4],
        action: &[R; 2],
        law: &LawCoefficients<R>,
        start: [f64; 2],
    ) -> Result<[R; 4], R::Error> {
        let h = self.h;
        let mut q = q.clone();
        for _ in 0..self.substeps {
            let k1 = self.deriv(&q, action, law, start)?;
            let k2 = self.deriv(&axpy(&q, 0.5 * h, &k1)?, action, law, start)?;
            let k3 = self.deriv(&axpy(&q, 0.5 * h, &k2)?, action, law, start)?;
            let k4 = self.deriv(&axpy(&q, h, &k3)?, action, law, start)?;
            let mut next = q.clone();
            for i in 0..4 {
                let sum = k1[i].add(&k2[i].mul_c(2.0)?)?.add(&k3[i].mul_c(2.0)?)?.add(&k4[i])?;
                next[i] = q[i].add(&sum.mul_c(h / 6.0)?)?;
            }
            q = next;
        }
        Ok(q)
    }

    /// `d/dt [θ, θ̇]` with the action's torque (held) and the law's hand force (state-dependent).
    fn deriv<R: Real>(
        &self,
        q: &[R; 4],
        action: &[R; 2],
        law: &LawCoefficients<R>,
        start: [f64; 2],
    ) -> Result<[R; 4], R::Error> {
        let th = [q[0].clone(), q[1].clone()];
        let w = [&q[2], &q[3]];
        let jac = self.jacobian(&th)?;
        let tau_a = match self.action {
            ArmAction::Torque => action.clone(),
            ArmAction::EndpointForce => jt_times(&jac, action)?,
        };
        let (pos, vel) = self.hand(q, start)?;
        let tau_f = jt_times(&jac, &law.force(&pos, &vel)?)?;
        let (_, a2, _) = self.a;
        let s2 = q[1].sin()?;
        let c = [
            s2.mul_c(-a2)?.mul(w[1])?.mul(&w[0].mul_c(2.0)?.add(w[1])?)?,
            s2.mul_c(a2)?.mul(w[0])?.mul(w[0])?,
        ];
        let b = &self.params.joint_damping;
        let damping = |r: usize| -> Result<R, R::Error> { w[0].mul_c(b[r][0])?.add(&w[1].mul_c(b[r][1])?) };
        let rhs = [
            tau_a[0].add(&tau_f[0])?.sub(&c[0])?.sub(&damping(0)?)?,
            tau_a[1].add(&tau_f[1])?.sub(&c[1])?.sub(&damping(1)?)?,
        ];
        let m = self.mass_matrix(&q[1])?;
        let det = m[0][0].mul(&m[1][1])?.sub(&m[0][1].mul(&m[1][0])?)?;
        let acc = [
            m[1][1].mul(&rhs[0])?.sub(&m[0][1].mul(&rhs[1])?)?.div(&det)?,
            m[1][0].neg()?.mul(&rhs[0])?.add(&m[0][0].mul(&rhs[1])?)?.div(&det)?,
        ];
        let [acc0, acc1] = acc;
        Ok([w[0].clone(), w[1].clone(), acc0, acc1])
    }
}

/// The two-link arm.
#[derive(Debug, Clone)]
pub struct TwoLinkArm {
    config: ArmConfig,
    model: TwoLinkModel,
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
        let model = TwoLinkModel::new(&config, dt);
        let start_hand = infallible(model.hand_absolute(&config.start_angles));
        Ok(TwoLinkArm {
            config,
            model,
            q: [config.start_angles[0], config.start_angles[1], 0.0, 0.0],
            start_hand,
        })
    }

    /// The settings.
    pub fn config(&self) -> &ArmConfig {
        &self.config
    }

    /// The step's one definition, over any [`Real`].
    pub fn model(&self) -> &TwoLinkModel {
        &self.model
    }

    /// The hand at the start posture, in shoulder-centred coordinates (the origin of [`Self::hand`]).
    pub fn start_hand(&self) -> [f64; 2] {
        self.start_hand
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
        infallible(self.model.hand_absolute(th))
    }

    /// The hand Jacobian `∂x/∂θ` at joint angles `th`.
    pub fn jacobian(&self, th: &[f64; 2]) -> Mat2 {
        infallible(self.model.jacobian(th))
    }

    /// The inertia matrix `M(θ)`.
    pub fn mass_matrix(&self, th2: f64) -> Mat2 {
        infallible(self.model.mass_matrix(&th2))
    }

    /// Kinetic energy `½ θ̇ᵀ M θ̇` (J).
    pub fn kinetic_energy(&self) -> f64 {
        let m = self.mass_matrix(self.q[1]);
        let w = [self.q[2], self.q[3]];
        0.5 * (w[0] * (m[0][0] * w[0] + m[0][1] * w[1]) + w[1] * (m[1][0] * w[0] + m[1][1] * w[1]))
    }

    /// Hand position (relative to the start posture's hand) and velocity.
    pub fn hand(&self) -> HandState {
        let (pos, vel) = infallible(self.model.hand(&self.q, self.start_hand));
        HandState { pos, vel }
    }

    /// `Λ = (J·M⁻¹·Jᵀ)⁻¹` in the present posture (the operational-space inertia of the hand).
    pub fn hand_inertia(&self) -> Mat2 {
        use crate::effector::linalg::{inv2, matmul};
        let j = self.jacobian(&[self.q[0], self.q[1]]);
        let jt = [[j[0][0], j[1][0]], [j[0][1], j[1][1]]];
        let m_inv = inv2(&self.mass_matrix(self.q[1]));
        inv2(&matmul(&matmul(&j, &m_inv), &jt))
    }

    /// Joint torques produced by `action`.
    pub fn action_torque(&self, action: [f64; 2]) -> [f64; 2] {
        match self.config.action {
            ArmAction::Torque => action,
            ArmAction::EndpointForce => infallible(jt_times(&self.jacobian(&[self.q[0], self.q[1]]), &action)),
        }
    }

    /// Advances one env step under `action` and force law `law`.
    pub fn step(&mut self, action: [f64; 2], law: &ForceLaw) {
        self.q = infallible(self.model.step(&self.q, &action, &law.coefficients(), self.start_hand));
    }
}

/// `Jᵀ·f`.
fn jt_times<R: Real>(j: &[[R; 2]; 2], f: &[R; 2]) -> Result<[R; 2], R::Error> {
    Ok([
        j[0][0].mul(&f[0])?.add(&j[1][0].mul(&f[1])?)?,
        j[0][1].mul(&f[0])?.add(&j[1][1].mul(&f[1])?)?,
    ])
}

/// `q + h·k`.
fn axpy<R: Real>(q: &[R; 4], h: f64, k: &[R; 4]) -> Result<[R; 4], R::Error> {
    Ok([
        q[0].add(&k[0].mul_c(h)?)?,
        q[1].add(&k[1].mul_c(h)?)?,
        q[2].add(&k[2].mul_c(h)?)?,
        q[3].add(&k[3].mul_c(h)?)?,
    ])
}
