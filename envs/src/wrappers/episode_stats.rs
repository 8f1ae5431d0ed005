//! [`EpisodeStats`]: return and length of each finished episode, in the info of its last step.

use serde::{Deserialize, Serialize};

use crate::env::{Env, Transition};
use crate::error::Result;
use crate::space::Space;

/// Return and length of a finished episode (Gymnasium's `RecordEpisodeStatistics`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EpisodeStatistics {
    /// Sum of rewards.
    pub episode_return: f64,
    /// Number of steps.
    pub length: u32,
}

/// The wrapped env's info plus, on the last step of an episode, its statistics.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StatsInfo<I> {
    /// The wrapped env's info.
    pub inner: I,
    /// Set on the step that ends an episode.
    pub episode: Option<EpisodeStatistics>,
}

/// Records the return and length of every episode.
#[derive(Debug, Clone)]
pub struct EpisodeStats<E> {
    env: E,
    current: EpisodeStatistics,
}

impl<E: Env> EpisodeStats<E> {
    /// Wraps `env`.
    pub fn new(env: E) -> Self {
        EpisodeStats {
            env,
            current: EpisodeStatistics::default(),
        }
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

impl<E: Env> Env for EpisodeStats<E> {
    type Action = E::Action;
    type Info = StatsInfo<E::Info>;
    type Options = E::Options;

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &E::Options, obs: &mut [f32]) -> Result<Self::Info> {
        self.current = EpisodeStatistics::default();
        Ok(StatsInfo {
            inner: self.env.reset_into(seed, options, obs)?,
            episode: None,
        })
    }

    fn step_into(&mut self, action: &E::Action, obs: &mut [f32]) -> Result<Transition<Self::Info>> {
        let t = self.env.step_into(action, obs)?;
        self.current.episode_return += t.reward;
        self.current.length += 1;
        let done = t.done();
        Ok(Transition {
            reward: t.reward,
            terminated: t.terminated,
            truncated: t.truncated,
            info: StatsInfo {
                inner: t.info,
                episode: done.then_some(self.current),
            },
        })
    }
}
