//! arm26's step, written once over [`Real`] (one number per trial) and [`Lanes`] (one per muscle): the
//! env runs it in `f64` (`R = f64`, `L = [f64; 6]`), and the differentiable twin in `reachlab-agents`
//! runs the very same code on tensors, a batch of trials at once, in an autograd graph.
//!
//! Every expression keeps the order of operations of MotorNet's code as the module above describes it
//! (and of the `f64` code this replaced, bit for bit). Branches are computed on both sides and chosen per
//! trial with [`Real::select`]; the force–velocity relation divides once, by the denominator of the branch
//! taken, so that the branch not taken cannot put an infinity into a gradient.

use super::{Arm26Params, N_MUSCLES};
use crate::effector::real::{Lanes, Real};

// The Hill muscle's constants (MotorNet `RigidTendonHillMuscle.__init__`, after Kistemaker et al. 2010).
const S_AS: f64 = 0.001;
const F_ISO_N_DEN: f64 = 0.66 * 0.66;
const Q_CRIT: f64 = 0.3;
const MIN_FLCE: f64 = 0.01;

/// The muscles' states (one lane per muscle), as MotorNet's muscle state holds them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Muscles<L> {
    /// Activation in `[min_activation, 1]`.
    pub activation: L,
    /// Fibre length (m) (rigid tendon: musculotendon length − tendon slack length, ≥ 0).
    pub length: L,
    /// Fibre velocity (m/s) (= musculotendon velocity).
    pub velocity: L,
    /// Passive force–length factor.
    pub flpe: L,
    /// Active force–length factor.
    pub flce: L,
    /// Active force, normalised (force–length × force–velocity × activation).
    pub active_force: L,
    /// Total force (N).
    pub force: L,
}

/// Musculotendon lengths and velocities and the moment arms at one joint state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Geometry<L> {
    /// Musculotendon lengths (m).
    pub length: L,
    /// Musculotendon velocities (m/s).
    pub velocity: L,
    /// Moment arms `∂l/∂θ_j` (m), per joint.
    pub moment_arm: [L; 2],
}

/// The arm's state: the joints (θ₁, θ₂, θ̇₁, θ̇₂), the muscles, and the geometry of the joint state.
///
/// The muscles lag the joints by one step, as in MotorNet: a step computes the new activations' forces
/// from the geometry at its start.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Arm26State<R, L> {
    pub joint: [R; 4],
    pub muscles: Muscles<L>,
    pub geometry: Geometry<L>,
}

/// arm26's parameters and the constants MotorNet's `build` derives from them, for steps of `dt`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm26Model {
    pub p: Arm26Params,
    pub dt: f64,
    neg_tendon: [f64; N_MUSCLES],
    neg_l0_pe: [f64; N_MUSCLES],
    k_pe: [f64; N_MUSCLES],
    /// 1 / optimal fibre length.
    pub inv_l0_ce: [f64; N_MUSCLES],
    /// 1 / (10 × optimal length): the maximal shortening velocity's reciprocal.
    pub inv_vmax: [f64; N_MUSCLES],
    inv_tau_deactivation: f64,
    inertia_c: [[f64; 2]; 2],
    inertia_m: [[f64; 2]; 2],
    coriolis: f64,
}

impl Arm26Model {
    /// The constants of parameters `p` (checked by the caller) for steps of `dt` (s).
    pub fn new(p: Arm26Params, dt: f64) -> Self {
        let mut neg_l0_pe = [0.0; N_MUSCLES];
        let mut k_pe = [0.0; N_MUSCLES];
        let mut inv_l0_ce = [0.0; N_MUSCLES];
        let mut inv_vmax = [0.0; N_MUSCLES];
        for m in 0..N_MUSCLES {
            let l0 = p.optimal_muscle_length[m];
            let l0_pe = p.normalized_slack_muscle_length * l0;
            neg_l0_pe[m] = -l0_pe;
            k_pe[m] = 1.0 / (1.66 - l0_pe / l0).powi(2);
            inv_l0_ce[m] = 1.0 / l0;
            inv_vmax[m] = 1.0 / (10.0 * l0);
        }
        let [m1, m2] = p.masses;
        let [l1, _] = p.lengths;
        let [l1g, l2g] = p.com;
        let [i1, i2] = p.inertias;
        let i11 = m1 * l1g * l1g + i1 + m2 * (l2g * l2g + l1 * l1) + i2;
        let i12 = m2 * l2g * l2g + i2;
        Arm26Model {
            dt,
            neg_tendon: p.tendon_length.map(|t| -t),
            neg_l0_pe,
            k_pe,
            inv_l0_ce,
            inv_vmax,
            inv_tau_deactivation: 1.0 / p.tau_deactivation,
            inertia_c: [[i11, i12], [i12, i12]],
            inertia_m: [[2.0 * m2 * l1 * l2g, m2 * l1 * l2g], [m2 * l1 * l2g, 0.0]],
            coriolis: m2 * l1 * l2g,
            p,
        }
    }

    /// The state at rest at joint state `joint`, muscles at the minimum activation and their forces those
    /// of that state (MotorNet's `reset` with a given joint state).
    pub fn rest<R: Real, L: Lanes<R>>(&self, joint: [R; 4], like: &L) -> Result<Arm26State<R, L>, R::Error> {
        let geometry = self.geometry::<R, L>(&joint)?;
        let a0 = like.full_like(self.p.min_activation)?;
        let muscles = self.muscles(&a0, &geometry)?;
        Ok(Arm26State {
            joint,
            muscles,
            geometry,
        })
    }

    /// One step of `dt` under excitations `u` (clipped to `[min_activation, 1]`) with the external force
    /// `load` (N) at the hand.
    pub fn step<R: Real, L: Lanes<R>>(
        &self,
        s: &Arm26State<R, L>,
        u: &L,
        load: &[R; 2],
    ) -> Result<Arm26State<R, L>, R::Error> {
        let (joint, muscles) = self.advance(s, u, load)?;
        let geometry = self.geometry::<R, L>(&joint)?;
        Ok(Arm26State {
            joint,
            muscles,
            geometry,
        })
    }

    /// [`step`](Self::step) without the new joints' geometry: the new joints and muscles. (The geometry is
    /// a function of the joints that the next step reads; a caller that recomputes it there skips it.)
    pub fn advance<R: Real, L: Lanes<R>>(
        &self,
        s: &Arm26State<R, L>,
        u: &L,
        load: &[R; 2],
    ) -> Result<([R; 4], Muscles<L>), R::Error> {
        let dt = self.dt;
        // Derivatives at the start of the step (MotorNet `Effector.ode`).
        let torque = [0, 1].map(|j| {
            let muscles = s.muscles.force.mul(&s.geometry.moment_arm[j])?.sum()?;
            muscles.neg()?.sub(&s.joint[2 + j].mul_c(self.p.damping)?)
        });
        let [t0, t1] = torque;
        let acc = self.joint_acceleration(&s.joint, &[t0?, t1?], load)?;
        // Muscles: the new activation, forces from the old geometry (MotorNet `integration_step`).
        let a = self.clip_activation(&s.muscles.activation)?;
        let da = self.activation_derivative(u, &a)?;
        let a_new = self.clip_activation(&da.mul_c(dt)?.add(&s.muscles.activation)?)?;
        let muscles = self.muscles(&a_new, &s.geometry)?;
        // Skeleton (MotorNet `TwoDofArm._integrate`): explicit Euler, then the limits.
        let mut joint = s.joint.clone();
        for (j, acc) in acc.iter().enumerate() {
            let old_vel = &s.joint[2 + j];
            let vel = acc.mul_c(dt)?.add(old_vel)?;
            let pos = old_vel.mul_c(dt)?.add(&s.joint[j])?;
            let [lo, hi] = self.p.joint_limits[j];
            let vlim = self.p.velocity_limit;
            let vel = vel.max_c(-vlim)?.min_c(vlim)?;
            // Zero where the new angle is at or past a limit and the velocity would carry it further (the
            // two cases exclude each other, so one after the other is the `or` of the two).
            let zero = vel.full_like(0.0)?;
            let vel = R::select(&pos.le_c(lo)?, &R::select(&vel.lt_c(0.0)?, &zero, &vel)?, &vel)?;
            let vel = R::select(&pos.ge_c(hi)?, &R::select(&vel.gt_c(0.0)?, &zero, &vel)?, &vel)?;
            joint[j] = pos.max_c(lo)?.min_c(hi)?;
            joint[2 + j] = vel;
        }
        Ok((joint, muscles))
    }

    /// Hand (fingertip) position and velocity in the shoulder's frame (m, m/s) at joint state `joint`.
    pub fn fingertip<R: Real>(&self, joint: &[R; 4]) -> Result<([R; 2], [R; 2]), R::Error> {
        let [q1, q2, v1, v2] = joint;
        let [l1, l2] = self.p.lengths;
        let (s1, c1) = (q1.sin()?, q1.cos()?);
        let q12 = q1.add(q2)?;
        let (s12, c12) = (q12.sin()?, q12.cos()?);
        let x = c1.mul_c(l1)?.add(&c12.mul_c(l2)?)?;
        let y = s1.mul_c(l1)?.add(&s12.mul_c(l2)?)?;
        let l2s12 = s12.mul_c(l2)?;
        let l2c12 = c12.mul_c(l2)?;
        let vx = y.neg()?.mul(v1)?.sub(&l2s12.mul(v2)?)?;
        let vy = x.mul(v1)?.add(&l2c12.mul(v2)?)?;
        Ok(([x, y], [vx, vy]))
    }

    /// Each muscle's fibre length / optimal length and fibre velocity / maximal velocity: what the arm
    /// senses of itself (MotorNet's proprioception).
    pub fn proprioception<R: Real, L: Lanes<R>>(&self, m: &Muscles<L>) -> Result<(L, L), R::Error> {
        Ok((m.length.mul_k(&self.inv_l0_ce)?, m.velocity.mul_k(&self.inv_vmax)?))
    }

    fn clip_activation<R: Real, L: Lanes<R>>(&self, a: &L) -> Result<L, R::Error> {
        a.max_c(self.p.min_activation)?.min_c(1.0)
    }

    /// `ȧ` for excitation `u` at activation `a` (Thelen 2003; MotorNet `Muscle.activation_ode`).
    fn activation_derivative<R: Real, L: Lanes<R>>(&self, u: &L, a: &L) -> Result<L, R::Error> {
        let u = self.clip_activation(u)?;
        let tmp = a.mul_c(1.5)?.add_c(0.5)?;
        let diff = u.sub(a)?;
        let rising = diff.div(&tmp.mul_c(self.p.tau_activation)?)?;
        // (u − a) / (τ_deact / tmp), without the second division.
        let falling = diff.mul(&tmp)?.mul_c(self.inv_tau_deactivation)?;
        L::select(&u.gt(a)?, &rising, &falling)
    }

    /// The geometry of joint state `joint` (MotorNet `RigidTendonArm26._get_geometry`).
    pub fn geometry<R: Real, L: Lanes<R>>(&self, joint: &[R; 4]) -> Result<Geometry<L>, R::Error> {
        let p = &self.p;
        // Joint j's moment arms and its terms of the musculotendon length and velocity.
        let at_joint = |j: usize| -> Result<(L, L, L), R::Error> {
            let phi = joint[j].add_c(-p.a3[j])?;
            let pa = L::scaled(&phi, &p.a2[j])?;
            let arm = pa.mul_c(2.0)?.add_k(&p.a1[j])?;
            let len = pa.add_k(&p.a1[j])?.mul_r(&phi)?;
            let vel = arm.mul_r(&joint[2 + j])?;
            Ok((arm, len, vel))
        };
        let (arm0, len0, vel0) = at_joint(0)?;
        let (arm1, len1, vel1) = at_joint(1)?;
        Ok(Geometry {
            length: len0.add(&len1)?.add_k(&p.a0)?,
            velocity: vel0.add(&vel1)?,
            moment_arm: [arm0, arm1],
        })
    }

    /// The muscles' states at activation `a` and geometry `g` (MotorNet `RigidTendonHillMuscle._integrate`
    /// after the activation update).
    pub fn muscles<R: Real, L: Lanes<R>>(&self, a: &L, g: &Geometry<L>) -> Result<Muscles<L>, R::Error> {
        // Divisions by constants are multiplications by their reciprocals here (a few ulps from MotorNet's
        // quotients; the reference test holds the trajectories to 1e-10): the muscles are most of a step.
        let length = g.length.add_k(&self.neg_tendon)?.max_c(0.0)?;
        let velocity = g.velocity.clone();
        let strain = length.add_k(&self.neg_l0_pe)?.mul_k(&self.inv_l0_ce)?.max_c(0.0)?;
        let len_n = length.mul_k(&self.inv_l0_ce)?;
        let vel_n = velocity.mul_k(&self.inv_vmax)?;
        let flpe = strain.mul_k(&self.k_pe)?.mul(&strain)?;
        // 1 + (−l̃² + 2l̃ − 1)/0.66², at least MIN_FLCE.
        let flce = len_n
            .neg()?
            .mul(&len_n)?
            .add(&len_n.mul_c(2.0)?)?
            .add_c(-1.0)?
            .mul_c(1.0 / F_ISO_N_DEN)?
            .add_c(1.0)?
            .max_c(MIN_FLCE)?;
        let a_rel_st = L::select(&len_n.gt_c(1.0)?, &flce.mul_c(0.41)?, &flce.full_like(0.41)?)?;
        let x = a
            .add_c(-Q_CRIT)?
            .mul_c(1.0 / (5e-3 - Q_CRIT))?
            .mul_c(0.9)?
            .neg()?
            .add_c(1.0)?;
        let b_rel_st = L::select(&a.lt_c(Q_CRIT)?, &x.mul_c(5.2)?.mul(&x)?, &x.full_like(5.2)?)?;
        let f_x_a = flce.mul(a)?;
        // Shortening: the Hill hyperbola.
        let nom_short = vel_n.mul(a)?.mul(&a_rel_st)?.add(&f_x_a.mul(&b_rel_st)?)?;
        let den_short = b_rel_st.sub(&vel_n)?;
        // Lengthening: a hyperbola through the isometric point with the slope `dfdvcon0` there, its
        // asymptote at 1.5 × the isometric force, plus the small slope `S_AS`.
        // MotorNet: dfdvcon0 = a·(flce + a_rel)/b_rel, p_den = S_AS − 2·dfdvcon0; one division here.
        let p_nom = f_x_a.mul_c(0.5)?;
        let two_a = a.mul_c(2.0)?;
        let inv_p_den = b_rel_st.div(&b_rel_st.mul_c(S_AS)?.sub(&two_a.mul(&flce.add(&a_rel_st)?)?)?)?;
        let p1 = p_nom.neg()?.mul(&inv_p_den)?;
        let p2 = p_nom.mul(&p_nom)?.mul(&inv_p_den)?;
        let p3 = f_x_a.mul_c(-1.5)?;
        let nom_long = p1
            .neg()?
            .mul(&p3)?
            .add(&p1.mul_c(S_AS)?.mul(&vel_n)?)?
            .add(&p2)?
            .sub(&p3.mul(&vel_n)?)?
            .add(&vel_n.mul_c(S_AS)?.mul(&vel_n)?)?;
        let den_long = p1.add(&vel_n)?;
        let short = vel_n.lt_c(0.0)?;
        let nom = L::select(&short, &nom_short, &nom_long)?;
        let den = L::select(&short, &den_short, &den_long)?;
        let active_force = nom.div(&den)?.max_c(0.0)?;
        let force = active_force.add(&flpe)?.mul_k(&self.p.max_isometric_force)?;
        Ok(Muscles {
            activation: a.clone(),
            length,
            velocity,
            flpe,
            flce,
            active_force,
            force,
        })
    }

    /// `Λ = (J·M⁻¹·Jᵀ)⁻¹` at the joint angles of `joint`, from this model's own skeleton: `J` from the
    /// fingertip velocity under unit joint velocities, `M⁻¹·Jᵀ·F` from the joint acceleration under unit
    /// hand loads at rest (less that under none).
    pub fn hand_inertia(&self, joint: &[f64; 4]) -> [[f64; 2]; 2] {
        use super::super::real::infallible;
        let [q1, q2, _, _] = *joint;
        let vel = |w: [f64; 2]| infallible(self.fingertip(&[q1, q2, w[0], w[1]])).1;
        let (c1, c2) = (vel([1.0, 0.0]), vel([0.0, 1.0]));
        let jac = [[c1[0], c2[0]], [c1[1], c2[1]]];
        let rest = [q1, q2, 0.0, 0.0];
        let acc = |f: [f64; 2]| infallible(self.joint_acceleration(&rest, &[0.0, 0.0], &f));
        let base = acc([0.0, 0.0]);
        let col = |f: [f64; 2]| {
            let a = acc(f);
            [a[0] - base[0], a[1] - base[1]]
        };
        let (m0, m1) = (col([1.0, 0.0]), col([0.0, 1.0]));
        // M⁻¹·Jᵀ, column k the joint accelerations under a unit load along hand axis k.
        let minv_jt = [[m0[0], m1[0]], [m0[1], m1[1]]];
        let a = crate::effector::linalg::matmul(&jac, &minv_jt);
        crate::effector::linalg::inv2(&a)
    }

    /// `θ̈ = M⁻¹·(τ + Jᵀ·F − c)` (MotorNet `TwoDofArm._ode`).
    fn joint_acceleration<R: Real>(&self, joint: &[R; 4], torque: &[R; 2], load: &[R; 2]) -> Result<[R; 2], R::Error> {
        let [q1, q2, v1, v2] = joint;
        let [l1, l2] = self.p.lengths;
        let (s1, c1) = (q1.sin()?, q1.cos()?);
        let (s2, c2) = (q2.sin()?, q2.cos()?);
        // sin and cos of θ₁ + θ₂ by the addition formulas (one sin_cos fewer; round-off apart, the same).
        let s12 = s1.mul(&c2)?.add(&c1.mul(&s2)?)?;
        let c12 = c1.mul(&c2)?.sub(&s1.mul(&s2)?)?;
        let (ic, im) = (&self.inertia_c, &self.inertia_m);
        let i = |r: usize, c: usize| c2.mul_c(im[r][c])?.add_c(ic[r][c]);
        let (i00, i01, i10, i11) = (i(0, 0)?, i(0, 1)?, i(1, 0)?, i(1, 1)?);
        let cor1 = s2.mul_c(-self.coriolis)?.mul(&v1.mul_c(2.0)?.add(v2)?)?.mul(v2)?;
        let cor2 = s2.mul_c(self.coriolis)?.mul(v1)?.mul(v1)?;
        let j11 = s1.mul_c(-l1)?.sub(&s12.mul_c(l2)?)?;
        let j12 = s12.mul_c(-l2)?;
        let j21 = c1.mul_c(l1)?.add(&c12.mul_c(l2)?)?;
        let j22 = c12.mul_c(l2)?;
        let [t0, t1] = torque;
        let [f0, f1] = load;
        let r1 = t0.add(&j11.mul(f0)?)?.add(&j21.mul(f1)?)?.sub(&cor1)?;
        let r2 = t1.add(&j12.mul(f0)?)?.add(&j22.mul(f1)?)?.sub(&cor2)?;
        let det_arg = i00.mul(&i11)?.sub(&i01.mul(&i10)?)?;
        let det = det_arg.full_like(1.0)?.div(&det_arg)?;
        Ok([
            det.mul(&i11.mul(&r1)?.sub(&i01.mul(&r2)?)?)?,
            det.mul(&i10.neg()?.mul(&r1)?.add(&i00.mul(&r2)?)?)?,
        ])
    }
}
