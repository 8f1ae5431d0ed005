//! Adam whose state can be checkpointed (candle-nn's `AdamW` keeps its moments private, so a resumed
//! run could not continue exactly where it stopped). Same update as `candle_nn::AdamW` without decay.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};

use crate::error::{AgentError, Result};
use crate::params::Params;

/// The global L2 norm of the gradients of `params`; when `max_norm > 0` and the norm exceeds it, every
/// gradient is scaled by `max_norm / norm`. Returns the norm before clipping.
pub fn clip_grad_norm(params: &Params, grads: &mut GradStore, max_norm: f64) -> Result<f64> {
    let vars: Vec<Var> = params.vars().map(|(_, v)| v.clone()).collect();
    let mut sq = 0.0f64;
    for v in &vars {
        if let Some(g) = grads.get(v.as_tensor()) {
            sq += g.sqr()?.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        }
    }
    let norm = sq.sqrt();
    if max_norm > 0.0 && norm > max_norm {
        for v in &vars {
            if let Some(g) = grads.remove(v.as_tensor()) {
                grads.insert(v.as_tensor(), (g * (max_norm / norm))?);
            }
        }
    }
    Ok(norm)
}

/// Adam over the variables of a [`Params`], moments keyed by the variables' names.
pub struct Adam {
    vars: Vec<(String, Var, Var, Var)>,
    step: u64,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

impl Adam {
    pub fn new(params: &Params, lr: f64, eps: f64) -> Result<Self> {
        let vars = params
            .vars()
            .map(|(name, v)| {
                let z = || Var::zeros(v.shape(), v.dtype(), v.device());
                Ok((name.to_string(), v.clone(), z()?, z()?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Adam {
            vars,
            step: 0,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// One update from the gradients (variables without a gradient are left alone).
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let t = self.step as i32;
        let (b1, b2) = (self.beta1, self.beta2);
        let scale_m = 1.0 / (1.0 - b1.powi(t));
        let scale_v = 1.0 / (1.0 - b2.powi(t));
        for (_, theta, m, v) in &self.vars {
            if let Some(g) = grads.get(theta.as_tensor()) {
                let next_m = ((m.as_tensor() * b1)? + (g * (1.0 - b1))?)?;
                let next_v = ((v.as_tensor() * b2)? + (g.sqr()? * (1.0 - b2))?)?;
                let step = ((&next_m * scale_m)? / ((&next_v * scale_v)?.sqrt()? + self.eps)?)?;
                theta.set(&(theta.as_tensor() - (step * self.lr)?)?)?;
                m.set(&next_m)?;
                v.set(&next_v)?;
            }
        }
        Ok(())
    }

    /// The state as named tensors (`adam.m.<var>`, `adam.v.<var>`, `adam.step`), in f32.
    pub fn state(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        for (name, _, m, v) in &self.vars {
            out.insert(format!("adam.m.{name}"), m.as_tensor().to_dtype(DType::F32)?);
            out.insert(format!("adam.v.{name}"), v.as_tensor().to_dtype(DType::F32)?);
        }
        // The step count as two u32 halves (safetensors through candle has no u64).
        let halves = [(self.step & 0xffff_ffff) as u32, (self.step >> 32) as u32];
        out.insert("adam.step".into(), Tensor::new(&halves, &candle_core::Device::Cpu)?);
        Ok(out)
    }

    /// Restores a state written by [`state`](Self::state); every moment must be present with its shape.
    pub fn load_state(&mut self, state: &HashMap<String, Tensor>) -> Result<()> {
        let missing = |k: &str| AgentError::Mismatch(format!("optimizer state has no `{k}`"));
        for (name, _, m, v) in &self.vars {
            for (key, var) in [(format!("adam.m.{name}"), m), (format!("adam.v.{name}"), v)] {
                let t = state.get(&key).ok_or_else(|| missing(&key))?;
                if t.dims() != var.dims() {
                    return Err(AgentError::Mismatch(format!("`{key}` has shape {:?}", t.dims())));
                }
                var.set(&t.to_dtype(var.dtype())?)?;
            }
        }
        let s = state
            .get("adam.step")
            .ok_or_else(|| missing("adam.step"))?
            .to_vec1::<u32>()?;
        self.step = u64::from(s[0]) | (u64::from(s[1]) << 32);
        Ok(())
    }
}
