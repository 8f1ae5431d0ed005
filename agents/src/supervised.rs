//! Supervised BPTT: fit the policy's head output to a ground-truth output sequence (the cognitive tasks
//! expose one), with a weighted squared error as in Yang et al. 2019 (cost mask per step and output).

use candle_core::{DType, Tensor};
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
}

impl Default for SupervisedConfig {
    fn default() -> Self {
        SupervisedConfig {
            learning_rate: 1e-3,
            max_grad_norm: 1.0,
            activity_l2: 0.0,
        }
    }
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
        let opt = Adam::new(policy.params(), config.learning_rate, 1e-8)?;
        Ok(SupervisedTrainer {
            policy,
            config,
            opt,
            steps: 0,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The weighted squared error `Σ w·(y − ŷ)² / Σ w` of a batch, without learning.
    pub fn loss(&self, batch: &SupervisedBatch) -> Result<f64> {
        let out = self.policy.forward(&batch.inputs, (None, None))?;
        let l = weighted_mse(&out.head, batch)?;
        Ok(l.to_dtype(DType::F64)?.to_scalar::<f64>()?)
    }

    /// One gradient step; returns the loss before it.
    pub fn step(&mut self, batch: &SupervisedBatch) -> Result<f64> {
        let out = self.policy.forward(&batch.inputs, (None, None))?;
        let mut loss = weighted_mse(&out.head, batch)?;
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
