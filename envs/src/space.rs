//! Typed observation and action spaces (Gymnasium's `Box`, `Discrete`, `MultiDiscrete`).

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{EnvError, Result};

/// A space: the set of valid observations or actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Space {
    /// A box in ℝⁿ with per-component closed bounds (`low[i] ≤ x[i] ≤ high[i]`; infinite bounds allowed).
    Box(BoxSpace),
    /// `{0, 1, …, n − 1}`.
    Discrete {
        /// Number of elements.
        n: usize,
    },
    /// A vector of independent discrete choices, component `i` in `0..nvec[i]`.
    MultiDiscrete {
        /// Number of choices per component.
        nvec: Vec<usize>,
    },
}

/// Bounds of a [`Space::Box`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxSpace {
    /// Lower bounds, one per component.
    pub low: Vec<f32>,
    /// Upper bounds, one per component.
    pub high: Vec<f32>,
}

impl BoxSpace {
    /// A box with the same bounds on every one of `dim` components.
    pub fn uniform(dim: usize, low: f32, high: f32) -> Self {
        BoxSpace {
            low: vec![low; dim],
            high: vec![high; dim],
        }
    }

    /// Number of components.
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// True when `x` has the right length and every component lies within its bounds.
    pub fn contains(&self, x: &[f32]) -> bool {
        x.len() == self.dim()
            && x.iter()
                .zip(self.low.iter().zip(&self.high))
                .all(|(v, (lo, hi))| *v >= *lo && *v <= *hi)
    }

    /// A uniform sample; unbounded components are drawn from a standard normal-like range (−1, 1).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f32> {
        self.low
            .iter()
            .zip(&self.high)
            .map(|(&lo, &hi)| {
                if lo.is_finite() && hi.is_finite() {
                    rng.random_range(lo..=hi)
                } else {
                    rng.random_range(-1.0f32..1.0)
                }
            })
            .collect()
    }
}

impl Space {
    /// Number of scalars in a flat element of this space (1 for `Discrete`).
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Box(b) => b.dim(),
            Space::Discrete { .. } => 1,
            Space::MultiDiscrete { nvec } => nvec.len(),
        }
    }

    /// The box bounds, if this is a box.
    pub fn as_box(&self) -> Option<&BoxSpace> {
        match self {
            Space::Box(b) => Some(b),
            _ => None,
        }
    }
}

/// A value that can be an element of a [`Space`]: implemented for the action types of reachlab's envs
/// so generic code (the env checker, random agents, adapters) can sample and validate actions.
pub trait SpaceValue: Sized {
    /// Draws an element of `space` uniformly (for boxes with infinite bounds, from (−1, 1)).
    fn sample_from<R: Rng + ?Sized>(space: &Space, rng: &mut R) -> Self;
    /// True when `self` is an element of `space`.
    fn is_in(&self, space: &Space) -> bool;
    /// The value as flat `f32`s (discrete values as their index).
    fn to_flat(&self) -> Vec<f32>;
    /// The value from flat `f32`s, or an error naming what is wrong.
    fn from_flat(flat: &[f32]) -> Result<Self>;
    /// The value from a policy's sample (at least as many `f32`s as [`Self::to_flat`] gives), unchecked:
    /// the env's step refuses a value outside its space or not finite, with an error that says which.
    fn from_sample(sample: &[f32]) -> Self;
}

impl<const N: usize> SpaceValue for [f32; N] {
    fn sample_from<R: Rng + ?Sized>(space: &Space, rng: &mut R) -> Self {
        let mut out = [0.0; N];
        if let Space::Box(b) = space {
            out.copy_from_slice(&b.sample(rng)[..N]);
        }
        out
    }
    fn is_in(&self, space: &Space) -> bool {
        matches!(space, Space::Box(b) if b.contains(self))
    }
    fn to_flat(&self) -> Vec<f32> {
        self.to_vec()
    }
    fn from_flat(flat: &[f32]) -> Result<Self> {
        <[f32; N]>::try_from(flat).map_err(|_| EnvError::BufferSize {
            what: "action",
            expected: N,
            got: flat.len(),
        })
    }
    fn from_sample(sample: &[f32]) -> Self {
        std::array::from_fn(|i| sample[i])
    }
}

impl SpaceValue for usize {
    fn sample_from<R: Rng + ?Sized>(space: &Space, rng: &mut R) -> Self {
        match space {
            Space::Discrete { n } => rng.random_range(0..*n),
            _ => 0,
        }
    }
    fn is_in(&self, space: &Space) -> bool {
        matches!(space, Space::Discrete { n } if self < n)
    }
    fn to_flat(&self) -> Vec<f32> {
        vec![*self as f32]
    }
    fn from_flat(flat: &[f32]) -> Result<Self> {
        match flat {
            [v] if v.is_finite() && *v >= 0.0 && v.fract() == 0.0 => Ok(*v as usize),
            [v] if v.is_finite() => Err(EnvError::NotAnIndex { value: f64::from(*v) }),
            [v] => Err(EnvError::NonFiniteAction {
                index: 0,
                value: f64::from(*v),
            }),
            _ => Err(EnvError::BufferSize {
                what: "action",
                expected: 1,
                got: flat.len(),
            }),
        }
    }
    fn from_sample(sample: &[f32]) -> Self {
        sample[0] as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn box_samples_lie_inside() {
        let space = Space::Box(BoxSpace {
            low: vec![-1.0, 0.0],
            high: vec![1.0, 5.0],
        });
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..1000 {
            let a = <[f32; 2]>::sample_from(&space, &mut rng);
            assert!(a.is_in(&space), "{a:?}");
        }
        assert!(![2.0f32, 1.0].is_in(&space));
        assert!(![0.0f32, f32::NAN].is_in(&space));
    }

    #[test]
    fn discrete_round_trips_and_rejects_fractions() {
        let space = Space::Discrete { n: 3 };
        assert!(2usize.is_in(&space));
        assert!(!3usize.is_in(&space));
        assert_eq!(usize::from_flat(&[2.0]).unwrap(), 2);
        assert!(matches!(usize::from_flat(&[1.5]), Err(EnvError::NotAnIndex { .. })));
        assert!(matches!(usize::from_flat(&[-1.0]), Err(EnvError::NotAnIndex { .. })));
        assert!(usize::from_flat(&[f32::NAN]).is_err());
    }
}
