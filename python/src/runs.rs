//! Runs from Python: [`train`] runs a scenario into a folder as `train_agent` does (the GIL released,
//! progress lines on stderr, Ctrl-C stops it at the next update and leaves it resumable).

use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use reachlab_scenarios::builtin::{self, AnyScenario};
use reachlab_scenarios::units::UnitObserver;
use reachlab_scenarios::{launch, lines};
use reachlab_scenarios::{CurveRow, Observer, ScenarioError, StageSpec, TaskCurveRow};

use crate::reach::load_scenario;
use crate::scenario_err;

/// The library's progress lines on stderr ([`lines::Lines`]), asking Python for pending signals (Ctrl-C)
/// after every update.
struct Lines {
    inner: lines::Lines,
    show: bool,
    signal: Option<PyErr>,
}

impl Lines {
    fn new(label: &str, show: bool) -> Self {
        Lines {
            inner: lines::Lines::new(label, !show, false),
            show,
            signal: None,
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
        self.inner.stage_started(stage, done);
    }
    fn updated(&mut self, row: &CurveRow) {
        self.inner.updated(row);
    }
    fn stage_finished(&mut self, stage: &StageSpec) {
        self.inner.stage_finished(stage);
    }
    fn message(&mut self, text: &str) {
        self.inner.message(text);
    }
    fn evaluated(&mut self, unit: &str, rows: &[TaskCurveRow], of_updates: usize) {
        self.inner.evaluated(unit, rows, of_updates);
    }
    fn interrupt(&mut self) -> bool {
        self.stop_requested()
    }
}

/// Runs a scenario (built-in name, file path or TOML text) into `out`, or resumes the run there
/// (`resume=True`), and returns `out`. `seed` replaces the scenario's seed (single runs), `seeds` runs
/// those seeds and reports over them (a reaching scenario becomes a run over seeds), `quick` runs
/// the few-update smoke-test version, `threads` sets the rollout workers (the matrix kernels use
/// `RAYON_NUM_THREADS` as it was at import; see the module's init), `jobs` runs that many units of a
/// comparison or a task run at once; `force` (with `resume`) continues a run whose scenario.toml was edited
/// since its last checkpoint, as `train_agent --resume --force` does. The GIL is released while training;
/// Ctrl-C stops at the next update with `KeyboardInterrupt` and the run resumes from its last checkpoint.
#[pyfunction]
#[pyo3(signature = (scenario = None, out = None, *, seed = None, seeds = None, quick = false, threads = None, jobs = 1, resume = false, force = false, progress = true))]
#[allow(clippy::too_many_arguments)]
pub fn train(
    py: Python<'_>,
    scenario: Option<&str>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    seeds: Option<Vec<u64>>,
    quick: bool,
    threads: Option<usize>,
    jobs: usize,
    resume: bool,
    force: bool,
    progress: bool,
) -> PyResult<String> {
    let Some(out) = out else {
        return Err(PyValueError::new_err("give out=: the folder the run writes into"));
    };
    if jobs == 0 {
        return Err(PyValueError::new_err("jobs must be ≥ 1"));
    }
    let settings = launch::Settings {
        quick,
        seed,
        seeds,
        threads,
    };
    if force && !resume {
        return Err(PyValueError::new_err(
            "force=True accepts an edited scenario.toml when continuing a run: give resume=True too",
        ));
    }
    if resume && (settings.seed.is_some() || settings.seeds.is_some() || settings.quick) {
        return Err(PyValueError::new_err(
            "resume=True continues the run with its own scenario.toml; do not give seed, seeds or quick",
        ));
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
    let mode = match (resume, force) {
        (true, force) => launch::Mode::Resume { force },
        (false, _) => launch::Mode::New,
    };
    let result = py.detach(|| run_any(any, &out, mode, &settings, jobs, &mut lines));
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
fn run_any(
    any: AnyScenario,
    out: &Path,
    mode: launch::Mode,
    settings: &launch::Settings,
    jobs: usize,
    lines: &mut Lines,
) -> Result<(), ScenarioError> {
    let any = if matches!(mode, launch::Mode::Resume { .. }) {
        any
    } else {
        settings.apply(any, &out.join("scenario.toml").display().to_string())?
    };
    let show = lines.show;
    let units = move |label: &str| Box::new(Lines::new(label, show)) as Box<dyn UnitObserver>;
    let how = launch::RunOptions { mode, jobs };
    launch::run(&any, out, how, lines, &units)?;
    Ok(())
}

/// Recomputes what the finished run in `out` derives from its files, as `analyze_run --run` does (the
/// library's `launch::finish`): a reaching run's analysis, figures and summary; every finished unit of a
/// run over seeds, then its findings; a task run's fixed points and report. Returns the report the run
/// printed at its end. The GIL is released meanwhile.
#[pyfunction]
pub fn analyze(py: Python<'_>, out: PathBuf) -> PyResult<String> {
    py.detach(|| {
        let outcome = launch::finish(&out, &mut reachlab_scenarios::Silent)?;
        let any = AnyScenario::load(&out.join("scenario.toml"))?;
        Ok(any.experiment().report(&out, &outcome))
    })
    .map_err(scenario_err)
}

/// Gathers the sweep in `out` as `train_agent --collect` does (the library's `population::collect`):
/// `collected.{csv,md}`, the SVCCA and DSA matrices and the MDS figure; returns the indices of the units
/// that have not finished.
#[pyfunction]
pub fn collect(py: Python<'_>, out: PathBuf) -> PyResult<Vec<usize>> {
    let missing = py
        .detach(|| reachlab_scenarios::population::collect(&out))
        .map_err(scenario_err)?;
    Ok(missing.into_iter().map(|(i, _)| i).collect())
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
