//! Cognitive-task experiments: a battery of tasks (Yang et al. 2019, Mod-Cog, the classic dynamics
//! benchmarks), one or several networks trained on it by supervised BPTT or by a policy gradient, per-task learning curves,
//! steps to criterion and the fixed points of the trained networks.
//!
//! - [`config`]: the scenario file (`[tasks]`, `[training]`, `[analysis]`, `[[arm]]`, `seeds`).
//! - `method`: the training methods behind one face (supervised BPTT, or PPO / A2C / REINFORCE in the
//!   decision env).
//! - [`run`]: training every arm × seed into a folder, resumable, with `learning_curve.csv` per unit.
//! - [`analysis`]: fixed points under zero or fixation input (through [`crate::core_dynamics`]).
//! - [`results`]: the rows and results a task run writes, and where its units are.
//! - [`report`]: `results.csv`, `results.md` and `figures/task_curves.*`.

pub mod analysis;
pub mod config;
mod method;
pub mod report;
pub mod results;
pub mod run;

pub use config::{Arm, BatchMode, PolicyGradient, TaskAnalysis, TaskMethod, TaskScenario, TaskTraining, TasksSpec};
pub use run::{resume_tasks, run_tasks, run_tasks_with, TaskCurveRow, UnitResult};
