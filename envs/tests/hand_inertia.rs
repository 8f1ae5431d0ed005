//! The hand's apparent inertia `Λ` (`Effector::hand_inertia`), against what it must be: `m·I` for the
//! point mass; for the two-link arm the kinetic energy `½ θ̇ᵀ·M·θ̇` equals `½ vᵀ·Λ·v` of the hand's
//! velocity `v = J·θ̇` (an identity of any Jacobian-invertible posture); arm26's `Λ`, from its own
//! skeleton code, equals the two-link arm's built from arm26's masses, lengths and inertias (moments
//! about the joints: `I + m·c²`), two implementations of MotorNet's `TwoDofArm` held against each other.

use reachlab_envs::effector::arm26::{Arm26, Arm26Params};
use reachlab_envs::effector::Effector;
use reachlab_envs::effector::{ArmConfig, ArmParams, PointMassConfig, TwoLinkArm};
use reachlab_envs::reach::EffectorConfig;

const POSTURES: [[f64; 2]; 4] = [[0.3, 1.2], [0.8, 1.6], [1.1, 0.5], [0.05, 2.0]];

#[test]
fn the_point_mass_has_its_mass_in_every_direction() {
    let config = EffectorConfig::PointMass(PointMassConfig {
        mass: 1.7,
        ..PointMassConfig::default()
    });
    let body = reachlab_envs::reach::Body::from_config(&config, 0.01).unwrap();
    assert_eq!(body.hand_inertia(), [[1.7, 0.0], [0.0, 1.7]]);
}

#[test]
fn the_arms_kinetic_energy_is_that_of_its_hand_through_lambda() {
    let mut arm = TwoLinkArm::new(ArmConfig::default(), 0.01).unwrap();
    for th in POSTURES {
        for w in [[1.0, 0.0], [0.0, 1.0], [0.7, -1.3], [-2.0, 0.4]] {
            arm.set_joints([th[0], th[1], w[0], w[1]]);
            let lam = arm.hand_inertia();
            let v = arm.hand().vel;
            let hand_energy: f64 =
                0.5 * (v[0] * (lam[0][0] * v[0] + lam[0][1] * v[1]) + v[1] * (lam[1][0] * v[0] + lam[1][1] * v[1]));
            let ke = arm.kinetic_energy();
            assert!(
                (hand_energy - ke).abs() <= 1e-12 * ke,
                "{th:?} {w:?}: {hand_energy} vs {ke}"
            );
            assert!(
                (lam[0][1] - lam[1][0]).abs() <= 1e-12 * lam[0][0].abs(),
                "symmetric: {lam:?}"
            );
        }
    }
}

#[test]
fn arm26s_lambda_is_the_two_link_arms_with_arm26s_skeleton() {
    let p = Arm26Params::default();
    let params = ArmParams {
        masses: p.masses,
        lengths: p.lengths,
        com: p.com,
        inertias: [
            p.inertias[0] + p.masses[0] * p.com[0] * p.com[0],
            p.inertias[1] + p.masses[1] * p.com[1] * p.com[1],
        ],
        joint_damping: [[0.0; 2]; 2],
    };
    let mut two_link = TwoLinkArm::new(
        ArmConfig {
            params,
            ..ArmConfig::default()
        },
        0.01,
    )
    .unwrap();
    for th in POSTURES {
        let arm26 = Arm26::new(p, 0.01, th).unwrap();
        two_link.set_joints([th[0], th[1], 0.0, 0.0]);
        let (a, b) = (arm26.hand_inertia(), two_link.hand_inertia());
        for r in 0..2 {
            for c in 0..2 {
                assert!(
                    (a[r][c] - b[r][c]).abs() <= 1e-9 * b[0][0].abs().max(b[1][1].abs()),
                    "{th:?}: {a:?} vs {b:?}"
                );
            }
        }
    }
}
