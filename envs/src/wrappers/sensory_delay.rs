//! [`SensoryDelay`]: chosen observation components arrive `n` steps late.

use std::ops::Range;

use super::check_components;
use crate::env::{Env, Transition};
use crate::error::{EnvError, Result};
use crate::space::Space;

/// Delays observation components `components` by `delay` steps: at step t they read what the env
/// reported at step t − delay (the reset value until then). Other components are current.
/// A ring buffer of `delay + 1` rows; nothing is allocated per step.
#[derive(Debug, Clone)]
pub struct SensoryDelay<E> {
    env: E,
    components: Range<usize>,
    delay: usize,
    ring: Vec<f32>,
    head: usize,
}

impl<E: Env> SensoryDelay<E> {
    /// Delays `components` by `delay` steps (0 is a no-op).
    /// Largest delay line (values): 2²⁶ f32, 256 MiB.
    pub const MAX_VALUES: usize = 1 << 26;

    pub fn new(env: E, delay: usize, components: Range<usize>) -> Result<Self> {
        check_components(&components, env.obs_dim(), "sensory_delay.components")?;
        let width = components.len();
        // The delay line holds (delay + 1) rows of the delayed components; refuse what cannot be held.
        let len = delay
            .checked_add(1)
            .and_then(|rows| rows.checked_mul(width))
            .filter(|&n| n <= Self::MAX_VALUES)
            .ok_or_else(|| {
                EnvError::config(
                    "sensory_delay.delay",
                    format!(
                        "{delay} steps of {width} components exceed the {} values a delay line may hold",
                        Self::MAX_VALUES
                    ),
                )
            })?;
        Ok(SensoryDelay {
            env,
            ring: vec![0.0; len],
            components,
            delay,
            head: 0,
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

    /// Stores the fresh components and replaces them by the ones from `delay` steps ago.
    fn delay_components(&mut self, obs: &mut [f32]) {
        let w = self.components.len();
        let rows = self.delay + 1;
        let fresh = &mut obs[self.components.clone()];
        self.ring[self.head * w..(self.head + 1) * w].copy_from_slice(fresh);
        let oldest = (self.head + 1) % rows;
        fresh.copy_from_slice(&self.ring[oldest * w..(oldest + 1) * w]);
        self.head = oldest;
    }
}

impl<E: Env> Env for SensoryDelay<E> {
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
        let w = self.components.len();
        let fresh = &obs[self.components.clone()];
        for row in self.ring.chunks_exact_mut(w) {
            row.copy_from_slice(fresh);
        }
        self.head = 0;
        Ok(info)
    }

    fn step_into(&mut self, action: &E::Action, obs: &mut [f32]) -> Result<Transition<E::Info>> {
        let t = self.env.step_into(action, obs)?;
        self.delay_components(obs);
        Ok(t)
    }
}
