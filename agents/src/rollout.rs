//! Collecting whole episodes with a policy snapshot: worker threads, each owning fixed blocks of envs.
//!
//! Every block runs its episodes start to end with no synchronisation (the policy steps all rows of the
//! block at once, then each env steps). Blocks are fixed by the configuration, each block draws from its
//! own seeded stream, and results are placed by episode index: a seed gives bit-identical rollouts
//! whatever the number of threads.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reachlab_envs::reach::ReachInfo;
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::{Env, SpaceValue};
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::policy::{ActOut, HeadKind, PolicySnapshot};

/// Whether an episode succeeded, read from its final info (for the success rate in the logs).
pub trait EpisodeOutcome {
    fn success(&self) -> Option<bool> {
        None
    }
}

impl<C> EpisodeOutcome for ReachInfo<C> {
    fn success(&self) -> Option<bool> {
        Some(self.success)
    }
}

impl EpisodeOutcome for () {}

impl EpisodeOutcome for reachlab_envs::cognitive::DecisionInfo {
    /// Set on the last step of a trial: whether the choice (or the withheld response) was correct.
    fn success(&self) -> Option<bool> {
        self.correct
    }
}

impl EpisodeOutcome for reachlab_envs::cognitive::OutputInfo {
    /// A trial whose score reaches 0.5 counts as a success (the flip-flop's score is a fraction).
    fn success(&self) -> Option<bool> {
        self.score.map(|s| s >= 0.5)
    }
}

/// What a rollout records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolloutConfig {
    /// Steps after which an unfinished episode is cut (and bootstrapped, as a truncation).
    pub max_steps: usize,
    /// Keep the actor's hidden state at every step.
    pub record_hidden: bool,
    /// Keep the env's info at every step.
    pub record_infos: bool,
    /// Act with the mean (Gaussian) or arg-max (categorical) instead of sampling.
    pub deterministic: bool,
}

impl Default for RolloutConfig {
    fn default() -> Self {
        RolloutConfig {
            max_steps: 150,
            record_hidden: false,
            record_infos: false,
            deterministic: false,
        }
    }
}

/// A batch of whole episodes, time-major and padded to `steps`: entry (t, e) of a `[T, N, …]` array is
/// at `(t·N + e)·width`. `mask` is 1 where episode e was running at step t.
#[derive(Debug, Clone)]
pub struct Rollout<I> {
    pub steps: usize,
    pub episodes: usize,
    pub obs_dim: usize,
    pub action_width: usize,
    pub obs: Vec<f32>,
    pub actions: Vec<f32>,
    pub log_probs: Vec<f32>,
    /// Value-head outputs (in the normaliser's units).
    pub values: Vec<f32>,
    pub rewards: Vec<f32>,
    pub mask: Vec<f32>,
    /// Recurrent noise the actor (and critic) used, `[T, N, G·H]`, when the core is noisy.
    pub noise_actor: Vec<f32>,
    pub noise_critic: Vec<f32>,
    /// Actor hidden states `[T, N, H]` after each step, when recorded.
    pub hidden: Vec<f32>,
    pub hidden_dim: usize,
    pub lengths: Vec<usize>,
    /// Ended by the env's termination (no bootstrap); otherwise truncated (bootstrapped).
    pub terminated: Vec<bool>,
    /// Value-head output on the final observation of truncated episodes (0 for terminated ones).
    pub bootstrap: Vec<f32>,
    /// Undiscounted return of each episode.
    pub returns: Vec<f64>,
    pub final_infos: Vec<I>,
    /// Infos after every step, per episode, when recorded.
    pub step_infos: Vec<Vec<I>>,
}

impl<I: EpisodeOutcome> Rollout<I> {
    /// Environment steps taken.
    pub fn env_steps(&self) -> usize {
        self.lengths.iter().sum()
    }

    pub fn mean_return(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.episodes.max(1) as f64
    }

    /// Fraction of successful episodes, if the env reports success.
    pub fn success_rate(&self) -> Option<f64> {
        let s: Option<Vec<bool>> = self.final_infos.iter().map(|i| i.success()).collect();
        s.map(|v| v.iter().filter(|&&x| x).count() as f64 / v.len().max(1) as f64)
    }
}

/// The episodes of one block, block-local time-major.
struct Block<I> {
    rows: usize,
    obs: Vec<f32>,
    actions: Vec<f32>,
    log_probs: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    mask: Vec<f32>,
    noise_actor: Vec<f32>,
    noise_critic: Vec<f32>,
    hidden: Vec<f32>,
    lengths: Vec<usize>,
    terminated: Vec<bool>,
    bootstrap: Vec<f32>,
    returns: Vec<f64>,
    final_infos: Vec<I>,
    step_infos: Vec<Vec<I>>,
}

/// Envs split into fixed blocks, stepped by worker threads.
pub struct RolloutWorkers<E: Env> {
    blocks: Vec<Vec<E>>,
    threads: usize,
    options: E::Options,
}

impl<E> RolloutWorkers<E>
where
    E: Env,
{
    /// `episodes` envs made by `make(i)`, in blocks of `envs_per_block`, run by `threads` threads
    /// (0 = one per available core).
    pub fn new(
        episodes: usize,
        envs_per_block: usize,
        threads: usize,
        mut make: impl FnMut(usize) -> Result<E>,
    ) -> Result<Self> {
        if episodes == 0 {
            return Err(AgentError::config("episodes_per_update", "must be at least 1"));
        }
        if envs_per_block == 0 {
            return Err(AgentError::config("envs_per_block", "must be at least 1"));
        }
        let mut blocks = Vec::new();
        let mut i = 0;
        while i < episodes {
            let n = envs_per_block.min(episodes - i);
            blocks.push((i..i + n).map(&mut make).collect::<Result<Vec<E>>>()?);
            i += n;
        }
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        Ok(RolloutWorkers {
            blocks,
            threads,
            options: E::Options::default(),
        })
    }

    /// Episodes per rollout.
    pub fn episodes(&self) -> usize {
        self.blocks.iter().map(Vec::len).sum()
    }

    /// Reset options used for every episode.
    pub fn set_options(&mut self, options: E::Options) {
        self.options = options;
    }

    /// Applies `f` to every env (to set a phase, a field, …).
    pub fn for_each_env(&mut self, mut f: impl FnMut(&mut E) -> Result<()>) -> Result<()> {
        self.blocks.iter_mut().flatten().try_for_each(&mut f)
    }

    /// The first env (to read its spaces).
    pub fn first_env(&self) -> &E {
        &self.blocks[0][0]
    }

    /// Runs one episode in every env with `snap`; episode e is reset with seed `derive_seed(seed, e)`.
    pub fn collect(&mut self, snap: &PolicySnapshot, seed: u64, cfg: &RolloutConfig) -> Result<Rollout<E::Info>>
    where
        E::Info: EpisodeOutcome,
    {
        let env = self.first_env();
        if env.obs_dim() != snap.obs_dim() {
            return Err(AgentError::Mismatch(format!(
                "the env observes {} values, the policy expects {}",
                env.obs_dim(),
                snap.obs_dim()
            )));
        }
        let head = HeadKind::for_space(env.action_space())?;
        if head != snap.head_kind() {
            return Err(AgentError::Mismatch(format!(
                "the env's action space needs a {head:?} head, the policy has {:?}",
                snap.head_kind()
            )));
        }
        if cfg.max_steps == 0 {
            return Err(AgentError::config("rollout.max_steps", "must be at least 1"));
        }
        let starts: Vec<usize> = self
            .blocks
            .iter()
            .scan(0, |acc, b| {
                let s = *acc;
                *acc += b.len();
                Some(s)
            })
            .collect();
        let threads = self.threads.min(self.blocks.len()).max(1);
        let options = &self.options;
        let mut per_worker: Vec<Vec<(usize, &mut Vec<E>)>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, b) in self.blocks.iter_mut().enumerate() {
            per_worker[i % threads].push((i, b));
        }
        let mut results: Vec<Option<Result<Block<E::Info>>>> = (0..starts.len()).map(|_| None).collect();
        std::thread::scope(|scope| -> Result<()> {
            let handles: Vec<_> = per_worker
                .into_iter()
                .map(|work| {
                    let starts = &starts;
                    scope.spawn(move || {
                        work.into_iter()
                            .map(|(i, envs)| (i, run_block(envs, i, starts[i], snap, seed, cfg, options)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for (w, h) in handles.into_iter().enumerate() {
                for (i, r) in h.join().map_err(|_| AgentError::WorkerPanicked(w))? {
                    results[i] = Some(r);
                }
            }
            Ok(())
        })?;
        let blocks: Vec<Block<E::Info>> = results
            .into_iter()
            .map(|r| r.expect("every block ran"))
            .collect::<Result<_>>()?;
        Ok(merge(blocks, cfg, snap))
    }
}

#[allow(clippy::too_many_arguments)]
fn run_block<E>(
    envs: &mut [E],
    block: usize,
    first_episode: usize,
    snap: &PolicySnapshot,
    seed: u64,
    cfg: &RolloutConfig,
    options: &E::Options,
) -> Result<Block<E::Info>>
where
    E: Env,
{
    let rows = envs.len();
    let t_max = cfg.max_steps;
    let i_dim = snap.obs_dim();
    let head = snap.head_kind();
    let (out_dim, aw) = (head.out_dim(), head.action_width());
    let nw = snap.noise_width();
    let h = snap.hidden();
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, (1 << 40) + block as u64));
    let mut obs = vec![0.0f32; rows * i_dim];
    let mut b = Block {
        rows,
        obs: vec![0.0; t_max * rows * i_dim],
        actions: vec![0.0; t_max * rows * aw],
        log_probs: vec![0.0; t_max * rows],
        values: vec![0.0; t_max * rows],
        rewards: vec![0.0; t_max * rows],
        mask: vec![0.0; t_max * rows],
        noise_actor: vec![0.0; if nw > 0 { t_max * rows * nw } else { 0 }],
        noise_critic: vec![
            0.0;
            if nw > 0 && snap.has_critic() {
                t_max * rows * nw
            } else {
                0
            }
        ],
        hidden: vec![0.0; if cfg.record_hidden { t_max * rows * h } else { 0 }],
        lengths: vec![0; rows],
        terminated: vec![false; rows],
        bootstrap: vec![0.0; rows],
        returns: vec![0.0; rows],
        final_infos: vec![E::Info::default(); rows],
        step_infos: (0..if cfg.record_infos { rows } else { 0 })
            .map(|_| Vec::new())
            .collect(),
    };
    for (i, env) in envs.iter_mut().enumerate() {
        let s = derive_seed(seed, (first_episode + i) as u64);
        env.reset_into(Some(s), options, &mut obs[i * i_dim..(i + 1) * i_dim])?;
    }
    let mut active = vec![true; rows];
    let mut pending = vec![false; rows];
    let mut st = snap.state(rows);
    let mut head_out = vec![0.0f32; rows * out_dim];
    let mut values = vec![0.0f32; rows];
    let mut sample = vec![0.0f32; aw.max(1)];
    let mut env_action = vec![0.0f32; aw.max(1)];
    let s_w = st.actor.len() / rows.max(1);
    for t in 0..=t_max {
        if !active.iter().chain(&pending).any(|&x| x) {
            break;
        }
        snap.step(
            &mut st,
            &obs,
            &mut rng,
            ActOut {
                head: &mut head_out,
                value: &mut values,
            },
        );
        for i in 0..rows {
            if pending[i] {
                b.bootstrap[i] = values[i];
                pending[i] = false;
                continue;
            }
            if !active[i] || t == t_max {
                continue;
            }
            let k = t * rows + i;
            b.obs[k * i_dim..(k + 1) * i_dim].copy_from_slice(&obs[i * i_dim..(i + 1) * i_dim]);
            let logp = snap.sample(
                &head_out[i * out_dim..(i + 1) * out_dim],
                &mut rng,
                cfg.deterministic,
                &mut sample,
            );
            b.actions[k * aw..(k + 1) * aw].copy_from_slice(&sample[..aw]);
            b.log_probs[k] = logp;
            b.values[k] = values[i];
            b.mask[k] = 1.0;
            if nw > 0 {
                b.noise_actor[k * nw..(k + 1) * nw].copy_from_slice(&st.noise_actor[i * nw..(i + 1) * nw]);
                if snap.has_critic() {
                    b.noise_critic[k * nw..(k + 1) * nw].copy_from_slice(&st.noise_critic[i * nw..(i + 1) * nw]);
                }
            }
            if cfg.record_hidden {
                b.hidden[k * h..(k + 1) * h].copy_from_slice(&st.actor[i * s_w..i * s_w + h]);
            }
            snap.to_env(&sample, &mut env_action);
            let action = E::Action::from_sample(&env_action[..aw]);
            let tr = envs[i].step_into(&action, &mut obs[i * i_dim..(i + 1) * i_dim])?;
            b.rewards[k] = tr.reward as f32;
            b.returns[i] += tr.reward;
            b.lengths[i] = t + 1;
            if cfg.record_infos {
                b.step_infos[i].push(tr.info.clone());
            }
            if tr.terminated || tr.truncated || t + 1 == t_max {
                active[i] = false;
                b.terminated[i] = tr.terminated;
                pending[i] = !tr.terminated;
                b.final_infos[i] = tr.info;
            }
        }
    }
    Ok(b)
}

fn merge<I: Clone + Default>(blocks: Vec<Block<I>>, cfg: &RolloutConfig, snap: &PolicySnapshot) -> Rollout<I> {
    let n: usize = blocks.iter().map(|b| b.rows).sum();
    let t_max = cfg.max_steps;
    let i_dim = snap.obs_dim();
    let aw = snap.head_kind().action_width();
    let nw = snap.noise_width();
    let h = snap.hidden();
    let mut r = Rollout {
        steps: t_max,
        episodes: n,
        obs_dim: i_dim,
        action_width: aw,
        obs: vec![0.0; t_max * n * i_dim],
        actions: vec![0.0; t_max * n * aw],
        log_probs: vec![0.0; t_max * n],
        values: vec![0.0; t_max * n],
        rewards: vec![0.0; t_max * n],
        mask: vec![0.0; t_max * n],
        noise_actor: vec![0.0; if nw > 0 { t_max * n * nw } else { 0 }],
        noise_critic: vec![0.0; if nw > 0 && snap.has_critic() { t_max * n * nw } else { 0 }],
        hidden: vec![0.0; if cfg.record_hidden { t_max * n * h } else { 0 }],
        hidden_dim: h,
        lengths: Vec::with_capacity(n),
        terminated: Vec::with_capacity(n),
        bootstrap: Vec::with_capacity(n),
        returns: Vec::with_capacity(n),
        final_infos: Vec::with_capacity(n),
        step_infos: Vec::new(),
    };
    let mut e0 = 0;
    for b in blocks {
        let rows = b.rows;
        let copy = |dst: &mut Vec<f32>, src: &[f32], w: usize| {
            if w == 0 || src.is_empty() {
                return;
            }
            for t in 0..t_max {
                dst[(t * n + e0) * w..(t * n + e0 + rows) * w].copy_from_slice(&src[t * rows * w..(t + 1) * rows * w]);
            }
        };
        copy(&mut r.obs, &b.obs, i_dim);
        copy(&mut r.actions, &b.actions, aw);
        copy(&mut r.log_probs, &b.log_probs, 1);
        copy(&mut r.values, &b.values, 1);
        copy(&mut r.rewards, &b.rewards, 1);
        copy(&mut r.mask, &b.mask, 1);
        copy(&mut r.noise_actor, &b.noise_actor, nw);
        copy(&mut r.noise_critic, &b.noise_critic, nw);
        copy(&mut r.hidden, &b.hidden, h);
        r.lengths.extend(b.lengths);
        r.terminated.extend(b.terminated);
        r.bootstrap.extend(b.bootstrap);
        r.returns.extend(b.returns);
        r.final_infos.extend(b.final_infos);
        r.step_infos.extend(b.step_infos);
        e0 += rows;
    }
    r
}
