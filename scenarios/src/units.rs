//! What every kind of experiment shares: a scenario expands into units (an arm × a seed), each run into
//! its own folder, `jobs` at a time, with the results in unit order whatever the number of jobs. Reaching
//! comparisons ([`crate::reaching::compare`]) and task runs ([`crate::tasks`]) both run their units through
//! [`run_units`]; a unit's folder is [`Unit::dir`], `<run>/<arm>/seed-<seed>`.
//!
//! ```
//! use reachlab_scenarios::units::{run_units, Unit};
//! let root = std::path::Path::new("runs/x");
//! let units: Vec<Unit> = ["a", "b"].iter().flat_map(|arm| (0..3).map(move |s| Unit::new(root, arm, s))).collect();
//! assert_eq!(units[4].dir, root.join("b").join("seed-1"));
//! // The same results in the same order, one job or three.
//! let seq = run_units(&units, 1, &mut |u| Ok(u.label()), &|u| Ok(u.label())).unwrap();
//! let par = run_units(&units, 3, &mut |u| Ok(u.label()), &|u| Ok(u.label())).unwrap();
//! assert_eq!(seq, par);
//! assert_eq!(seq[4], "b/seed-1");
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::Result;
use crate::observer::Observer;

/// How a run starts in its folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// A new run, in a folder that does not exist or is empty.
    #[default]
    New,
    /// Continue the run the folder holds; with `force`, even though its scenario.toml was edited since
    /// its last checkpoint.
    Resume { force: bool },
}

/// How to run a scenario: new or resumed, and how many units at once where it has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    pub mode: Mode,
    /// Units run at once (1: one after the other; results do not depend on it).
    pub jobs: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            mode: Mode::New,
            jobs: 1,
        }
    }
}

impl RunOptions {
    /// Continue the run (`force`: even though its settings were edited since the last checkpoint).
    pub fn resume(force: bool) -> Self {
        RunOptions {
            mode: Mode::Resume { force },
            ..Self::default()
        }
    }

    pub fn is_resume(&self) -> bool {
        matches!(self.mode, Mode::Resume { .. })
    }

    pub fn force(&self) -> bool {
        matches!(self.mode, Mode::Resume { force: true })
    }
}

/// One run of an experiment: an arm (a variant of the scenario) and a seed, in its own folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub arm: String,
    pub seed: u64,
    pub dir: PathBuf,
}

impl Unit {
    /// The unit of `arm` and `seed` in the experiment folder `root`: `<root>/<arm>/seed-<seed>`.
    pub fn new(root: &Path, arm: &str, seed: u64) -> Self {
        Unit {
            arm: arm.to_string(),
            seed,
            dir: root.join(arm).join(format!("seed-{seed}")),
        }
    }

    /// `arm/seed-k`: how progress lines and logs name the unit.
    pub fn label(&self) -> String {
        format!("{}/seed-{}", self.arm, self.seed)
    }
}

/// An observer of one unit on a worker thread, for either kind of run.
pub trait UnitObserver: Observer + Send {}
impl<T: Observer + Send> UnitObserver for T {}

/// Makes the observer of a unit run on a worker thread, from its label.
pub type UnitObservers<'a> = &'a (dyn Fn(&str) -> Box<dyn UnitObserver> + Sync);

/// Rollout threads for each of `jobs` units run at once: the cores shared out (results do not depend on
/// the thread count).
pub fn threads_per_unit(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / jobs.max(1)).max(1)
}

/// Runs every unit, `jobs` at a time. With one job the units run in order on this thread through
/// `each` (which may use the caller's observer); with more, worker threads take the next unit in turn
/// through `each_parallel` (which makes its own observer). Results come back in unit order. On a failure
/// the units already started still finish (each can be resumed) and the first error in unit order is
/// returned.
pub fn run_units<R: Send>(
    units: &[Unit],
    jobs: usize,
    each: &mut dyn FnMut(&Unit) -> Result<R>,
    each_parallel: &(dyn Fn(&Unit) -> Result<R> + Sync),
) -> Result<Vec<R>> {
    let jobs = jobs.clamp(1, units.len().max(1));
    if jobs == 1 {
        return units.iter().map(each).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Result<R>)>> = Mutex::new(Vec::with_capacity(units.len()));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(u) = units.get(i) else { break };
                let r = each_parallel(u);
                let failed = r.is_err();
                done.lock().expect("unit results").push((i, r));
                if failed {
                    // Start no further unit; those running finish.
                    next.store(units.len(), Ordering::SeqCst);
                }
            });
        }
    });
    let mut done = done.into_inner().expect("unit results");
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScenarioError;

    #[test]
    fn a_failing_unit_is_reported_in_unit_order_and_stops_new_ones() {
        let root = Path::new("r");
        let units: Vec<Unit> = (0..6).map(|s| Unit::new(root, "a", s)).collect();
        let started = AtomicUsize::new(0);
        let each = |u: &Unit| -> Result<u64> {
            started.fetch_add(1, Ordering::SeqCst);
            if u.seed >= 1 {
                Err(ScenarioError::output(&u.dir, format!("unit {}", u.seed)))
            } else {
                Ok(u.seed)
            }
        };
        let e = run_units(&units, 2, &mut |u| each(u), &each).unwrap_err();
        assert!(e.to_string().contains("unit 1"), "{e}");
        assert!(
            started.load(Ordering::SeqCst) < 6,
            "units kept starting after a failure"
        );
        let e = run_units(&units, 1, &mut |u| each(u), &each).unwrap_err();
        assert!(e.to_string().contains("unit 1"), "{e}");
    }
}
