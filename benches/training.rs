//! Recurrent training workloads, the same as in `benches/compare/ppo_torch.py`:
//! - `bptt/gru_128`: one supervised BPTT iteration (I = 16, H = 128, B = 64, T = 100: forward, linear readout
//!   of 4, MSE, backward, Adam), the stack-notes micro-benchmark (PyTorch `nn.GRU` 39 ms there, 2 threads);
//! - `fused_gru/forward` and `fused_gru/backward`: the fused GRU op alone at that size, throughput in FLOPs
//!   (`Gelem/s` = GFLOP/s: 2·T·B·H·3H per product, one product forward, two backward), to set against the
//!   machine's peak (about 190 GFLOP/s f32 on 2 cores);
//! - `ppo/rollout` and `ppo/update`: one PPO iteration of the reaching task with a GRU-128 policy, 64 episodes
//!   × 150 steps, then 4 epochs × 4 minibatches of whole-episode BPTT.

use candle_core::DType;
use criterion::{Criterion, Throughput};
use rand::{Rng, SeedableRng};
use reachlab::agents::{HeadKind, Policy, PolicyConfig, RolloutWorkers, TrainConfig, Trainer};
use reachlab::agents::{SupervisedBatch, SupervisedConfig, SupervisedTrainer};
use reachlab::envs::reach::{ReachConfig, ReachEnv};
use reachlab::envs::Env;

pub fn bptt(c: &mut Criterion) {
    reachlab::agents::tune_allocator();
    let (t, b, i, o) = (100, 64, 16, 4);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut v = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let batch = SupervisedBatch::from_vecs(t, b, v(t * b * i), v(t * b * o), vec![1.0; t * b * o], DType::F32).unwrap();
    let policy = Policy::new(&PolicyConfig::default(), i, HeadKind::Gaussian { dim: o }).unwrap();
    let mut trainer = SupervisedTrainer::new(policy, SupervisedConfig::default()).unwrap();
    let mut group = c.benchmark_group("bptt");
    group.sample_size(20);
    group.throughput(Throughput::Elements((t * b) as u64));
    group.bench_function("gru_128", |bch| bch.iter(|| trainer.step(&batch).unwrap()));
    group.finish();
}

pub fn fused_gru(c: &mut Criterion) {
    use candle_core::{Device, Tensor, Var};
    use reachlab::agents::{CellKind, FusedRnn};
    reachlab::agents::tune_allocator();
    let (t, b, i, h) = (100, 64, 16, 128);
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1.0, (t, b, i), &dev).unwrap();
    let h0 = Tensor::zeros((b, h), DType::F32, &dev).unwrap();
    let w = Var::from_tensor(&Tensor::randn(0f32, 0.1, (3 * h, i + h + 2), &dev).unwrap()).unwrap();
    let flops = 2 * t * b * h * 3 * h;
    let mut group = c.benchmark_group("fused_gru");
    group.sample_size(20);
    group.throughput(Throughput::Elements(flops as u64));
    let forward = || {
        x.apply_op3(&h0, w.as_tensor(), FusedRnn::new(CellKind::Gru, h, 0))
            .unwrap()
    };
    group.bench_function("forward", |bch| bch.iter(forward));
    // The backward alone: one forward outside the timing, then candle's backward through the op.
    group.throughput(Throughput::Elements(2 * flops as u64));
    group.bench_function("backward", |bch| {
        bch.iter_batched(
            || forward().sum_all().unwrap(),
            |loss| loss.backward().unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

pub fn ppo(c: &mut Criterion) {
    let config = TrainConfig::default();
    let workers = RolloutWorkers::new(
        config.episodes_per_update,
        config.envs_per_block,
        config.threads,
        |_| Ok(ReachEnv::new(ReachConfig::default())?),
    )
    .unwrap();
    let env = workers.first_env();
    let policy = Policy::for_spaces(&PolicyConfig::default(), env.observation_space(), env.action_space()).unwrap();
    let rollout_cfg = config.rollout.clone();
    let mut trainer = Trainer::new(policy, config, workers).unwrap();
    let mut group = c.benchmark_group("ppo");
    group.sample_size(10);
    group.throughput(Throughput::Elements(64 * 150));
    let mut seed = 0;
    group.bench_function("rollout", |bch| {
        bch.iter(|| {
            seed += 1;
            trainer.rollout(&rollout_cfg, seed).unwrap()
        })
    });
    let ro = trainer.rollout(&rollout_cfg, 0).unwrap();
    group.bench_function("update", |bch| bch.iter(|| trainer.learn(&ro, 0).unwrap()));
    group.finish();
}
