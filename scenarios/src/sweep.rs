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
use crate::config::Scenario;
use crate::error::{parse_error, Result, ScenarioError};
pub use crate::manifest::{finished_in, Manifest, ManifestUnit};
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
    let kind = match units.first().map(|u| &u.scenario) {
        Some(AnyScenario::Tasks(_)) => "tasks",
        _ => "reaching",
    };
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

/// Gathers every unit's measures (listed in `out/manifest.json`) into `out/collected.csv` and the SVCCA
/// distances between the units' networks into `out/svcca_distance.csv`; returns the units that have not
/// finished, with their log files.
pub fn collect(out: &Path) -> Result<Vec<(usize, PathBuf)>> {
    let mpath = out.join("manifest.json");
    let text = std::fs::read_to_string(&mpath).map_err(|e| ScenarioError::io(&mpath, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| ScenarioError::output(&mpath, e))?;
    if manifest.kind == "tasks" {
        return crate::tasks::population::collect_tasks(out, &manifest);
    }
    let path = out.join("collected.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| ScenarioError::output(&path, e))?;
    let mut header = vec!["unit".to_string()];
    if let Some(u) = manifest.units.first() {
        header.extend(u.settings.iter().map(|(k, _)| k.clone()));
    }
    header.extend(crate::compare::MEASURES.iter().map(|m| m.to_string()));
    header.push("stable_prep_fixed_points".into());
    w.write_record(&header).map_err(|e| ScenarioError::output(&path, e))?;
    let mut missing = Vec::new();
    for u in &manifest.units {
        if !crate::run::Progress::finished_in(&u.dir) {
            missing.push((u.index, out.join("logs").join(format!("unit-{}.log", u.index))));
            continue;
        }
        let m = crate::compare::measures(&u.dir)?;
        let mut rec = vec![u.index.to_string()];
        rec.extend(u.settings.iter().map(|(_, v)| v.clone()));
        rec.extend(m.iter().map(|x| x.to_string()));
        // Stable fixed points under the delay inputs, summed over targets and recorded stages.
        let stable: usize = crate::analysis::Analysis::read(&u.dir)
            .map(|a| a.preparatory_fixed_points.iter().map(|p| p.n_stable).sum())
            .unwrap_or(0);
        rec.push(stable.to_string());
        w.write_record(&rec).map_err(|e| ScenarioError::output(&path, e))?;
    }
    w.flush().map_err(|e| ScenarioError::io(&path, e))?;
    let done: Vec<&ManifestUnit> = manifest
        .units
        .iter()
        .filter(|u| !missing.iter().any(|(i, _)| *i == u.index))
        .collect();
    svcca_matrix(&done, out)?;
    Ok(missing)
}

/// Condition-averaged hidden trajectories of a unit's last recorded stage (targets × steps rows, H
/// columns): the same conditions in every unit, whatever its seed or size.
fn trajectories(dir: &Path) -> Result<Option<reachlab_analysis::faer::Mat<f64>>> {
    let Ok(text) = std::fs::read_to_string(dir.join("scenario.toml")) else {
        return Ok(None);
    };
    let s = Scenario::from_toml(&text, &dir.join("scenario.toml"))?;
    let Some(stage) = s.phases.iter().rev().find(|p| p.record) else {
        return Ok(None);
    };
    let path = dir.join("recordings").join(format!("{}_late.safetensors", stage.name));
    if !path.exists() {
        return Ok(None);
    }
    let rec = crate::output::LoadedRecording::load(&path)?;
    let k = s.env.n_targets;
    let (t, h) = (rec.t, rec.h);
    let mut m = reachlab_analysis::faer::Mat::<f64>::zeros(k * t, h);
    for target in 0..k {
        let trials: Vec<usize> = (0..rec.n)
            .filter(|&i| rec.trial_type[i] == 0 && rec.target[i] as usize == target)
            .collect();
        for &i in &trials {
            for step in 0..t {
                for j in 0..h {
                    m[(target * t + step, j)] += f64::from(rec.hidden[(i * t + step) * h + j]) / trials.len() as f64;
                }
            }
        }
    }
    Ok(Some(m))
}

/// `svcca_distance.csv`: SVCCA distance (1 − mean canonical correlation of the top 10 SVD directions)
/// between the condition-averaged trajectories of every pair of finished units; `dsa_angular.csv` and
/// `dsa_distance.csv`: DSA between their dynamics (whitened Hankel DMD of the per-target trajectories, 10
/// delays, rank 10), as task populations write them ([`crate::pairwise`]).
fn svcca_matrix(units: &[&ManifestUnit], out: &Path) -> Result<()> {
    let mut mats = Vec::new();
    for u in units {
        if let Some(m) = trajectories(&u.dir)? {
            mats.push((u.index, m));
        }
    }
    let targets = |m: &reachlab_analysis::faer::Mat<f64>, dir: &Path| -> Option<usize> {
        let text = std::fs::read_to_string(dir.join("scenario.toml")).ok()?;
        let s = Scenario::from_toml(&text, &dir.join("scenario.toml")).ok()?;
        (s.env.n_targets > 0 && m.nrows().is_multiple_of(s.env.n_targets)).then_some(s.env.n_targets)
    };
    let cfg = reachlab_analysis::DsaConfig::default();
    let operators: Vec<Option<reachlab_analysis::faer::Mat<f64>>> = mats
        .iter()
        .map(|(i, m)| {
            let dir = units.iter().find(|u| u.index == *i)?.dir.clone();
            let k = targets(m, &dir)?;
            let t = m.nrows() / k;
            let per: Vec<_> = (0..k).map(|c| m.subrows(c * t, t)).collect();
            reachlab_analysis::dmd_operator(&per, cfg.n_delays, cfg.rank, 1e-6).ok()
        })
        .collect();
    let states: Vec<&reachlab_analysis::faer::Mat<f64>> = mats.iter().map(|(_, m)| m).collect();
    let labels: Vec<usize> = mats.iter().map(|(i, _)| *i).collect();
    crate::pairwise::pairwise(&states, &operators).write(out, &labels)
}
