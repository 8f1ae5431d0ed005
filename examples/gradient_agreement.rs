//! Do policy gradient and backpropagation through the plant push a policy the same way?
//!
//! At a fixed policy (a run's checkpoint), with the exploration noise equal to the plant's motor noise,
//! this prints the cosine of the pathwise and the likelihood-ratio gradients of the shared objective
//! (`reachlab::agents::agreement`) over the actor's parameters, in the null field and in a phase's field,
//! and that of two independent pathwise estimates, for scale.
//!
//! ```sh
//! cargo run --release --example gradient_agreement -- RUN_DIR [STAGE_CHECKPOINT] [PHASE] [TRIALS]
//! # e.g. after `train_agent --scenario curl_field_plant --out runs/plant`:
//! cargo run --release --example gradient_agreement -- runs/plant baseline learning 4096
//! ```

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candle_core::DType;
use reachlab::agents::agreement::{cosine, likelihood_ratio_ascent, pathwise_ascent};
use reachlab::agents::load_checkpoint;
use reachlab::scenarios::Scenario;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(run) = args.first().map(PathBuf::from) else {
        bail!("usage: gradient_agreement RUN_DIR [STAGE_CHECKPOINT] [PHASE] [TRIALS]");
    };
    let stage = args.get(1).map_or("baseline", String::as_str);
    let phase_name = args.get(2).map_or("learning", String::as_str);
    let trials: usize = args.get(3).map_or(Ok(4096), |s| s.parse())?;
    let s = Scenario::load(&run.join("scenario.toml"))?;
    let (policy, _) = load_checkpoint(&run.join("checkpoints").join(stage))?;
    let noise = policy
        .log_std()
        .context("a Gaussian head")?
        .to_dtype(DType::F64)?
        .exp()?
        .to_vec1::<f64>()?;
    println!(
        "policy: {} ({stage}); exploration σ = {noise:.3?} N, plant motor noise {} N; {trials} trials per estimate",
        run.display(),
        s.plant_bptt.action_noise
    );
    let field = s
        .phases
        .iter()
        .find(|p| p.name == phase_name)
        .with_context(|| format!("no phase `{phase_name}`"))?
        .phase();
    let null = reachlab::envs::reach::Phase {
        channel_prob: field.channel_prob,
        ..reachlab::envs::reach::Phase::null("null")
    };
    for (label, phase) in [("null field", &null), (phase_name, &field)] {
        let started = std::time::Instant::now();
        let noise = s.plant_bptt.action_noise;
        let p1 = pathwise_ascent(&policy, &s.env, phase, trials, noise, 1)?;
        let p2 = pathwise_ascent(&policy, &s.env, phase, trials, noise, 1 << 20)?;
        let lr = likelihood_ratio_ascent(&policy, &s.env, phase, trials, 7)?;
        println!(
            "{label:<12} cos(likelihood ratio, pathwise) = {:.3}   cos(pathwise, pathwise') = {:.3}   ({:.1} s)",
            cosine(&lr, &p1),
            cosine(&p1, &p2),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
