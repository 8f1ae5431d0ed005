//! Errors of the scenarios crate: a bad scenario file names the file, the key, the line, and the nearest
//! valid key or value.

use std::path::{Path, PathBuf};

use reachlab_agents::AgentError;
use reachlab_envs::EnvError;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file is not valid TOML, or a key or value is not one the scenario accepts.
    #[error("{}:{line}: {message}{}", file.display(), suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Parse {
        file: PathBuf,
        line: usize,
        message: String,
        suggestion: Option<String>,
    },
    /// A value is out of its domain.
    #[error("{}: `{key}`: {reason}", file.display())]
    Invalid { file: PathBuf, key: String, reason: String },
    /// No built-in scenario has this name and no such file exists.
    #[error("no scenario `{name}`: not a built-in ({known}) and not a file{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownScenario {
        name: String,
        known: String,
        suggestion: Option<String>,
    },
    /// A file could not be read or written (the OS error is part of the message, not a separate source,
    /// so `{:#}` prints it once).
    #[error("{}: {err}", path.display())]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{}: {reason}", path.display())]
    Output { path: PathBuf, reason: String },
    /// A run cannot be resumed from this folder.
    #[error("cannot resume from {}: {reason}", dir.display())]
    Resume { dir: PathBuf, reason: String },
    /// The observer asked to stop; the run can be resumed.
    #[error("interrupted; `train_agent --resume {}` continues the run", dir.display())]
    Interrupted { dir: PathBuf },
    /// An update made the weights non-finite; the last checkpoint before it is kept.
    #[error(
        "training diverged in {}: `{param}` holds NaN or infinity after update {update}; the settings \
         (learning rate, noise, gains, initial scales) are too large for this network; the last \
         checkpoint before it is kept",
        dir.display()
    )]
    Diverged { dir: PathBuf, update: usize, param: String },
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Env(#[from] EnvError),
    /// An analysis of a network or its recordings failed (shapes, too few samples, no convergence).
    #[error(transparent)]
    Analysis(#[from] reachlab_analysis::AnalysisError),
    /// A policy lacks a parameter an analysis reads (a core of another kind than the analysis expects).
    #[error("the policy has no parameter `{name}`")]
    MissingParameter { name: String },
    #[error("tensor: {0}")]
    Tensor(#[from] candle_core::Error),
}

pub type Result<T, E = ScenarioError> = std::result::Result<T, E>;

impl ScenarioError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ScenarioError::Io {
            path: path.to_owned(),
            err: source,
        }
    }

    pub(crate) fn output(path: &Path, reason: impl ToString) -> Self {
        ScenarioError::Output {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Turns a TOML/serde error into one that names the line and suggests the nearest accepted key or value.
pub(crate) fn parse_error(text: &str, file: &Path, e: &toml::de::Error) -> ScenarioError {
    let line = e
        .span()
        .map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let message = e.message().trim().to_string();
    let suggestion = suggest(&message);
    ScenarioError::Parse {
        file: file.to_owned(),
        line,
        message,
        suggestion,
    }
}

/// From serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant …"), the accepted
/// name closest to x by edit distance, if it is close enough to be a typo.
fn suggest(message: &str) -> Option<String> {
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.split(p).nth(1))?
        .split('`')
        .next()?
        .to_string();
    let expected: Vec<&str> = message
        .split("expected")
        .nth(1)?
        .split('`')
        .skip(1)
        .step_by(2)
        .collect();
    nearest(&unknown, &expected)
}

/// The candidate nearest to `word` (edit distance at most a third of its length, at least 2).
pub fn nearest(word: &str, candidates: &[&str]) -> Option<String> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_come_from_serde_messages() {
        let m = "unknown field `pretrainin`, expected one of `name`, `description`, `pretraining`, `phase`";
        assert_eq!(suggest(m).as_deref(), Some("pretraining"));
        assert_eq!(
            suggest("unknown variant `crul`, expected one of `null`, `curl`").as_deref(),
            Some("curl")
        );
        assert_eq!(suggest("unknown field `zzzzzz`, expected `name`"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
