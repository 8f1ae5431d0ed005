//! reachlab's arm26 against MotorNet's own (`RigidTendonArm26` with `RigidTendonHillMuscle`, pip
//! `motornet` 0.3): the same initial joint state and the same 1.5 s of excitations, stored by
//! `benches/compare/arm26_reference.py` in `tests/data/arm26_motornet.json`.
//!
//! Tolerance: the reference is MotorNet's own code run in float64 (every buffer it makes "in float32"
//! made in float64, see the script), so the two implementations of one model must agree to round-off:
//! 1e-10 in rad, rad/s and m, 1e-9 N in the forces (up to 800 N), over 150 steps that go through
//! joint-limit contacts, clipped excitations and both branches of the force–velocity curve (measured:
//! 7e-15 rad/s, 3e-13 N). MotorNet as users run it, in float32, is stored beside it and differs from its
//! own float64 run by up to 1.5e-5 rad/s and 3.2e-4 N; it is checked at 1e-4 and 1e-2 (margin for float32
//! on another machine), so a model error far smaller than a physiological effect would still fail.

use reachlab_envs::effector::arm26::{Arm26, Arm26Params, N_MUSCLES};
use serde_json::Value;

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
        .collect()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn arm26_follows_motornets_trajectory() {
    let doc: Value = serde_json::from_str(include_str!("data/arm26_motornet.json")).unwrap();
    let dt = doc["dt"].as_f64().unwrap();
    let joint0 = rows(&Value::Array(vec![doc["joint0"].clone()]))[0].clone();
    let excitation = rows(&doc["excitation"]);
    let mut arm = Arm26::new(Arm26Params::default(), dt, [joint0[0], joint0[1]]).unwrap();
    let mut ours = (vec![], vec![], vec![], vec![]);
    let mut record = |arm: &Arm26| {
        ours.0.push(arm.joint().to_vec());
        ours.1
            .push(arm.muscles().iter().map(|m| m.activation).collect::<Vec<_>>());
        ours.2.push(arm.muscles().iter().map(|m| m.force).collect::<Vec<_>>());
        ours.3.push(arm.fingertip().0.to_vec());
    };
    record(&arm);
    for u in &excitation {
        let u: [f64; N_MUSCLES] = u.as_slice().try_into().unwrap();
        arm.step(&u, [0.0; 2]);
        record(&arm);
    }
    for (precision, tol_joint, tol_force) in [("float64", 1e-10, 1e-9), ("float32", 1e-4, 1e-2)] {
        let reference = &doc[precision];
        let checks = [
            ("joint", &ours.0, rows(&reference["joint"]), tol_joint),
            ("activation", &ours.1, rows(&reference["activation"]), tol_joint),
            ("force", &ours.2, rows(&reference["force"]), tol_force),
            ("fingertip", &ours.3, rows(&reference["fingertip"]), tol_joint),
        ];
        for (name, ours, theirs, tol) in checks {
            assert_eq!(ours.len(), theirs.len());
            let worst = ours
                .iter()
                .zip(&theirs)
                .map(|(a, b)| max_diff(a, b))
                .fold(0.0, f64::max);
            println!("{precision} {name}: max |reachlab − MotorNet| = {worst:.3e}");
            assert!(worst < tol, "{precision} {name}: {worst} ≥ {tol}");
        }
    }
}
