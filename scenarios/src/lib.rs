//! Whole experiments as data: a scenario (a TOML file, or a built-in) says what to train and how to
//! analyse it; [`launch::run`] runs it into a folder that can be resumed after a kill at any instant.
//!
//! ```
//! use reachlab_scenarios::{builtin, launch, Silent};
//! // A built-in task scenario with one key changed, reduced to a smoke test.
//! let s = builtin::resolve_any_with("flipflop", &["training.learning_rate=0.002".into()]).unwrap();
//! let s = launch::Settings { quick: true, ..Default::default() }.apply(s, "flipflop").unwrap();
//! let dir = std::env::temp_dir().join(format!("reachlab-doc-{}", std::process::id()));
//! let out = launch::run(&s, &dir, false, false, 1, &mut Silent, &|_| Box::new(Silent)).unwrap();
//! assert!(matches!(out, launch::Outcome::Tasks(ref r) if r.len() == 1));
//! assert!(dir.join("results.md").is_file());
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! Starting and describing a run:
//! - [`builtin`]: the scenarios that ship with reachlab (`scenarios/builtin/*.toml`).
//! - [`overrides`]: `--set key=value` on a scenario before it is parsed (and the axes of sweeps).
//! - [`launch`]: the one place that picks the kind of run (reaching, over seeds, tasks) and runs it.
//! - [`observer`]: what a run of either kind tells whoever follows it.
//! - [`lines`]: progress as plain lines (logs, clusters, worker threads, Python) or JSON lines.
//! - [`experiment`]: the [`Experiment`](experiment::Experiment) trait both kinds implement (settings,
//!   units, run, finish, what a sweep collects).
//! - [`units`]: units (arm × seed) in their folders, run `jobs` at a time: shared by every kind.
//! - [`compare`]: several arms (pretraining variants) × seeds through the same phases, compared.
//! - [`tasks`]: cognitive-task scenarios (Yang et al., Mod-Cog, flip-flop) trained by supervised BPTT.
//! - [`sweep`]: sweep files (axes over scenario keys), units, the Slurm array script.
//! - [`population`]: a sweep's units collected: measures per group, SVCCA and DSA between the networks,
//!   their MDS map (every kind).
//!
//! Reading what a run wrote:
//! - [`summary`]: `summary.json` and the end-of-run table.
//! - [`analysis`]: preparatory subspaces, TDR, shifts and θ_LW from a run's recordings (`analysis.json`).
//! - [`core_dynamics`]: the one bridge from any recurrent core to the analysis crate's `Dynamics`.
//! - [`json`]: reading back the JSON a run writes (NaN, written as `null`, comes back as NaN).
//! - [`plots`]: learning curves and hand paths (PNG and SVG); a multi-seed experiment's
//!   `figures/seeds.png` (error through the phases with a CI band, uniform shift vs distance, θ_LW).
//!
//! Inside (private): `config` (the scenario file, with errors that name the file, the key, the line and
//! the nearest valid key), `run` (a reaching run: stages, evaluation blocks, checkpoints, resume),
//! `rows` (the rows runs write), `commit` (the run folder of every kind: atomic checkpoints, whether a
//! folder may be started in, the edits a resume refuses), `output` (CSV logs and recordings),
//! `metrics` and `expert` (behaviour of a trial and the expert-baseline criterion), `findings` (the
//! reaching findings over seeds), `manifest` (a sweep's units), `pairwise` (SVCCA and DSA between every
//! pair of networks), `memory` (buffers refused before they are allocated when they cannot fit).

pub mod analysis;
mod behaviour_figures;
pub mod builtin;
mod commit;
pub mod compare;
mod config;
pub mod core_dynamics;
mod error;
pub mod experiment;
mod expert;
mod findings;
pub mod json;
pub mod launch;
pub mod lines;
mod manifest;
mod memory;
mod metrics;
pub mod observer;
mod output;
pub mod overrides;
mod pairwise;
pub mod plots;
pub mod population;
mod rows;
mod run;
mod seed_figures;
pub mod summary;
pub mod sweep;
pub mod tasks;
pub mod units;

pub use config::{EvaluationConfig, Scenario, StageSpec};
pub use error::{nearest, Result, ScenarioError};
pub use observer::{Observer, Silent};
pub use rows::TaskCurveRow;
pub use run::{run_reaching, CurveRow, Progress, Run, RunEffector, RunOf, Start, TrialRow};
pub use summary::Summary;
