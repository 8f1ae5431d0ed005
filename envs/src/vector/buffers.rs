//! Caller-owned struct-of-arrays buffers that vector envs write into without allocating.

use crate::error::{EnvError, Result};

/// Outputs of a vector env step, one row per sub-env. Allocate once with
/// [`VectorEnv::buffers`](super::VectorEnv::buffers) and reuse.
#[derive(Debug, Clone, PartialEq)]
pub struct VecBuffers<I> {
    /// Observations, row-major `[num_envs × obs_dim]`.
    pub obs: Vec<f32>,
    /// Rewards.
    pub rewards: Vec<f64>,
    /// Terminated flags (MDP terminal; no bootstrap).
    pub terminated: Vec<bool>,
    /// Truncated flags (time limit; bootstrap).
    pub truncated: Vec<bool>,
    /// Infos.
    pub infos: Vec<I>,
    /// In [`AutoresetMode::SameStep`](super::AutoresetMode::SameStep), the final observation of the
    /// episodes that ended this step (rows of other sub-envs are stale).
    pub final_obs: Vec<f32>,
    /// Final infos, as `final_obs`.
    pub final_infos: Vec<I>,
    obs_dim: usize,
}

impl<I: Clone + Default> VecBuffers<I> {
    /// Buffers for `n` sub-envs with observations of length `obs_dim`.
    pub fn new(n: usize, obs_dim: usize) -> Self {
        VecBuffers {
            obs: vec![0.0; n * obs_dim],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            infos: vec![I::default(); n],
            final_obs: vec![0.0; n * obs_dim],
            final_infos: vec![I::default(); n],
            obs_dim,
        }
    }
}

impl<I> VecBuffers<I> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Observation length.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Observation of sub-env `i`.
    pub fn obs_row(&self, i: usize) -> &[f32] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// True when sub-env `i`'s episode ended at this step.
    pub fn done(&self, i: usize) -> bool {
        self.terminated[i] || self.truncated[i]
    }

    pub(crate) fn check(&self, n: usize, obs_dim: usize) -> Result<()> {
        let checks = [
            ("obs", n * obs_dim, self.obs.len()),
            ("final_obs", n * obs_dim, self.final_obs.len()),
            ("rewards", n, self.rewards.len()),
            ("terminated", n, self.terminated.len()),
            ("truncated", n, self.truncated.len()),
            ("infos", n, self.infos.len()),
            ("final_infos", n, self.final_infos.len()),
        ];
        for (what, expected, got) in checks {
            if expected != got {
                return Err(EnvError::BufferSize { what, expected, got });
            }
        }
        Ok(())
    }

    /// A mutable view of rows `start..start + n`.
    pub(crate) fn slice(&mut self, start: usize, n: usize) -> BufSlice<'_, I> {
        let d = self.obs_dim;
        BufSlice {
            obs: &mut self.obs[start * d..(start + n) * d],
            rewards: &mut self.rewards[start..start + n],
            terminated: &mut self.terminated[start..start + n],
            truncated: &mut self.truncated[start..start + n],
            infos: &mut self.infos[start..start + n],
            final_obs: &mut self.final_obs[start * d..(start + n) * d],
            final_infos: &mut self.final_infos[start..start + n],
            obs_dim: d,
        }
    }
}

impl<I: Clone> VecBuffers<I> {
    /// Copies all rows of `src` into rows `start..` of `self` (no allocation).
    pub(crate) fn copy_rows_from(&mut self, start: usize, src: &VecBuffers<I>) {
        let n = src.len();
        let d = self.obs_dim;
        self.obs[start * d..(start + n) * d].copy_from_slice(&src.obs);
        self.final_obs[start * d..(start + n) * d].copy_from_slice(&src.final_obs);
        self.rewards[start..start + n].copy_from_slice(&src.rewards);
        self.terminated[start..start + n].copy_from_slice(&src.terminated);
        self.truncated[start..start + n].copy_from_slice(&src.truncated);
        self.infos[start..start + n].clone_from_slice(&src.infos);
        self.final_infos[start..start + n].clone_from_slice(&src.final_infos);
    }
}

/// Mutable rows of a [`VecBuffers`].
pub(crate) struct BufSlice<'a, I> {
    pub obs: &'a mut [f32],
    pub rewards: &'a mut [f64],
    pub terminated: &'a mut [bool],
    pub truncated: &'a mut [bool],
    pub infos: &'a mut [I],
    pub final_obs: &'a mut [f32],
    pub final_infos: &'a mut [I],
    obs_dim: usize,
}

impl<I> BufSlice<'_, I> {
    pub fn obs_row(&mut self, j: usize) -> &mut [f32] {
        &mut self.obs[j * self.obs_dim..(j + 1) * self.obs_dim]
    }

    pub fn obs_and_final_row(&mut self, j: usize) -> (&mut [f32], &mut [f32]) {
        let r = j * self.obs_dim..(j + 1) * self.obs_dim;
        (&mut self.obs[r.clone()], &mut self.final_obs[r])
    }
}
