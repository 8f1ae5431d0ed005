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
use reachlab::scenarios::{builtin, compare, CurveRow, Observer, Run, Scenario, StageSpec};

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
    /// A reduced run (small network, 3 updates per stage) for smoke tests.
    #[arg(long)]
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
    #[arg(long)]
    list_scenarios: bool,
    /// Print a built-in scenario with every default written out.
    #[arg(long, value_name = "NAME")]
    print_scenario: Option<String>,
}

/// Progress bars per stage, or JSON lines, or nothing.
struct Progress {
    quiet: bool,
    json: bool,
    bar: Option<ProgressBar>,
}

impl Observer for Progress {
    fn stage_started(&mut self, stage: &StageSpec, done: usize) {
        if self.quiet || self.json {
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
                row.success_rate,
                100.0 * row.mpd_trained
            ));
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

fn main() -> anyhow::Result<()> {
    reachlab::agents::tune_allocator();
    let args = Args::parse();
    if args.list_scenarios {
        for (name, desc) in builtin::list() {
            println!("{name:<20} {desc}");
        }
        return Ok(());
    }
    if let Some(name) = &args.print_scenario {
        print!("{}", builtin::resolve(name)?.to_toml());
        return Ok(());
    }
    let mut progress = Progress {
        quiet: args.quiet,
        json: args.json_logs,
        bar: None,
    };
    // A comparison scenario runs every arm × seed (resuming finished and unfinished ones alike).
    let resumed = match &args.resume {
        Some(dir) => Some(Scenario::load(&dir.join("scenario.toml"))?),
        None => None,
    };
    if let (Some(dir), Some(s)) = (&args.resume, &resumed) {
        if s.compare.is_some() {
            let rows = compare::run_compare(s, dir, &mut progress)?;
            println!("{}", compare::table(&rows));
            return Ok(());
        }
    }
    let run = if let Some(dir) = &args.resume {
        Run::resume(dir, &mut progress)?
    } else {
        let Some(name) = &args.scenario else {
            bail!("give --scenario NAME|FILE (see --list-scenarios) or --resume DIR");
        };
        let mut scenario: Scenario = builtin::resolve(name)?;
        if args.quick {
            scenario = scenario.quick();
        }
        if let Some(seed) = args.seed {
            scenario.seed = seed;
        }
        let out = args.out.clone().unwrap_or_else(|| {
            let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            PathBuf::from("runs").join(format!("{}-{t}", scenario.name))
        });
        if scenario.compare.is_some() {
            let rows = compare::run_compare(&scenario, &out, &mut progress)?;
            println!("{}", compare::table(&rows));
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
