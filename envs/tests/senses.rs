//! The senses' delays (`observation.vision_delay`, `observation.proprioception_delay`): the observation
//! at step t shows the hand of step t − d_v and the muscles of step t − d_p (the reset's before that),
//! everything else current and the trial itself unchanged; bad delays are refused naming the key.

use reachlab_envs::effector::{Arm26, Arm26Config};
use reachlab_envs::reach::{EffectorConfig, FieldSpec, Phase, Reach, ReachConfig, ReachOptions, TargetSet};
use reachlab_envs::Env;

fn config(vision: f64, proprioception: f64) -> ReachConfig {
    let mut c = ReachConfig {
        effector: EffectorConfig::Arm26(Arm26Config::default()),
        ..ReachConfig::default()
    };
    c.observation.vision_delay = vision * c.dt;
    c.observation.proprioception_delay = proprioception * c.dt;
    c
}

/// Observations, rewards and hands of one curl-field trial under a fixed excitation sequence.
fn trial(cfg: ReachConfig) -> Vec<(Vec<f32>, f64, [f64; 2])> {
    let mut env = Reach::<Arm26>::new(cfg).unwrap();
    env.set_phase(Phase {
        field: FieldSpec::Curl { b: 10.0 },
        field_targets: TargetSet::All,
        ..Phase::null("curl")
    })
    .unwrap();
    let options = ReachOptions {
        target: Some(2),
        trial_type: None,
    };
    let (obs, info) = env.reset(Some(7), &options).unwrap();
    let mut out = vec![(obs, 0.0, info.hand.pos)];
    for t in 0..60u32 {
        let a: [f32; 6] = std::array::from_fn(|k| 0.3 + 0.25 * ((t as f32) * 0.11 + k as f32).sin());
        let s = env.step(&a).unwrap();
        out.push((s.obs, s.reward, s.info.hand.pos));
        if s.terminated || s.truncated {
            break;
        }
    }
    out
}

#[test]
fn delayed_senses_show_the_past_and_change_nothing_else() {
    let plain = trial(config(0.0, 0.0));
    let late = trial(config(3.0, 5.0));
    assert_eq!(plain.len(), late.len());
    let task = 7;
    for (t, (l, p)) in late.iter().zip(&plain).enumerate() {
        assert_eq!(
            (l.1.to_bits(), l.2),
            (p.1.to_bits(), p.2),
            "step {t}: reward and hand unchanged"
        );
        assert_eq!(l.0[..3], p.0[..3], "step {t}: cues current");
        assert_eq!(
            l.0[3..7],
            plain[t.saturating_sub(3)].0[3..7],
            "step {t}: vision 3 steps late"
        );
        assert_eq!(
            l.0[task..],
            plain[t.saturating_sub(5)].0[task..],
            "step {t}: muscles 5 steps late"
        );
    }
    // The hand moved during the trial, so the check above could fail.
    assert!(plain.iter().any(|(o, _, _)| o[3..7] != plain[0].0[3..7]));
    assert!(plain.iter().any(|(o, _, _)| o[task..] != plain[0].0[task..]));
}

#[test]
fn bad_delays_are_refused_naming_the_key() {
    for (vision, proprioception, key) in [
        (1.5, 0.0, "observation.vision_delay"),
        (0.0, -1.0, "observation.proprioception_delay"),
        (f64::NAN, 0.0, "observation.vision_delay"),
        (1e9, 0.0, "observation.vision_delay"),
    ] {
        let err = Reach::<Arm26>::new(config(vision, proprioception))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{vision} {proprioception}: {err}");
    }
}
