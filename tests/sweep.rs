//! Sweeps: units expand from axes, run on the local backend, re-runs skip finished units, the Slurm
//! script is written, and a unit run alone gives the same numbers as in the sweep.

use std::path::{Path, PathBuf};
use std::process::Command;

use reachlab::scenarios::sweep::SweepSpec;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reachlab-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SWEEP: &str = r#"
name = "tiny"
base = "curl_field"
combine = "grid"
quick = true
[[axis]]
key = "policy.core.kind"
values = ["gru", "lstm"]
[[axis]]
key = "seed"
values = [0, 1]
"#;

fn train_agent(args: &[&str], extra: &[&Path]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_train_agent"));
    c.args(args);
    for p in extra {
        c.arg(p);
    }
    let out = c.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

/// `collected.md`'s row for each value of the setting `key` shows the mean of `measure` over the rows of
/// `collected.csv` with that value (the units of the group).
fn group_means_match_the_rows(out: &Path, key: &str, measure: &str) {
    let csv = std::fs::read_to_string(out.join("collected.csv")).unwrap();
    let md = std::fs::read_to_string(out.join("collected.md")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let (ki, mi) = (
        header.iter().position(|h| *h == key).unwrap(),
        header.iter().position(|h| *h == measure).unwrap(),
    );
    let md_header: Vec<&str> = md
        .lines()
        .find(|l| l.starts_with("| group"))
        .unwrap()
        .split('|')
        .map(str::trim)
        .collect();
    let mcol = md_header.iter().position(|h| *h == measure).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let mut values: Vec<&str> = rows.iter().map(|r| r[ki]).collect();
    values.dedup();
    for v in values {
        let xs: Vec<f64> = rows
            .iter()
            .filter(|r| r[ki] == v)
            .map(|r| r[mi].parse::<f64>().unwrap())
            .filter(|x| x.is_finite())
            .collect();
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {}={v} ", key.rsplit('.').next().unwrap())))
            .unwrap_or_else(|| panic!("no group {v} in {md}"));
        let cell = line.split('|').map(str::trim).nth(mcol).unwrap();
        if xs.is_empty() {
            assert!(cell.starts_with("NaN"), "{line}");
            continue;
        }
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let shown: f64 = cell.split_whitespace().next().unwrap().parse().unwrap();
        assert!(
            (shown - mean).abs() <= 5e-4,
            "{measure} of {v}: {shown} vs {mean} ({line})"
        );
    }
}

/// `dsa_angular.csv` under `out`: one row per unit, 0 on the diagonal, every score within [0, π].
fn dsa_angular_is_a_score_matrix(out: &Path, units: usize) {
    let text = std::fs::read_to_string(out.join("dsa_angular.csv")).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), units, "{text}");
    for (i, r) in rows.iter().enumerate() {
        assert!(r[i].abs() < 1e-3, "{text}");
        assert!(r.iter().all(|v| (0.0..=std::f64::consts::PI).contains(v)), "{text}");
    }
}

#[test]
fn a_local_sweep_runs_every_unit_once_and_matches_a_lone_unit() {
    let dir = tmp("local");
    let file = dir.join("tiny.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let units = SweepSpec::load(&file).unwrap().units(&file).unwrap();
    assert_eq!(units.len(), 4);
    assert_eq!(units[1].settings[1].1, toml::Value::Integer(1));
    assert!(matches!(
        &units[2].scenario,
        reachlab::scenarios::builtin::AnyScenario::Reaching(s) if s.policy.core.kind == reachlab::agents::CoreKind::Lstm
    ));

    let out = dir.join("out");
    let mut args = vec!["--backend", "local", "--jobs", "2", "--quiet", "--sweep"];
    let text = train_agent(&args, &[&file, Path::new("--out"), &out]);
    assert!(text.contains("4 units"), "{text}");
    let collected = std::fs::read_to_string(out.join("collected.csv")).unwrap();
    assert_eq!(collected.lines().count(), 5, "{collected}");
    assert!(collected.lines().next().unwrap().contains("policy.core.kind"));
    assert!(collected.lines().next().unwrap().contains("stable_prep_fixed_points"));
    // The SVCCA distance matrix between the 4 networks: zero diagonal, symmetric, in [0, 1].
    let svcca = std::fs::read_to_string(out.join("svcca_distance.csv")).unwrap();
    let m: Vec<Vec<f64>> = svcca
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(m.len(), 4);
    for (i, row) in m.iter().enumerate() {
        assert!(row[i].abs() < 1e-9, "{svcca}");
        for (j, &d) in row.iter().enumerate() {
            assert!((d - m[j][i]).abs() < 1e-9 && (0.0..=1.0).contains(&d), "{svcca}");
        }
    }
    // DSA's angular score between their dynamics, as task sweeps have it.
    dsa_angular_is_a_score_matrix(&out, 4);
    // The same collection as a task sweep's: groups by every setting but the seed, their MDS map.
    group_means_match_the_rows(&out, "policy.core.kind", "savings");
    assert!(out.join("figures/svcca_mds.png").is_file());

    // Re-running skips every finished unit (their folders are untouched).
    let stamp = std::fs::metadata(out.join("unit-0003/summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    train_agent(&args, &[&file, Path::new("--out"), &out]);
    assert_eq!(
        std::fs::metadata(out.join("unit-0003/summary.json"))
            .unwrap()
            .modified()
            .unwrap(),
        stamp
    );

    // Unit 3 alone, elsewhere: the same learning curve (timing columns aside).
    let alone = dir.join("alone");
    args = vec!["--unit", "3", "--quiet", "--sweep"];
    train_agent(&args, &[&file, Path::new("--out"), &alone]);
    let strip = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                // Drop wall_seconds (column 4) and env_steps_per_second (the last).
                f.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != 4 && *i != f.len() - 1)
                    .map(|(_, v)| *v)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    };
    assert_eq!(
        strip(&out.join("unit-0003/learning_curve.csv")),
        strip(&alone.join("unit-0003/learning_curve.csv"))
    );

    // The Slurm backend writes an array script over the same units.
    let slurm_out = dir.join("slurm");
    let text = train_agent(
        &["--backend", "slurm", "--dry-run", "--quiet", "--sweep"],
        &[&file, Path::new("--out"), &slurm_out],
    );
    assert!(text.contains("4 units"), "{text}");
    let script = std::fs::read_to_string(slurm_out.join("sweep.sbatch")).unwrap();
    assert!(
        script.contains("#SBATCH --array=0-3") && script.contains("--unit \"$SLURM_ARRAY_TASK_ID\""),
        "{script}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep over task networks: units are task runs, and `--collect` gathers their fixed points, the SVCCA
/// matrix and its MDS plot.
#[test]
fn a_task_sweep_collects_fixed_points_and_svcca() {
    let dir = tmp("tasks");
    let file = dir.join("ff.toml");
    std::fs::write(
        &file,
        r#"
name = "ff"
base = "flipflop"
quick = true
[[axis]]
key = "policy.core.kind"
values = ["vanilla", "lstm"]
[[axis]]
key = "seed"
values = [0, 1]
"#,
    )
    .unwrap();
    let out = dir.join("out");
    let text = train_agent(
        &["--backend", "local", "--quiet", "--sweep"],
        &[&file, Path::new("--out"), &out],
    );
    assert!(text.contains("4 units"), "{text}");
    let collected = std::fs::read_to_string(out.join("collected.csv")).unwrap();
    assert_eq!(collected.lines().count(), 5, "{collected}");
    let header = collected.lines().next().unwrap();
    assert!(
        header.contains("stable_fixed_points") && header.contains("mean_perf"),
        "{header}"
    );
    assert!(
        collected.lines().nth(1).unwrap().starts_with("0,vanilla,0,"),
        "{collected}"
    );
    let md = std::fs::read_to_string(out.join("collected.md")).unwrap();
    assert!(
        md.contains("kind=vanilla") && md.contains("kind=lstm") && md.contains("SVCCA"),
        "{md}"
    );
    let svcca = std::fs::read_to_string(out.join("svcca_distance.csv")).unwrap();
    assert_eq!(svcca.lines().count(), 5, "{svcca}");
    assert!(out.join("figures/svcca_mds.png").is_file());
    dsa_angular_is_a_score_matrix(&out, 4);
    group_means_match_the_rows(&out, "policy.core.kind", "mean_perf");
    group_means_match_the_rows(&out, "policy.core.kind", "stable_fixed_points");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sweep_axis_with_a_typo_is_refused_with_a_suggestion() {
    let dir = tmp("typo");
    let file = dir.join("bad.toml");
    std::fs::write(&file, SWEEP.replace("policy.core.kind", "policy.core.knd")).unwrap();
    let err = SweepSpec::load(&file).unwrap().units(&file).unwrap_err().to_string();
    assert!(
        err.contains("policy.core.knd") && err.contains("did you mean `kind`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sweep_over_a_comparison_scenario_is_refused() {
    let dir = tmp("compare-base");
    let file = dir.join("s.toml");
    std::fs::write(
        &file,
        SWEEP.replace("base = \"curl_field\"", "base = \"curl_field_compare\""),
    )
    .unwrap();
    let err = SweepSpec::load(&file).unwrap().units(&file).unwrap_err().to_string();
    assert!(err.contains("[compare]") && err.contains("base"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn slurm_without_sbatch_says_what_to_do() {
    let dir = tmp("nosbatch");
    let file = dir.join("tiny.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let empty = dir.join("bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .args(["--backend", "slurm", "--sweep"])
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .env("PATH", &empty)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("sbatch") && err.contains("sweep.sbatch") && err.contains("--dry-run"),
        "{err}"
    );
    assert!(dir.join("out/sweep.sbatch").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
