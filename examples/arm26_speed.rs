//! Times reachlab's arm26 (MotorNet's `RigidTendonArm26`, see `envs/src/effector/arm26.rs`) for the
//! side-by-side comparison `benches/compare/arm26_reference.py --time`: one step of `batch` arms (one
//! core, one after the other), the same excitation pattern MotorNet is given, the median of `repeats`
//! timings of 100 steps. Prints one JSON line per batch size.
//!
//! `cargo run --release --example arm26_speed -- 1 1024`

use std::time::Instant;

use reachlab::envs::effector::arm26::{Arm26, Arm26Params, N_MUSCLES};

fn main() {
    let batches: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("batch sizes as integers"))
        .collect();
    let batches = if batches.is_empty() { vec![1, 1024] } else { batches };
    let repeats = 21;
    let steps = 100;
    for batch in batches {
        let mut arms: Vec<Arm26> = (0..batch)
            .map(|_| Arm26::new(Arm26Params::default(), 0.01, [0.75, 1.5]).expect("arm26 defaults are valid"))
            .collect();
        let mut times = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let started = Instant::now();
            for k in 0..steps {
                for (i, arm) in arms.iter_mut().enumerate() {
                    let mut u = [0.0; N_MUSCLES];
                    for (m, u) in u.iter_mut().enumerate() {
                        *u = 0.05 + 0.1 * (((k + i + m) % 7) as f64);
                    }
                    arm.step(std::hint::black_box(&u), [0.0; 2]);
                }
            }
            times.push(started.elapsed().as_secs_f64() / steps as f64);
            for arm in &mut arms {
                arm.reset([0.75, 1.5], [0.0; 2]).expect("inside the limits");
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"tool\": \"reachlab\", \"batch\": {batch}, \"step_us\": {:.3}}}",
            1e6 * times[repeats / 2]
        );
    }
}
