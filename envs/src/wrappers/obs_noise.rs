//! [`ObservationNoise`]: additive Gaussian noise on chosen observation components.

use std::ops::Range;

use rand_distr::{Distribution, Normal};

use super::check_components;
use crate::env::{Env, Transition};
use crate::error::{EnvError, Result};
use crate::seeding::{derive_seed, rng_from_entropy, rng_from_seed, EnvRng};
use crate::space::Space;

/// Adds independent `N(0, σ²)` noise to observation components `components` at reset and every step.
/// Its stream is seeded from the reset seed (a derived sub-stream), so it is reproducible and leaves the
/// wrapped env's own draws unchanged.
#[derive(Debug, Clone)]
pub struct ObservationNoise<E> {
    env: E,
    components: Range<usize>,
    normal: Normal<f32>,
    rng: Option<EnvRng>,
}

impl<E: Env> ObservationNoise<E> {
    /// Noise of standard deviation `sigma` (≥ 0) on `components`.
    pub fn new(env: E, sigma: f32, components: Range<usize>) -> Result<Self> {
        check_components(&components, env.obs_dim(), "obs_noise.components")?;
        let normal = Normal::new(0.0, sigma)
            .ok()
            // rand_distr accepts a negative standard deviation (it mirrors the samples); refuse it.
            .filter(|_| sigma.is_finite() && sigma >= 0.0)
            .ok_or_else(|| EnvError::config("obs_noise.sigma", format!("must be finite and ≥ 0, got {sigma}")))?;
        Ok(ObservationNoise {
            env,
            components,
            normal,
            rng: None,
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

    fn add_noise(&mut self, obs: &mut [f32]) {
        let rng = self.rng.get_or_insert_with(rng_from_entropy);
        for v in &mut obs[self.components.clone()] {
            *v += self.normal.sample(rng);
        }
    }
}

impl<E: Env> Env for ObservationNoise<E> {
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
        if let Some(s) = seed {
            self.rng = Some(rng_from_seed(derive_seed(s, 0x0B54_015E)));
        }
        let info = self.env.reset_into(seed, options, obs)?;
        self.add_noise(obs);
        Ok(info)
    }

    fn step_into(&mut self, action: &E::Action, obs: &mut [f32]) -> Result<Transition<E::Info>> {
        let t = self.env.step_into(action, obs)?;
        self.add_noise(obs);
        Ok(t)
    }
}
