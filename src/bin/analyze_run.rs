//! `analyze_run`: recompute a saved run's analysis (`analysis.json`), summary and figures from its files,
//! or tabulate finished runs side by side (their measures as a sweep collects them, any kind). On a
//! cognitive-task run it recomputes each unit's fixed points from its checkpoint and rewrites
//! `results.{csv,md}`.
//!
//! ```sh
//! cargo run --release --bin analyze_run -- --run runs/curl_field-1764150000
//! cargo run --release --bin analyze_run -- --compare runs/a runs/b runs/c
//! ```

use std::path::PathBuf;

use clap::Parser;
use reachlab::analysis::stats::mean_sem;
use reachlab::scenarios::builtin::AnyScenario;
use reachlab::scenarios::{launch, Observer};

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
    // SAFETY: first thing in main, before any thread starts.
    unsafe { reachlab::agents::fix_kernel_threads(None) };
    reachlab::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.compare.is_empty() {
        // Each run's measures, as its kind of experiment names them (a sweep's collection reads the same).
        let mut rows: Vec<Vec<(String, f64)>> = Vec::new();
        for d in &args.compare {
            let s = AnyScenario::load(&d.join("scenario.toml"))?;
            let m = s.experiment().measures(d)?;
            if let Some(first) = rows.first() {
                let names = |m: &[(String, f64)]| m.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
                if names(first) != names(&m) {
                    anyhow::bail!(
                        "{}: a {} run, not comparable with {}",
                        d.display(),
                        s.experiment().kind(),
                        args.compare[0].display()
                    );
                }
            }
            rows.push(m);
        }
        print!("{:<40}", "run");
        for (name, _) in &rows[0] {
            print!(" {name:>24}");
        }
        println!();
        for (d, r) in args.compare.iter().zip(&rows) {
            print!("{:<40}", d.display());
            for (_, v) in r {
                print!(" {v:>24.3}");
            }
            println!();
        }
        print!("{:<40}", "mean ± s.e.m.");
        for m in 0..rows[0].len() {
            let col: Vec<f64> = rows.iter().map(|r| r[m].1).collect();
            let ms = mean_sem(&col);
            print!(" {:>24}", format!("{:.3} ± {:.3}", ms.mean, ms.sem));
        }
        println!();
        return Ok(());
    }
    let run = args.run.expect("clap requires --run without --compare");
    // The same finish step a run ends with (`launch::finish`), on the saved files; the table only (the
    // full analysis is in the run's files).
    let outcome = launch::finish(&run, &mut Messages)?;
    let scenario = AnyScenario::load(&run.join("scenario.toml"))?;
    println!("{}", scenario.experiment().report(&run, &outcome));
    println!("results in {}", run.display());
    Ok(())
}

/// Prints what the finish step reports (an analysis that failed) to stderr.
struct Messages;
impl Observer for Messages {
    fn message(&mut self, text: &str) {
        eprintln!("{text}");
    }
}
