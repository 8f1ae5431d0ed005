//! The one error type of this crate: every variant says where and what.

use thiserror::Error;

/// What went wrong inside an environment, a wrapper or a vector env.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EnvError {
    /// An action component was NaN or infinite. Nothing was stepped.
    #[error("action component {index} is {value}: actions must be finite")]
    NonFiniteAction {
        /// Position of the offending component in the action.
        index: usize,
        /// The value received.
        value: f64,
    },
    /// A discrete action outside `0..n`.
    #[error("action {value} is outside the discrete space 0..{n}")]
    ActionOutOfRange {
        /// The action received.
        value: usize,
        /// Number of actions in the space.
        n: usize,
    },
    /// A discrete action given as a float that is not a non-negative integer.
    #[error("action {value} is not a non-negative integer index")]
    NotAnIndex {
        /// The value received.
        value: f64,
    },
    /// `step` was called before the first `reset`, or after the episode ended.
    #[error("step called on an env that needs a reset ({why})")]
    NeedsReset {
        /// Why a reset is needed.
        why: &'static str,
    },
    /// A vector env in [`AutoresetMode::Disabled`](crate::AutoresetMode) stepped a finished sub-env.
    #[error("sub-env {index} finished its episode; call reset_done before stepping it again")]
    SubEnvNeedsReset {
        /// Index of the sub-env.
        index: usize,
    },
    /// A configuration value is out of its valid range.
    #[error("invalid config `{key}`: {reason}")]
    InvalidConfig {
        /// Dotted name of the configuration key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A caller-owned buffer has the wrong length.
    #[error("buffer `{what}` has length {got}, expected {expected}")]
    BufferSize {
        /// Which buffer.
        what: &'static str,
        /// Length required.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// The physics produced a non-finite state (for example an action far beyond its bounds
    /// through an unclipped path); the episode cannot continue.
    #[error("non-finite state at step {step}: {what}")]
    NonFiniteState {
        /// Step index within the episode.
        step: u32,
        /// Which quantity.
        what: &'static str,
    },
    /// A worker thread of a threaded vector env died.
    #[error("vector env worker {worker} stopped: {reason}")]
    WorkerDied {
        /// Worker index.
        worker: usize,
        /// What is known about it.
        reason: String,
    },
}

impl EnvError {
    /// Shorthand for [`EnvError::InvalidConfig`].
    pub fn config(key: impl Into<String>, reason: impl Into<String>) -> Self {
        EnvError::InvalidConfig {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = EnvError> = std::result::Result<T, E>;
