//! Times one update of training through the plant on arm26 (reachlab's twin of MotorNet's
//! `RigidTendonArm26`, `agents/src/twin/arm26.rs`) for `benches/compare/arm26_plant_update.py`: a GRU
//! policy of `hidden` units, `batch` reaches of `steps` steps in closed loop through the twin, the loss
//! backpropagated and one Adam step, single-threaded. Prints one JSON line per batch size (the median of
//! `repeats` updates after one warm-up).
//!
//! `cargo run --release --example arm26_plant_speed -- 1 64 1024` (batch sizes; `STEPS`, `HIDDEN`,
//! `REPEATS` in the environment, default 100, 128, 5)

use std::time::Instant;

use candle_core::DType;
use reachlab::agents::{plant_bptt_step, Adam, HeadKind, PlantBpttConfig, Policy, PolicyConfig};
use reachlab::envs::effector::Arm26Config;
use reachlab::envs::reach::{EffectorConfig, Phase, ReachConfig};

fn env_var(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    reachlab::agents::tune_allocator();
    // SAFETY: first thing in main, before any thread starts.
    unsafe { reachlab::agents::fix_kernel_threads(Some(1)) };
    let batches: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("batch sizes as integers"))
        .collect();
    let batches = if batches.is_empty() { vec![1, 1024] } else { batches };
    let (steps, hidden, repeats) = (env_var("STEPS", 100), env_var("HIDDEN", 128), env_var("REPEATS", 5));
    let env = ReachConfig {
        effector: EffectorConfig::Arm26(Arm26Config::default()),
        trial_steps: steps as u32,
        ..ReachConfig::default()
    };
    let mut pc = PolicyConfig::default();
    pc.core.hidden = hidden;
    let obs = env.obs_dim() + 12;
    for batch in batches {
        let mut policy = Policy::with_dtype(&pc, obs, HeadKind::Gaussian { dim: 6 }, DType::F32)?;
        let mut opt = Adam::new(policy.params(), 1e-3, 1e-8)?;
        let cfg = PlantBpttConfig {
            batch,
            action_noise: 0.01,
            ..PlantBpttConfig::default()
        };
        let mut times = Vec::with_capacity(repeats);
        for k in 0..=repeats {
            let started = Instant::now();
            plant_bptt_step(
                &mut policy,
                &mut opt,
                &env,
                &Phase::null("baseline"),
                &cfg,
                &[],
                k as u64,
            )?;
            if k > 0 {
                times.push(started.elapsed().as_secs_f64());
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"tool\": \"reachlab\", \"batch\": {batch}, \"steps\": {steps}, \"hidden\": {hidden}, \"update_s\": {:.4}}}",
            times[repeats / 2]
        );
    }
    Ok(())
}
