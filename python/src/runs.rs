//! Runs from Python: [`train`] runs a scenario into a folder as `train_agent` does (the GIL released,
//! progress lines on stderr, Ctrl-C stops it at the next update and leaves it resumable).

use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use reachlab_scenarios::builtin::{self, AnyScenario};
use reachlab_scenarios::experiment::UnitObserver;
use reachlab_scenarios::launch;
use reachlab_scenarios::tasks::{TaskCurveRow, TaskObserver};
use reachlab_scenarios::{CurveRow, Observer, ScenarioError, StageSpec};

use crate::reach::load_scenario;
use crate::scenario_err;

/// Plain progress lines on stderr; asks Python for pending signals (Ctrl-C) after every update.
struct Lines {
    label: String,
    show: bool,
    every: usize,
    last: Option<CurveRow>,
    signal: Option<PyErr>,
}

impl Lines {
    fn new(label: &str, show: bool) -> Self {
        Lines {
            label: label.to_string(),
            show,
            every: 20,
            last: None,
            signal: None,
        }
    }

    fn prefix(&self) -> String {
        if self.label.is_empty() {
            String::new()
        } else {
            format!("[{}] ", self.label)
        }
    }

    fn stop_requested(&mut self) -> bool {
        if self.signal.is_none() {
            if let Err(e) = Python::attach(|py| py.check_signals()) {
                self.signal = Some(e);
            }
        }
        self.signal.is_some()
    }
}

impl Observer for Lines {
    fn stage_started(&mut self, stage: &StageSpec, done: usize) {
        if self.show {
            eprintln!(
                "{}{}: {} updates at most (from {done})",
                self.prefix(),
                stage.name,
                stage.updates
            );
        }
    }

    fn updated(&mut self, row: &CurveRow) {
        if self.show && row.stage_update.is_multiple_of(self.every) {
            eprintln!(
                "{}{} update {}: success {:.2}, return {:.2}, {:.0} s",
                self.prefix(),
                row.stage,
                row.stage_update,
                row.success_rate,
                row.mean_return,
                row.wall_seconds
            );
        }
        self.last = Some(row.clone());
    }

    fn stage_finished(&mut self, stage: &StageSpec) {
        if let (true, Some(r)) = (self.show, &self.last) {
            eprintln!(
                "{}{}: {} updates, success {:.2}, MPD {:+.2} cm, {:.0} s",
                self.prefix(),
                stage.name,
                r.stage_update,
                r.success_rate,
                r.mpd_trained_cm,
                r.wall_seconds
            );
        }
    }

    fn message(&mut self, text: &str) {
        if self.show {
            eprintln!("{}{text}", self.prefix());
        }
    }

    fn interrupt(&mut self) -> bool {
        self.stop_requested()
    }
}

impl TaskObserver for Lines {
    fn evaluated(&mut self, unit: &str, rows: &[TaskCurveRow], of_updates: usize) {
        if self.show && !rows.is_empty() {
            let mean = rows.iter().map(|r| r.perf).sum::<f64>() / rows.len() as f64;
            let r = &rows[0];
            eprintln!(
                "[{unit}] update {}/{of_updates}: mean performance {mean:.3} over {} tasks, {:.0} s",
                r.update,
                rows.len(),
                r.wall_s
            );
        }
    }

    fn keep_going(&mut self) -> bool {
        !self.stop_requested()
    }
}

/// Runs a scenario (built-in name, file path or TOML text) into `out`, or resumes the run there
/// (`resume=True`), and returns `out`. `seed` replaces the scenario's seed (single runs), `quick` runs
/// the few-update smoke-test version, `threads` sets the rollout workers (the matrix kernels use
/// `RAYON_NUM_THREADS` as it was at import; see the module's init), `jobs` runs that many units of a
/// comparison or a task run at once. The GIL is released while training; Ctrl-C stops at the next update with
/// `KeyboardInterrupt` and the run resumes from its last checkpoint.
#[pyfunction]
#[pyo3(signature = (scenario = None, out = None, *, seed = None, quick = false, threads = None, jobs = 1, resume = false, progress = true))]
#[allow(clippy::too_many_arguments)]
pub fn train(
    py: Python<'_>,
    scenario: Option<&str>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    quick: bool,
    threads: Option<usize>,
    jobs: usize,
    resume: bool,
    progress: bool,
) -> PyResult<String> {
    let Some(out) = out else {
        return Err(PyValueError::new_err("give out=: the folder the run writes into"));
    };
    if jobs == 0 {
        return Err(PyValueError::new_err("jobs must be ≥ 1"));
    }
    let any = if resume {
        if scenario.is_some() {
            return Err(PyValueError::new_err(
                "resume=True continues the run in `out` with its own scenario.toml; do not give a scenario",
            ));
        }
        AnyScenario::load(&out.join("scenario.toml")).map_err(scenario_err)?
    } else {
        let Some(name) = scenario else {
            return Err(PyValueError::new_err(
                "give a scenario (a built-in name, a file, or TOML text)",
            ));
        };
        load_scenario(name)?
    };
    let mut lines = Lines::new("", progress);
    let result = py.detach(|| run_any(any, &out, resume, seed, quick, threads, jobs, &mut lines));
    if let Some(e) = lines.signal.take() {
        return Err(e);
    }
    match result {
        Ok(()) => Ok(out.display().to_string()),
        Err(ScenarioError::Interrupted { dir }) => Err(PyKeyboardInterrupt::new_err(format!(
            "interrupted; reachlab.train(out={:?}, resume=True) continues the run",
            dir.display().to_string()
        ))),
        Err(e) => Err(scenario_err(e)),
    }
}

/// Starts (after applying the settings) or resumes `any` in `out` through the library's one dispatch.
#[allow(clippy::too_many_arguments)]
fn run_any(
    any: AnyScenario,
    out: &Path,
    resume: bool,
    seed: Option<u64>,
    quick: bool,
    threads: Option<usize>,
    jobs: usize,
    lines: &mut Lines,
) -> Result<(), ScenarioError> {
    let any = if resume {
        any
    } else {
        let settings = launch::Settings {
            quick,
            seed,
            seeds: None,
            threads,
        };
        settings.apply(any, &out.join("scenario.toml").display().to_string())?
    };
    let show = lines.show;
    let units = move |label: &str| Box::new(Lines::new(label, show)) as Box<dyn UnitObserver>;
    launch::run(&any, out, resume, false, jobs, lines, &units)?;
    Ok(())
}

/// `(name, description)` of every built-in scenario.
#[pyfunction]
pub fn list_scenarios() -> Vec<(String, String)> {
    builtin::list()
}

/// A scenario's TOML with every default written out (`train_agent --print-scenario`).
#[pyfunction]
pub fn scenario_toml(scenario: &str) -> PyResult<String> {
    Ok(load_scenario(scenario)?.to_toml_printed())
}
