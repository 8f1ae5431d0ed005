//! # reachlab-analysis
//!
//! Take trained recurrent networks apart: population geometry and dynamical systems, on faer, with no
//! knowledge of training or tensors (callers pass states as `faer::Mat<f64>` and weights as `f64`
//! arrays).
//!
//! - Geometry: [`Pca`], [`principal_angles`], the force-predictive [`Tdr`] subspace and a
//!   [`LinearDecoder`] of force, the learning/washout [`shift_angles`], the [`uniform_shift_axis`] and
//!   [`uniform_shift_vs_distance`].
//! - Dynamics: the [`Dynamics`] trait ([`LinearMap`], [`LeakyRnn`], [`Gru`], [`Lstm`]), [`find_fixed_points`],
//!   [`lyapunov_spectrum`].
//! - Comparing networks: [`cca`], [`svcca`], dynamical similarity [`dsa`] (Hankel DMD + orthogonal
//!   Procrustes over the operators), and [`classical_mds`] to embed a distance matrix.
//! - Statistics: [`stats`] (mean ± s.e.m., line fits, paired t, rank-sum, permutation tests).
//!
//! ```
//! use reachlab_analysis::{find_fixed_points, FixedPointConfig, LinearMap, Stability};
//! // h' = 0.5·h + 1 has one stable fixed point at h = 2.
//! let map = LinearMap::new(1, 0, vec![0.5], vec![], vec![1.0]).unwrap();
//! let found = find_fixed_points(&map, &[], &[vec![0.0], vec![5.0]], &FixedPointConfig::default()).unwrap();
//! assert_eq!(found.points.len(), 1);
//! assert!((found.points[0].x[0] - 2.0).abs() < 1e-9);
//! assert_eq!(found.points[0].stability, Stability::Stable);
//! ```

mod cca;
mod dsa;
mod dynamics;
mod error;
mod fixed_points;
mod la;
mod lyapunov;
mod mds;
mod pca;
mod shifts;
mod simd;
pub mod stats;
mod subspace;
mod tdr;

pub use cca::{cca, svcca, CcaResult};
pub use dsa::{dmd_operator, dsa, dsa_operators, procrustes_dynamics, DsaConfig, DsaResult};
pub use dynamics::{Activation, Dynamics, Gru, LeakyRnn, LinearMap, Lstm};
pub use error::{AnalysisError, Result};
pub use fixed_points::{find_fixed_points, FixedPoint, FixedPointConfig, FixedPointResult, Stability};
pub use la::{centred, column_means, mat_from_rows, orthonormal_basis};
pub use lyapunov::lyapunov_spectrum;
pub use mds::classical_mds;
pub use pca::{Pca, PcaSummary};
pub use shifts::{
    centroid, shift_angles, shift_distance_test, split_half_uniform_shifts, uniform_shift_axis,
    uniform_shift_vs_distance, ShiftAngles, UniformShiftTest,
};
pub use subspace::principal_angles;
pub use tdr::{gram_schmidt, DecoderScore, LinearDecoder, Tdr};

/// Re-export of the linear-algebra crate whose matrices this API takes.
pub use faer;
