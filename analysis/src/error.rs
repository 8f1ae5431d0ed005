//! The error type of the analysis crate: every variant names the operation.

use thiserror::Error;

/// What went wrong in an analysis.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnalysisError {
    /// Inputs with incompatible shapes.
    #[error("{op}: expected {expected}, got {got}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// What was expected.
        expected: String,
        /// What was given.
        got: String,
    },
    /// Too few samples (or conditions) for the estimate.
    #[error("{op}: needs at least {need} samples, got {got}")]
    TooFewSamples {
        /// The operation.
        op: &'static str,
        /// Minimum.
        need: usize,
        /// Given.
        got: usize,
    },
    /// NaN or infinity in the input.
    #[error("{op}: input contains NaN or infinite values")]
    NonFinite {
        /// The operation.
        op: &'static str,
    },
    /// A decomposition failed to converge.
    #[error("{op}: {what} did not converge")]
    NoConvergence {
        /// The operation.
        op: &'static str,
        /// The decomposition.
        what: &'static str,
    },
    /// A parameter is out of range.
    #[error("{op}: invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The operation.
        op: &'static str,
        /// Parameter name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = AnalysisError> = std::result::Result<T, E>;
