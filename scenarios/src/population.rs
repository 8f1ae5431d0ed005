//! A sweep's units collected as a population (Maheswaranathan et al. 2019), for every kind of scenario:
//! each unit's measures ([`Experiment::measures`]), the SVCCA and DSA distances between every pair of
//! networks on the same conditions ([`Experiment::states`], [`crate::pairwise`]), their MDS embedding,
//! and the measures per group of units (every setting but the seed).
//!
//! [`Experiment::measures`]: crate::experiment::Experiment::measures
//! [`Experiment::states`]: crate::experiment::Experiment::states

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use reachlab_analysis::faer::Mat;

use crate::builtin::AnyScenario;
use crate::collection::{summary_cell, Collected, Collection};
use crate::error::{Result, ScenarioError};
use crate::experiment::UnitStates;
use crate::manifest::{finished_in, Manifest, ManifestUnit};
use crate::plots::PALETTE;
use crate::units::Unit;

/// What the population reads of a finished unit of the sweep.
struct Finished<'a> {
    unit: &'a ManifestUnit,
    scenario: AnyScenario,
    /// Its measures, (name, value).
    measures: Vec<(String, f64)>,
}

/// Gathers the sweep in `out` (its units listed in `out/manifest.json`): `collected.csv` (each finished
/// unit's settings and measures), `collected.md` (per group: units, mean ± s.e.m. of each measure; the
/// distances within and between groups), `svcca_distance.csv`, `dsa_angular.csv` (DSA's default score),
/// `dsa_distance.csv` (Euclidean, unit-norm operators) and `figures/svcca_mds.{png,svg}`. Returns the
/// units that have not finished, with their logs.
pub fn collect(out: &Path) -> Result<Vec<(usize, PathBuf)>> {
    let mpath = out.join("manifest.json");
    let text = std::fs::read_to_string(&mpath).map_err(|e| ScenarioError::io(&mpath, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| ScenarioError::output(&mpath, e))?;
    let mut missing = Vec::new();
    let mut finished = Vec::new();
    for u in &manifest.units {
        if finished_in(&u.dir) {
            finished.push(u);
        } else {
            missing.push((u.index, out.join("logs").join(format!("unit-{}.log", u.index))));
        }
    }
    // The sweep's units as a collection grouped by every setting but the seed (the group is the arm).
    let grouped: Vec<Unit> = finished
        .iter()
        .map(|u| Unit {
            arm: group(u),
            seed: seed_of(u),
            dir: u.dir.clone(),
        })
        .collect();
    let records = finished
        .iter()
        .map(|&unit| {
            let scenario = AnyScenario::load(&unit.dir.join("scenario.toml"))?;
            Ok(Finished {
                unit,
                measures: scenario.experiment().measures(&unit.dir)?,
                scenario,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let done = Collection::of(&grouped, records);
    let names: Vec<String> = done
        .units()
        .first()
        .map(|f| f.record.measures.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    write_csv(out, &manifest, &names, &done)?;

    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", manifest.sweep);
    let _ = writeln!(
        md,
        "Mean ± s.e.m. over the finished units of each group (every setting but the seed), over the units where the measure is defined: \"(k of n)\" when that is not all of them.\n"
    );
    let _ = writeln!(md, "| group | units | {} |", names.join(" | "));
    let _ = writeln!(md, "|---|---|{}", "---|".repeat(names.len()));
    for g in done.arms() {
        let cells: Vec<String> = (0..names.len())
            .map(|k| summary_cell(&done.values_by(g, |f| f.measures.get(k).map_or(f64::NAN, |x| x.1))))
            .collect();
        let _ = writeln!(md, "| {g} | {} | {} |", done.of_arm(g).count(), cells.join(" | "));
    }

    // The networks, on the same conditions.
    let mut nets: Vec<(&Collected<Finished>, UnitStates)> = Vec::new();
    for f in done.units() {
        if let Some(st) = f.record.scenario.experiment().states(&f.dir)? {
            nets.push((f, st));
        }
    }
    let states: Vec<&Mat<f64>> = nets.iter().map(|(_, st)| &st.states).collect();
    let operators: Vec<Option<Mat<f64>>> = nets.iter().map(|(_, st)| st.operator.clone()).collect();
    let pairs = crate::pairwise::pairwise(&states, &operators);
    pairs.write(out, &nets.iter().map(|(f, _)| f.record.unit.index).collect::<Vec<_>>())?;
    let n = nets.len();
    let labels: Vec<&str> = nets.iter().map(|(f, _)| f.arm.as_str()).collect();
    let _ = writeln!(
        md,
        "\n{}",
        within_between(
            "SVCCA distance (1 − mean of the top-10 canonical correlations, hidden states on the same conditions)",
            &pairs.svcca,
            &labels
        )
    );
    let _ = writeln!(
        md,
        "\n{}",
        within_between(
            "DSA angular score (DSA's default: arccos of the alignment of the unit-norm operators at the best orthogonal C, radians; whitened Hankel DMD, 10 delays, rank 10, same conditions)",
            &pairs.dsa_angular,
            &labels
        )
    );
    if n >= 2 && pairs.svcca.iter().all(|v| v.is_finite()) {
        let xy = reachlab_analysis::classical_mds(&pairs.svcca, n, 2).map_err(|e| ScenarioError::output(out, e))?;
        let pts: Vec<(String, f64, f64)> = (0..n)
            .map(|i| (labels[i].to_string(), xy[2 * i], xy[2 * i + 1]))
            .collect();
        let figs = out.join("figures");
        std::fs::create_dir_all(&figs).map_err(|e| ScenarioError::io(&figs, e))?;
        crate::plots::register();
        let png = figs.join("svcca_mds.png");
        mds(
            BitMapBackend::new(&png, (700, 600)).into_drawing_area(),
            &pts,
            done.arms(),
        )
        .map_err(|e| ScenarioError::output(&png, e))?;
        let svg = figs.join("svcca_mds.svg");
        mds(SVGBackend::new(&svg, (700, 600)).into_drawing_area(), &pts, done.arms())
            .map_err(|e| ScenarioError::output(&svg, e))?;
    }
    let mdp = out.join("collected.md");
    std::fs::write(&mdp, md).map_err(|e| ScenarioError::io(&mdp, e))?;
    Ok(missing)
}

/// `collected.csv`: a row per finished unit, its settings then its measures (NaN written as `NaN`).
fn write_csv(out: &Path, manifest: &Manifest, names: &[String], done: &Collection<Finished>) -> Result<()> {
    let path = out.join("collected.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| ScenarioError::output(&path, e))?;
    let mut header = vec!["unit".to_string()];
    if let Some(u) = manifest.units.first() {
        header.extend(u.settings.iter().map(|(k, _)| k.clone()));
    }
    header.extend(names.iter().cloned());
    w.write_record(&header).map_err(|e| ScenarioError::output(&path, e))?;
    for f in done.units().iter().map(|u| &u.record) {
        let mut rec = vec![f.unit.index.to_string()];
        rec.extend(f.unit.settings.iter().map(|(_, v)| v.clone()));
        rec.extend(f.measures.iter().map(|(_, v)| v.to_string()));
        w.write_record(&rec).map_err(|e| ScenarioError::output(&path, e))?;
    }
    w.flush().map_err(|e| ScenarioError::io(&path, e))
}

/// A unit's seed: its `seed` setting where the sweep has that axis, else its index in the sweep (the
/// population reads it nowhere; it names the unit).
fn seed_of(u: &ManifestUnit) -> u64 {
    u.settings
        .iter()
        .find(|(k, _)| k == "seed")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(u.index as u64)
}

/// A unit's group: every setting but the seed (`key=value`, the key's last part), or `all`.
fn group(u: &ManifestUnit) -> String {
    let g: Vec<String> = u
        .settings
        .iter()
        .filter(|(k, _)| k != "seed")
        .map(|(k, v)| format!("{}={}", k.rsplit('.').next().unwrap_or(k), v.trim_matches('"')))
        .collect();
    if g.is_empty() {
        "all".into()
    } else {
        g.join(", ")
    }
}

/// "`what`: within groups m (n = ·), between groups m (n = ·)." over the finite entries above the
/// diagonal of the `labels.len()`-square matrix `d` (networks cluster by architecture, Maheswaranathan et
/// al.).
fn within_between(what: &str, d: &[f64], labels: &[&str]) -> String {
    let n = labels.len();
    let (mut within, mut between) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in i + 1..n {
            let v = d[i * n + j];
            if v.is_finite() {
                if labels[i] == labels[j] {
                    within.push(v);
                } else {
                    between.push(v);
                }
            }
        }
    }
    // No pair in a class: NaN, not 0.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    format!(
        "{what}: within groups {:.3} (n = {}), between groups {:.3} (n = {}).",
        mean(&within),
        within.len(),
        mean(&between),
        between.len()
    )
}
fn mds<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    pts: &[(String, f64, f64)],
    groups: &[String],
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let lim = pts.iter().map(|p| p.1.abs().max(p.2.abs())).fold(1e-6, f64::max) * 1.2;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .caption("SVCCA distances between networks (MDS)", ("sans-serif", 20))
        .build_cartesian_2d(-lim..lim, -lim..lim)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("MDS 1")
        .y_desc("MDS 2")
        .disable_mesh()
        .draw()
        .map_err(e)?;
    for (gi, g) in groups.iter().enumerate() {
        let c = PALETTE[gi % PALETTE.len()];
        chart
            .draw_series(
                pts.iter()
                    .filter(|p| &p.0 == g)
                    .map(|p| Circle::new((p.1, p.2), 6, c.filled())),
            )
            .map_err(e)?
            .label(g.clone())
            .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::within_between;

    #[test]
    fn within_and_between_groups_average_the_right_pairs() {
        // Networks a0, a1 (group a) and b0: within = d(a0, a1), between = mean of d(a0, b0), d(a1, b0);
        // the lower triangle and the diagonal are never read.
        let d = [0.0, 0.2, 0.6, 9.0, 0.0, 0.8, 9.0, 9.0, 0.0];
        let s = within_between("d", &d, &["a", "a", "b"]);
        assert_eq!(s, "d: within groups 0.200 (n = 1), between groups 0.700 (n = 2).");
        // One group: no pair between groups is NaN, not 0; a NaN pair is left out.
        let d = [0.0, 0.4, f64::NAN, 9.0, 0.0, 0.6, 9.0, 9.0, 0.0];
        assert_eq!(
            within_between("d", &d, &["a", "a", "a"]),
            "d: within groups 0.500 (n = 2), between groups NaN (n = 0)."
        );
    }
}
