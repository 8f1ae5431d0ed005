//! Differentiable twins of the env's effectors: a batch of trials stepped inside candle's graph, so that
//! a behavioural cost can be backpropagated through the hand's whole trajectory (`plant`).
//!
//! A twin never holds a second copy of the physics:
//! - the point mass's step is affine in its state and command under every force law the env has, so its
//!   twin ([`PlantModel`]) reads the map off the env's own point mass by stepping it from basis states;
//! - arm26's step is written once in `reachlab_envs::effector::arm26` over the `Real`/`Lanes` numeric
//!   traits, and its twin runs that code per trial in `f64` forward and in [`Dual`] numbers backward, as
//!   one graph node per step ([`Arm26Twin`]); [`Arm26GraphTwin`] runs it on [`T`], a tensor wrapper that
//!   implements the traits (one `[N, 1]` column per quantity, `[N, 6]` for the muscles), with the force
//!   law's one definition (`LawCoefficients::force`) on tensors too.
//!
//! - the torque- or force-driven two-link arm's step is written once in
//!   `reachlab_envs::effector::TwoLinkModel` over `Real`, and its twin runs it on [`T`] likewise.

mod arm26;
mod arm26_fused;
mod dual;
mod point_mass;
mod two_link_arm;

pub use arm26::{Arm26GraphTwin, Arm26Twin};
pub use dual::{Dual, DualLanes, LaneCoupling, LaneDual};
pub use point_mass::{curl_maps, law_maps, PlantModel, PointMassTwin};
pub use two_link_arm::TwoLinkTwin;

use candle_core::{DType, Device, Tensor};
use reachlab_envs::effector::{ForceLaw, Lanes, LawCoefficients, Real, TwoLinkArm};
use reachlab_envs::reach::{EffectorConfig, ReachConfig};

use crate::error::Result;

/// A batch of effectors in the graph, one per trial, each with its own force law.
pub trait Twin {
    /// One step under the applied commands `u` `[N, A]`; `on` `[N, 1]` is 1 where the trial's force law
    /// acts during this step (from the go cue on, as the env applies it) and 0 elsewhere.
    fn step(&mut self, u: &Tensor, on: &Tensor) -> Result<()>;
    /// Hand position relative to the start and hand velocity, `[N, 2]` each.
    fn hand(&self) -> Result<(Tensor, Tensor)>;
    /// The hand's observation, `[N, 4]`: position and velocity times the env's observation scales (the
    /// env's observation columns 3..7).
    fn observe_hand(&self) -> Result<Tensor>;
    /// What the effector senses of itself, `[N, P]`, in the env's order (`None` when it senses nothing).
    fn proprioception(&self) -> Result<Option<Tensor>>;
}

/// The twin of the env's effector for trials with force laws `laws`, at rest in the start posture.
pub fn build(env: &ReachConfig, laws: &[ForceLaw], dtype: DType) -> Result<Box<dyn Twin>> {
    check(env)?;
    Ok(match &env.effector {
        EffectorConfig::Arm26(_) => Box::new(Arm26Twin::new(env, laws, dtype)?),
        EffectorConfig::TwoLinkArm(_) => Box::new(TwoLinkTwin::new(env, laws, dtype)?),
        EffectorConfig::PointMass(_) => Box::new(PointMassTwin::new(env, laws, dtype)?),
    })
}

/// Whether the env's effector has a twin (what [`build`] accepts), checked before a run starts.
pub fn check(env: &ReachConfig) -> Result<()> {
    match &env.effector {
        EffectorConfig::PointMass(_) => PlantModel::of(env).map(|_| ()),
        EffectorConfig::Arm26(c) => Ok(c.params.validate("env.effector")?),
        EffectorConfig::TwoLinkArm(c) => TwoLinkArm::new(*c, env.dt).map(|_| ()).map_err(Into::into),
    }
}

/// A tensor as a [`Real`] (shape `[N, 1]`, one number per trial) and as [`Lanes`] (`[N, K]`).
///
/// Operations between two `T`s of one shape are elementwise; those that mix a column with lanes
/// broadcast. Constants become tensors of the operand's dtype.
#[derive(Debug, Clone)]
pub struct T(pub Tensor);

type CResult<X> = std::result::Result<X, candle_core::Error>;

impl T {
    /// The row of per-lane constants `k` as a `[1, K]` tensor of this tensor's dtype.
    fn row(&self, k: &[f64]) -> CResult<Tensor> {
        Tensor::from_slice(k, (1, k.len()), self.0.device())?.to_dtype(self.0.dtype())
    }
}

impl Real for T {
    type Error = candle_core::Error;
    type Mask = Tensor;

    fn add(&self, o: &Self) -> CResult<Self> {
        Ok(T(self.0.add(&o.0)?))
    }
    fn sub(&self, o: &Self) -> CResult<Self> {
        Ok(T(self.0.sub(&o.0)?))
    }
    fn mul(&self, o: &Self) -> CResult<Self> {
        Ok(T(self.0.mul(&o.0)?))
    }
    fn div(&self, o: &Self) -> CResult<Self> {
        Ok(T(self.0.div(&o.0)?))
    }
    fn neg(&self) -> CResult<Self> {
        Ok(T(self.0.neg()?))
    }
    fn add_c(&self, c: f64) -> CResult<Self> {
        Ok(T(self.0.affine(1.0, c)?))
    }
    fn mul_c(&self, c: f64) -> CResult<Self> {
        Ok(T(self.0.affine(c, 0.0)?))
    }
    fn max_c(&self, c: f64) -> CResult<Self> {
        Ok(T(self.0.maximum(c)?))
    }
    fn min_c(&self, c: f64) -> CResult<Self> {
        Ok(T(self.0.minimum(c)?))
    }
    fn sin(&self) -> CResult<Self> {
        Ok(T(self.0.sin()?))
    }
    fn cos(&self) -> CResult<Self> {
        Ok(T(self.0.cos()?))
    }
    fn full_like(&self, c: f64) -> CResult<Self> {
        Ok(T(self.0.zeros_like()?.affine(1.0, c)?))
    }
    fn gt(&self, o: &Self) -> CResult<Tensor> {
        self.0.gt(&o.0)
    }
    fn gt_c(&self, c: f64) -> CResult<Tensor> {
        self.0.gt(c)
    }
    fn lt_c(&self, c: f64) -> CResult<Tensor> {
        self.0.lt(c)
    }
    fn le_c(&self, c: f64) -> CResult<Tensor> {
        self.0.le(c)
    }
    fn ge_c(&self, c: f64) -> CResult<Tensor> {
        self.0.ge(c)
    }
    fn select(mask: &Tensor, on_true: &Self, on_false: &Self) -> CResult<Self> {
        Ok(T(mask.where_cond(&on_true.0, &on_false.0)?))
    }
}

impl Lanes<T> for T {
    fn add_k(&self, k: &[f64]) -> CResult<Self> {
        Ok(T(self.0.broadcast_add(&self.row(k)?)?))
    }
    fn mul_k(&self, k: &[f64]) -> CResult<Self> {
        Ok(T(self.0.broadcast_mul(&self.row(k)?)?))
    }
    fn scaled(r: &T, k: &[f64]) -> CResult<Self> {
        Ok(T(r.0.broadcast_mul(&r.row(k)?)?))
    }
    fn mul_r(&self, r: &T) -> CResult<Self> {
        Ok(T(self.0.broadcast_mul(&r.0)?))
    }
    fn sum(&self) -> CResult<T> {
        Ok(T(self.0.sum_keepdim(1)?))
    }
}

/// Each trial's force law as columns `[N, 1]`, one per coefficient; trials without a channel get
/// `K = C = 0` (and `n̂ = 0`): no channel force.
pub(crate) fn law_columns(laws: &[ForceLaw], dtype: DType) -> Result<LawCoefficients<T>> {
    let coefficients: Vec<LawCoefficients<f64>> = laws.iter().map(ForceLaw::coefficients).collect();
    let per_trial = |f: &dyn Fn(&LawCoefficients<f64>) -> f64| -> Result<T> {
        Ok(T(column(coefficients.iter().map(f).collect(), dtype)?))
    };
    let v = |r: usize, c: usize| per_trial(&move |l| l.viscous[r][c]);
    let channel = if laws.iter().any(|l| l.channel.is_some()) {
        let ch = |f: fn(&(f64, f64, [f64; 2])) -> f64| per_trial(&move |l| l.channel.as_ref().map_or(0.0, f));
        Some((ch(|c| c.0)?, ch(|c| c.1)?, [ch(|c| c.2[0])?, ch(|c| c.2[1])?]))
    } else {
        None
    };
    Ok(LawCoefficients {
        viscous: [[v(0, 0)?, v(0, 1)?], [v(1, 0)?, v(1, 1)?]],
        channel,
    })
}

/// A twin's hand (position relative to the start, velocity) as `[N, 2]` tensors.
pub(crate) fn hand_tensors(hand: &([T; 2], [T; 2])) -> Result<(Tensor, Tensor)> {
    let ([x, y], [vx, vy]) = hand;
    Ok((Tensor::cat(&[&x.0, &y.0], 1)?, Tensor::cat(&[&vx.0, &vy.0], 1)?))
}

/// The hand's observation `[N, 4]`: position and velocity times the env's scales `(position, velocity)`.
pub(crate) fn observed_hand(hand: &([T; 2], [T; 2]), (ps, vs): (f64, f64)) -> Result<Tensor> {
    let ([x, y], [vx, vy]) = hand;
    let parts = [x.mul_c(ps)?, y.mul_c(ps)?, vx.mul_c(vs)?, vy.mul_c(vs)?].map(|c| c.0);
    Ok(Tensor::cat(&parts, 1)?)
}

/// `n` rows of the values `v`, as an `[n, v.len()]` tensor of `dtype`.
pub(crate) fn rows_of(v: &[f64], n: usize, dtype: DType) -> Result<Tensor> {
    let row = Tensor::from_slice(v, (1, v.len()), &Device::Cpu)?;
    Ok(row.broadcast_as((n, v.len()))?.contiguous()?.to_dtype(dtype)?)
}

/// A column `[N, 1]` of `dtype` from one value per trial.
pub(crate) fn column(v: Vec<f64>, dtype: DType) -> Result<Tensor> {
    let n = v.len();
    Ok(Tensor::from_vec(v, (n, 1), &Device::Cpu)?.to_dtype(dtype)?)
}
