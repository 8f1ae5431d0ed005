//! Whole experiments as data: a scenario (a TOML file, or a built-in) says what to train and how to
//! analyse it; [`launch::run`] runs it into a folder that can be resumed after a kill at any instant.
//!
//! ```
//! use reachlab_scenarios::{builtin, launch, Silent};
//! // A built-in task scenario with one key changed, reduced to a smoke test.
//! let s = builtin::resolve_any_with("flipflop", &["training.learning_rate=0.002".into()]).unwrap();
//! let s = launch::Settings { quick: true, ..Default::default() }.apply(s, "flipflop").unwrap();
//! let dir = std::env::temp_dir().join(format!("reachlab-doc-{}", std::process::id()));
//! let out = launch::run(&s, &dir, launch::RunOptions::default(), &mut Silent, &|_| Box::new(Silent)).unwrap();
//! assert!(matches!(out, launch::Outcome::Tasks(ref r) if r.len() == 1));
//! assert!(dir.join("results.md").is_file());
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! The design, from the file a user writes to the table they read (ARCHITECTURE.md has the picture and
//! which files a new effector, task, measure or training method touches):
//!
//! ```text
//! scenario (TOML)  →  units (arms × seeds, each a folder)  →  run (environment × training method)
//!                  →  measures (declared once per kind)     →  collection (comparison, findings, sweeps)
//! ```
//!
//! The two kinds, as peers:
//! - [`reaching`]: delayed centre-out reaching in a force field (any effector; PPO on the task reward, or
//!   training through a differentiable twin of the plant), analysed like a motor cortex.
//! - [`tasks`]: cognitive tasks (Yang et al., Mod-Cog, flip-flop, …) trained by supervised BPTT or by a
//!   policy gradient (PPO, A2C, REINFORCE) in the decision env.
//!
//! Starting and running either kind:
//! - [`builtin`]: the scenarios that ship with reachlab (`scenarios/builtin/*.toml`).
//! - [`overrides`]: `--set key=value` on a scenario before it is parsed (and the axes of sweeps).
//! - [`launch`]: the one place that picks the kind of run and runs it.
//! - [`experiment`]: the [`Experiment`](experiment::Experiment) trait both kinds implement (settings,
//!   units, run, finish, what a sweep collects).
//! - [`arms`]: an arm as a name and dotted-key overrides, for both kinds.
//! - [`units`]: units (arm × seed) in their folders, run `jobs` at a time: shared by every kind.
//! - [`observer`], [`lines`]: what a run tells whoever follows it; progress as plain or JSON lines.
//!
//! Reading what runs wrote, for every kind:
//! - [`measure`]: a unit's measures, declared once per kind ([`findings::REACHING`],
//!   [`tasks::results::TASKS`]).
//! - [`core_dynamics`]: the one bridge from any recurrent core to the analysis crate's `Dynamics`.
//! - [`sweep`]: sweep files (axes over scenario keys), units, the Slurm array script.
//! - [`population`]: a sweep's units collected: measures per group, SVCCA and DSA between the networks,
//!   their MDS map.
//! - [`json`]: reading back the JSON a run writes (NaN, written as `null`, comes back as NaN).
//! - [`plots`]: learning curves and hand paths (PNG and SVG).
//!
//! The reaching modules [`analysis`], [`compare`], [`findings`] and [`summary`] are also at the crate
//! root, where their paths have always been.
//!
//! Inside (private): `rows` (the rows runs write), `commit` (the run folder of every kind: atomic
//! checkpoints, whether a folder may be started in, the edits a resume refuses), `output` (CSV logs and
//! recordings), `manifest` (a sweep's units), `pairwise` (SVCCA and DSA between every pair of networks),
//! `memory` (buffers refused before they are allocated when they cannot fit).

pub mod arms;
pub mod builtin;
pub mod collection;
mod commit;
pub mod core_dynamics;
mod error;
pub mod experiment;
pub mod json;
pub mod launch;
pub mod lines;
mod manifest;
pub mod measure;
mod memory;
pub mod observer;
mod output;
pub mod overrides;
mod pairwise;
pub mod plots;
pub mod population;
pub mod reaching;
mod rows;
pub mod sweep;
pub mod tasks;
pub mod units;

// The reaching modules at the crate root as well, where their paths have always been.
pub use reaching::{analysis, compare, findings, summary};

pub use error::{nearest, Result, ScenarioError};
pub use observer::{Observer, Silent};
pub use reaching::config::{EvaluationConfig, Method, Scenario, StageSpec};
pub use reaching::run::{run_reaching, CurveRow, Progress, Run, RunOf, Start, TrialRow};
pub use rows::TaskCurveRow;
pub use summary::Summary;
