//! The graph-free acting path and the training forward pass compute the same policy.

use candle_core::{DType, Device, Tensor};
use reachlab_agents::gaussian_log_prob;
use reachlab_agents::{CoreConfig, CoreKind, HeadKind, Policy, PolicyConfig, RolloutConfig, RolloutWorkers};
use reachlab_envs::reach::{ReachConfig, ReachEnv};
use reachlab_envs::Env;

fn check(kind: CoreKind, separate_critic: bool, sigma_rec: f64) {
    let mut workers = RolloutWorkers::new(6, 4, 2, |_| Ok(ReachEnv::new(ReachConfig::default())?)).expect("workers");
    let cfg = PolicyConfig {
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
        value_init_std: 0.3,
        ..PolicyConfig::default()
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
