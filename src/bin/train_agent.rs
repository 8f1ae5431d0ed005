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
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use reachlab::scenarios::builtin::AnyScenario;
use reachlab::scenarios::tasks::{self, TaskCurveRow, TaskObserver, TaskScenario};
use reachlab::scenarios::{builtin, compare, sweep, CurveRow, Observer, Run, Scenario, StageSpec};

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
    /// (and arms) of a multi-seed or comparison scenario.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Threads for the kernels and the rollout workers together (default: one per core); results do not
    /// depend on it. A sweep's local backend gives each unit cores/jobs.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=4096))]
    threads: Option<u16>,
    /// Run the scenario for seeds 0..N (or the listed seeds, `0,3,5`) and report its findings over seeds
    /// (mean [95 % CI], per-seed values, tests): `findings.md` in the output folder.
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

/// Progress bars per stage, or JSON lines, or nothing.
struct Progress {
    quiet: bool,
    json: bool,
    bar: Option<ProgressBar>,
    /// Plain lines instead of bars when stderr is not a terminal (a log file, a cluster job): the stage
    /// and its size, and a line every tenth of it.
    lines: Option<(String, usize)>,
}

impl Progress {
    fn new(args: &Args) -> Self {
        use std::io::IsTerminal;
        let plain = !std::io::stderr().is_terminal() && !args.quiet && !args.json_logs;
        Progress {
            quiet: args.quiet,
            json: args.json_logs,
            bar: None,
            lines: plain.then(|| (String::new(), 0)),
        }
    }
}

impl Observer for Progress {
    fn stage_started(&mut self, stage: &StageSpec, done: usize) {
        if self.quiet || self.json {
            return;
        }
        if let Some(l) = &mut self.lines {
            *l = (stage.name.clone(), stage.updates);
            eprintln!("{}: up to {} updates (from {done})", stage.name, stage.updates);
            return;
        }
        let bar = ProgressBar::new(stage.updates as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} updates, ETA {eta} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(stage.name.clone());
        bar.set_position(done as u64);
        self.bar = Some(bar);
    }

    fn updated(&mut self, row: &CurveRow) {
        if self.json {
            println!("{}", serde_json::to_string(row).expect("rows serialise"));
        }
        if let Some(b) = &self.bar {
            b.set_position(row.stage_update as u64);
            b.set_message(format!(
                "success {:.2}, MPD {:+.2} cm",
                row.success_rate, row.mpd_trained_cm
            ));
        }
        if let Some((stage, of)) = &self.lines {
            let every = (of / 10).max(1);
            if row.stage_update.is_multiple_of(every) || row.stage_update == *of {
                eprintln!(
                    "{stage}: {}/{of} updates, success {:.2}, MPD {:+.2} cm, {:.0} s",
                    row.stage_update, row.success_rate, row.mpd_trained_cm, row.wall_seconds
                );
            }
        }
    }

    fn stage_finished(&mut self, _stage: &StageSpec) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
    }

    fn message(&mut self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None if !self.quiet && !self.json => eprintln!("{text}"),
            None => {}
        }
    }
}

impl TaskObserver for Progress {
    fn evaluated(&mut self, unit: &str, rows: &[TaskCurveRow], of_updates: usize) {
        let Some(last) = rows.last() else { return };
        if self.json {
            for r in rows {
                println!(
                    "{}",
                    serde_json::json!({"unit": unit, "update": r.update, "trials": r.trials, "task": r.task, "perf": r.perf, "loss": r.loss})
                );
            }
            return;
        }
        if self.quiet {
            return;
        }
        let mean = rows.iter().find(|r| r.task == "mean").map_or(f64::NAN, |r| r.perf);
        if self.lines.is_some() {
            eprintln!(
                "{unit}: {}/{of_updates} steps, mean perf {mean:.3}, min {:.3}, loss {:.4}",
                last.update, last.perf, last.loss
            );
            return;
        }
        if self.bar.as_ref().is_none_or(|b| b.prefix() != unit) {
            if let Some(b) = self.bar.take() {
                b.finish();
            }
            let bar = ProgressBar::new(of_updates as u64);
            bar.set_style(
                ProgressStyle::with_template("{prefix:>16} [{bar:30}] {pos}/{len} steps, ETA {eta} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(unit.to_string());
            self.bar = Some(bar);
        }
        if let Some(b) = &self.bar {
            b.set_position(last.update as u64);
            b.set_message(format!(
                "mean perf {mean:.3}, min {:.3}, loss {:.4}",
                last.perf, last.loss
            ));
        }
    }
}

/// `--seeds`: `N` (seeds 0..N) or a comma-separated list.
fn parse_seeds(text: &str) -> anyhow::Result<Vec<u64>> {
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

/// One line per stage of a unit run on a worker thread (`[arm/seed-k] stage: …`), or its rows as JSON.
struct UnitLines {
    label: String,
    quiet: bool,
    json: bool,
    last: Option<CurveRow>,
}

impl Observer for UnitLines {
    fn updated(&mut self, row: &CurveRow) {
        if self.json {
            let mut v = serde_json::to_value(row).expect("rows serialise");
            v["unit"] = self.label.clone().into();
            println!("{v}");
        }
        self.last = Some(row.clone());
    }

    fn stage_finished(&mut self, stage: &StageSpec) {
        if let (Some(r), false, false) = (&self.last, self.quiet, self.json) {
            eprintln!(
                "[{}] {}: {} updates, success {:.2}, MPD {:+.2} cm, {:.0} s",
                self.label, stage.name, r.stage_update, r.success_rate, r.mpd_trained_cm, r.wall_seconds
            );
        }
    }

    fn message(&mut self, text: &str) {
        if !self.quiet && !self.json {
            eprintln!("[{}] {text}", self.label);
        }
    }
}

/// The observers of units on worker threads.
fn unit_lines(args: &Args) -> impl Fn(&str) -> Box<dyn Observer + Send> + Sync {
    let (quiet, json) = (args.quiet, args.json_logs);
    move |label: &str| {
        Box::new(UnitLines {
            label: label.to_string(),
            quiet,
            json,
            last: None,
        })
    }
}

/// Trains a cognitive-task scenario into `out` (or resumes it there) and prints its table.
fn run_task_scenario(
    s: &TaskScenario,
    out: &std::path::Path,
    progress: &mut Progress,
    force: bool,
) -> anyhow::Result<()> {
    let results = tasks::run_tasks_with(s, out, progress, force)?;
    if let Some(b) = progress.bar.take() {
        b.finish();
    }
    if !progress.json {
        println!("{}", tasks::report::markdown(s, out, &results));
        println!("results in {}", out.display());
    }
    Ok(())
}

/// `--sweep`: one unit (`--unit`), all units on a local pool, or a Slurm array.
fn run_sweep(args: &Args, file: &std::path::Path, progress: &mut Progress) -> anyhow::Result<()> {
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
        match &u.scenario {
            AnyScenario::Tasks(s) => {
                tasks::run_tasks(s, &dir, progress)?;
            }
            AnyScenario::Reaching(s) => {
                let run = if dir.join("scenario.toml").exists() {
                    Run::resume(&dir, progress)?
                } else {
                    let mut s = s.as_ref().clone();
                    if let Some(n) = args.threads {
                        s.train.threads = usize::from(n);
                    }
                    Run::create(s, &dir, progress)?
                };
                run.run()?;
            }
        }
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
            let missing = sweep::collect(&out)?;
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

fn main() -> std::process::ExitCode {
    reachlab::quiet_on_closed_pipe();
    reachlab::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    reachlab::agents::tune_allocator();
    let args = Args::parse();
    // One thread setting for the kernels and the rollout workers, fixed before any thread starts.
    reachlab::agents::fix_kernel_threads(args.threads.map(usize::from));
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
        print!("{}", builtin::resolve_any(name)?.to_toml());
        return Ok(());
    }
    let mut progress = Progress::new(&args);
    if let Some(dir) = &args.collect {
        let missing = sweep::collect(dir)?;
        println!("collected into {}", dir.join("collected.csv").display());
        for (i, log) in &missing {
            println!("unit {i} has not finished: see {}", log.display());
        }
        return Ok(());
    }
    if let Some(file) = &args.sweep {
        return run_sweep(&args, file, &mut progress);
    }
    // A comparison scenario runs every arm × seed (resuming finished and unfinished ones alike).
    let resumed = match &args.resume {
        Some(dir) => match AnyScenario::load(&dir.join("scenario.toml"))? {
            AnyScenario::Tasks(s) => return run_task_scenario(&s, dir, &mut progress, args.force),
            AnyScenario::Reaching(s) => Some(*s),
        },
        None => None,
    };
    if let (Some(dir), Some(s)) = (&args.resume, &resumed) {
        if s.compare.is_some() {
            let rows = compare::run_compare(s, dir, args.jobs, &mut progress, &unit_lines(&args))?;
            println!("{}", compare::table(&rows));
            println!("findings over seeds: {}", dir.join("findings.md").display());
            return Ok(());
        }
    }
    let run = if let Some(dir) = &args.resume {
        Run::resume_with(dir, &mut progress, args.force)?
    } else {
        let Some(name) = &args.scenario else {
            bail!("give --scenario NAME|FILE (see --list-scenarios) or --resume DIR");
        };
        let mut scenario: Scenario = match builtin::resolve_any(name)? {
            AnyScenario::Reaching(s) => *s,
            AnyScenario::Tasks(s) => {
                let mut s = *s;
                if args.quick {
                    s = s.quick();
                }
                if let Some(seed) = args.seed {
                    s.seed = seed;
                    s.seeds.clear();
                }
                let out = args.out.clone().unwrap_or_else(|| {
                    let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                    PathBuf::from("runs").join(format!("{}-{t}", s.name))
                });
                return run_task_scenario(&s, &out, &mut progress, false);
            }
        };
        if args.quick {
            scenario = scenario.quick();
        }
        if let Some(seed) = args.seed {
            scenario.seed = seed;
        }
        if let Some(n) = args.threads {
            scenario.train.threads = usize::from(n);
        }
        if scenario.compare.is_some() && args.seed.is_some() {
            bail!("--seed does not apply to a scenario with [compare] seeds; give them with --seeds N|LIST");
        }
        if let Some(list) = &args.seeds {
            let seeds = parse_seeds(list)?;
            match &mut scenario.compare {
                Some(c) => c.seeds = seeds,
                None => {
                    scenario.compare = Some(compare::CompareSpec {
                        seeds,
                        arms: Vec::new(),
                    })
                }
            }
            scenario.validate(std::path::Path::new(name))?;
        }
        let out = args.out.clone().unwrap_or_else(|| {
            let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            PathBuf::from("runs").join(format!("{}-{t}", scenario.name))
        });
        if scenario.compare.is_some() {
            let rows = compare::run_compare(&scenario, &out, args.jobs, &mut progress, &unit_lines(&args))?;
            println!("{}", compare::table(&rows));
            println!("findings over seeds: {}", out.join("findings.md").display());
            println!("results in {}", out.display());
            return Ok(());
        }
        Run::create(scenario, &out, &mut progress).with_context(|| format!("starting a run in {}", out.display()))?
    };
    let dir = run.dir().to_owned();
    let summary = run.run()?;
    if !args.json_logs {
        println!("{}", summary.table());
        println!("results in {}", dir.display());
    }
    Ok(())
}
