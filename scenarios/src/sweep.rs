//! Sweeps: a base scenario and axes to vary (any scenario key by its dotted path), combined as a grid or
//! zipped, expanded into units; each unit is one scenario run in its own folder.
//!
//! ```toml
//! name = "architectures"
//! base = "curl_field"            # a built-in scenario or a scenario file
//! combine = "grid"               # or "zip"
//! [[axis]]
//! key = "policy.core.kind"
//! values = ["gru", "lstm", "vanilla"]
//! [[axis]]
//! key = "seed"
//! values = [0, 1, 2]
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::builtin::AnyScenario;
use crate::error::{parse_error, Result, ScenarioError};
pub use crate::manifest::{finished_in, Manifest, ManifestUnit};
use crate::reaching::config::Scenario;
use crate::tasks::TaskScenario;

/// How the axes combine into units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Every combination (the Cartesian product), the last axis varying fastest.
    #[default]
    Grid,
    /// The i-th value of every axis together (all axes the same length).
    Zip,
}

/// One axis: a dotted scenario key and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub key: String,
    pub values: Vec<toml::Value>,
}

/// A sweep file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    pub name: String,
    /// A built-in scenario's name or a scenario file (relative to the sweep file).
    pub base: String,
    #[serde(default)]
    pub combine: Combine,
    #[serde(rename = "axis")]
    pub axes: Vec<Axis>,
    /// Run each unit's `--quick` version (for smoke tests).
    #[serde(default)]
    pub quick: bool,
}

/// One unit of a sweep: its index, the values it sets, and its scenario (reaching or tasks).
#[derive(Debug, Clone)]
pub struct Unit {
    pub index: usize,
    pub settings: Vec<(String, toml::Value)>,
    pub scenario: AnyScenario,
}

impl Unit {
    /// The unit's run folder under the sweep's output folder.
    pub fn dir(&self, out: &Path) -> PathBuf {
        out.join(format!("unit-{:04}", self.index))
    }

    /// Whether the unit's run in `out` has finished.
    pub fn finished(&self, out: &Path) -> bool {
        finished_in(&self.dir(out))
    }
}

impl SweepSpec {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, e))?;
        toml::from_str(&text).map_err(|e| parse_error(&text, path, &e))
    }

    /// Expands the sweep into its units; a bad key or value names the axis.
    pub fn units(&self, file: &Path) -> Result<Vec<Unit>> {
        let bad = |key: String, reason: String| ScenarioError::Invalid {
            file: file.to_owned(),
            key,
            reason,
        };
        let base_path = file.parent().unwrap_or(Path::new(".")).join(&self.base);
        let base = if crate::builtin::text(&self.base).is_some() || !base_path.exists() {
            crate::builtin::resolve_any(&self.base)?
        } else {
            AnyScenario::load(&base_path)?
        };
        if self.axes.is_empty() || self.axes.iter().any(|a| a.values.is_empty()) {
            return Err(bad("axis".into(), "needs at least one axis, each with values".into()));
        }
        let combos: Vec<Vec<usize>> = match self.combine {
            Combine::Grid => self.axes.iter().fold(vec![vec![]], |acc, a| {
                acc.iter()
                    .flat_map(|c| {
                        (0..a.values.len()).map(move |i| {
                            let mut c = c.clone();
                            c.push(i);
                            c
                        })
                    })
                    .collect()
            }),
            Combine::Zip => {
                let n = self.axes[0].values.len();
                if self.axes.iter().any(|a| a.values.len() != n) {
                    return Err(bad("combine".into(), "zip needs axes of equal length".into()));
                }
                (0..n).map(|i| vec![i; self.axes.len()]).collect()
            }
        };
        let base_value = match &base {
            AnyScenario::Reaching(s) => toml::Value::try_from(s.as_ref()),
            AnyScenario::Tasks(s) => toml::Value::try_from(s.as_ref()),
        }
        .map_err(|e| bad("base".into(), e.to_string()))?;
        combos
            .into_iter()
            .enumerate()
            .map(|(index, combo)| {
                let mut v = base_value.clone();
                let mut settings = Vec::new();
                for (a, &i) in self.axes.iter().zip(&combo) {
                    crate::overrides::set_key(&mut v, &a.key, a.values[i].clone())
                        .map_err(|reason| bad(format!("axis `{}`", a.key), reason))?;
                    settings.push((a.key.clone(), a.values[i].clone()));
                }
                let conv = |e: toml::de::Error| bad("axis".into(), format!("unit {index}: {}", e.message()));
                let name = format!("{}-unit{index:04}", self.name);
                let scenario = match &base {
                    AnyScenario::Reaching(_) => {
                        let mut s: Scenario = v.try_into().map_err(conv)?;
                        if s.compare.is_some() {
                            // Its arms were dropped and a later --resume of the unit ran them all.
                            return Err(bad(
                                "base".into(),
                                "a sweep unit is one run: give the base scenario no [compare] table (sweep `seed` and the arms' settings instead)".into(),
                            ));
                        }
                        s.name = name;
                        if self.quick {
                            s = s.quick();
                        }
                        s.validate(file)?;
                        AnyScenario::Reaching(Box::new(s))
                    }
                    AnyScenario::Tasks(_) => {
                        let mut s: TaskScenario = v.try_into().map_err(conv)?;
                        if s.is_comparison() {
                            return Err(bad(
                                "base".into(),
                                "a sweep unit is one network: give the base task scenario no [[arm]] and at most one seed (sweep `policy.core.*` and `seed` instead)".into(),
                            ));
                        }
                        s.name = name;
                        if self.quick {
                            s = s.quick();
                        }
                        s.validate(file)?;
                        AnyScenario::Tasks(Box::new(s))
                    }
                };
                Ok(Unit {
                    index,
                    settings,
                    scenario,
                })
            })
            .collect()
    }
}

/// Writes `manifest.json` for `units` under `out`.
pub fn write_manifest(spec: &SweepSpec, units: &[Unit], out: &Path) -> Result<()> {
    std::fs::create_dir_all(out.join("logs")).map_err(|e| ScenarioError::io(out, e))?;
    let kind = units.first().map_or("reaching", |u| u.scenario.experiment().kind());
    let m = Manifest {
        sweep: spec.name.clone(),
        kind: kind.into(),
        units: units
            .iter()
            .map(|u| ManifestUnit {
                index: u.index,
                dir: u.dir(out),
                settings: u
                    .settings
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), String::from)))
                    .collect(),
            })
            .collect(),
    };
    let p = out.join("manifest.json");
    std::fs::write(&p, serde_json::to_string_pretty(&m).expect("manifest serialises"))
        .map_err(|e| ScenarioError::io(&p, e))
}

/// Runs the unfinished `units` of a sweep on this machine, `jobs` at a time: each as a child process
/// `exe --sweep FILE --out OUT --unit I --quiet --threads T` with T = `cores / jobs` (kernels and rollout
/// workers) and its output in
/// `OUT/logs/unit-I.log`. `done` is called after each unit. Returns the units that failed, with their logs.
pub fn run_local(
    exe: &Path,
    sweep_file: &Path,
    out: &Path,
    units: &[Unit],
    jobs: usize,
    done: impl Fn() + Sync,
) -> Vec<(usize, PathBuf)> {
    let jobs = jobs.max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (cores / jobs).max(1);
    let todo: Vec<usize> = units.iter().filter(|u| !u.finished(out)).map(|u| u.index).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(todo.len()) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(&i) = todo.get(k) else { break };
                let log = out.join("logs").join(format!("unit-{i}.log"));
                let ok = std::fs::File::create(&log)
                    .and_then(|f| {
                        let err = f.try_clone()?;
                        std::process::Command::new(exe)
                            .args(["--sweep"])
                            .arg(sweep_file)
                            .arg("--out")
                            .arg(out)
                            .args(["--unit", &i.to_string(), "--quiet", "--threads", &threads.to_string()])
                            .env("RAYON_NUM_THREADS", threads.to_string())
                            .stdout(f)
                            .stderr(err)
                            .status()
                    })
                    .is_ok_and(|s| s.success());
                if !ok {
                    failed.lock().expect("failed list").push((i, log));
                }
                done();
            });
        }
    });
    let mut failed = failed.into_inner().expect("failed list");
    failed.sort();
    failed
}

/// The `sbatch --array` script: task i runs unit i through the same CLI.
pub fn slurm_script(exe: &Path, sweep_file: &Path, out: &Path, n_units: usize, cpus: usize) -> String {
    format!(
        "#!/bin/bash\n\
         #SBATCH --job-name=reachlab-sweep\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --output={logs}/unit-%a.log\n\
         # One array task = one unit; a finished unit is skipped, an interrupted one resumes.\n\
         export RAYON_NUM_THREADS={cpus}\n\
         exec {exe} --sweep {sweep} --out {out} --unit \"$SLURM_ARRAY_TASK_ID\" --quiet\n",
        last = n_units.saturating_sub(1),
        logs = out.join("logs").display(),
        exe = exe.display(),
        sweep = sweep_file.display(),
        out = out.display(),
    )
}
