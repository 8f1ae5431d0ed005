//! Named parameters: trainable candle `Var`s plus fixed tensors (masks, statistics), in a stable order,
//! saved and loaded as safetensors.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};

use crate::error::{AgentError, Result};

/// The parameters of a policy, by name, in name order.
#[derive(Clone)]
pub struct Params {
    dtype: DType,
    device: Device,
    vars: BTreeMap<String, Var>,
    constants: BTreeMap<String, Tensor>,
}

impl Params {
    pub fn new(dtype: DType, device: Device) -> Self {
        Params {
            dtype,
            device,
            vars: BTreeMap::new(),
            constants: BTreeMap::new(),
        }
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub(crate) fn insert(&mut self, name: String, var: Var) {
        self.vars.insert(name, var);
    }

    pub(crate) fn insert_constant(&mut self, name: String, t: Tensor) {
        self.constants.insert(name, t);
    }

    /// The trainable variables, in name order.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    /// The name of the first variable holding a NaN or an infinity (a diverged update), if any.
    pub fn first_non_finite(&self) -> Result<Option<&str>> {
        for (name, v) in &self.vars {
            // The sum of |x| is finite exactly when every element is (short of values near f32::MAX).
            let s = v
                .as_tensor()
                .abs()?
                .sum_all()?
                .to_dtype(DType::F64)?
                .to_scalar::<f64>()?;
            if !s.is_finite() {
                return Ok(Some(name.as_str()));
            }
        }
        Ok(None)
    }

    /// Number of trainable scalars.
    pub fn count(&self) -> usize {
        self.vars.values().map(|v| v.elem_count()).sum()
    }

    /// Writes every variable and constant to a safetensors file, in f32.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut map: HashMap<String, Tensor> = HashMap::new();
        for (k, v) in &self.vars {
            map.insert(k.clone(), v.as_tensor().to_dtype(DType::F32)?);
        }
        for (k, t) in &self.constants {
            map.insert(k.clone(), t.to_dtype(DType::F32)?);
        }
        candle_core::safetensors::save(&map, path).map_err(|e| AgentError::Checkpoint {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Loads every variable from a safetensors file written by [`save`](Self::save) for the same
    /// architecture; a missing tensor or a different shape is an error naming it.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let err = |reason: String| AgentError::Checkpoint {
            path: path.to_owned(),
            reason,
        };
        let map = candle_core::safetensors::load(path, &self.device).map_err(|e| err(e.to_string()))?;
        for (k, v) in &self.vars {
            let t = map.get(k).ok_or_else(|| err(format!("no tensor named `{k}`")))?;
            if t.dims() != v.dims() {
                return Err(err(format!(
                    "`{k}` has shape {:?}, the policy expects {:?}",
                    t.dims(),
                    v.dims()
                )));
            }
            v.set(&t.to_dtype(self.dtype)?)?;
        }
        // Constants (the sparse core's mask) follow from the configuration; a file whose constants differ
        // was written for another architecture.
        for (k, c) in &self.constants {
            let t = map.get(k).ok_or_else(|| err(format!("no tensor named `{k}`")))?;
            let same = t.dims() == c.dims()
                && t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?
                    == c.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
            if !same {
                return Err(err(format!("`{k}` differs from the one this configuration builds")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_or_an_infinity_in_any_variable_is_found() {
        let mut p = Params::new(DType::F32, Device::Cpu);
        let var = |v: &[f32]| Var::from_tensor(&Tensor::new(v, &Device::Cpu).unwrap()).unwrap();
        p.insert("a".into(), var(&[1.0, -2.0, 3e30]));
        p.insert("b".into(), var(&[0.0; 4]));
        assert_eq!(p.first_non_finite().unwrap(), None);
        p.insert("b".into(), var(&[0.0, f32::NAN, 0.0, 0.0]));
        assert_eq!(p.first_non_finite().unwrap(), Some("b"));
        p.insert("b".into(), var(&[0.0, 0.0, f32::NEG_INFINITY, 0.0]));
        assert_eq!(p.first_non_finite().unwrap(), Some("b"));
    }
}
