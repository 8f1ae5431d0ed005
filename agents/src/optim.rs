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

/// One variable of [`Adam`] with its moments and its own step count.
struct Slot {
    name: String,
    theta: Var,
    m: Var,
    v: Var,
    /// Steps in which this variable had a gradient: its bias correction counts these only, as PyTorch's
    /// `Adam` keeps `state["step"]` per parameter. (A single counter shared by all variables would make
    /// the first step of a variable that joins late, e.g. the actor after a critic-only stage, a step of
    /// up to `lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)/(1 − β₁)`: 3.4 × lr after 320 critic-only steps.)
    step: u64,
}

/// Adam over the variables of a [`Params`], moments and step counts keyed by the variables' names.
pub struct Adam {
    slots: Vec<Slot>,
    step: u64,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Linear warm-up of each variable's step size over its first `warmup` steps: a variable's k-th step
    /// uses `lr · min(1, k / warmup)` (0 = off). Counted per variable, so a variable that joins late (the
    /// actor after a critic-only stage) warms up when it joins. Why: with moments that start at zero, Adam's
    /// first steps move every weight by ≈ lr whatever the gradient's noise (|m̂/√v̂| = 1 at k = 1); a PPO
    /// update of 16 such minibatch steps moved a trained GRU policy by an approx-KL of 0.09–1.0 where the
    /// later updates moved it by 0.005–0.01 (issue 24).
    pub warmup: u64,
}

impl Adam {
    pub fn new(params: &Params, lr: f64, eps: f64) -> Result<Self> {
        let slots = params
            .vars()
            .map(|(name, v)| {
                let z = || Var::zeros(v.shape(), v.dtype(), v.device());
                Ok(Slot {
                    name: name.to_string(),
                    theta: v.clone(),
                    m: z()?,
                    v: z()?,
                    step: 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Adam {
            slots,
            step: 0,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps,
            warmup: 0,
        })
    }

    /// Calls of [`step`](Self::step) so far (whether or not a variable had a gradient).
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Steps taken by the variable `name` (those in which it had a gradient); `None` if it is not here.
    pub fn variable_steps(&self, name: &str) -> Option<u64> {
        self.slots.iter().find(|s| s.name == name).map(|s| s.step)
    }

    /// One update from the gradients. A variable without a gradient is left alone, its moments and its
    /// step count too.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        for slot in &mut self.slots {
            let Some(g) = grads.get(slot.theta.as_tensor()) else {
                continue;
            };
            slot.step += 1;
            let t = slot.step.min(i32::MAX as u64) as i32;
            let scale_m = 1.0 / (1.0 - b1.powi(t));
            let scale_v = 1.0 / (1.0 - b2.powi(t));
            let next_m = ((slot.m.as_tensor() * b1)? + (g * (1.0 - b1))?)?;
            let next_v = ((slot.v.as_tensor() * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let step = ((&next_m * scale_m)? / ((&next_v * scale_v)?.sqrt()? + self.eps)?)?;
            let warm = if self.warmup == 0 {
                1.0
            } else {
                (slot.step as f64 / self.warmup as f64).min(1.0)
            };
            slot.theta
                .set(&(slot.theta.as_tensor() - (step * (self.lr * warm))?)?)?;
            slot.m.set(&next_m)?;
            slot.v.set(&next_v)?;
        }
        Ok(())
    }

    /// The state as named tensors (`adam.m.<var>`, `adam.v.<var>`, `adam.step.<var>`, and the call count
    /// `adam.step`), moments in f32, counts as two u32 halves (safetensors through candle has no u64).
    pub fn state(&self) -> Result<HashMap<String, Tensor>> {
        let halves = |n: u64| Tensor::new(&[(n & 0xffff_ffff) as u32, (n >> 32) as u32], &candle_core::Device::Cpu);
        let mut out = HashMap::new();
        for s in &self.slots {
            out.insert(format!("adam.m.{}", s.name), s.m.as_tensor().to_dtype(DType::F32)?);
            out.insert(format!("adam.v.{}", s.name), s.v.as_tensor().to_dtype(DType::F32)?);
            out.insert(format!("adam.step.{}", s.name), halves(s.step)?);
        }
        out.insert("adam.step".into(), halves(self.step)?);
        Ok(out)
    }

    /// Restores a state written by [`state`](Self::state); every moment must be present with its shape.
    /// A state written before step counts were kept per variable (only `adam.step`) gives that count to
    /// every variable with a non-zero second moment and 0 to the others (which never had a gradient).
    pub fn load_state(&mut self, state: &HashMap<String, Tensor>) -> Result<()> {
        let missing = |k: &str| AgentError::Mismatch(format!("optimizer state has no `{k}`"));
        let count = |key: &str| -> Result<Option<u64>> {
            let Some(t) = state.get(key) else { return Ok(None) };
            let s = t.to_vec1::<u32>()?;
            if s.len() != 2 {
                return Err(AgentError::Mismatch(format!("`{key}` has {} entries, not 2", s.len())));
            }
            Ok(Some(u64::from(s[0]) | (u64::from(s[1]) << 32)))
        };
        let global = count("adam.step")?.ok_or_else(|| missing("adam.step"))?;
        for slot in &mut self.slots {
            for (key, var) in [
                (format!("adam.m.{}", slot.name), &slot.m),
                (format!("adam.v.{}", slot.name), &slot.v),
            ] {
                let t = state.get(&key).ok_or_else(|| missing(&key))?;
                if t.dims() != var.dims() {
                    return Err(AgentError::Mismatch(format!("`{key}` has shape {:?}", t.dims())));
                }
                var.set(&t.to_dtype(var.dtype())?)?;
            }
            slot.step = match count(&format!("adam.step.{}", slot.name))? {
                Some(n) => n,
                None => {
                    let touched = slot
                        .v
                        .as_tensor()
                        .abs()?
                        .sum_all()?
                        .to_dtype(DType::F64)?
                        .to_scalar::<f64>()?
                        > 0.0;
                    if touched {
                        global
                    } else {
                        0
                    }
                }
            };
        }
        self.step = global;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// PyTorch's `torch.optim.Adam` (amsgrad off, no weight decay) for one scalar parameter, written out from
    /// its documented algorithm: `state["step"]` counts the steps in which *this* parameter had a gradient.
    struct TorchAdam {
        p: f64,
        m: f64,
        v: f64,
        step: i32,
    }

    impl TorchAdam {
        fn step(&mut self, g: Option<f64>, lr: f64, eps: f64) {
            let Some(g) = g else { return }; // `p.grad is None`: skipped, state untouched
            let (b1, b2) = (0.9f64, 0.999f64);
            self.step += 1;
            self.m = b1 * self.m + (1.0 - b1) * g;
            self.v = b2 * self.v + (1.0 - b2) * g * g;
            let bias1 = 1.0 - b1.powi(self.step);
            let bias2 = 1.0 - b2.powi(self.step);
            let denom = self.v.sqrt() / bias2.sqrt() + eps;
            self.p -= lr / bias1 * self.m / denom;
        }
    }

    fn two_vars() -> (Params, Var, Var) {
        let mut params = Params::new(DType::F64, Device::Cpu);
        let a = Var::from_tensor(&Tensor::new(&[0.5f64], &Device::Cpu).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::new(&[-0.25f64], &Device::Cpu).unwrap()).unwrap();
        params.insert("a".into(), a.clone());
        params.insert("b".into(), b.clone());
        (params, a, b)
    }

    /// `a` has a gradient at every step; `b` has none for k steps (a frozen or critic-only phase), then
    /// joins. Each must follow PyTorch's per-parameter Adam exactly.
    #[test]
    fn a_variable_that_joins_late_takes_pytorchs_first_step() {
        let (lr, eps, k) = (1e-3, 1e-8, 320);
        let (params, a, b) = two_vars();
        let mut opt = Adam::new(&params, lr, eps).unwrap();
        let mut ta = TorchAdam {
            p: 0.5,
            m: 0.0,
            v: 0.0,
            step: 0,
        };
        let mut tb = TorchAdam {
            p: -0.25,
            m: 0.0,
            v: 0.0,
            step: 0,
        };
        for t in 0..k + 5 {
            // loss = c_a·a + [t ≥ k]·c_b·b², gradients c_a and 2·c_b·b.
            let ca = 0.3 + 0.1 * (t as f64).sin();
            let mut loss = (a.as_tensor() * ca).unwrap().sum_all().unwrap();
            let b_has_grad = t >= k;
            if b_has_grad {
                loss = (loss + (b.as_tensor().sqr().unwrap() * 1.5).unwrap().sum_all().unwrap()).unwrap();
            }
            let gb = b_has_grad.then_some(3.0 * tb.p);
            opt.step(&loss.backward().unwrap()).unwrap();
            ta.step(Some(ca), lr, eps);
            tb.step(gb, lr, eps);
            let got_a = a.as_tensor().to_vec1::<f64>().unwrap()[0];
            let got_b = b.as_tensor().to_vec1::<f64>().unwrap()[0];
            assert!((got_a - ta.p).abs() < 1e-12, "step {t}: a {got_a} vs torch {}", ta.p);
            assert!((got_b - tb.p).abs() < 1e-12, "step {t}: b {got_b} vs torch {}", tb.p);
            if t == k {
                // The late variable's first step is lr (|m̂/√v̂| = 1), not the ≈ 3.4·lr a shared count gave.
                assert!(
                    ((got_b - -0.25).abs() - lr).abs() < 1e-9,
                    "first step of b moved {}",
                    got_b + 0.25
                );
            }
        }
        assert_eq!(opt.steps(), (k + 5) as u64);
        assert_eq!(opt.variable_steps("a"), Some((k + 5) as u64));
        assert_eq!(opt.variable_steps("b"), Some(5));
    }

    #[test]
    fn the_state_round_trips_and_an_old_state_gives_untouched_variables_step_zero() {
        let (params, a, _b) = two_vars();
        let mut opt = Adam::new(&params, 1e-2, 1e-8).unwrap();
        for _ in 0..3 {
            let g = (a.as_tensor() * 2.0).unwrap().sum_all().unwrap().backward().unwrap();
            opt.step(&g).unwrap();
        }
        let state = opt.state().unwrap();
        let (params2, _, _) = two_vars();
        let mut back = Adam::new(&params2, 1e-2, 1e-8).unwrap();
        back.load_state(&state).unwrap();
        assert_eq!(
            (back.steps(), back.variable_steps("a"), back.variable_steps("b")),
            (3, Some(3), Some(0))
        );
        // A checkpoint from before per-variable counts: only `adam.step`.
        let mut old = state.clone();
        old.retain(|k, _| !k.starts_with("adam.step."));
        let mut back = Adam::new(&params2, 1e-2, 1e-8).unwrap();
        back.load_state(&old).unwrap();
        assert_eq!((back.variable_steps("a"), back.variable_steps("b")), (Some(3), Some(0)));
    }

    /// With `warmup = W`, a variable's k-th step is PyTorch's Adam step scaled by min(1, k / W), counted
    /// from the variable's own first gradient: a variable that joins after 50 steps starts at lr / W.
    #[test]
    fn warmup_scales_each_variables_first_steps_from_when_it_joins() {
        let (lr, eps, join, w) = (1e-3, 1e-8, 50, 8);
        let (params, a, b) = two_vars();
        let mut opt = Adam::new(&params, lr, eps).unwrap();
        opt.warmup = w;
        let (mut pa, mut pb) = (0.5f64, -0.25f64);
        let reference = |p: &mut f64, state: &mut (f64, f64, i32), g: f64| {
            let (b1, b2) = (0.9f64, 0.999f64);
            state.2 += 1;
            state.0 = b1 * state.0 + (1.0 - b1) * g;
            state.1 = b2 * state.1 + (1.0 - b2) * g * g;
            let m_hat = state.0 / (1.0 - b1.powi(state.2));
            let v_hat = state.1 / (1.0 - b2.powi(state.2));
            let scale = (state.2 as f64 / w as f64).min(1.0);
            *p -= lr * scale * m_hat / (v_hat.sqrt() + eps);
        };
        let (mut sa, mut sb) = ((0.0, 0.0, 0), (0.0, 0.0, 0));
        for t in 0..join + 12 {
            let ca = 0.3 + 0.1 * (t as f64).cos();
            let mut loss = (a.as_tensor() * ca).unwrap().sum_all().unwrap();
            if t >= join {
                loss = (loss + (b.as_tensor().sqr().unwrap() * 1.5).unwrap().sum_all().unwrap()).unwrap();
                let gb = 3.0 * pb;
                reference(&mut pb, &mut sb, gb);
            }
            reference(&mut pa, &mut sa, ca);
            opt.step(&loss.backward().unwrap()).unwrap();
            let got_a = a.as_tensor().to_vec1::<f64>().unwrap()[0];
            let got_b = b.as_tensor().to_vec1::<f64>().unwrap()[0];
            assert!((got_a - pa).abs() < 1e-12, "step {t}: a {got_a} vs {pa}");
            assert!((got_b - pb).abs() < 1e-12, "step {t}: b {got_b} vs {pb}");
            if t == join {
                assert!(
                    ((got_b + 0.25).abs() - lr / w as f64).abs() < 1e-9,
                    "b's first step {}",
                    got_b + 0.25
                );
            }
        }
    }
}
