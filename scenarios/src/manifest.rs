//! A sweep's `manifest.json` (what each unit sets and where it runs) and whether a unit has finished: what
//! the sweep runner and the collection steps of both kinds of run share.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::reaching::run::Progress;

/// The manifest written next to the units: what each unit sets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub sweep: String,
    /// `reaching` or `tasks`, for the reader (the collection asks each unit's own scenario for its
    /// measures).
    #[serde(default = "reaching")]
    pub kind: String,
    pub units: Vec<ManifestUnit>,
}

fn reaching() -> String {
    "reaching".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestUnit {
    pub index: usize,
    pub dir: PathBuf,
    pub settings: Vec<(String, String)>,
}

/// Whether the run in `dir` (of either kind) has finished: a reaching run's progress says so, a task run
/// has written its `results.csv`.
pub fn finished_in(dir: &Path) -> bool {
    Progress::finished_in(dir) || dir.join("results.csv").is_file()
}
