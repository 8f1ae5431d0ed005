//! Cognitive tasks: the 20 tasks of Yang et al. 2019, the Mod-Cog battery built on them, and the classic
//! benchmarks of RNN dynamics, each as a trial generator with supervised targets, a scoring rule and an
//! [`Env`](crate::Env).
//!
//! - [`Task`]: one task by name (`delaygo`, `dm1_seqr`, `dmsgo_intl_seqr`, `flipflop`, …); [`suite`] names
//!   whole batteries (`yang20`, `modcog`, …).
//! - [`TaskSet`]: a battery sampled by weight, adding the rule one-hot and the input noise; it yields
//!   single trials and padded supervised batches ([`TrialBatch`]) from an explicit seed, and scores
//!   network outputs with each task's rule.
//! - [`DecisionEnv`] (ring tasks, discrete fixate-or-choose actions, +1 for a correct choice, −0.1 for
//!   breaking fixation) and [`OutputEnv`] (any task, the network's output vector as the action, reward
//!   minus the weighted squared error).
//! - [`ring`]: tuning curves and the population-vector readout; [`yang`] and [`classic`]: the generators.
//!
//! ```
//! use reachlab_envs::cognitive::{Conventions, TaskSet};
//!
//! let set = TaskSet::from_names(&["delaygo", "dm1"], Conventions::yang2019())?;
//! assert_eq!(set.input_dim(), 1 + 2 * 32 + 2); // fixation, two rings, one rule unit per task
//! let batch = set.batch(16, 7);
//! // An oracle that outputs the targets scores 1.0 on every trial.
//! let scores = batch.score(&set, &batch.targets)?;
//! assert!(scores.iter().all(|&s| s == 1.0));
//! # Ok::<(), reachlab_envs::EnvError>(())
//! ```

pub mod classic;
mod cursor;
mod decision_env;
mod output_env;
pub mod ring;
mod task_set;
mod trial;
pub mod yang;

use serde::{Deserialize, Serialize};

pub use classic::{ContextIntegration, FlipFlop, SineWave};
pub use decision_env::{AbortPeriod, ChoiceScoring, DecisionEnv, DecisionInfo, DecisionOptions, DecisionRewards};
pub use output_env::{OutputEnv, OutputInfo};
pub use task_set::{suite, Task, TaskSet, TrialBatch, SUITES};
pub use trial::{Epoch, Response, Trial};
pub use yang::{Turn, Variant, YangTask};

/// The most units a ring may have (Yang et al. use 32; Mod-Cog 16).
pub const MAX_RING: usize = 1024;

/// Time grid and codes shared by the tasks of a battery.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Conventions {
    /// Step length in ms.
    pub dt_ms: f64,
    /// Units per ring (stimulus rings and the output ring).
    pub n_ring: usize,
    /// Input noise σ_x; the noise added to every input is `σ_x·√(2/α)` (Yang et al.).
    pub sigma_x: f64,
    /// α = dt/τ used to scale the input noise.
    pub alpha: f64,
    /// Angular speed ω of the Mod-Cog variants, rad/ms.
    pub omega: f64,
}

impl Conventions {
    /// Yang et al. 2019: dt 20 ms, 32-unit rings, σ_x 0.01, α 0.2; Mod-Cog's ω = 0.01 rad/ms.
    pub fn yang2019() -> Self {
        Conventions {
            dt_ms: 20.0,
            n_ring: 32,
            sigma_x: 0.01,
            alpha: 0.2,
            omega: 0.01,
        }
    }

    /// Standard deviation of the input noise per step.
    pub fn input_noise_std(&self) -> f64 {
        self.sigma_x * (2.0 / self.alpha).sqrt()
    }

    pub(crate) fn validate(&self) -> crate::Result<()> {
        let bad = |key: &str, reason: &str| Err(crate::EnvError::config(format!("tasks.conventions.{key}"), reason));
        // Lower bound: a 5 s trial at 0.1 ms is 50,000 steps; finer grids only make trials no machine holds.
        if !(self.dt_ms >= 0.1 && self.dt_ms <= 1e4) {
            return bad("dt_ms", "must be in [0.1, 10000] ms");
        }
        // Upper bound: a trial holds steps × (3·n_ring + 2) values; 1e9 units asked for 824 GB.
        if !(2..=MAX_RING).contains(&self.n_ring) {
            return bad("n_ring", &format!("must be in [2, {MAX_RING}]"));
        }
        // Yang et al. use 0.01; 1e300 passed as finite and trained the network into NaN.
        if !(self.sigma_x >= 0.0 && self.sigma_x <= 100.0) {
            return bad("sigma_x", "must be in [0, 100]");
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return bad("alpha", "must be in (0, 1]");
        }
        if !(self.omega.is_finite() && self.omega.abs() <= 1e3) {
            return bad("omega", "must be in [-1000, 1000]");
        }
        Ok(())
    }
}

impl Default for Conventions {
    fn default() -> Self {
        Self::yang2019()
    }
}
