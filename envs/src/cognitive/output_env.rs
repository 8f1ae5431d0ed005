//! Any task as an RL env whose action is the network's output vector (the supervised target's layout):
//! reward is minus the cost-weighted squared error of the step, and the trial's score comes at its end.

use serde::Serialize;

use super::cursor::TrialCursor;
use super::decision_env::DecisionOptions;
use super::task_set::TaskSet;
use crate::env::{check_finite, Env, Transition};
use crate::error::{EnvError, Result};
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
    cursor: TrialCursor,
    obs_space: Space,
    action_space: Space,
    outputs: Vec<f32>,
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
            cursor: TrialCursor::new(set),
            obs_space,
            action_space,
            outputs: Vec::new(),
        })
    }

    pub fn task_set(&self) -> &TaskSet {
        &self.cursor.set
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
        let task = self.cursor.reset(seed, options.task, obs)?;
        self.outputs.clear();
        Ok(OutputInfo {
            task,
            ..OutputInfo::default()
        })
    }

    fn step_into(&mut self, action: &[f32; N], obs: &mut [f32]) -> Result<Transition<OutputInfo>> {
        let trial = self.cursor.running(obs)?;
        check_finite(action)?;
        let t = self.cursor.t;
        let (y, m) = (trial.target(t), &trial.mask[t * N..(t + 1) * N]);
        let cost: f64 = (0..N)
            .map(|k| f64::from(m[k]) * f64::from(action[k] - y[k]).powi(2))
            .sum();
        self.outputs.extend_from_slice(action);
        let mut info = OutputInfo {
            task: self.cursor.task,
            step: t,
            score: None,
        };
        if t + 1 == trial.steps {
            info.score = Some(self.cursor.set.tasks()[self.cursor.task].score(trial, &self.outputs));
            self.cursor.done = true;
        }
        self.cursor.advance(obs);
        Ok(Transition {
            reward: -cost,
            terminated: self.cursor.done,
            truncated: false,
            info,
        })
    }
}
