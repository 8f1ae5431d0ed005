//! Figures over seeds (`figures/seeds.{png,svg}` of a multi-seed or comparison experiment): the trained
//! target's error through the phases (mean and 95 % CI band per arm, each seed a thin line), the uniform
//! shift against the distance from the trained target (each seed a point, mean ± CI), and θ_LW per arm
//! (each seed a point, mean ± CI).

use std::collections::BTreeMap;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use reachlab_analysis::stats::{mean_ci, MeanCi};

use crate::error::{Result, ScenarioError};
use crate::plots::PALETTE;
use crate::reaching::behaviour_figures::Draw;
use crate::reaching::findings::SeedMeasures;
use crate::rows::EvalRow;

/// One arm: its name, and per seed its evaluation blocks and measures.
pub struct ArmSeeds {
    pub name: String,
    pub evals: Vec<Vec<EvalRow>>,
    pub measures: Vec<SeedMeasures>,
}

/// Draws `dir/figures/seeds.{png,svg}`; `stages` are the phases shown in order (pretraining left out).
pub fn draw(dir: &Path, arms: &[ArmSeeds], stages: &[String]) -> Result<()> {
    crate::plots::register();
    let figs = dir.join("figures");
    std::fs::create_dir_all(&figs).map_err(|e| ScenarioError::io(&figs, e))?;
    let png = figs.join("seeds.png");
    panels(BitMapBackend::new(&png, (1650, 520)).into_drawing_area(), arms, stages)
        .map_err(|e| ScenarioError::output(&png, e))?;
    let svg = figs.join("seeds.svg");
    panels(SVGBackend::new(&svg, (1650, 520)).into_drawing_area(), arms, stages)
        .map_err(|e| ScenarioError::output(&svg, e))
}

fn finite_range(v: impl Iterator<Item = f64>, pad: f64) -> std::ops::Range<f64> {
    let (lo, hi) = v
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if lo.is_finite() && hi > lo {
        let m = (hi - lo) * pad;
        lo - m..hi + m
    } else if lo.is_finite() {
        lo - 1.0..lo + 1.0
    } else {
        0.0..1.0
    }
}

/// x of each (stage index, stage update) block.
type BlockX = BTreeMap<(usize, usize), f64>;
/// A stage's name and its x span.
type Span = (String, f64, f64);

/// x position of every (stage, stage update) block: stages side by side, each as wide as its longest seed.
fn block_x(arms: &[ArmSeeds], stages: &[String]) -> (BlockX, Vec<Span>) {
    let mut x = BTreeMap::new();
    let mut spans = Vec::new();
    let mut offset = 0.0;
    for (k, st) in stages.iter().enumerate() {
        let width = arms
            .iter()
            .flat_map(|a| a.evals.iter().flatten())
            .filter(|r| &r.stage == st)
            .map(|r| r.stage_update)
            .max()
            .unwrap_or(0) as f64;
        for r in arms
            .iter()
            .flat_map(|a| a.evals.iter().flatten())
            .filter(|r| &r.stage == st)
        {
            x.insert((k, r.stage_update), offset + r.stage_update as f64);
        }
        spans.push((st.clone(), offset, offset + width));
        offset += width.max(1.0);
    }
    // A gap between stages (2 % of the whole), so that no line bridges two stages.
    let gap = offset * 0.02;
    for (k, span) in spans.iter_mut().enumerate() {
        span.1 += gap * k as f64;
        span.2 += gap * k as f64;
    }
    for ((k, _), v) in x.iter_mut() {
        *v += gap * *k as f64;
    }
    (x, spans)
}

fn panels<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, arms: &[ArmSeeds], stages: &[String]) -> Draw {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let areas = root.split_evenly((1, 3));
    let n: usize = arms.iter().map(|a| a.measures.len()).max().unwrap_or(0);

    // 1. The trained target's MPD per evaluation block.
    let (xs, spans) = block_x(arms, stages);
    let stage_of = |s: &str| stages.iter().position(|x| x == s);
    let all_y = arms
        .iter()
        .flat_map(|a| a.evals.iter().flatten())
        .map(|r| r.mpd_trained_cm);
    let xmax = spans.last().map_or(1.0, |s| s.2.max(1.0));
    let mut chart = ChartBuilder::on(&areas[0])
        .margin(10)
        .caption(
            format!("trained target: signed MPD per evaluation block, mean and 95% CI over {n} seeds"),
            ("sans-serif", 14),
        )
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(0.0..xmax, finite_range(all_y, 0.05))
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("updates (stages side by side)")
        .y_desc("MPD (cm)")
        .draw()
        .map_err(e)?;
    let yr = chart.y_range();
    for (i, (name, a, b)) in spans.iter().enumerate() {
        let c = crate::reaching::behaviour_figures::STAGE_COLOURS[(i + 1) % 5].mix(0.15);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(*a, yr.start), (*b, yr.end)],
                c.filled(),
            )))
            .map_err(e)?;
        // Labels alternate between two rows, so that a short stage's does not cover the next one's.
        let row = if i % 2 == 0 { 0.04 } else { 0.09 };
        chart
            .draw_series(std::iter::once(Text::new(
                name.clone(),
                (*a + 1.0, yr.end - (yr.end - yr.start) * row),
                ("sans-serif", 12),
            )))
            .map_err(e)?;
    }
    for (ai, arm) in arms.iter().enumerate() {
        let c = PALETTE[ai % PALETTE.len()];
        let mut at: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
        for seed in &arm.evals {
            for r in seed {
                if let Some(k) = stage_of(&r.stage) {
                    at.entry((k, r.stage_update)).or_default().push(r.mpd_trained_cm);
                }
            }
            for k in 0..stages.len() {
                let pts: Vec<(f64, f64)> = seed
                    .iter()
                    .filter(|r| stage_of(&r.stage) == Some(k))
                    .map(|r| (xs[&(k, r.stage_update)], r.mpd_trained_cm))
                    .collect();
                for seg in crate::reaching::behaviour_figures::segments(pts) {
                    chart
                        .draw_series(std::iter::once(PathElement::new(seg, c.mix(0.25).stroke_width(1))))
                        .map_err(e)?;
                }
            }
        }
        let stats: Vec<(f64, f64, f64, f64)> = at
            .iter()
            .map(|(k, v)| {
                let m = mean_ci(v, 0.95);
                (xs[k], m.mean, m.ci_low, m.ci_high)
            })
            .collect();
        // The band stage by stage, so that it does not bridge the gaps between stages.
        for (k, span) in spans.iter().enumerate() {
            let part: Vec<&(f64, f64, f64, f64)> = stats
                .iter()
                .filter(|s| span.1 <= s.0 && s.0 <= span.2 && s.2.is_finite())
                .collect();
            if part.len() > 1 {
                let mut poly: Vec<(f64, f64)> = part.iter().map(|s| (s.0, s.2)).collect();
                poly.extend(part.iter().rev().map(|s| (s.0, s.3)));
                chart
                    .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.25).filled())))
                    .map_err(e)?;
            }
            let line: Vec<(f64, f64)> = stats
                .iter()
                .filter(|s| span.1 <= s.0 && s.0 <= span.2)
                .map(|s| (s.0, s.1))
                .collect();
            let series = chart
                .draw_series(std::iter::once(PathElement::new(line, c.stroke_width(2))))
                .map_err(e)?;
            if k == 0 {
                series
                    .label(arm.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
            }
        }
    }
    if arms.len() > 1 {
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(e)?;
    }

    // 2. The split-half uniform shift against distance.
    let dist_y = arms
        .iter()
        .flat_map(|a| a.measures.iter().flat_map(|m| m.uniform_shifts.iter().copied()));
    let mut chart = ChartBuilder::on(&areas[1])
        .margin(10)
        .caption(
            "uniform shift (split halves) vs distance from the trained target",
            ("sans-serif", 14),
        )
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(-15.0..195.0, finite_range(dist_y.chain([0.0]), 0.08))
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("angular distance (degrees); each dot a seed, bars mean ± 95% CI")
        .y_desc("shift along the uniform axis")
        .draw()
        .map_err(e)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-15.0, 0.0), (195.0, 0.0)],
            BLACK.mix(0.4),
        )))
        .map_err(e)?;
    for (ai, arm) in arms.iter().enumerate() {
        let c = PALETTE[ai % PALETTE.len()];
        let dx = (ai as f64 - (arms.len() as f64 - 1.0) / 2.0) * 6.0;
        let mut by_d: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for (si, m) in arm.measures.iter().enumerate() {
            let mut seen: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for (s, d) in m.uniform_shifts.iter().zip(&m.distances_deg) {
                if s.is_finite() {
                    seen.entry(d.round() as i64).or_default().push(*s);
                }
            }
            for (d, v) in seen {
                // A seed's value at a distance is the mean of its targets there (two at 45°, 90°, 135°).
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                by_d.entry(d).or_default().push(mean);
                let jitter = dx + (si as f64 - n as f64 / 2.0) * 0.6;
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (d as f64 + jitter, mean),
                        3,
                        c.mix(0.5).filled(),
                    )))
                    .map_err(e)?;
            }
        }
        for (d, v) in by_d {
            let m = mean_ci(&v, 0.95);
            let x = d as f64 + dx;
            ci_bar(&mut chart, x, &m, c)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 4.0, m.mean), (x + 4.0, m.mean)],
                    c.stroke_width(3),
                )))
                .map_err(e)?;
        }
    }

    // 3. θ_LW per arm.
    let cis: Vec<f64> = arms
        .iter()
        .flat_map(|a| {
            let m = mean_ci(&a.measures.iter().map(|m| m.theta_lw_deg).collect::<Vec<_>>(), 0.95);
            [m.ci_low, m.ci_high]
        })
        .collect();
    let thetas = arms.iter().flat_map(|a| a.measures.iter().map(|m| m.theta_lw_deg));
    let yr = finite_range(thetas.chain(cis).chain([90.0, 180.0]), 0.08);
    let mut chart = ChartBuilder::on(&areas[2])
        .margin(10)
        .caption("θ_LW, angle between learning and washout shifts", ("sans-serif", 14))
        .x_label_area_size(30)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5..(arms.len() as f64 - 0.5), yr)
        .map_err(e)?;
    let names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(arms.len().max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("degrees (90: orthogonal, 180: reversal)")
        .draw()
        .map_err(e)?;
    for level in [90.0, 180.0] {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, level), (arms.len() as f64 - 0.5, level)],
                BLACK.mix(0.4),
            )))
            .map_err(e)?;
    }
    for (ai, arm) in arms.iter().enumerate() {
        let c = PALETTE[ai % PALETTE.len()];
        let v: Vec<f64> = arm.measures.iter().map(|m| m.theta_lw_deg).collect();
        for (si, t) in v.iter().enumerate() {
            let x = ai as f64 - 0.1 + (si as f64 - n as f64 / 2.0) * 0.02;
            if t.is_finite() {
                chart
                    .draw_series(std::iter::once(Circle::new((x, *t), 4, c.mix(0.5).filled())))
                    .map_err(e)?;
            }
        }
        let m = mean_ci(&v, 0.95);
        let x = ai as f64 + 0.1;
        ci_bar(&mut chart, x, &m, c)?;
        chart
            .draw_series(std::iter::once(Circle::new((x, m.mean), 5, c.filled())))
            .map_err(e)?;
    }
    root.present().map_err(e)
}

/// A vertical 95 % CI bar at `x` (nothing when the interval is undefined).
fn ci_bar<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    x: f64,
    m: &MeanCi,
    c: RGBColor,
) -> Draw {
    if m.ci_low.is_finite() {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, m.ci_low), (x, m.ci_high)],
                c.stroke_width(2),
            )))
            .map_err(|x| x.to_string())?;
    }
    Ok(())
}
