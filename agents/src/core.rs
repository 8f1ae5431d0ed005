//! Recurrent cores: parameters in candle, the sequence on the fused kernels.

use std::sync::Arc;

use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::kernels::cell::{CellWeights, InputWeights};
use crate::kernels::fused::unpack;
use crate::kernels::{Activation, CellKind, FusedRnn, UnpackCache};
use crate::params::Params;

/// Which recurrent network a policy uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoreKind {
    /// Leaky vanilla RNN, `h' = (1 − α)h + α·φ(W_in·x + W·h + b + noise)`.
    Vanilla,
    Gru,
    Lstm,
    /// Leaky vanilla RNN whose recurrent weights are masked by a fixed locality graph: neurons on a
    /// √n×√n torus, connected when their distance is at most ρ, with ρ set for a target density
    /// (Khona et al. 2023). Masked weights are zero and stay zero.
    Sparse,
    /// Leaky vanilla RNN with a diagonal recurrent matrix (each unit sees only itself): the "autapse"
    /// control of Khona et al. 2023.
    Autapse,
}

/// Settings of a recurrent core (a TOML table in scenario files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoreConfig {
    pub kind: CoreKind,
    /// Number of recurrent units H.
    pub hidden: usize,
    /// Nonlinearity of the vanilla-family cores.
    pub activation: Activation,
    /// α = dt/τ of the vanilla-family cores (1 = not leaky).
    pub alpha: f64,
    /// Recurrent noise σ_rec of the vanilla-family cores; enters as √(2/α)·σ_rec·ξ inside φ.
    pub sigma_rec: f64,
    /// Connection density of the sparse core (fraction of the H² possible connections, self included).
    pub density: f64,
    /// Spectral scale of the vanilla-family recurrent initialisation (entries N(0, gain²/fan-in)).
    pub gain: f64,
    /// Input weights: 0 = PyTorch's default, uniform in ±1/√H; s > 0 = N(0, s²/inputs), as in Yang et al.
    /// 2019 (s = 1).
    pub input_scale: f64,
    /// Batch rows per work block inside the fused kernel; 0 = half the batch, clamped to 8..=32. Results
    /// do not depend on the thread count, but do depend on the block size.
    pub rows_per_chunk: usize,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            kind: CoreKind::Gru,
            hidden: 128,
            activation: Activation::Tanh,
            alpha: 1.0,
            sigma_rec: 0.0,
            density: 0.16,
            gain: 1.0,
            input_scale: 0.0,
            rows_per_chunk: 0,
        }
    }
}

impl CoreConfig {
    /// The cell the kernels run.
    pub fn cell(&self) -> CellKind {
        match self.kind {
            CoreKind::Gru => CellKind::Gru,
            CoreKind::Lstm => CellKind::Lstm,
            CoreKind::Vanilla | CoreKind::Sparse | CoreKind::Autapse => CellKind::Vanilla {
                activation: self.activation,
                alpha: self.alpha,
            },
        }
    }

    /// Width of the recurrent state (H, or 2H for the LSTM).
    pub fn state_width(&self) -> usize {
        self.cell().state_width(self.hidden)
    }

    /// Standard deviation of the recurrent noise added to the input projection.
    pub fn noise_std(&self) -> f64 {
        if matches!(self.cell(), CellKind::Vanilla { .. }) && self.sigma_rec > 0.0 {
            (2.0 / self.alpha).sqrt() * self.sigma_rec
        } else {
            0.0
        }
    }

    /// Largest core: 8192 units (an LSTM's recurrent weights are then 1 GiB of f32).
    pub const MAX_HIDDEN: usize = 8192;

    pub fn validate(&self) -> Result<()> {
        if self.hidden == 0 || self.hidden > Self::MAX_HIDDEN {
            return Err(AgentError::config(
                "core.hidden",
                format!(
                    "{} is not in 1..={} (the recurrent weights alone would not fit)",
                    self.hidden,
                    Self::MAX_HIDDEN
                ),
            ));
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(AgentError::config(
                "core.alpha",
                format!("{} is not in (0, 1]", self.alpha),
            ));
        }
        // Bounded far above any useful value: 1e300 passed as "finite" and made infinite weights. Checked
        // whatever the kind: a NaN here would reach checkpoint.json as `null` and fail the resume.
        for (key, v, max) in [
            ("core.input_scale", self.input_scale, 1e4),
            ("core.sigma_rec", self.sigma_rec, 100.0),
            ("core.gain", self.gain, 100.0),
        ] {
            if !(v.is_finite() && (0.0..=max).contains(&v)) {
                return Err(AgentError::config(key, format!("{v} is not in [0, {max}]")));
            }
        }
        if !(self.density > 0.0 && self.density <= 1.0) {
            return Err(AgentError::config(
                "core.density",
                format!("{} is not in (0, 1]", self.density),
            ));
        }
        Ok(())
    }
}

/// The locality mask of the sparse core: unit i sits at (i mod n, i div n) on an n×n torus
/// (n = ⌈√H⌉); `M_ij = 1` when the torus distance between i and j is at most ρ, with ρ the smallest
/// distance that reaches the target density. Distances come in shells, so the realised density is the
/// target rounded up to a whole shell. Row-major H×H.
pub fn locality_mask(hidden: usize, density: f64) -> Vec<f32> {
    let side = (hidden as f64).sqrt().ceil() as usize;
    let pos = |i: usize| ((i % side) as f64, (i / side) as f64);
    let torus = |a: f64, b: f64| {
        let d = (a - b).abs();
        d.min(side as f64 - d)
    };
    let mut dist = vec![0.0f64; hidden * hidden];
    for i in 0..hidden {
        for j in 0..hidden {
            let (pi, pj) = (pos(i), pos(j));
            dist[i * hidden + j] = torus(pi.0, pj.0).hypot(torus(pi.1, pj.1));
        }
    }
    let mut sorted = dist.clone();
    sorted.sort_by(f64::total_cmp);
    let want = ((density * (hidden * hidden) as f64).round() as usize).clamp(1, hidden * hidden);
    let rho = sorted[want - 1];
    dist.iter().map(|&d| if d <= rho + 1e-12 { 1.0 } else { 0.0 }).collect()
}

/// A recurrent core: `W_ih [G·H, I]`, `b_ih`, `W_hh [G·H, H]` (a vector of H for the autapse core),
/// `b_hh`, named as in PyTorch (`weight_ih_l0`, …) under a prefix.
pub struct RecurrentCore {
    config: CoreConfig,
    input: usize,
    w_ih: Var,
    b_ih: Var,
    w_hh: Var,
    b_hh: Var,
    mask: Option<Tensor>,
}

impl RecurrentCore {
    /// A freshly initialised core, its variables registered in `params` under `prefix`.
    pub fn new(
        config: &CoreConfig,
        input: usize,
        prefix: &str,
        params: &mut Params,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self> {
        config.validate()?;
        let dtype = params.dtype();
        let dev = params.device().clone();
        let h = config.hidden;
        let g = config.cell().gates() * h;
        let bound = 1.0 / (h as f64).sqrt();
        let uniform =
            |rng: &mut ChaCha8Rng, n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-bound..bound)).collect() };
        let w_ih = if config.input_scale > 0.0 {
            let std = config.input_scale / (input.max(1) as f64).sqrt();
            (0..g * input)
                .map(|_| {
                    let x: f64 = StandardNormal.sample(rng);
                    std * x
                })
                .collect()
        } else {
            uniform(rng, g * input)
        };
        let b_ih = uniform(rng, g);
        let b_hh = uniform(rng, g);
        let mut mask = None;
        let w_hh: Vec<f64> = match config.kind {
            CoreKind::Gru | CoreKind::Lstm => uniform(rng, g * h),
            CoreKind::Autapse => uniform(rng, h),
            CoreKind::Vanilla | CoreKind::Sparse => {
                let m = match config.kind {
                    CoreKind::Sparse => locality_mask(h, config.density),
                    _ => vec![1.0; h * h],
                };
                let fan_in = (m.iter().map(|&v| f64::from(v)).sum::<f64>() / h as f64).max(1.0);
                let std = config.gain / fan_in.sqrt();
                let w = m
                    .iter()
                    .map(|&mv| {
                        let x: f64 = StandardNormal.sample(rng);
                        f64::from(mv) * std * x
                    })
                    .collect();
                if config.kind == CoreKind::Sparse {
                    mask = Some(Tensor::from_vec(m, (h, h), &dev)?.to_dtype(dtype)?);
                }
                w
            }
        };
        let var = |v: Vec<f64>, shape: &[usize]| -> Result<Var> {
            Ok(Var::from_tensor(&Tensor::from_vec(v, shape, &dev)?.to_dtype(dtype)?)?)
        };
        let w_hh_shape: Vec<usize> = if config.kind == CoreKind::Autapse {
            vec![h]
        } else {
            vec![g, h]
        };
        let core = RecurrentCore {
            config: config.clone(),
            input,
            w_ih: var(w_ih, &[g, input])?,
            b_ih: var(b_ih, &[g])?,
            w_hh: var(w_hh, &w_hh_shape)?,
            b_hh: var(b_hh, &[g])?,
            mask,
        };
        params.insert(format!("{prefix}.weight_ih_l0"), core.w_ih.clone());
        params.insert(format!("{prefix}.bias_ih_l0"), core.b_ih.clone());
        params.insert(format!("{prefix}.weight_hh_l0"), core.w_hh.clone());
        params.insert(format!("{prefix}.bias_hh_l0"), core.b_hh.clone());
        if let Some(m) = &core.mask {
            params.insert_constant(format!("{prefix}.mask"), m.clone());
        }
        Ok(core)
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    pub fn input_dim(&self) -> usize {
        self.input
    }

    /// The recurrent matrix the cell uses, `[G·H, H]`: masked for the sparse core, diagonal for the
    /// autapse core.
    pub fn effective_w_hh(&self) -> Result<Tensor> {
        let w = self.w_hh.as_tensor();
        Ok(match self.config.kind {
            CoreKind::Autapse => {
                let h = self.config.hidden;
                let eye = Tensor::eye(h, w.dtype(), w.device())?;
                eye.broadcast_mul(&w.unsqueeze(0)?)?
            }
            _ => match &self.mask {
                Some(m) => w.mul(m)?,
                None => w.clone(),
            },
        })
    }

    /// Re-imposes the structural zeros (the sparse core's mask) on the raw weights, after an optimiser step
    /// (a regulariser such as L1, whose subgradient at 0 need not be 0, could otherwise move them).
    pub fn enforce_structure(&self) -> Result<()> {
        if let Some(m) = &self.mask {
            self.w_hh.set(&self.w_hh.as_tensor().mul(m)?)?;
        }
        Ok(())
    }

    /// Runs the core over a whole sequence: `x [T, B, I]`, `h0 [B, S]`, optional additive noise
    /// `[T, B, G·H]` on the input projection (recorded during the rollout) → hidden states `[T, B, H]`.
    pub fn forward(&self, x: &Tensor, h0: &Tensor, noise: Option<&Tensor>) -> Result<Tensor> {
        let (_, _, i) = x.dims3()?;
        if i != self.input {
            return Err(AgentError::Mismatch(format!(
                "the core expects {} inputs per step, got {i}",
                self.input
            )));
        }
        let op = FusedRnn::new(self.config.cell(), self.config.hidden, self.config.rows_per_chunk)
            .with_noise(noise.cloned());
        Ok(x.contiguous()?
            .apply_op3(&h0.contiguous()?, &self.packed_weights()?, op)?)
    }

    /// One differentiable step: `x [B, I]`, `state [B, S]` → (`state' [B, S]`, output `h' [B, H]`), for
    /// closed-loop training through a plant. Vanilla and GRU cores run the fused op over one step; the
    /// LSTM, whose state `[h, c]` is wider than the op's output, is written in candle ops (gates i, f, g, o
    /// as in PyTorch and the fused kernel).
    pub fn step_graph(&self, x: &Tensor, state: &Tensor) -> Result<(Tensor, Tensor)> {
        self.stepper()?.step(x, state)
    }

    /// A [`step_graph`](Self::step_graph) for many steps on the weights as they are now: the fused op's
    /// weights are gathered and unpacked once, not at every step (a closed-loop rollout; make a new one
    /// after the weights change).
    pub fn stepper(&self) -> Result<CoreStepper<'_>> {
        let fused = if self.config.cell() != CellKind::Lstm {
            Some((self.packed_weights()?, Arc::new(UnpackCache::default())))
        } else {
            None
        };
        Ok(CoreStepper { core: self, fused })
    }

    /// The LSTM's step in candle ops (see [`step_graph`](Self::step_graph)).
    fn lstm_step(&self, x: &Tensor, state: &Tensor) -> Result<(Tensor, Tensor)> {
        let n = self.config.hidden;
        let (hp, cp) = (state.narrow(1, 0, n)?, state.narrow(1, n, n)?);
        let gates = x
            .matmul(&self.w_ih.as_tensor().t()?)?
            .add(&hp.matmul(&self.effective_w_hh()?.t()?)?)?
            .broadcast_add(self.b_ih.as_tensor())?
            .broadcast_add(self.b_hh.as_tensor())?;
        let gate = |k: usize| gates.narrow(1, k * n, n);
        let sigmoid = |t: Tensor| -> Result<Tensor> { Ok(((t.neg()?.exp()? + 1.0)?.recip())?) };
        let (i, f, g, o) = (
            sigmoid(gate(0)?)?,
            sigmoid(gate(1)?)?,
            gate(2)?.tanh()?,
            sigmoid(gate(3)?)?,
        );
        let c = (f.mul(&cp)? + i.mul(&g)?)?;
        let h = o.mul(&c.tanh()?)?;
        Ok((Tensor::cat(&[&h, &c], 1)?, h))
    }

    /// `[W_ih | W_hh (effective) | b_ih | b_hh]`, `[G·H, I + H + 2]`: the weights of the fused op.
    fn packed_weights(&self) -> Result<Tensor> {
        Ok(Tensor::cat(
            &[
                self.w_ih.as_tensor().clone(),
                self.effective_w_hh()?,
                self.b_ih.as_tensor().unsqueeze(1)?,
                self.b_hh.as_tensor().unsqueeze(1)?,
            ],
            1,
        )?
        .contiguous()?)
    }

    /// A plain-f32 copy of the weights for acting without an autograd graph.
    pub fn snapshot(&self) -> Result<CoreWeights> {
        let w: Vec<f32> = self.packed_weights()?.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let cell = self.config.cell();
        let (projection, recurrent) = unpack(cell, self.input, self.config.hidden, &w, false);
        Ok(CoreWeights {
            cell,
            hidden: self.config.hidden,
            projection,
            recurrent,
        })
    }

    /// The zero initial state `[batch, S]`.
    pub fn zero_state(&self, batch: usize, dtype: DType, device: &Device) -> Result<Tensor> {
        Ok(Tensor::zeros((batch, self.config.state_width()), dtype, device)?)
    }
}

/// The weights of a core as plain f32 arrays, packed for the per-step products, for acting step by step
/// with no graph.
#[derive(Debug, Clone)]
pub struct CoreWeights {
    cell: CellKind,
    hidden: usize,
    /// `W_ihᵀ` packed.
    projection: InputWeights<f32>,
    recurrent: CellWeights<f32>,
}

impl CoreWeights {
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    pub fn state_width(&self) -> usize {
        self.cell.state_width(self.hidden)
    }

    pub fn gate_width(&self) -> usize {
        self.cell.gates() * self.hidden
    }

    /// One step for `rows` rows: `x` rows×I, `prev`/`next` rows×S, `noise` rows×G·H (or empty),
    /// `scratch` at least 2·rows·G·H.
    pub fn step(&self, rows: usize, x: &[f32], noise: &[f32], prev: &[f32], next: &mut [f32], scratch: &mut [f32]) {
        let g = self.gate_width();
        let (xp, gh) = scratch.split_at_mut(rows * g);
        let gh = &mut gh[..rows * g];
        self.projection.project(rows, x, noise, xp);
        self.cell
            .forward(self.hidden, rows, xp, prev, &self.recurrent, gh, next, None);
    }
}

/// A deterministic generator for initialisation from a seed.
pub(crate) fn init_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A core's steps on weights gathered and unpacked once ([`RecurrentCore::stepper`]).
pub struct CoreStepper<'a> {
    core: &'a RecurrentCore,
    /// The fused op's weights `[G·H, I + H + 2]` (one graph node for every step) and their unpacked
    /// kernels; `None` for the LSTM, stepped in candle ops.
    fused: Option<(Tensor, Arc<UnpackCache>)>,
}

impl CoreStepper<'_> {
    /// One differentiable step: `x [B, I]`, `state [B, S]` → (`state' [B, S]`, output `h' [B, H]`).
    pub fn step(&self, x: &Tensor, state: &Tensor) -> Result<(Tensor, Tensor)> {
        let i = x.dim(1)?;
        if i != self.core.input {
            return Err(AgentError::Mismatch(format!(
                "the core expects {} inputs per step, got {i}",
                self.core.input
            )));
        }
        let Some((w, cache)) = &self.fused else {
            return self.core.lstm_step(x, state);
        };
        let c = &self.core.config;
        let op = FusedRnn::new(c.cell(), c.hidden, c.rows_per_chunk).with_unpack_cache(cache.clone());
        let h = x
            .unsqueeze(0)?
            .contiguous()?
            .apply_op3(&state.contiguous()?, w, op)?
            .squeeze(0)?;
        Ok((h.clone(), h))
    }
}
