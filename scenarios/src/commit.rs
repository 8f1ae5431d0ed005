//! The run folder, for every kind of run: atomic checkpoints (what a resume needs becomes visible at
//! once, whatever moment a kill hits), whether a folder may be started in, and the edits a resume refuses.
//!
//! Everything a resume reads (weights, optimiser state, counters, the CSV row counts in `progress.json`)
//! is written into a fresh folder `checkpoints/commit-<n>/`; then one `rename(2)` of a symbolic link
//! `checkpoints/latest.new → commit-<n>` over `checkpoints/latest` commits it. Before the rename a resume
//! finds the previous commit whole; after it, the new one. Older commit folders are removed afterwards
//! (a kill there leaves garbage that the next commit removes, never a half state). A run's CSV files are
//! flushed before the commit, so they hold at least the committed rows; a resume cuts the rows past them.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Result, ScenarioError};

/// The link (or, in runs written before atomic commits, the folder) of the committed checkpoint.
pub const LATEST: &str = "latest";
const PREFIX: &str = "commit-";

fn commit_number(name: &str) -> Option<u64> {
    name.strip_prefix(PREFIX)?.parse().ok()
}

/// The commit folders in `ck`, by number.
fn commits(ck: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    if !ck.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(ck).map_err(|e| ScenarioError::io(ck, e))? {
        let entry = entry.map_err(|e| ScenarioError::io(ck, e))?;
        if let Some(n) = entry.file_name().to_str().and_then(commit_number) {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Writes a new checkpoint into `ck` with `write` (given the folder to fill), then commits it.
pub fn commit(ck: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    std::fs::create_dir_all(ck).map_err(|e| ScenarioError::io(ck, e))?;
    let existing = commits(ck)?;
    let n = existing.last().map_or(0, |(n, _)| n + 1);
    let name = format!("{PREFIX}{n}");
    let dir = ck.join(&name);
    write(&dir)?;
    let latest = ck.join(LATEST);
    let link = ck.join("latest.new");
    let _ = std::fs::remove_file(&link);
    point(&link, &name)?;
    if latest.is_dir() && !latest.is_symlink() {
        // A run from before atomic commits: its `latest` is a folder, which a link cannot replace.
        std::fs::remove_dir_all(&latest).map_err(|e| ScenarioError::io(&latest, e))?;
    }
    std::fs::rename(&link, &latest).map_err(|e| ScenarioError::io(&latest, e))?;
    for (m, old) in existing {
        if m != n {
            let _ = std::fs::remove_dir_all(old);
        }
    }
    Ok(())
}

#[cfg(unix)]
fn point(link: &Path, target: &str) -> Result<()> {
    std::os::unix::fs::symlink(target, link).map_err(|e| ScenarioError::io(link, e))
}

#[cfg(not(unix))]
fn point(link: &Path, target: &str) -> Result<()> {
    // No atomic link replacement: copy the folder (not atomic; resumes are exact on Unix only).
    let _ = (link, target);
    Err(ScenarioError::output(
        link,
        "atomic checkpoints need a Unix file system",
    ))
}

/// The committed checkpoint folder of `ck` (the `latest` link or folder).
pub fn committed(ck: &Path) -> PathBuf {
    ck.join(LATEST)
}

/// Writes `value` as pretty JSON to `path` through a temporary file and a rename.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| ScenarioError::output(path, e))?;
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` through `<path>.tmp` and a rename: a reader (or a resume after a kill) sees
/// the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    std::fs::write(&tmp, bytes).map_err(|e| ScenarioError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ScenarioError::io(path, e))
}

/// The temporary name [`write_atomic`] writes `path` under before renaming it.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Reads a JSON file written by [`write_json`] (a NaN, written as `null`, reads back as NaN).
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, e))?;
    crate::json::from_str(&text).map_err(|e| ScenarioError::output(path, e))
}

/// Whether `dir` exists and holds anything but what a start killed before `settings` (its scenario.toml)
/// existed leaves behind: such a folder may be started in again.
pub(crate) fn holds_files(dir: &Path, settings: &Path) -> Result<bool> {
    if !dir.exists() {
        return Ok(false);
    }
    let leftover = tmp_path(settings);
    for e in std::fs::read_dir(dir).map_err(|e| ScenarioError::io(dir, e))? {
        let e = e.map_err(|e| ScenarioError::io(dir, e))?;
        if e.path() != leftover {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The one folder rule of every run (reaching, comparison, task run; [`crate::launch::run`] and the
/// functions it calls alike): a new run (`resume` false) only in a folder that does not exist or is
/// empty; a run continued only where one is (`scenario.toml`); anything else refused, saying why.
pub(crate) fn check_folder(dir: &Path, resume: bool) -> Result<()> {
    let settings = dir.join("scenario.toml");
    let refuse = |reason: &str| Err(ScenarioError::output(dir, reason));
    if resume {
        return match settings.exists() {
            true => Ok(()),
            false => refuse("the folder holds no run to resume (no scenario.toml)"),
        };
    }
    if settings.exists() {
        return refuse("the folder holds a run already: `--resume` continues it (or choose another --out)");
    }
    if holds_files(dir, &settings)? {
        return refuse("the output folder is not empty and holds no run (choose another --out)");
    }
    Ok(())
}

/// Refuses to continue the run in `dir` when its settings (`current`, as TOML) differ from those its
/// committed checkpoint `latest` was reached with, naming the changed keys.
///
/// `resolve` reads the saved file as the current code resolves it (every default written out, as
/// `current` is), so that a key added to the scenario since the checkpoint, at its default, is no edit.
pub(crate) fn refuse_edits(
    dir: &Path,
    latest: &Path,
    current: &str,
    resolve: fn(&str) -> Option<String>,
) -> Result<()> {
    let Ok(saved) = std::fs::read_to_string(latest.join("scenario.toml")) else {
        return Ok(());
    };
    let saved = resolve(&saved).unwrap_or(saved);
    let changed = changed_keys(&saved, current);
    if changed.is_empty() {
        return Ok(());
    }
    Err(ScenarioError::Resume {
        dir: dir.to_owned(),
        reason: format!(
            "scenario.toml changed since the last checkpoint ({}); the results would mix settings \
             (--force continues with the new ones)",
            changed.join(", ")
        ),
    })
}

/// The dotted keys whose values differ between two TOML documents (both resolved scenarios).
pub(crate) fn changed_keys(a: &str, b: &str) -> Vec<String> {
    fn walk(prefix: &str, a: Option<&toml::Value>, b: Option<&toml::Value>, out: &mut Vec<String>) {
        match (a, b) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&p, x.get(k), y.get(k), out);
                }
            }
            (x, y) if x != y => out.push(prefix.to_string()),
            _ => {}
        }
    }
    let parse = |t: &str| t.parse::<toml::Table>().ok().map(toml::Value::Table);
    let mut out = Vec::new();
    walk("", parse(a).as_ref(), parse(b).as_ref(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("reachlab-commit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn write_pair(a: u64) -> impl FnOnce(&Path) -> Result<()> {
        move |dir: &Path| {
            std::fs::create_dir_all(dir).unwrap();
            write_json(&dir.join("a.json"), &a)?;
            write_json(&dir.join("b.json"), &(a * 10))
        }
    }

    fn read_pair(ck: &Path) -> (u64, u64) {
        let c = committed(ck);
        (
            read_json(&c.join("a.json")).unwrap(),
            read_json(&c.join("b.json")).unwrap(),
        )
    }

    #[test]
    fn a_commit_interrupted_at_any_point_leaves_the_previous_one_whole() {
        let ck = tmp("interrupted");
        commit(&ck, write_pair(1)).unwrap();
        assert_eq!(read_pair(&ck), (1, 10));
        // Killed after writing half of the next checkpoint: nothing committed changes.
        let err = commit(&ck, |dir: &Path| {
            std::fs::create_dir_all(dir).unwrap();
            write_json(&dir.join("a.json"), &2u64)?;
            Err(ScenarioError::output(dir, "killed"))
        });
        assert!(err.is_err());
        assert_eq!(read_pair(&ck), (1, 10));
        // The next commit goes through and cleans up the half-written folder.
        commit(&ck, write_pair(3)).unwrap();
        assert_eq!(read_pair(&ck), (3, 30));
        let left: Vec<_> = std::fs::read_dir(&ck)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "only the link and its commit stay: {left:?}");
        let _ = std::fs::remove_dir_all(&ck);
    }

    #[test]
    fn saved_floats_read_back_bit_exactly() {
        // Without serde_json's float_roundtrip, about one f64 in ten came back one ulp off.
        let dir = tmp("floats");
        std::fs::create_dir_all(&dir).unwrap();
        let mut x = 0.1f64;
        let values: Vec<f64> = (0..2000)
            .map(|_| {
                x = (x * 3.987_654_321 + 0.123_456_789).fract() * 1e3 - 500.0;
                x
            })
            .collect();
        write_json(&dir.join("v.json"), &values).unwrap();
        let back: Vec<f64> = read_json(&dir.join("v.json")).unwrap();
        assert!(values.iter().zip(&back).all(|(a, b)| a.to_bits() == b.to_bits()));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_old_latest_folder_is_replaced_by_the_link() {
        let ck = tmp("old");
        std::fs::create_dir_all(ck.join(LATEST)).unwrap();
        write_json(&ck.join(LATEST).join("a.json"), &7u64).unwrap();
        commit(&ck, write_pair(8)).unwrap();
        assert!(committed(&ck).is_symlink());
        assert_eq!(read_pair(&ck), (8, 80));
        let _ = std::fs::remove_dir_all(&ck);
    }
}
