//! Wrappers users expect from Gymnasium: time limit, observation noise, sensory delay, episode statistics.
//!
//! Each wraps any [`Env`](crate::Env) and is itself an `Env`; `inner()`/`inner_mut()` reach the wrapped env
//! (for example to set a reaching phase). Wrappers with randomness derive their own stream from the reset
//! seed, so the wrapped env's draws are unchanged.

mod episode_stats;
mod obs_noise;
mod sensory_delay;
mod time_limit;

pub use episode_stats::{EpisodeStatistics, EpisodeStats, StatsInfo};
pub use obs_noise::ObservationNoise;
pub use sensory_delay::SensoryDelay;
pub use time_limit::TimeLimit;

use crate::error::{EnvError, Result};

/// Checks that `components` lies within an observation of length `dim`.
fn check_components(components: &std::ops::Range<usize>, dim: usize, key: &str) -> Result<()> {
    if components.start < components.end && components.end <= dim {
        Ok(())
    } else {
        Err(EnvError::config(
            key,
            format!("components {components:?} must be a non-empty range within 0..{dim}"),
        ))
    }
}
