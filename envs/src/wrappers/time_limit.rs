//! [`TimeLimit`]: truncates an episode after a number of steps.

use crate::env::{Env, Transition};
use crate::error::{EnvError, Result};
use crate::space::Space;

/// Truncates the episode (`truncated = true`, never `terminated`) after `max_steps` steps, unless the
/// env ended it earlier.
#[derive(Debug, Clone)]
pub struct TimeLimit<E> {
    env: E,
    max_steps: u32,
    elapsed: u32,
    ended: bool,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `env` with a limit of `max_steps` (≥ 1).
    pub fn new(env: E, max_steps: u32) -> Result<Self> {
        if max_steps == 0 {
            return Err(EnvError::config("time_limit.max_steps", "must be ≥ 1"));
        }
        Ok(TimeLimit {
            env,
            max_steps,
            elapsed: 0,
            ended: true,
        })
    }

    /// The wrapped env.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped env, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }
}

impl<E: Env> Env for TimeLimit<E> {
    type Action = E::Action;
    type Info = E::Info;
    type Options = E::Options;

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &E::Options, obs: &mut [f32]) -> Result<E::Info> {
        let info = self.env.reset_into(seed, options, obs)?;
        self.elapsed = 0;
        self.ended = false;
        Ok(info)
    }

    fn step_into(&mut self, action: &E::Action, obs: &mut [f32]) -> Result<Transition<E::Info>> {
        if self.ended {
            return Err(EnvError::NeedsReset {
                why: "the time limit ended the episode",
            });
        }
        let mut t = self.env.step_into(action, obs)?;
        self.elapsed += 1;
        if self.elapsed >= self.max_steps && !t.terminated {
            t.truncated = true;
        }
        self.ended = t.done();
        Ok(t)
    }
}
