//! Median wall times of the training workloads that `benches/compare/ppo_torch.py` runs in PyTorch, as
//! one JSON line (the script runs this example and prints the ratios):
//! - `bptt_ms`: one supervised BPTT iteration, GRU I = 16, H = 128, B = 64, T = 100, readout 4, MSE, Adam;
//! - `rollout_ms`: 64 reaching episodes × 150 steps with a GRU-128 policy;
//! - `update_ms`: 4 epochs × 4 minibatches of whole-episode PPO on that rollout.
//!
//! `cargo run --release --example time_training -- [repeats] [bptt|ppo]` (the second argument times one
//! part alone, for profiling); threads: `RAYON_NUM_THREADS` (the kernels)
//! and `REACHLAB_THREADS` (rollout workers), both defaulting to the number of cores.

use std::time::Instant;

use candle_core::DType;
use rand::{Rng, SeedableRng};
use reachlab::agents::{HeadKind, Policy, PolicyConfig, RolloutWorkers, TrainConfig, Trainer};
use reachlab::agents::{SupervisedBatch, SupervisedConfig, SupervisedTrainer};
use reachlab::envs::reach::{ReachConfig, ReachEnv};
use reachlab::envs::Env;

fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut t: Vec<f64> = (0..repeats)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    reachlab::agents::tune_allocator();
    // SAFETY: first thing in main, before any thread starts.
    unsafe { reachlab::agents::fix_kernel_threads(None) };
    let repeats: usize = std::env::args().nth(1).map_or(Ok(20), |s| s.parse())?;
    let threads: usize = std::env::var("REACHLAB_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);

    let only = std::env::args().nth(2).unwrap_or_default();
    let (t, b, i, o) = (100, 64, 16, 4);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut v = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let batch = SupervisedBatch::from_vecs(t, b, v(t * b * i), v(t * b * o), vec![1.0; t * b * o], DType::F32)?;
    let policy = Policy::new(&PolicyConfig::default(), i, HeadKind::Gaussian { dim: o })?;
    let mut sup = SupervisedTrainer::new(policy, SupervisedConfig::default())?;
    let bptt_ms = if only == "ppo" {
        f64::NAN
    } else {
        median_ms(repeats, || {
            sup.step(&batch).expect("BPTT step");
        })
    };
    if only == "bptt" {
        println!("{}", serde_json::json!({ "bptt_ms": bptt_ms }));
        return Ok(());
    }

    let config = TrainConfig {
        threads,
        ..TrainConfig::default()
    };
    let workers = RolloutWorkers::new(
        config.episodes_per_update,
        config.envs_per_block,
        config.threads,
        |_| Ok(ReachEnv::new(ReachConfig::default())?),
    )?;
    let env = workers.first_env();
    let policy = Policy::for_spaces(&PolicyConfig::default(), env.observation_space(), env.action_space())?;
    let rollout_cfg = config.rollout.clone();
    let mut trainer = Trainer::new(policy, config, workers)?;
    let mut seed = 0;
    let rollout_ms = median_ms(repeats, || {
        seed += 1;
        trainer.rollout(&rollout_cfg, seed).expect("rollout");
    });
    let ro = trainer.rollout(&rollout_cfg, 0)?;
    let update_ms = median_ms(repeats.div_ceil(2), || {
        trainer.learn(&ro, 0).expect("update");
    });
    println!(
        "{}",
        serde_json::json!({ "bptt_ms": bptt_ms, "rollout_ms": rollout_ms, "update_ms": update_ms })
    );
    Ok(())
}
