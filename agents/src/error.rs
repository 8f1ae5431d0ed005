//! Errors of the agents crate.

use std::path::PathBuf;

use reachlab_envs::EnvError;

/// Everything that can go wrong while building, running, training or saving an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A tensor operation failed (shapes, dtypes, or an I/O error inside candle).
    #[error("tensor operation: {0}")]
    Tensor(#[from] candle_core::Error),
    /// The environment refused a call.
    #[error("environment: {0}")]
    Env(#[from] EnvError),
    /// A configuration value is out of its domain.
    #[error("invalid configuration `{key}`: {reason}")]
    InvalidConfig { key: String, reason: String },
    /// The policy and the environment disagree (spaces, dimensions).
    #[error("policy and environment do not fit: {0}")]
    Mismatch(String),
    /// Training produced a non-finite number.
    #[error("non-finite {what} at update {update}")]
    NonFinite { what: &'static str, update: usize },
    /// A checkpoint could not be written or read.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint { path: PathBuf, reason: String },
    /// A rollout worker thread panicked.
    #[error("rollout worker {0} panicked")]
    WorkerPanicked(usize),
}

impl AgentError {
    pub(crate) fn config(key: impl Into<String>, reason: impl Into<String>) -> Self {
        AgentError::InvalidConfig {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// Result alias of the agents crate.
pub type Result<T, E = AgentError> = std::result::Result<T, E>;
