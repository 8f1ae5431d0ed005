//! `analyze_run`: recompute a saved run's analysis (`analysis.json`), summary and figures from its files,
//! or tabulate finished runs side by side. On a cognitive-task run it recomputes each unit's fixed points
//! from its checkpoint and rewrites `results.{csv,md}`.
//!
//! ```sh
//! cargo run --release --bin analyze_run -- --run runs/curl_field-1764150000
//! cargo run --release --bin analyze_run -- --compare runs/a runs/b runs/c
//! ```

use std::path::PathBuf;

use clap::Parser;
use reachlab::analysis::stats::mean_sem;
use reachlab::scenarios::builtin::AnyScenario;
use reachlab::scenarios::{compare, launch, Observer};

#[derive(Parser)]
#[command(
    version,
    about = "Recompute the analysis, summary and figures of a saved run, or compare runs"
)]
struct Args {
    /// The run's folder (as written by train_agent).
    #[arg(long, required_unless_present = "compare")]
    run: Option<PathBuf>,
    /// Finished runs (e.g. seeds) to tabulate: each measure per run, then mean ± s.e.m.
    #[arg(long, num_args = 1.., conflicts_with = "run")]
    compare: Vec<PathBuf>,
}

fn main() -> std::process::ExitCode {
    reachlab::quiet_on_closed_pipe();
    reachlab::agents::fix_kernel_threads(None);
    reachlab::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.compare.is_empty() {
        let rows: Vec<[f64; 5]> = args
            .compare
            .iter()
            .map(|d| compare::measures(d))
            .collect::<Result<_, _>>()?;
        print!("{:<40}", "run");
        for m in compare::MEASURES {
            print!(" {m:>20}");
        }
        println!();
        for (d, r) in args.compare.iter().zip(&rows) {
            print!("{:<40}", d.display());
            for v in r {
                print!(" {v:>20.3}");
            }
            println!();
        }
        print!("{:<40}", "mean ± s.e.m.");
        for m in 0..compare::MEASURES.len() {
            let col: Vec<f64> = rows.iter().map(|r| r[m]).collect();
            let ms = mean_sem(&col);
            print!(" {:>20}", format!("{:.3} ± {:.3}", ms.mean, ms.sem));
        }
        println!();
        return Ok(());
    }
    let run = args.run.expect("clap requires --run without --compare");
    // The same finish step a run ends with (`launch::finish`), on the saved files.
    match launch::finish(&run, &mut Messages)? {
        launch::Outcome::Run(s) => {
            // The table only; the full analysis is in the run's analysis.json.
            println!("{}", s.table());
            println!("analysis: {}", run.join("analysis.json").display());
        }
        launch::Outcome::Seeds(rows) => {
            println!("{}", compare::table(&rows));
            println!("findings over seeds: {}", run.join("findings.md").display());
        }
        launch::Outcome::Tasks(results) => {
            if let AnyScenario::Tasks(s) = AnyScenario::load(&run.join("scenario.toml"))? {
                println!("{}", reachlab::scenarios::tasks::report::markdown(&s, &run, &results));
            }
        }
    }
    Ok(())
}

/// Prints what the finish step reports (an analysis that failed) to stderr.
struct Messages;
impl Observer for Messages {
    fn message(&mut self, text: &str) {
        eprintln!("{text}");
    }
}
