//! The Gymnasium-style API: reaching-task semantics, vector envs and their autoreset modes, wrappers,
//! determinism across thread counts, and clear errors for bad input.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reachlab_envs::effector::ArmConfig;
use reachlab_envs::reach::{
    EffectorConfig, Epoch, FieldSpec, Phase, PrematureConfig, ReachConfig, ReachEnv, ReachOptions, RewardConfig,
    TargetSet, TrialType,
};
use reachlab_envs::wrappers::{EpisodeStats, ObservationNoise, SensoryDelay, TimeLimit};
use reachlab_envs::{check_env, AutoresetMode, Env, EnvError, SyncVecEnv, ThreadedVecEnv, VecBuffers, VectorEnv};

fn reach() -> ReachEnv {
    ReachEnv::new(ReachConfig::default()).unwrap()
}

fn curl_phase(b: f64) -> Phase {
    Phase {
        field: FieldSpec::Curl { b },
        catch_prob: 0.2,
        channel_prob: 0.2,
        ..Phase::null("learning")
    }
}

#[test]
fn env_checker_passes_for_point_mass_arm_and_wrappers() {
    check_env(&mut reach(), 3, 400).unwrap();
    let arm = ReachConfig {
        effector: EffectorConfig::TwoLinkArm(ArmConfig::default()),
        ..ReachConfig::default()
    };
    check_env(&mut ReachEnv::new(arm).unwrap(), 3, 400).unwrap();
    let mut env = reach();
    env.set_phase(curl_phase(12.0)).unwrap();
    let wrapped = ObservationNoise::new(env, 0.01, ReachEnv::HAND_COMPONENTS).unwrap();
    let wrapped = SensoryDelay::new(wrapped, 3, ReachEnv::HAND_COMPONENTS).unwrap();
    check_env(&mut EpisodeStats::new(TimeLimit::new(wrapped, 40).unwrap()), 5, 400).unwrap();
}

#[test]
fn trial_epochs_cues_and_truncation_follow_the_drawn_timing() {
    let mut env = reach();
    let (obs, info) = env.reset(Some(11), &ReachOptions::default()).unwrap();
    assert_eq!(obs[..3], [0.0, 0.0, 0.0], "no target and no go cue at reset");
    assert!(info.cue_step >= 10 && info.cue_step <= 30, "cue U(0.1, 0.3) s");
    assert!(
        info.go_step >= info.cue_step + 20 && info.go_step <= info.cue_step + 50,
        "delay U(0.2, 0.5) s"
    );
    let tp = ReachConfig::default().target_position(info.target);
    for t in 1..=150u32 {
        let s = env.step(&[0.0, 0.0]).unwrap();
        let expected_epoch = if t < info.cue_step {
            Epoch::Hold
        } else if t < info.go_step {
            Epoch::Cue
        } else if t < info.go_step + 50 {
            Epoch::Move
        } else {
            Epoch::End
        };
        assert_eq!(s.info.epoch, expected_epoch, "step {t}");
        let shown = t >= info.cue_step;
        assert_eq!(s.obs[0], if shown { (tp[0] * 10.0) as f32 } else { 0.0 });
        assert_eq!(s.obs[2], if t >= info.go_step { 1.0 } else { 0.0 });
        assert!(!s.terminated);
        assert_eq!(s.truncated, t == 150, "truncated exactly at the time limit");
    }
    assert!(matches!(env.step(&[0.0, 0.0]), Err(EnvError::NeedsReset { .. })));
}

/// The deadline ends a trial as terminated with `deadline_terminates` and under the cost reward, which
/// also neither pays nor ends at a success or a premature start (they are still reported).
#[test]
fn the_deadline_can_terminate_and_the_cost_reward_runs_every_trial_to_its_end() {
    use reachlab_envs::reach::RewardKind;
    let run = |cfg: ReachConfig, push: f32| {
        let mut env = ReachEnv::new(cfg).unwrap();
        env.reset(Some(3), &ReachOptions::default()).unwrap();
        let mut last = None;
        for t in 1..=150u32 {
            // A push before the go cue: a premature start at once.
            let s = env.step(&[push, 0.0]).unwrap();
            let end = s.terminated || s.truncated;
            last = Some((t, s));
            if end {
                break;
            }
        }
        last.unwrap()
    };
    let (t, s) = run(
        ReachConfig {
            deadline_terminates: true,
            ..ReachConfig::default()
        },
        0.0,
    );
    assert!(t == 150 && s.terminated && !s.truncated);
    let mut cost = ReachConfig::default();
    cost.premature.terminate = true;
    cost.reward.kind = RewardKind::Cost;
    let (t, s) = run(cost.clone(), 10.0);
    assert!(t == 150 && s.terminated && !s.truncated && s.info.premature, "step {t}");
    assert!(s.reward < 0.0);
    cost.reward.kind = RewardKind::Task;
    let (t, s) = run(cost, 10.0);
    assert!(
        t < 150 && s.terminated && s.info.premature,
        "the task reward ends it at once"
    );
}

#[test]
fn nan_or_infinite_action_is_refused_without_changing_state() {
    let mut env = reach();
    env.reset(Some(1), &ReachOptions::default()).unwrap();
    env.step(&[1.0, 0.0]).unwrap();
    let before = env.hand();
    let err = env.step(&[0.0, f32::NAN]).unwrap_err();
    assert!(matches!(err, EnvError::NonFiniteAction { index: 1, value } if value.is_nan()));
    assert!(err.to_string().contains("action component 1"), "{err}");
    assert!(matches!(
        env.step(&[f32::INFINITY, 0.0]),
        Err(EnvError::NonFiniteAction { index: 0, .. })
    ));
    assert_eq!(env.hand(), before);
    env.step(&[0.0, 0.0]).unwrap();
}

#[test]
fn premature_start_is_flagged_penalised_and_can_terminate() {
    let cfg = ReachConfig {
        premature: PrematureConfig {
            radius: 0.01,
            penalty: 2.0,
            terminate: true,
        },
        ..ReachConfig::default()
    };
    let mut env = ReachEnv::new(cfg).unwrap();
    env.reset(Some(4), &ReachOptions::default()).unwrap();
    let mut ended = None;
    for t in 1..=40 {
        let s = env.step(&[10.0, 0.0]).unwrap();
        if s.terminated {
            ended = Some((t, s));
            break;
        }
    }
    let (t, s) = ended.expect("pushing before the go cue ends the trial");
    assert!(s.info.premature && !s.truncated);
    assert!(s.info.hand.pos[0] > 0.01 && t < s.info.go_step);
    assert!(s.reward < -2.0, "penalty applied: {}", s.reward);
}

#[test]
fn field_acts_only_after_go_only_on_chosen_targets_and_not_in_catch_trials() {
    let mut env = reach();
    env.set_phase(Phase {
        field: FieldSpec::Curl { b: 15.0 },
        field_targets: TargetSet::Only(vec![2]),
        ..Phase::null("learning")
    })
    .unwrap();
    for (target, trial_type, field_expected) in [
        (2, TrialType::Normal, true),
        (3, TrialType::Normal, false),
        (2, TrialType::Catch, false),
    ] {
        let opts = ReachOptions {
            target: Some(target),
            trial_type: Some(trial_type),
        };
        let (_, info) = env.reset(Some(9), &opts).unwrap();
        assert_eq!(info.field_on, field_expected);
        let mut saw_force_before_go = false;
        let mut saw_force_after_go = false;
        for _ in 0..150 {
            let s = env.step(&[3.0, 3.0]).unwrap();
            let f = s.info.field_force[0].hypot(s.info.field_force[1]);
            // field_force is the force during the step just taken, from step index s.info.step - 1.
            if s.info.step - 1 < s.info.go_step {
                saw_force_before_go |= f > 0.0;
            } else {
                saw_force_after_go |= f > 0.0;
            }
        }
        assert!(!saw_force_before_go);
        assert_eq!(saw_force_after_go, field_expected, "target {target} {trial_type:?}");
    }
}

#[test]
fn a_phase_reward_and_premature_rule_replace_the_envs_exactly() {
    // A curriculum stage: the env is configured with the sparse task, the phase pays the dense one.
    // Stepping it must give, reward for reward, what an env configured with the dense task gives.
    let sparse = ReachConfig {
        reward: RewardConfig {
            distance_weight: 0.0,
            effort_weight: 0.0,
            ..RewardConfig::default()
        },
        premature: PrematureConfig {
            penalty: 0.0,
            terminate: true,
            ..PrematureConfig::default()
        },
        ..ReachConfig::default()
    };
    let dense_reward = RewardConfig {
        distance_weight: 2.0,
        ..RewardConfig::default()
    };
    let dense_premature = PrematureConfig::default();
    let dense = ReachConfig {
        reward: dense_reward,
        premature: dense_premature,
        ..sparse.clone()
    };
    let mut staged = ReachEnv::new(sparse.clone()).unwrap();
    staged
        .set_phase(Phase {
            reward: Some(dense_reward),
            premature: Some(dense_premature),
            ..Phase::null("pretraining")
        })
        .unwrap();
    let mut reference = ReachEnv::new(dense).unwrap();
    let mut plain = ReachEnv::new(sparse).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (mut sum_staged, mut sum_plain) = (0.0, 0.0);
    for trial in 0..6u64 {
        for env in [&mut staged, &mut reference, &mut plain] {
            env.reset(Some(trial), &ReachOptions::default()).unwrap();
        }
        let mut plain_over = false;
        for _ in 0..200 {
            // Pushes that start early in some trials (premature) and wander in others.
            let a = [rng.random_range(-4.0..4.0f32), rng.random_range(-4.0..4.0f32)];
            let s = staged.step(&a).unwrap();
            let r = reference.step(&a).unwrap();
            assert_eq!(s.reward.to_bits(), r.reward.to_bits());
            assert_eq!((s.terminated, s.truncated), (r.terminated, r.truncated));
            sum_staged += s.reward;
            if !plain_over {
                // The sparse env pays nothing here, and a premature start ends its trial.
                let p = plain.step(&a).unwrap();
                sum_plain += p.reward;
                plain_over = p.terminated || p.truncated;
            }
            if s.terminated || s.truncated {
                break;
            }
        }
    }
    assert!(sum_staged < -1.0 && sum_plain == 0.0, "{sum_staged} {sum_plain}");
    let msg = reach()
        .set_phase(Phase {
            reward: Some(RewardConfig {
                hold_time: -0.1,
                ..RewardConfig::default()
            }),
            ..Phase::null("shaping")
        })
        .unwrap_err()
        .to_string();
    assert!(msg.contains("phase `shaping`.reward.hold_time"), "{msg}");
}

#[test]
fn trial_mix_follows_phase_probabilities() {
    let mut env = reach();
    env.set_phase(curl_phase(10.0)).unwrap();
    let mut counts = [0usize; 3];
    env.reset(Some(0), &ReachOptions::default()).unwrap();
    let n = 5000;
    for _ in 0..n {
        let (_, info) = env.reset(None, &ReachOptions::default()).unwrap();
        counts[info.trial_type as usize] += 1;
    }
    // Binomial standard deviation for p = 0.2 over 5000 draws is 0.0057; allow 4σ.
    for (k, p) in [(0, 0.6), (1, 0.2), (2, 0.2)] {
        let f = counts[k] as f64 / n as f64;
        assert!((f - p).abs() < 0.023, "type {k}: {f}");
    }
}

#[test]
fn bad_configs_and_phases_name_their_key() {
    let bad = ReachConfig {
        trial_steps: 50,
        ..ReachConfig::default()
    };
    let msg = ReachEnv::new(bad).unwrap_err().to_string();
    assert!(msg.contains("trial_steps"), "{msg}");
    let msg = reach()
        .set_phase(Phase {
            catch_prob: 0.7,
            channel_prob: 0.6,
            ..Phase::null("x")
        })
        .unwrap_err()
        .to_string();
    assert!(msg.contains("catch_prob"), "{msg}");
    let msg = reach()
        .set_phase(Phase {
            field_targets: TargetSet::Only(vec![8]),
            ..Phase::null("x")
        })
        .unwrap_err()
        .to_string();
    assert!(msg.contains("target 8"), "{msg}");
    // A field so strong that an Euler step overflows the f32 observation (b = 1e12 gave −inf as Ok).
    for b in [1e12, f64::INFINITY, -2e4] {
        let msg = reach()
            .set_phase(Phase {
                field: FieldSpec::Curl { b },
                ..Phase::null("x")
            })
            .unwrap_err()
            .to_string();
        assert!(msg.contains("field"), "{msg}");
    }
    let mut env = reach();
    let opts = ReachOptions {
        target: Some(99),
        trial_type: None,
    };
    assert!(env
        .reset(Some(0), &opts)
        .unwrap_err()
        .to_string()
        .contains("options.target"));
}

fn random_actions(seed: u64, n: usize, steps: usize) -> Vec<Vec<[f32; 2]>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..steps)
        .map(|_| {
            (0..n)
                .map(|_| [rng.random_range(-10.0..10.0), rng.random_range(-10.0..10.0)])
                .collect()
        })
        .collect()
}

type Trace = Vec<(Vec<f32>, Vec<f64>, Vec<bool>, Vec<bool>, Vec<f32>)>;

fn trace<V: VectorEnv<Env = ReachEnv>>(venv: &mut V, actions: &[Vec<[f32; 2]>]) -> Trace {
    venv.apply(&|e| e.set_phase(curl_phase(12.0))).unwrap();
    let mut buf = venv.buffers();
    venv.reset(Some(100), &mut buf).unwrap();
    let mut out = vec![(buf.obs.clone(), buf.rewards.clone(), vec![], vec![], vec![])];
    for a in actions {
        venv.step(a, &mut buf).unwrap();
        out.push((
            buf.obs.clone(),
            buf.rewards.clone(),
            buf.terminated.clone(),
            buf.truncated.clone(),
            buf.final_obs.clone(),
        ));
    }
    out
}

#[test]
fn vector_env_results_are_bit_identical_for_1_2_and_8_threads() {
    let n = 13;
    let actions = random_actions(5, n, 400);
    for mode in [AutoresetMode::NextStep, AutoresetMode::SameStep] {
        let mut sync = SyncVecEnv::new(n, mode, |_| Ok(reach())).unwrap();
        let reference = trace(&mut sync, &actions);
        for threads in [1, 2, 8] {
            let mut threaded = ThreadedVecEnv::new(n, threads, mode, |_| Ok(reach())).unwrap();
            assert_eq!(threaded.num_threads(), threads);
            let got = trace(&mut threaded, &actions);
            // Compare bit patterns so that a NaN anywhere would also be caught.
            let bits =
                |t: &Trace| -> Vec<Vec<u32>> { t.iter().map(|s| s.0.iter().map(|x| x.to_bits()).collect()).collect() };
            assert_eq!(bits(&got), bits(&reference), "{mode:?}, {threads} threads");
            assert_eq!(got, reference, "{mode:?}, {threads} threads");
        }
    }
}

#[test]
fn sub_env_i_is_seeded_with_seed_plus_i() {
    let mut venv = SyncVecEnv::new(3, AutoresetMode::NextStep, |_| Ok(reach())).unwrap();
    let mut buf = venv.buffers();
    venv.reset(Some(40), &mut buf).unwrap();
    for i in 0..3 {
        let (_, info) = reach().reset(Some(40 + i as u64), &ReachOptions::default()).unwrap();
        assert_eq!(buf.infos[i], info);
    }
}

/// Steps one env by hand alongside a vector env of one and checks each autoreset mode's contract.
#[test]
fn autoreset_modes_follow_gymnasium_semantics() {
    let cfg = ReachConfig::default();
    let steps = cfg.trial_steps as usize;
    let a = [[0.5f32, -0.5]];
    for mode in [
        AutoresetMode::NextStep,
        AutoresetMode::SameStep,
        AutoresetMode::Disabled,
    ] {
        let mut venv = SyncVecEnv::new(1, mode, |_| ReachEnv::new(cfg.clone())).unwrap();
        let mut single = reach();
        let mut buf: VecBuffers<_> = venv.buffers();
        venv.reset(Some(8), &mut buf).unwrap();
        let (obs0, _) = single.reset(Some(8), &ReachOptions::default()).unwrap();
        assert_eq!(buf.obs, obs0);
        for _ in 0..steps {
            venv.step(&a, &mut buf).unwrap();
            let s = single.step(&a[0]).unwrap();
            if s.truncated {
                match mode {
                    AutoresetMode::SameStep => {
                        assert_eq!(buf.final_obs, s.obs, "final obs kept");
                        assert_eq!(buf.final_infos[0], s.info);
                        assert!(buf.truncated[0]);
                        let (reset_obs, _) = single.reset(None, &ReachOptions::default()).unwrap();
                        assert_eq!(buf.obs, reset_obs, "obs is the next episode's first");
                    }
                    _ => {
                        assert_eq!(buf.obs, s.obs);
                        assert!(buf.truncated[0]);
                    }
                }
            } else {
                assert_eq!(buf.obs, s.obs);
                assert_eq!(buf.rewards[0], s.reward);
            }
        }
        match mode {
            AutoresetMode::NextStep => {
                venv.step(&a, &mut buf).unwrap();
                let (reset_obs, reset_info) = single.reset(None, &ReachOptions::default()).unwrap();
                assert_eq!(buf.obs, reset_obs, "next step returns the reset observation");
                assert_eq!(buf.infos[0], reset_info);
                assert_eq!(
                    (buf.rewards[0], buf.terminated[0], buf.truncated[0]),
                    (0.0, false, false)
                );
            }
            AutoresetMode::Disabled => {
                let err = venv.step(&a, &mut buf).unwrap_err();
                assert_eq!(err, EnvError::SubEnvNeedsReset { index: 0 });
                venv.reset_done(&mut buf).unwrap();
                let (reset_obs, _) = single.reset(None, &ReachOptions::default()).unwrap();
                assert_eq!(buf.obs, reset_obs);
                venv.step(&a, &mut buf).unwrap();
            }
            AutoresetMode::SameStep => {
                venv.step(&a, &mut buf).unwrap();
                let s = single.step(&a[0]).unwrap();
                assert_eq!(buf.obs, s.obs, "continues the new episode");
            }
        }
    }
}

#[test]
fn vector_env_reports_bad_buffers_and_actions_by_index() {
    let mut venv = ThreadedVecEnv::new(6, 2, AutoresetMode::NextStep, |_| Ok(reach())).unwrap();
    let mut buf = venv.buffers();
    venv.reset(Some(0), &mut buf).unwrap();
    let mut actions = vec![[0.0f32, 0.0]; 6];
    actions[4] = [f32::NAN, 0.0];
    actions[5] = [0.0, f32::NAN];
    assert_eq!(
        venv.step(&actions, &mut buf).unwrap_err().to_string(),
        "action component 0 is NaN: actions must be finite"
    );
    let err = venv.step(&actions[..3], &mut buf).unwrap_err();
    assert!(matches!(
        err,
        EnvError::BufferSize {
            what: "actions",
            expected: 6,
            got: 3
        }
    ));
    let mut small = VecBuffers::new(5, 7);
    assert!(venv.step(&[[0.0, 0.0]; 6], &mut small).is_err());
}

#[test]
fn time_limit_truncates_and_episode_stats_sum_rewards() {
    let mut env = EpisodeStats::new(TimeLimit::new(reach(), 30).unwrap());
    env.reset(Some(2), &ReachOptions::default()).unwrap();
    let mut total = 0.0;
    for t in 1..=30 {
        let s = env.step(&[0.2, 0.1]).unwrap();
        total += s.reward;
        assert_eq!(s.truncated, t == 30);
        if t == 30 {
            let stats = s.info.episode.expect("statistics at the last step");
            assert_eq!(stats.length, 30);
            assert!((stats.episode_return - total).abs() < 1e-12);
        } else {
            assert!(s.info.episode.is_none());
        }
    }
}

#[test]
fn sensory_delay_returns_hand_state_from_n_steps_before() {
    let delay = 4;
    let mut delayed = SensoryDelay::new(reach(), delay, ReachEnv::HAND_COMPONENTS).unwrap();
    let mut plain = reach();
    let (o_d, _) = delayed.reset(Some(6), &ReachOptions::default()).unwrap();
    let (o_p, _) = plain.reset(Some(6), &ReachOptions::default()).unwrap();
    assert_eq!(o_d, o_p);
    let mut history = vec![o_p.clone()];
    for t in 1..=60usize {
        let a = [(t as f32 * 0.3).sin() * 5.0, (t as f32 * 0.2).cos() * 5.0];
        let d = delayed.step(&a).unwrap().obs;
        let p = plain.step(&a).unwrap().obs;
        history.push(p.clone());
        let past = &history[t.saturating_sub(delay)];
        assert_eq!(d[3..7], past[3..7], "hand components delayed at step {t}");
        assert_eq!(d[..3], p[..3], "cues are current at step {t}");
    }
}

#[test]
fn observation_noise_has_the_requested_spread_and_is_seeded() {
    let sigma = 0.05f32;
    let mut noisy = ObservationNoise::new(reach(), sigma, ReachEnv::HAND_COMPONENTS).unwrap();
    let (o1, _) = noisy.reset(Some(3), &ReachOptions::default()).unwrap();
    let (o2, _) = noisy.reset(Some(3), &ReachOptions::default()).unwrap();
    assert_eq!(o1, o2, "same seed, same noise");
    let mut samples = Vec::new();
    for _ in 0..149 {
        let s = noisy.step(&[0.0, 0.0]).unwrap();
        // The hand stays at rest, so the hand components are pure noise.
        samples.extend_from_slice(&s.obs[3..7]);
        assert!(s.obs[2] == 0.0 || s.obs[2] == 1.0, "go cue untouched");
    }
    let n = samples.len() as f64;
    let mean = samples.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let sd = (samples.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!(mean.abs() < 4.0 * f64::from(sigma) / n.sqrt(), "mean {mean}");
    assert!((sd / f64::from(sigma) - 1.0).abs() < 0.1, "sd {sd}");
    assert!(ObservationNoise::new(reach(), f32::NAN, 3..7).is_err());
    assert!(ObservationNoise::new(reach(), 0.1, 5..9).is_err());
    let e = ObservationNoise::new(reach(), -1.0, 3..7).err().unwrap().to_string();
    assert!(e.contains("obs_noise.sigma"), "{e}");
}

#[test]
fn a_delay_line_too_long_to_hold_is_refused_with_the_key() {
    for delay in [usize::MAX, usize::MAX / 2, 1 << 30] {
        let e = SensoryDelay::new(reach(), delay, ReachEnv::HAND_COMPONENTS)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("sensory_delay.delay"), "{e}");
    }
    assert!(SensoryDelay::new(reach(), 1000, ReachEnv::HAND_COMPONENTS).is_ok());
}

/// A refused step leaves every sub-env as it was, whatever the thread count: in `Disabled` mode with
/// sub-env 0 ended, no other sub-env steps (3 threads used to step sub-envs 2-5); and a vector env
/// never reset refuses to step instead of resetting from OS entropy in `NextStep` mode.
#[test]
fn refused_vector_steps_touch_no_sub_env_for_any_thread_count() {
    let make = |i: usize| {
        ReachEnv::new(ReachConfig {
            trial_steps: if i == 0 { 90 } else { 180 },
            ..ReachConfig::default()
        })
    };
    let run = |threads: usize| -> Vec<f32> {
        let mut venv = ThreadedVecEnv::new(6, threads, AutoresetMode::Disabled, make).unwrap();
        let mut buf = venv.buffers();
        venv.reset(Some(3), &mut buf).unwrap();
        let actions = vec![[0.0f32, 0.0]; 6];
        for _ in 0..90 {
            venv.step(&actions, &mut buf).unwrap();
        }
        assert_eq!(
            venv.step(&actions, &mut buf).unwrap_err(),
            EnvError::SubEnvNeedsReset { index: 0 }
        );
        venv.reset_done(&mut buf).unwrap();
        for _ in 0..5 {
            venv.step(&actions, &mut buf).unwrap();
        }
        buf.obs.clone()
    };
    assert_eq!(run(1), run(3));
    for mode in [
        AutoresetMode::NextStep,
        AutoresetMode::SameStep,
        AutoresetMode::Disabled,
    ] {
        let mut venv = SyncVecEnv::new(2, mode, |_| Ok(reach())).unwrap();
        let mut buf = venv.buffers();
        let err = venv.step(&[[0.0, 0.0]; 2], &mut buf).unwrap_err();
        assert!(matches!(err, EnvError::NeedsReset { .. }), "{mode:?}: {err}");
        let mut venv = ThreadedVecEnv::new(2, 2, mode, |_| Ok(reach())).unwrap();
        let err = venv.step(&[[0.0, 0.0]; 2], &mut buf).unwrap_err();
        assert!(matches!(err, EnvError::NeedsReset { .. }), "{mode:?}: {err}");
    }
}

/// `EffectorConfig::visit` runs a visitor with the effector type each table names: a reach env built
/// through it has that effector's actions (2 for the point mass and the two-link arm, 6 for arm26) and
/// the config's own effector.
#[test]
fn effector_visit_gives_each_kind_its_type() {
    use reachlab_envs::effector::{Arm26Config, Effector};
    use reachlab_envs::reach::{EffectorConfig, EffectorVisitor, Reach};
    struct Actions<'a>(&'a ReachConfig);
    impl EffectorVisitor for Actions<'_> {
        type Output = (usize, EffectorConfig);
        fn visit<B: Effector>(self) -> Self::Output {
            let env = Reach::<B>::new(self.0.clone()).unwrap();
            let reachlab_envs::Space::Box(b) = env.action_space() else {
                panic!("box actions")
            };
            (b.low.len(), env.config().effector)
        }
    }
    for (effector, width) in [
        (EffectorConfig::default(), 2),
        (EffectorConfig::TwoLinkArm(ArmConfig::default()), 2),
        (EffectorConfig::Arm26(Arm26Config::default()), 6),
    ] {
        let cfg = ReachConfig {
            effector,
            ..ReachConfig::default()
        };
        assert_eq!(effector.visit(Actions(&cfg)), (width, effector));
    }
}
