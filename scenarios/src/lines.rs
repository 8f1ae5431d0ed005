//! Progress as plain lines on stderr, or as JSON lines on stdout: what a run prints in a log file, a
//! cluster job, a unit on a worker thread, or under Python. One format for every caller (`train_agent`
//! when stderr is not a terminal and for concurrent units; `reachlab.train`).
//!
//! JSON lines have one schema for both kinds of run: every line carries `unit` (the unit's label,
//! `arm/seed-k`, or the run's name for a lone run), `update` and `wall_seconds`; a reaching run's line
//! adds the rest of its learning-curve row (`stage`, `success_rate`, `mpd_trained_cm`, …), a task run's
//! `trials`, `task` (or `mean`/`min`), `perf` and `loss`.

use crate::observer::Observer;
use crate::reaching::config::StageSpec;
use crate::rows::{CurveRow, TaskCurveRow};

/// Plain lines (a line per tenth of a stage and one at its end; a line per evaluation of a task run),
/// JSON lines (every update's row with its unit), or nothing.
#[derive(Debug, Clone)]
pub struct Lines {
    /// The unit's label (`arm/seed-k`), printed in brackets; empty for a lone run.
    label: String,
    /// What JSON lines name a lone run (its scenario's name, see [`Lines::named`]).
    name: String,
    quiet: bool,
    json: bool,
    /// The stage under way and its size.
    stage: Option<(String, usize)>,
    last: Option<CurveRow>,
    /// Whether the last row's line was printed (so that the end of a stage is not printed twice).
    printed_last: bool,
}

impl Lines {
    /// Lines for the unit `label` (empty for a lone run); nothing with `quiet`, JSON with `json`.
    pub fn new(label: &str, quiet: bool, json: bool) -> Self {
        Lines {
            label: label.to_string(),
            name: String::new(),
            quiet,
            json,
            stage: None,
            last: None,
            printed_last: false,
        }
    }

    /// Names a lone run in JSON lines (`unit`): its scenario's name.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The run identity JSON lines carry: the unit's label, else the run's name.
    fn unit(&self) -> &str {
        if self.label.is_empty() {
            &self.name
        } else {
            &self.label
        }
    }

    fn plain(&self) -> bool {
        !self.quiet && !self.json
    }

    fn print_row(&self, row: &CurveRow) {
        let (stage, of) = self.stage.clone().unwrap_or_default();
        eprintln!(
            "{}{stage}: {}/{of} updates, success {:.2}, MPD {:+.2} cm, {:.0} s",
            self.prefix(),
            row.stage_update,
            row.success_rate,
            row.mpd_trained_cm,
            row.wall_seconds
        );
    }

    fn prefix(&self) -> String {
        if self.label.is_empty() {
            String::new()
        } else {
            format!("[{}] ", self.label)
        }
    }
}

impl Observer for Lines {
    fn stage_started(&mut self, stage: &StageSpec, done: usize) {
        self.stage = Some((stage.name.clone(), stage.updates));
        if self.plain() {
            eprintln!(
                "{}{}: up to {} updates (from {done})",
                self.prefix(),
                stage.name,
                stage.updates
            );
        }
    }

    fn updated(&mut self, row: &CurveRow) {
        self.printed_last = false;
        if self.json {
            let mut v = serde_json::to_value(row).expect("rows serialise");
            v["unit"] = self.unit().into();
            println!("{v}");
        } else if let (true, Some((_, of))) = (self.plain(), &self.stage) {
            let every = (of / 10).max(1);
            if row.stage_update.is_multiple_of(every) || row.stage_update == *of {
                self.print_row(row);
                self.printed_last = true;
            }
        }
        self.last = Some(row.clone());
    }

    fn stage_finished(&mut self, _stage: &StageSpec) {
        // A stage that stopped early (its criterion met) ends with its last row.
        if let (true, false, Some(r)) = (self.plain(), self.printed_last, &self.last) {
            self.print_row(r);
        }
        self.printed_last = false;
    }

    fn message(&mut self, text: &str) {
        if self.plain() {
            eprintln!("{}{text}", self.prefix());
        }
    }

    fn evaluated(&mut self, unit: &str, rows: &[TaskCurveRow], of_updates: usize) {
        if self.json {
            print_task_rows(unit, rows);
        } else if let (true, Some(last)) = (self.plain(), rows.last()) {
            let perf = |task: &str| rows.iter().find(|r| r.task == task).map_or(f64::NAN, |r| r.perf);
            eprintln!(
                "[{unit}] {}/{of_updates} steps, mean perf {:.3}, min {:.3}, loss {:.4}, {:.0} s",
                last.update,
                perf("mean"),
                perf("min"),
                last.loss,
                last.wall_s
            );
        }
    }
}

/// A task run's evaluation rows as JSON lines, each with its unit (the schema of the module's docs).
pub fn print_task_rows(unit: &str, rows: &[TaskCurveRow]) {
    for r in rows {
        println!(
            "{}",
            serde_json::json!({"unit": unit, "update": r.update, "wall_seconds": r.wall_s, "trials": r.trials, "task": r.task, "perf": r.perf, "loss": r.loss})
        );
    }
}
