//! Env-steps per second of the reaching env: single env, and a vector env of 64 and 1024 sub-envs
//! (synchronous, one core), point mass and two-link arm, observation noise off.

use criterion::{Bencher, BenchmarkId, Criterion, Throughput};
use reachlab::envs::reach::{EffectorConfig, FieldSpec, Phase, ReachConfig, ReachEnv, ReachOptions};
use reachlab::envs::{AutoresetMode, Env, SyncVecEnv, ThreadedVecEnv, VectorEnv};
use std::hint::black_box;

fn env(config: &ReachConfig) -> ReachEnv {
    let mut e = ReachEnv::new(config.clone()).unwrap();
    e.set_phase(Phase {
        field: FieldSpec::Curl { b: 10.0 },
        catch_prob: 0.1,
        channel_prob: 0.1,
        ..Phase::null("learning")
    })
    .unwrap();
    e
}

/// Resets `venv` once, then times one `step` of all its sub-envs with fixed, varied actions.
fn step_repeatedly<V: VectorEnv<Env = ReachEnv>>(b: &mut Bencher<'_>, mut venv: V) {
    let mut buf = venv.buffers();
    venv.reset(Some(0), &mut buf).unwrap();
    let n = venv.num_envs();
    let actions: Vec<[f32; 2]> = (0..n).map(|i| [(i % 7) as f32 - 3.0, (i % 5) as f32 - 2.0]).collect();
    b.iter(|| {
        venv.step(black_box(&actions), &mut buf).unwrap();
        black_box(&buf.obs);
    })
}

fn bench_effector(c: &mut Criterion, name: &str, config: ReachConfig) {
    let mut group = c.benchmark_group(name);
    // Single env: the cost of `step_into` alone (episodes auto-restart every 150 steps).
    group.throughput(Throughput::Elements(1));
    group.bench_function("single_env_step", |b| {
        let mut e = env(&config);
        let mut obs = vec![0.0; e.obs_dim()];
        e.reset_into(Some(0), &ReachOptions::default(), &mut obs).unwrap();
        let mut t = 0u32;
        b.iter(|| {
            t = t.wrapping_add(1);
            let a = [((t % 17) as f32 - 8.0) * 0.5, ((t % 13) as f32 - 6.0) * 0.5];
            let tr = e.step_into(black_box(&a), &mut obs).unwrap();
            if tr.terminated || tr.truncated {
                e.reset_into(None, &ReachOptions::default(), &mut obs).unwrap();
            }
            black_box(&obs);
        })
    });
    for n in [64usize, 1024] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("sync_vec_env_step", n), &n, |b, &n| {
            let venv = SyncVecEnv::new(n, AutoresetMode::NextStep, |_| Ok(env(&config))).unwrap();
            step_repeatedly(b, venv);
        });
    }
    group.finish();
}

pub fn point_mass(c: &mut Criterion) {
    bench_effector(c, "point_mass", ReachConfig::default());
}

pub fn two_link_arm(c: &mut Criterion) {
    let config = ReachConfig {
        effector: EffectorConfig::TwoLinkArm(Default::default()),
        ..ReachConfig::default()
    };
    bench_effector(c, "two_link_arm", config);
}

/// The threaded vector env, 1024 sub-envs on 1 and 2 workers: what the per-step hand-off costs for the
/// cheap point mass and what it buys for the arm.
pub fn threaded(c: &mut Criterion) {
    let arm = ReachConfig {
        effector: EffectorConfig::TwoLinkArm(Default::default()),
        ..ReachConfig::default()
    };
    let mut group = c.benchmark_group("threaded_vec_env_1024");
    let n = 1024;
    group.throughput(Throughput::Elements(n as u64));
    for (name, config) in [("point_mass", ReachConfig::default()), ("two_link_arm", arm)] {
        for threads in [1usize, 2] {
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                let venv = ThreadedVecEnv::new(n, threads, AutoresetMode::NextStep, |_| Ok(env(&config))).unwrap();
                step_repeatedly(b, venv);
            });
        }
    }
    group.finish();
}
