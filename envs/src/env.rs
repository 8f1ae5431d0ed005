//! The [`Env`] trait: Gymnasium 1.x semantics with typed actions, typed info and `Result`s.

use std::fmt::Debug;

use serde::Serialize;

use crate::error::Result;
use crate::space::{Space, SpaceValue};

/// What one step returns (allocating form, for convenience; vector envs use [`Transition`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step<I> {
    /// Observation after the step.
    pub obs: Vec<f32>,
    /// Reward for the transition.
    pub reward: f64,
    /// The MDP reached a terminal state: do not bootstrap the value from `obs`.
    pub terminated: bool,
    /// The episode was cut by a time limit: bootstrap the value from `obs`.
    pub truncated: bool,
    /// Per-step information, typed per env.
    pub info: I,
}

/// A step's result without the observation, which [`Env::step_into`] writes into a caller-owned buffer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Transition<I> {
    /// Reward for the transition.
    pub reward: f64,
    /// The MDP reached a terminal state (no bootstrap).
    pub terminated: bool,
    /// The episode was cut by a time limit (bootstrap).
    pub truncated: bool,
    /// Per-step information.
    pub info: I,
}

impl<I> Transition<I> {
    /// True when the episode is over, for either reason.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// An environment with flat `f32` observations.
///
/// Semantics follow Gymnasium 1.x: seed once at `reset(Some(seed))`, after which `reset(None)` continues
/// the same random stream; `terminated` marks an MDP terminal state and `truncated` a time limit; after
/// either, `step` returns [`EnvError::NeedsReset`](crate::EnvError::NeedsReset) until the next reset.
/// A non-finite action is refused with [`EnvError::NonFiniteAction`](crate::EnvError::NonFiniteAction)
/// before anything changes.
///
/// Implementors write [`reset_into`](Env::reset_into) and [`step_into`](Env::step_into), which fill a
/// caller-owned observation buffer and allocate nothing; [`reset`](Env::reset) and [`step`](Env::step)
/// are the allocating conveniences.
pub trait Env: Send {
    /// The action type (for example `[f32; 2]` for a 2-D box, `usize` for a discrete space).
    type Action: SpaceValue + Copy + Debug + Send + Sync + 'static;
    /// Per-step information, serialisable for logs.
    type Info: Clone + Debug + Default + Serialize + Send + Sync + 'static;
    /// Typed reset options (Gymnasium's `options`); `Default` means "none".
    type Options: Default + Clone + Debug + Send + Sync + 'static;

    /// The observation space; observations are always flat `f32` vectors of its `flat_dim()`.
    fn observation_space(&self) -> &Space;
    /// The action space.
    fn action_space(&self) -> &Space;

    /// Starts an episode, writing the first observation into `obs` (length `observation_space().flat_dim()`).
    fn reset_into(&mut self, seed: Option<u64>, options: &Self::Options, obs: &mut [f32]) -> Result<Self::Info>;

    /// Advances one step, writing the next observation into `obs`.
    fn step_into(&mut self, action: &Self::Action, obs: &mut [f32]) -> Result<Transition<Self::Info>>;

    /// Length of a flat observation.
    fn obs_dim(&self) -> usize {
        self.observation_space().flat_dim()
    }

    /// Starts an episode: `(obs, info)`.
    fn reset(&mut self, seed: Option<u64>, options: &Self::Options) -> Result<(Vec<f32>, Self::Info)> {
        let mut obs = vec![0.0; self.obs_dim()];
        let info = self.reset_into(seed, options, &mut obs)?;
        Ok((obs, info))
    }

    /// Advances one step: `Step { obs, reward, terminated, truncated, info }`.
    fn step(&mut self, action: &Self::Action) -> Result<Step<Self::Info>> {
        let mut obs = vec![0.0; self.obs_dim()];
        let t = self.step_into(action, &mut obs)?;
        Ok(Step {
            obs,
            reward: t.reward,
            terminated: t.terminated,
            truncated: t.truncated,
            info: t.info,
        })
    }
}

/// Returns `Err(NonFiniteAction)` naming the first NaN or infinite component.
pub fn check_finite(action: &[f32]) -> Result<()> {
    match action.iter().position(|a| !a.is_finite()) {
        Some(index) => Err(crate::EnvError::NonFiniteAction {
            index,
            value: f64::from(action[index]),
        }),
        None => Ok(()),
    }
}
