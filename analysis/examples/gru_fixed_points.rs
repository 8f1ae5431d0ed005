//! Times the fixed-point finder on a random 128-unit GRU (weights ~ N(0, 1/n), zero input), from starts
//! sampled along a driven trajectory.
//! Run: `cargo run --release -p reachlab-analysis --example gru_fixed_points -- STARTS [NEWTON_THRESHOLD]`

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use reachlab_analysis::{find_fixed_points, Dynamics, FixedPointConfig, Gru};

fn main() {
    let n_starts: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    let (n, m) = (128, 4);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let scale = 1.0 / (n as f64).sqrt();
    let mut v =
        |len: usize, s: f64| -> Vec<f64> { (0..len).map(|_| rng.sample::<f64, _>(StandardNormal) * s).collect() };
    let gru = Gru::new(
        n,
        m,
        v(3 * n * m, 0.5),
        v(3 * n * n, 1.5 * scale),
        v(3 * n, 0.1),
        v(3 * n, 0.1),
    )
    .unwrap();
    let mut h = vec![0.0; n];
    let mut next = vec![0.0; n];
    let mut starts = Vec::new();
    for t in 0..n_starts * 4 {
        let u: Vec<f64> = (0..m).map(|k| ((t as f64) * 0.1 + k as f64).sin()).collect();
        gru.step(&h, &u, &mut next);
        std::mem::swap(&mut h, &mut next);
        if t % 4 == 3 {
            starts.push(h.clone());
        }
    }
    let t0 = std::time::Instant::now();
    let threshold: f64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(1e-6);
    let cfg = FixedPointConfig {
        newton_threshold: threshold,
        ..FixedPointConfig::default()
    };
    let found = find_fixed_points(&gru, &vec![0.0; m], &starts, &cfg).unwrap();
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{n_starts} starts: {:.3} s ({:.2} ms/start); {} unique points, {} stable, {} converged starts, {} failed",
        secs,
        secs * 1e3 / n_starts as f64,
        found.points.len(),
        found.n_stable(),
        found.n_converged,
        found.n_failed
    );
}
