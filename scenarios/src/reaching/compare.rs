//! Multi-seed and comparison scenarios: the same phases for several seeds, and optionally several arms (how
//! the agent was pretrained), then the findings over seeds ([`crate::reaching::findings`]: mean [95 % CI], per-seed
//! values, tests, verdicts) and a table of the headline measures, each arm tested against the first with
//! a paired t-test (seeds paired). Units (arm × seed) run `jobs` at a time on threads.
//!
//! The 2×2 design of the RL paper's reviewers: prior experience of random curl fields (yes/no) × the
//! field-strength input k during pretraining (yes/no); k is 0 in every test phase.

use std::path::Path;

use reachlab_analysis::stats::{mean_sem, paired_t_test};
use serde::{Deserialize, Serialize};

use crate::collection::Collection;
use crate::commit::write_atomic;
use crate::error::{Result, ScenarioError};
use crate::observer::Observer;
use crate::reaching::config::Scenario;
pub use crate::reaching::config::{Arm, CompareSpec};
use crate::reaching::findings::{Finding, SeedMeasures};
use crate::reaching::run::{run_reaching, Progress, Start};
use crate::units::{run_units, threads_per_unit, RunOptions, Unit, UnitObservers};

/// The units of a comparison in `dir`: every arm × seed, arms first, each in `<dir>/<arm>/seed-<seed>`.
pub fn units(spec: &CompareSpec, dir: &Path) -> Vec<Unit> {
    spec.arm_list()
        .iter()
        .flat_map(|arm| spec.seeds.iter().map(|&seed| Unit::new(dir, &arm.name, seed)))
        .collect()
}

/// One measure across seeds for one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmMeasure {
    pub arm: String,
    pub measure: String,
    pub values: Vec<f64>,
    pub mean: f64,
    pub sem: f64,
    /// Paired t-test against the first arm: mean difference, t, two-sided p (NaN for the first arm or
    /// fewer than 2 seeds).
    pub diff_vs_first: f64,
    pub t: f64,
    pub p: f64,
}

/// The measures compared between arms, in the order the table shows them (declared in
/// [`crate::reaching::findings::REACHING`]).
pub fn compared() -> impl Iterator<Item = &'static crate::measure::Measure<SeedMeasures>> {
    crate::reaching::findings::REACHING.iter().filter(|m| m.compared)
}

/// Runs (or resumes) every arm × seed of `base` under `dir/<arm>/seed-<seed>/`, `jobs` units at a time
/// (each on a thread with its share of the rollout threads; `observer` follows a lone job, `unit_observer`
/// makes one per unit otherwise), skipping finished units; then writes `comparison.{json,csv}`, the
/// findings (`findings.{json,md}`, `seeds.csv`) and returns the comparison table.
pub fn run_compare(
    base: &Scenario,
    dir: &Path,
    how: RunOptions,
    observer: &mut dyn Observer,
    unit_observer: UnitObservers<'_>,
) -> Result<Vec<ArmMeasure>> {
    let spec = base.compare.clone().ok_or_else(|| ScenarioError::Invalid {
        file: dir.join("scenario.toml"),
        key: "compare".into(),
        reason: "this scenario has no [compare] table".into(),
    })?;
    crate::commit::check_folder(dir, how.is_resume())?;
    let path = dir.join("scenario.toml");
    if how.is_resume() {
        let text = std::fs::read_to_string(&path).map_err(|e| ScenarioError::io(&path, e))?;
        let changed = crate::commit::changed_keys(&text, &base.to_toml());
        if !changed.is_empty() {
            return Err(ScenarioError::Resume {
                dir: dir.to_owned(),
                reason: format!(
                    "the folder holds an experiment with other settings ({}); choose another --out",
                    changed.join(", ")
                ),
            });
        }
    } else {
        std::fs::create_dir_all(dir).map_err(|e| ScenarioError::io(dir, e))?;
        write_atomic(&path, base.to_toml().as_bytes())?;
    }
    let jobs = how.jobs;
    let arms = spec.arm_list();
    let units = units(&spec, dir);
    let todo: Vec<Unit> = units
        .iter()
        .filter(|u| !Progress::finished_in(&u.dir))
        .cloned()
        .collect();
    let jobs = jobs.clamp(1, todo.len().max(1));
    let run_unit = |u: &Unit, obs: &mut dyn Observer| -> Result<()> {
        let arm = arms.iter().find(|a| a.name == u.arm).expect("a unit of an arm");
        let mut s = arm
            .scenario(base, u.seed)
            .map_err(|(key, reason)| ScenarioError::Invalid {
                file: u.dir.join("scenario.toml"),
                key: format!("compare.arm `{}`.set: {key}", arm.name),
                reason,
            })?;
        if jobs > 1 {
            s.train.threads = threads_per_unit(jobs);
        }
        let start = if u.dir.join("scenario.toml").exists() {
            Start::Resume { force: how.force() }
        } else {
            Start::Create(Box::new(s))
        };
        run_reaching(start, &u.dir, obs).map(|_| ())
    };
    if jobs > 1 {
        observer.message(&format!("{} units, {jobs} at a time", todo.len()));
    }
    run_units(
        &todo,
        jobs,
        &mut |u| {
            observer.message(&format!("arm `{}`, seed {}: {}", u.arm, u.seed, u.dir.display()));
            run_unit(u, observer)
        },
        &|u| run_unit(u, unit_observer(&u.label()).as_mut()),
    )?;
    // Every unit read once; the table, the findings and the figures read the collection.
    let collection = Collection::gather(&units, |u| SeedMeasures::read(&u.dir, u.seed))?;
    let mut table: Vec<Vec<Vec<f64>>> = Vec::new();
    let mut per_arm = Vec::new();
    let mut figure = Vec::new();
    for arm in collection.arms() {
        table.push(compared().map(|m| collection.values(arm, m)).collect());
        let seeds: Vec<SeedMeasures> = collection.records_of(arm).into_iter().cloned().collect();
        let evals = collection
            .of_arm(arm)
            .map(|u| crate::rows::read_csv(&u.dir.join("evaluations.csv")))
            .collect::<Result<Vec<_>>>()?;
        let rows = crate::reaching::findings::findings(&seeds);
        figure.push(crate::reaching::seed_figures::ArmSeeds {
            name: arm.clone(),
            evals,
            measures: seeds.clone(),
        });
        per_arm.push((arm.clone(), seeds, rows));
    }
    write_findings(dir, base, &per_arm)?;
    let stages: Vec<String> = base.phases.iter().map(|p| p.name.clone()).collect();
    crate::reaching::seed_figures::draw(dir, &figure, &stages)?;
    let mut out = Vec::new();
    for (arm, cols) in collection.arms().iter().zip(&table) {
        let n_compared = compared().count();
        for (m, (measure, values)) in compared().zip(cols).enumerate() {
            let ms = mean_sem(values);
            let finite = values.iter().chain(&table[0][m]).all(|v| v.is_finite());
            let (diff, t, p) = if out.len() >= n_compared && values.len() > 1 && finite {
                paired_t_test(values, &table[0][m]).unwrap_or((f64::NAN, f64::NAN, f64::NAN))
            } else {
                (f64::NAN, f64::NAN, f64::NAN)
            };
            out.push(ArmMeasure {
                arm: arm.clone(),
                measure: measure.name.to_string(),
                values: values.clone(),
                mean: ms.mean,
                sem: ms.sem,
                diff_vs_first: diff,
                t,
                p,
            });
        }
    }
    let json = dir.join("comparison.json");
    std::fs::write(
        &json,
        serde_json::to_string_pretty(&out).expect("comparison serialises"),
    )
    .map_err(|e| ScenarioError::io(&json, e))?;
    let csv_path = dir.join("comparison.csv");
    let mut w = csv::Writer::from_path(&csv_path).map_err(|e| ScenarioError::output(&csv_path, e))?;
    w.write_record(["arm", "measure", "mean", "sem", "diff_vs_first", "t", "p", "values"])
        .map_err(|e| ScenarioError::output(&csv_path, e))?;
    for r in &out {
        let vals: Vec<String> = r.values.iter().map(|v| format!("{v:.6}")).collect();
        w.write_record([
            r.arm.clone(),
            r.measure.clone(),
            r.mean.to_string(),
            r.sem.to_string(),
            r.diff_vs_first.to_string(),
            r.t.to_string(),
            r.p.to_string(),
            vals.join(" "),
        ])
        .map_err(|e| ScenarioError::output(&csv_path, e))?;
    }
    w.flush().map_err(|e| ScenarioError::io(&csv_path, e))?;
    Ok(out)
}

/// Writes `findings.json`, `findings.md` (the table of [`crate::reaching::findings::markdown`], and for several arms
/// the paired comparison of |θ_LW − 90°| with the first arm) and `seeds.csv` (every arm × seed's measures).
fn write_findings(dir: &Path, base: &Scenario, per_arm: &[(String, Vec<SeedMeasures>, Vec<Finding>)]) -> Result<()> {
    let spec = base.compare.as_ref().expect("a comparison");
    let command = if spec.arms.is_empty() {
        format!(
            "cargo run --release --bin train_agent -- --scenario {} --seeds {} --jobs 2",
            base.name,
            spec.seeds.len()
        )
    } else {
        format!(
            "cargo run --release --bin train_agent -- --scenario {} --jobs 2",
            base.name
        )
    };
    let mut md = crate::reaching::findings::markdown(per_arm, &command);
    if per_arm.len() > 1 {
        md += "
θ_LW against the first arm (|θ_LW − 90°|, paired by seed; smaller is more orthogonal):

";
        let off90 =
            |seeds: &[SeedMeasures]| -> Vec<f64> { seeds.iter().map(|s| (s.theta_lw_deg - 90.0).abs()).collect() };
        let first = off90(&per_arm[0].1);
        for (arm, seeds, _) in &per_arm[1..] {
            let this = off90(seeds);
            let ci = reachlab_analysis::stats::mean_ci(&this, 0.95);
            let (d, _, p) = paired_t_test(&this, &first).unwrap_or((f64::NAN, f64::NAN, f64::NAN));
            md += &format!(
                "- `{arm}`: {:.1}° [{:.1}, {:.1}] vs `{}` {:.1}°; difference {d:+.1}°, paired t p = {p:.3}\n",
                ci.mean,
                ci.ci_low,
                ci.ci_high,
                per_arm[0].0,
                reachlab_analysis::stats::mean_ci(&first, 0.95).mean
            );
        }
    }
    write_atomic(&dir.join("findings.md"), md.as_bytes())?;
    let json: Vec<serde_json::Value> = per_arm
        .iter()
        .map(|(arm, seeds, rows)| serde_json::json!({ "arm": arm, "seeds": seeds, "findings": rows }))
        .collect();
    crate::commit::write_json(&dir.join("findings.json"), &json)?;
    let path = dir.join("seeds.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = false;
    for (arm, seeds, _) in per_arm {
        for s in seeds {
            let mut row = serde_json::to_value(s).map_err(|e| ScenarioError::output(&path, e))?;
            let obj = row.as_object_mut().expect("a struct");
            obj.insert("arm".into(), arm.clone().into());
            obj.insert("mean_uniform_shift".into(), s.mean_uniform_shift().into());
            for key in ["uniform_shifts", "distances_deg"] {
                let joined = obj[key]
                    .as_array()
                    .map(|a| a.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" "))
                    .unwrap_or_default();
                obj.insert(key.into(), joined.into());
            }
            if !std::mem::replace(&mut header, true) {
                w.write_record(obj.keys())
                    .map_err(|e| ScenarioError::output(&path, e))?;
            }
            let cells: Vec<String> = obj
                .values()
                .map(|v| match v {
                    serde_json::Value::Null => "NaN".to_string(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            w.write_record(&cells).map_err(|e| ScenarioError::output(&path, e))?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ScenarioError::output(&path, e.to_string()))?;
    write_atomic(&path, &bytes)
}

/// The comparison as a plain-text table.
pub fn table(rows: &[ArmMeasure]) -> String {
    let mut s = format!(
        "{:<22} {:<20} {:>18} {:>10} {:>8}\n",
        "arm", "measure", "mean ± s.e.m.", "Δ vs 1st", "p"
    );
    for r in rows {
        s += &format!(
            "{:<22} {:<20} {:>9.3} ± {:<6.3} {:>10.3} {:>8.3}\n",
            r.arm, r.measure, r.mean, r.sem, r.diff_vs_first, r.p
        );
    }
    s
}
