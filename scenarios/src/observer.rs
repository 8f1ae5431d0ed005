//! What a run tells whoever follows it (a progress bar, log lines, JSON lines, Python, a test), for
//! either kind of run: one trait, one stop convention.

use crate::reaching::config::StageSpec;
use crate::rows::{CurveRow, TaskCurveRow};

/// Receives a run's progress. Every method has a default that ignores it, so an observer implements
/// only what it shows: a reaching run calls the stage and update methods, a task run
/// [`Observer::evaluated`], both [`Observer::message`] and [`Observer::interrupt`].
pub trait Observer {
    /// A reaching run starts (or resumes, `done` updates in) a stage.
    fn stage_started(&mut self, _stage: &StageSpec, _done: usize) {}
    /// A reaching run made an update: its learning-curve row.
    fn updated(&mut self, _row: &CurveRow) {}
    /// A reaching run finished a stage.
    fn stage_finished(&mut self, _stage: &StageSpec) {}
    /// A task run evaluated the unit `unit` after `rows[0].update` of its `of_updates` steps: one row
    /// per task, then `mean` and `min`.
    fn evaluated(&mut self, _unit: &str, _rows: &[TaskCurveRow], _of_updates: usize) {}
    /// Something worth a line (a stage skipped, a unit finished, the analysis written).
    fn message(&mut self, _text: &str) {}
    /// Asked after every update (reaching) or evaluation (tasks): `true` stops the run there with
    /// [`crate::ScenarioError::Interrupted`], as a kill would; a later run in the same folder resumes it
    /// from its last checkpoint.
    fn interrupt(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;
impl Observer for Silent {}
