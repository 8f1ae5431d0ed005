//! Vector envs: N copies of an env stepped together into caller-owned, struct-of-arrays buffers.
//!
//! Sub-env `i` is seeded with `seed + i` at `reset(Some(seed))` (Gymnasium's convention) and then
//! continues its own random stream, so the results for a seed depend on neither the number of worker
//! threads nor the way envs are split among them: [`SyncVecEnv`] and [`ThreadedVecEnv`] with any thread
//! count give bit-identical buffers.

mod buffers;
mod sync;
mod threaded;

pub use buffers::VecBuffers;
pub use sync::SyncVecEnv;
pub use threaded::ThreadedVecEnv;

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::error::{EnvError, Result};
use crate::space::Space;
use buffers::BufSlice;

/// What a vector env does when a sub-env's episode ends (Gymnasium 1.x `AutoresetMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoresetMode {
    /// Gymnasium's default: the step that ends an episode returns its final observation; the *next*
    /// `step` ignores that sub-env's action, resets it and returns the reset observation with reward 0
    /// and both flags false.
    #[default]
    NextStep,
    /// The step that ends an episode resets the sub-env at once: `obs` holds the reset observation,
    /// `final_obs`/`final_infos` the last observation and info of the finished episode, and the flags
    /// and reward are those of the finishing step.
    SameStep,
    /// Nothing is reset automatically; stepping a finished sub-env is an error until
    /// [`VectorEnv::reset_done`] resets it.
    Disabled,
}

/// A batch of envs of one type.
pub trait VectorEnv {
    /// The sub-env type.
    type Env: Env;

    /// Number of sub-envs.
    fn num_envs(&self) -> usize;
    /// The declared autoreset mode.
    fn autoreset_mode(&self) -> AutoresetMode;
    /// Observation space of one sub-env.
    fn single_observation_space(&self) -> &Space;
    /// Action space of one sub-env.
    fn single_action_space(&self) -> &Space;

    /// Buffers of the right sizes for this vector env; allocate once, reuse every step.
    fn buffers(&self) -> VecBuffers<<Self::Env as Env>::Info> {
        VecBuffers::new(self.num_envs(), self.single_observation_space().flat_dim())
    }

    /// Resets every sub-env; sub-env `i` gets seed `seed + i` (or continues its stream for `None`).
    fn reset(&mut self, seed: Option<u64>, buf: &mut VecBuffers<<Self::Env as Env>::Info>) -> Result<()>;

    /// Steps every sub-env with its action (see [`AutoresetMode`] for what happens at episode ends).
    /// On error, every sub-env has still been stepped or left as it was, and the error of the lowest
    /// sub-env index is returned.
    fn step(
        &mut self,
        actions: &[<Self::Env as Env>::Action],
        buf: &mut VecBuffers<<Self::Env as Env>::Info>,
    ) -> Result<()>;

    /// Resets the sub-envs whose episode ended (needed in [`AutoresetMode::Disabled`]), writing their
    /// rows of `obs` and `infos`; other rows are untouched.
    fn reset_done(&mut self, buf: &mut VecBuffers<<Self::Env as Env>::Info>) -> Result<()>;

    /// Calls `f` on every sub-env in index order (for example to set the phase between episodes).
    fn apply(&mut self, f: &(dyn Fn(&mut Self::Env) -> Result<()> + Send + Sync)) -> Result<()>;
}

/// A validated batch size check shared by the implementations.
pub(crate) fn check_sizes<I>(n: usize, obs_dim: usize, actions: Option<usize>, buf: &VecBuffers<I>) -> Result<()> {
    if let Some(got) = actions {
        if got != n {
            return Err(EnvError::BufferSize {
                what: "actions",
                expected: n,
                got,
            });
        }
    }
    buf.check(n, obs_dim)
}

/// Which rows a slice operation touches: all, or only those whose episode ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResetWhich {
    All(Option<u64>),
    Done,
}

/// Resets the envs of a slice; `offset` is the index of the slice's first env in the whole batch.
pub(crate) fn reset_slice<E: Env>(
    envs: &mut [E],
    pending: &mut [bool],
    which: ResetWhich,
    offset: usize,
    mut out: BufSlice<'_, E::Info>,
) -> Result<()> {
    let opts = E::Options::default();
    let mut first_err = None;
    for (j, env) in envs.iter_mut().enumerate() {
        let seed = match which {
            ResetWhich::All(seed) => seed.map(|s| s.wrapping_add((offset + j) as u64)),
            ResetWhich::Done if pending[j] => None,
            ResetWhich::Done => continue,
        };
        match env.reset_into(seed, &opts, out.obs_row(j)) {
            Ok(info) => {
                out.infos[j] = info;
                pending[j] = false;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// What a vector env checks before it steps any sub-env, so that a refused step leaves every sub-env as
/// it was whatever the number of threads: it must have been reset (in `NextStep` mode a never-reset
/// sub-env would otherwise be reset from OS entropy, unseeded), and in `Disabled` mode no sub-env may be
/// waiting for a reset (`first_pending` finds the first one, asked only in that mode).
pub(crate) fn check_step(
    mode: AutoresetMode,
    ever_reset: bool,
    first_pending: impl FnOnce() -> Result<Option<usize>>,
) -> Result<()> {
    if !ever_reset {
        return Err(EnvError::NeedsReset {
            why: "the vector env was never reset",
        });
    }
    if mode == AutoresetMode::Disabled {
        if let Some(index) = first_pending()? {
            return Err(EnvError::SubEnvNeedsReset { index });
        }
    }
    Ok(())
}

/// Steps the envs of a slice under `mode` (after [`check_step`]).
pub(crate) fn step_slice<E: Env>(
    envs: &mut [E],
    pending: &mut [bool],
    mode: AutoresetMode,
    actions: &[E::Action],
    mut out: BufSlice<'_, E::Info>,
) -> Result<()> {
    let opts = E::Options::default();
    let mut first_err = None;
    for (j, env) in envs.iter_mut().enumerate() {
        if mode == AutoresetMode::NextStep && pending[j] {
            match env.reset_into(None, &opts, out.obs_row(j)) {
                Ok(info) => {
                    out.infos[j] = info;
                    out.rewards[j] = 0.0;
                    out.terminated[j] = false;
                    out.truncated[j] = false;
                    pending[j] = false;
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
            continue;
        }
        let t = match env.step_into(&actions[j], out.obs_row(j)) {
            Ok(t) => t,
            Err(e) => {
                first_err.get_or_insert(e);
                continue;
            }
        };
        out.rewards[j] = t.reward;
        out.terminated[j] = t.terminated;
        out.truncated[j] = t.truncated;
        let done = t.done();
        if done && mode == AutoresetMode::SameStep {
            out.final_infos[j] = t.info;
            let (obs_row, final_row) = out.obs_and_final_row(j);
            final_row.copy_from_slice(obs_row);
            match env.reset_into(None, &opts, obs_row) {
                Ok(info) => out.infos[j] = info,
                Err(e) => {
                    first_err.get_or_insert(e);
                    pending[j] = true;
                }
            }
        } else {
            out.infos[j] = t.info;
            pending[j] = done;
        }
    }
    first_err.map_or(Ok(()), Err)
}
