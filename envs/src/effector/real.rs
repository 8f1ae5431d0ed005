//! The arithmetic an effector's dynamics are written in, so that one definition of a step serves the
//! env (in `f64`) and the differentiable twin that training through the plant steps (a batch of trials
//! as tensors in an autograd graph, implemented in `reachlab-agents`; this crate knows nothing of
//! tensors).
//!
//! [`Real`] is one number per trial (`f64` here; a `[N, 1]` column there). [`Lanes`] is a fixed number
//! of them per trial, e.g. one per muscle (`[f64; K]` here; an `[N, K]` tensor there), with the
//! operations that mix the two. Every operation may fail (a tensor library reports shape and
//! allocation errors); for the `f64` types the error is [`Infallible`] and the compiler removes the
//! checks, so the env's step costs what the hand-written `f64` code cost.

use std::convert::Infallible;

/// A number per trial, with what an effector's step needs of it.
///
/// Operations with a constant (`*_c`) take an `f64`. Branches are written with [`Real::select`] on a
/// [`Real::Mask`] from a comparison, so that a batch can take different branches per trial.
pub trait Real: Clone + Sized {
    /// What an operation reports when it fails.
    type Error: std::fmt::Debug;
    /// The result of a comparison (`bool` per trial).
    type Mask;

    fn add(&self, o: &Self) -> Result<Self, Self::Error>;
    fn sub(&self, o: &Self) -> Result<Self, Self::Error>;
    fn mul(&self, o: &Self) -> Result<Self, Self::Error>;
    fn div(&self, o: &Self) -> Result<Self, Self::Error>;
    fn neg(&self) -> Result<Self, Self::Error>;
    /// `self + c`.
    fn add_c(&self, c: f64) -> Result<Self, Self::Error>;
    /// `self · c`.
    fn mul_c(&self, c: f64) -> Result<Self, Self::Error>;
    /// `max(self, c)`.
    fn max_c(&self, c: f64) -> Result<Self, Self::Error>;
    /// `min(self, c)`.
    fn min_c(&self, c: f64) -> Result<Self, Self::Error>;
    fn sin(&self) -> Result<Self, Self::Error>;
    fn cos(&self) -> Result<Self, Self::Error>;
    /// The constant `c` in the shape of `self`.
    fn full_like(&self, c: f64) -> Result<Self, Self::Error>;
    /// `self > o`.
    fn gt(&self, o: &Self) -> Result<Self::Mask, Self::Error>;
    /// `self > c`.
    fn gt_c(&self, c: f64) -> Result<Self::Mask, Self::Error>;
    /// `self < c`.
    fn lt_c(&self, c: f64) -> Result<Self::Mask, Self::Error>;
    /// `self ≤ c`.
    fn le_c(&self, c: f64) -> Result<Self::Mask, Self::Error>;
    /// `self ≥ c`.
    fn ge_c(&self, c: f64) -> Result<Self::Mask, Self::Error>;
    /// `if mask { on_true } else { on_false }`, per trial.
    fn select(mask: &Self::Mask, on_true: &Self, on_false: &Self) -> Result<Self, Self::Error>;
}

/// `K` numbers per trial ("lanes", e.g. one per muscle), elementwise [`Real`] operations, and those
/// that combine lanes with per-lane constants (`k`, `K` values) and with a [`Real`] `R` of the same
/// trials.
pub trait Lanes<R: Real>: Real<Error = R::Error> {
    /// `self_i + k_i`.
    fn add_k(&self, k: &[f64]) -> Result<Self, Self::Error>;
    /// `self_i · k_i`.
    fn mul_k(&self, k: &[f64]) -> Result<Self, Self::Error>;
    /// `r · k_i` in every lane.
    fn scaled(r: &R, k: &[f64]) -> Result<Self, Self::Error>;
    /// `self_i · r`.
    fn mul_r(&self, r: &R) -> Result<Self, Self::Error>;
    /// `Σ_i self_i`, summed from lane 0 up.
    fn sum(&self) -> Result<R, Self::Error>;
}

impl Real for f64 {
    type Error = Infallible;
    type Mask = bool;

    #[inline]
    fn add(&self, o: &Self) -> Result<Self, Infallible> {
        Ok(self + o)
    }
    #[inline]
    fn sub(&self, o: &Self) -> Result<Self, Infallible> {
        Ok(self - o)
    }
    #[inline]
    fn mul(&self, o: &Self) -> Result<Self, Infallible> {
        Ok(self * o)
    }
    #[inline]
    fn div(&self, o: &Self) -> Result<Self, Infallible> {
        Ok(self / o)
    }
    #[inline]
    fn neg(&self) -> Result<Self, Infallible> {
        Ok(-self)
    }
    #[inline]
    fn add_c(&self, c: f64) -> Result<Self, Infallible> {
        Ok(self + c)
    }
    #[inline]
    fn mul_c(&self, c: f64) -> Result<Self, Infallible> {
        Ok(self * c)
    }
    #[inline]
    fn max_c(&self, c: f64) -> Result<Self, Infallible> {
        Ok(self.max(c))
    }
    #[inline]
    fn min_c(&self, c: f64) -> Result<Self, Infallible> {
        Ok(self.min(c))
    }
    #[inline]
    fn sin(&self) -> Result<Self, Infallible> {
        Ok(f64::sin(*self))
    }
    #[inline]
    fn cos(&self) -> Result<Self, Infallible> {
        Ok(f64::cos(*self))
    }
    #[inline]
    fn full_like(&self, c: f64) -> Result<Self, Infallible> {
        Ok(c)
    }
    #[inline]
    fn gt(&self, o: &Self) -> Result<bool, Infallible> {
        Ok(self > o)
    }
    #[inline]
    fn gt_c(&self, c: f64) -> Result<bool, Infallible> {
        Ok(*self > c)
    }
    #[inline]
    fn lt_c(&self, c: f64) -> Result<bool, Infallible> {
        Ok(*self < c)
    }
    #[inline]
    fn le_c(&self, c: f64) -> Result<bool, Infallible> {
        Ok(*self <= c)
    }
    #[inline]
    fn ge_c(&self, c: f64) -> Result<bool, Infallible> {
        Ok(*self >= c)
    }
    #[inline]
    fn select(mask: &bool, on_true: &Self, on_false: &Self) -> Result<Self, Infallible> {
        Ok(if *mask { *on_true } else { *on_false })
    }
}

/// Lanes of `f64`: every operation is the `f64` one, lane by lane.
impl<const K: usize> Real for [f64; K] {
    type Error = Infallible;
    type Mask = [bool; K];

    #[inline]
    fn add(&self, o: &Self) -> Result<Self, Infallible> {
        Ok(std::array::from_fn(|i| self[i] + o[i]))
    }
    #[inline]
    fn sub(&self, o: &Self) -> Result<Self, Infallible> {
        Ok(std::array::from_fn(|i| self[i] - o[i]))
    }
    #[inline]
    fn mul(&self, o: &Self) -> Result<Self, Infallible> {
        Ok(std::array::from_fn(|i| self[i] * o[i]))
    }
    #[inline]
    fn div(&self, o: &Self) -> Result<Self, Infallible> {
        Ok(std::array::from_fn(|i| self[i] / o[i]))
    }
    #[inline]
    fn neg(&self) -> Result<Self, Infallible> {
        Ok(self.map(|x| -x))
    }
    #[inline]
    fn add_c(&self, c: f64) -> Result<Self, Infallible> {
        Ok(self.map(|x| x + c))
    }
    #[inline]
    fn mul_c(&self, c: f64) -> Result<Self, Infallible> {
        Ok(self.map(|x| x * c))
    }
    #[inline]
    fn max_c(&self, c: f64) -> Result<Self, Infallible> {
        Ok(self.map(|x| x.max(c)))
    }
    #[inline]
    fn min_c(&self, c: f64) -> Result<Self, Infallible> {
        Ok(self.map(|x| x.min(c)))
    }
    #[inline]
    fn sin(&self) -> Result<Self, Infallible> {
        Ok(self.map(f64::sin))
    }
    #[inline]
    fn cos(&self) -> Result<Self, Infallible> {
        Ok(self.map(f64::cos))
    }
    #[inline]
    fn full_like(&self, c: f64) -> Result<Self, Infallible> {
        Ok([c; K])
    }
    #[inline]
    fn gt(&self, o: &Self) -> Result<[bool; K], Infallible> {
        Ok(std::array::from_fn(|i| self[i] > o[i]))
    }
    #[inline]
    fn gt_c(&self, c: f64) -> Result<[bool; K], Infallible> {
        Ok(self.map(|x| x > c))
    }
    #[inline]
    fn lt_c(&self, c: f64) -> Result<[bool; K], Infallible> {
        Ok(self.map(|x| x < c))
    }
    #[inline]
    fn le_c(&self, c: f64) -> Result<[bool; K], Infallible> {
        Ok(self.map(|x| x <= c))
    }
    #[inline]
    fn ge_c(&self, c: f64) -> Result<[bool; K], Infallible> {
        Ok(self.map(|x| x >= c))
    }
    #[inline]
    fn select(mask: &[bool; K], on_true: &Self, on_false: &Self) -> Result<Self, Infallible> {
        Ok(std::array::from_fn(|i| if mask[i] { on_true[i] } else { on_false[i] }))
    }
}

impl<const K: usize> Lanes<f64> for [f64; K] {
    #[inline]
    fn add_k(&self, k: &[f64]) -> Result<Self, Infallible> {
        Ok(std::array::from_fn(|i| self[i] + k[i]))
    }
    #[inline]
    fn mul_k(&self, k: &[f64]) -> Result<Self, Infallible> {
        Ok(std::array::from_fn(|i| self[i] * k[i]))
    }
    #[inline]
    fn scaled(r: &f64, k: &[f64]) -> Result<Self, Infallible> {
        Ok(std::array::from_fn(|i| r * k[i]))
    }
    #[inline]
    fn mul_r(&self, r: &f64) -> Result<Self, Infallible> {
        Ok(self.map(|x| x * r))
    }
    #[inline]
    fn sum(&self) -> Result<f64, Infallible> {
        Ok(self.iter().fold(0.0, |acc, x| acc + x))
    }
}

/// Unwraps a result whose error cannot happen.
#[inline]
pub fn infallible<T>(r: Result<T, Infallible>) -> T {
    match r {
        Ok(v) => v,
        Err(never) => match never {},
    }
}
