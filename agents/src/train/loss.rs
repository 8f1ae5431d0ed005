//! The PPO / A2C / REINFORCE loss of a minibatch of whole episodes, the minibatch itself, and the
//! per-update aggregation of diagnostics.

use candle_core::{DType, Tensor, D};

use crate::distributions::{
    categorical_entropy, categorical_log_prob, gaussian_entropy, gaussian_kl, gaussian_log_prob,
};
use crate::error::Result;
use crate::policy::{HeadKind, Policy};
use crate::rollout::Rollout;
use crate::train::{TrainConfig, UpdateStats};

/// The loss of one minibatch and what the diagnostics need from it.
pub(crate) struct MinibatchLoss {
    pub total: Tensor,
    pub policy: Tensor,
    pub value: Tensor,
    pub entropy: Tensor,
    /// Probability ratios π/π_old and their logarithms, `[T, B]`.
    pub ratio: Tensor,
    pub log_ratio: Tensor,
    /// Values of the regularisers, in `UpdateStats` order (activity, weight L2, weight L1, zeroness,
    /// smoothness, effort, jerk).
    pub regs: [f64; 7],
}

/// The clipped-surrogate (or plain, `clip = None`) policy loss, the value loss, the entropy bonus and the
/// regularisers of `cfg` on a minibatch of whole episodes.
pub(crate) fn minibatch_loss(p: &Policy, b: &Minibatch, cfg: &TrainConfig, clip: Option<f64>) -> Result<MinibatchLoss> {
    let rc = &cfg.regularizers;
    let out = p.forward(&b.obs, (b.noise_actor.as_ref(), b.noise_critic.as_ref()))?;
    let mask = &b.mask;
    let count = b.count;
    let mmean = |x: &Tensor| -> Result<Tensor> { Ok((x.mul(mask)?.sum_all()? / count)?) };
    let (logp, entropy) = match p.head_kind() {
        HeadKind::Gaussian { .. } => {
            let ls = p.log_std().expect("Gaussian heads have log-σ");
            (gaussian_log_prob(&out.head, ls, &b.actions)?, gaussian_entropy(ls)?)
        }
        HeadKind::Categorical { .. } => {
            let a = b.actions.squeeze(D::Minus1)?;
            (
                categorical_log_prob(&out.head, &a)?,
                mmean(&categorical_entropy(&out.head)?)?,
            )
        }
    };
    let log_ratio = (&logp - &b.old_log_probs)?;
    let ratio = log_ratio.exp()?;
    let pg = match clip {
        Some(eps) => {
            let s1 = ratio.mul(&b.advantages)?;
            let s2 = ratio.clamp(1.0 - eps, 1.0 + eps)?.mul(&b.advantages)?;
            mmean(&s1.minimum(&s2)?)?.neg()?
        }
        None => mmean(&ratio.mul(&b.advantages)?)?.neg()?,
    };
    let verr = (&out.value - &b.targets)?.sqr()?;
    let vloss = if cfg.value_clip > 0.0 {
        let vc = (&b.old_values + (&out.value - &b.old_values)?.clamp(-cfg.value_clip, cfg.value_clip)?)?;
        (mmean(&verr.maximum(&(vc - &b.targets)?.sqr()?)?)? * 0.5)?
    } else {
        (mmean(&verr)? * 0.5)?
    };
    let mut loss = ((&pg + (&vloss * cfg.value_coef)?)? - (&entropy * cfg.entropy_coef)?)?;

    let mut regs = [0.0f64; 7];
    let mut add = |loss: &mut Tensor, i: usize, w: f64, term: Tensor| -> Result<()> {
        regs[i] = term.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        *loss = (&*loss + (term * w)?)?;
        Ok(())
    };
    if rc.activity_l2 > 0.0 {
        add(
            &mut loss,
            0,
            rc.activity_l2,
            mmean(&out.hidden.sqr()?.mean(D::Minus1)?)?,
        )?;
    }
    if rc.weight_l2 > 0.0 || rc.weight_l1 > 0.0 {
        let ws: Vec<Tensor> = p
            .params()
            .vars()
            .filter(|(k, _)| k.contains("weight"))
            .map(|(_, v)| v.as_tensor().clone())
            .collect();
        let total: usize = ws.iter().map(|w| w.elem_count()).sum();
        if rc.weight_l2 > 0.0 {
            let mut s = ws[0].sqr()?.sum_all()?;
            for w in &ws[1..] {
                s = (s + w.sqr()?.sum_all()?)?;
            }
            add(&mut loss, 1, rc.weight_l2, (s / total as f64)?)?;
        }
        if rc.weight_l1 > 0.0 {
            let mut s = ws[0].abs()?.sum_all()?;
            for w in &ws[1..] {
                s = (s + w.abs()?.sum_all()?)?;
            }
            add(&mut loss, 2, rc.weight_l1, (s / total as f64)?)?;
        }
    }
    if let HeadKind::Gaussian { .. } = p.head_kind() {
        let mean = &out.head;
        let ls = p.log_std().expect("Gaussian heads have log-σ");
        if rc.zeroness > 0.0 {
            let zero = Tensor::zeros(1, mean.dtype(), mean.device())?;
            let ls_z = Tensor::new(&[rc.zeroness_std.ln()], mean.device())?.to_dtype(mean.dtype())?;
            add(&mut loss, 3, rc.zeroness, mmean(&gaussian_kl(mean, ls, &zero, &ls_z)?)?)?;
        }
        let t = mean.dim(0)?;
        if rc.smoothness > 0.0 && t > 1 {
            let now = mean.narrow(0, 1, t - 1)?;
            let before = mean.narrow(0, 0, t - 1)?.detach();
            let kl = gaussian_kl(&now, ls, &before, &ls.detach())?;
            let m2 = (mask.narrow(0, 1, t - 1)? * mask.narrow(0, 0, t - 1)?)?;
            let n2 = m2.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?.max(1.0);
            add(&mut loss, 4, rc.smoothness, (kl.mul(&m2)?.sum_all()? / n2)?)?;
        }
        if rc.effort > 0.0 {
            add(&mut loss, 5, rc.effort, mmean(&mean.sqr()?.sum(D::Minus1)?)?)?;
        }
        if rc.jerk > 0.0 && t > 2 {
            let d2 = ((mean.narrow(0, 2, t - 2)? - (mean.narrow(0, 1, t - 2)? * 2.0)?)? + mean.narrow(0, 0, t - 2)?)?;
            let m3 = ((mask.narrow(0, 2, t - 2)? * mask.narrow(0, 1, t - 2)?)? * mask.narrow(0, 0, t - 2)?)?;
            let n3 = m3.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?.max(1.0);
            add(
                &mut loss,
                6,
                rc.jerk,
                (d2.sqr()?.sum(D::Minus1)?.mul(&m3)?.sum_all()? / n3)?,
            )?;
        }
    }
    Ok(MinibatchLoss {
        total: loss,
        policy: pg,
        value: vloss,
        entropy,
        ratio,
        log_ratio,
        regs,
    })
}

pub(crate) fn explained_variance(valid: &[usize], values: &[f32], returns: &[f32]) -> f64 {
    let n = valid.len().max(1) as f64;
    let mr = valid.iter().map(|&k| f64::from(returns[k])).sum::<f64>() / n;
    let var_r = valid.iter().map(|&k| (f64::from(returns[k]) - mr).powi(2)).sum::<f64>() / n;
    let res: Vec<f64> = valid.iter().map(|&k| f64::from(returns[k] - values[k])).collect();
    let mres = res.iter().sum::<f64>() / n;
    let var_res = res.iter().map(|x| (x - mres).powi(2)).sum::<f64>() / n;
    if var_r > 0.0 {
        1.0 - var_res / var_r
    } else {
        f64::NAN
    }
}

/// Sums of per-minibatch diagnostics.
#[derive(Default)]
pub(crate) struct Accum {
    n: usize,
    sum: UpdateStats,
}

impl Accum {
    pub(crate) fn add(&mut self, s: &UpdateStats) {
        self.n += 1;
        let a = &mut self.sum;
        a.policy_loss += s.policy_loss;
        a.value_loss += s.value_loss;
        a.entropy += s.entropy;
        a.approx_kl += s.approx_kl;
        a.clip_fraction += s.clip_fraction;
        a.grad_norm += s.grad_norm;
        a.reg_activity_l2 += s.reg_activity_l2;
        a.reg_weight_l2 += s.reg_weight_l2;
        a.reg_weight_l1 += s.reg_weight_l1;
        a.reg_zeroness += s.reg_zeroness;
        a.reg_smoothness += s.reg_smoothness;
        a.reg_effort += s.reg_effort;
        a.reg_jerk += s.reg_jerk;
    }

    pub(crate) fn mean(self) -> UpdateStats {
        let k = self.n.max(1) as f64;
        let a = self.sum;
        UpdateStats {
            policy_loss: a.policy_loss / k,
            value_loss: a.value_loss / k,
            entropy: a.entropy / k,
            approx_kl: a.approx_kl / k,
            clip_fraction: a.clip_fraction / k,
            grad_norm: a.grad_norm / k,
            reg_activity_l2: a.reg_activity_l2 / k,
            reg_weight_l2: a.reg_weight_l2 / k,
            reg_weight_l1: a.reg_weight_l1 / k,
            reg_zeroness: a.reg_zeroness / k,
            reg_smoothness: a.reg_smoothness / k,
            reg_effort: a.reg_effort / k,
            reg_jerk: a.reg_jerk / k,
            ..Default::default()
        }
    }
}

/// Whole episodes gathered from a rollout, time-major, trimmed to the longest of them.
pub(crate) struct Minibatch {
    pub obs: Tensor,
    pub actions: Tensor,
    pub old_log_probs: Tensor,
    pub old_values: Tensor,
    pub advantages: Tensor,
    pub targets: Tensor,
    pub mask: Tensor,
    pub count: f64,
    pub noise_actor: Option<Tensor>,
    pub noise_critic: Option<Tensor>,
}

impl Minibatch {
    pub(crate) fn gather<I>(
        ro: &Rollout<I>,
        eps: &[usize],
        adv: &[f32],
        targets: &[f32],
        dtype: DType,
    ) -> Result<Self> {
        let t = eps.iter().map(|&e| ro.lengths[e]).max().unwrap_or(0).max(1);
        let (b, n) = (eps.len(), ro.episodes);
        let dev = candle_core::Device::Cpu;
        // `[t, b, w]`, or `[t, b]` for per-step scalars (w = 0 means one scalar).
        let take = |src: &[f32], w: usize| -> Result<Tensor> {
            let (w, scalar) = if w == 0 { (1, true) } else { (w, false) };
            let mut v = Vec::with_capacity(t * b * w);
            for s in 0..t {
                for &e in eps {
                    let k = s * n + e;
                    v.extend_from_slice(&src[k * w..(k + 1) * w]);
                }
            }
            let shape: Vec<usize> = if scalar { vec![t, b] } else { vec![t, b, w] };
            Ok(Tensor::from_vec(v, shape, &dev)?.to_dtype(dtype)?)
        };
        let mask = take(&ro.mask, 0)?;
        let count = eps.iter().map(|&e| ro.lengths[e]).sum::<usize>().max(1) as f64;
        let nw = if ro.noise_actor.is_empty() {
            0
        } else {
            ro.noise_actor.len() / (ro.steps * n)
        };
        let actions = take(&ro.actions, ro.action_width)?;
        Ok(Minibatch {
            obs: take(&ro.obs, ro.obs_dim)?,
            actions,
            old_log_probs: take(&ro.log_probs, 0)?,
            old_values: take(&ro.values, 0)?,
            advantages: take(adv, 0)?,
            targets: take(targets, 0)?,
            mask,
            count,
            noise_actor: if nw > 0 { Some(take(&ro.noise_actor, nw)?) } else { None },
            noise_critic: if nw > 0 && !ro.noise_critic.is_empty() {
                Some(take(&ro.noise_critic, nw)?)
            } else {
                None
            },
        })
    }
}
