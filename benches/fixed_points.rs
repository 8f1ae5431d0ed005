//! Fixed points of a 128-unit GRU (random weights, zero input) from 64 starts sampled along a driven
//! trajectory; throughput in starts per second. The scale: the reference method on PyTorch takes
//! ~2.9 ms per Adam iteration over 1024 starts (f32), ~15 s for 5000 iterations.

use criterion::{Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use reachlab::analysis::{find_fixed_points, Dynamics, FixedPointConfig, Gru};
use std::hint::black_box;

pub fn gru_128(c: &mut Criterion) {
    let (n, m, n_starts) = (128, 4, 64);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut v =
        |len: usize, s: f64| -> Vec<f64> { (0..len).map(|_| rng.sample::<f64, _>(StandardNormal) * s).collect() };
    let scale = 1.5 / (n as f64).sqrt();
    let gru = Gru::new(
        n,
        m,
        v(3 * n * m, 0.5),
        v(3 * n * n, scale),
        v(3 * n, 0.1),
        v(3 * n, 0.1),
    )
    .unwrap();
    let (mut h, mut next) = (vec![0.0; n], vec![0.0; n]);
    let mut starts = Vec::new();
    for t in 0..n_starts * 4 {
        let u: Vec<f64> = (0..m).map(|k| (t as f64 * 0.1 + k as f64).sin()).collect();
        gru.step(&h, &u, &mut next);
        std::mem::swap(&mut h, &mut next);
        if t % 4 == 3 {
            starts.push(h.clone());
        }
    }
    let mut group = c.benchmark_group("fixed_points");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n_starts as u64));
    group.bench_function("gru_128_64_starts", |b| {
        b.iter(|| find_fixed_points(&gru, &[0.0; 4], black_box(&starts), &FixedPointConfig::default()).unwrap())
    });
    group.finish();
}
