//! Figures (plotters, PNG and SVG) of a run: the learning curve, hand paths and speed profiles per
//! recorded block ([`crate::reaching::behaviour_figures`]), and the analysis.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use reachlab_envs::effector::arm26::MUSCLE_NAMES;
use reachlab_envs::reach::EffectorConfig;

use crate::error::{Result, ScenarioError};
use crate::output::LoadedRecording;
use crate::reaching::analysis::{Analysis, StagePoints};
use crate::reaching::behaviour_figures::{
    hand_paths, learning_curve, muscle_activity, speed_profiles, Draw, STAGE_COLOURS,
};
use crate::reaching::config::Scenario;
use crate::rows::{read_csv, CurveRow, EvalRow};

/// DejaVu Sans (Bitstream Vera licence), bundled so that text renders without system fonts.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

pub(crate) fn register() {
    REGISTER.call_once(|| {
        // The bundled font parses; a failure here would only lose the text, not the figure.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Colours of series (arms, architectures) in the task figures.
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws `figures/learning_curve.{png,svg}`, `figures/hand_paths.{png,svg}`,
/// `figures/speed_profiles.{png,svg}` and, when `analysis.json` has them, `figures/analysis.{png,svg}`.
pub fn draw_all(s: &Scenario, dir: &Path) -> Result<()> {
    register();
    let rows: Vec<CurveRow> = read_csv(&dir.join("learning_curve.csv"))?;
    let evals: Vec<EvalRow> = read_csv(&dir.join("evaluations.csv"))?;
    let figs = dir.join("figures");
    std::fs::create_dir_all(&figs).map_err(|e| ScenarioError::io(&figs, e))?;
    let png = figs.join("learning_curve.png");
    learning_curve(
        BitMapBackend::new(&png, (1000, 900)).into_drawing_area(),
        &rows,
        &evals,
        s,
    )
    .map_err(|e| ScenarioError::output(&png, e))?;
    let svg = figs.join("learning_curve.svg");
    learning_curve(SVGBackend::new(&svg, (1000, 900)).into_drawing_area(), &rows, &evals, s)
        .map_err(|e| ScenarioError::output(&svg, e))?;

    let mut panels = Vec::new();
    for st in std::iter::once(&s.pretraining).chain(&s.phases).filter(|st| st.record) {
        for block in ["early", "late"] {
            let p = dir.join("recordings").join(format!("{}_{block}.safetensors", st.name));
            if p.exists() {
                panels.push((format!("{} ({block})", st.name), LoadedRecording::load(&p)?));
            }
        }
    }
    if let Some(a) = crate::reaching::analysis::Analysis::read(dir)
        .ok()
        .filter(|a| !a.tdr_plane.is_empty())
    {
        let png = figs.join("analysis.png");
        analysis(BitMapBackend::new(&png, (1500, 500)).into_drawing_area(), &a, s)
            .map_err(|e| ScenarioError::output(&png, e))?;
        let svg = figs.join("analysis.svg");
        analysis(SVGBackend::new(&svg, (1500, 500)).into_drawing_area(), &a, s)
            .map_err(|e| ScenarioError::output(&svg, e))?;
    }
    if !panels.is_empty() {
        let cols = 4.min(panels.len());
        let rows_n = panels.len().div_ceil(cols);
        let size = (300 * cols as u32, 300 * rows_n as u32);
        let png = figs.join("hand_paths.png");
        hand_paths(BitMapBackend::new(&png, size).into_drawing_area(), &panels, cols, s)
            .map_err(|e| ScenarioError::output(&png, e))?;
        let svg = figs.join("hand_paths.svg");
        hand_paths(SVGBackend::new(&svg, size).into_drawing_area(), &panels, cols, s)
            .map_err(|e| ScenarioError::output(&svg, e))?;
        let png = figs.join("speed_profiles.png");
        speed_profiles(BitMapBackend::new(&png, size).into_drawing_area(), &panels, cols, s)
            .map_err(|e| ScenarioError::output(&png, e))?;
        let svg = figs.join("speed_profiles.svg");
        speed_profiles(SVGBackend::new(&svg, size).into_drawing_area(), &panels, cols, s)
            .map_err(|e| ScenarioError::output(&svg, e))?;
        if let EffectorConfig::Arm26(_) = s.env.effector {
            let size = (220 * MUSCLE_NAMES.len() as u32, 200 * panels.len() as u32);
            let png = figs.join("muscle_activity.png");
            muscle_activity(
                BitMapBackend::new(&png, size).into_drawing_area(),
                &panels,
                &MUSCLE_NAMES,
                s,
            )
            .map_err(|e| ScenarioError::output(&png, e))?;
            let svg = figs.join("muscle_activity.svg");
            muscle_activity(
                SVGBackend::new(&svg, size).into_drawing_area(),
                &panels,
                &MUSCLE_NAMES,
                s,
            )
            .map_err(|e| ScenarioError::output(&svg, e))?;
        }
    }
    Ok(())
}

/// (stage, points) of each stage's `StagePoints`.
fn stage_points(v: &[StagePoints]) -> Vec<(String, Vec<(f64, f64)>)> {
    v.iter()
        .map(|sp| (sp.stage.clone(), sp.points.iter().map(|p| (p[0], p[1])).collect()))
        .collect()
}

fn bounds(pts: impl Iterator<Item = (f64, f64)>) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in pts.filter(|p| p.0.is_finite() && p.1.is_finite()) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if !x0.is_finite() {
        return (-1.0..1.0, -1.0..1.0);
    }
    let (px, py) = (0.1 * (x1 - x0).max(1e-6), 0.1 * (y1 - y0).max(1e-6));
    ((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))
}

/// Three panels: preparatory states in the TDR plane per stage; the uniform shift against distance from
/// the trained target; preparatory states and the nearest fixed points on PC1–PC2.
fn analysis<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, a: &Analysis, s: &Scenario) -> Draw {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let panels = root.split_evenly((1, 3));
    let trained = s.evaluation.trained_target;
    for (which, area) in panels.iter().enumerate() {
        match which {
            0 | 2 => {
                let sets = stage_points(if which == 0 { &a.tdr_plane } else { &a.pc_plane });
                let fps: Vec<(String, (f64, f64), bool)> = if which == 2 {
                    a.preparatory_fixed_points
                        .iter()
                        .filter_map(|p| p.pc.map(|pc| (p.stage.clone(), (pc[0], pc[1]), p.stable)))
                        .collect()
                } else {
                    vec![]
                };
                let (xr, yr) = bounds(
                    sets.iter()
                        .flat_map(|(_, p)| p.iter().copied())
                        .chain(fps.iter().map(|f| f.1)),
                );
                let title = if which == 0 {
                    "preparatory states and stage-to-stage shifts (arrows), baseline TDR plane"
                } else {
                    "prep states (o), shifts (arrows), fixed points (x; black: unstable), PC1-2"
                };
                let mut chart = ChartBuilder::on(area)
                    .margin(10)
                    .caption(title, ("sans-serif", 14))
                    .x_label_area_size(28)
                    .y_label_area_size(44)
                    .build_cartesian_2d(xr, yr)
                    .map_err(e)?;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_desc(if which == 0 { "force x axis" } else { "PC1" })
                    .y_desc(if which == 0 { "force y axis" } else { "PC2" })
                    .draw()
                    .map_err(e)?;
                for (i, (stage, pts)) in sets.iter().enumerate() {
                    let c = STAGE_COLOURS[(i + 1) % STAGE_COLOURS.len()];
                    let mut ring = pts.clone();
                    if let Some(f) = pts.first() {
                        ring.push(*f);
                    }
                    chart
                        .draw_series(std::iter::once(PathElement::new(ring, c.stroke_width(2))))
                        .map_err(e)?
                        .label(stage.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
                    chart
                        .draw_series(pts.iter().enumerate().map(|(k, p)| {
                            let fill = if k == trained { BLACK.filled() } else { c.filled() };
                            Circle::new(*p, 4, fill)
                        }))
                        .map_err(e)?;
                    // Stable fixed points as crosses in the stage's colour, unstable ones in black.
                    chart
                        .draw_series(fps.iter().filter(|f| &f.0 == stage).map(|(_, p, stable)| {
                            let style = if *stable {
                                c.stroke_width(2)
                            } else {
                                BLACK.stroke_width(1)
                            };
                            EmptyElement::at(*p) + Cross::new((0, 0), 5, style)
                        }))
                        .map_err(e)?;
                }
                // The shift vectors: stage centroid to stage centroid (baseline → learning is Δ_L,
                // learning → washout is Δ_W), the tip marked by a triangle.
                let centroids: Vec<(f64, f64)> = sets
                    .iter()
                    .filter(|(_, p)| !p.is_empty())
                    .map(|(_, p)| {
                        let n = p.len() as f64;
                        (
                            p.iter().map(|q| q.0).sum::<f64>() / n,
                            p.iter().map(|q| q.1).sum::<f64>() / n,
                        )
                    })
                    .collect();
                for w in centroids.windows(2) {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![w[0], w[1]],
                            BLACK.stroke_width(2),
                        )))
                        .map_err(e)?;
                    chart
                        .draw_series(std::iter::once(TriangleMarker::new(w[1], 5, BLACK.filled())))
                        .map_err(e)?;
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 12))
                    .draw()
                    .map_err(e)?;
            }
            _ => {
                let u = a.uniform_shift.as_ref();
                // Targets with a NaN shift (or distance) are left out as pairs.
                let (xs, ys): (Vec<f64>, Vec<f64>) = u
                    .map(|u| {
                        u.distances_deg
                            .iter()
                            .zip(&u.shifts)
                            .filter(|(x, y)| x.is_finite() && y.is_finite())
                            .map(|(x, y)| (*x, *y))
                            .unzip()
                    })
                    .unwrap_or_default();
                let (_, yr) = bounds(
                    xs.iter()
                        .zip(&ys)
                        .map(|(x, y)| (*x, *y))
                        .chain(std::iter::once((0.0, 0.0))),
                );
                let mut chart = ChartBuilder::on(area)
                    .margin(10)
                    .caption(
                        format!(
                            "uniform shift vs distance (slope p = {:.2}), θ_LW = {:.0}°",
                            u.map_or(f64::NAN, |u| u.fit.p_value),
                            a.shifts.as_ref().map_or(f64::NAN, |s| s.theta_lw_deg)
                        ),
                        ("sans-serif", 14),
                    )
                    .x_label_area_size(28)
                    .y_label_area_size(44)
                    .build_cartesian_2d(-10.0..190.0, yr)
                    .map_err(e)?;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_desc("distance from the trained target (deg)")
                    .y_desc("shift along the uniform axis")
                    .draw()
                    .map_err(e)?;
                chart
                    .draw_series(xs.iter().zip(&ys).map(|(x, y)| Circle::new((*x, *y), 5, BLUE.filled())))
                    .map_err(e)?;
                if let Some((m, c)) = u
                    .map(|u| (u.fit.slope, u.fit.intercept))
                    .filter(|(m, c)| m.is_finite() && c.is_finite())
                {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(0.0, c), (180.0, c + 180.0 * m)],
                            RED.stroke_width(2),
                        )))
                        .map_err(e)?;
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(-10.0, 0.0), (190.0, 0.0)],
                        BLACK.mix(0.4),
                    )))
                    .map_err(e)?;
            }
        }
    }
    root.present().map_err(e)
}
