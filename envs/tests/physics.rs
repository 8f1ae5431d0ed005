//! Physics checked against analytic solutions: curl-field integration, viscous decay, force channel,
//! two-link arm kinematics and energy.

#![allow(clippy::needless_range_loop)] // index loops read as the formulas they check

use proptest::prelude::*;
use reachlab_envs::effector::{
    ArmAction, ArmConfig, ArmParams, ChannelLaw, ForceLaw, Integrator, PointMass, PointMassAction, PointMassConfig,
    TwoLinkArm,
};

/// Minimal complex arithmetic for the closed forms (a point in the plane as x + iy).
#[derive(Clone, Copy, Debug)]
struct C(f64, f64);
impl C {
    fn mul(self, o: C) -> C {
        C(self.0 * o.0 - self.1 * o.1, self.0 * o.1 + self.1 * o.0)
    }
    fn add(self, o: C) -> C {
        C(self.0 + o.0, self.1 + o.1)
    }
    fn sub(self, o: C) -> C {
        C(self.0 - o.0, self.1 - o.1)
    }
    fn div(self, o: C) -> C {
        let d = o.0 * o.0 + o.1 * o.1;
        C((self.0 * o.0 + self.1 * o.1) / d, (self.1 * o.0 - self.0 * o.1) / d)
    }
    fn powi(self, k: u32) -> C {
        (0..k).fold(C(1.0, 0.0), |acc, _| acc.mul(self))
    }
    fn abs(self) -> f64 {
        self.0.hypot(self.1)
    }
    fn exp_i(theta: f64) -> C {
        C(theta.cos(), theta.sin())
    }
}

const B: f64 = 10.0;
const DT: f64 = 0.01;
const M: f64 = 1.0;

fn mass(integrator: Integrator) -> PointMass {
    PointMass::new(
        PointMassConfig {
            mass: M,
            integrator,
            action: PointMassAction::Force,
        },
        DT,
    )
    .unwrap()
}

fn run(integrator: Integrator, p0: C, v0: C, steps: u32) -> Vec<(C, C)> {
    let mut pm = mass(integrator);
    pm.set_state([p0.0, p0.1], [v0.0, v0.1]);
    let law = ForceLaw::curl(B);
    (1..=steps)
        .map(|_| {
            pm.step([0.0, 0.0], &law);
            let h = pm.hand();
            (C(h.pos[0], h.pos[1]), C(h.vel[0], h.vel[1]))
        })
        .collect()
}

/// Under F = b·J·v with J = [[0,1],[−1,0]], the velocity as a complex number obeys v̇ = −iω·v, ω = b/m.
/// Both Euler schemes update v ← (1 − iω·dt)·v; explicit Euler moves with the old velocity, semi-implicit
/// with the new one.
#[test]
fn euler_schemes_match_their_discrete_closed_form_and_inflate_speed() {
    let p0 = C(0.01, -0.02);
    let v0 = C(0.3, 0.1);
    let r = C(1.0, -B / M * DT);
    let one_minus_r = C(1.0, 0.0).sub(r);
    for integrator in [Integrator::ExplicitEuler, Integrator::SemiImplicitEuler] {
        let traj = run(integrator, p0, v0, 100);
        for (k, (p, v)) in traj.iter().enumerate() {
            let k = k as u32 + 1;
            let v_exact = r.powi(k).mul(v0);
            // Σ_{j<k} r^j = (1 − r^k)/(1 − r); semi-implicit sums j = 1..=k, i.e. r times that.
            let geom = C(1.0, 0.0).sub(r.powi(k)).div(one_minus_r);
            let sum = if integrator == Integrator::ExplicitEuler {
                geom
            } else {
                r.mul(geom)
            };
            let p_exact = p0.add(C(DT, 0.0).mul(sum).mul(v0));
            assert!(v.sub(v_exact).abs() < 1e-12, "{integrator:?} v at step {k}");
            assert!(p.sub(p_exact).abs() < 1e-12, "{integrator:?} p at step {k}");
        }
        let per_step = (1.0 + (B * DT / M).powi(2)).sqrt();
        let growth = traj[99].1.abs() / v0.abs();
        assert!((growth - per_step.powi(100)).abs() < 1e-12);
        assert!((growth - 1.6446).abs() < 1e-4, "speed grows ×{growth} after 1 s");
    }
}

/// The exact step conserves speed and traces the circle of radius m·|v|/b about p₀ − i·v₀/ω, matching
/// p(t) = p₀ + v₀·(1 − e^{−iωt})/(iω).
#[test]
fn exact_step_conserves_speed_and_traces_the_analytic_circle() {
    let p0 = C(0.01, -0.02);
    let v0 = C(0.3, 0.1);
    let w = B / M;
    let centre = p0.sub(C(0.0, 1.0).mul(v0).div(C(w, 0.0)));
    let radius = M * v0.abs() / B;
    let traj = run(Integrator::Exact, p0, v0, 1000);
    for (k, (p, v)) in traj.iter().enumerate() {
        let t = (k + 1) as f64 * DT;
        assert!((v.abs() - v0.abs()).abs() < 1e-12, "speed at step {k}");
        assert!((p.sub(centre).abs() - radius).abs() < 1e-12, "radius at step {k}");
        let p_exact = p0.add(v0.mul(C(1.0, 0.0).sub(C::exp_i(-w * t))).div(C(0.0, w)));
        assert!(
            p.sub(p_exact).abs() < 1e-12,
            "position at step {k}: {p:?} vs {p_exact:?}"
        );
    }
}

/// The exact step under a constant force in the null field is the kinematics of constant acceleration.
#[test]
fn exact_step_with_constant_force_is_uniform_acceleration() {
    let mut pm = mass(Integrator::Exact);
    let f = [2.0, -1.0];
    for _ in 0..50 {
        pm.step(f, &ForceLaw::NULL);
    }
    let t = 50.0 * DT;
    let h = pm.hand();
    for i in 0..2 {
        assert!((h.vel[i] - f[i] / M * t).abs() < 1e-13);
        assert!((h.pos[i] - 0.5 * f[i] / M * t * t).abs() < 1e-13);
    }
}

/// A viscous field B = [[−a, c], [−c, −a]] gives v(t) = e^{−a·t/m}·R(−c·t/m)·v₀: a decaying rotation.
/// Explicit Euler gives (I + B·dt/m)^k·v₀ instead.
#[test]
fn viscous_field_decays_velocity_as_analytic() {
    let (a, c) = (3.0, 7.0);
    let law = ForceLaw {
        viscous: [[-a, c], [-c, -a]],
        channel: None,
    };
    let v0 = C(0.2, -0.4);
    for integrator in [Integrator::Exact, Integrator::ExplicitEuler] {
        let mut pm = mass(integrator);
        pm.set_state([0.0; 2], [v0.0, v0.1]);
        for k in 1..=200u32 {
            pm.step([0.0; 2], &law);
            let h = pm.hand();
            let v = C(h.vel[0], h.vel[1]);
            let expected = match integrator {
                Integrator::Exact => {
                    let t = f64::from(k) * DT;
                    C((-a * t / M).exp(), 0.0).mul(C::exp_i(-c * t / M)).mul(v0)
                }
                _ => C(1.0 - a * DT / M, -c * DT / M).powi(k).mul(v0),
            };
            assert!(
                v.sub(expected).abs() < 1e-13,
                "{integrator:?} step {k}: {v:?} vs {expected:?}"
            );
        }
    }
}

/// The Shadmehr & Mussa-Ivaldi field is symmetric: v(t) = Σ e^{λᵢt/m}·(uᵢ·v₀)·uᵢ over its eigenpairs,
/// computed here in closed form for a 2×2 symmetric matrix.
#[test]
fn symmetric_viscous_field_matches_eigen_solution() {
    let bm = [[-10.1, -11.2], [-11.2, 11.1]];
    let law = ForceLaw {
        viscous: bm,
        channel: None,
    };
    let (p, q, r) = (bm[0][0], bm[0][1], bm[1][1]);
    let mean = 0.5 * (p + r);
    let rad = (0.25 * (p - r).powi(2) + q * q).sqrt();
    let lambdas = [mean + rad, mean - rad];
    let eig = |l: f64| {
        let u = [q, l - p];
        let n = u[0].hypot(u[1]);
        [u[0] / n, u[1] / n]
    };
    let v0 = [0.1, 0.05];
    let mut pm = mass(Integrator::Exact);
    pm.set_state([0.0; 2], v0);
    for k in 1..=20u32 {
        pm.step([0.0; 2], &law);
        let t = f64::from(k) * DT;
        let mut expected = [0.0; 2];
        for l in lambdas {
            let u = eig(l);
            let coef = (u[0] * v0[0] + u[1] * v0[1]) * (l * t / M).exp();
            expected[0] += coef * u[0];
            expected[1] += coef * u[1];
        }
        let v = pm.hand().vel;
        for i in 0..2 {
            assert!(
                (v[i] - expected[i]).abs() < 1e-12 * (1.0 + expected[i].abs()),
                "step {k}"
            );
        }
    }
}

const CHANNEL_K: f64 = 2000.0;
const CHANNEL_C: f64 = 100.0;
const A_MAX: f64 = 10.0;

proptest! {
    /// An overdamped channel (C > 2√(K·m)) started at rest on its line keeps the perpendicular deviation
    /// below sup|u⊥|/K = √2·m·a_max/K for any action sequence with components in ±a_max: its impulse
    /// response is positive with integral 1/K, and the exact step samples the continuous solution.
    #[test]
    fn channel_bounds_perpendicular_deviation(
        angle in 0.0f64..std::f64::consts::TAU,
        actions in prop::collection::vec((-A_MAX..=A_MAX, -A_MAX..=A_MAX), 1..300),
    ) {
        let normal = [-angle.sin(), angle.cos()];
        let law = ForceLaw { viscous: [[0.0; 2]; 2], channel: Some(ChannelLaw { stiffness: CHANNEL_K, damping: CHANNEL_C, normal }) };
        let mut pm = PointMass::new(PointMassConfig::default(), DT).unwrap();
        let bound = 2f64.sqrt() * M * A_MAX / CHANNEL_K;
        for (ax, ay) in actions {
            pm.step([ax, ay], &law);
            let h = pm.hand();
            let e = h.pos[0] * normal[0] + h.pos[1] * normal[1];
            prop_assert!(e.abs() <= bound * (1.0 + 1e-9), "deviation {e} exceeds {bound}");
        }
    }
}

fn conservative_arm(action: ArmAction) -> TwoLinkArm {
    conservative_arm_with(action, 1)
}

fn conservative_arm_with(action: ArmAction, substeps: u32) -> TwoLinkArm {
    TwoLinkArm::new(
        ArmConfig {
            params: ArmParams {
                joint_damping: [[0.0; 2]; 2],
                ..ArmParams::default()
            },
            action,
            substeps,
            ..ArmConfig::default()
        },
        DT,
    )
    .unwrap()
}

#[test]
fn arm_jacobian_matches_finite_differences() {
    let arm = conservative_arm(ArmAction::Torque);
    let h = 1e-6;
    for th in [
        [0.3, 1.2],
        [std::f64::consts::FRAC_PI_4, std::f64::consts::FRAC_PI_2],
        [-0.5, 2.4],
        [1.9, 0.1],
    ] {
        let j = arm.jacobian(&th);
        for col in 0..2 {
            let mut plus = th;
            let mut minus = th;
            plus[col] += h;
            minus[col] -= h;
            let (xp, xm) = (arm.hand_absolute(&plus), arm.hand_absolute(&minus));
            for row in 0..2 {
                let fd = (xp[row] - xm[row]) / (2.0 * h);
                assert!(
                    (fd - j[row][col]).abs() < 1e-9,
                    "J[{row}][{col}] at {th:?}: {fd} vs {}",
                    j[row][col]
                );
            }
        }
    }
}

/// With no torque, no damping and no field the arm is conservative. Over 2 s of fast motion (joint
/// speeds 2–3 rad/s) RK4 keeps the kinetic energy within 3e-7 relative at one sub-step per 10 ms, and
/// the error falls as h⁴ (within 3e-9 at 4 sub-steps). A curl field does no work on the arm either
/// (within 3e-7 at 4 sub-steps under b = 15 N·s/m, which speeds up the motion).
#[test]
fn arm_conserves_energy_without_torque_or_damping() {
    for (substeps, tol, law) in [
        (1, 3e-7, ForceLaw::NULL),
        (4, 3e-9, ForceLaw::NULL),
        (4, 3e-7, ForceLaw::curl(15.0)),
    ] {
        let mut arm = conservative_arm_with(ArmAction::Torque, substeps);
        arm.set_joints([0.4, 1.3, 2.0, -3.0]);
        let e0 = arm.kinetic_energy();
        let mut worst: f64 = 0.0;
        for _ in 0..200 {
            arm.step([0.0; 2], &law);
            worst = worst.max((arm.kinetic_energy() / e0 - 1.0).abs());
        }
        assert!(
            worst < tol,
            "substeps {substeps}, {law:?}: relative energy drift {worst}"
        );
    }
}

/// An endpoint force maps to torques through Jᵀ, so the power it delivers is the same in both
/// coordinates: τ·θ̇ = F·(J·θ̇).
#[test]
fn endpoint_force_power_is_preserved_through_jacobian_transpose() {
    let mut arm = conservative_arm(ArmAction::EndpointForce);
    arm.set_joints([0.7, 1.1, 0.8, -1.7]);
    let f = [3.0, -2.0];
    let tau = arm.action_torque(f);
    let q = arm.joints();
    let v = arm.hand().vel;
    let p_joint = tau[0] * q[2] + tau[1] * q[3];
    let p_hand = f[0] * v[0] + f[1] * v[1];
    assert!((p_joint - p_hand).abs() < 1e-12);
}

#[test]
fn arm_parameters_are_li_and_todorovs() {
    // Li & Todorov 2004 (ICINCO), §5: m = (1.4, 1.0) kg, l = (0.30, 0.33) m, s = (0.11, 0.16) m,
    // I = (0.025, 0.045) kg·m², B = [[0.05, 0.025], [0.025, 0.05]] N·m·s/rad.
    let p = ArmParams::default();
    assert_eq!(p.masses, [1.4, 1.0]);
    assert_eq!(p.lengths, [0.30, 0.33]);
    assert_eq!(p.com, [0.11, 0.16]);
    assert_eq!(p.inertias, [0.025, 0.045]);
    assert_eq!(p.joint_damping, [[0.05, 0.025], [0.025, 0.05]]);
}
