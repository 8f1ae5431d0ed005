//! # reachlab-envs
//!
//! Gymnasium-style environments for reachlab, with no tensor library.
//!
//! - [`Env`]: `reset(seed, options) -> (obs, info)` and `step(&action) -> Step { obs, reward, terminated,
//!   truncated, info }`, typed [`Space`]s, typed serialisable infos, `Result`s instead of panics.
//! - [`reach::ReachEnv`]: delayed centre-out reaching with a point mass or a two-link arm, in null, curl,
//!   viscous or force-channel fields, switched by [`reach::Phase`] between episodes.
//! - [`effector`]: the physics, including an exact integrator for velocity-dependent fields.
//! - [`SyncVecEnv`] and [`ThreadedVecEnv`]: N envs stepped into caller-owned [`VecBuffers`] with a
//!   declared [`AutoresetMode`]; bit-identical for any thread count.
//! - [`wrappers`]: time limit, observation noise, sensory delay, episode statistics.
//! - [`check_env`]: Gymnasium's env checker.
//!
//! ```
//! use reachlab_envs::{Env, reach::{FieldSpec, Phase, ReachConfig, ReachEnv, ReachOptions}};
//!
//! let mut env = ReachEnv::new(ReachConfig::default())?;
//! env.set_phase(Phase { field: FieldSpec::Curl { b: 10.0 }, ..Phase::null("learning") })?;
//! let (mut obs, _info) = env.reset(Some(7), &ReachOptions::default())?;
//! let (mut steps, mut held) = (0, false);
//! loop {
//!     // A hand-written agent: push toward the target once the go cue (obs[2]) is on.
//!     let go = obs[2];
//!     let action = [go * (obs[0] - obs[3]) * 20.0 - obs[5] * 5.0, go * (obs[1] - obs[4]) * 20.0 - obs[6] * 5.0];
//!     let step = env.step(&action)?;
//!     obs = step.obs;
//!     steps += 1;
//!     held = step.info.success;
//!     if step.terminated || step.truncated {
//!         break;
//!     }
//! }
//! // It reached the target and held there for 300 ms, which ends the trial before its 150 steps.
//! assert!(held && steps < 150);
//! # Ok::<(), reachlab_envs::EnvError>(())
//! ```

mod check;
pub mod cognitive;
pub mod effector;
mod env;
mod error;
pub mod reach;
pub mod seeding;
mod space;
mod vector;
pub mod wrappers;

pub use check::{check_env, CheckError};
pub use env::{check_finite, Env, Step, Transition};
pub use error::{EnvError, Result};
pub use space::{BoxSpace, Space, SpaceValue};
pub use vector::{AutoresetMode, SyncVecEnv, ThreadedVecEnv, VecBuffers, VectorEnv};
