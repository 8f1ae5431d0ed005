//! The command-line front end of `train_agent`: the binary parses flags into [`TrainOptions`] and calls
//! [`train_agent`]; the progress output ([`Progress`], [`unit_lines`]) and the sweep backends live here.

mod progress;
mod sweep;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use reachlab_scenarios::builtin::{self, AnyScenario};
use reachlab_scenarios::launch;

pub use progress::{unit_lines, Progress};

/// Where a sweep's units run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// On this machine, `jobs` units at a time.
    #[default]
    Local,
    /// As a Slurm array (`sbatch`).
    Slurm,
}

/// Everything `train_agent` can be asked to do (its flags; see `train_agent --help`).
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    pub scenario: Option<String>,
    pub out: Option<PathBuf>,
    pub resume: Option<PathBuf>,
    pub force: bool,
    pub quick: bool,
    pub seed: Option<u64>,
    pub quiet: bool,
    pub json_logs: bool,
    pub list_scenarios: bool,
    pub print_scenario: Option<String>,
    pub sweep: Option<PathBuf>,
    pub backend: Backend,
    pub jobs: usize,
    pub threads: Option<usize>,
    pub seeds: Option<String>,
    /// `--set key=value` overrides of the scenario's keys.
    pub set: Vec<String>,
    pub unit: Option<usize>,
    pub dry_run: bool,
    pub collect: Option<PathBuf>,
}

/// `--seeds`: `N` (seeds 0..N) or a comma-separated list.
pub fn parse_seeds(text: &str) -> anyhow::Result<Vec<u64>> {
    if let Ok(n) = text.trim().parse::<u64>() {
        if n == 0 || n > 1000 {
            bail!("--seeds {n}: give 1 to 1000 seeds");
        }
        return Ok((0..n).collect());
    }
    text.split(',')
        .map(|t| {
            t.trim()
                .parse::<u64>()
                .with_context(|| format!("--seeds: `{t}` is not a seed"))
        })
        .collect()
}

/// Runs what the options ask for (a scenario, a resume, a comparison, a sweep, a listing).
pub fn train_agent(args: &TrainOptions) -> anyhow::Result<()> {
    reachlab_agents::tune_allocator();
    // One thread setting for the kernels and the rollout workers, fixed before any thread starts.
    // SAFETY: first thing in main, before any thread starts.
    unsafe { reachlab_agents::fix_kernel_threads(args.threads) };
    // Checked here: clap's `requires` let `--scenario X --unit 0` through (the unit was ignored).
    if args.sweep.is_none() && (args.unit.is_some() || args.dry_run) {
        anyhow::bail!("--unit and --dry-run apply to --sweep");
    }
    if args.force && args.resume.is_none() {
        anyhow::bail!("--force applies to --resume");
    }
    if args.dry_run && args.backend != Backend::Slurm {
        anyhow::bail!("--dry-run applies to --backend slurm (the local backend runs the units)");
    }
    if args.list_scenarios {
        for (name, desc) in builtin::list() {
            println!("{name:<20} {desc}");
        }
        return Ok(());
    }
    if let Some(name) = &args.print_scenario {
        print!("{}", builtin::resolve_any_with(name, &args.set)?.to_toml_printed());
        return Ok(());
    }
    let mut progress = Progress::new(args.quiet, args.json_logs);
    if let Some(dir) = &args.collect {
        let missing = reachlab_scenarios::population::collect(dir)?;
        println!("collected into {}", dir.join("collected.csv").display());
        for (i, log) in &missing {
            println!("unit {i} has not finished: see {}", log.display());
        }
        return Ok(());
    }
    if let Some(file) = &args.sweep {
        return sweep::run_sweep(args, file, &mut progress);
    }
    // One place picks the kind of run (`launch::run`); here only the folder and what to print.
    let (any, dir, resume) = match &args.resume {
        Some(dir) => (AnyScenario::load(&dir.join("scenario.toml"))?, dir.clone(), true),
        None => {
            let Some(name) = &args.scenario else {
                bail!("give --scenario NAME|FILE (see --list-scenarios) or --resume DIR");
            };
            let settings = launch::Settings {
                quick: args.quick,
                seed: args.seed,
                seeds: args.seeds.as_deref().map(parse_seeds).transpose()?,
                threads: args.threads,
            };
            let any = settings.apply(builtin::resolve_any_with(name, &args.set)?, name)?;
            let dir = args.out.clone().unwrap_or_else(|| {
                let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                PathBuf::from("runs").join(format!("{}-{t}", any.name()))
            });
            (any, dir, false)
        }
    };
    let mut progress = progress.named(any.name());
    let units = unit_lines(args.quiet, args.json_logs);
    let how = launch::RunOptions {
        mode: match resume {
            true => launch::Mode::Resume { force: args.force },
            false => launch::Mode::New,
        },
        jobs: args.jobs,
    };
    let outcome = launch::run(&any, &dir, how, &mut progress, &units)
        .with_context(|| format!("running {} in {}", any.name(), dir.display()))?;
    if let Some(b) = progress.bar.take() {
        b.finish();
    }
    if args.json_logs {
        return Ok(());
    }
    println!("{}", any.experiment().report(&dir, &outcome));
    println!("results in {}", dir.display());
    Ok(())
}
