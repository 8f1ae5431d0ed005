//! Any task as an RL env whose action is the network's output vector (the supervised target's layout):
//! reward is minus the cost-weighted squared error of the step, and the trial's score comes at its end.

use serde::Serialize;

use super::decision_env::{check_len, DecisionOptions};
use super::task_set::TaskSet;
use super::trial::Trial;
use crate::env::{check_finite, Env, Transition};
use crate::error::{EnvError, Result};
use crate::seeding::{rng_from_entropy, rng_from_seed, EnvRng};
use crate::space::{BoxSpace, Space};

/// Per-step information of [`OutputEnv`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutputInfo {
    pub task: usize,
    pub step: usize,
    /// At the trial's end: the task's score of the outputs given during the trial (in `[0, 1]`).
    pub score: Option<f64>,
}

/// A [`TaskSet`] whose `N` outputs are the action (`N` must equal the set's output dimension).
pub struct OutputEnv<const N: usize> {
    set: TaskSet,
    obs_space: Space,
    action_space: Space,
    rng: Option<EnvRng>,
    trial: Option<Trial>,
    outputs: Vec<f32>,
    task: usize,
    t: usize,
    done: bool,
}

impl<const N: usize> OutputEnv<N> {
    pub fn new(set: TaskSet) -> Result<Self> {
        if set.output_dim() != N {
            return Err(EnvError::config(
                "tasks",
                format!("the set has {} outputs, the env was built for {N}", set.output_dim()),
            ));
        }
        let obs_space = Space::Box(BoxSpace::uniform(set.input_dim(), f32::NEG_INFINITY, f32::INFINITY));
        let action_space = Space::Box(BoxSpace::uniform(N, -10.0, 10.0));
        Ok(OutputEnv {
            set,
            obs_space,
            action_space,
            rng: None,
            trial: None,
            outputs: Vec::new(),
            task: 0,
            t: 0,
            done: true,
        })
    }

    pub fn task_set(&self) -> &TaskSet {
        &self.set
    }
}

impl<const N: usize> Env for OutputEnv<N> {
    type Action = [f32; N];
    type Info = OutputInfo;
    type Options = DecisionOptions;

    fn observation_space(&self) -> &Space {
        &self.obs_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &DecisionOptions, obs: &mut [f32]) -> Result<OutputInfo> {
        check_len(obs, self.set.input_dim())?;
        if let Some(s) = seed {
            self.rng = Some(rng_from_seed(s));
        }
        let rng = self.rng.get_or_insert_with(rng_from_entropy);
        let task = match options.task {
            Some(k) if k < self.set.tasks().len() => k,
            Some(k) => return Err(EnvError::config("options.task", format!("{k} is not a task index"))),
            None => self.set.sample_task(rng),
        };
        let trial = self.set.trial_of(task, rng);
        obs.copy_from_slice(trial.input(0));
        self.outputs.clear();
        self.trial = Some(trial);
        self.task = task;
        self.t = 0;
        self.done = false;
        Ok(OutputInfo {
            task,
            ..OutputInfo::default()
        })
    }

    fn step_into(&mut self, action: &[f32; N], obs: &mut [f32]) -> Result<Transition<OutputInfo>> {
        check_len(obs, self.set.input_dim())?;
        if self.done {
            return Err(EnvError::NeedsReset {
                why: "the trial ended (or no reset yet)",
            });
        }
        check_finite(action)?;
        let trial = self.trial.as_ref().expect("reset before step");
        let t = self.t;
        let (y, m) = (trial.target(t), &trial.mask[t * N..(t + 1) * N]);
        let cost: f64 = (0..N)
            .map(|k| f64::from(m[k]) * f64::from(action[k] - y[k]).powi(2))
            .sum();
        self.outputs.extend_from_slice(action);
        self.t += 1;
        let mut info = OutputInfo {
            task: self.task,
            step: t,
            score: None,
        };
        if self.t == trial.steps {
            info.score = Some(self.set.tasks()[self.task].score(trial, &self.outputs));
            self.done = true;
        }
        obs.copy_from_slice(trial.input(self.t.min(trial.steps - 1)));
        Ok(Transition {
            reward: -cost,
            terminated: self.done,
            truncated: false,
            info,
        })
    }
}
