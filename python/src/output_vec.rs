//! [`OutputVec`]: `num_envs` [`OutputEnv`]s (any task, the network's output vector as the action) stepped
//! into buffers that numpy views, as [`crate::vector::ReachVec`] and [`crate::vector::DecisionVec`] do.
//! The env's action is a fixed-size array (`OutputEnv<N>`), so each output size is a type behind
//! [`DynOutputVec`].

use numpy::PyReadonlyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use reachlab_envs::cognitive::{OutputEnv, OutputInfo, TaskSet};
use reachlab_envs::{AutoresetMode, Result as EnvResult, VecBuffers};

use crate::env_err;
use crate::tasks::task_set;
use crate::vector::{action_rows, buffer_views, mode, threads_for, view, Backend};

/// A vector of `OutputEnv<N>` with its buffers, for any `N`.
trait DynOutputVec: Send + Sync {
    fn reset(&mut self, seed: Option<u64>) -> EnvResult<()>;
    /// `actions`: `n × N` values, row-major (checked by the caller).
    fn step(&mut self, actions: &[f32]) -> EnvResult<()>;
    fn reset_done(&mut self) -> EnvResult<()>;
    fn buffers(&self) -> &VecBuffers<OutputInfo>;
}

struct Inner<const N: usize> {
    env: Backend<OutputEnv<N>>,
    buf: VecBuffers<OutputInfo>,
}

impl<const N: usize> Inner<N> {
    fn boxed(set: TaskSet, n: usize, threads: usize, mode: AutoresetMode) -> EnvResult<Box<dyn DynOutputVec>> {
        let mut env = Backend::new(n, threads, mode, |_| OutputEnv::<N>::new(set.clone()))?;
        let buf = env.v().buffers();
        Ok(Box::new(Inner { env, buf }))
    }
}

impl<const N: usize> DynOutputVec for Inner<N> {
    fn reset(&mut self, seed: Option<u64>) -> EnvResult<()> {
        self.env.v().reset(seed, &mut self.buf)
    }

    fn step(&mut self, actions: &[f32]) -> EnvResult<()> {
        let (rows, _) = actions.as_chunks::<N>();
        self.env.v().step(rows, &mut self.buf)
    }

    fn reset_done(&mut self) -> EnvResult<()> {
        self.env.v().reset_done(&mut self.buf)
    }

    fn buffers(&self) -> &VecBuffers<OutputInfo> {
        &self.buf
    }
}

/// `Inner<N>` for the output sizes `OutputCore` supports.
macro_rules! output_vec {
    ($set:expr, $n_envs:expr, $threads:expr, $mode:expr, $($n:literal)*) => {
        match $set.output_dim() {
            $($n => Inner::<$n>::boxed($set, $n_envs, $threads, $mode).map_err(env_err),)*
            d => Err(PyValueError::new_err(format!(
                "tasks: an output of {d} units is not available from Python (1-16, or a ring of 8, 16, 32, 64 or 128 units)"
            ))),
        }
    };
}

/// `num_envs` output envs of one task set.
#[pyclass(module = "reachlab._reachlab")]
pub struct OutputVec {
    env: Box<dyn DynOutputVec>,
    same_step: bool,
    action_dim: usize,
    obs_dim: usize,
    task: Vec<i64>,
    score: Vec<f64>,
    has_score: Vec<bool>,
}

#[pymethods]
impl OutputVec {
    #[new]
    #[pyo3(signature = (num_envs, tasks, conventions_json = None, autoreset_mode = "next_step", threads = None))]
    fn new(
        num_envs: usize,
        tasks: Vec<String>,
        conventions_json: Option<&str>,
        autoreset_mode: &str,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let set = task_set(tasks, conventions_json)?;
        let (action_dim, obs_dim) = (set.output_dim(), set.input_dim());
        let threads = threads_for(num_envs, threads, false)?;
        let mode = mode(autoreset_mode)?;
        let env = output_vec!(set, num_envs, threads, mode, 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 33 65 129)?;
        Ok(OutputVec {
            env,
            same_step: mode == AutoresetMode::SameStep,
            action_dim,
            obs_dim,
            task: vec![0; num_envs],
            score: vec![f64::NAN; num_envs],
            has_score: vec![false; num_envs],
        })
    }

    fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    fn action_dim(&self) -> usize {
        self.action_dim
    }

    /// The arrays a step writes into (numpy views): obs, rewards, terminated, truncated, final_obs, and
    /// the infos `task` [n], `score` [n] (a trial's score in [0, 1] where it ended at this step, NaN
    /// elsewhere) with its mask `_score`.
    fn views<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let py = slf.py();
        let owner = slf.clone().into_any();
        let this = slf.borrow();
        let d = PyDict::new(py);
        // SAFETY: every buffer is a field of `this` (the env's inside its box), allocated once in `new`
        // and never resized.
        unsafe {
            buffer_views(&d, &owner, this.env.buffers())?;
            d.set_item("task", view(&owner, &this.task, None)?)?;
            d.set_item("score", view(&owner, &this.score, None)?)?;
            d.set_item("_score", view(&owner, &this.has_score, None)?)?;
        }
        Ok(d)
    }

    #[pyo3(signature = (seed = None))]
    fn reset(&mut self, py: Python<'_>, seed: Option<u64>) -> PyResult<()> {
        let env = &mut self.env;
        py.detach(|| env.reset(seed)).map_err(env_err)?;
        self.fill();
        Ok(())
    }

    /// Steps every sub-env with its row of `actions` ([n, action_dim] float32, C-contiguous).
    fn step(&mut self, py: Python<'_>, actions: PyReadonlyArray2<'_, f32>) -> PyResult<()> {
        let flat = action_rows(&actions, self.task.len(), self.action_dim)?;
        let env = &mut self.env;
        py.detach(|| env.step(flat)).map_err(env_err)?;
        self.fill();
        Ok(())
    }

    fn reset_done(&mut self, py: Python<'_>) -> PyResult<()> {
        let env = &mut self.env;
        py.detach(|| env.reset_done()).map_err(env_err)?;
        self.fill();
        Ok(())
    }
}

impl OutputVec {
    /// The score of a trial that ended at this step: in same-step mode in the row's *final* info (its
    /// info already belongs to the next trial; final rows of other sub-envs are stale), otherwise in the
    /// info itself.
    fn fill(&mut self) {
        let buf = self.env.buffers();
        for (i, f) in buf.infos.iter().enumerate() {
            self.task[i] = f.task as i64;
            let ended = buf.terminated[i] || buf.truncated[i];
            let score = if self.same_step && ended {
                buf.final_infos[i].score
            } else {
                f.score
            };
            self.score[i] = score.unwrap_or(f64::NAN);
            self.has_score[i] = score.is_some();
        }
    }
}
