//! Ring tasks as an RL env: fixate (action 0) or choose one of the ring's directions (action k points at
//! `2π(k−1)/n`). A choice ends the trial.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::cursor::TrialCursor;
use super::ring;
use super::task_set::TaskSet;
use super::trial::{Response, Trial};
use crate::env::{Env, Transition};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, Space};

/// Rewards of [`DecisionEnv`] (NeuroGym's defaults: +1 correct, 0 wrong, −0.1 for breaking fixation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionRewards {
    pub correct: f64,
    pub fail: f64,
    /// For leaving fixation before the response period.
    pub abort: f64,
    /// Whether breaking fixation ends the trial (NeuroGym's `abort`); if not, the penalty is paid each step.
    pub abort_ends_trial: bool,
}

impl Default for DecisionRewards {
    fn default() -> Self {
        DecisionRewards {
            correct: 1.0,
            fail: 0.0,
            abort: -0.1,
            abort_ends_trial: true,
        }
    }
}

/// Per-step information of [`DecisionEnv`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DecisionInfo {
    /// Index of the trial's task in the env's [`TaskSet`].
    pub task: usize,
    /// Step of the trial the action was taken at.
    pub step: usize,
    /// Set when the trial ends: whether the behaviour was correct (Yang et al.'s criterion: a choice
    /// within 0.2π of the target in the response period, or holding fixation on a no-go trial).
    pub correct: Option<bool>,
    /// The trial ended because fixation was broken before the response period.
    pub aborted: bool,
}

/// Reset options: force the task of the next trial.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionOptions {
    pub task: Option<usize>,
}

/// A [`TaskSet`] of ring tasks as an [`Env`] with a discrete action space `{0 = fixate, 1..=n}`;
/// observations are the trial's inputs (stimulus, rule units, input noise).
///
/// Each episode is one trial of a task drawn by weight. A choice in the response period ends the trial
/// with `correct` or `fail`; a choice before it pays `abort` (and ends the trial if `abort_ends_trial`);
/// reaching the trial's end without a choice is correct only on a no-go trial. Every end is `terminated`
/// (the trial is over), never `truncated`.
pub struct DecisionEnv {
    cursor: TrialCursor,
    rewards: DecisionRewards,
    obs_space: Space,
    action_space: Space,
}

impl DecisionEnv {
    pub fn new(set: TaskSet, rewards: DecisionRewards) -> Result<Self> {
        if !set.all_ring() {
            return Err(EnvError::config(
                "tasks.names",
                "DecisionEnv runs ring tasks only (use OutputEnv for flipflop, context_integration, sine_wave)",
            ));
        }
        for (key, v) in [
            ("correct", rewards.correct),
            ("fail", rewards.fail),
            ("abort", rewards.abort),
        ] {
            if !v.is_finite() {
                return Err(EnvError::config(format!("rewards.{key}"), "must be finite"));
            }
        }
        let obs_space = Space::Box(BoxSpace::uniform(set.input_dim(), f32::NEG_INFINITY, f32::INFINITY));
        let action_space = Space::Discrete {
            n: 1 + set.conventions().n_ring,
        };
        Ok(DecisionEnv {
            cursor: TrialCursor::new(set),
            rewards,
            obs_space,
            action_space,
        })
    }

    pub fn task_set(&self) -> &TaskSet {
        &self.cursor.set
    }

    /// The current trial (after a reset).
    pub fn trial(&self) -> Option<&Trial> {
        self.cursor.trial()
    }

    /// The direction action `k ≥ 1` points at.
    pub fn direction(&self, action: usize) -> f64 {
        2.0 * PI * (action - 1) as f64 / self.cursor.set.conventions().n_ring as f64
    }
}

impl Env for DecisionEnv {
    type Action = usize;
    type Info = DecisionInfo;
    type Options = DecisionOptions;

    fn observation_space(&self) -> &Space {
        &self.obs_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &DecisionOptions, obs: &mut [f32]) -> Result<DecisionInfo> {
        let task = self.cursor.reset(seed, options.task, obs)?;
        Ok(DecisionInfo {
            task,
            ..DecisionInfo::default()
        })
    }

    fn step_into(&mut self, action: &usize, obs: &mut [f32]) -> Result<Transition<DecisionInfo>> {
        let n = 1 + self.cursor.set.conventions().n_ring;
        let trial = self.cursor.running(obs)?;
        if *action >= n {
            return Err(EnvError::ActionOutOfRange { value: *action, n });
        }
        let t = self.cursor.t;
        let mut info = DecisionInfo {
            task: self.cursor.task,
            step: t,
            ..DecisionInfo::default()
        };
        let mut reward = 0.0;
        let mut end = None;
        if *action != 0 {
            if t < trial.go {
                reward = self.rewards.abort;
                if self.rewards.abort_ends_trial {
                    info.aborted = true;
                    end = Some(false);
                }
            } else {
                let ok = match trial.response[t] {
                    Response::Fixate => false,
                    Response::Ring(target) => ring::periodic_distance(self.direction(*action), target) < 0.2 * PI,
                };
                end = Some(ok);
            }
        }
        if end.is_none() && t + 1 == trial.steps {
            end = Some(trial.response[trial.steps - 1] == Response::Fixate);
        }
        if let Some(ok) = end {
            if !info.aborted {
                reward = if ok { self.rewards.correct } else { self.rewards.fail };
            }
            info.correct = Some(ok);
            self.cursor.done = true;
        }
        self.cursor.advance(obs);
        Ok(Transition {
            reward,
            terminated: self.cursor.done,
            truncated: false,
            info,
        })
    }
}
