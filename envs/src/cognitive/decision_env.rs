//! Ring tasks as an RL env: fixate (action 0) or choose one of the ring's directions (action k points at
//! `2π(k−1)/n`). A choice in the response period ends the trial; the rules default to Mod-Cog's.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::cursor::TrialCursor;
use super::ring;
use super::task_set::TaskSet;
use super::trial::{Response, Trial};
use crate::env::{Env, Transition};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, Space};

/// When choosing before the response period is penalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortPeriod {
    /// Only in the first fixation epoch (`fix1`), as NeuroGym's `in_period('fixation')` in Mod-Cog's
    /// `_step`; a choice during the stimulus or delay is ignored.
    Fixation,
    /// At any step before the response period.
    BeforeResponse,
}

/// How a choice in the response period is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceScoring {
    /// The chosen direction must be the ring unit nearest the target (Mod-Cog: `action == gt`).
    Exact,
    /// Within 0.2π of the target (Yang et al.'s `get_perf` on the population-vector read-out).
    Tolerance,
}

/// Rewards and rules of [`DecisionEnv`]. The default is Mod-Cog's (mikailkhona/Mod_Cog
/// `mod_cog_tasks.py`, on NeuroGym): +1 for the correct choice, 0 for a wrong one, −0.1 for each step
/// of choosing during the fixation epoch without ending the trial (`abort = False`), a choice scored
/// `action == gt`, and nothing for withholding on a no-go trial. [`DecisionRewards::yang_tolerance`] is
/// this crate's earlier rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionRewards {
    pub correct: f64,
    pub fail: f64,
    /// For choosing during the penalised period (`abort_period`).
    pub abort: f64,
    /// Whether a penalised choice ends the trial (NeuroGym's `abort`); if not, it is paid each step.
    pub abort_ends_trial: bool,
    pub abort_period: AbortPeriod,
    pub scoring: ChoiceScoring,
    /// Pay `correct` when a no-go trial ends with fixation held (the reference pays nothing).
    pub reward_nogo_hold: bool,
}

impl Default for DecisionRewards {
    fn default() -> Self {
        DecisionRewards {
            correct: 1.0,
            fail: 0.0,
            abort: -0.1,
            abort_ends_trial: false,
            abort_period: AbortPeriod::Fixation,
            scoring: ChoiceScoring::Exact,
            reward_nogo_hold: false,
        }
    }
}

impl DecisionRewards {
    /// Every payment is finite; the error names the key (`rewards.<name>`).
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("correct", self.correct), ("fail", self.fail), ("abort", self.abort)] {
            if !v.is_finite() {
                return Err(EnvError::config(format!("rewards.{key}"), "must be finite"));
            }
        }
        Ok(())
    }

    /// The rule this env had before it followed the reference: any choice before the response period
    /// ends the trial with −0.1, a choice within 0.2π of the target is correct, and a held no-go trial
    /// earns `correct` (a denser signal for policy-gradient training).
    pub fn yang_tolerance() -> Self {
        DecisionRewards {
            abort_ends_trial: true,
            abort_period: AbortPeriod::BeforeResponse,
            scoring: ChoiceScoring::Tolerance,
            reward_nogo_hold: true,
            ..DecisionRewards::default()
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
/// with `correct` or `fail`; a choice in the penalised period before it pays `abort` (and ends the trial
/// if `abort_ends_trial`); reaching the trial's end without a choice is correct only on a no-go trial.
/// Every end is `terminated` (the trial is over), never `truncated`. See [`DecisionRewards`].
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
        rewards.validate()?;
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
        let r = self.rewards;
        if *action != 0 {
            if t < trial.go {
                let penalised = match r.abort_period {
                    AbortPeriod::BeforeResponse => true,
                    AbortPeriod::Fixation => trial.epoch("fix1").is_none_or(|e| t < e.end),
                };
                if penalised {
                    reward = r.abort;
                    if r.abort_ends_trial {
                        info.aborted = true;
                        end = Some(false);
                    }
                }
            } else {
                let n_ring = self.cursor.set.conventions().n_ring;
                let ok = match trial.response[t] {
                    Response::Fixate => false,
                    Response::Ring(target) => match r.scoring {
                        ChoiceScoring::Tolerance => ring::periodic_distance(self.direction(*action), target) < 0.2 * PI,
                        ChoiceScoring::Exact => {
                            let nearest = (target / (2.0 * PI / n_ring as f64)).round() as usize % n_ring;
                            *action - 1 == nearest
                        }
                    },
                };
                end = Some(ok);
            }
        }
        let timed_out = end.is_none() && t + 1 == trial.steps;
        if timed_out {
            end = Some(trial.response[trial.steps - 1] == Response::Fixate);
        }
        if let Some(ok) = end {
            if !info.aborted {
                reward = match (ok, timed_out) {
                    // Withholding to the end: a held no-go trial, or a go trial never answered.
                    (true, true) if !r.reward_nogo_hold => 0.0,
                    (true, _) => r.correct,
                    (false, _) => r.fail,
                };
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
