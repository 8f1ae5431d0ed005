//! Reaching with MotorNet's six-muscle arm, trained by reachlab's recurrent PPO through the effector
//! seam (`Reach<Arm26>`: 6 excitations in [0, 1], 19 observations with proprioception), the dense task
//! reward of `ReachConfig`'s defaults with the hold shortened to 100 ms. Prints one line per update.
//!
//! `cargo run --release --example arm26_ppo -- 100 0` (updates, seed)

use reachlab::agents::{Policy, PolicyConfig, RolloutWorkers, TrainConfig, Trainer};
use reachlab::envs::effector::{Arm26, Arm26Config};
use reachlab::envs::reach::{EffectorConfig, Reach, ReachConfig};
use reachlab::envs::Env;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    reachlab::agents::tune_allocator();
    // SAFETY: first thing in main, before any thread starts.
    unsafe { reachlab::agents::fix_kernel_threads(None) };
    let args: Vec<String> = std::env::args().collect();
    let updates: usize = args.get(1).map_or(Ok(100), |s| s.parse())?;
    let seed: u64 = args.get(2).map_or(Ok(0), |s| s.parse())?;
    let config = TrainConfig {
        seed,
        learning_rate: 1e-3,
        ..TrainConfig::default()
    };
    let workers = RolloutWorkers::new(
        config.episodes_per_update,
        config.envs_per_block,
        config.threads,
        |_| {
            let mut rc = ReachConfig {
                effector: EffectorConfig::Arm26(Arm26Config::default()),
                ..ReachConfig::default()
            };
            rc.reward.hold_time = 0.1;
            Ok(Reach::<Arm26>::new(rc)?)
        },
    )?;
    let env = workers.first_env();
    let policy = Policy::for_spaces(
        &PolicyConfig {
            init_seed: seed,
            init_action_std: 0.2,
            ..PolicyConfig::default()
        },
        env.observation_space(),
        env.action_space(),
    )?;
    let mut trainer = Trainer::new(policy, config, workers)?;
    let start = std::time::Instant::now();
    for _ in 0..updates {
        let s = trainer.update()?;
        println!(
            "update {:3}  t {:6.1}s  return {:8.3}  success {:5.2}  kl {:.4}",
            s.update,
            start.elapsed().as_secs_f64(),
            s.mean_return,
            s.success_rate,
            s.approx_kl,
        );
    }
    Ok(())
}
