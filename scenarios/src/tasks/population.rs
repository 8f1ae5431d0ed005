//! A sweep of task networks collected as a population (Maheswaranathan et al. 2019): per-unit results,
//! the fixed-point counts per architecture, the SVCCA distances between every pair of networks on the
//! same evaluation trials, and their MDS embedding.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plots::PALETTE;
use reachlab_analysis::faer::Mat;

use super::analysis::states;
use super::config::eval_batch;
use super::config::TaskScenario;
use super::results::UnitResult;
use crate::error::{Result, ScenarioError};
use crate::manifest::{finished_in, Manifest, ManifestUnit};

/// The hidden states (`h` only) of a finished unit on the first task's evaluation trials: `[T·B × H]`
/// (time-major), and the trial count B.
fn unit_states(dir: &Path) -> Result<Option<(Mat<f64>, usize)>> {
    let spath = dir.join("scenario.toml");
    let Ok(text) = std::fs::read_to_string(&spath) else {
        return Ok(None);
    };
    let s = TaskScenario::from_toml(&text, &spath)?;
    let set = s.tasks.task_set()?;
    let (policy, _) = reachlab_agents::load_checkpoint(&dir.join("checkpoints").join("latest"))?;
    let b = eval_batch(&set, 0, s.training.eval_trials_per_task)?;
    let (st, sw) = states(&policy, &b)?;
    let h = policy.hidden();
    let rows = st.len() / sw;
    Ok(Some((Mat::from_fn(rows, h, |r, j| f64::from(st[r * sw + j])), b.batch)))
}

/// The DSA operator of a unit: Hankel DMD (10 delays, rank 10) over its first 32 evaluation trials.
fn unit_operator(states: &Mat<f64>, trials: usize) -> Option<Mat<f64>> {
    let steps = states.nrows() / trials.max(1);
    let per: Vec<Mat<f64>> = (0..trials.min(32))
        .map(|b| Mat::from_fn(steps, states.ncols(), |t, j| states[(t * trials + b, j)]))
        .collect();
    let refs: Vec<_> = per.iter().map(|m| m.as_ref()).collect();
    let cfg = reachlab_analysis::DsaConfig::default();
    reachlab_analysis::dmd_operator(&refs, cfg.n_delays, cfg.rank, 1e-6).ok()
}

/// Gathers a task sweep: `collected.csv`, `collected.md` (per setting other than the seed: performance
/// and fixed points), `svcca_distance.csv`, `dsa_angular.csv` (DSA's default score), `dsa_distance.csv`
/// (Euclidean, unit-norm operators) and `figures/svcca_mds.{png,svg}`. Returns the units that
/// have not finished, with their logs.
pub fn collect_tasks(out: &Path, manifest: &Manifest) -> Result<Vec<(usize, PathBuf)>> {
    let path = out.join("collected.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| ScenarioError::output(&path, e))?;
    let mut header = vec!["unit".to_string()];
    if let Some(u) = manifest.units.first() {
        header.extend(u.settings.iter().map(|(k, _)| k.clone()));
    }
    for c in [
        "mean_perf",
        "min_perf",
        "steps_to_criterion",
        "wall_seconds",
        "stable_fixed_points",
        "saddles",
        "slow_points",
        "distinct_readout_signs",
    ] {
        header.push(c.into());
    }
    w.write_record(&header).map_err(|e| ScenarioError::output(&path, e))?;
    let mut missing = Vec::new();
    let mut done: Vec<(&ManifestUnit, UnitResult)> = Vec::new();
    for u in &manifest.units {
        let rpath = u.dir.join("result.json");
        if !finished_in(&u.dir) || !rpath.is_file() {
            missing.push((u.index, out.join("logs").join(format!("unit-{}.log", u.index))));
            continue;
        }
        let text = std::fs::read_to_string(&rpath).map_err(|e| ScenarioError::io(&rpath, e))?;
        let r: UnitResult = serde_json::from_str(&text).map_err(|e| ScenarioError::output(&rpath, e))?;
        let f = r.analysis.fixed_points.as_ref();
        let mut rec = vec![u.index.to_string()];
        rec.extend(u.settings.iter().map(|(_, v)| v.clone()));
        let opt = |v: Option<usize>| v.map_or(String::new(), |x| x.to_string());
        rec.extend([
            r.mean_perf.to_string(),
            r.min_perf.to_string(),
            opt(r.steps_to_criterion),
            format!("{:.1}", r.wall_seconds),
            opt(f.map(|f| f.stable)),
            opt(f.map(|f| f.saddles.iter().sum())),
            opt(f.map(|f| f.slow)),
            opt(f.map(|f| f.distinct_readout_signs)),
        ]);
        w.write_record(&rec).map_err(|e| ScenarioError::output(&path, e))?;
        done.push((u, r));
    }
    w.flush().map_err(|e| ScenarioError::io(&path, e))?;
    // Groups: every setting but the seed.
    let group = |u: &ManifestUnit| -> String {
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
    };
    let mut groups: Vec<String> = Vec::new();
    for (u, _) in &done {
        let g = group(u);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", manifest.sweep);
    let _ = writeln!(
        md,
        "| group | units | mean perf | stable fixed points per unit | saddles per unit (1, 2, 3+ unstable modes, summed) | units with one stable point per memory sign |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for g in &groups {
        let rs: Vec<&UnitResult> = done.iter().filter(|(u, _)| &group(u) == g).map(|(_, r)| r).collect();
        let perf = rs.iter().map(|r| r.mean_perf).sum::<f64>() / rs.len() as f64;
        let stable: Vec<String> = rs
            .iter()
            .map(|r| {
                r.analysis
                    .fixed_points
                    .as_ref()
                    .map_or("—".into(), |f| f.stable.to_string())
            })
            .collect();
        let mut sad = [0usize; 3];
        for r in &rs {
            if let Some(f) = &r.analysis.fixed_points {
                for (k, n) in f.saddles.iter().enumerate() {
                    sad[k.min(2)] += n;
                }
            }
        }
        let matched = rs
            .iter()
            .filter(|r| {
                r.analysis
                    .fixed_points
                    .as_ref()
                    .is_some_and(|f| f.stable == f.distinct_readout_signs && f.stable > 0)
            })
            .count();
        let _ = writeln!(
            md,
            "| {g} | {} | {perf:.3} | {} | {}, {}, {} | {matched}/{} |",
            rs.len(),
            stable.join(", "),
            sad[0],
            sad[1],
            sad[2],
            rs.len()
        );
    }
    // SVCCA between every pair of networks on the same trials.
    let mut mats = Vec::new();
    for (u, _) in &done {
        if let Some((m, trials)) = unit_states(&u.dir)? {
            let op = unit_operator(&m, trials);
            mats.push((u.index, group(u), m, op));
        }
    }
    let n = mats.len();
    let states: Vec<&Mat<f64>> = mats.iter().map(|m| &m.2).collect();
    let operators: Vec<Option<Mat<f64>>> = mats.iter().map(|m| m.3.clone()).collect();
    let pairs = crate::pairwise::pairwise(&states, &operators);
    pairs.write(out, &mats.iter().map(|m| m.0).collect::<Vec<_>>())?;
    let (d, dsa) = (&pairs.svcca, &pairs.dsa_angular);
    if n >= 2 && d.iter().all(|v| v.is_finite()) {
        // Within- vs between-group distances: networks cluster by architecture (Maheswaranathan et al.).
        let (mut within, mut between) = (Vec::new(), Vec::new());
        for i in 0..n {
            for j in i + 1..n {
                if mats[i].1 == mats[j].1 {
                    within.push(d[i * n + j]);
                } else {
                    between.push(d[i * n + j]);
                }
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (mut dw, mut db) = (Vec::new(), Vec::new());
        for i in 0..n {
            for j in i + 1..n {
                let v = dsa[i * n + j];
                if v.is_finite() {
                    if mats[i].1 == mats[j].1 {
                        dw.push(v);
                    } else {
                        db.push(v);
                    }
                }
            }
        }
        let _ = writeln!(
            md,
            "\nSVCCA distance (1 − mean of the top-10 canonical correlations, hidden states on the same evaluation trials): within groups {:.3} (n = {}), between groups {:.3} (n = {}).",
            mean(&within),
            within.len(),
            mean(&between),
            between.len()
        );
        let _ = writeln!(
            md,
            "\nDSA angular score (DSA's default: arccos of the alignment of the unit-norm operators at the best orthogonal C, radians; whitened Hankel DMD, 10 delays, rank 10, same trials): within groups {:.3} (n = {}), between groups {:.3} (n = {}).",
            mean(&dw),
            dw.len(),
            mean(&db),
            db.len()
        );
        let xy = reachlab_analysis::classical_mds(d, n, 2).map_err(|e| ScenarioError::output(out, e))?;
        let pts: Vec<(String, f64, f64)> = (0..n).map(|i| (mats[i].1.clone(), xy[2 * i], xy[2 * i + 1])).collect();
        let figs = out.join("figures");
        std::fs::create_dir_all(&figs).map_err(|e| ScenarioError::io(&figs, e))?;
        crate::plots::register();
        let png = figs.join("svcca_mds.png");
        mds(BitMapBackend::new(&png, (700, 600)).into_drawing_area(), &pts, &groups)
            .map_err(|e| ScenarioError::output(&png, e))?;
        let svg = figs.join("svcca_mds.svg");
        mds(SVGBackend::new(&svg, (700, 600)).into_drawing_area(), &pts, &groups)
            .map_err(|e| ScenarioError::output(&svg, e))?;
    }
    let mdp = out.join("collected.md");
    std::fs::write(&mdp, md).map_err(|e| ScenarioError::io(&mdp, e))?;
    Ok(missing)
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
