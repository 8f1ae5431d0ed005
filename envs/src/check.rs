//! [`check_env`]: the checks of Gymnasium's `env_checker`, for any [`Env`].

use serde::Serialize;

use crate::env::Env;
use crate::error::{EnvError, Result};
use crate::seeding::rng_from_seed;
use crate::space::SpaceValue;

/// What [`check_env`] found wrong.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The env itself returned an error.
    #[error("env error during the check: {0}")]
    Env(#[from] EnvError),
    /// A check failed.
    #[error("check failed: {0}")]
    Failed(String),
}

/// One step as the checker records it: observation, reward, terminated, truncated.
type Record = (Vec<f32>, f64, bool, bool);

/// Runs `steps` random steps twice from `reset(Some(seed))` and checks that: observations lie in the
/// observation space and have its length; the two runs are identical (determinism under a seed);
/// `terminated` and `truncated` are never both set; stepping after the end is refused until reset;
/// infos serialise.
pub fn check_env<E: Env>(env: &mut E, seed: u64, steps: usize) -> Result<(), CheckError>
where
    E::Info: Serialize,
{
    let run = |env: &mut E| -> Result<Vec<Record>, CheckError> {
        let mut rng = rng_from_seed(seed ^ 0xC4EC);
        let (obs, info) = env.reset(Some(seed), &E::Options::default())?;
        check_obs(env, &obs)?;
        serde_json::to_string(&info).map_err(|e| CheckError::Failed(format!("info does not serialise: {e}")))?;
        let mut out = Vec::with_capacity(steps);
        for _ in 0..steps {
            let a = E::Action::sample_from(env.action_space(), &mut rng);
            let s = env.step(&a)?;
            check_obs(env, &s.obs)?;
            if s.terminated && s.truncated {
                return Err(CheckError::Failed("terminated and truncated both set".into()));
            }
            if !s.reward.is_finite() {
                return Err(CheckError::Failed(format!("non-finite reward {}", s.reward)));
            }
            let done = s.terminated || s.truncated;
            out.push((s.obs, s.reward, s.terminated, s.truncated));
            if done {
                match env.step(&a) {
                    Err(EnvError::NeedsReset { .. }) => {}
                    other => {
                        return Err(CheckError::Failed(format!(
                            "stepping after the episode ended should need a reset, got {other:?}"
                        )))
                    }
                }
                env.reset(None, &E::Options::default())?;
            }
        }
        Ok(out)
    };
    let first = run(env)?;
    let second = run(env)?;
    if first != second {
        return Err(CheckError::Failed(format!("two runs from seed {seed} differ")));
    }
    Ok(())
}

fn check_obs<E: Env>(env: &E, obs: &[f32]) -> Result<(), CheckError> {
    let space = env.observation_space();
    if obs.len() != space.flat_dim() {
        return Err(CheckError::Failed(format!(
            "observation has {} components, space has {}",
            obs.len(),
            space.flat_dim()
        )));
    }
    if let Some(b) = space.as_box() {
        if !b.contains(obs) {
            return Err(CheckError::Failed(format!("observation {obs:?} is outside its space")));
        }
    }
    Ok(())
}
