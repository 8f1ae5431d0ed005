//! Supervised BPTT: fit the policy's head output to a ground-truth output sequence (the cognitive tasks
//! expose one), with a weighted squared error as in Yang et al. 2019 (cost mask per step and output).

use candle_core::{DType, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::optim::{clip_grad_norm, Adam};
use crate::policy::Policy;

/// Settings of supervised training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisedConfig {
    pub learning_rate: f64,
    /// Global gradient-norm clip (0 = off).
    pub max_grad_norm: f64,
    /// Mean squared hidden activity, weighted.
    pub activity_l2: f64,
    /// Mean squared recurrent weight, weighted.
    pub weight_l2: f64,
    /// The nonlinearity between the head and the loss: `linear`, or `sigmoid` as in Yang et al. 2019
    /// (targets in (0, 1)).
    pub output: OutputActivation,
    /// Seed of the recurrent noise drawn for each training batch (when the core has `sigma_rec > 0`).
    pub noise_seed: u64,
}

impl Default for SupervisedConfig {
    fn default() -> Self {
        SupervisedConfig {
            learning_rate: 1e-3,
            max_grad_norm: 1.0,
            activity_l2: 0.0,
            weight_l2: 0.0,
            output: OutputActivation::Linear,
            noise_seed: 0,
        }
    }
}

/// The output nonlinearity of supervised training.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputActivation {
    #[default]
    Linear,
    Sigmoid,
}

impl OutputActivation {
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            OutputActivation::Linear => x.clone(),
            // σ(x) = (1 + tanh(x/2))/2: differentiable primitives whose gradient stays finite for any x.
            OutputActivation::Sigmoid => (((x * 0.5)?.tanh()? + 1.0)? * 0.5)?,
        })
    }
}

/// The network's outputs and hidden states on a batch, without learning.
pub struct Prediction {
    /// Outputs after the output nonlinearity, `[T, B, O]` as f32, time-major.
    pub outputs: Vec<f32>,
    /// Hidden states `[T, B, H]` as f32.
    pub hidden: Vec<f32>,
}

/// A batch of sequences, time-major: inputs `[T, B, I]`, targets and cost weights `[T, B, O]`.
pub struct SupervisedBatch {
    pub inputs: Tensor,
    pub targets: Tensor,
    pub weights: Tensor,
}

impl SupervisedBatch {
    /// From flat f32 arrays.
    pub fn from_vecs(
        steps: usize,
        batch: usize,
        inputs: Vec<f32>,
        targets: Vec<f32>,
        weights: Vec<f32>,
        dtype: DType,
    ) -> Result<Self> {
        let dev = candle_core::Device::Cpu;
        let i = inputs.len() / (steps * batch).max(1);
        let o = targets.len() / (steps * batch).max(1);
        if weights.len() != targets.len() || i * steps * batch != inputs.len() || o * steps * batch != targets.len() {
            return Err(AgentError::Mismatch(
                "inputs, targets and weights do not share [T, B, ·]".into(),
            ));
        }
        Ok(SupervisedBatch {
            inputs: Tensor::from_vec(inputs, (steps, batch, i), &dev)?.to_dtype(dtype)?,
            targets: Tensor::from_vec(targets, (steps, batch, o), &dev)?.to_dtype(dtype)?,
            weights: Tensor::from_vec(weights, (steps, batch, o), &dev)?.to_dtype(dtype)?,
        })
    }
}

/// Trains a policy's core and head on input/target sequences.
pub struct SupervisedTrainer {
    policy: Policy,
    config: SupervisedConfig,
    opt: Adam,
    steps: usize,
}

impl SupervisedTrainer {
    pub fn new(policy: Policy, config: SupervisedConfig) -> Result<Self> {
        if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
            return Err(AgentError::config("supervised.learning_rate", "must be finite and > 0"));
        }
        for (key, v) in [
            ("supervised.activity_l2", config.activity_l2),
            ("supervised.weight_l2", config.weight_l2),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(AgentError::config(key, "must be finite and >= 0"));
            }
        }
        let opt = Adam::new(policy.params(), config.learning_rate, 1e-8)?;
        Ok(SupervisedTrainer {
            policy,
            config,
            opt,
            steps: 0,
        })
    }

    /// Gradient steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The optimiser (its state is part of an exact resume).
    pub fn optimizer(&self) -> &Adam {
        &self.opt
    }

    pub fn optimizer_mut(&mut self) -> &mut Adam {
        &mut self.opt
    }

    /// Restores the step counter of a resumed run (the recurrent noise of step `k` is drawn from a
    /// stream seeded by `noise_seed` and `k`, so a resumed run draws what the uninterrupted one would).
    pub fn set_steps(&mut self, steps: usize) {
        self.steps = steps;
    }

    /// Outputs (after the output nonlinearity) and hidden states, noise-free.
    pub fn predict(&self, batch: &SupervisedBatch) -> Result<Prediction> {
        let out = self.policy.forward(&batch.inputs, (None, None))?;
        let y = self.config.output.apply(&out.head)?;
        let f = |t: &Tensor| -> Result<Vec<f32>> { Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?) };
        Ok(Prediction {
            outputs: f(&y)?,
            hidden: f(&out.hidden)?,
        })
    }

    /// Recurrent noise for a batch, `[T, B, G·H]`, or `None` when the core is noise-free.
    fn noise(&self, batch: &SupervisedBatch) -> Result<Option<Tensor>> {
        let core = self.policy.config().core.clone();
        let sd = core.noise_std();
        if sd == 0.0 {
            return Ok(None);
        }
        let (t, b, _) = batch.inputs.dims3()?;
        let g = core.cell().gates() * core.hidden;
        let normal = Normal::new(0.0f32, sd as f32).map_err(|e| AgentError::config("core.sigma_rec", e.to_string()))?;
        let mut rng = ChaCha8Rng::seed_from_u64(reachlab_envs::seeding::derive_seed(
            self.config.noise_seed,
            self.steps as u64,
        ));
        let v: Vec<f32> = (0..t * b * g).map(|_| normal.sample(&mut rng)).collect();
        Ok(Some(
            Tensor::from_vec(v, (t, b, g), &candle_core::Device::Cpu)?.to_dtype(batch.inputs.dtype())?,
        ))
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The policy, for loading a checkpoint's weights into it.
    pub fn policy_mut(&mut self) -> &mut Policy {
        &mut self.policy
    }

    pub fn config(&self) -> &SupervisedConfig {
        &self.config
    }

    /// The weighted squared error `Σ w·(y − ŷ)² / Σ w` of a batch, without learning.
    pub fn loss(&self, batch: &SupervisedBatch) -> Result<f64> {
        let out = self.policy.forward(&batch.inputs, (None, None))?;
        let l = weighted_mse(&self.config.output.apply(&out.head)?, batch)?;
        Ok(l.to_dtype(DType::F64)?.to_scalar::<f64>()?)
    }

    /// One gradient step; returns the loss before it.
    pub fn step(&mut self, batch: &SupervisedBatch) -> Result<f64> {
        let noise = self.noise(batch)?;
        let out = self.policy.forward(&batch.inputs, (noise.as_ref(), None))?;
        let mut loss = weighted_mse(&self.config.output.apply(&out.head)?, batch)?;
        let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if !value.is_finite() {
            return Err(AgentError::NonFinite {
                what: "supervised loss",
                update: self.steps,
            });
        }
        if self.config.activity_l2 > 0.0 {
            loss = (loss + (out.hidden.sqr()?.mean_all()? * self.config.activity_l2)?)?;
        }
        if self.config.weight_l2 > 0.0 {
            for w in self.policy.recurrent_weights()? {
                loss = (loss + (w.sqr()?.mean_all()? * self.config.weight_l2)?)?;
            }
        }
        let mut grads = loss.backward()?;
        clip_grad_norm(self.policy.params(), &mut grads, self.config.max_grad_norm)?;
        self.opt.step(&grads)?;
        self.policy.enforce_structure()?;
        self.steps += 1;
        Ok(value)
    }

    pub fn into_policy(self) -> Policy {
        self.policy
    }
}

fn weighted_mse(pred: &Tensor, b: &SupervisedBatch) -> Result<Tensor> {
    let err = (pred - &b.targets)?.sqr()?.mul(&b.weights)?.sum_all()?;
    let total = b
        .weights
        .sum_all()?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?
        .max(1e-12);
    Ok((err / total)?)
}
