//! What a run prints while it trains: progress bars on a terminal, plain lines in a log file or a
//! cluster job, JSON lines for log collectors, or nothing.

use indicatif::{ProgressBar, ProgressStyle};
use reachlab_scenarios::lines::Lines;
use reachlab_scenarios::units::UnitObserver;
use reachlab_scenarios::{CurveRow, Observer, StageSpec, TaskCurveRow};

/// Progress bars per stage on a terminal; otherwise [`Lines`] (plain lines in a log file or a cluster
/// job, JSON lines, or nothing).
pub struct Progress {
    pub(crate) bar: Option<ProgressBar>,
    /// Everything but the bars; `None` when bars are drawn.
    lines: Option<Lines>,
}

impl Progress {
    /// Bars on a terminal, plain lines otherwise; nothing with `quiet`; JSON lines with `json`.
    pub fn new(quiet: bool, json: bool) -> Self {
        use std::io::IsTerminal;
        let bars = std::io::stderr().is_terminal() && !quiet && !json;
        Progress {
            bar: None,
            lines: (!bars).then(|| Lines::new("", quiet, json)),
        }
    }

    /// Names a lone run in JSON lines (its scenario's name).
    pub fn named(mut self, name: &str) -> Self {
        self.lines = self.lines.map(|l| l.named(name));
        self
    }

    fn new_bar(&mut self, len: usize, prefix: &str, template: &str) -> &ProgressBar {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
        let bar = ProgressBar::new(len as u64);
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(prefix.to_string());
        self.bar.insert(bar)
    }
}

impl Observer for Progress {
    fn stage_started(&mut self, stage: &StageSpec, done: usize) {
        if let Some(l) = &mut self.lines {
            return l.stage_started(stage, done);
        }
        let bar = self.new_bar(
            stage.updates,
            &stage.name,
            "{prefix:>12} [{bar:30}] {pos}/{len} updates, ETA {eta} {msg}",
        );
        bar.set_position(done as u64);
    }

    fn updated(&mut self, row: &CurveRow) {
        if let Some(l) = &mut self.lines {
            return l.updated(row);
        }
        if let Some(b) = &self.bar {
            b.set_position(row.stage_update as u64);
            b.set_message(format!(
                "success {:.2}, MPD {:+.2} cm",
                row.success_rate, row.mpd_trained_cm
            ));
        }
    }

    fn stage_finished(&mut self, stage: &StageSpec) {
        if let Some(l) = &mut self.lines {
            return l.stage_finished(stage);
        }
        if let Some(b) = self.bar.take() {
            b.finish();
        }
    }

    fn message(&mut self, text: &str) {
        match (&mut self.lines, &self.bar) {
            (Some(l), _) => l.message(text),
            (None, Some(b)) => b.println(text),
            (None, None) => eprintln!("{text}"),
        }
    }

    fn evaluated(&mut self, unit: &str, rows: &[TaskCurveRow], of_updates: usize) {
        if let Some(l) = &mut self.lines {
            return l.evaluated(unit, rows, of_updates);
        }
        let Some(last) = rows.last() else { return };
        let perf = |task: &str| rows.iter().find(|r| r.task == task).map_or(f64::NAN, |r| r.perf);
        let message = format!(
            "mean perf {:.3}, min {:.3}, loss {:.4}",
            perf("mean"),
            perf("min"),
            last.loss
        );
        if self.bar.as_ref().is_none_or(|b| b.prefix() != unit) {
            self.new_bar(
                of_updates,
                unit,
                "{prefix:>16} [{bar:30}] {pos}/{len} steps, ETA {eta} {msg}",
            );
        }
        if let Some(b) = &self.bar {
            b.set_position(last.update as u64);
            b.set_message(message);
        }
    }
}

/// The observers of units on worker threads: plain lines labelled with the unit, or JSON lines.
pub fn unit_lines(quiet: bool, json: bool) -> impl Fn(&str) -> Box<dyn UnitObserver> + Sync {
    move |label: &str| Box::new(Lines::new(label, quiet, json))
}
