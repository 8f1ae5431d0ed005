//! `analyze_run`: recompute a saved run's analysis (`analysis.json`), summary and figures from its files.
//!
//! ```sh
//! cargo run --release --bin analyze_run -- --run runs/curl_field-1764150000
//! ```

use std::path::PathBuf;

use clap::Parser;
use reachlab::scenarios::{analysis, plots, summary, Scenario};

#[derive(Parser)]
#[command(version, about = "Recompute the analysis, summary and figures of a saved run")]
struct Args {
    /// The run's folder (as written by train_agent).
    #[arg(long)]
    run: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scenario = Scenario::load(&args.run.join("scenario.toml"))?;
    let a = analysis::analyze(&scenario, &args.run)?;
    let s = summary::summarize(&scenario, &args.run)?;
    plots::draw_all(&scenario, &args.run)?;
    println!("{}", s.table());
    println!("{}", serde_json::to_string_pretty(&a)?);
    Ok(())
}
