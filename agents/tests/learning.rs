//! REINFORCE, A2C and PPO learn small envs whose optimal behaviour is known.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reachlab_agents::{
    Algorithm, CoreConfig, CoreKind, EpisodeOutcome, HeadKind, Policy, PolicyConfig, RolloutConfig, RolloutWorkers,
    TrainConfig, Trainer,
};
use reachlab_envs::{BoxSpace, Env, Result as EnvResult, Space, Transition};

/// Velocity-controlled 1-D reach: obs [target, x], x += 0.1·clamp(a), reward −|x − target|·0.1, 20 steps.
struct Reach1d {
    obs_space: Space,
    act_space: Space,
    rng: ChaCha8Rng,
    target: f32,
    x: f32,
    t: usize,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct Reach1dInfo {
    close: bool,
}

impl EpisodeOutcome for Reach1dInfo {
    fn success(&self) -> Option<bool> {
        Some(self.close)
    }
}

impl Reach1d {
    fn new() -> Self {
        Reach1d {
            obs_space: Space::Box(BoxSpace::uniform(2, -2.0, 2.0)),
            act_space: Space::Box(BoxSpace::uniform(1, -1.0, 1.0)),
            rng: ChaCha8Rng::seed_from_u64(0),
            target: 0.0,
            x: 0.0,
            t: 0,
        }
    }
}

impl Env for Reach1d {
    type Action = [f32; 1];
    type Info = Reach1dInfo;
    type Options = ();
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.act_space
    }
    fn reset_into(&mut self, seed: Option<u64>, _: &(), obs: &mut [f32]) -> EnvResult<Reach1dInfo> {
        if let Some(s) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(s);
        }
        self.target = if self.rng.random::<bool>() { 1.0 } else { -1.0 };
        self.x = 0.0;
        self.t = 0;
        obs.copy_from_slice(&[self.target, self.x]);
        Ok(Reach1dInfo::default())
    }
    fn step_into(&mut self, a: &[f32; 1], obs: &mut [f32]) -> EnvResult<Transition<Reach1dInfo>> {
        reachlab_envs::check_finite(a)?;
        self.x += 0.1 * a[0].clamp(-1.0, 1.0);
        self.t += 1;
        obs.copy_from_slice(&[self.target, self.x]);
        let d = (self.x - self.target).abs();
        Ok(Transition {
            reward: -0.1 * f64::from(d),
            terminated: false,
            truncated: self.t == 20,
            info: Reach1dInfo { close: d < 0.25 },
        })
    }
}

/// Two-armed bandit, one step: arm 1 pays 1 with p = 0.8, arm 0 with p = 0.2.
struct Bandit {
    obs_space: Space,
    act_space: Space,
    rng: ChaCha8Rng,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct BanditInfo {
    best_arm: bool,
}

impl EpisodeOutcome for BanditInfo {
    fn success(&self) -> Option<bool> {
        Some(self.best_arm)
    }
}

impl Env for Bandit {
    type Action = usize;
    type Info = BanditInfo;
    type Options = ();
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.act_space
    }
    fn reset_into(&mut self, seed: Option<u64>, _: &(), obs: &mut [f32]) -> EnvResult<BanditInfo> {
        if let Some(s) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(s);
        }
        obs[0] = 1.0;
        Ok(BanditInfo::default())
    }
    fn step_into(&mut self, a: &usize, obs: &mut [f32]) -> EnvResult<Transition<BanditInfo>> {
        obs[0] = 1.0;
        let p = if *a == 1 { 0.8 } else { 0.2 };
        Ok(Transition {
            reward: if self.rng.random::<f64>() < p { 1.0 } else { 0.0 },
            terminated: true,
            truncated: false,
            info: BanditInfo { best_arm: *a == 1 },
        })
    }
}

fn small_policy(kind: CoreKind) -> PolicyConfig {
    PolicyConfig {
        core: CoreConfig {
            kind,
            hidden: 16,
            ..CoreConfig::default()
        },
        init_action_std: 0.5,
        ..PolicyConfig::default()
    }
}

fn train<E>(make: impl Fn() -> E + Copy, algorithm: Algorithm, kind: CoreKind, updates: usize, lr: f64) -> Vec<f64>
where
    E: Env,
    E::Info: EpisodeOutcome,
{
    let config = TrainConfig {
        algorithm,
        episodes_per_update: 32,
        learning_rate: lr,
        rollout: RolloutConfig {
            max_steps: 20,
            ..RolloutConfig::default()
        },
        seed: 7,
        ..TrainConfig::default()
    };
    let workers = RolloutWorkers::new(32, 8, 2, |_| Ok(make())).unwrap();
    let env = workers.first_env();
    let policy = Policy::new(
        &small_policy(kind),
        env.obs_dim(),
        HeadKind::for_space(env.action_space()).unwrap(),
    )
    .unwrap();
    let mut trainer = Trainer::new(policy, config, workers).unwrap();
    (0..updates).map(|_| trainer.update().unwrap().success_rate).collect()
}

fn late_mean(xs: &[f64]) -> f64 {
    let tail = &xs[xs.len() - 5..];
    tail.iter().sum::<f64>() / tail.len() as f64
}

#[test]
fn ppo_learns_the_1d_reach() {
    let s = train(Reach1d::new, Algorithm::Ppo, CoreKind::Gru, 30, 3e-3);
    eprintln!("{s:?}");
    assert!(s[0] < 0.5 && late_mean(&s) > 0.9, "success {s:?}");
}

#[test]
fn a2c_and_reinforce_learn_the_bandit() {
    let make = || Bandit {
        obs_space: Space::Box(BoxSpace::uniform(1, 0.0, 1.0)),
        act_space: Space::Discrete { n: 2 },
        rng: ChaCha8Rng::seed_from_u64(0),
    };
    for algo in [Algorithm::A2c, Algorithm::Reinforce] {
        let s = train(make, algo, CoreKind::Vanilla, 40, 1e-2);
        eprintln!("{algo:?} {s:?}");
        assert!(late_mean(&s) > 0.9, "{algo:?}: best-arm rate {s:?}");
    }
}

#[test]
fn the_locality_mask_keeps_its_zeros_through_training() {
    let config = TrainConfig {
        episodes_per_update: 16,
        rollout: RolloutConfig {
            max_steps: 20,
            ..RolloutConfig::default()
        },
        regularizers: reachlab_agents::RegularizerConfig {
            weight_l2: 1e-3,
            weight_l1: 1e-3,
            ..Default::default()
        },
        ..TrainConfig::default()
    };
    let workers = RolloutWorkers::new(16, 8, 2, |_| Ok(Reach1d::new())).unwrap();
    let mut pc = small_policy(CoreKind::Sparse);
    pc.core.density = 0.25;
    let env = workers.first_env();
    let policy = Policy::new(&pc, env.obs_dim(), HeadKind::for_space(env.action_space()).unwrap()).unwrap();
    let before: Vec<f32> = policy
        .params()
        .get("actor.weight_hh_l0")
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let mut trainer = Trainer::new(policy, config, workers).unwrap();
    for _ in 0..5 {
        trainer.update().unwrap();
    }
    let w: Vec<f32> = trainer
        .policy()
        .params()
        .get("actor.weight_hh_l0")
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let mask = reachlab_agents::locality_mask(16, 0.25);
    let kept = mask.iter().filter(|&&m| m > 0.0).count();
    // Distances on a 4×4 torus come in shells; ρ takes the whole shell that reaches 25%.
    assert!(
        (64..128).contains(&kept),
        "{kept} of 256 connections kept for a density of 0.25"
    );
    let mut moved = 0;
    for ((m, a), b) in mask.iter().zip(&w).zip(&before) {
        if *m == 0.0 {
            assert_eq!(*a, 0.0, "a masked weight became non-zero");
        } else if a != b {
            moved += 1;
        }
    }
    assert!(
        moved > kept / 2,
        "training barely changed the unmasked weights ({moved} of {kept})"
    );
}

/// One-bit flip-flop batches: pulses of ±1 with probability 0.1 per step; the target is the last pulse.
fn flip_flop(rng: &mut ChaCha8Rng, steps: usize, batch: usize) -> reachlab_agents::SupervisedBatch {
    let (mut x, mut y) = (vec![0.0f32; steps * batch], vec![0.0f32; steps * batch]);
    for b in 0..batch {
        let mut state = 0.0;
        for t in 0..steps {
            if rng.random::<f64>() < 0.1 {
                state = if rng.random::<bool>() { 1.0 } else { -1.0 };
                x[t * batch + b] = state;
            }
            y[t * batch + b] = state;
        }
    }
    let w = vec![1.0; steps * batch];
    reachlab_agents::SupervisedBatch::from_vecs(steps, batch, x, y, w, candle_core::DType::F32).unwrap()
}

#[test]
fn supervised_bptt_learns_a_flip_flop() {
    use reachlab_agents::{SupervisedConfig, SupervisedTrainer};
    let pc = PolicyConfig {
        core: CoreConfig {
            kind: CoreKind::Gru,
            hidden: 24,
            ..CoreConfig::default()
        },
        action_mean_init_std: 0.1,
        ..PolicyConfig::default()
    };
    let policy = Policy::new(&pc, 1, HeadKind::Gaussian { dim: 1 }).unwrap();
    let mut trainer = SupervisedTrainer::new(
        policy,
        SupervisedConfig {
            learning_rate: 1e-2,
            ..SupervisedConfig::default()
        },
    )
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let test = flip_flop(&mut rng, 60, 64);
    let before = trainer.loss(&test).unwrap();
    for _ in 0..400 {
        trainer.step(&flip_flop(&mut rng, 60, 32)).unwrap();
    }
    let after = trainer.loss(&test).unwrap();
    eprintln!("flip-flop loss {before:.4} -> {after:.4}");
    assert!(before > 0.3 && after < 0.05 * before, "loss {before} -> {after}");
}
