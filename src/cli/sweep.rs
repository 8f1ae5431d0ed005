//! `train_agent --sweep`: one unit (`--unit`), every unit on a local pool, or a Slurm array.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use reachlab_scenarios::{launch, sweep};

use super::{unit_lines, Backend, Progress, TrainOptions};

/// `--sweep`: one unit (`--unit`), all units on a local pool, or a Slurm array.
pub(crate) fn run_sweep(args: &TrainOptions, file: &Path, progress: &mut Progress) -> anyhow::Result<()> {
    let spec = sweep::SweepSpec::load(file)?;
    let units = spec.units(file)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(format!("sweep-{}", spec.name)));
    if let Some(i) = args.unit {
        let Some(u) = units.iter().find(|u| u.index == i) else {
            bail!("the sweep has {} units; there is no unit {i}", units.len());
        };
        let dir = u.dir(&out);
        if u.finished(&out) {
            println!("unit {i} already finished in {}", dir.display());
            return Ok(());
        }
        // A unit is one run of either kind, started or resumed through its experiment.
        let settings = launch::Settings {
            threads: args.threads,
            ..Default::default()
        };
        let any = settings.apply(u.scenario.clone(), &format!("unit {i}"))?;
        let how = match dir.join("scenario.toml").exists() {
            true => launch::RunOptions::resume(false),
            false => launch::RunOptions::default(),
        };
        launch::run(&any, &dir, how, progress, &unit_lines(true, false))?;
        return Ok(());
    }
    sweep::write_manifest(&spec, &units, &out)?;
    let exe = std::env::current_exe()?;
    let sweep_file = std::fs::canonicalize(file)?;
    let out_abs = std::fs::canonicalize(&out)?;
    match args.backend {
        Backend::Slurm => {
            let cpus = 2;
            let script = out.join("sweep.sbatch");
            std::fs::write(
                &script,
                sweep::slurm_script(&exe, &sweep_file, &out_abs, units.len(), cpus),
            )?;
            println!("{} units; manifest and {} written", units.len(), script.display());
            if !args.dry_run {
                let st = std::process::Command::new("sbatch")
                    .arg("--parsable")
                    .arg(&script)
                    .output()
                    .with_context(|| {
                        format!(
                            "could not run `sbatch` (is Slurm installed here, and on PATH?); the script is \
                             written: submit {} from a login node, or use --dry-run",
                            script.display()
                        )
                    })?;
                if !st.status.success() {
                    bail!("sbatch failed: {}", String::from_utf8_lossy(&st.stderr));
                }
                println!("submitted array job {}", String::from_utf8_lossy(&st.stdout).trim());
                println!("when it is done: train_agent --collect {}", out.display());
            }
        }
        Backend::Local => {
            let todo = units.iter().filter(|u| !u.finished(&out)).count();
            let bar = (!args.quiet).then(|| {
                let b = ProgressBar::new(units.len() as u64);
                b.set_style(
                    ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} units, ETA {eta} {msg}")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                b.set_prefix("sweep");
                b.set_position((units.len() - todo) as u64);
                b
            });
            let failed = sweep::run_local(&exe, &sweep_file, &out_abs, &units, args.jobs, || {
                if let Some(b) = &bar {
                    b.inc(1);
                }
            });
            if let Some(b) = bar {
                b.finish();
            }
            let missing = reachlab_scenarios::population::collect(&out)?;
            println!(
                "{} units; summaries in {}",
                units.len(),
                out.join("collected.csv").display()
            );
            for (i, log) in failed {
                println!("unit {i} failed: see {}", log.display());
            }
            if !missing.is_empty() {
                bail!("{} units did not finish", missing.len());
            }
        }
    }
    Ok(())
}
