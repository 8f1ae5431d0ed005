//! The end of a task run: `results.csv` (one row per arm × seed), `results.md` (the tables for a paper's
//! supplement) and `figures/task_curves.{png,svg}`.

use crate::rows::median;
use std::fmt::Write as _;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plots::PALETTE;
use serde::Serialize;

use super::config::TaskScenario;
use super::results::{TaskCurveRow, UnitResult};
use crate::collection::Collection;
use crate::error::{Result, ScenarioError};

#[derive(Serialize)]
struct ResultRow<'a> {
    arm: &'a str,
    seed: u64,
    updates: usize,
    steps_to_criterion: Option<usize>,
    trials_to_criterion: Option<u64>,
    mean_perf: f64,
    min_perf: f64,
    wall_seconds: f64,
    stable_fixed_points: Option<usize>,
    saddles: Option<usize>,
}

/// The first evaluated step of a unit's learning curve at which the mean over tasks reached `level`.
fn steps_to_mean(unit: &Path, level: f64) -> Option<usize> {
    let p = unit.join("learning_curve.csv");
    let mut rd = csv::Reader::from_path(p).ok()?;
    rd.deserialize::<TaskCurveRow>()
        .filter_map(|row| row.ok())
        .find(|row| row.task == "mean" && row.perf >= level)
        .map(|row| row.update)
}

/// `mean ± s.e.m.` of `v` over seeds with `digits` decimals; the mean alone for a single seed.
fn pm(v: &[f64], digits: usize) -> String {
    let m = reachlab_analysis::stats::mean_sem(v);
    if m.n > 1 {
        format!("{:.digits$} ± {:.digits$}", m.mean, m.sem)
    } else {
        format!("{:.digits$}", m.mean)
    }
}

/// One sentence of `s`'s training settings: the method, batch, rate, budget, evaluation and criteria.
fn training_line(s: &TaskScenario) -> String {
    let t = &s.training;
    let method = match t.method.algorithm() {
        None => "Supervised BPTT, batch".to_string(),
        Some(a) => {
            let name = match a {
                reachlab_agents::Algorithm::Ppo => "PPO",
                reachlab_agents::Algorithm::A2c => "A2C",
                reachlab_agents::Algorithm::Reinforce => "REINFORCE",
            };
            format!("{name} in the decision env (greedy choices scored by its rules), episodes per update")
        }
    };
    let fraction = t.policy_gradient.lr_final_fraction;
    let lr = if t.method.algorithm().is_some() && fraction != 1.0 {
        format!("{} falling linearly to {fraction}× that", t.learning_rate)
    } else {
        t.learning_rate.to_string()
    };
    format!(
        "{method} {}, lr {lr}, at most {} steps; evaluation on {} fixed trials per task; criterion: every task ≥ {}; mean criterion: the mean over tasks ≥ {}.",
        t.batch_size, t.updates, t.eval_trials_per_task, t.criterion, t.mean_criterion
    )
}

/// The markdown tables of a finished run (its units collected).
pub fn markdown(s: &TaskScenario, results: &Collection<UnitResult>) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n\n{}\n", s.name, s.description);
    // The training settings as each arm runs them (an arm's `set` may change them): one line when the
    // arms share them, else one line per arm.
    let arms: Vec<(String, TaskScenario)> = s
        .arm_list()
        .into_iter()
        .map(|a| {
            let run = a.scenario(s).unwrap_or_else(|_| s.clone());
            (a.name, run)
        })
        .collect();
    let lines: Vec<String> = arms.iter().map(|(_, a)| training_line(a)).collect();
    if lines.iter().all(|l| *l == lines[0]) {
        let _ = writeln!(md, "{}\n", lines[0]);
    } else {
        for ((name, _), line) in arms.iter().zip(&lines) {
            let _ = writeln!(md, "- arm `{name}`: {line}");
        }
        let _ = writeln!(md);
    }
    let mean_criterion = |arm: &str| {
        arms.iter()
            .find(|(name, _)| name == arm)
            .map_or(s.training.mean_criterion, |(_, a)| a.training.mean_criterion)
    };
    let _ = writeln!(md, "| arm | seeds | reached criterion | median steps to criterion | median steps to mean criterion | final mean perf | final min perf | median wall (s) |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for arm in results.arms() {
        let rs: Vec<&UnitResult> = results.records_of(arm);
        let reached: Vec<f64> = rs
            .iter()
            .filter_map(|r| r.steps_to_criterion.map(|u| u as f64))
            .collect();
        let mean = pm(&rs.iter().map(|r| r.mean_perf).collect::<Vec<_>>(), 3);
        let min = pm(&rs.iter().map(|r| r.min_perf).collect::<Vec<_>>(), 3);
        let med = |v: &[f64]| {
            if v.is_empty() {
                "—".to_string()
            } else {
                format!("{:.0}", median(v.iter().copied()))
            }
        };
        let to_mean: Vec<f64> = results
            .of_arm(arm)
            .filter_map(|u| steps_to_mean(&u.dir, mean_criterion(arm)).map(|u| u as f64))
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {}/{} | {} | {} ({}/{}) | {mean} | {min} | {:.0} |",
            arm,
            rs.len(),
            reached.len(),
            rs.len(),
            med(&reached),
            med(&to_mean),
            to_mean.len(),
            rs.len(),
            median(rs.iter().map(|r| r.wall_seconds))
        );
    }
    if let Some(first) = results.units().first().map(|u| &u.record) {
        let _ = writeln!(
            md,
            "\n## Final performance per task (mean{} over seeds)\n",
            if results.units().len() > results.arms().len() {
                " ± s.e.m."
            } else {
                ""
            }
        );
        let arms = results.arms();
        let _ = writeln!(md, "| task | {} |", arms.join(" | "));
        let _ = writeln!(md, "|---|{}", "---|".repeat(arms.len()));
        for (k, (task, _)) in first.per_task.iter().enumerate() {
            let cells: Vec<String> = arms
                .iter()
                .map(|a| pm(&results.values_by(a, |r| r.per_task[k].1), 2))
                .collect();
            let _ = writeln!(md, "| {task} | {} |", cells.join(" | "));
        }
    }
    let fps: Vec<&UnitResult> = results
        .units()
        .iter()
        .map(|u| &u.record)
        .filter(|r| r.analysis.fixed_points.is_some())
        .collect();
    if !fps.is_empty() {
        let input = match s.analysis.fixed_point_input {
            super::config::FixedPointInput::Zero => "zero input",
            super::config::FixedPointInput::Fixation => "each task's fixation input (counts summed over tasks)",
        };
        let _ = writeln!(md, "\n## Fixed points under {input}\n");
        let _ = writeln!(md, "| arm | seed | starts (ended at a fixed point / slow point / nothing) | fixed | stable | saddles (1, 2, 3+ unstable modes) | slow | marginal modes (median over points) | distinct readout signs at stable points |");
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
        for r in fps {
            let f = r.analysis.fixed_points.as_ref().expect("filtered");
            let s3: usize = f.saddles.iter().skip(2).sum();
            let g = |k: usize| f.saddles.get(k).copied().unwrap_or(0);
            let _ = writeln!(
                md,
                "| {} | {} | {} ({} / {} / {}) | {} | {} | {}, {}, {} | {} | {} | {} |",
                r.arm,
                r.seed,
                f.starts,
                f.start_outcomes.fixed,
                f.start_outcomes.slow,
                f.start_outcomes.nothing,
                f.fixed,
                f.stable,
                g(0),
                g(1),
                s3,
                f.slow,
                if f.marginal_modes.is_empty() {
                    "—".to_string()
                } else {
                    format!("{:.0}", median(f.marginal_modes.iter().map(|&m| m as f64)))
                },
                f.distinct_readout_signs
            );
        }
    }
    md
}

/// Writes `results.csv`, `results.md` and the learning-curve figure of the run in `dir`.
pub fn write_report(s: &TaskScenario, dir: &Path, results: &Collection<UnitResult>) -> Result<()> {
    // results.csv last and whole: its presence marks a finished task run (`sweep::finished_in`).
    let path = dir.join("results.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in results.units().iter().map(|u| &u.record) {
        let f = r.analysis.fixed_points.as_ref();
        w.serialize(ResultRow {
            arm: &r.arm,
            seed: r.seed,
            updates: r.updates,
            steps_to_criterion: r.steps_to_criterion,
            trials_to_criterion: r.trials_to_criterion,
            mean_perf: r.mean_perf,
            min_perf: r.min_perf,
            wall_seconds: r.wall_seconds,
            stable_fixed_points: f.map(|f| f.stable),
            saddles: f.map(|f| f.saddles.iter().sum()),
        })
        .map_err(|e| ScenarioError::output(&path, e))?;
    }
    let table = w
        .into_inner()
        .map_err(|e| ScenarioError::output(&path, e.to_string()))?;
    let md = dir.join("results.md");
    std::fs::write(&md, markdown(s, results)).map_err(|e| ScenarioError::io(&md, e))?;
    // Curves: the mean over tasks for every unit.
    let mut series = Vec::new();
    for unit in results.units() {
        let p = unit.dir.join("learning_curve.csv");
        let mut r = csv::Reader::from_path(&p).map_err(|e| ScenarioError::output(&p, e))?;
        let rows: Vec<TaskCurveRow> = r
            .deserialize()
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| ScenarioError::output(&p, e))?;
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.task == "mean")
            .map(|r| (r.trials as f64, r.perf))
            .collect();
        series.push((unit.arm.clone(), pts));
    }
    crate::plots::register();
    let figs = dir.join("figures");
    let png = figs.join("task_curves.png");
    curves(BitMapBackend::new(&png, (900, 550)).into_drawing_area(), s, &series)
        .map_err(|e| ScenarioError::output(&png, e))?;
    let svg = figs.join("task_curves.svg");
    curves(SVGBackend::new(&svg, (900, 550)).into_drawing_area(), s, &series)
        .map_err(|e| ScenarioError::output(&svg, e))?;
    crate::commit::write_atomic(&path, &table)
}

fn curves<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    s: &TaskScenario,
    series: &[(String, Vec<(f64, f64)>)],
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let xmax = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.0))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .caption(format!("{}: mean performance over tasks", s.name), ("sans-serif", 20))
        .build_cartesian_2d(0.0..xmax, 0.0..1.0)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("training trials")
        .y_desc("performance")
        .disable_mesh()
        .draw()
        .map_err(e)?;
    let arms = s.arm_list();
    let mut labelled = std::collections::HashSet::new();
    for (name, pts) in series {
        let i = arms.iter().position(|a| &a.name == name).unwrap_or(0);
        let c = PALETTE[i % PALETTE.len()];
        let s = chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(e)?;
        if labelled.insert(name.clone()) {
            s.label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        }
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, s.training.criterion), (xmax, s.training.criterion)],
            BLACK.mix(0.3),
        )))
        .map_err(e)?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flipflop() -> TaskScenario {
        match crate::builtin::resolve_any("flipflop").unwrap() {
            crate::builtin::AnyScenario::Tasks(s) => *s,
            crate::builtin::AnyScenario::Reaching(_) => unreachable!("flipflop is a task scenario"),
        }
    }

    #[test]
    fn the_header_gives_each_arm_its_own_training_settings() {
        let empty = Collection::<UnitResult>::of(&[], Vec::new());
        let mut s = flipflop();
        // Arms that share the settings: one line, the scenario's.
        let shared = markdown(&s, &empty);
        assert!(shared.contains(&format!(
            "lr {}, at most {} steps",
            s.training.learning_rate, s.training.updates
        )));
        assert!(!shared.contains("- arm `"), "{shared}");
        // An arm that sets its own rate and budget: one line per arm, each with its own values.
        s.arms = vec![
            super::super::config::Arm {
                name: "slow".into(),
                core: None,
                set: vec!["training.learning_rate=1e-4".into(), "training.updates=77".into()],
            },
            super::super::config::Arm {
                name: "base".into(),
                core: None,
                set: Vec::new(),
            },
        ];
        let md = markdown(&s, &empty);
        assert!(
            md.contains("- arm `slow`: Supervised BPTT") && md.contains("lr 0.0001, at most 77 steps"),
            "{md}"
        );
        assert!(
            md.contains(&format!(
                "- arm `base`: Supervised BPTT, batch {}, lr {}",
                s.training.batch_size, s.training.learning_rate
            )),
            "{md}"
        );
    }
}
