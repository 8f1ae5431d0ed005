//! A user's own controller steps the reaching env through the public `Env` and `VectorEnv` APIs: a PD
//! controller reaches every target in the null field with straight paths, and a curl field bends them
//! by the amount the closed-loop dynamics predict.

use reachlab::envs::reach::{FieldSpec, Phase, ReachConfig, ReachEnv, ReachInfo};
use reachlab::envs::{AutoresetMode, SyncVecEnv, VectorEnv};

fn pd(obs: &[f32], kp: f32, kd: f32) -> [f32; 2] {
    let go = obs[2] > 0.5;
    let mut a = [0.0; 2];
    for i in 0..2 {
        let goal = if go { obs[i] / 10.0 } else { 0.0 };
        a[i] = kp * (goal - obs[3 + i] / 10.0) - kd * obs[5 + i] / 2.0;
    }
    a
}

/// Runs 16 trials (2 per target) in a vector env; returns per-trial (success, signed MPD in m).
fn run(field: FieldSpec) -> Vec<(bool, f64)> {
    let n = 16;
    let mut venv = SyncVecEnv::new(n, AutoresetMode::SameStep, |_| ReachEnv::new(ReachConfig::default())).unwrap();
    venv.apply(&|e| {
        e.set_phase(Phase {
            field: field.clone(),
            ..Phase::null("test")
        })
    })
    .unwrap();
    let mut buf = venv.buffers();
    venv.reset(Some(2024), &mut buf).unwrap();
    let mut mpd = vec![0.0f64; n];
    let mut last: Vec<Option<ReachInfo>> = vec![None; n];
    let mut actions = vec![[0.0f32; 2]; n];
    for _ in 0..150 {
        for (i, a) in actions.iter_mut().enumerate() {
            *a = pd(buf.obs_row(i), 100.0, 20.0);
        }
        venv.step(&actions, &mut buf).unwrap();
        for i in 0..n {
            let info = if buf.done(i) { buf.final_infos[i] } else { buf.infos[i] };
            let [tx, ty] = info.target_pos;
            let perp = (tx * info.hand.pos[1] - ty * info.hand.pos[0]) / tx.hypot(ty);
            if perp.abs() > mpd[i].abs() {
                mpd[i] = perp;
            }
            if buf.done(i) {
                last[i] = Some(info);
            }
        }
    }
    last.iter()
        .zip(mpd)
        .map(|(l, m)| (l.expect("every trial ended").success, m))
        .collect()
}

#[test]
fn pd_controller_reaches_straight_in_null_field_and_curves_in_curl_field() {
    let null = run(FieldSpec::Null);
    assert!(null.iter().all(|(s, _)| *s), "all targets reached in the null field");
    assert!(null.iter().all(|(_, m)| m.abs() < 1e-6), "straight paths: {null:?}");
    let curl = run(FieldSpec::Curl { b: 15.0 });
    // b > 0 pushes clockwise, i.e. to negative (p × û); by symmetry every direction deviates alike.
    for (_, m) in &curl {
        assert!(*m < -0.02 && *m > -0.04, "MPD {m}");
        assert!(
            (m - curl[0].1).abs() < 1e-4,
            "same deviation for every direction (up to action clipping)"
        );
    }
}
