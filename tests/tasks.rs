//! Cognitive-task scenarios end to end: the flip-flop learns and has its 8 stable fixed points, every
//! built-in task scenario runs from the CLI, a killed run resumes exactly, bad files get clear errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use reachlab::scenarios::builtin::{self, AnyScenario};
use reachlab::scenarios::launch::RunOptions;
use reachlab::scenarios::tasks::{resume_tasks, run_tasks, TaskCurveRow, TaskScenario};
use reachlab::scenarios::ScenarioError;
use reachlab::scenarios::{Observer, Silent};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reachlab-tasks-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn task_scenario(name: &str) -> TaskScenario {
    match builtin::resolve_any(name).unwrap() {
        AnyScenario::Tasks(s) => *s,
        AnyScenario::Reaching(_) => panic!("{name} is a task scenario"),
    }
}

#[test]
fn flipflop_learns_and_stores_eight_stable_memories() {
    let dir = tmp("flipflop");
    let s = task_scenario("flipflop");
    let results = run_tasks(&s, &dir, &mut Silent).unwrap();
    let r = &results[0];
    eprintln!(
        "flip-flop: criterion at {:?} steps, perf {:.4}, {:.0} s, fixed points {:?}",
        r.steps_to_criterion, r.mean_perf, r.wall_seconds, r.analysis.fixed_points
    );
    // Stated budget: 99% of (step, bit) outputs with the right sign within 2000 steps of batch 64.
    assert!(
        r.steps_to_criterion.is_some_and(|u| u <= 2000),
        "{:?}",
        r.steps_to_criterion
    );
    assert!(r.mean_perf >= 0.99);
    let fp = r.analysis.fixed_points.as_ref().unwrap();
    assert_eq!(fp.stable, 8, "{fp:?}");
    assert_eq!(fp.distinct_readout_signs, 8, "one stable point per memory: {fp:?}");
    assert!(
        fp.saddles.iter().sum::<usize>() >= 1,
        "saddles separate the memories: {fp:?}"
    );
    for f in [
        "results.md",
        "results.csv",
        "learning_curve.csv",
        "result.json",
        "figures/task_curves.png",
        "fixed_points.safetensors",
    ] {
        assert!(dir.join(f).is_file(), "missing {f}");
    }
    // Every point, with its state, q, stability and eigenvalues, for Python.
    let saved =
        candle_core::safetensors::load(dir.join("fixed_points.safetensors"), &candle_core::Device::Cpu).unwrap();
    let unstable = saved["unstable_modes"].to_vec1::<u32>().unwrap();
    let converged = saved["converged"].to_vec1::<u8>().unwrap();
    let stable = unstable
        .iter()
        .zip(&converged)
        .filter(|(u, c)| **u == 0 && **c == 1)
        .count();
    assert_eq!(stable, fp.stable);
    let (k, h) = saved["states"].dims2().unwrap();
    assert_eq!((k, h), (unstable.len(), saved["eigenvalues_re"].dims2().unwrap().1));
    assert_eq!(k, fp.fixed + fp.slow);
    // `analyze_run` recomputes the fixed points from the checkpoint: the same table.
    let before = std::fs::read_to_string(dir.join("results.md")).unwrap();
    let out = crate::analyze_run("--run", &[&dir]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("results.md")).unwrap(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_builtin_task_scenario_runs_quick_from_the_cli() {
    for name in ["yang20", "modcog", "lmrnn_sparsity", "flipflop", "decision_ppo"] {
        let dir = tmp(&format!("cli-{name}"));
        let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
            .args(["--scenario", name, "--quick", "--quiet", "--out"])
            .arg(&dir)
            .env("RAYON_NUM_THREADS", "2")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {text}");
        assert!(text.contains("final mean perf"), "{name}: {text}");
        let s = task_scenario(name).quick();
        let n_tasks = s.tasks.task_set().unwrap().tasks().len();
        let unit = reachlab::scenarios::tasks::run::unit_dir(&s, &dir, &s.arm_list()[0].name, s.seed_list()[0]);
        let mut rd = csv::Reader::from_path(unit.join("learning_curve.csv")).unwrap();
        let rows: Vec<TaskCurveRow> = rd.deserialize().map(Result::unwrap).collect();
        // Evaluations at steps 0, 3, 6: one row per task plus mean and min.
        assert_eq!(rows.len(), 3 * (n_tasks + 2), "{name}");
        assert!(rows.iter().all(|r| (0.0..=1.0).contains(&r.perf)));
        assert!(dir.join("results.md").is_file() && dir.join("figures/task_curves.svg").is_file());
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert_eq!(
        task_scenario("modcog").tasks.task_set().unwrap().input_dim(),
        1 + 2 * 16 + 82,
        "one rule unit per Mod-Cog task"
    );
}

/// The same task run with 1 and 2 threads: identical learning curves (fixed work blocks in the kernels,
/// batches drawn on one thread).
#[test]
fn task_training_does_not_depend_on_the_thread_count() {
    let curves: Vec<Vec<(usize, String, u64, u64)>> = ["1", "2"]
        .iter()
        .map(|threads| {
            let dir = tmp(&format!("threads-{threads}"));
            let out = Command::new(env!("CARGO_BIN_EXE_train_agent"))
                .args(["--scenario", "yang20", "--quick", "--quiet", "--out"])
                .arg(&dir)
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let c = curve(&dir);
            let _ = std::fs::remove_dir_all(&dir);
            c
        })
        .collect();
    assert_eq!(curves[0], curves[1]);
}

struct StopAfter(usize);

impl Observer for StopAfter {
    fn interrupt(&mut self) -> bool {
        self.0 = self.0.saturating_sub(1);
        self.0 == 0
    }
}

fn curve(dir: &Path) -> Vec<(usize, String, u64, u64)> {
    let mut rd = csv::Reader::from_path(dir.join("learning_curve.csv")).unwrap();
    rd.deserialize::<TaskCurveRow>()
        .map(|r| {
            let r = r.unwrap();
            (r.update, r.task, r.perf.to_bits(), r.loss.to_bits())
        })
        .collect()
}

#[test]
fn a_killed_task_run_resumes_exactly() {
    let mut s = task_scenario("flipflop");
    s.policy.core.hidden = 16;
    s.training.updates = 12;
    s.training.eval_every = 3;
    s.training.batch_size = 16;
    s.training.stop_at_criterion = false;
    s.analysis.fixed_points = false;
    s.policy.core.kind = reachlab::agents::CoreKind::Vanilla;
    s.policy.core.sigma_rec = 0.1;
    let (a, b) = (tmp("resume-a"), tmp("resume-b"));
    run_tasks(&s, &a, &mut Silent).unwrap();
    let err = run_tasks(&s, &b, &mut StopAfter(2)).unwrap_err();
    assert!(matches!(err, ScenarioError::Interrupted { .. }), "{err}");
    assert!(curve(&b).len() < curve(&a).len());
    // scenario.toml edited before the resume (as `--resume` reads it): refused, the key named.
    let mut edited = s.clone();
    edited.training.learning_rate *= 2.0;
    std::fs::write(b.join("scenario.toml"), edited.to_toml()).unwrap();
    let err = resume_tasks(&edited, &b, &mut Silent).unwrap_err().to_string();
    assert!(
        err.contains("training.learning_rate") && err.contains("--force"),
        "{err}"
    );
    std::fs::write(b.join("scenario.toml"), s.to_toml()).unwrap();
    // A checkpoint written before `training.method` existed (the key absent): not an edit.
    let saved = b.join("checkpoints/latest/scenario.toml");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("method = \"supervised\"\n"), "{text}");
    std::fs::write(&saved, text.replace("method = \"supervised\"\n", "")).unwrap();
    // A new run where one is: refused, pointing to `--resume` (the folder rule of every run).
    let err = run_tasks(&s, &b, &mut Silent).unwrap_err().to_string();
    assert!(err.contains("--resume"), "{err}");
    resume_tasks(&s, &b, &mut Silent).unwrap();
    assert_eq!(
        curve(&a),
        curve(&b),
        "the resumed run redoes the same steps with the same noise"
    );
    let w = |d: &Path| std::fs::read(d.join("checkpoints/latest/weights.safetensors")).unwrap();
    assert_eq!(w(&a), w(&b));
    // A different scenario in the same folder is refused, and so is an unrelated non-empty folder.
    s.training.learning_rate *= 2.0;
    let err = resume_tasks(&s, &b, &mut Silent).unwrap_err().to_string();
    assert!(err.contains("different scenario"), "{err}");
    let other = tmp("resume-other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let err = run_tasks(&s, &other, &mut Silent).unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1, "nothing written into it");
    let _ = std::fs::remove_dir_all(&other);
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

/// PPO from a task scenario file (`decision_ppo` reduced to reactgo): the greedy policy goes from never
/// answering (0.0) to far above chance (a random direction is right 1 time in 8) in 150 updates of 64
/// trials (0.98 when written; 0.5 asked); a run
/// interrupted after its first evaluation resumes to the same curve and weights, bit for bit; fixed points
/// under the fixation input are found; a non-ring task is refused for a policy gradient, the key named.
#[test]
fn ppo_on_a_task_scenario_learns_resumes_exactly_and_finds_fixed_points() {
    let mut s = task_scenario("decision_ppo");
    s.tasks.names = vec!["reactgo".into()];
    s.policy.core.hidden = 32;
    s.training.updates = 150;
    s.training.batch_size = 64;
    s.training.eval_every = 50;
    s.training.stop_at_criterion = false;
    s.analysis.fixed_point_starts = 64;
    let (a, b) = (tmp("ppo-a"), tmp("ppo-b"));
    let results = run_tasks(&s, &a, &mut Silent).unwrap();
    let c = curve(&a);
    let perf = |u: usize| f64::from_bits(c.iter().find(|r| r.0 == u && r.1 == "reactgo").unwrap().2);
    assert_eq!(perf(0), 0.0, "an untrained policy keeps fixating");
    eprintln!("reactgo: {} {} {} {}", perf(0), perf(50), perf(100), perf(150));
    assert!(perf(150) >= 0.5, "after 150 updates: {}", perf(150));
    let fp = results[0].analysis.fixed_points.as_ref().unwrap();
    assert!(fp.fixed > 0, "{fp:?}");
    assert!(a.join("fixed_points_reactgo.safetensors").is_file());
    let err = run_tasks(&s, &b, &mut StopAfter(1)).unwrap_err();
    assert!(matches!(err, ScenarioError::Interrupted { .. }), "{err}");
    assert!(curve(&b).len() < c.len());
    resume_tasks(&s, &b, &mut Silent).unwrap();
    assert_eq!(c, curve(&b), "the resumed run redoes the same rollouts");
    let w = |d: &Path| std::fs::read(d.join("checkpoints/latest/weights.safetensors")).unwrap();
    assert_eq!(w(&a), w(&b));
    let mut flip = s.clone();
    flip.tasks.names = vec!["flipflop".into()];
    let e = flip.validate(Path::new("ppo.toml")).unwrap_err().to_string();
    assert!(e.contains("tasks.names") && e.contains("ring tasks"), "{e}");
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

/// Every table of a scenario file is checked, whether its task or stage is used or not: hostile values
/// in the tables of tasks a flip-flop scenario does not train, and expert thresholds no trial can meet
/// in a reaching scenario, are refused with the key named.
#[test]
fn unused_tables_are_validated_too() {
    let file = Path::new("hostile.toml");
    let flipflop = builtin::text("flipflop").unwrap();
    for (table, key) in [
        ("[tasks.sine_wave]\ntolerance = nan", "tasks.sine_wave.tolerance"),
        (
            "[tasks.sine_wave]\nmin_rad_per_step = nan",
            "tasks.sine_wave.min_rad_per_step",
        ),
        (
            "[tasks.context_integration]\nresponse_ms = -1e308",
            "tasks.context_integration.response_ms",
        ),
        // The policy-gradient settings of a scenario trained by supervised BPTT.
        (
            "[training.policy_gradient]\nclip = -1.0",
            "training.policy_gradient.clip",
        ),
        (
            "[training.policy_gradient]\nlr_final_fraction = 2.0",
            "training.policy_gradient.lr_final_fraction",
        ),
        ("[training.policy_gradient.rewards]\ncorrect = nan", "rewards.correct"),
    ] {
        let text = flipflop.replace("[policy.core]", &format!("{table}\n\n[policy.core]"));
        let e = AnyScenario::from_toml(&text, file).unwrap_err().to_string();
        assert!(e.contains(key), "{key}: {e}");
    }
    let reaching = builtin::text("curl_field").unwrap();
    for (entry, key) in [
        ("max_curvature = inf", "evaluation.expert.max_curvature"),
        ("max_hold_drift = -0.1", "evaluation.expert.max_hold_drift"),
        ("success_per_target = 1.5", "evaluation.expert.success_per_target"),
        ("reach_time_range = [0.8, 0.15]", "evaluation.expert.reach_time_range"),
    ] {
        let text = format!("{reaching}\n[evaluation.expert]\n{entry}\n");
        let e = AnyScenario::from_toml(&text, file).unwrap_err().to_string();
        assert!(e.contains(key), "{key}: {e}");
    }
}

#[test]
fn bad_task_files_name_the_problem() {
    let file = Path::new("bad.toml");
    let base = builtin::text("flipflop").unwrap();
    let e = AnyScenario::from_toml(
        &base.replace(r#"names = ["flipflop"]"#, r#"names = ["delaygoo"]"#),
        file,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("delaygoo") && e.contains("tasks"), "{e}");
    let e = AnyScenario::from_toml(&base.replace("batch_size = 64", "batch_sise = 64"), file)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.toml:20") && e.contains("did you mean `batch_size`"),
        "{e}"
    );
    let e = AnyScenario::from_toml(
        &base.replace(r#"names = ["flipflop"]"#, r#"names = ["flipflop", "dm1"]"#),
        file,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("layout"), "{e}");
}

/// Context-dependent integration against the ideal observer: the best possible accuracy from 40 steps of
/// N(c, 0.5²) evidence is the mean over |c| ∈ {0.05, 0.15, 0.5} of Φ(|c|·√40 / 0.5) ≈ 0.903. A trained GRU
/// gets close to it and, beyond sampling noise, not above it.
#[test]
fn context_integration_approaches_the_ideal_observer() {
    let text = r#"
name = "context"
[tasks]
names = ["context_integration"]
conventions = { sigma_x = 0.0 }
[policy.core]
kind = "gru"
hidden = 64
[training]
updates = 400
learning_rate = 5e-3
eval_every = 400
eval_trials_per_task = 1024
"#;
    let AnyScenario::Tasks(s) = AnyScenario::from_toml(text, Path::new("context.toml")).unwrap() else {
        panic!("a task scenario")
    };
    let dir = tmp("context");
    let r = run_tasks(&s, &dir, &mut Silent).unwrap().remove(0);
    let task = &s.tasks.context_integration;
    let n = (task.stimulus_ms / s.tasks.conventions.dt_ms).round();
    let ideal = task
        .coherences
        .iter()
        .map(|c| 1.0 - reachlab::analysis::stats::normal_sf(c * n.sqrt() / task.noise))
        .sum::<f64>()
        / task.coherences.len() as f64;
    let se = (ideal * (1.0 - ideal) / 1024.0).sqrt();
    eprintln!(
        "context integration: {:.4} (ideal observer {ideal:.4}, s.e. {se:.4})",
        r.mean_perf
    );
    assert!((ideal - 0.903).abs() < 0.002, "{ideal}");
    assert!(
        r.mean_perf > ideal - 0.04 && r.mean_perf < ideal + 3.0 * se,
        "{} vs {ideal}",
        r.mean_perf
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The arms × seeds of a task run, two at a time, give the units one at a time gave, in the same
/// folders (`<arm>/seed-<k>`), and a rerun skips what has finished.
#[test]
fn task_units_run_concurrently_give_the_same_results() {
    let mut s = task_scenario("lmrnn_sparsity").quick();
    s.seeds = vec![0, 1];
    s.training.updates = 4;
    assert_eq!(s.arm_list().len() * s.seed_list().len(), 4);
    let (one, two) = (tmp("jobs1"), tmp("jobs2"));
    let jobs = |jobs| RunOptions {
        jobs,
        ..RunOptions::default()
    };
    let silent = |_: &str| -> Box<dyn reachlab::scenarios::units::UnitObserver> { Box::new(Silent) };
    let a = reachlab::scenarios::tasks::run_tasks_with(&s, &one, &mut Silent, jobs(1), &silent).unwrap();
    let b = reachlab::scenarios::tasks::run_tasks_with(&s, &two, &mut Silent, jobs(2), &silent).unwrap();
    assert_eq!(a.len(), 4);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.arm, x.seed), (&y.arm, y.seed));
        assert_eq!(x.mean_perf.to_bits(), y.mean_perf.to_bits(), "{}/{}", x.arm, x.seed);
        let d = |root: &Path| root.join(&x.arm).join(format!("seed-{}", x.seed));
        assert_eq!(curve(&d(&one)), curve(&d(&two)), "{}/{}", x.arm, x.seed);
    }
    // Policy-gradient units too (their rollouts share the cores when units run at once).
    let mut p = task_scenario("decision_ppo");
    p.tasks.names = vec!["reactgo".into()];
    p.policy.core.hidden = 16;
    (p.training.updates, p.training.batch_size, p.training.eval_every) = (6, 32, 3);
    (p.seeds, p.analysis.fixed_points) = (vec![0, 1], false);
    let (p1, p2) = (tmp("ppo-jobs1"), tmp("ppo-jobs2"));
    let pa = reachlab::scenarios::tasks::run_tasks_with(&p, &p1, &mut Silent, jobs(1), &silent).unwrap();
    let pb = reachlab::scenarios::tasks::run_tasks_with(&p, &p2, &mut Silent, jobs(2), &silent).unwrap();
    assert_eq!(pa.len(), 2);
    for (x, y) in pa.iter().zip(&pb) {
        let d = |root: &Path| root.join(&x.arm).join(format!("seed-{}", x.seed));
        assert_eq!(curve(&d(&p1)), curve(&d(&p2)), "ppo {}/{}", x.arm, x.seed);
        assert_eq!(x.per_task, y.per_task);
    }
    let _ = (std::fs::remove_dir_all(&p1), std::fs::remove_dir_all(&p2));
    // Finished units are read back, not run again.
    let again = resume_tasks(&s, &two, &mut Silent).unwrap();
    assert_eq!(
        again.iter().map(|r| r.wall_seconds.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|r| r.wall_seconds.to_bits()).collect::<Vec<_>>()
    );
}

/// `analyze_run --compare` tabulates task runs by the measures their collection uses (mean ± s.e.m. over
/// the runs, checked against each run's result.json), and refuses to put a reaching run beside them.
#[test]
fn analyze_run_compares_task_runs_and_refuses_mixed_kinds() {
    let base = task_scenario("flipflop").quick();
    let dirs: Vec<PathBuf> = (0..2).map(|k| tmp(&format!("cmp-{k}"))).collect();
    let mut perf = Vec::new();
    for (k, d) in dirs.iter().enumerate() {
        let mut s = base.clone();
        s.seed = k as u64;
        perf.push(run_tasks(&s, d, &mut Silent).unwrap()[0].mean_perf);
    }
    let out = crate::analyze_run("--compare", &dirs);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    let col = header
        .iter()
        .position(|h| *h == "mean_perf")
        .expect("a mean_perf column");
    let mean_row = text.lines().find(|l| l.starts_with("mean ± s.e.m.")).unwrap();
    // "mean ± s.e.m." takes three words; then each cell is "m ± s".
    let cells: Vec<&str> = mean_row.split_whitespace().skip(3).collect();
    let shown: f64 = cells[3 * (col - 1)].parse().unwrap();
    assert!((shown - (perf[0] + perf[1]) / 2.0).abs() <= 5e-4, "{text}");

    let reach = tmp("cmp-reach");
    let ok = Command::new(env!("CARGO_BIN_EXE_train_agent"))
        .args(["--scenario", "curl_field", "--quick", "--quiet", "--out"])
        .arg(&reach)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = crate::analyze_run("--compare", &[&dirs[0], &reach]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("not comparable"), "{err}");
    for d in dirs.iter().chain([&reach]) {
        let _ = std::fs::remove_dir_all(d);
    }
}
