//! The one place that picks the kind of run: a scenario of either kind, with the settings a user gives on
//! the command line or from Python (a quick run, a seed, a list of seeds, threads), run or resumed into a
//! folder through its [`Experiment`](crate::experiment::Experiment). `train_agent`, `analyze_run` and
//! `reachlab.train` all call these.

use std::path::Path;

use crate::builtin::AnyScenario;
use crate::error::Result;
pub use crate::experiment::{Mode, Outcome, RunOptions, Settings};
use crate::observer::Observer;
use crate::units::UnitObservers;

/// Runs `any` into `dir` as `how` says: a new run, or the continuation of the run there (finished units
/// are skipped); `how.jobs` units at once where the scenario has several; `observer` follows a lone unit,
/// `units` makes one for each otherwise.
///
/// One rule for the folder, whatever the kind: a new run starts only in a folder that does not exist or
/// is empty; a folder that holds a run is continued only by [`Mode::Resume`] (a new run there is
/// refused, saying so); a folder that holds anything else is refused.
pub fn run(
    any: &AnyScenario,
    dir: &Path,
    how: RunOptions,
    observer: &mut dyn Observer,
    units: UnitObservers<'_>,
) -> Result<Outcome> {
    // Each run function holds the folder rule itself (`commit::check_folder`), called from here or not.
    any.experiment().run(dir, how, observer, units)
}

/// Recomputes what a finished run derives from its saved files (what `analyze_run --run` does): a
/// reaching run's analysis, figures and summary; every finished unit of a run over seeds, then its
/// findings; a task run's fixed points from each unit's checkpoint, then its report. An analysis that
/// fails (recordings missing, say) is an error here, and leaves the run's files as they were.
pub fn finish(dir: &Path, observer: &mut dyn Observer) -> Result<Outcome> {
    AnyScenario::load(&dir.join("scenario.toml"))?
        .experiment()
        .finish(dir, observer)
}
