//! Figures of reaching behaviour as a motor neuroscientist reads them: the learning curve (training and
//! evaluation blocks, the baseline band, the adaptation index), hand paths with the target windows and a
//! scale bar, and speed profiles aligned on the go cue.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::LoadedRecording;
use crate::reaching::config::Scenario;
use crate::rows::{baseline_band, CurveRow, EvalRow};

pub(crate) type Draw = std::result::Result<(), String>;

pub(crate) const STAGE_COLOURS: [RGBColor; 5] = [
    RGBColor(200, 200, 200),
    RGBColor(120, 170, 230),
    RGBColor(240, 150, 120),
    RGBColor(140, 210, 140),
    RGBColor(230, 190, 90),
];

const GREY: RGBColor = RGBColor(128, 128, 128);

/// Splits a series at non-finite values, so that a line shows a gap where data is missing.
pub(crate) fn segments(pts: impl IntoIterator<Item = (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for p in pts {
        if p.0.is_finite() && p.1.is_finite() {
            out.last_mut().expect("never empty").push(p);
        } else if !out.last().expect("never empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// The normal trials of a recording (channel trials are straight by construction).
fn normal_trials(rec: &LoadedRecording) -> impl Iterator<Item = usize> + '_ {
    (0..rec.n).filter(|&i| rec.trial_type[i] == 0)
}

/// Red for the trained target's trials, blue for the others.
fn target_colour(rec: &LoadedRecording, i: usize, trained: usize) -> RGBColor {
    if rec.target[i] as usize == trained {
        RED
    } else {
        BLUE
    }
}

/// Stage spans (name, first update − 1, last update) in the run's update numbers.
fn spans(rows: &[CurveRow]) -> Vec<(String, f64, f64)> {
    let mut spans: Vec<(String, f64, f64)> = Vec::new();
    for r in rows {
        let x = r.update as f64;
        match spans.last_mut() {
            Some(last) if last.0 == r.stage => last.2 = x,
            _ => spans.push((r.stage.clone(), x - 1.0, x)),
        }
    }
    spans
}

/// Four panels over updates, stages shaded: success (training rollouts, and evaluation blocks as
/// points); the trained target's signed MPD (training rollouts, evaluation blocks, the baseline band);
/// the adaptation index of the evaluation blocks' channel trials.
pub(crate) fn learning_curve<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    rows: &[CurveRow],
    evals: &[EvalRow],
    s: &Scenario,
) -> Draw {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let n = rows.len().max(1) as f64;
    let spans = spans(rows);
    let band = baseline_band(s, evals);
    let at = |r: &EvalRow| r.update as f64;
    let mpd_lim = rows
        .iter()
        .map(|r| r.mpd_trained_cm.abs())
        .chain(evals.iter().map(|r| r.mpd_trained_cm.abs()))
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max)
        * 1.1;
    let ai_lim = evals
        .iter()
        .map(|r| r.adaptation_index.abs())
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max)
        * 1.1;
    let areas = root.split_evenly((3, 1));
    for (panel, area) in areas.iter().enumerate() {
        let (ylo, yhi, label) = match panel {
            0 => (0.0, 1.05, "success rate"),
            1 => (-mpd_lim, mpd_lim, "MPD, trained target (cm)"),
            _ => (-ai_lim, ai_lim, "adaptation index"),
        };
        let caption = if panel == 0 {
            format!("{}: learning curve", s.name)
        } else {
            String::new()
        };
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(56)
            .caption(caption, ("sans-serif", 18))
            .build_cartesian_2d(0.0..n, ylo..yhi)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("update")
            .y_desc(label)
            .x_label_formatter(&|x| format!("{:.0}", x))
            .disable_mesh()
            .draw()
            .map_err(e)?;
        for (i, (name, x0, x1)) in spans.iter().enumerate() {
            let c = STAGE_COLOURS[i % STAGE_COLOURS.len()];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(*x0, ylo), (*x1, yhi)],
                    c.mix(0.25).filled(),
                )))
                .map_err(e)?;
            if panel == 0 {
                // Three label heights, so that the names of short neighbouring stages do not overlap.
                let y = yhi - (0.06 + 0.08 * (i % 3) as f64) * (yhi - ylo);
                chart
                    .draw_series(std::iter::once(Text::new(
                        name.clone(),
                        (*x0 + 0.5, y),
                        ("sans-serif", 13),
                    )))
                    .map_err(e)?;
            }
        }
        let zero = PathElement::new(vec![(0.0, 0.0), (n, 0.0)], BLACK.mix(0.3));
        match panel {
            0 => {
                for seg in segments(rows.iter().map(|r| (r.update as f64, r.success_rate))) {
                    chart.draw_series(LineSeries::new(seg, &BLUE)).map_err(e)?;
                }
                chart
                    .draw_series(
                        evals
                            .iter()
                            .map(|r| Circle::new((at(r), r.success_rate), 3, BLACK.filled())),
                    )
                    .map_err(e)?
                    .label("evaluation (deterministic)")
                    .legend(|(x, y)| Circle::new((x + 8, y), 3, BLACK.filled()));
                chart
                    .draw_series(std::iter::once(PathElement::new(vec![(0.0, -1.0)], BLUE)))
                    .map_err(e)?
                    .label("training rollouts")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 12))
                    .draw()
                    .map_err(e)?;
            }
            1 => {
                if band.0.is_finite() {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(0.0, band.0 - band.1), (n, band.0 + band.1)],
                            GREY.mix(0.25).filled(),
                        )))
                        .map_err(e)?;
                }
                chart.draw_series(std::iter::once(zero)).map_err(e)?;
                for seg in segments(rows.iter().map(|r| (r.update as f64, r.mpd_trained_cm))) {
                    chart.draw_series(LineSeries::new(seg, GREY.mix(0.8))).map_err(e)?;
                }
                for seg in segments(evals.iter().map(|r| (at(r), r.mpd_trained_cm))) {
                    chart
                        .draw_series(LineSeries::new(seg, BLACK.stroke_width(2)).point_size(2))
                        .map_err(e)?;
                }
            }
            _ => {
                chart.draw_series(std::iter::once(zero)).map_err(e)?;
                for seg in segments(evals.iter().map(|r| (at(r), r.adaptation_index))) {
                    chart
                        .draw_series(LineSeries::new(seg, RED.stroke_width(2)).point_size(2))
                        .map_err(e)?;
                }
            }
        }
    }
    root.present().map_err(e)
}

/// One panel per recorded block: the normal trials' hand paths up to their last step (the end of the
/// hold when they succeeded), the target windows to scale, the trained target in red, a 5 cm scale bar.
pub(crate) fn hand_paths<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    panels: &[(String, LoadedRecording)],
    cols: usize,
    s: &Scenario,
) -> Draw {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((panels.len().div_ceil(cols), cols));
    let r_cm = 100.0 * s.env.radius;
    let w_cm = 100.0 * s.env.reward.success_radius;
    let lim = r_cm * 1.5;
    let trained = s.evaluation.trained_target;
    for ((title, rec), area) in panels.iter().zip(areas) {
        let mut chart = ChartBuilder::on(&area)
            .margin(8)
            .caption(title, ("sans-serif", 15))
            .build_cartesian_2d(-lim..lim, -lim..lim)
            .map_err(e)?;
        let n_t = s.env.n_targets;
        for k in 0..n_t {
            let a = std::f64::consts::TAU * k as f64 / n_t as f64;
            let c = (r_cm * a.cos(), r_cm * a.sin());
            let ring: Vec<(f64, f64)> = (0..=48)
                .map(|j| {
                    let t = std::f64::consts::TAU * f64::from(j) / 48.0;
                    (c.0 + w_cm * t.cos(), c.1 + w_cm * t.sin())
                })
                .collect();
            let colour = if k == trained { RED } else { GREY };
            chart
                .draw_series(std::iter::once(PathElement::new(ring, colour.stroke_width(1))))
                .map_err(e)?;
        }
        for i in normal_trials(rec) {
            let pts: Vec<(f64, f64)> = (0..rec.length[i] as usize)
                .map(|t| {
                    let k = (i * rec.t + t) * 2;
                    (
                        100.0 * f64::from(rec.hand_pos[k]),
                        100.0 * f64::from(rec.hand_pos[k + 1]),
                    )
                })
                .collect();
            let colour = target_colour(rec, i, trained);
            chart
                .draw_series(std::iter::once(PathElement::new(pts, colour.mix(0.7))))
                .map_err(e)?;
        }
        // Scale bar, bottom left.
        let (x0, y0) = (-lim * 0.9, -lim * 0.9);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x0, y0), (x0 + 5.0, y0)],
                BLACK.stroke_width(2),
            )))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new("5 cm", (x0, y0 + 1.2), ("sans-serif", 12))))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("red: trained target {trained}; circles: {w_cm:.1} cm windows"),
                (-lim * 0.95, lim * 0.95),
                ("sans-serif", 11),
            )))
            .map_err(e)?;
    }
    root.present().map_err(e)
}

/// One panel per recorded block: the normal trials' hand speed against time from the go cue, up to
/// their last step; the trained target in red.
pub(crate) fn speed_profiles<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    panels: &[(String, LoadedRecording)],
    cols: usize,
    s: &Scenario,
) -> Draw {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((panels.len().div_ceil(cols), cols));
    let dt = s.env.dt;
    let trained = s.evaluation.trained_target;
    let speed = |rec: &LoadedRecording, i: usize, t: usize| {
        f64::from(rec.hand_vel_at(i, t, 0)).hypot(f64::from(rec.hand_vel_at(i, t, 1)))
    };
    let mut vmax: f64 = 0.1;
    let mut tmax: f64 = 0.5;
    for (_, rec) in panels {
        for i in normal_trials(rec) {
            let go = rec.go_step[i] as usize;
            for t in go.min(rec.length[i] as usize)..rec.length[i] as usize {
                vmax = vmax.max(speed(rec, i, t));
                tmax = tmax.max((t + 1 - go) as f64 * dt);
            }
        }
    }
    for ((title, rec), area) in panels.iter().zip(areas) {
        let mut chart = ChartBuilder::on(&area)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .caption(title, ("sans-serif", 15))
            .build_cartesian_2d(-0.1..tmax, 0.0..vmax * 1.05)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("time from go cue (s)")
            .y_desc("speed (m/s)")
            .disable_mesh()
            .draw()
            .map_err(e)?;
        for i in normal_trials(rec) {
            let go = rec.go_step[i] as usize;
            let start = go.saturating_sub(10);
            let pts: Vec<(f64, f64)> = (start..rec.length[i] as usize)
                .map(|t| ((t as f64 + 1.0 - go as f64) * dt, speed(rec, i, t)))
                .collect();
            let colour = target_colour(rec, i, trained);
            chart
                .draw_series(std::iter::once(PathElement::new(pts, colour.mix(0.6))))
                .map_err(e)?;
        }
    }
    root.present().map_err(e)
}

/// The muscles' excitations over the reach: one row per recorded stage block, one column per muscle, each
/// normal trial's excitation from 100 ms before the go cue to its end (the trained target's in red).
pub(crate) fn muscle_activity<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    panels: &[(String, LoadedRecording)],
    muscles: &[&str],
    s: &Scenario,
) -> Draw {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((panels.len(), muscles.len()));
    let dt = s.env.dt;
    let trained = s.evaluation.trained_target;
    let tmax = panels
        .iter()
        .flat_map(|(_, rec)| normal_trials(rec).map(move |i| (rec.length[i] as f64 - f64::from(rec.go_step[i])) * dt))
        .fold(0.5, f64::max);
    // One excitation scale for every panel: the largest excitation recorded, with a margin.
    let umax = panels
        .iter()
        .flat_map(|(_, rec)| rec.actions.iter().map(|&u| f64::from(u)))
        .fold(0.05, f64::max)
        .min(1.0)
        * 1.1;
    for (k, area) in areas.iter().enumerate() {
        let (title, rec) = &panels[k / muscles.len()];
        let m = k % muscles.len();
        let mut chart = ChartBuilder::on(area)
            .margin(6)
            .x_label_area_size(24)
            .y_label_area_size(34)
            .caption(format!("{title}: {}", muscles[m]), ("sans-serif", 12))
            .build_cartesian_2d(-0.1..tmax, 0.0..umax)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("time from go cue (s)")
            .y_desc("excitation")
            .disable_mesh()
            .draw()
            .map_err(e)?;
        for i in normal_trials(rec) {
            let go = rec.go_step[i] as usize;
            let pts: Vec<(f64, f64)> = (go.saturating_sub(10)..rec.length[i] as usize)
                .map(|t| {
                    let u = rec.actions[(i * rec.t + t) * rec.a + m];
                    ((t as f64 + 1.0 - go as f64) * dt, f64::from(u))
                })
                .collect();
            let colour = target_colour(rec, i, trained);
            chart
                .draw_series(std::iter::once(PathElement::new(pts, colour.mix(0.5))))
                .map_err(e)?;
        }
    }
    root.present().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn a_series_is_cut_where_values_are_missing() {
        let s = segments([(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0), (4.0, f64::NAN)]);
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
    }
}
