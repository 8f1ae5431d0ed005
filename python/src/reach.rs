//! One reaching env for Python: [`ReachCore`], built from a config dict or a scenario file, moving any
//! effector its config names: the 2-D point mass or arm ([`ReachEnv`](reachlab_envs::reach::ReachEnv)) or
//! MotorNet's six-muscle arm (`Reach<Arm26>`).

use std::path::Path;

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use reachlab_envs::effector::Effector;
use reachlab_envs::reach::{EffectorVisitor, Epoch, Phase, Reach, ReachConfig, ReachInfo, ReachOptions, TrialType};
use reachlab_envs::{Env, Result as EnvResult, Space, SpaceValue};
use reachlab_scenarios::builtin::{self, AnyScenario};

use crate::{env_err, from_json, scenario_err, ResetOut, StepOut};

/// What [`ReachCore`] does with a reaching env, whichever effector it moves (their action and info types
/// differ). Built by the one visitor over effector kinds ([`EffectorConfig::visit`](reachlab_envs::reach::EffectorConfig::visit)), so a new effector
/// needs nothing here. Boxed: a step from Python costs far more than the indirection.
trait ReachAny: Send + Sync {
    fn config(&self) -> &ReachConfig;
    fn phase(&self) -> &Phase;
    fn set_phase(&mut self, phase: Phase) -> EnvResult<()>;
    fn obs_dim(&self) -> usize;
    fn observation_space(&self) -> &Space;
    fn action_space(&self) -> &Space;
    /// Resets into `obs`; the info as a dict.
    fn reset<'py>(
        &mut self,
        py: Python<'py>,
        seed: Option<u64>,
        options: &ReachOptions,
        obs: &mut [f32],
    ) -> PyResult<Bound<'py, PyDict>>;
    /// Steps with the action's numbers into `obs`: `(reward, terminated, truncated, info)`.
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        action: &[f32],
        obs: &mut [f32],
    ) -> PyResult<(f64, bool, bool, Bound<'py, PyDict>)>;
}

impl<B: Effector> ReachAny for Reach<B> {
    fn config(&self) -> &ReachConfig {
        Reach::config(self)
    }
    fn phase(&self) -> &Phase {
        Reach::phase(self)
    }
    fn set_phase(&mut self, phase: Phase) -> EnvResult<()> {
        Reach::set_phase(self, phase)
    }
    fn obs_dim(&self) -> usize {
        Env::obs_dim(self)
    }
    fn observation_space(&self) -> &Space {
        Env::observation_space(self)
    }
    fn action_space(&self) -> &Space {
        Env::action_space(self)
    }
    fn reset<'py>(
        &mut self,
        py: Python<'py>,
        seed: Option<u64>,
        options: &ReachOptions,
        obs: &mut [f32],
    ) -> PyResult<Bound<'py, PyDict>> {
        info_dict(py, &self.reset_into(seed, options, obs).map_err(env_err)?)
    }
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        action: &[f32],
        obs: &mut [f32],
    ) -> PyResult<(f64, bool, bool, Bound<'py, PyDict>)> {
        let a = B::Action::from_flat(action).map_err(env_err)?;
        let t = self.step_into(&a, obs).map_err(env_err)?;
        Ok((t.reward, t.terminated, t.truncated, info_dict(py, &t.info)?))
    }
}

/// Builds the env of the effector its config names.
struct Build(ReachConfig);

impl EffectorVisitor for Build {
    type Output = EnvResult<Box<dyn ReachAny>>;
    fn visit<B: Effector>(self) -> Self::Output {
        Ok(Box::new(Reach::<B>::new(self.0)?))
    }
}

/// A reaching env and the phases it can be switched to by name.
#[pyclass(module = "reachlab._reachlab")]
pub struct ReachCore {
    env: Box<dyn ReachAny>,
    phases: Vec<Phase>,
    obs: Vec<f32>,
}

#[pymethods]
impl ReachCore {
    /// From a config dict serialised as JSON (every key of `[env]` in a scenario file; missing keys take
    /// their defaults) and a list of phases (dicts of `[[phase]]` keys, JSON), the first one active.
    #[new]
    #[pyo3(signature = (config_json, phases_json = None))]
    fn new(config_json: &str, phases_json: Option<&str>) -> PyResult<Self> {
        let config: ReachConfig = from_json("config", config_json)?;
        let phases: Vec<Phase> = match phases_json {
            Some(p) => from_json("phases", p)?,
            None => Vec::new(),
        };
        Self::build(config, phases)
    }

    /// The env of a reaching scenario (a built-in name, a file path, or TOML text) with its pretraining
    /// stage and phases, pretraining active.
    #[staticmethod]
    fn from_scenario(scenario: &str) -> PyResult<Self> {
        let s = match load_scenario(scenario)? {
            AnyScenario::Reaching(s) => *s,
            AnyScenario::Tasks(s) => {
                return Err(PyValueError::new_err(format!(
                    "`{}` is a task scenario; use reachlab.DecisionEnv or reachlab.OutputEnv with its tasks",
                    s.name
                )))
            }
        };
        let phases = std::iter::once(&s.pretraining)
            .chain(&s.phases)
            .map(|st| st.phase())
            .collect();
        Self::build(s.env, phases)
    }

    /// The config as JSON (every key, defaults written out).
    fn config_json(&self) -> PyResult<String> {
        serde_json::to_string(self.env.config()).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Names of the phases known by name.
    fn phase_names(&self) -> Vec<String> {
        self.phases.iter().map(|p| p.name.clone()).collect()
    }

    /// The active phase as JSON.
    fn phase_json(&self) -> PyResult<String> {
        serde_json::to_string(self.env.phase()).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Switches to a phase by name (from the scenario) for the next episode.
    fn set_phase_named(&mut self, name: &str) -> PyResult<()> {
        let Some(p) = self.phases.iter().find(|p| p.name == name) else {
            let known: Vec<_> = self.phases.iter().map(|p| p.name.as_str()).collect();
            return Err(PyValueError::new_err(format!(
                "no phase `{name}` (known: {}); give a phase dict instead",
                known.join(", ")
            )));
        };
        let p = p.clone();
        self.env.set_phase(p).map_err(env_err)
    }

    /// Switches to a phase given as JSON (keys of a `[[phase]]` table) for the next episode.
    fn set_phase_json(&mut self, json: &str) -> PyResult<()> {
        let phase: Phase = from_json("phase", json)?;
        self.env.set_phase(phase).map_err(env_err)
    }

    /// `(low, high)` of the observation box, as lists.
    fn observation_bounds(&self) -> (Vec<f32>, Vec<f32>) {
        bounds(self.env.observation_space())
    }

    /// `(low, high)` of the action box, as lists.
    fn action_bounds(&self) -> (Vec<f32>, Vec<f32>) {
        bounds(self.env.action_space())
    }

    /// Starts an episode: `(obs, info)`. `trial_type` is "normal", "catch" or "channel".
    #[pyo3(signature = (seed = None, target = None, trial_type = None))]
    fn reset<'py>(
        &mut self,
        py: Python<'py>,
        seed: Option<u64>,
        target: Option<usize>,
        trial_type: Option<&str>,
    ) -> PyResult<ResetOut<'py>> {
        let options = ReachOptions {
            target,
            trial_type: trial_type.map(parse_trial_type).transpose()?,
        };
        let obs = &mut self.obs;
        let info = self.env.reset(py, seed, &options, obs)?;
        Ok((PyArray1::from_slice(py, &self.obs), info))
    }

    /// One step: `(obs, reward, terminated, truncated, info)`. The action is any sequence of as many
    /// numbers as the effector has actuators (2, or 6 excitations for arm26).
    fn step<'py>(&mut self, py: Python<'py>, action: &Bound<'py, PyAny>) -> PyResult<StepOut<'py>> {
        let obs = &mut self.obs;
        let (reward, terminated, truncated, info) = self.env.step(py, &action_values(action)?, obs)?;
        Ok((PyArray1::from_slice(py, &self.obs), reward, terminated, truncated, info))
    }
}

impl ReachCore {
    fn build(config: ReachConfig, phases: Vec<Phase>) -> PyResult<Self> {
        let mut env = config.effector.clone().visit(Build(config)).map_err(env_err)?;
        if let Some(first) = phases.first() {
            env.set_phase(first.clone()).map_err(env_err)?;
        }
        let obs = vec![0.0; env.obs_dim()];
        Ok(ReachCore { env, phases, obs })
    }
}

/// A scenario by built-in name, path, or TOML text (a text holds a newline or an `=`).
pub(crate) fn load_scenario(scenario: &str) -> PyResult<AnyScenario> {
    if scenario.contains('\n') || (scenario.contains('=') && !Path::new(scenario).exists()) {
        AnyScenario::from_toml(scenario, Path::new("<scenario text>")).map_err(scenario_err)
    } else {
        builtin::resolve_any(scenario).map_err(scenario_err)
    }
}

pub(crate) fn bounds(space: &Space) -> (Vec<f32>, Vec<f32>) {
    match space.as_box() {
        Some(b) => (b.low.clone(), b.high.clone()),
        None => (Vec::new(), Vec::new()),
    }
}

fn parse_trial_type(s: &str) -> PyResult<TrialType> {
    match s {
        "normal" => Ok(TrialType::Normal),
        "catch" => Ok(TrialType::Catch),
        "channel" => Ok(TrialType::Channel),
        _ => Err(PyValueError::new_err(format!(
            "trial_type `{s}`: expected \"normal\", \"catch\" or \"channel\""
        ))),
    }
}

/// An action's numbers, from a float32 array (fast path) or any sequence of numbers.
fn action_values(action: &Bound<'_, PyAny>) -> PyResult<Vec<f32>> {
    if let Ok(a) = action.extract::<PyReadonlyArray1<'_, f32>>() {
        if let Ok(v) = a.as_slice() {
            return Ok(v.to_vec());
        }
    }
    let v: Vec<f64> = action
        .extract()
        .map_err(|_| PyValueError::new_err("the action must be a sequence of numbers"))?;
    Ok(v.into_iter().map(|x| x as f32).collect())
}

pub(crate) fn epoch_name(e: Epoch) -> &'static str {
    match e {
        Epoch::Hold => "hold",
        Epoch::Cue => "cue",
        Epoch::Move => "move",
        Epoch::End => "end",
    }
}

pub(crate) fn trial_type_name(t: TrialType) -> &'static str {
    match t {
        TrialType::Normal => "normal",
        TrialType::Catch => "catch",
        TrialType::Channel => "channel",
    }
}

/// The info as a dict (Gymnasium's `info`); positions in m relative to the start, forces in N; `action`
/// the action applied in the step (after clipping), as a recording stores it.
fn info_dict<'py, C: AsRef<[f64]>>(py: Python<'py>, i: &ReachInfo<C>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("step", i.step)?;
    d.set_item("epoch", epoch_name(i.epoch))?;
    d.set_item("target", i.target)?;
    d.set_item("target_pos", PyList::new(py, i.target_pos)?)?;
    d.set_item("trial_type", trial_type_name(i.trial_type))?;
    d.set_item("field_on", i.field_on)?;
    d.set_item("field_b", i.field_b)?;
    d.set_item("hand_pos", PyList::new(py, i.hand.pos)?)?;
    d.set_item("hand_vel", PyList::new(py, i.hand.vel)?)?;
    d.set_item("field_force", PyList::new(py, i.field_force)?)?;
    d.set_item("action", PyList::new(py, i.action.as_ref())?)?;
    d.set_item("cue_step", i.cue_step)?;
    d.set_item("go_step", i.go_step)?;
    d.set_item("success", i.success)?;
    d.set_item("premature", i.premature)?;
    Ok(d)
}
