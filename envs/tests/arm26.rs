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

/// A JSON array of numbers.
fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// A JSON array of arrays of numbers.
fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(numbers).collect()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Joint states, activations, forces and fingertips, one row per step.
type Trajectory = (Vec<Vec<f64>>, Vec<Vec<f64>>, Vec<Vec<f64>>, Vec<Vec<f64>>);

/// Steps our arm through the reference's excitations with a constant `load` at the hand.
fn simulate(doc: &Value, load: [f64; 2]) -> Trajectory {
    let dt = doc["dt"].as_f64().unwrap();
    let joint0 = numbers(&doc["joint0"]);
    let mut arm = Arm26::new(Arm26Params::default(), dt, [joint0[0], joint0[1]]).unwrap();
    let mut ours = (vec![], vec![], vec![], vec![]);
    let mut record = |arm: &Arm26| {
        ours.0.push(arm.joint().to_vec());
        ours.1.push(arm.muscles().activation.to_vec());
        ours.2.push(arm.muscles().force.to_vec());
        ours.3.push(arm.fingertip().0.to_vec());
    };
    record(&arm);
    for u in rows(&doc["excitation"]) {
        let u: [f64; N_MUSCLES] = u.as_slice().try_into().unwrap();
        arm.step(&u, load);
        record(&arm);
    }
    ours
}

fn compare(label: &str, ours: &Trajectory, reference: &Value, tol_joint: f64, tol_force: f64) {
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
        println!("{label} {name}: max |reachlab − MotorNet| = {worst:.3e}");
        assert!(worst < tol, "{label} {name}: {worst} ≥ {tol}");
    }
}

#[test]
fn arm26_follows_motornets_trajectory_under_a_force_at_the_hand() {
    // MotorNet's `endpoint_load`, mapped to joint torques through Jᵀ: how a force field acts on the arm.
    let doc: Value = serde_json::from_str(include_str!("data/arm26_motornet.json")).unwrap();
    let load = numbers(&doc["load"]);
    let loaded = simulate(&doc, [load[0], load[1]]);
    compare("float64 with load", &loaded, &doc["float64_load"], 1e-10, 1e-9);
    // And the load made a difference (so the comparison above could have failed).
    let free = simulate(&doc, [0.0; 2]);
    assert!(max_diff(&loaded.0[50], &free.0[50]) > 1e-2);
}

#[test]
fn arm26_follows_motornets_trajectory() {
    let doc: Value = serde_json::from_str(include_str!("data/arm26_motornet.json")).unwrap();
    let ours = simulate(&doc, [0.0; 2]);
    compare("float64", &ours, &doc["float64"], 1e-10, 1e-9);
    compare("float32", &ours, &doc["float32"], 1e-4, 1e-2);
}

#[test]
fn the_reaching_task_moves_arm26_through_the_effector_seam() {
    use reachlab_envs::effector::{Arm26Config, Effector, ForceLaw};
    use reachlab_envs::reach::{
        EffectorConfig, FieldSpec, Phase, Reach, ReachConfig, ReachEnv, ReachOptions, TrialType,
    };
    use reachlab_envs::{check_env, BoxSpace, Env, Space};

    let config = ReachConfig {
        effector: EffectorConfig::Arm26(Arm26Config::default()),
        ..ReachConfig::default()
    };
    let mut env: Reach<Arm26> = Reach::new(config.clone()).unwrap();
    check_env(&mut env, 3, 400).unwrap();
    assert_eq!(env.action_space(), &Space::Box(BoxSpace::uniform(N_MUSCLES, 0.0, 1.0)));
    env.set_phase(Phase {
        field: FieldSpec::Curl { b: 10.0 },
        ..Phase::null("learning")
    })
    .unwrap();
    let opts = ReachOptions {
        target: Some(6),
        trial_type: Some(TrialType::Normal),
    };
    let (obs, info) = env.reset(Some(3), &opts).unwrap();
    assert_eq!(obs.len(), 7 + 2 * N_MUSCLES);
    assert_eq!(info.hand.pos, [0.0; 2]);
    assert_eq!(info.action, [0.0; N_MUSCLES]);

    // The same arm stepped by hand, the curl field's force at the hand as MotorNet's endpoint load from
    // the go cue on: the env's hand, actions and proprioception must be these, bit for bit.
    let c = Arm26Config::default();
    let mut arm = Arm26::new(c.params, config.dt, c.start_angles).unwrap();
    let start = arm.fingertip().0;
    let law = env.trial_force_law();
    for k in 0..info.go_step + 40 {
        let u = [0.3, 0.05, 1.7, 0.0, 0.4 * (k % 3) as f32, 0.1];
        let step = env.step(&u).unwrap();
        let applied = u.map(|x| f64::from(x).clamp(0.0, 1.0));
        assert_eq!(step.info.action, applied);
        let (pos, vel) = arm.fingertip();
        let rel = [pos[0] - start[0], pos[1] - start[1]];
        let load = if k >= info.go_step {
            law.force(rel, vel)
        } else {
            ForceLaw::NULL.force(rel, vel)
        };
        arm.step(&applied, load);
        let (pos, vel) = arm.fingertip();
        assert_eq!(step.info.hand.pos, [pos[0] - start[0], pos[1] - start[1]], "step {k}");
        assert_eq!(step.info.hand.vel, vel);
        let s = arm.muscles();
        for m in 0..N_MUSCLES {
            let l0 = c.params.optimal_muscle_length[m];
            assert!((f64::from(step.obs[7 + m]) - s.length[m] / l0).abs() < 1e-6);
            assert!((f64::from(step.obs[7 + N_MUSCLES + m]) - s.velocity[m] / (10.0 * l0)).abs() < 1e-6);
        }
        if step.terminated || step.truncated {
            break;
        }
    }
    assert!(env.step(&[f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0]).is_err());

    // Each task refuses the other's effector table, naming the key.
    let msg = ReachEnv::new(config.clone()).unwrap_err().to_string();
    assert!(msg.contains("effector.kind"), "{msg}");
    let msg = Reach::<Arm26>::new(ReachConfig::default()).unwrap_err().to_string();
    assert!(msg.contains("effector.kind"), "{msg}");
    // The trait's view of the arm: 12 proprioceptive components, effort in units of excitation.
    assert_eq!(Effector::proprioception_dim(&arm), 0); // built directly, without the env's config
    assert_eq!(arm.effort_scale(10.0), 1.0);
}
