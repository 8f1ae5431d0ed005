//! Cognitive tasks for Python: [`DecisionCore`] (ring tasks, discrete choices) and [`OutputCore`] (any
//! task, the output vector as the action).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use reachlab_envs::cognitive::{
    suite, Conventions, DecisionEnv, DecisionOptions, DecisionRewards, OutputEnv, OutputInfo, TaskSet, SUITES,
};
use reachlab_envs::{Env, EnvError, Transition};

use crate::{env_err, from_json, ResetOut, StepOut};

/// The task names of a battery (`yang20`, `modcog`, …), or `None` for a name that is no battery.
#[pyfunction]
pub fn suite_names(name: &str) -> Option<Vec<String>> {
    suite(name)
}

/// A task set from names (each a task or a battery) and conventions given as JSON.
pub(crate) fn task_set(tasks: Vec<String>, conventions_json: Option<&str>) -> PyResult<TaskSet> {
    let conventions: Conventions = match conventions_json {
        Some(j) => from_json("conventions", j)?,
        None => Conventions::yang2019(),
    };
    if tasks.is_empty() {
        return Err(PyValueError::new_err(format!(
            "tasks: give at least one task or battery ({})",
            SUITES.join(", ")
        )));
    }
    let mut names = Vec::new();
    for t in tasks {
        match suite(&t) {
            Some(all) => names.extend(all),
            None => names.push(t),
        }
    }
    TaskSet::from_names(&names, conventions).map_err(env_err)
}

/// A [`DecisionEnv`]: fixate (0) or choose one of the ring's directions (1..=n_ring).
#[pyclass(module = "reachlab._reachlab")]
pub struct DecisionCore {
    env: DecisionEnv,
    obs: Vec<f32>,
}

#[pymethods]
impl DecisionCore {
    #[new]
    #[pyo3(signature = (tasks, conventions_json = None, rewards_json = None))]
    fn new(tasks: Vec<String>, conventions_json: Option<&str>, rewards_json: Option<&str>) -> PyResult<Self> {
        let set = task_set(tasks, conventions_json)?;
        let rewards: DecisionRewards = match rewards_json {
            Some(j) => from_json("rewards", j)?,
            None => DecisionRewards::default(),
        };
        let env = DecisionEnv::new(set, rewards).map_err(env_err)?;
        let obs = vec![0.0; env.obs_dim()];
        Ok(DecisionCore { env, obs })
    }

    fn obs_dim(&self) -> usize {
        self.env.obs_dim()
    }

    /// Number of actions (1 + ring units).
    fn n_actions(&self) -> usize {
        1 + self.env.task_set().conventions().n_ring
    }

    fn task_names(&self) -> Vec<String> {
        self.env.task_set().tasks().iter().map(|t| t.name()).collect()
    }

    #[pyo3(signature = (seed = None, task = None))]
    fn reset<'py>(&mut self, py: Python<'py>, seed: Option<u64>, task: Option<usize>) -> PyResult<ResetOut<'py>> {
        let info = self
            .env
            .reset_into(seed, &DecisionOptions { task }, &mut self.obs)
            .map_err(env_err)?;
        first_obs(py, &self.obs, info.task)
    }

    fn step<'py>(&mut self, py: Python<'py>, action: &Bound<'py, PyAny>) -> PyResult<StepOut<'py>> {
        let a = discrete_action(action)?;
        let t = self.env.step_into(&a, &mut self.obs).map_err(env_err)?;
        let d = PyDict::new(py);
        d.set_item("task", t.info.task)?;
        d.set_item("step", t.info.step)?;
        if let Some(c) = t.info.correct {
            d.set_item("correct", c)?;
        }
        d.set_item("aborted", t.info.aborted)?;
        Ok((
            PyArray1::from_slice(py, &self.obs),
            t.reward,
            t.terminated,
            t.truncated,
            d,
        ))
    }
}

/// A task env's first observation and its info (the task drawn).
fn first_obs<'py>(py: Python<'py>, obs: &[f32], task: usize) -> PyResult<ResetOut<'py>> {
    let d = PyDict::new(py);
    d.set_item("task", task)?;
    Ok((PyArray1::from_slice(py, obs), d))
}

/// A discrete action: a Python or numpy integer (a float or a negative number is refused).
pub(crate) fn discrete_action(action: &Bound<'_, PyAny>) -> PyResult<usize> {
    if let Ok(a) = action.extract::<usize>() {
        return Ok(a);
    }
    match action.extract::<f64>() {
        Ok(v) => Err(env_err(EnvError::NotAnIndex { value: v })),
        Err(_) => Err(PyValueError::new_err("the action must be an integer index")),
    }
}

/// [`OutputEnv`] with the output size chosen at run time.
trait DynOutput: Send + Sync {
    fn reset(&mut self, seed: Option<u64>, task: Option<usize>, obs: &mut [f32]) -> Result<OutputInfo, EnvError>;
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<Transition<OutputInfo>, EnvError>;
    fn set(&self) -> &TaskSet;
}

impl<const N: usize> DynOutput for OutputEnv<N> {
    fn reset(&mut self, seed: Option<u64>, task: Option<usize>, obs: &mut [f32]) -> Result<OutputInfo, EnvError> {
        self.reset_into(seed, &DecisionOptions { task }, obs)
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<Transition<OutputInfo>, EnvError> {
        let a: [f32; N] = action.try_into().map_err(|_| EnvError::BufferSize {
            what: "action",
            expected: N,
            got: action.len(),
        })?;
        self.step_into(&a, obs)
    }

    fn set(&self) -> &TaskSet {
        self.task_set()
    }
}

/// `OutputEnv<N>` for the output sizes a task set can have: 1–16 (the classic tasks) and 1 + n_ring for
/// rings of 8, 16, 32, 64 and 128 units (the env's action is a fixed-size array, so each size is a type).
macro_rules! output_env {
    ($set:expr, $($n:literal)*) => {
        match $set.output_dim() {
            $($n => Ok(Box::new(OutputEnv::<$n>::new($set).map_err(env_err)?) as Box<dyn DynOutput>),)*
            d => Err(PyValueError::new_err(format!(
                "tasks: an output of {d} units is not available from Python (1-16, or a ring of 8, 16, 32, 64 or 128 units)"
            ))),
        }
    };
}

/// An [`OutputEnv`]: the action is the network's output vector, the reward minus its weighted squared
/// error to the target.
#[pyclass(module = "reachlab._reachlab")]
pub struct OutputCore {
    env: Box<dyn DynOutput>,
    obs: Vec<f32>,
    action: Vec<f32>,
}

#[pymethods]
impl OutputCore {
    #[new]
    #[pyo3(signature = (tasks, conventions_json = None))]
    fn new(tasks: Vec<String>, conventions_json: Option<&str>) -> PyResult<Self> {
        let set = task_set(tasks, conventions_json)?;
        let obs = vec![0.0; set.input_dim()];
        let action = vec![0.0; set.output_dim()];
        let env = output_env!(set, 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 33 65 129)?;
        Ok(OutputCore { env, obs, action })
    }

    fn obs_dim(&self) -> usize {
        self.obs.len()
    }

    fn action_dim(&self) -> usize {
        self.action.len()
    }

    fn task_names(&self) -> Vec<String> {
        self.env.set().tasks().iter().map(|t| t.name()).collect()
    }

    #[pyo3(signature = (seed = None, task = None))]
    fn reset<'py>(&mut self, py: Python<'py>, seed: Option<u64>, task: Option<usize>) -> PyResult<ResetOut<'py>> {
        let info = self.env.reset(seed, task, &mut self.obs).map_err(env_err)?;
        first_obs(py, &self.obs, info.task)
    }

    fn step<'py>(&mut self, py: Python<'py>, action: &Bound<'py, PyAny>) -> PyResult<StepOut<'py>> {
        let n = self.action.len();
        if let Ok(a) = action.extract::<PyReadonlyArray1<'_, f32>>() {
            match a.as_slice() {
                Ok(s) if s.len() == n => self.action.copy_from_slice(s),
                _ => return Err(wrong_len(n, a.as_array().len())),
            }
        } else {
            let v: Vec<f32> = action
                .extract()
                .map_err(|_| PyValueError::new_err(format!("the action must be a sequence of {n} numbers")))?;
            if v.len() != n {
                return Err(wrong_len(n, v.len()));
            }
            self.action.copy_from_slice(&v);
        }
        let t = self.env.step(&self.action, &mut self.obs).map_err(env_err)?;
        let d = PyDict::new(py);
        d.set_item("task", t.info.task)?;
        d.set_item("step", t.info.step)?;
        if let Some(s) = t.info.score {
            d.set_item("score", s)?;
        }
        Ok((
            PyArray1::from_slice(py, &self.obs),
            t.reward,
            t.terminated,
            t.truncated,
            d,
        ))
    }
}

fn wrong_len(expected: usize, got: usize) -> PyErr {
    PyValueError::new_err(format!("the action has {got} components, expected {expected}"))
}
