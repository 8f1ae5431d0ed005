//! `train_agent`: run a scenario (pretraining, phases, evaluation, figures, summary) into a folder.
//!
//! ```sh
//! cargo run --release --bin train_agent -- --scenario curl_field
//! cargo run --release --bin train_agent -- --list-scenarios
//! cargo run --release --bin train_agent -- --print-scenario curl_field > my.toml
//! cargo run --release --bin train_agent -- --scenario my.toml --out runs/mine
//! cargo run --release --bin train_agent -- --resume runs/mine
//! ```

use std::path::PathBuf;

use clap::Parser;
use reachlab::cli::{Backend as SweepBackend, TrainOptions};

#[derive(Parser)]
#[command(
    version,
    about = "Train recurrent agents through a scenario's phases and analyse them"
)]
struct Args {
    /// A built-in scenario's name or a scenario file.
    #[arg(long)]
    scenario: Option<String>,
    /// Output folder (default: runs/<scenario>-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint.
    #[arg(long, conflicts_with_all = ["scenario", "out", "quick"])]
    resume: Option<PathBuf>,
    /// With --resume: continue even though scenario.toml was edited since the last checkpoint.
    #[arg(long, requires = "resume")]
    force: bool,
    /// A reduced run (small network, 3 updates per stage) for smoke tests (sweeps: `quick = true` in the
    /// sweep file).
    #[arg(long, conflicts_with = "sweep")]
    quick: bool,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Set a scenario key before the scenario is parsed (repeatable): `--set training.updates=200
    /// --set policy.core.kind=gru`; a number picks an array entry (`arm.1.core.hidden=128`). With
    /// --scenario and --print-scenario.
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with_all = ["resume", "sweep", "collect"])]
    set: Vec<String>,
    /// No progress bars; only the final table.
    #[arg(long)]
    quiet: bool,
    /// One JSON object per update on stdout (for clusters and log collectors).
    #[arg(long)]
    json_logs: bool,
    /// List the built-in scenarios.
    #[arg(long, conflicts_with_all = ["scenario", "out", "resume", "sweep", "collect", "print_scenario", "quick", "seed"])]
    list_scenarios: bool,
    /// Print a built-in scenario with every default written out.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["scenario", "out", "resume", "sweep", "collect", "quick"])]
    print_scenario: Option<String>,
    /// Run a sweep file: every unit (with --backend local), or submit them as a Slurm array.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["scenario", "resume"])]
    sweep: Option<PathBuf>,
    /// Where a sweep's units run.
    #[arg(long, value_enum, default_value = "local")]
    backend: Backend,
    /// Units run at once: sweep units on the local backend (each gets cores/jobs threads), or the seeds
    /// (and arms) of a multi-seed, comparison or task scenario.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Threads for the kernels and the rollout workers together (default: one per core); results do not
    /// depend on it. A sweep's local backend gives each unit cores/jobs.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=4096))]
    threads: Option<u16>,
    /// Run the scenario for seeds 0..N (or the listed seeds, `0,3,5`) and report over seeds: a reaching
    /// scenario's findings (mean [95 % CI], per-seed values, tests) in `findings.md`, a task scenario's
    /// results (mean ± s.e.m.) in `results.md`.
    #[arg(long, value_name = "N|LIST", conflicts_with_all = ["seed", "resume", "sweep"])]
    seeds: Option<String>,
    /// Run (or resume) only this unit of the sweep (what each Slurm array task does).
    #[arg(long, requires = "sweep")]
    unit: Option<usize>,
    /// With --backend slurm: write the manifest and the sbatch script, do not submit.
    #[arg(long, requires = "sweep")]
    dry_run: bool,
    /// Gather the summaries of a sweep's units in DIR into DIR/collected.csv.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["scenario", "resume", "sweep"])]
    collect: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    Local,
    Slurm,
}

fn main() -> std::process::ExitCode {
    reachlab::quiet_on_closed_pipe();
    reachlab::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let a = Args::parse();
    reachlab::cli::train_agent(&TrainOptions {
        scenario: a.scenario,
        out: a.out,
        resume: a.resume,
        force: a.force,
        quick: a.quick,
        seed: a.seed,
        quiet: a.quiet,
        json_logs: a.json_logs,
        list_scenarios: a.list_scenarios,
        print_scenario: a.print_scenario,
        sweep: a.sweep,
        backend: match a.backend {
            Backend::Local => SweepBackend::Local,
            Backend::Slurm => SweepBackend::Slurm,
        },
        jobs: a.jobs,
        threads: a.threads.map(usize::from),
        seeds: a.seeds,
        set: a.set,
        unit: a.unit,
        dry_run: a.dry_run,
        collect: a.collect,
    })
}
