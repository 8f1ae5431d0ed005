//! The Rust half of `benches/compare/fixed_points_torch.py`: takes a trained task run (a GRU), draws 1024
//! starts from its states on the evaluation trials, writes the weights and starts to a safetensors file for
//! the PyTorch twin, and times `find_fixed_points` on them (median of 3).
//!
//! ```sh
//! cargo run --release --bin train_agent -- --scenario flipflop --out runs/ff
//! cargo run --release --example fixed_point_compare -- runs/ff /tmp/fp.safetensors
//! python benches/compare/fixed_points_torch.py /tmp/fp.safetensors
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use candle_core::{Device, Tensor};
use reachlab::analysis::{find_fixed_points, Dynamics, FixedPointConfig, Gru, Stability};
use reachlab::scenarios::tasks::analysis::states;
use reachlab::scenarios::tasks::run::eval_batch;
use reachlab::scenarios::tasks::TaskScenario;

/// A GRU in PyTorch's layout (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, row-major) and its input size.
struct GruWeights {
    n: usize,
    m: usize,
    w_ih: Vec<f64>,
    w_hh: Vec<f64>,
    b_ih: Vec<f64>,
    b_hh: Vec<f64>,
}

/// The trained GRU of a task run, and `n_starts` of its states on the evaluation trials.
fn trained(run: &std::path::Path, n_starts: usize) -> anyhow::Result<(GruWeights, Vec<Vec<f64>>)> {
    let s = TaskScenario::load(&run.join("scenario.toml"))?;
    let set = s.tasks.task_set()?;
    let (policy, _) = reachlab::agents::load_checkpoint(&run.join("checkpoints").join("latest"))?;
    anyhow::ensure!(
        policy.config().core.kind == reachlab::agents::CoreKind::Gru,
        "the comparison uses a GRU"
    );
    let b = eval_batch(&set, 0, s.training.eval_trials_per_task.max(64))?;
    let (st, sw) = states(&policy, &b)?;
    let total = st.len() / sw;
    let stride = (total / n_starts).max(1);
    let starts = (0..total)
        .step_by(stride)
        .take(n_starts)
        .map(|i| st[i * sw..(i + 1) * sw].iter().map(|&x| f64::from(x)).collect())
        .collect();
    let p = policy.params();
    let get = |k: &str| -> anyhow::Result<Vec<f64>> {
        Ok(p.get(&format!("actor.{k}"))
            .ok_or_else(|| anyhow::anyhow!("no {k}"))?
            .as_tensor()
            .to_dtype(candle_core::DType::F64)?
            .flatten_all()?
            .to_vec1()?)
    };
    let w = GruWeights {
        n: sw,
        m: policy.obs_dim(),
        w_ih: get("weight_ih_l0")?,
        w_hh: get("weight_hh_l0")?,
        b_ih: get("bias_ih_l0")?,
        b_hh: get("bias_hh_l0")?,
    };
    Ok((w, starts))
}

/// A multistable GRU-128 with no training: PyTorch's initialisation (U(±1/√n)) except the candidate's
/// recurrent block `W_hn`, which is `gain`·(A + Aᵀ)/√(2n) with A standard normal: symmetric coupling above
/// gain 1 gives a Hopfield-like landscape of many stable fixed points and saddles between them. The
/// starts are states of 1024 trajectories from uniform random states in [−1, 1]ⁿ, each taken after
/// 0–49 steps (drawn), as FixedPointFinder users sample states of the network's own trajectories.
fn random_gru(gain: f64, seed: u64, n_starts: usize) -> anyhow::Result<(GruWeights, Vec<Vec<f64>>)> {
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};
    let (n, m) = (128, 1);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let k = 1.0 / (n as f64).sqrt();
    let mut uni = |len: usize| -> Vec<f64> { (0..len).map(|_| rng.random_range(-k..k)).collect() };
    let (w_ih, mut w_hh, b_ih, b_hh) = (uni(3 * n * m), uni(3 * n * n), uni(3 * n), uni(3 * n));
    let a: Vec<f64> = (0..n * n).map(|_| StandardNormal.sample(&mut rng)).collect();
    let scale = gain / (2.0 * n as f64).sqrt();
    for i in 0..n {
        for j in 0..n {
            w_hh[2 * n * n + i * n + j] = scale * (a[i * n + j] + a[j * n + i]);
        }
    }
    let w = GruWeights {
        n,
        m,
        w_ih,
        w_hh,
        b_ih,
        b_hh,
    };
    let gru = Gru::new(n, m, w.w_ih.clone(), w.w_hh.clone(), w.b_ih.clone(), w.b_hh.clone())?;
    let u = vec![0.0; m];
    let mut next = vec![0.0; n];
    let starts = (0..n_starts)
        .map(|_| {
            let mut h: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            for _ in 0..rng.random_range(0..50) {
                gru.step(&h, &u, &mut next);
                h.copy_from_slice(&next);
            }
            h
        })
        .collect();
    Ok((w, starts))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n_starts = 1024;
    let (w, starts, out) = if args.first().map(String::as_str) == Some("--random-gru") {
        let gain: f64 = args.get(1).map_or(Ok(2.0), |g| g.parse())?;
        let out = PathBuf::from(
            args.get(2)
                .cloned()
                .unwrap_or_else(|| "/tmp/fp_random.safetensors".into()),
        );
        let (w, starts) = random_gru(gain, 0, n_starts)?;
        (w, starts, out)
    } else {
        let run = PathBuf::from(args.first().cloned().unwrap_or_else(|| "runs/ff".into()));
        let out = PathBuf::from(args.get(1).cloned().unwrap_or_else(|| "/tmp/fp.safetensors".into()));
        let (w, starts) = trained(&run, n_starts)?;
        (w, starts, out)
    };
    let sw = w.n;
    let dynamics = Gru::new(w.n, w.m, w.w_ih.clone(), w.w_hh.clone(), w.b_ih.clone(), w.b_hh.clone())?;
    let u = vec![0.0; w.m];
    let cfg = FixedPointConfig::default();
    let mut times = Vec::new();
    let mut found = None;
    for _ in 0..3 {
        let t0 = Instant::now();
        let r = find_fixed_points(&dynamics, &u, &starts, &cfg)?;
        times.push(t0.elapsed().as_secs_f64());
        found = Some(r);
    }
    times.sort_by(f64::total_cmp);
    let r = found.expect("ran");
    let fixed = r.points.iter().filter(|p| p.converged).count();
    let stable = r
        .points
        .iter()
        .filter(|p| p.converged && p.stability == Stability::Stable)
        .count();
    // Weights and starts for the PyTorch twin (f64).
    let flat: Vec<f64> = starts.iter().flatten().copied().collect();
    let cpu = &Device::Cpu;
    let mut m = HashMap::new();
    m.insert(
        "weight_ih_l0".to_string(),
        Tensor::from_slice(&w.w_ih, (3 * w.n, w.m), cpu)?,
    );
    m.insert(
        "weight_hh_l0".to_string(),
        Tensor::from_slice(&w.w_hh, (3 * w.n, w.n), cpu)?,
    );
    m.insert("bias_ih_l0".to_string(), Tensor::from_slice(&w.b_ih, 3 * w.n, cpu)?);
    m.insert("bias_hh_l0".to_string(), Tensor::from_slice(&w.b_hh, 3 * w.n, cpu)?);
    m.insert(
        "starts".to_string(),
        Tensor::from_vec(flat, (starts.len(), sw), &Device::Cpu)?,
    );
    candle_core::safetensors::save(&m, &out)?;
    // What each start ended as, as the PyTorch twin counts them: a fixed point, a slow point, or nothing
    // (outliers, which went far from the states, count as nothing there too).
    println!(
        "{{\"tool\": \"reachlab\", \"starts\": {}, \"hidden\": {sw}, \"seconds_median_of_3\": {:.3}, \"converged_starts\": {}, \"slow_starts\": {}, \"nothing_starts\": {}, \"fixed\": {fixed}, \"stable\": {stable}, \"unique_points\": {}}}",
        starts.len(),
        times[1],
        r.n_converged,
        r.n_slow,
        r.n_failed + r.n_outliers,
        r.points.len(),
    );
    println!("wrote {}", out.display());
    Ok(())
}
