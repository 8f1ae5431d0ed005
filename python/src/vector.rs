//! Vector envs for Python over [`ThreadedVecEnv`] (or [`SyncVecEnv`] for small batches): a step writes into buffers owned here, which numpy
//! arrays view (made once by [`ReachVec::views`]), so no array is allocated or copied per step; the GIL is
//! released while the sub-envs step.

use numpy::ndarray::{ArrayView1, ArrayView2};
use numpy::{Element, PyArray, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use reachlab_envs::cognitive::{DecisionEnv, DecisionInfo, DecisionRewards};
use reachlab_envs::effector::Effector;
use reachlab_envs::reach::{EffectorConfig, EffectorVisitor, Phase, Reach, ReachConfig, ReachInfo};
use reachlab_envs::{
    AutoresetMode, Env, EnvError, Result as EnvResult, SpaceValue, SyncVecEnv, ThreadedVecEnv, VecBuffers, VectorEnv,
};

use crate::reach::{epoch_name, trial_type_name};
use crate::tasks::task_set;
use crate::{env_err, from_json};

pub(crate) fn mode(name: &str) -> PyResult<AutoresetMode> {
    match name {
        "next_step" => Ok(AutoresetMode::NextStep),
        "same_step" => Ok(AutoresetMode::SameStep),
        "disabled" => Ok(AutoresetMode::Disabled),
        _ => Err(PyValueError::new_err(format!(
            "autoreset_mode `{name}`: expected \"next_step\", \"same_step\" or \"disabled\""
        ))),
    }
}

/// The default thread count. Handing a batch to worker threads costs ~10 µs plus copying its rows back,
/// which pays off only when the sub-envs' steps cost more: measured on 2 cores at 1024 envs, the point
/// mass steps 17.5 M steps/s on the calling thread and 12.1 M on two (0.06 µs a step), the arm 2.6 M on
/// one and 4.0 M on two (0.4 µs a step). So cheap envs (the point mass, the tasks) stay on the calling
/// thread, and the arm uses every core from 256 envs on.
pub(crate) fn threads_for(n: usize, threads: Option<usize>, heavy: bool) -> PyResult<usize> {
    const THREADED_FROM: usize = 256;
    match threads {
        Some(0) => Err(PyValueError::new_err("threads must be ≥ 1")),
        Some(t) => Ok(t.min(n.max(1))),
        None if !heavy || n < THREADED_FROM => Ok(1),
        None => Ok(std::thread::available_parallelism().map_or(1, |c| c.get()).min(n)),
    }
}

/// One thread: [`SyncVecEnv`] on the calling thread; more: [`ThreadedVecEnv`]. Both give bit-identical
/// results for a seed.
pub(crate) enum Backend<E: Env + 'static> {
    Sync(SyncVecEnv<E>),
    Threaded(ThreadedVecEnv<E>),
}

impl<E: Env + 'static> Backend<E> {
    pub(crate) fn new(
        n: usize,
        threads: usize,
        mode: AutoresetMode,
        make: impl FnMut(usize) -> EnvResult<E>,
    ) -> EnvResult<Self> {
        if threads <= 1 {
            Ok(Backend::Sync(SyncVecEnv::new(n, mode, make)?))
        } else {
            Ok(Backend::Threaded(ThreadedVecEnv::new(n, threads, mode, make)?))
        }
    }

    fn threads(&self) -> usize {
        match self {
            Backend::Sync(_) => 1,
            Backend::Threaded(t) => t.num_threads(),
        }
    }

    pub(crate) fn v(&mut self) -> &mut dyn VectorEnv<Env = E> {
        match self {
            Backend::Sync(s) => s,
            Backend::Threaded(t) => t,
        }
    }
}

/// A numpy array viewing `data` (rows × cols, or 1-D when `cols` is `None`) that keeps `owner` alive.
///
/// SAFETY (of the callers): `data` lives in a buffer of `owner` that is never reallocated or dropped
/// while `owner` lives; Rust writes into it only inside `step`/`reset`, which Python cannot run
/// concurrently with reading the same arrays without a data race of its own making (as with any numpy
/// array shared between threads).
pub(crate) unsafe fn view<'py, T: Element>(
    owner: &Bound<'py, PyAny>,
    data: &[T],
    cols: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let err = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
    Ok(match cols {
        None => PyArray::borrow_from_array(&ArrayView1::from(data), owner.clone()).into_any(),
        Some(c) => {
            let v = ArrayView2::from_shape((data.len() / c.max(1), c), data).map_err(err)?;
            PyArray::borrow_from_array(&v, owner.clone()).into_any()
        }
    })
}

/// The actions of a vector step as one row-major slice, after checking that they are `[n, width]` and
/// C-contiguous (so the slice splits into exactly `n` rows of `width`).
pub(crate) fn action_rows<'a>(actions: &'a PyReadonlyArray2<'_, f32>, n: usize, width: usize) -> PyResult<&'a [f32]> {
    let shape = actions.as_array().shape().to_vec();
    if shape != [n, width] {
        return Err(PyValueError::new_err(format!(
            "actions have shape {shape:?}, expected [{n}, {width}]"
        )));
    }
    actions
        .as_slice()
        .map_err(|_| PyValueError::new_err("actions must be C-contiguous"))
}

/// Views of the step outputs every vector env has: obs [n, O] f32, rewards [n] f64, terminated and
/// truncated [n] bool, final_obs [n, O] (same-step mode).
///
/// SAFETY: as [`view`]; `buf` is a field of `owner`'s object.
pub(crate) unsafe fn buffer_views<I>(
    d: &Bound<'_, PyDict>,
    owner: &Bound<'_, PyAny>,
    buf: &VecBuffers<I>,
) -> PyResult<()> {
    let o = Some(buf.obs_dim());
    d.set_item("obs", view(owner, &buf.obs, o)?)?;
    d.set_item("rewards", view(owner, &buf.rewards, None)?)?;
    d.set_item("terminated", view(owner, &buf.terminated, None)?)?;
    d.set_item("truncated", view(owner, &buf.truncated, None)?)?;
    d.set_item("final_obs", view(owner, &buf.final_obs, o)?)?;
    Ok(())
}

/// Per-step info of the reaching sub-envs, as arrays (one row per sub-env).
#[derive(Default)]
struct ReachInfoArrays {
    step: Vec<i64>,
    epoch: Vec<u8>,
    target: Vec<i64>,
    trial_type: Vec<u8>,
    field_on: Vec<bool>,
    go_step: Vec<i64>,
    success: Vec<bool>,
    premature: Vec<bool>,
    hand_pos: Vec<f64>,
    hand_vel: Vec<f64>,
    field_force: Vec<f64>,
    action: Vec<f64>,
    final_success: Vec<bool>,
    /// Actuators per env (the `action` array is [n, width]).
    width: usize,
}

impl ReachInfoArrays {
    fn new(n: usize, width: usize) -> Self {
        ReachInfoArrays {
            step: vec![0; n],
            epoch: vec![0; n],
            target: vec![0; n],
            trial_type: vec![0; n],
            field_on: vec![false; n],
            go_step: vec![0; n],
            success: vec![false; n],
            premature: vec![false; n],
            hand_pos: vec![0.0; 2 * n],
            hand_vel: vec![0.0; 2 * n],
            field_force: vec![0.0; 2 * n],
            action: vec![0.0; width * n],
            final_success: vec![false; n],
            width,
        }
    }

    /// Copies the infos of a step (and the success of the episodes that ended) into the arrays.
    fn fill<C: AsRef<[f64]>>(&mut self, infos: &[ReachInfo<C>], finals: &[ReachInfo<C>]) {
        let w = self.width;
        for (i, f) in infos.iter().enumerate() {
            self.step[i] = i64::from(f.step);
            self.epoch[i] = f.epoch as u8;
            self.target[i] = f.target as i64;
            self.trial_type[i] = f.trial_type as u8;
            self.field_on[i] = f.field_on;
            self.go_step[i] = i64::from(f.go_step);
            self.success[i] = f.success;
            self.premature[i] = f.premature;
            self.hand_pos[2 * i..2 * i + 2].copy_from_slice(&f.hand.pos);
            self.hand_vel[2 * i..2 * i + 2].copy_from_slice(&f.hand.vel);
            self.field_force[2 * i..2 * i + 2].copy_from_slice(&f.field_force);
            self.action[w * i..w * (i + 1)].copy_from_slice(f.action.as_ref());
            self.final_success[i] = finals[i].success;
        }
    }
}

/// The vector env of one effector and its buffers.
struct ReachVecOf<B: Effector> {
    env: Backend<Reach<B>>,
    buf: VecBuffers<ReachInfo<B::Command>>,
    /// A step's actions, read from its rows (kept to reuse the allocation).
    actions: Vec<B::Action>,
}

/// What `ReachVec` does with the vector env of any effector (their action and info types differ); built
/// by the one visitor over effector kinds ([`EffectorConfig::visit`]), so a new effector needs nothing here.
trait AnyReachVec: Send + Sync {
    fn threads(&mut self) -> usize;
    fn reset(&mut self, seed: Option<u64>, info: &mut ReachInfoArrays) -> EnvResult<()>;
    /// `flat`: the [n, width] actions, row-major.
    fn step(&mut self, flat: &[f32], info: &mut ReachInfoArrays) -> EnvResult<()>;
    fn reset_done(&mut self, info: &mut ReachInfoArrays) -> EnvResult<()>;
    fn set_phase(&mut self, phase: &Phase) -> EnvResult<()>;
    /// SAFETY: as [`buffer_views`]; the buffers live as long as `self` and are never resized.
    unsafe fn views(&self, d: &Bound<'_, PyDict>, owner: &Bound<'_, PyAny>) -> PyResult<()>;
}

impl<B: Effector> AnyReachVec for ReachVecOf<B> {
    fn threads(&mut self) -> usize {
        self.env.threads()
    }

    fn reset(&mut self, seed: Option<u64>, info: &mut ReachInfoArrays) -> EnvResult<()> {
        self.env.v().reset(seed, &mut self.buf)?;
        info.fill(&self.buf.infos, &self.buf.final_infos);
        Ok(())
    }

    fn step(&mut self, flat: &[f32], info: &mut ReachInfoArrays) -> EnvResult<()> {
        // [n, width] contiguous (checked by the caller): exactly n rows.
        let width = flat.len() / self.buf.len().max(1);
        self.actions.clear();
        for row in flat.chunks_exact(width) {
            self.actions.push(B::Action::from_flat(row)?);
        }
        self.env.v().step(&self.actions, &mut self.buf)?;
        info.fill(&self.buf.infos, &self.buf.final_infos);
        Ok(())
    }

    fn reset_done(&mut self, info: &mut ReachInfoArrays) -> EnvResult<()> {
        self.env.v().reset_done(&mut self.buf)?;
        info.fill(&self.buf.infos, &self.buf.final_infos);
        Ok(())
    }

    fn set_phase(&mut self, phase: &Phase) -> EnvResult<()> {
        self.env.v().apply(&|e: &mut Reach<B>| e.set_phase(phase.clone()))
    }

    unsafe fn views(&self, d: &Bound<'_, PyDict>, owner: &Bound<'_, PyAny>) -> PyResult<()> {
        // SAFETY: forwarded to the caller.
        unsafe { buffer_views(d, owner, &self.buf) }
    }
}

/// Builds the vector env of the effector `config` names (each sub-env in `phase`, when given), and its
/// action width.
struct BuildVec<'a> {
    num_envs: usize,
    threads: usize,
    mode: AutoresetMode,
    config: &'a ReachConfig,
    phase: &'a Option<Phase>,
}

impl EffectorVisitor for BuildVec<'_> {
    type Output = EnvResult<(Box<dyn AnyReachVec>, usize)>;
    fn visit<B: Effector>(self) -> Self::Output {
        let mut env = Backend::new(self.num_envs, self.threads, self.mode, |_| {
            let mut e = Reach::<B>::new(self.config.clone())?;
            if let Some(p) = self.phase {
                e.set_phase(p.clone())?;
            }
            Ok(e)
        })?;
        let width = env.v().single_action_space().flat_dim();
        let buf = env.v().buffers();
        let actions = Vec::with_capacity(self.num_envs);
        Ok((Box::new(ReachVecOf { env, buf, actions }), width))
    }
}

/// `num_envs` reaching envs of one config, stepped on threads: any effector (2 actions, or arm26's 6
/// excitations).
#[pyclass(module = "reachlab._reachlab")]
pub struct ReachVec {
    env: Box<dyn AnyReachVec>,
    info: ReachInfoArrays,
}

#[pymethods]
impl ReachVec {
    /// `config_json` as for `ReachCore`; `phase_json` the starting phase (JSON) or `None` for the null
    /// field; `autoreset_mode` "next_step" (Gymnasium's default), "same_step" or "disabled".
    #[new]
    #[pyo3(signature = (num_envs, config_json, phase_json = None, autoreset_mode = "next_step", threads = None))]
    fn new(
        num_envs: usize,
        config_json: &str,
        phase_json: Option<&str>,
        autoreset_mode: &str,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let config: ReachConfig = from_json("config", config_json)?;
        let phase: Option<Phase> = phase_json.map(|j| from_json("phase", j)).transpose()?;
        let heavy = !matches!(config.effector, EffectorConfig::PointMass(_));
        let threads = threads_for(num_envs, threads, heavy)?;
        let mode = mode(autoreset_mode)?;
        let (env, width) = config
            .effector
            .visit(BuildVec {
                num_envs,
                threads,
                mode,
                config: &config,
                phase: &phase,
            })
            .map_err(env_err)?;
        Ok(ReachVec {
            env,
            info: ReachInfoArrays::new(num_envs, width),
        })
    }

    /// Number of worker threads.
    fn num_threads(&mut self) -> usize {
        self.env.threads()
    }

    /// The arrays a step writes into, as numpy views: obs [n, O] f32, rewards [n] f64, terminated and
    /// truncated [n] bool, final_obs [n, O] (same-step mode), and the info fields (`action` [n, width]).
    fn views<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let py = slf.py();
        let owner = slf.clone().into_any();
        let this = slf.borrow();
        let d = PyDict::new(py);
        let i = &this.info;
        // SAFETY: every buffer is a field of `this` (or of its boxed env), allocated once in `new` and never
        // resized.
        unsafe {
            this.env.views(&d, &owner)?;
            d.set_item("step", view(&owner, &i.step, None)?)?;
            d.set_item("epoch", view(&owner, &i.epoch, None)?)?;
            d.set_item("target", view(&owner, &i.target, None)?)?;
            d.set_item("trial_type", view(&owner, &i.trial_type, None)?)?;
            d.set_item("field_on", view(&owner, &i.field_on, None)?)?;
            d.set_item("go_step", view(&owner, &i.go_step, None)?)?;
            d.set_item("success", view(&owner, &i.success, None)?)?;
            d.set_item("premature", view(&owner, &i.premature, None)?)?;
            d.set_item("hand_pos", view(&owner, &i.hand_pos, Some(2))?)?;
            d.set_item("hand_vel", view(&owner, &i.hand_vel, Some(2))?)?;
            d.set_item("field_force", view(&owner, &i.field_force, Some(2))?)?;
            d.set_item("action", view(&owner, &i.action, Some(i.width))?)?;
            d.set_item("final_success", view(&owner, &i.final_success, None)?)?;
        }
        Ok(d)
    }

    /// Names of the `epoch` and `trial_type` codes in the info arrays.
    #[staticmethod]
    fn codes() -> (Vec<&'static str>, Vec<&'static str>) {
        use reachlab_envs::reach::{Epoch, TrialType};
        (
            [Epoch::Hold, Epoch::Cue, Epoch::Move, Epoch::End]
                .map(epoch_name)
                .to_vec(),
            [TrialType::Normal, TrialType::Catch, TrialType::Channel]
                .map(trial_type_name)
                .to_vec(),
        )
    }

    /// Resets every sub-env (sub-env i gets `seed + i`).
    #[pyo3(signature = (seed = None))]
    fn reset(&mut self, py: Python<'_>, seed: Option<u64>) -> PyResult<()> {
        let (env, info) = (&mut self.env, &mut self.info);
        py.detach(|| env.reset(seed, info)).map_err(env_err)
    }

    /// Steps every sub-env with its row of `actions` ([n, width] float32, C-contiguous).
    fn step(&mut self, py: Python<'_>, actions: PyReadonlyArray2<'_, f32>) -> PyResult<()> {
        // One `step` entry per sub-env.
        let flat = action_rows(&actions, self.info.step.len(), self.info.width)?;
        let (env, info) = (&mut self.env, &mut self.info);
        py.detach(|| env.step(flat, info)).map_err(env_err)
    }

    /// Resets the sub-envs whose episode ended (autoreset "disabled").
    fn reset_done(&mut self, py: Python<'_>) -> PyResult<()> {
        let (env, info) = (&mut self.env, &mut self.info);
        py.detach(|| env.reset_done(info)).map_err(env_err)
    }

    /// Switches every sub-env to a phase (JSON) from its next episode on.
    fn set_phase_json(&mut self, json: &str) -> PyResult<()> {
        let phase: Phase = from_json("phase", json)?;
        self.env.set_phase(&phase).map_err(env_err)
    }
}

/// `num_envs` decision envs of one task set, stepped on threads.
#[pyclass(module = "reachlab._reachlab")]
pub struct DecisionVec {
    env: Backend<DecisionEnv>,
    buf: VecBuffers<DecisionInfo>,
    actions: Vec<usize>,
    task: Vec<i64>,
    correct: Vec<bool>,
    has_correct: Vec<bool>,
    aborted: Vec<bool>,
}

#[pymethods]
impl DecisionVec {
    #[new]
    #[pyo3(signature = (num_envs, tasks, conventions_json = None, rewards_json = None, autoreset_mode = "next_step", threads = None))]
    fn new(
        num_envs: usize,
        tasks: Vec<String>,
        conventions_json: Option<&str>,
        rewards_json: Option<&str>,
        autoreset_mode: &str,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let set = task_set(tasks, conventions_json)?;
        let rewards: DecisionRewards = match rewards_json {
            Some(j) => from_json("rewards", j)?,
            None => DecisionRewards::default(),
        };
        let mut env = Backend::new(
            num_envs,
            threads_for(num_envs, threads, false)?,
            mode(autoreset_mode)?,
            |_| DecisionEnv::new(set.clone(), rewards),
        )
        .map_err(env_err)?;
        let buf = env.v().buffers();
        Ok(DecisionVec {
            env,
            buf,
            actions: vec![0; num_envs],
            task: vec![0; num_envs],
            correct: vec![false; num_envs],
            has_correct: vec![false; num_envs],
            aborted: vec![false; num_envs],
        })
    }

    fn views<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let py = slf.py();
        let owner = slf.clone().into_any();
        let this = slf.borrow();
        let d = PyDict::new(py);
        let b = &this.buf;
        // SAFETY: every buffer is a field of `this`, allocated once in `new` and never resized.
        unsafe {
            buffer_views(&d, &owner, b)?;
            d.set_item("task", view(&owner, &this.task, None)?)?;
            d.set_item("correct", view(&owner, &this.correct, None)?)?;
            d.set_item("_correct", view(&owner, &this.has_correct, None)?)?;
            d.set_item("aborted", view(&owner, &this.aborted, None)?)?;
        }
        Ok(d)
    }

    #[pyo3(signature = (seed = None))]
    fn reset(&mut self, py: Python<'_>, seed: Option<u64>) -> PyResult<()> {
        let (env, buf) = (&mut self.env, &mut self.buf);
        py.detach(|| env.v().reset(seed, buf)).map_err(env_err)?;
        self.fill();
        Ok(())
    }

    /// Steps every sub-env with its action ([n] integers).
    fn step(&mut self, py: Python<'_>, actions: PyReadonlyArray1<'_, i64>) -> PyResult<()> {
        let a = actions.as_array();
        if a.len() != self.actions.len() {
            return Err(env_err(EnvError::BufferSize {
                what: "actions",
                expected: self.actions.len(),
                got: a.len(),
            }));
        }
        for (slot, &v) in self.actions.iter_mut().zip(a.iter()) {
            *slot = usize::try_from(v).map_err(|_| env_err(EnvError::NotAnIndex { value: v as f64 }))?;
        }
        let (env, buf, actions) = (&mut self.env, &mut self.buf, &self.actions);
        py.detach(|| env.v().step(actions, buf)).map_err(env_err)?;
        self.fill();
        Ok(())
    }

    fn reset_done(&mut self, py: Python<'_>) -> PyResult<()> {
        let (env, buf) = (&mut self.env, &mut self.buf);
        py.detach(|| env.v().reset_done(buf)).map_err(env_err)?;
        self.fill();
        Ok(())
    }
}

impl DecisionVec {
    fn fill(&mut self) {
        for (i, f) in self.buf.infos.iter().enumerate() {
            self.task[i] = f.task as i64;
            self.correct[i] = f.correct == Some(true);
            self.has_correct[i] = f.correct.is_some();
            self.aborted[i] = f.aborted;
        }
    }
}
