//! The [`Agent`] trait: what any controller (a trained policy, a hand-written one) implements to be run by
//! the same evaluation code.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reachlab_envs::Env;

use crate::error::Result;
use crate::policy::{ActOut, PolicySnapshot};
use reachlab_envs::SpaceValue;

/// A controller that acts in one env, one step at a time.
///
/// ```
/// use reachlab_agents::{evaluate, Agent};
/// use reachlab_envs::reach::{ReachConfig, ReachEnv};
///
/// /// Pushes toward the target with a PD law once the go cue is on.
/// struct Pd;
/// impl Agent<[f32; 2]> for Pd {
///     fn reset(&mut self) {}
///     fn act(&mut self, obs: &[f32]) -> [f32; 2] {
///         let go = obs[2];
///         std::array::from_fn(|i| go * (100.0 * (obs[i] - obs[3 + i]) / 10.0 - 20.0 * obs[5 + i] / 2.0))
///     }
/// }
/// let mut env = ReachEnv::new(ReachConfig::default()).unwrap();
/// let episodes = evaluate(&mut env, &mut Pd, &[(1, Default::default()), (2, Default::default())], 150).unwrap();
/// assert!(episodes.iter().all(|e| e.final_info().success));
/// ```
pub trait Agent<A> {
    /// A new episode starts.
    fn reset(&mut self);
    /// The action for this observation.
    fn act(&mut self, obs: &[f32]) -> A;
    /// The agent's internal state after the last `act`, if it has one worth recording (a hidden state).
    fn hidden(&self) -> Option<&[f32]> {
        None
    }
}

/// One evaluated episode.
#[derive(Debug, Clone)]
pub struct Episode<I> {
    pub seed: u64,
    /// Observations before each step.
    pub obs: Vec<Vec<f32>>,
    /// Infos after each step.
    pub infos: Vec<I>,
    pub rewards: Vec<f64>,
    /// The agent's recurrent state after each `act` (empty if it has none): for a [`PolicyAgent`] the
    /// actor's full state, `[h | c]` for an LSTM, so that its first `hidden` entries are `h`.
    pub hidden: Vec<Vec<f32>>,
    pub terminated: bool,
    pub truncated: bool,
}

impl<I: Clone + Default> Episode<I> {
    pub fn total_reward(&self) -> f64 {
        self.rewards.iter().sum()
    }

    /// The info after the last step.
    pub fn final_info(&self) -> I {
        self.infos.last().cloned().unwrap_or_default()
    }
}

/// Runs one episode per `(seed, options)` with `agent`, each cut after `max_steps` steps.
pub fn evaluate<E, G>(
    env: &mut E,
    agent: &mut G,
    episodes: &[(u64, E::Options)],
    max_steps: usize,
) -> Result<Vec<Episode<E::Info>>>
where
    E: Env,
    G: Agent<E::Action> + ?Sized,
{
    let mut out = Vec::with_capacity(episodes.len());
    for (seed, options) in episodes {
        let (mut obs, _) = env.reset(Some(*seed), options)?;
        agent.reset();
        let mut ep = Episode {
            seed: *seed,
            obs: Vec::new(),
            infos: Vec::new(),
            rewards: Vec::new(),
            hidden: Vec::new(),
            terminated: false,
            truncated: false,
        };
        for _ in 0..max_steps {
            let a = agent.act(&obs);
            if let Some(h) = agent.hidden() {
                ep.hidden.push(h.to_vec());
            }
            let step = env.step(&a)?;
            ep.obs.push(std::mem::replace(&mut obs, step.obs));
            ep.rewards.push(step.reward);
            ep.infos.push(step.info);
            if step.terminated || step.truncated {
                ep.terminated = step.terminated;
                ep.truncated = step.truncated;
                break;
            }
        }
        out.push(ep);
    }
    Ok(out)
}

/// A trained policy as an [`Agent`]: one row of its recurrent state, sampling from its own seeded stream
/// (or acting with the mean / arg-max when deterministic).
pub struct PolicyAgent {
    snap: PolicySnapshot,
    state: crate::policy::ActState,
    rng: ChaCha8Rng,
    seed: u64,
    deterministic: bool,
    head: Vec<f32>,
    value: Vec<f32>,
    /// The last sample in head units, and in env units.
    raw: Vec<f32>,
    sample: Vec<f32>,
}

impl PolicyAgent {
    pub fn new(snap: PolicySnapshot, deterministic: bool, seed: u64) -> Self {
        let state = snap.state(1);
        let hk = snap.head_kind();
        PolicyAgent {
            head: vec![0.0; hk.out_dim()],
            value: vec![0.0],
            raw: vec![0.0; hk.action_width()],
            sample: vec![0.0; hk.action_width()],
            state,
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
            deterministic,
            snap,
        }
    }

    /// The head output of the last step (action means or logits).
    pub fn head(&self) -> &[f32] {
        &self.head
    }

    /// The value estimate of the last step (value-normaliser units).
    pub fn value(&self) -> f32 {
        self.value[0]
    }
}

impl<A: SpaceValue> Agent<A> for PolicyAgent {
    fn reset(&mut self) {
        self.state.reset_row(&self.snap, 0);
        self.seed = self.seed.wrapping_add(1);
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
    }

    fn act(&mut self, obs: &[f32]) -> A {
        self.snap.step(
            &mut self.state,
            obs,
            &mut self.rng,
            ActOut {
                head: &mut self.head,
                value: &mut self.value,
            },
        );
        self.snap
            .sample(&self.head, &mut self.rng, self.deterministic, &mut self.raw);
        self.snap.to_env(&self.raw, &mut self.sample);
        A::from_sample(&self.sample)
    }

    /// The actor's full recurrent state (`[h | c]` for an LSTM: `h` is its first `hidden` entries).
    fn hidden(&self) -> Option<&[f32]> {
        Some(&self.state.actor)
    }
}
