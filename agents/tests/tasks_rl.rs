//! Policy-gradient training on a cognitive task: PPO learns Yang et al.'s `fdgo` (hold fixation while the
//! stimulus is shown, then choose its direction when the fixation cue goes off) in the discrete
//! [`DecisionEnv`], on Mod-Cog's coarser grid (dt 100 ms, 8 directions) so that trials are 10-25 steps.

use reachlab_agents::{
    Algorithm, CoreConfig, CoreKind, HeadKind, Policy, PolicyConfig, RolloutConfig, RolloutWorkers, TrainConfig,
    Trainer,
};
use reachlab_envs::cognitive::{Conventions, DecisionEnv, DecisionRewards, TaskSet};
use reachlab_envs::Env;

#[test]
fn ppo_learns_fdgo_in_the_decision_env() {
    let conv = Conventions {
        dt_ms: 100.0,
        n_ring: 8,
        sigma_x: 0.01,
        ..Conventions::yang2019()
    };
    let make = move || {
        DecisionEnv::new(
            TaskSet::from_names(&["fdgo"], conv).unwrap(),
            // Breaking fixation ends the trial: a denser signal than the reference's rules.
            DecisionRewards::yang_tolerance(),
        )
    };
    let workers = RolloutWorkers::new(64, 16, 2, |_| Ok(make()?)).unwrap();
    let env = workers.first_env();
    let pc = PolicyConfig {
        core: CoreConfig {
            kind: CoreKind::Gru,
            hidden: 32,
            ..CoreConfig::default()
        },
        ..PolicyConfig::default()
    };
    let policy = Policy::new(&pc, env.obs_dim(), HeadKind::for_space(env.action_space()).unwrap()).unwrap();
    let config = TrainConfig {
        algorithm: Algorithm::Ppo,
        episodes_per_update: 64,
        learning_rate: 3e-3,
        rollout: RolloutConfig {
            max_steps: 30,
            ..RolloutConfig::default()
        },
        seed: 3,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(policy, config, workers).unwrap();
    let mut rates = Vec::new();
    for _ in 0..200 {
        rates.push(trainer.update().unwrap().success_rate);
        let n = rates.len();
        if n >= 3 && rates[n - 3..].iter().all(|&r| r >= 0.8) {
            break;
        }
    }
    eprintln!("fdgo success by update: {rates:?}");
    let n = rates.len();
    // Chance: a policy that holds fixation and then picks one of 8 directions is right 1/8 of the time.
    assert!(rates[0] < 0.2, "starts near chance: {}", rates[0]);
    assert!(rates[n - 3..].iter().all(|&r| r >= 0.8), "after {n} updates: {rates:?}");
}
