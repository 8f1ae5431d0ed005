//! Comparison scenarios: the same phases for several arms (how the agent was pretrained) and seeds, then a
//! table of the headline measures, mean ± s.e.m. over seeds, each arm tested against the first with a
//! paired t-test (seeds paired).
//!
//! The 2×2 design of the RL paper's reviewers: prior experience of random curl fields (yes/no) × the
//! field-strength input k during pretraining (yes/no); k is 0 in every test phase.

use std::path::Path;

use reachlab_analysis::stats::{mean_sem, paired_t_test};
use reachlab_envs::reach::FieldSpec;
use serde::{Deserialize, Serialize};

use crate::config::Scenario;
use crate::error::{Result, ScenarioError};
use crate::run::{Observer, Progress, Run};

/// The `[compare]` table of a scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// Seeds; every arm runs every seed (paired by seed in the tests).
    pub seeds: Vec<u64>,
    /// The arms (`[[compare.arm]]`); the first is the reference of the paired tests.
    #[serde(rename = "arm")]
    pub arms: Vec<Arm>,
}

/// One arm: how pretraining differs from the scenario's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub name: String,
    /// The field during pretraining (`{ kind = "null" }` for a naive agent, `{ kind = "random_curl",
    /// b_max = 15.0 }` for prior experience).
    pub pretraining_field: FieldSpec,
    /// Give the network the k input (and show k during pretraining); k = 0 in the test phases.
    pub field_input: bool,
}

impl Arm {
    /// The scenario this arm runs for one seed.
    pub fn scenario(&self, base: &Scenario, seed: u64) -> Scenario {
        let mut s = base.clone();
        s.compare = None;
        s.name = format!("{}-{}-seed{seed}", base.name, self.name);
        s.seed = seed;
        s.pretraining.field = self.pretraining_field.clone();
        s.env.observation.field_input = self.field_input;
        s.pretraining.show_field_input = self.field_input;
        for p in &mut s.phases {
            p.show_field_input = false;
        }
        s
    }
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

/// The measures compared, in the order [`measures`] returns them.
pub const MEASURES: [&str; 5] = [
    "savings",
    "after_effect_cm",
    "onset_jump_cm",
    "theta_lw_deg",
    "uniform_shift_slope",
];

/// The compared measures of one finished run (from its `summary.json` and `analysis.json`).
pub fn measures(dir: &Path) -> Result<[f64; 5]> {
    let read = |name: &str| -> Result<serde_json::Value> {
        let p = dir.join(name);
        let t = std::fs::read_to_string(&p).map_err(|e| ScenarioError::io(&p, e))?;
        serde_json::from_str(&t).map_err(|e| ScenarioError::output(&p, e))
    };
    let s = read("summary.json")?;
    let a = read("analysis.json")?;
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    Ok([
        f(&s["savings"]),
        f(&s["after_effect_cm"]),
        f(&s["onset_jump_cm"]),
        f(&s["theta_lw_deg"]),
        f(&a["uniform_shift"]["fit"]["slope"]),
    ])
}

/// Runs (or resumes) every arm × seed of `base` under `dir/<arm>/seed-<seed>/`, then writes
/// `comparison.json` and `comparison.csv` and returns the table.
pub fn run_compare(base: &Scenario, dir: &Path, observer: &mut dyn Observer) -> Result<Vec<ArmMeasure>> {
    let spec = base.compare.clone().ok_or_else(|| ScenarioError::Invalid {
        file: dir.join("scenario.toml"),
        key: "compare".into(),
        reason: "this scenario has no [compare] table".into(),
    })?;
    std::fs::create_dir_all(dir).map_err(|e| ScenarioError::io(dir, e))?;
    let path = dir.join("scenario.toml");
    if !path.exists() {
        std::fs::write(&path, base.to_toml()).map_err(|e| ScenarioError::io(&path, e))?;
    }
    let mut table: Vec<[Vec<f64>; 5]> = Vec::new();
    for arm in &spec.arms {
        let mut cols: [Vec<f64>; 5] = Default::default();
        for &seed in &spec.seeds {
            let sub = dir.join(&arm.name).join(format!("seed-{seed}"));
            observer.message(&format!("arm `{}`, seed {seed}: {}", arm.name, sub.display()));
            if !Progress::finished_in(&sub) {
                let run = if sub.join("scenario.toml").exists() {
                    Run::resume(&sub, observer)?
                } else {
                    Run::create(arm.scenario(base, seed), &sub, observer)?
                };
                run.run()?;
            }
            for (c, v) in cols.iter_mut().zip(measures(&sub)?) {
                c.push(v);
            }
        }
        table.push(cols);
    }
    let mut out = Vec::new();
    for (arm, cols) in spec.arms.iter().zip(&table) {
        for (m, (name, values)) in MEASURES.iter().zip(cols).enumerate() {
            let ms = mean_sem(values);
            let finite = values.iter().chain(&table[0][m]).all(|v| v.is_finite());
            let (diff, t, p) = if out.len() >= MEASURES.len() && values.len() > 1 && finite {
                paired_t_test(values, &table[0][m]).unwrap_or((f64::NAN, f64::NAN, f64::NAN))
            } else {
                (f64::NAN, f64::NAN, f64::NAN)
            };
            out.push(ArmMeasure {
                arm: arm.name.clone(),
                measure: name.to_string(),
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
