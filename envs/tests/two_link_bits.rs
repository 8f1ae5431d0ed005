//! The two-link arm's step, written once over `Real` so that its differentiable twin runs the same code,
//! gives the trajectories of the hand-written `f64` step it replaced to the last bit. The fingerprints were
//! printed by this test's trajectories on the code before the change (commit 4c36795).

use reachlab_envs::effector::{ArmAction, ArmConfig, ChannelLaw, ForceLaw, TwoLinkArm};

/// FNV-1a over the bits of every joint state of a 300-step trajectory under varying actions, a curl
/// field and a force channel, for both action kinds and 1 and 3 sub-steps.
fn fingerprint(action: ArmAction, substeps: u32) -> u64 {
    let mut arm = TwoLinkArm::new(
        ArmConfig {
            action,
            substeps,
            ..ArmConfig::default()
        },
        0.01,
    )
    .unwrap();
    let laws = [
        ForceLaw::NULL,
        ForceLaw::curl(12.0),
        ForceLaw {
            viscous: [[0.0, 5.0], [-5.0, 0.0]],
            channel: Some(ChannelLaw {
                stiffness: 2000.0,
                damping: 20.0,
                normal: [0.6, -0.8],
            }),
        },
    ];
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for t in 0..300u32 {
        let s = f64::from(t) * 0.07;
        let action = [2.0 * s.sin(), -1.5 * (1.3 * s).cos()];
        arm.step(action, &laws[(t / 100) as usize]);
        let hand = arm.hand();
        for v in arm.joints().iter().chain(&hand.pos).chain(&hand.vel) {
            for b in v.to_bits().to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    h
}

#[test]
fn the_two_link_arm_moves_as_before_to_the_bit() {
    let got = [
        fingerprint(ArmAction::Torque, 1),
        fingerprint(ArmAction::Torque, 3),
        fingerprint(ArmAction::EndpointForce, 1),
        fingerprint(ArmAction::EndpointForce, 3),
    ];
    assert_eq!(got, EXPECTED);
}

const EXPECTED: [u64; 4] = [
    0xaf08_8bfc_0482_8bfd,
    0xfe8c_50ad_36b5_e722,
    0x4429_96c6_bf73_1a9d,
    0x8a29_a805_d505_9d8b,
];
