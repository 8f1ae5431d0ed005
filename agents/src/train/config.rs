//! Training settings: the estimator, its hyper-parameters and the regularisers.

use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::rollout::RolloutConfig;

/// The policy-gradient estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    Ppo,
    A2c,
    Reinforce,
}

/// Weights of the regularisers added to the loss (0 = off). Each is logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegularizerConfig {
    /// Mean squared hidden activity.
    pub activity_l2: f64,
    /// Mean squared weight over every weight matrix (not biases, not log-σ).
    pub weight_l2: f64,
    /// Mean absolute weight over every weight matrix.
    pub weight_l1: f64,
    /// λ_z of E_t KL(π(·|h_t) ‖ N(0, σ_z²)) ("zeroness").
    pub zeroness: f64,
    /// σ_z of the zeroness prior.
    pub zeroness_std: f64,
    /// λ_s of E_t KL(π(·|h_t) ‖ sg[π(·|h_{t−1})]) ("smoothness").
    pub smoothness: f64,
    /// Mean squared action mean (effort).
    pub effort: f64,
    /// Mean squared second difference of the action mean (jerk).
    pub jerk: f64,
}

impl Default for RegularizerConfig {
    fn default() -> Self {
        RegularizerConfig {
            activity_l2: 0.0,
            weight_l2: 0.0,
            weight_l1: 0.0,
            zeroness: 0.0,
            zeroness_std: 1.0,
            smoothness: 0.0,
            effort: 0.0,
            jerk: 0.0,
        }
    }
}

/// Training settings (a TOML table in scenario files). Defaults are those known to learn the reaching task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub algorithm: Algorithm,
    /// Whole episodes per rollout.
    pub episodes_per_update: usize,
    /// Envs per worker block (fixes the work split; results depend on it, not on the thread count).
    pub envs_per_block: usize,
    /// Rollout threads (0 = one per core).
    pub threads: usize,
    pub rollout: RolloutConfig,
    pub gamma: f64,
    pub gae_lambda: f64,
    pub epochs: usize,
    pub minibatches: usize,
    /// PPO ratio clip ε.
    pub clip: f64,
    /// Clip the value change to ± this (in normalised units); 0 = off.
    pub value_clip: f64,
    pub value_coef: f64,
    pub entropy_coef: f64,
    pub normalize_advantages: bool,
    /// Value targets divided by a running standard deviation of the returns.
    pub normalize_returns: bool,
    /// Global gradient-norm clip (0 = off).
    pub max_grad_norm: f64,
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to this fraction over `anneal_updates` updates (0 = constant).
    pub lr_final_fraction: f64,
    pub anneal_updates: usize,
    /// Stop an update's epochs once the approximate KL exceeds this (0 = off).
    pub target_kl: f64,
    pub adam_eps: f64,
    /// Adam steps over which each variable's step size ramps linearly from lr / n to lr, counted per
    /// variable from its first gradient (0 = off). A PPO update is epochs × minibatches steps.
    pub warmup_steps: u64,
    pub regularizers: RegularizerConfig,
    /// Seed of the rollouts and minibatch order.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            algorithm: Algorithm::Ppo,
            episodes_per_update: 64,
            envs_per_block: 8,
            threads: 0,
            rollout: RolloutConfig::default(),
            gamma: 0.99,
            gae_lambda: 0.95,
            epochs: 4,
            minibatches: 4,
            clip: 0.2,
            value_clip: 0.0,
            value_coef: 0.5,
            entropy_coef: 0.0,
            normalize_advantages: true,
            normalize_returns: true,
            max_grad_norm: 0.5,
            learning_rate: 1e-3,
            lr_final_fraction: 1.0,
            anneal_updates: 0,
            target_kl: 0.0,
            adam_eps: 1e-5,
            warmup_steps: 0,
            regularizers: RegularizerConfig::default(),
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// The epochs, minibatches, λ and clipping the algorithm implies.
    pub(crate) fn effective(&self) -> (usize, usize, f64, Option<f64>) {
        match self.algorithm {
            Algorithm::Ppo => (self.epochs, self.minibatches, self.gae_lambda, Some(self.clip)),
            Algorithm::A2c => (1, 1, self.gae_lambda, None),
            Algorithm::Reinforce => (1, 1, 1.0, None),
        }
    }

    /// Every setting in its range; errors name the key as `train.<setting>` (see [`Self::validate_at`]).
    pub fn validate(&self) -> Result<()> {
        self.validate_at("train")
    }

    /// [`Self::validate`], naming keys under `table` (a scenario's `training`, or a task scenario's
    /// `training.policy_gradient`).
    pub fn validate_at(&self, table: &str) -> Result<()> {
        let key = |name: &str| format!("{table}.{name}");
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(AgentError::config(key(name), format!("{v} is not in [0, 1]")))
            }
        };
        unit("gamma", self.gamma)?;
        unit("gae_lambda", self.gae_lambda)?;
        unit("lr_final_fraction", self.lr_final_fraction)?;
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(AgentError::config(key("learning_rate"), "must be finite and > 0"));
        }
        if self.epochs == 0 {
            return Err(AgentError::config(key("epochs"), "must be at least 1"));
        }
        if self.minibatches == 0 || self.minibatches > self.episodes_per_update {
            return Err(AgentError::config(
                key("minibatches"),
                format!("must be in 1..={} (episodes_per_update)", self.episodes_per_update),
            ));
        }
        for (name, v) in [("clip", self.clip), ("adam_eps", self.adam_eps)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(AgentError::config(key(name), format!("{v} must be finite and > 0")));
            }
        }
        for (name, v) in [
            ("max_grad_norm", self.max_grad_norm),
            ("value_clip", self.value_clip),
            ("target_kl", self.target_kl),
            ("value_coef", self.value_coef),
            ("entropy_coef", self.entropy_coef),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(AgentError::config(
                    key(name),
                    format!("{v} must be finite and ≥ 0 (0 = off)"),
                ));
            }
        }
        if self.episodes_per_update == 0 || self.episodes_per_update > 1 << 16 {
            return Err(AgentError::config(
                key("episodes_per_update"),
                format!("{} is not in 1..=65536", self.episodes_per_update),
            ));
        }
        let r = &self.regularizers;
        for (name, v) in [
            ("regularizers.activity_l2", r.activity_l2),
            ("regularizers.weight_l2", r.weight_l2),
            ("regularizers.weight_l1", r.weight_l1),
            ("regularizers.zeroness", r.zeroness),
            ("regularizers.smoothness", r.smoothness),
            ("regularizers.effort", r.effort),
            ("regularizers.jerk", r.jerk),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(AgentError::config(key(name), format!("{v} must be finite and ≥ 0")));
            }
        }
        if r.zeroness_std.is_nan() || r.zeroness_std <= 0.0 {
            return Err(AgentError::config(key("regularizers.zeroness_std"), "must be > 0"));
        }
        Ok(())
    }
}
