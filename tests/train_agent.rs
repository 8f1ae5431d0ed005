//! `train_agent --quick` end to end, and a killed run resumed with no CSV row lost or doubled.

use std::path::{Path, PathBuf};
use std::process::Command;

use reachlab::scenarios::{builtin, CurveRow, Observer, Run, ScenarioError};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reachlab-run-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn header(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().next().unwrap().split(',').map(String::from).collect()
}

#[test]
fn quick_run_writes_every_output() {
    let dir = tmp("quick");
    let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .args(["--scenario", "curl_field", "--quick", "--quiet", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("relearning") && text.contains("savings"), "{text}");
    for f in [
        "scenario.toml",
        "learning_curve.csv",
        "trials.csv",
        "evaluations.csv",
        "summary.json",
        "progress.json",
        "figures/learning_curve.png",
        "figures/learning_curve.svg",
        "figures/hand_paths.png",
        "figures/hand_paths.svg",
        "figures/analysis.png",
        "figures/analysis.svg",
        "recordings/baseline_late.safetensors",
        "recordings/washout_early.safetensors",
        "checkpoints/relearning/weights.safetensors",
        "checkpoints/latest/optimizer.safetensors",
    ] {
        assert!(dir.join(f).is_file(), "missing {f}");
    }
    // Every fixed and slow point of the preparatory dynamics, per recorded stage and target, for Python.
    let fp = candle_core::safetensors::load(
        dir.join("fixed_points/baseline_target0.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let (k, width) = fp["states"].dims2().unwrap();
    assert!(
        k > 0 && width == 32,
        "{k} points of width {width} (the quick GRU has 32 units)"
    );
    assert_eq!(fp["q"].dims1().unwrap(), k);
    assert_eq!(fp["eigenvalues_re"].dims2().unwrap(), (k, width));
    let h = header(&dir.join("learning_curve.csv"));
    for col in [
        "stage",
        "update",
        "env_steps",
        "wall_seconds",
        "mean_return",
        "success_rate",
        "mpd_trained_cm",
        "approx_kl",
    ] {
        assert!(h.iter().any(|c| c == col), "learning_curve.csv lacks {col}: {h:?}");
    }
    let curve = std::fs::read_to_string(dir.join("learning_curve.csv")).unwrap();
    assert_eq!(curve.lines().count(), 1 + 5 * 3, "3 updates in each of 5 stages");
    let h = header(&dir.join("trials.csv"));
    for col in [
        "stage",
        "block",
        "target",
        "trial_type",
        "steps",
        "mpd_cm",
        "curvature",
        "reach_time_s",
        "peak_speed_m_per_s",
        "speed_peaks",
        "minjerk_corr",
        "endpoint_error_cm",
        "hold_drift_cm",
        "peak_force_n",
    ] {
        assert!(h.iter().any(|c| c == col), "trials.csv lacks {col}: {h:?}");
    }
    // 5 stages × 3 evaluation blocks (start, after 2 updates, end) × 8 targets × (1 normal + 1 channel).
    let trials = std::fs::read_to_string(dir.join("trials.csv")).unwrap();
    assert_eq!(trials.lines().count(), 1 + 5 * 3 * 8 * 2);
    // Every successful trial ends with the hand inside the 1.5 cm target window (the trial ends with the hold).
    let rows = csv_rows(&dir.join("trials.csv"));
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (succ, err, steps) = (col("success"), col("endpoint_error_cm"), col("steps"));
    for r in rows.iter().skip(1).filter(|r| r[succ] == "true") {
        assert!(r[err].parse::<f64>().unwrap() <= 1.5, "{r:?}");
        assert!(r[steps].parse::<usize>().unwrap() < 180, "{r:?}");
    }
    let evals = std::fs::read_to_string(dir.join("evaluations.csv")).unwrap();
    assert_eq!(evals.lines().count(), 1 + 5 * 3);
    let h = header(&dir.join("evaluations.csv"));
    for col in [
        "block",
        "success_rate",
        "mpd_trained_cm",
        "adaptation_index",
        "expert",
        "expert_misses",
    ] {
        assert!(h.iter().any(|c| c == col), "evaluations.csv lacks {col}: {h:?}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stages"].as_array().unwrap().len(), 5);
    // A 3-update pretraining is no expert: the run says so.
    assert_eq!(summary["expert_baseline"], false);
    assert!(
        text.contains("expert baseline: NO") && text.contains("WARNING"),
        "{text}"
    );
    // The recordings hold [N, T, H] hidden states.
    let rec = std::fs::read(dir.join("recordings/learning_late.safetensors")).unwrap();
    let n = u64::from_le_bytes(rec[..8].try_into().unwrap()) as usize;
    let meta: serde_json::Value = serde_json::from_slice(&rec[8..8 + n]).unwrap();
    assert_eq!(meta["hidden"]["shape"], serde_json::json!([16, 180, 32]));
    let analysis: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("analysis.json")).unwrap()).unwrap();
    assert_eq!(analysis["stages"].as_array().unwrap().len(), 4, "{analysis}");
    assert!(analysis["shifts"]["theta_lw_deg"].as_f64().unwrap().is_finite());

    // analyze_run recomputes the same analysis from the files, and tabulates runs.
    std::fs::remove_file(dir.join("analysis.json")).unwrap();
    let out = crate::analyze_run("--run", &[&dir]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The table, not the whole analysis.json, goes to stdout.
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("onset jump") && printed.lines().count() < 30,
        "{printed}"
    );
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("analysis.json")).unwrap()).unwrap();
    assert_eq!(again, analysis);
    let out = crate::analyze_run("--compare", &[&dir, &dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("theta_lw_deg") && text.contains("mean ± s.e.m."),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Stops the run after a number of updates, as a kill would.
struct StopAfter(usize);

impl Observer for StopAfter {
    fn updated(&mut self, _row: &CurveRow) {
        self.0 = self.0.saturating_sub(1);
    }
    fn interrupt(&mut self) -> bool {
        self.0 == 0
    }
}

/// The learning curve's rows without the wall-time columns (the fault-injection test's filter).
fn curve_without_timing(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("learning_curve.csv")).unwrap();
    crate::fault_injection::without_timing_columns(&text)
        .lines()
        .skip(1)
        .map(String::from)
        .collect()
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn a_killed_run_resumes_without_losing_or_doubling_rows() {
    let scenario = builtin::resolve("curl_field").unwrap().quick();
    let whole = tmp("whole");
    Run::create(scenario.clone(), &whole, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    let killed = tmp("killed");
    // Stop after 8 updates (the last checkpoint was after update 2 of the third stage; pretraining is
    // through the plant, the rest PPO).
    let err = Run::create(scenario, &killed, &mut StopAfter(8))
        .unwrap()
        .run()
        .unwrap_err();
    assert!(matches!(err, ScenarioError::Interrupted { .. }), "{err}");
    let rows_at_kill = std::fs::read_to_string(killed.join("learning_curve.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(rows_at_kill, 8);
    Run::resume(&killed, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(curve_without_timing(&whole), curve_without_timing(&killed));
    assert_eq!(
        std::fs::read_to_string(whole.join("trials.csv")).unwrap(),
        std::fs::read_to_string(killed.join("trials.csv")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&killed);
}

#[test]
fn a_resume_refuses_an_edited_scenario_unless_forced() {
    let scenario = builtin::resolve("curl_field").unwrap().quick();
    let dir = tmp("edited");
    let err = Run::create(scenario, &dir, &mut StopAfter(4))
        .unwrap()
        .run()
        .unwrap_err();
    assert!(matches!(err, ScenarioError::Interrupted { .. }), "{err}");
    let path = dir.join("scenario.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("learning_rate = 0.0003", "learning_rate = 0.0002", 1);
    assert_ne!(edited, text);
    std::fs::write(&path, edited).unwrap();
    let msg = match Run::resume(&dir, &mut reachlab::scenarios::Silent) {
        Ok(_) => panic!("an edited scenario was resumed"),
        Err(e) => e.to_string(),
    };
    assert!(
        msg.contains("training.learning_rate") && msg.contains("--force"),
        "{msg}"
    );
    Run::resume_with(&dir, &mut reachlab::scenarios::Silent, true)
        .unwrap()
        .run()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_scenario_typo_names_the_key_the_line_and_a_suggestion() {
    let text = builtin::text("curl_field")
        .unwrap()
        .replacen("consecutive", "consecutiv", 1);
    let err = reachlab::scenarios::Scenario::from_toml(&text, Path::new("my.toml")).unwrap_err();
    let msg = err.to_string();
    let line = text.lines().position(|l| l.contains("consecutiv ")).unwrap() + 1;
    assert!(msg.starts_with(&format!("my.toml:{line}:")), "{msg}");
    assert!(
        msg.contains("consecutiv") && msg.contains("did you mean `consecutive`"),
        "{msg}"
    );
    let text = builtin::text("curl_field")
        .unwrap()
        .replace("kind = \"curl\"", "kind = \"crul\"");
    let msg = reachlab::scenarios::Scenario::from_toml(&text, Path::new("my.toml"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("did you mean `curl`"), "{msg}");
    let err = builtin::resolve("curl_feild").unwrap_err().to_string();
    assert!(err.contains("did you mean `curl_field`"), "{err}");
}

#[test]
fn the_comparison_scenario_runs_every_arm_and_seed() {
    let scenario = builtin::resolve("curl_field_compare").unwrap().quick();
    let dir = tmp("compare");
    let silent =
        |_: &str| -> Box<dyn reachlab::scenarios::units::UnitObserver> { Box::new(reachlab::scenarios::Silent) };
    let rows = reachlab::scenarios::compare::run_compare(
        &scenario,
        &dir,
        Default::default(),
        &mut reachlab::scenarios::Silent,
        &silent,
    )
    .unwrap();
    // 4 arms × 5 measures, each over 2 seeds (quick keeps the first two).
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r.values.len() == 2));
    for arm in ["naive", "pretrained", "experience_only", "k_input_only"] {
        for seed in [0, 1] {
            assert!(dir
                .join(arm)
                .join(format!("seed-{seed}"))
                .join("summary.json")
                .is_file());
        }
    }
    // The pretrained arms see k (8 observations), the naive one does not (7).
    let meta = |arm: &str| -> serde_json::Value {
        let p = dir.join(arm).join("seed-0/checkpoints/latest/checkpoint.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    assert_eq!(meta("naive")["obs_dim"], 7);
    assert_eq!(meta("pretrained")["obs_dim"], 8);
    let csv = std::fs::read_to_string(dir.join("comparison.csv")).unwrap();
    assert_eq!(csv.lines().count(), 21);
    // The findings per arm, and θ_LW of each arm against the first.
    let md = std::fs::read_to_string(dir.join("findings.md")).unwrap();
    assert!(
        md.contains("**arm `k_input_only`**") && md.contains("θ_LW against the first arm"),
        "{md}"
    );
    // `analyze_run` on the comparison folder redoes every unit's analysis and the findings: the same.
    let unit_analysis = dir.join("naive/seed-1/analysis.json");
    let before = (std::fs::read(&unit_analysis).unwrap(), md);
    let out = crate::analyze_run("--run", &[&dir]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("findings over seeds"));
    let after = (
        std::fs::read(&unit_analysis).unwrap(),
        std::fs::read_to_string(dir.join("findings.md")).unwrap(),
    );
    assert!(before == after, "analyze_run changed what the run had found");
    // The folder rule holds when the comparison is called directly: a new run where one is, refused
    // (pointing to the resume); the resume skips the finished units and gives the same table.
    let compare = |how| {
        reachlab::scenarios::compare::run_compare(&scenario, &dir, how, &mut reachlab::scenarios::Silent, &silent)
    };
    let err = compare(Default::default()).unwrap_err().to_string();
    assert!(err.contains("--resume"), "{err}");
    let again = compare(reachlab::scenarios::launch::RunOptions::resume(false)).unwrap();
    assert_eq!(format!("{again:?}"), format!("{rows:?}"));
    // And in a lone run: a folder holding only a run's scenario.toml (killed right after writing it) is
    // a run to resume, not a folder to start in.
    let lone = tmp("lone-settings");
    std::fs::create_dir_all(&lone).unwrap();
    std::fs::write(lone.join("scenario.toml"), "name = \"mine\"").unwrap();
    let err = Run::create(
        builtin::resolve("curl_field").unwrap().quick(),
        &lone,
        &mut reachlab::scenarios::Silent,
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("--resume"), "{err}");
    assert_eq!(
        std::fs::read_to_string(lone.join("scenario.toml")).unwrap(),
        "name = \"mine\""
    );
    let _ = std::fs::remove_dir_all(&lone);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--seeds N --jobs 2`: seeds run concurrently on threads give the same runs as one at a time, and the
/// findings over seeds are written; a second start in the folder is refused, and `--resume` skips the
/// finished seeds.
#[test]
fn seeds_run_concurrently_give_the_same_runs_and_their_findings() {
    let start = |jobs: &str, out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_train_agent"))
            .args([
                "--scenario",
                "curl_field",
                "--quick",
                "--seeds",
                "3",
                "--jobs",
                jobs,
                "--quiet",
                "--out",
            ])
            .arg(out)
            .output()
            .unwrap()
    };
    let run = |jobs: &str, out: &Path| {
        let o = start(jobs, out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let (one, two) = (tmp("seeds-1"), tmp("seeds-2"));
    run("1", &one);
    run("2", &two);
    for seed in 0..3 {
        let sub = format!("scenario/seed-{seed}");
        assert_eq!(
            curve_without_timing(&one.join(&sub)),
            curve_without_timing(&two.join(&sub)),
            "seed {seed}"
        );
        let w = |d: &Path| std::fs::read(d.join(&sub).join("checkpoints/latest/weights.safetensors")).unwrap();
        assert_eq!(w(&one), w(&two), "seed {seed}");
    }
    let seeds = std::fs::read_to_string(two.join("seeds.csv")).unwrap();
    assert_eq!(seeds.lines().count(), 4, "{seeds}");
    let md = std::fs::read_to_string(two.join("findings.md")).unwrap();
    assert!(
        md.contains("| 6 |") && md.contains("(3)") && md.contains("--seeds 3"),
        "{md}"
    );
    assert!(two.join("figures/seeds.png").is_file() && two.join("figures/seeds.svg").is_file());
    // Started again in the same folder: refused (one rule for every kind: `--resume` continues a run).
    let again = start("1", &two);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success() && err.contains("--resume"), "{err}");
    // Resumed: every seed has finished, nothing is rerun, the findings are the same.
    let before = std::fs::read_to_string(two.join("scenario/seed-1/learning_curve.csv")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .args(["--quiet", "--jobs", "2", "--resume"])
        .arg(&two)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        before,
        std::fs::read_to_string(two.join("scenario/seed-1/learning_curve.csv")).unwrap()
    );
    assert_eq!(md, std::fs::read_to_string(two.join("findings.md")).unwrap());
    let _ = std::fs::remove_dir_all(&one);
    let _ = std::fs::remove_dir_all(&two);
}

/// A reaching scenario's training table is `[training]`, the name task scenarios use; files and `--set`
/// keys written with its former name `[train]` read the same.
#[test]
fn the_training_table_keeps_its_former_name() {
    let text = builtin::text("curl_field").unwrap();
    assert!(text.contains("\n[training]\n"));
    let now = reachlab::scenarios::Scenario::from_toml(text, Path::new("now.toml")).unwrap();
    let before = text.replacen("\n[training]\n", "\n[train]\n", 1);
    let before = reachlab::scenarios::Scenario::from_toml(&before, Path::new("before.toml")).unwrap();
    assert_eq!(now, before);
    assert!(now.to_toml().contains("\n[training]\n") && !now.to_toml().contains("\n[train]\n"));
    let set = |key: &str| {
        builtin::resolve_any_with("curl_field", &[format!("{key}=1e-5")])
            .unwrap()
            .to_toml()
    };
    assert_eq!(set("train.learning_rate"), set("training.learning_rate"));
    let builtin::AnyScenario::Reaching(s) =
        builtin::resolve_any_with("curl_field", &["train.learning_rate=1e-5".into()]).unwrap()
    else {
        panic!("a reaching scenario")
    };
    assert_eq!(s.train.learning_rate, 1e-5);
}

#[test]
fn nonsense_settings_are_refused_with_the_key() {
    // (text to replace in the curl_field built-in, replacement, key the error must name)
    let cases = [
        ("hidden = 128", "hidden = 100000", "core.hidden"),
        ("[policy.core]", "[policy.core]\ngain = nan", "core.gain"),
        (
            "learning_rate = 3e-4",
            "learning_rate = 3e-4\nadam_eps = -1.0",
            "training.adam_eps",
        ),
        (
            "learning_rate = 3e-4",
            "learning_rate = 3e-4\nclip = nan",
            "training.clip",
        ),
        (
            "learning_rate = 3e-4",
            "learning_rate = 3e-4\nmax_grad_norm = -1.0",
            "training.max_grad_norm",
        ),
        (
            "episodes_per_update = 256",
            "episodes_per_update = 1000000000",
            "training.episodes_per_update",
        ),
        ("b = 10.0", "b = 1e300", "phase[1]"),
        ("n_targets = 8", "n_targets = 100000", "n_targets"),
        (
            "trials_per_target = 4",
            "trials_per_target = 0",
            "evaluation.trials_per_target",
        ),
        ("name = \"washout\"", "name = \"latest\"", "phase[2].name"),
        // Each size within its bound, together beyond any machine's memory (3.4e18 bytes): refused
        // before anything is allocated.
        (
            "episodes_per_update = 256",
            "episodes_per_update = 65536",
            "training.episodes_per_update × env.trial_steps × policy.core.hidden",
        ),
    ];
    for (from, to, key) in cases {
        let text = builtin::text("curl_field").unwrap();
        assert!(text.contains(from), "{from}");
        let mut text = text.replacen(from, to, 1);
        if to.contains("65536") {
            text = text.replacen("trial_steps = 180", "trial_steps = 100000", 1);
            text = text.replacen("hidden = 128", "hidden = 8192", 1);
        }
        let msg = match reachlab::scenarios::Scenario::from_toml(&text, Path::new("my.toml")) {
            Ok(_) => panic!("{to} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(msg.contains(key), "{to}: {msg}");
    }
}

#[test]
fn flags_that_do_not_apply_together_are_refused() {
    for args in [
        &["--list-scenarios", "--scenario", "curl_field"][..],
        &["--print-scenario", "curl_field", "--out", "x"][..],
        &["--sweep", "s.toml", "--quick"][..],
        &["--sweep", "s.toml", "--dry-run"][..],
        // A comparison's seeds come from its [compare] table or --seeds; --seed used to be ignored.
        &[
            "--scenario",
            "curl_field_compare",
            "--quick",
            "--seed",
            "3",
            "--out",
            "/nonexistent/x",
        ][..],
        // With --quick, so that a regression costs a second, not a whole run.
        &[
            "--scenario",
            "curl_field",
            "--quick",
            "--unit",
            "0",
            "--out",
            "/nonexistent/x",
        ][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            err.contains("cannot be used with")
                || err.contains("apply to --sweep")
                || err.contains("--dry-run applies")
                || err.contains("takes its seeds from there"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_listing_quietly() {
    // `train_agent --list-scenarios | head -0`: the reader is gone before the first line is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .arg("--list-scenarios")
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty(), "{err}");
    assert_ne!(out.status.code(), Some(101), "a panic");
}

#[test]
fn printed_scenarios_parse_back_to_the_same_scenario() {
    for name in builtin::names() {
        let s = builtin::resolve_any(name).unwrap();
        let again = builtin::AnyScenario::from_toml(&s.to_toml(), Path::new("printed.toml")).unwrap();
        assert_eq!(s, again, "{name}");
        // What --print-scenario shows leaves out what has no effect, and still means the same scenario.
        let printed = s.to_toml_printed();
        let again = builtin::AnyScenario::from_toml(&printed, Path::new("printed.toml")).unwrap();
        assert_eq!(s, again, "{name}: {printed}");
        assert!(
            !printed.contains("init_seed") && !printed.contains("record_infos"),
            "{name}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .arg("--list-scenarios")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("curl_field ") && text.contains("curl_field_compare"),
        "{text}"
    );
    // curl_field's core is a GRU: the vanilla family's keys are not printed.
    let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .args(["--print-scenario", "curl_field"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kind = \"gru\"") && !text.contains("sigma_rec") && !text.contains("max_steps"),
        "{text}"
    );
    // Physical quantities carry their unit as a comment.
    for line in [
        "dt = 0.01  # s",
        "radius = 0.1  # m",
        "mass = 1.0  # kg",
        "b = 10.0  # N·s/m",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
}

/// `--threads N` sets the kernel and rollout threads together; the results do not depend on it.
#[test]
fn the_thread_count_is_one_setting_and_changes_no_result() {
    let run = |threads: Option<&str>, out: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_train_agent"));
        c.args(["--scenario", "curl_field", "--quick", "--quiet", "--out"])
            .arg(out);
        if let Some(t) = threads {
            c.args(["--threads", t]);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (one, three) = (tmp("threads-1"), tmp("threads-3"));
    run(Some("1"), &one);
    run(Some("3"), &three);
    assert_eq!(curve_without_timing(&one), curve_without_timing(&three));
    let w = |d: &Path| std::fs::read(d.join("checkpoints/latest/weights.safetensors")).unwrap();
    assert_eq!(w(&one), w(&three));
    let settings = std::fs::read_to_string(three.join("scenario.toml")).unwrap();
    assert!(settings.contains("threads = 3"), "the rollout workers follow the flag");
    let o = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .args(["--scenario", "curl_field", "--quick", "--threads", "0"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let _ = std::fs::remove_dir_all(&one);
    let _ = std::fs::remove_dir_all(&three);
}

/// Without a terminal (a log file, a cluster job) progress is plain lines: each stage and a line per tenth.
#[test]
fn progress_is_plain_lines_without_a_terminal() {
    let dir = tmp("lines");
    let o = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .args(["--scenario", "curl_field", "--quick", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    for stage in ["pretraining", "baseline", "learning", "washout", "relearning"] {
        assert!(err.contains(&format!("{stage}: up to 3 updates")), "{err}");
        assert!(err.contains(&format!("{stage}: 3/3 updates, success")), "{err}");
    }
    assert!(!err.contains('\u{1b}'), "no terminal escapes in a log: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--json-logs`: every stdout line is a JSON object with the run's identity (`unit`), `update` and
/// `wall_seconds`, for a lone reaching run, the units of a run over seeds and a task run alike; and the
/// rows are the learning curve's.
#[test]
fn json_logs_have_one_schema_with_run_identity() {
    let cases: [(&[&str], &[&str]); 3] = [
        (&["--scenario", "curl_field"], &["curl_field"]),
        (
            &["--scenario", "curl_field", "--seeds", "2", "--jobs", "2"],
            &["scenario/seed-0", "scenario/seed-1"],
        ),
        (&["--scenario", "flipflop"], &["flipflop"]),
    ];
    for (i, (args, units)) in cases.iter().enumerate() {
        let dir = tmp(&format!("json{i}"));
        let o = Command::new(env!("CARGO_BIN_EXE_train_agent"))
            .args(*args)
            .args(["--quick", "--json-logs", "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        let rows: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(!rows.is_empty(), "{args:?}: no JSON lines");
        let mut seen: Vec<String> = Vec::new();
        for r in &rows {
            let unit = r["unit"].as_str().unwrap_or_else(|| panic!("{args:?}: no unit in {r}"));
            assert!(r["update"].is_u64() && r["wall_seconds"].is_number(), "{args:?}: {r}");
            if !seen.iter().any(|u| u == unit) {
                seen.push(unit.to_string());
            }
        }
        seen.sort();
        assert_eq!(seen, units.to_vec(), "{args:?}");
        // A lone reaching run prints one line per learning-curve row.
        if i == 0 {
            assert_eq!(rows.len(), csv_rows(&dir.join("learning_curve.csv")).len() - 1, "{out}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_renamed_phase_is_named_in_the_warnings_not_left_as_a_silent_nan() {
    let mut scenario = builtin::resolve("curl_field").unwrap().quick();
    let learning = scenario.phases.iter_mut().find(|p| p.name == "learning").unwrap();
    learning.name = "adaptation".into();
    let dir = tmp("renamed_phase");
    let summary = Run::create(scenario, &dir, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    assert!(summary.onset_jump_cm.is_nan() && summary.savings.is_nan());
    let warning = summary
        .warnings
        .iter()
        .find(|w| w.starts_with("no recorded phase named"))
        .expect("a warning names the missing phase");
    assert!(
        warning.contains("`learning`") && !warning.contains("`washout`"),
        "{warning}"
    );
    // The summary read back from its file is the same, NaNs included.
    let back = reachlab::scenarios::Summary::read(&dir).unwrap();
    assert_eq!(back.warnings, summary.warnings);
    assert!(back.onset_jump_cm.is_nan());
    // Declared, the role is found: the same phase named otherwise gives the measures.
    let mut declared = builtin::resolve("curl_field").unwrap().quick();
    declared.phases.iter_mut().find(|p| p.name == "learning").unwrap().name = "adaptation".into();
    declared.evaluation.learning_stage = "adaptation".into();
    let text = declared.to_toml();
    assert!(
        text.contains("learning_stage = \"adaptation\"") && !text.contains("washout_stage"),
        "{text}"
    );
    let dir2 = tmp("declared_role");
    let summary = Run::create(declared, &dir2, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    assert!(summary.onset_jump_cm.is_finite() && !summary.generalisation.is_empty());
    assert!(
        !summary.warnings.iter().any(|w| w.starts_with("no recorded phase")),
        "{:?}",
        summary.warnings
    );
    let analysis = reachlab::scenarios::analysis::Analysis::read(&dir2).unwrap();
    assert!(analysis
        .tdr_force_decoder
        .iter()
        .any(|(stage, _)| stage == "adaptation"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// `--set key=value` changes a built-in without copying it; the result is the scenario a file with the
/// same keys gives, and a wrong key or value is refused with its name, as in a file.
#[test]
fn set_overrides_keys_of_a_builtin_and_refuses_wrong_ones() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, text) = run(&[
        "--print-scenario",
        "lmrnn_sparsity",
        "--set",
        "training.updates=77",
        "--set",
        "arm.1.core.density=0.5",
        "--set",
        "seeds=[4, 5]",
    ]);
    assert_eq!(code, Some(0), "{text}");
    let s = builtin::AnyScenario::from_toml(&text, Path::new("printed.toml")).unwrap();
    let builtin::AnyScenario::Tasks(s) = s else {
        panic!("a task scenario")
    };
    assert_eq!(s.training.updates, 77);
    assert_eq!(s.seeds, vec![4, 5]);
    let mut expected = match builtin::resolve_any("lmrnn_sparsity").unwrap() {
        builtin::AnyScenario::Tasks(t) => *t,
        _ => unreachable!(),
    };
    expected.training.updates = 77;
    expected.seeds = vec![4, 5];
    expected.arms[1].core.as_mut().unwrap().density = 0.5;
    assert_eq!(*s, expected);
    for (set, needle) in [
        ("training.updatez=1", "did you mean `updates`"),
        ("training.updates=-5", "invalid value"),
        ("arm.9.name=x", "there is no entry 9"),
        ("training", "KEY=VALUE"),
    ] {
        let (code, text) = run(&["--print-scenario", "lmrnn_sparsity", "--set", set]);
        assert_eq!(code, Some(1), "{set}: {text}");
        assert!(text.contains(needle) && text.contains("--set"), "{set}: {text}");
    }
}

/// `--seeds` applies to a task scenario too (it was silently ignored): its units are the seeds, in the one
/// unit layout, run two at a time with `--jobs 2`.
#[test]
fn seeds_of_a_task_scenario_run_as_units() {
    let dir = tmp("task-seeds");
    let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .args([
            "--scenario",
            "flipflop",
            "--quick",
            "--seeds",
            "0,3",
            "--jobs",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = csv_rows(&dir.join("results.csv"));
    let seeds: Vec<&str> = rows.iter().skip(1).map(|r| r[1].as_str()).collect();
    assert_eq!(seeds, ["0", "3"]);
    for s in [0, 3] {
        assert!(dir.join("main").join(format!("seed-{s}")).join("result.json").is_file());
    }
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("± "),
        "no mean ± s.e.m. in the report"
    );
}

/// A recording holds what a replay needs: the applied actions (checked against the physics: a
/// frictionless unit point mass in the null field changes its velocity by action·dt each step), rewards,
/// cue and go steps, and a metadata record that names the scenario, stage, block and units.
#[test]
fn recordings_hold_the_actions_rewards_and_a_metadata_record() {
    let dir = tmp("recording");
    let scenario = builtin::resolve("curl_field").unwrap().quick();
    let (dt, mass) = (scenario.env.dt, 1.0);
    Run::create(scenario, &dir, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    let path = dir.join("recordings/baseline_late.safetensors");
    let t = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).unwrap();
    let f32s = |k: &str| -> Vec<f32> { t[k].flatten_all().unwrap().to_vec1().unwrap() };
    let u32s = |k: &str| -> Vec<u32> { t[k].to_vec1().unwrap() };
    let (actions, vel, rewards) = (f32s("actions"), f32s("hand_vel"), f32s("rewards"));
    let (kinds, length, cue, go) = (u32s("trial_type"), u32s("length"), u32s("cue_step"), u32s("go_step"));
    let steps = t["actions"].dims3().unwrap().1;
    let mut checked = 0;
    for i in (0..kinds.len()).filter(|&i| kinds[i] == 0) {
        assert!(
            cue[i] < go[i] && go[i] < length[i],
            "trial {i}: cue {} go {} length {}",
            cue[i],
            go[i],
            length[i]
        );
        for s in 1..length[i] as usize {
            for d in 0..2 {
                let k = (i * steps + s) * 2 + d;
                let dv = f64::from(vel[k] - vel[k - 2]);
                let expected = f64::from(actions[k]) / mass * dt;
                assert!(
                    (dv - expected).abs() < 1e-6,
                    "trial {i} step {s}: Δv {dv} against a·dt {expected}"
                );
                checked += 1;
            }
        }
        let total: f32 = rewards[i * steps..(i + 1) * steps].iter().sum();
        assert!(total.is_finite() && total != 0.0);
    }
    assert!(checked > 100, "only {checked} steps checked");
    // The header: 8 bytes of length, then JSON with `__metadata__`.
    let bytes = std::fs::read(&path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let meta: serde_json::Value = serde_json::from_str(header["__metadata__"]["recording"].as_str().unwrap()).unwrap();
    assert_eq!(meta["scenario"], "curl_field");
    assert_eq!(
        (meta["stage"].as_str(), meta["block"].as_str()),
        (Some("baseline"), Some("late"))
    );
    assert!(meta["units"].as_str().unwrap().contains("field_force N"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The plant route end to end (quick): every stage trains through the plant at its own learning rate, the
/// frozen layers stay as they were, and the after-effect is measured from the late baseline.
#[test]
fn the_plant_route_honours_stage_rates_and_frozen_layers() {
    let mut scenario = builtin::resolve("curl_field_plant").unwrap().quick();
    scenario.phases[1].freeze = vec![reachlab::agents::Layer::Input, reachlab::agents::Layer::Output];
    let dir = tmp("plant-route");
    let summary = Run::create(scenario.clone(), &dir, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    for row in csv_rows(&dir.join("learning_curve.csv")).iter().skip(1) {
        let want = match row[0].as_str() {
            "pretraining" => scenario.plant_bptt.learning_rate,
            name => scenario
                .phases
                .iter()
                .find(|p| p.name == name)
                .unwrap()
                .learning_rate
                .unwrap(),
        };
        let got: f64 = row[17].parse().unwrap();
        assert_eq!(got, want, "{} update {}", row[0], row[1]);
    }
    // The frozen layers of the learning stage: as at its start (the baseline's checkpoint), the rest moved.
    let weights = |stage: &str| {
        candle_core::safetensors::load(
            dir.join("checkpoints").join(stage).join("weights.safetensors"),
            &candle_core::Device::Cpu,
        )
        .unwrap()
    };
    let (before, after) = (weights("baseline"), weights("learning"));
    let same = |name: &str| {
        let d = (&before[name] - &after[name])
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap();
        d.to_scalar::<f32>().unwrap() == 0.0
    };
    for name in ["actor.weight_ih_l0", "actor.bias_ih_l0", "pi.weight", "pi.bias"] {
        assert!(same(name), "{name} moved in a stage that freezes it");
    }
    assert!(!same("actor.weight_hh_l0"), "the recurrent weights did not learn");
    // The after-effect is washout's first MPD minus the late baseline's.
    let stage = |name: &str| summary.stages.iter().find(|s| s.stage == name).unwrap();
    let want = stage("washout").mpd_trained_early_cm - stage("baseline").mpd_trained_late_cm;
    assert!(
        (summary.after_effect_cm - want).abs() < 1e-12,
        "{} vs {want}",
        summary.after_effect_cm
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Cost weights written under `[plant_bptt]` (run folders from before they moved to `env.cost`) keep their
/// meaning; a critic-only stage with a shared core is refused.
#[test]
fn legacy_cost_keys_move_to_env_cost_and_a_shared_critic_stage_is_refused() {
    let text = builtin::text("curl_field").unwrap().replacen(
        "[pretraining]",
        "[plant_bptt]\nw_path = 7.0\nmove_time = 0.35\n\n[pretraining]",
        1,
    );
    let s = reachlab::scenarios::Scenario::from_toml(&text, Path::new("old.toml")).unwrap();
    assert_eq!((s.env.cost.w_path, s.env.cost.move_time), (7.0, 0.35));
    assert!(s.plant_bptt.w_path.is_none() && !s.to_toml().contains("[plant_bptt]\nw_path"));
    let text = builtin::text("curl_field")
        .unwrap()
        .replacen("separate_critic = true", "separate_critic = false", 1);
    let err = reachlab::scenarios::Scenario::from_toml(&text, Path::new("shared.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("phase[0].method") && err.contains("separate_critic"),
        "{err}"
    );
}

/// The muscle arm through the whole pipeline: training through its twin, evaluations and recordings of
/// Reach<Arm26> (six excitations, 19 observations), the muscle-activity figure, the fixed points, and a
/// resume of the finished run that redoes nothing.
#[test]
fn the_muscle_arm_scenario_runs_quick_with_its_excitations_recorded_and_drawn() {
    let dir = tmp("arm26");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
            .args(args)
            .arg(&dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
    };
    run(&["--scenario", "curl_field_arm26", "--quick", "--quiet", "--out"]);
    for f in [
        "summary.json",
        "figures/muscle_activity.png",
        "figures/muscle_activity.svg",
        "figures/hand_paths.png",
        "checkpoints/relearning/weights.safetensors",
        "fixed_points/baseline_target0.safetensors",
    ] {
        assert!(dir.join(f).is_file(), "missing {f}");
    }
    let rec = candle_core::safetensors::load(
        dir.join("recordings/learning_late.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let (n, t, a) = rec["actions"].dims3().unwrap();
    assert_eq!(a, 6, "six excitations");
    assert_eq!(
        rec["obs"].dims3().unwrap(),
        (n, t, 19),
        "task (7) + muscle lengths and velocities (12)"
    );
    let u: Vec<f32> = rec["actions"].flatten_all().unwrap().to_vec1().unwrap();
    assert!(u.iter().all(|x| (0.0..=1.0).contains(x)), "excitations in [0, 1]");
    assert!(u.iter().any(|&x| x > 0.0), "the muscles were excited");
    let rows = std::fs::read_to_string(dir.join("learning_curve.csv"))
        .unwrap()
        .lines()
        .count();
    run(&["--quiet", "--resume"]);
    let again = std::fs::read_to_string(dir.join("learning_curve.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, again, "a finished run resumes to nothing more");
}

/// Every core kind gets preparatory fixed points through the one bridge (`core_dynamics`): an LSTM's
/// search runs on its recorded `[h | c]` state, and its starts are states of the network (the search from
/// them converges to points that the core maps to themselves). A unit whose search could not run (an
/// LSTM recording written before cells were kept) reports NaN, not a count of zero.
#[test]
fn fixed_points_for_every_core_and_nan_when_unsearched() {
    use reachlab::agents::CoreKind;
    use reachlab::scenarios::experiment::Experiment;
    let stable_of = |scenario: &reachlab::scenarios::Scenario, dir: &std::path::Path| {
        let measures = scenario.measures(dir).unwrap();
        measures
            .iter()
            .find(|(n, _)| n == "stable_prep_fixed_points")
            .unwrap()
            .1
    };
    for kind in [CoreKind::Lstm, CoreKind::Gru, CoreKind::Vanilla] {
        let dir = tmp(&format!("fp-{kind:?}"));
        let mut scenario = builtin::resolve("curl_field_plant").unwrap().quick();
        scenario.policy.core.kind = kind;
        Run::create(scenario.clone(), &dir, &mut reachlab::scenarios::Silent)
            .unwrap()
            .run()
            .unwrap();
        let a = reachlab::scenarios::analysis::Analysis::read(&dir).unwrap();
        assert!(!a.preparatory_fixed_points.is_empty(), "{kind:?}: searched");
        assert!(
            a.preparatory_fixed_points.iter().all(|p| p.n_fixed > 0),
            "{kind:?}: found"
        );
        let stable = stable_of(&scenario, &dir);
        assert!(stable.is_finite() && stable >= 0.0, "{kind:?}: {stable}");
        // The saved points have the core's full state: [h | c] for the LSTM.
        let fp = std::fs::read_dir(dir.join("fixed_points"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let map = candle_core::safetensors::load(&fp, &candle_core::Device::Cpu).unwrap();
        let width = map["states"].dims2().unwrap().1;
        let h = scenario.policy.core.hidden;
        assert_eq!(width, if kind == CoreKind::Lstm { 2 * h } else { h }, "{kind:?}");
        if kind == CoreKind::Lstm {
            // The same unit's recordings without the cell (as written before cells were kept): no search.
            for rec in std::fs::read_dir(dir.join("recordings")).unwrap() {
                let path = rec.unwrap().path();
                let mut map = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).unwrap();
                assert!(map.remove("cell").is_some(), "an LSTM recording keeps its cell");
                candle_core::safetensors::save(&map, &path).unwrap();
            }
            std::fs::remove_dir_all(dir.join("fixed_points")).unwrap();
            reachlab::scenarios::analysis::analyze(&scenario, &dir).unwrap();
            let stable = stable_of(&scenario, &dir);
            assert!(stable.is_nan(), "unsearched: {stable}");
        }
    }
}

/// The measure added as the example of "one place" (`peak_speed_ratio`, declared in
/// `scenarios/src/reaching/findings.rs`): what a sweep collects for a unit equals the ratio computed here
/// from the unit's `trials.csv` (mean peak speed of the normal trials, late learning over late baseline).
#[test]
fn peak_speed_ratio_is_the_ratio_of_the_trials_peak_speeds() {
    use reachlab::scenarios::experiment::Experiment;
    let dir = tmp("peak-speed-ratio");
    let scenario = builtin::resolve("curl_field_plant").unwrap().quick();
    Run::create(scenario.clone(), &dir, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    let mut rd = csv::Reader::from_path(dir.join("trials.csv")).unwrap();
    let rows: Vec<reachlab::scenarios::TrialRow> = rd.deserialize().map(Result::unwrap).collect();
    let mean_peak = |stage: &str| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r.stage == stage && r.block == "late" && r.trial_type == "normal")
            .map(|r| r.peak_speed_m_per_s)
            .collect();
        assert!(!v.is_empty(), "{stage}");
        v.iter().sum::<f64>() / v.len() as f64
    };
    let expected = mean_peak("learning") / mean_peak("baseline");
    let measures = scenario.measures(&dir).unwrap();
    let got = measures.iter().find(|(n, _)| n == "peak_speed_ratio").unwrap().1;
    assert!(expected.is_finite() && expected > 0.0, "{expected}");
    assert!((got - expected).abs() < 1e-12 * expected, "{got} vs {expected}");
}

/// Arms are named lists of dotted-key overrides in both kinds: an arm written with `set` runs exactly as
/// the same arm written with the older shorthand (reaching: `pretraining_field`; tasks: `core`), to the
/// bit, and not as the unchanged scenario; an override of what every arm shares, or of a key the scenario does not hold, is refused with the
/// arm and the key named.
#[test]
fn arms_are_dotted_key_overrides_in_both_kinds() {
    use reachlab::scenarios::tasks::{run_tasks, Arm as TaskArm};
    // Reaching: two arms that differ only in how they say "pretrain in a null field".
    let mut s = builtin::resolve("curl_field_plant").unwrap().quick();
    s.compare = Some(reachlab::scenarios::compare::CompareSpec {
        seeds: vec![3],
        arms: vec![
            reachlab::scenarios::compare::Arm {
                name: "shorthand".into(),
                pretraining_field: Some(reachlab::envs::reach::FieldSpec::RandomCurl { b_max: 15.0 }),
                field_input: None,
                set: vec![],
            },
            reachlab::scenarios::compare::Arm {
                name: "overrides".into(),
                pretraining_field: None,
                field_input: None,
                set: vec![r#"pretraining.field={ kind = "random_curl", b_max = 15.0 }"#.into()],
            },
            reachlab::scenarios::compare::Arm {
                name: "unchanged".into(),
                pretraining_field: None,
                field_input: None,
                set: vec![],
            },
        ],
    });
    s.validate(Path::new("arms.toml")).unwrap();
    let dir = tmp("arms-reaching");
    reachlab::scenarios::compare::run_compare(&s, &dir, Default::default(), &mut reachlab::scenarios::Silent, &|_| {
        Box::new(reachlab::scenarios::Silent)
    })
    .unwrap();
    let weights =
        |arm: &str| std::fs::read(dir.join(arm).join("seed-3/checkpoints/latest/weights.safetensors")).unwrap();
    assert_eq!(weights("shorthand"), weights("overrides"));
    assert_ne!(
        weights("unchanged"),
        weights("overrides"),
        "the override changed the run"
    );
    // Every evaluation trial (trials.csv has no wall-clock column).
    let trials = |arm: &str| std::fs::read_to_string(dir.join(arm).join("seed-3/trials.csv")).unwrap();
    assert_eq!(trials("shorthand"), trials("overrides"));
    // Refused: a shared key, and a key the scenario does not hold.
    for (set, key) in [("seed=4", "seed"), ("plant_bptt.learning_rat=1e-3", "learning_rat")] {
        let mut bad = s.clone();
        bad.compare.as_mut().unwrap().arms[1].set = vec![set.into()];
        let e = bad.validate(Path::new("arms.toml")).unwrap_err().to_string();
        assert!(e.contains("compare.arm[1].set") && e.contains(key), "{e}");
    }

    // Tasks: an LSTM arm by `core` and by `set`.
    let mut t = match builtin::resolve_any("flipflop").unwrap() {
        builtin::AnyScenario::Tasks(t) => *t,
        other => panic!("{other:?}"),
    }
    .quick();
    let mut core = t.policy.core.clone();
    core.kind = reachlab::agents::CoreKind::Lstm;
    core.hidden = 16;
    t.arms = vec![
        TaskArm {
            name: "shorthand".into(),
            core: Some(core),
            set: vec![],
        },
        TaskArm {
            name: "overrides".into(),
            core: None,
            set: vec!["policy.core.kind=lstm".into(), "policy.core.hidden=16".into()],
        },
    ];
    t.analysis.fixed_points = false;
    t.validate(Path::new("arms.toml")).unwrap();
    let dir = tmp("arms-tasks");
    let results = run_tasks(&t, &dir, &mut reachlab::scenarios::Silent).unwrap();
    assert_eq!(results.len(), 2);
    let weights = |arm: &str| {
        std::fs::read(
            dir.join(arm)
                .join(format!("seed-{}/checkpoints/latest/weights.safetensors", t.seed)),
        )
        .unwrap()
    };
    assert_eq!(weights("shorthand"), weights("overrides"));
    assert_eq!(results[0].per_task, results[1].per_task);
    assert_ne!(
        t.policy.core.kind,
        reachlab::agents::CoreKind::Lstm,
        "the override changed the core"
    );
    for (set, key) in [
        (r#"tasks.names=["dm1"]"#, "tasks.names"),
        ("training.learning_rat=1", "learning_rat"),
    ] {
        let mut bad = t.clone();
        bad.arms[1].set = vec![set.into()];
        let e = bad.validate(Path::new("arms.toml")).unwrap_err().to_string();
        assert!(e.contains("arm[1].set") && e.contains(key), "{e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stage trained through the plant anneals its rate over its updates (`lr_final_fraction`): the
/// learning curve's rates fall linearly from the stage's rate; a policy-gradient stage refuses the key.
#[test]
fn a_plant_stage_anneals_its_rate_linearly() {
    let sets = ["pretraining.lr_final_fraction=0.5".to_string()];
    let builtin::AnyScenario::Reaching(s) = builtin::resolve_any_with("curl_field_plant", &sets).unwrap() else {
        panic!("a reaching scenario")
    };
    let mut s = s.quick();
    s.pretraining.updates = 4;
    s.phases.truncate(1);
    let lr = s.pretraining.learning_rate.unwrap_or(s.plant_bptt.learning_rate);
    let dir = tmp("plant-anneal");
    Run::create(s, &dir, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    let mut rd = csv::Reader::from_path(dir.join("learning_curve.csv")).unwrap();
    let rates: Vec<f64> = rd
        .deserialize::<CurveRow>()
        .map(|r| r.unwrap())
        .filter(|r| r.stage == "pretraining")
        .map(|r| r.learning_rate)
        .collect();
    let want: Vec<f64> = (0..4).map(|k| lr * (1.0 - k as f64 / 4.0 * 0.5)).collect();
    assert_eq!(rates, want);
    let _ = std::fs::remove_dir_all(&dir);
    // curl_field's learning phase is trained by PPO.
    let err = builtin::resolve_any_with("curl_field", &["phase.1.lr_final_fraction=0.5".into()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("lr_final_fraction") && err.contains("plant_bptt"), "{err}");
}

/// `--quick` reduces an arm's own overrides too: an arm that sets a larger network or more updates runs
/// the quick sizes, in both kinds, and the mark survives the scenario's round trip through its file.
#[test]
fn quick_reduces_what_an_arm_sets() {
    use reachlab::scenarios::tasks::Arm as TaskArm;
    let big = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    // Reaching.
    let mut s = builtin::resolve("curl_field_plant").unwrap();
    let arm = reachlab::scenarios::compare::Arm {
        name: "big".into(),
        pretraining_field: None,
        field_input: None,
        set: big(&[
            "policy.core.hidden=256",
            "pretraining.updates=900",
            "plant_bptt.batch=128",
        ]),
    };
    let full = arm.scenario(&s, 0).unwrap();
    assert_eq!(
        (full.policy.core.hidden, full.pretraining.updates, full.plant_bptt.batch),
        (256, 900, 128)
    );
    s = s.quick();
    let reread = reachlab::scenarios::Scenario::from_toml(&s.to_toml(), Path::new("quick.toml")).unwrap();
    for base in [&s, &reread] {
        let q = arm.scenario(base, 0).unwrap();
        assert_eq!(
            (q.policy.core.hidden, q.pretraining.updates, q.plant_bptt.batch),
            (32, 3, 16)
        );
    }
    // Tasks.
    let t = match builtin::resolve_any("flipflop").unwrap() {
        builtin::AnyScenario::Tasks(t) => *t,
        other => panic!("{other:?}"),
    };
    let arm = TaskArm {
        name: "big".into(),
        core: None,
        set: big(&["policy.core.hidden=256", "training.updates=5000"]),
    };
    let full = arm.scenario(&t).unwrap();
    assert_eq!((full.policy.core.hidden, full.training.updates), (256, 5000));
    let q = arm.scenario(&t.quick()).unwrap();
    assert_eq!((q.policy.core.hidden, q.training.updates), (32, 6));
}

/// With `plant_bptt.keep_optimizer` the optimiser continues from one plant stage to the next (its step
/// count is the sum of the stages' updates), and is replaced by a fresh one before a policy-gradient
/// stage; without it (the default) every stage after a plant stage starts fresh.
#[test]
fn the_optimiser_continues_across_plant_stages_and_restarts_for_policy_gradient() {
    let steps_at = |dir: &Path, stage: &str| -> u64 {
        let t = candle_core::safetensors::load(
            dir.join("checkpoints").join(stage).join("optimizer.safetensors"),
            &candle_core::Device::Cpu,
        )
        .unwrap();
        let s = t["adam.step"].to_vec1::<u32>().unwrap();
        u64::from(s[0]) | (u64::from(s[1]) << 32)
    };
    let updates_through = |dir: &Path, last: &str| -> u64 {
        let mut rd = csv::Reader::from_path(dir.join("learning_curve.csv")).unwrap();
        let rows: Vec<CurveRow> = rd.deserialize().map(Result::unwrap).collect();
        let end = rows.iter().rposition(|r| r.stage == last).unwrap();
        end as u64 + 1
    };
    let mut s = builtin::resolve("curl_field_plant").unwrap().quick();
    // The default: a fresh optimiser after every plant stage (the checkpoint at a stage's end holds it).
    let fresh = tmp("optimiser-fresh");
    Run::create(s.clone(), &fresh, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    for stage in ["pretraining", "baseline", "learning"] {
        assert_eq!(steps_at(&fresh, stage), 0, "{stage}");
    }
    s.plant_bptt.keep_optimizer = true;
    assert!(std::iter::once(&s.pretraining)
        .chain(&s.phases)
        .all(|st| st.method == reachlab::scenarios::Method::PlantBptt));
    let dir = tmp("optimiser-continues");
    Run::create(s.clone(), &dir, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    for stage in ["pretraining", "baseline", "learning"] {
        assert_eq!(steps_at(&dir, stage), updates_through(&dir, stage), "{stage}");
    }
    // The learning stage by policy gradient: the optimiser the baseline stage leaves is a fresh one.
    let mut mixed = s;
    mixed.phases[1].method = reachlab::scenarios::Method::Rl;
    let dir2 = tmp("optimiser-restarts");
    Run::create(mixed, &dir2, &mut reachlab::scenarios::Silent)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(steps_at(&dir2, "pretraining"), updates_through(&dir2, "pretraining"));
    assert_eq!(steps_at(&dir2, "baseline"), 0);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
    let _ = std::fs::remove_dir_all(&fresh);
}
