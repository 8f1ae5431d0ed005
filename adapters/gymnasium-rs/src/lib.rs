//! Adapter from reachlab's envs to the `gymnasium-rs` crate's `Env` trait.
//!
//! A crate of its own, outside the workspace (as a feature of `reachlab-envs` it was): `gymnasium-rs`
//! links libpython through pyo3 0.19 and the Python package links it through pyo3 0.30, and two crates
//! that link the same native library cannot share one dependency graph. Build and test it with
//! `cargo test --release --manifest-path adapters/gymnasium-rs/Cargo.toml` (needs `python3` at build time).
//!
//! `gymnasium_rs::core::Env` has no `Result`s, so an error (a NaN action, a bad option) is reported
//! without panicking: the step returns `truncated = true`, reward 0 and `info["error"]` with the message,
//! and the episode must be reset. Seeds are `i32` there; negative seeds map to `u64` by sign extension.

use std::collections::HashMap;

use gymnasium_rs::core::{Env as GymEnv, Info, Options, Reward, Space as GymSpace};
use ndarray::{Array1, Array3};
use serde::de::DeserializeOwned;
use serde_json::Value;

use reachlab_envs::{Env, EnvError, Result, Space, SpaceValue};

/// Wraps a reachlab env as a `gymnasium_rs::core::Env<Vec<f32>, Vec<f32>>`.
#[derive(Debug, Clone)]
pub struct GymnasiumAdapter<E: Env> {
    env: E,
    obs: Vec<f32>,
}

impl<E: Env> GymnasiumAdapter<E> {
    /// Wraps `env`.
    pub fn new(env: E) -> Self {
        let obs = vec![0.0; env.obs_dim()];
        GymnasiumAdapter { env, obs }
    }

    /// The wrapped env.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }
}

fn to_gym_space(space: &Space) -> GymSpace {
    match space {
        Space::Box(b) => GymSpace::Box {
            low: Array1::from(b.low.clone()),
            high: Array1::from(b.high.clone()),
        },
        Space::Discrete { n } => GymSpace::Discrete(i32::try_from(*n).unwrap_or(i32::MAX)),
        // gymnasium-rs has only Discrete and Box; a multi-discrete space is shown as its box of indices.
        Space::MultiDiscrete { nvec } => GymSpace::Box {
            low: Array1::zeros(nvec.len()),
            high: Array1::from(nvec.iter().map(|&n| n.saturating_sub(1) as f32).collect::<Vec<_>>()),
        },
    }
}

fn info_map<I: serde::Serialize>(info: &I) -> Info {
    match serde_json::to_value(info) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        Ok(other) => HashMap::from([("info".to_string(), other)]),
        Err(e) => HashMap::from([("error".to_string(), Value::String(e.to_string()))]),
    }
}

fn error_info(e: &EnvError) -> Info {
    HashMap::from([("error".to_string(), Value::String(e.to_string()))])
}

impl<E: Env> GymnasiumAdapter<E>
where
    E::Options: DeserializeOwned,
{
    fn try_reset(&mut self, seed: Option<i32>, options: Options) -> Result<Info> {
        let opts = if options.is_empty() {
            E::Options::default()
        } else {
            serde_json::from_value(Value::Object(options.into_iter().collect()))
                .map_err(|e| EnvError::config("options", e.to_string()))?
        };
        let seed = seed.map(|s| i64::from(s) as u64);
        let info = self.env.reset_into(seed, &opts, &mut self.obs)?;
        Ok(info_map(&info))
    }
}

impl<E: Env> GymEnv<Vec<f32>, Vec<f32>> for GymnasiumAdapter<E>
where
    E::Options: DeserializeOwned,
{
    fn observation_space(&self) -> GymSpace {
        to_gym_space(self.env.observation_space())
    }

    fn action_space(&self) -> GymSpace {
        to_gym_space(self.env.action_space())
    }

    fn reset(&mut self, seed: Option<i32>, options: Options) -> (Vec<f32>, Info) {
        match self.try_reset(seed, options) {
            Ok(info) => (self.obs.clone(), info),
            Err(e) => (self.obs.clone(), error_info(&e)),
        }
    }

    fn step(&mut self, action: Vec<f32>) -> (Vec<f32>, Reward, bool, bool, Info) {
        let result = E::Action::from_flat(&action).and_then(|a| self.env.step_into(&a, &mut self.obs));
        match result {
            Ok(t) => (
                self.obs.clone(),
                t.reward as f32,
                t.terminated,
                t.truncated,
                info_map(&t.info),
            ),
            Err(e) => (self.obs.clone(), 0.0, false, true, error_info(&e)),
        }
    }

    fn render(&self) -> Option<Array3<u8>> {
        None
    }

    fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use reachlab_envs::reach::{ReachConfig, ReachEnv};

    #[test]
    fn adapter_steps_like_the_native_env_and_reports_errors_in_info() {
        let mut native = ReachEnv::new(ReachConfig::default()).unwrap();
        let mut adapted = GymnasiumAdapter::new(ReachEnv::new(ReachConfig::default()).unwrap());
        let (o1, _) = native.reset(Some(5), &Default::default()).unwrap();
        let (o2, info) = adapted.reset(Some(5), HashMap::new());
        assert_eq!(o1, o2);
        assert!(info.contains_key("go_step"));
        let s = native.step(&[1.0, -1.0]).unwrap();
        let (o, r, term, trunc, _) = adapted.step(vec![1.0, -1.0]);
        assert_eq!((o, r, term, trunc), (s.obs, s.reward as f32, false, false));
        let (_, _, _, trunc, info) = adapted.step(vec![f32::NAN, 0.0]);
        assert!(trunc && info["error"].as_str().unwrap().contains("finite"));
        let opts: Options = HashMap::from([("target".to_string(), Value::from(3))]);
        let (_, info) = adapted.reset(Some(1), opts);
        assert_eq!(info["target"], Value::from(3));
        assert!(matches!(adapted.observation_space(), GymSpace::Box { .. }));
    }
}
