//! What a run prints while it trains: progress bars on a terminal, plain lines in a log file or a
//! cluster job, JSON lines for log collectors, or nothing.

use indicatif::{ProgressBar, ProgressStyle};
use reachlab_scenarios::experiment::UnitObserver;
use reachlab_scenarios::tasks::{TaskCurveRow, TaskObserver};
use reachlab_scenarios::{CurveRow, Observer, StageSpec};

/// Progress bars per stage, or JSON lines, or nothing.
pub struct Progress {
    pub(crate) quiet: bool,
    pub(crate) json: bool,
    pub(crate) bar: Option<ProgressBar>,
    /// Plain lines instead of bars when stderr is not a terminal (a log file, a cluster job): the stage
    /// and its size, and a line every tenth of it.
    lines: Option<(String, usize)>,
}

impl Progress {
    /// Bars on a terminal, plain lines otherwise; nothing with `quiet`; JSON lines with `json`.
    pub fn new(quiet: bool, json: bool) -> Self {
        use std::io::IsTerminal;
        let plain = !std::io::stderr().is_terminal() && !quiet && !json;
        Progress {
            quiet,
            json,
            bar: None,
            lines: plain.then(|| (String::new(), 0)),
        }
    }
}

impl Observer for Progress {
    fn stage_started(&mut self, stage: &StageSpec, done: usize) {
        if self.quiet || self.json {
            return;
        }
        if let Some(l) = &mut self.lines {
            *l = (stage.name.clone(), stage.updates);
            eprintln!("{}: up to {} updates (from {done})", stage.name, stage.updates);
            return;
        }
        let bar = ProgressBar::new(stage.updates as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} updates, ETA {eta} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(stage.name.clone());
        bar.set_position(done as u64);
        self.bar = Some(bar);
    }

    fn updated(&mut self, row: &CurveRow) {
        if self.json {
            println!("{}", serde_json::to_string(row).expect("rows serialise"));
        }
        if let Some(b) = &self.bar {
            b.set_position(row.stage_update as u64);
            b.set_message(format!(
                "success {:.2}, MPD {:+.2} cm",
                row.success_rate, row.mpd_trained_cm
            ));
        }
        if let Some((stage, of)) = &self.lines {
            let every = (of / 10).max(1);
            if row.stage_update.is_multiple_of(every) || row.stage_update == *of {
                eprintln!(
                    "{stage}: {}/{of} updates, success {:.2}, MPD {:+.2} cm, {:.0} s",
                    row.stage_update, row.success_rate, row.mpd_trained_cm, row.wall_seconds
                );
            }
        }
    }

    fn stage_finished(&mut self, _stage: &StageSpec) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
    }

    fn message(&mut self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None if !self.quiet && !self.json => eprintln!("{text}"),
            None => {}
        }
    }
}

impl TaskObserver for Progress {
    fn evaluated(&mut self, unit: &str, rows: &[TaskCurveRow], of_updates: usize) {
        let Some(last) = rows.last() else { return };
        if self.json {
            print_task_rows(unit, rows);
            return;
        }
        if self.quiet {
            return;
        }
        let mean = rows.iter().find(|r| r.task == "mean").map_or(f64::NAN, |r| r.perf);
        if self.lines.is_some() {
            eprintln!(
                "{unit}: {}/{of_updates} steps, mean perf {mean:.3}, min {:.3}, loss {:.4}",
                last.update, last.perf, last.loss
            );
            return;
        }
        if self.bar.as_ref().is_none_or(|b| b.prefix() != unit) {
            if let Some(b) = self.bar.take() {
                b.finish();
            }
            let bar = ProgressBar::new(of_updates as u64);
            bar.set_style(
                ProgressStyle::with_template("{prefix:>16} [{bar:30}] {pos}/{len} steps, ETA {eta} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(unit.to_string());
            self.bar = Some(bar);
        }
        if let Some(b) = &self.bar {
            b.set_position(last.update as u64);
            b.set_message(format!(
                "mean perf {mean:.3}, min {:.3}, loss {:.4}",
                last.perf, last.loss
            ));
        }
    }
}

/// One line per stage of a unit run on a worker thread (`[arm/seed-k] stage: …`), or its rows as JSON.
struct UnitLines {
    label: String,
    quiet: bool,
    json: bool,
    last: Option<CurveRow>,
}

impl Observer for UnitLines {
    fn updated(&mut self, row: &CurveRow) {
        if self.json {
            let mut v = serde_json::to_value(row).expect("rows serialise");
            v["unit"] = self.label.clone().into();
            println!("{v}");
        }
        self.last = Some(row.clone());
    }

    fn stage_finished(&mut self, stage: &StageSpec) {
        if let (Some(r), false, false) = (&self.last, self.quiet, self.json) {
            eprintln!(
                "[{}] {}: {} updates, success {:.2}, MPD {:+.2} cm, {:.0} s",
                self.label, stage.name, r.stage_update, r.success_rate, r.mpd_trained_cm, r.wall_seconds
            );
        }
    }

    fn message(&mut self, text: &str) {
        if !self.quiet && !self.json {
            eprintln!("[{}] {text}", self.label);
        }
    }
}

impl TaskObserver for UnitLines {
    fn evaluated(&mut self, unit: &str, rows: &[TaskCurveRow], of_updates: usize) {
        if self.json {
            print_task_rows(unit, rows);
        } else if let (Some(last), false) = (rows.last(), self.quiet) {
            let mean = rows.iter().find(|r| r.task == "mean").map_or(f64::NAN, |r| r.perf);
            eprintln!(
                "[{}] {}/{of_updates} steps, mean perf {mean:.3}, min {:.3}, loss {:.4}",
                self.label, last.update, last.perf, last.loss
            );
        }
    }
}

/// A task run's evaluation rows as JSON lines, each with its unit.
fn print_task_rows(unit: &str, rows: &[TaskCurveRow]) {
    for r in rows {
        println!(
            "{}",
            serde_json::json!({"unit": unit, "update": r.update, "trials": r.trials, "task": r.task, "perf": r.perf, "loss": r.loss})
        );
    }
}

/// The observers of units on worker threads.
pub fn unit_lines(quiet: bool, json: bool) -> impl Fn(&str) -> Box<dyn UnitObserver> + Sync {
    move |label: &str| {
        Box::new(UnitLines {
            label: label.to_string(),
            quiet,
            json,
            last: None,
        })
    }
}
