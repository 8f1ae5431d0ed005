//! The native core of the Python package `reachlab` (`reachlab._reachlab`).
//!
//! The Gymnasium classes are written in Python (`python/reachlab/`) around these objects:
//!
//! - [`reach::ReachCore`]: one [`ReachEnv`](reachlab_envs::reach::ReachEnv), built from a config dict
//!   (as JSON) or a scenario file, with its phases by name.
//! - [`tasks::DecisionCore`] and [`tasks::OutputCore`]: a cognitive task or battery by name.
//! - [`vector::ReachVec`], [`vector::DecisionVec`] and [`output_vec::OutputVec`]: the threaded Rust vector
//!   envs, stepping into buffers that numpy arrays view (no copy per step) with the GIL released.
//! - [`runs::train`]: a scenario run into a folder, as `train_agent` runs it.
//! - [`analysis`]: reachlab's analysis on numpy arrays (PyTorch-layout cells, states as arrays).
//!
//! Every error crosses into Python as an exception carrying the Rust message: a bad config key or a
//! non-finite action is a `ValueError`, a step that needs a reset a `RuntimeError`, a file that cannot be
//! read or written an `OSError`. Nothing here panics on user input.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use reachlab_envs::EnvError;

mod analysis;
mod output_vec;
mod reach;
mod runs;
mod tasks;
mod vector;

/// What `reset` returns to Python: `(obs, info)`.
pub(crate) type ResetOut<'py> = (Bound<'py, numpy::PyArray1<f32>>, Bound<'py, pyo3::types::PyDict>);
/// What `step` returns to Python: `(obs, reward, terminated, truncated, info)`.
pub(crate) type StepOut<'py> = (
    Bound<'py, numpy::PyArray1<f32>>,
    f64,
    bool,
    bool,
    Bound<'py, pyo3::types::PyDict>,
);

/// The Python exception for an env error: input the caller can fix is a `ValueError`.
pub(crate) fn env_err(e: EnvError) -> PyErr {
    match e {
        EnvError::NonFiniteAction { .. }
        | EnvError::ActionOutOfRange { .. }
        | EnvError::NotAnIndex { .. }
        | EnvError::InvalidConfig { .. }
        | EnvError::BufferSize { .. } => PyValueError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// The Python exception for a scenario error: parsing and validation are `ValueError`s, files `OSError`s.
pub(crate) fn scenario_err(e: reachlab_scenarios::ScenarioError) -> PyErr {
    use reachlab_scenarios::ScenarioError as S;
    let text = format!("{e}");
    match e {
        S::Parse { .. } | S::Invalid { .. } | S::UnknownScenario { .. } => PyValueError::new_err(text),
        S::Io { .. } | S::Output { .. } => PyOSError::new_err(text),
        _ => PyRuntimeError::new_err(text),
    }
}

/// Parses a JSON text (a config dict serialised by the Python side) into `T`, naming the key that fails.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> PyResult<T> {
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde_json appends a position in the JSON text, which the user never wrote.
        let inner = inner.split(" at line ").next().unwrap_or(&inner).to_string();
        if path == "." {
            PyValueError::new_err(format!("{what}: {inner}"))
        } else {
            PyValueError::new_err(format!("{what}: key `{path}`: {inner}"))
        }
    })
}

/// The kernel thread count candle would choose (`RAYON_NUM_THREADS` if set, else the physical cores).
#[pyfunction]
fn default_kernel_threads() -> usize {
    reachlab_agents::default_kernel_threads()
}

#[pymodule]
fn _reachlab(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The kernel thread count is not written into the environment here: threads (torch's, a user's) may
    // already run at import. `reachlab/__init__.py` sets it through `os.environ` from this value.
    m.add_function(wrap_pyfunction!(default_kernel_threads, m)?)?;
    m.add_class::<reach::ReachCore>()?;
    m.add_class::<tasks::DecisionCore>()?;
    m.add_class::<tasks::OutputCore>()?;
    m.add_class::<vector::ReachVec>()?;
    m.add_class::<vector::DecisionVec>()?;
    m.add_class::<output_vec::OutputVec>()?;
    m.add_function(wrap_pyfunction!(runs::train, m)?)?;
    m.add_function(wrap_pyfunction!(runs::list_scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(runs::analyze, m)?)?;
    m.add_function(wrap_pyfunction!(runs::collect, m)?)?;
    m.add_function(wrap_pyfunction!(runs::scenario_toml, m)?)?;
    m.add_function(wrap_pyfunction!(tasks::suite_names, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::fixed_points, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::step_and_jacobian, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::lyapunov_spectrum, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::cca, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::dsa, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::shift_angles, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::uniform_shift, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::tdr, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
