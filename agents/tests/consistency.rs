//! The graph-free acting path and the training forward pass compute the same policy.

use candle_core::{DType, Device, Tensor};
use reachlab_agents::gaussian_log_prob;
use reachlab_agents::{CoreConfig, CoreKind, HeadKind, Policy, PolicyConfig, RolloutConfig, RolloutWorkers};
use reachlab_envs::reach::{ReachConfig, ReachEnv};
use reachlab_envs::Env;

/// A 16-unit policy of `kind` (leak 0.5 for the leaky cores) with a non-zero initial action mean.
fn small_policy(kind: CoreKind, separate_critic: bool, sigma_rec: f64) -> PolicyConfig {
    PolicyConfig {
        core: CoreConfig {
            kind,
            hidden: 16,
            alpha: if matches!(kind, CoreKind::Gru | CoreKind::Lstm) {
                1.0
            } else {
                0.5
            },
            sigma_rec,
            ..CoreConfig::default()
        },
        separate_critic,
        action_mean_init_std: 0.3,
        ..PolicyConfig::default()
    }
}

fn check(kind: CoreKind, separate_critic: bool, sigma_rec: f64) {
    let mut workers = RolloutWorkers::new(6, 4, 2, |_| Ok(ReachEnv::new(ReachConfig::default())?)).expect("workers");
    let cfg = PolicyConfig {
        value_init_std: 0.3,
        ..small_policy(kind, separate_critic, sigma_rec)
    };
    let env = workers.first_env();
    let policy = Policy::new(&cfg, env.obs_dim(), HeadKind::for_space(env.action_space()).unwrap()).unwrap();
    let ro = workers
        .collect(&policy.snapshot().unwrap(), 3, &RolloutConfig::default())
        .unwrap();
    let (t, n) = (ro.steps, ro.episodes);
    let dev = Device::Cpu;
    let obs = Tensor::from_vec(ro.obs.clone(), (t, n, ro.obs_dim), &dev).unwrap();
    let noise =
        |v: &Vec<f32>| (!v.is_empty()).then(|| Tensor::from_vec(v.clone(), (t, n, v.len() / (t * n)), &dev).unwrap());
    let (na, nc) = (noise(&ro.noise_actor), noise(&ro.noise_critic));
    let out = policy.forward(&obs, (na.as_ref(), nc.as_ref())).unwrap();
    let actions = Tensor::from_vec(ro.actions.clone(), (t, n, 2), &dev).unwrap();
    let logp = gaussian_log_prob(&out.head, policy.log_std().unwrap(), &actions).unwrap();
    let logp: Vec<f32> = logp.flatten_all().unwrap().to_vec1().unwrap();
    let value: Vec<f32> = out
        .value
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let mut worst = (0.0f32, 0.0f32);
    for k in 0..t * n {
        if ro.mask[k] > 0.0 {
            worst.0 = worst.0.max((logp[k] - ro.log_probs[k]).abs());
            worst.1 = worst.1.max((value[k] - ro.values[k]).abs());
        }
    }
    assert!(
        worst.0 < 1e-3 && worst.1 < 1e-4,
        "{kind:?}: log-prob / value differ by {worst:?}"
    );
}

#[test]
fn acting_and_training_paths_agree_for_every_core() {
    for kind in [
        CoreKind::Gru,
        CoreKind::Lstm,
        CoreKind::Vanilla,
        CoreKind::Sparse,
        CoreKind::Autapse,
    ] {
        check(kind, false, 0.0);
    }
    check(CoreKind::Gru, true, 0.0);
    check(CoreKind::Vanilla, true, 0.1);
}

#[test]
fn rollouts_are_bit_identical_for_any_thread_count() {
    let run = |threads: usize| {
        let mut w = RolloutWorkers::new(10, 3, threads, |_| Ok(ReachEnv::new(ReachConfig::default())?)).unwrap();
        let env = w.first_env();
        let cfg = PolicyConfig {
            core: CoreConfig {
                kind: CoreKind::Vanilla,
                hidden: 16,
                alpha: 0.5,
                sigma_rec: 0.05,
                ..CoreConfig::default()
            },
            action_mean_init_std: 0.3,
            ..PolicyConfig::default()
        };
        let p = Policy::for_spaces(&cfg, env.observation_space(), env.action_space()).unwrap();
        let ro = w.collect(&p.snapshot().unwrap(), 9, &RolloutConfig::default()).unwrap();
        (ro.obs, ro.actions, ro.log_probs, ro.values, ro.noise_actor, ro.lengths)
    };
    let one = run(1);
    for threads in [2, 4] {
        assert!(one == run(threads), "{threads} threads differ from 1");
    }
}

/// The first minibatch of an update is evaluated at the policy that collected the rollout, so its
/// probability ratio is 1: approx-KL ≈ 0 and nothing clipped, for every core, shared or separate critic
/// (one epoch of one minibatch, so the update's diagnostics are that minibatch's).
#[test]
fn the_first_minibatch_of_an_update_has_ratio_one_for_every_core() {
    use reachlab_agents::{TrainConfig, Trainer};
    for (kind, separate_critic) in [
        (CoreKind::Gru, false),
        (CoreKind::Gru, true),
        (CoreKind::Lstm, false),
        (CoreKind::Vanilla, true),
        (CoreKind::Sparse, false),
        (CoreKind::Autapse, false),
    ] {
        let workers = RolloutWorkers::new(8, 4, 2, |_| Ok(ReachEnv::new(ReachConfig::default())?)).unwrap();
        let env = workers.first_env();
        let cfg = small_policy(kind, separate_critic, 0.05);
        let policy = Policy::for_spaces(&cfg, env.observation_space(), env.action_space()).unwrap();
        let train = TrainConfig {
            episodes_per_update: 8,
            envs_per_block: 4,
            epochs: 1,
            minibatches: 1,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(policy, train, workers).unwrap();
        for update in 0..3 {
            let s = trainer.update().unwrap();
            assert!(
                s.approx_kl.abs() < 1e-5 && s.clip_fraction == 0.0,
                "{kind:?} (separate critic {separate_critic}), update {update}: approx-KL {} clip fraction {}",
                s.approx_kl,
                s.clip_fraction
            );
        }
    }
}

/// Backpropagation through the plant and policy gradient on `reward.kind = "cost"` optimise one objective:
/// a trial's env return is minus its cost through the plant, for the same commands, in the null field, in a
/// curl field and in a force channel.
#[test]
fn the_env_return_under_the_cost_reward_is_minus_the_plant_loss() {
    use reachlab_agents::closed_loop;
    use reachlab_envs::reach::{CostConfig, FieldSpec, Phase, ReachOptions, RewardKind, TargetSet};
    use reachlab_envs::seeding::derive_seed;
    let mut env_cfg = ReachConfig {
        trial_steps: 120,
        cost: CostConfig {
            w_path: 10.0,
            ..CostConfig::default()
        },
        ..ReachConfig::default()
    };
    env_cfg.reward.kind = RewardKind::Cost;
    let phases = [
        Phase::null("null"),
        Phase {
            field: FieldSpec::Curl { b: 10.0 },
            field_targets: TargetSet::All,
            ..Phase::null("curl")
        },
        Phase {
            channel_prob: 1.0,
            ..Phase::null("channel")
        },
    ];
    for phase in &phases {
        for (seed, target) in [(3u64, 0usize), (11, 0)] {
            // Commands exactly representable in f32 (what the env takes), pushing past the bound at times.
            let command = |t: u32| -> [f64; 2] {
                let s = f64::from(t) + 7.0 * seed as f64;
                [
                    f64::from((12.0 * (0.05 * s).sin()) as f32),
                    f64::from((6.0 * (0.031 * s).cos()) as f32),
                ]
            };
            let mut controller = |_obs: &Tensor, t: u32| -> reachlab_agents::Result<Tensor> {
                Ok(Tensor::new(&[command(t)], &Device::Cpu)?)
            };
            let ro = closed_loop(&mut controller, DType::F64, &env_cfg, phase, 1, 0.0, seed).unwrap();
            let loss = ro.loss.to_scalar::<f64>().unwrap();
            // The env, on the trial the plant drew (`closed_loop` draws trial 0 with derive_seed(seed, 0)).
            let mut env = ReachEnv::new(env_cfg.clone()).unwrap();
            env.set_phase(phase.clone()).unwrap();
            let options = ReachOptions {
                target: Some(target),
                trial_type: None,
            };
            env.reset(Some(derive_seed(seed, 0)), &options).unwrap();
            let (mut ret, mut steps) = (0.0, 0);
            loop {
                let c = command(steps);
                let step = env.step(&[c[0] as f32, c[1] as f32]).unwrap();
                ret += step.reward;
                steps += 1;
                if step.terminated || step.truncated {
                    assert!(step.terminated, "the cost reward ends every trial as terminated");
                    break;
                }
            }
            assert_eq!(steps, env_cfg.trial_steps, "{}: the trial ran to its end", phase.name);
            assert!(
                (ret + loss).abs() < 1e-9,
                "{} seed {seed}: env return {ret} vs plant loss {loss}",
                phase.name
            );
            assert!(loss > 0.0);
        }
    }
}

/// The two training routes follow one gradient: at a fixed policy whose exploration noise is the plant's
/// motor noise, the likelihood-ratio gradient of the env's return under the cost reward (what PPO's first
/// minibatch follows) and the pathwise gradient through the plant point the same way, in a curl field.
#[test]
fn policy_gradient_and_the_plant_gradient_agree_on_the_shared_objective() {
    use reachlab_agents::agreement::{cosine, likelihood_ratio_ascent, pathwise_ascent};
    use reachlab_envs::reach::{CostConfig, FieldSpec, Phase, TargetSet};
    let env = ReachConfig {
        trial_steps: 100,
        cost: CostConfig {
            w_path: 10.0,
            ..CostConfig::default()
        },
        ..ReachConfig::default()
    };
    let cfg = PolicyConfig {
        core: CoreConfig {
            kind: CoreKind::Gru,
            hidden: 16,
            ..CoreConfig::default()
        },
        init_action_std: 0.05, // × the 10 N bound: 0.5 N, the plant's motor noise
        action_mean_init_std: 0.3,
        ..PolicyConfig::default()
    };
    let probe = ReachEnv::new(env.clone()).unwrap();
    let policy = Policy::for_spaces(&cfg, probe.observation_space(), probe.action_space()).unwrap();
    let phase = Phase {
        field: FieldSpec::Curl { b: 10.0 },
        field_targets: TargetSet::All,
        ..Phase::null("curl")
    };
    let trials = 1024;
    let pathwise = pathwise_ascent(&policy, &env, &phase, trials, 0.5, 1).unwrap();
    let other = pathwise_ascent(&policy, &env, &phase, trials, 0.5, 99).unwrap();
    let lr = likelihood_ratio_ascent(&policy, &env, &phase, trials, 7).unwrap();
    let (agree, floor) = (cosine(&lr, &pathwise), cosine(&pathwise, &other));
    eprintln!("cosine: likelihood ratio vs pathwise {agree:.3}, pathwise vs pathwise {floor:.3}");
    assert!(floor > 0.95, "two pathwise estimates: cosine {floor}");
    assert!(agree > 0.8, "likelihood ratio vs pathwise: cosine {agree}");
    // Not any two gradients agree: the pathwise gradient of another objective (no path, no start cost).
    let mut other_env = env.clone();
    other_env.cost = CostConfig {
        w_start: 0.0,
        w_path: 0.0,
        w_effort: 1.0,
        ..CostConfig::default()
    };
    let unrelated = pathwise_ascent(&policy, &other_env, &phase, trials, 0.5, 1).unwrap();
    let off = cosine(&lr, &unrelated);
    eprintln!("cosine with another objective's gradient: {off:.3}");
    assert!(off < agree - 0.2, "{off} vs {agree}");
}
