//! Reach and hold: a trial succeeds only when the hand stays inside the target window for the hold time,
//! and then ends; a hand that passes through the target fails. Checked with hand-written controllers.

use reachlab_envs::reach::{ReachConfig, ReachEnv, ReachInfo, ReachOptions, RewardConfig};
use reachlab_envs::Env;

/// Runs one trial to target 2 (straight up) with a controller `f(obs, step) -> force`; returns the infos.
fn trial(env: &mut ReachEnv, f: impl Fn(&[f32], usize) -> [f32; 2]) -> (Vec<ReachInfo>, bool, bool) {
    let options = ReachOptions {
        target: Some(2),
        trial_type: None,
    };
    let (mut obs, _) = env.reset(Some(7), &options).unwrap();
    let mut infos = Vec::new();
    for k in 0.. {
        let step = env.step(&f(&obs, k)).unwrap();
        obs = step.obs;
        infos.push(step.info);
        if step.terminated || step.truncated {
            return (infos, step.terminated, step.truncated);
        }
    }
    unreachable!()
}

/// The PD controller of `examples/custom_agent.rs`: waits for the go cue, then drives the hand to the
/// target and stops there.
fn stopper(obs: &[f32], _: usize) -> [f32; 2] {
    let go = if obs[2] > 0.5 { 1.0 } else { 0.0 };
    [
        100.0 * (go * obs[0] - obs[3]) / 10.0 - 20.0 * obs[5] / 2.0,
        100.0 * (go * obs[1] - obs[4]) / 10.0 - 20.0 * obs[6] / 2.0,
    ]
}

/// After the go cue, pushes upward for 0.2 s, then coasts: the hand crosses the target at ~0.5 m/s
/// (3 cm of window in ~60 ms) and keeps going.
fn passer(obs: &[f32], k: usize) -> [f32; 2] {
    let _ = k;
    let moving = obs[2] > 0.5 && obs[6] < 2.0 * 0.5;
    [0.0, if moving { 2.5 } else { 0.0 }]
}

fn in_window(info: &ReachInfo, radius: f64) -> bool {
    let (p, t) = (info.hand.pos, info.target_pos);
    (p[0] - t[0]).hypot(p[1] - t[1]) <= radius
}

#[test]
fn a_controller_that_stops_succeeds_after_the_hold_and_the_trial_ends_in_the_window() {
    let cfg = ReachConfig::default();
    let (r, hold) = (cfg.reward.success_radius, cfg.reward.hold_steps(cfg.dt) as usize);
    assert_eq!(hold, 30, "the default hold is 300 ms");
    let mut env = ReachEnv::new(cfg.clone()).unwrap();
    let (infos, terminated, truncated) = trial(&mut env, stopper);
    let last = infos.last().unwrap();
    assert!(last.success && terminated && !truncated);
    assert!(infos.len() < cfg.trial_steps as usize, "the trial ends with the hold");
    // The hand was inside the window for exactly the hold's last `hold` steps, and is there at the end.
    assert!(infos[infos.len() - hold..].iter().all(|i| in_window(i, r)));
    assert!(in_window(last, r));
    // Only the last step is a success.
    assert_eq!(infos.iter().filter(|i| i.success).count(), 1);
}

#[test]
fn a_controller_that_passes_through_the_target_fails() {
    let cfg = ReachConfig::default();
    let r = cfg.reward.success_radius;
    let mut env = ReachEnv::new(cfg.clone()).unwrap();
    let (infos, terminated, truncated) = trial(&mut env, passer);
    assert!(infos.iter().any(|i| in_window(i, r)), "the path crosses the window");
    let last = infos.last().unwrap();
    assert!(!last.success && !terminated && truncated);
    assert_eq!(infos.len(), cfg.trial_steps as usize);
    assert!(!in_window(last, r) && last.hand.pos[1] > 0.2, "{:?}", last.hand.pos);
}

#[test]
fn the_old_rule_is_an_option_a_short_count_that_does_not_end_the_trial() {
    // 100 ms inside the window, the trial runs on: a slow pass (~15 cm/s) through the window succeeds
    // under it and keeps going, and fails the 300 ms hold.
    let slow = |obs: &[f32], _: usize| -> [f32; 2] {
        let moving = obs[2] > 0.5 && obs[6] < 2.0 * 0.15;
        [0.0, if moving { 1.0 } else { 0.0 }]
    };
    let old = ReachConfig {
        trial_steps: 150,
        reward: RewardConfig {
            hold_time: 0.1,
            terminate_on_success: false,
            ..RewardConfig::default()
        },
        ..ReachConfig::default()
    };
    let r = old.reward.success_radius;
    let (infos, terminated, _) = trial(&mut ReachEnv::new(old.clone()).unwrap(), slow);
    let last = infos.last().unwrap();
    assert!(last.success && !terminated && infos.len() == 150);
    assert!(!in_window(last, r), "the hand left the target after the success");
    let (infos, _, _) = trial(&mut ReachEnv::new(ReachConfig::default()).unwrap(), slow);
    assert!(!infos.last().unwrap().success);
}
