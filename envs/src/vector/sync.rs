//! [`SyncVecEnv`]: sub-envs stepped in order on the calling thread.

use super::{check_sizes, check_step, reset_slice, step_slice, AutoresetMode, ResetWhich, VecBuffers, VectorEnv};
use crate::env::Env;
use crate::error::{EnvError, Result};
use crate::space::Space;

/// Sub-envs stepped one after another on the calling thread: no synchronisation cost, the fastest choice
/// for cheap envs and the reference the threaded version must match bit for bit.
///
/// ```
/// use reachlab_envs::{reach::{ReachConfig, ReachEnv}, AutoresetMode, SyncVecEnv, VectorEnv};
/// let mut venv = SyncVecEnv::new(4, AutoresetMode::NextStep, |_| ReachEnv::new(ReachConfig::default())).unwrap();
/// let mut buf = venv.buffers();
/// venv.reset(Some(0), &mut buf).unwrap();
/// venv.step(&[[0.0, 0.0]; 4], &mut buf).unwrap();
/// assert_eq!(buf.obs.len(), 4 * 7);
/// ```
#[derive(Debug)]
pub struct SyncVecEnv<E: Env> {
    envs: Vec<E>,
    pending: Vec<bool>,
    mode: AutoresetMode,
    ever_reset: bool,
    obs_space: Space,
    action_space: Space,
}

impl<E: Env> SyncVecEnv<E> {
    /// `n` sub-envs built by `make(i)`.
    pub fn new(n: usize, mode: AutoresetMode, make: impl FnMut(usize) -> Result<E>) -> Result<Self> {
        let envs = (0..n).map(make).collect::<Result<Vec<E>>>()?;
        Self::from_envs(envs, mode)
    }

    /// A vector env over already-built sub-envs (which must share their spaces).
    pub fn from_envs(envs: Vec<E>, mode: AutoresetMode) -> Result<Self> {
        let first = envs
            .first()
            .ok_or_else(|| EnvError::config("num_envs", "must be ≥ 1"))?;
        let obs_space = first.observation_space().clone();
        let action_space = first.action_space().clone();
        if let Some(i) = envs
            .iter()
            .position(|e| e.observation_space() != &obs_space || e.action_space() != &action_space)
        {
            return Err(EnvError::config(
                "envs",
                format!("sub-env {i} has different spaces than sub-env 0"),
            ));
        }
        Ok(SyncVecEnv {
            pending: vec![true; envs.len()],
            envs,
            mode,
            ever_reset: false,
            obs_space,
            action_space,
        })
    }

    /// The sub-envs.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }

    /// The sub-envs, mutably.
    pub fn envs_mut(&mut self) -> &mut [E] {
        &mut self.envs
    }
}

impl<E: Env> VectorEnv for SyncVecEnv<E> {
    type Env = E;

    fn num_envs(&self) -> usize {
        self.envs.len()
    }

    fn autoreset_mode(&self) -> AutoresetMode {
        self.mode
    }

    fn single_observation_space(&self) -> &Space {
        &self.obs_space
    }

    fn single_action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>, buf: &mut VecBuffers<E::Info>) -> Result<()> {
        let n = self.envs.len();
        check_sizes(n, self.obs_space.flat_dim(), None, buf)?;
        self.ever_reset = true;
        reset_slice(
            &mut self.envs,
            &mut self.pending,
            ResetWhich::All(seed),
            0,
            buf.slice(0, n),
        )
    }

    fn step(&mut self, actions: &[E::Action], buf: &mut VecBuffers<E::Info>) -> Result<()> {
        let n = self.envs.len();
        check_sizes(n, self.obs_space.flat_dim(), Some(actions.len()), buf)?;
        check_step(self.mode, self.ever_reset, || Ok(self.pending.iter().position(|&p| p)))?;
        step_slice(&mut self.envs, &mut self.pending, self.mode, actions, buf.slice(0, n))
    }

    fn reset_done(&mut self, buf: &mut VecBuffers<E::Info>) -> Result<()> {
        let n = self.envs.len();
        check_sizes(n, self.obs_space.flat_dim(), None, buf)?;
        reset_slice(&mut self.envs, &mut self.pending, ResetWhich::Done, 0, buf.slice(0, n))
    }

    fn apply(&mut self, f: &(dyn Fn(&mut E) -> Result<()> + Send + Sync)) -> Result<()> {
        self.envs.iter_mut().try_for_each(f)
    }
}
