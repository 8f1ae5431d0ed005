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
use reachlab::analysis::{find_fixed_points, FixedPointConfig, Stability};
use reachlab::scenarios::tasks::analysis::{core_dynamics, states};
use reachlab::scenarios::tasks::run::eval_batch;
use reachlab::scenarios::tasks::TaskScenario;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let run = PathBuf::from(args.next().unwrap_or_else(|| "runs/ff".into()));
    let out = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/fp.safetensors".into()));
    let n_starts = 1024;
    let s = TaskScenario::load(&run.join("scenario.toml"))?;
    let set = s.tasks.task_set()?;
    let (policy, _) = reachlab::agents::load_checkpoint(&run.join("checkpoints").join("latest"))?;
    anyhow::ensure!(
        policy.config().core.kind == reachlab::agents::CoreKind::Gru,
        "the comparison uses a GRU"
    );
    let dynamics = core_dynamics(&policy)?;
    let b = eval_batch(&set, 0, s.training.eval_trials_per_task.max(64))?;
    let (st, sw) = states(&policy, &b)?;
    let total = st.len() / sw;
    let stride = (total / n_starts).max(1);
    let starts: Vec<Vec<f64>> = (0..total)
        .step_by(stride)
        .take(n_starts)
        .map(|i| st[i * sw..(i + 1) * sw].iter().map(|&x| f64::from(x)).collect())
        .collect();
    let u = vec![0.0; policy.obs_dim()];
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
    let p = policy.params();
    let get = |k: &str| -> anyhow::Result<Tensor> {
        Ok(p.get(k)
            .ok_or_else(|| anyhow::anyhow!("no {k}"))?
            .as_tensor()
            .to_dtype(candle_core::DType::F64)?)
    };
    let flat: Vec<f64> = starts.iter().flatten().copied().collect();
    let mut m = HashMap::new();
    for k in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"] {
        m.insert(k.to_string(), get(&format!("actor.{k}"))?);
    }
    m.insert(
        "starts".to_string(),
        Tensor::from_vec(flat, (starts.len(), sw), &Device::Cpu)?,
    );
    candle_core::safetensors::save(&m, &out)?;
    // What each start ended as, as the PyTorch twin counts them: a fixed point, a slow point, or nothing
    // (outliers, which went far from the states, count as nothing there too).
    let slow = starts.len() - r.n_converged - r.n_outliers - r.n_failed;
    println!(
        "{{\"tool\": \"reachlab\", \"starts\": {}, \"hidden\": {sw}, \"seconds_median_of_3\": {:.3}, \"converged_starts\": {}, \"slow_starts\": {slow}, \"nothing_starts\": {}, \"fixed\": {fixed}, \"stable\": {stable}, \"unique_points\": {}}}",
        starts.len(),
        times[1],
        r.n_converged,
        r.n_failed + r.n_outliers,
        r.points.len(),
    );
    println!("wrote {}", out.display());
    Ok(())
}
