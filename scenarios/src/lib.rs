//! Whole experiments as data.
//!
//! - [`config`]: the scenario file (env, policy, training, pretraining, phases, evaluation), parsed with
//!   errors that name the file, the key, the line and the nearest valid key.
//! - [`analysis`]: preparatory subspaces, TDR, shifts and θ_LW from a run's recordings.
//! - [`builtin`]: the scenarios that ship with reachlab (`scenarios/builtin/*.toml`).
//! - [`compare`]: several arms (pretraining variants) × seeds through the same phases, compared.
//! - [`rows`]: the rows a reaching run writes (curve, trials, evaluation blocks) and measures of them
//!   alone: what runs, summaries and figures share.
//! - [`run`]: running a scenario into an output folder, and resuming a killed run exactly.
//! - [`findings`]: the reaching findings over seeds (mean [95 % CI], per-seed values, tests, verdicts).
//! - [`experiment`]: units (arm × seed) in their folders, run `jobs` at a time: shared by comparisons and
//!   task runs.
//! - [`expert`]: the expert-baseline criterion on a block of evaluation trials.
//! - [`launch`]: the one place that picks the kind of run (reaching, over seeds, tasks) and runs it.
//! - [`manifest`]: a sweep's manifest of units, and whether a unit has finished.
//! - [`memory`]: estimates of a run's largest buffers, refused before allocating when they cannot fit.
//! - [`metrics`]: behaviour of a reaching trial (MPD, curvature, reach time, channel force).
//! - [`json`]: reading back the JSON a run writes (NaN, written as `null`, comes back as NaN).
//! - [`commit`]: atomic checkpoints (weights, optimiser, counters and CSV row counts in one rename).
//! - [`output`]: CSV logs and the safetensors recordings of hidden states and behaviour.
//! - [`overrides`]: `--set key=value` on a scenario before it is parsed.
//! - [`sweep`]: sweep files (axes over scenario keys), units, the Slurm array script, collection.
//! - [`summary`]: `summary.json` and the end-of-run table.
//! - [`plots`]: learning curves and hand paths (PNG and SVG); a multi-seed experiment's
//!   `figures/seeds.png` (error through the phases with a CI band, uniform shift vs distance, θ_LW).

pub mod analysis;
mod behaviour_figures;
pub mod builtin;
pub mod commit;
pub mod compare;
pub mod config;
mod error;
pub mod experiment;
pub mod expert;
pub mod findings;
pub mod json;
pub mod launch;
pub mod manifest;
pub mod memory;
pub mod metrics;
pub mod output;
pub mod overrides;
mod pairwise;
pub mod plots;
pub mod rows;
pub mod run;
mod seed_figures;
pub mod summary;
pub mod sweep;
pub mod tasks;

pub use config::{EvaluationConfig, Scenario, StageSpec};
pub use error::{nearest, Result, ScenarioError};
pub use run::{CurveRow, Observer, Progress, Run, Silent, TrialRow};
pub use summary::Summary;
