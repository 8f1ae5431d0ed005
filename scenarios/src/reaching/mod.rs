//! Reaching scenarios: a policy trained through the phases of a force field (baseline, learning,
//! washout, relearning), evaluated in blocks, analysed like a motor cortex, compared across arms × seeds.
//!
//! - [`config`](crate::Scenario): the scenario file (`[env]`, `[policy]`, `[train]`, `[[phase]]`,
//!   `[evaluation]`, `[[arm]]`, `seeds`), with errors that name the file, the key and the line.
//! - `run`: one unit, any effector (stages, evaluation blocks, recordings, checkpoints, resume).
//! - `metrics` and `expert`: the behaviour of a trial and the expert-baseline criterion.
//! - [`summary`]: `summary.json` and the end-of-run table.
//! - [`analysis`]: preparatory subspaces, TDR, shifts, θ_LW and preparatory fixed points (`analysis.json`).
//! - [`compare`]: arms × seeds through the same phases, compared (`comparison.csv`).
//! - [`findings`]: the published findings tested over seeds, and the reaching measures
//!   ([`findings::REACHING`]).
//! - `seed_figures`, `behaviour_figures`: the figures over seeds and of one unit's behaviour.

pub mod analysis;
pub(crate) mod behaviour_figures;
pub mod compare;
pub(crate) mod config;
pub(crate) mod expert;
pub mod findings;
pub(crate) mod metrics;
pub(crate) mod run;
pub(crate) mod seed_figures;
pub mod summary;
