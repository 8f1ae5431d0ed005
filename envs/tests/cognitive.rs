//! The cognitive tasks against their specification (Yang et al. 2019 `task.py`, Mod-Cog, the classic
//! benchmarks): epoch lengths, tuning curves, ground truth, scoring by an oracle and by chance agents.

use std::collections::BTreeSet;
use std::f64::consts::{PI, TAU};

use rand::{Rng, SeedableRng};
use reachlab_envs::cognitive::{
    ring, suite, Conventions, DecisionEnv, DecisionOptions, DecisionRewards, OutputEnv, Response, Task, TaskSet, Trial,
    YangTask,
};
use reachlab_envs::seeding::rng_from_seed;
use reachlab_envs::{check_env, Env};

const DT: f64 = 20.0;

fn conv() -> Conventions {
    Conventions {
        sigma_x: 0.0,
        ..Conventions::yang2019()
    }
}

fn trials(name: &str, n: usize, seed: u64) -> Vec<Trial> {
    let task = Task::from_name(name).unwrap();
    let mut rng = rng_from_seed(seed);
    (0..n).map(|_| task.generate(&conv(), &mut rng)).collect()
}

fn len(tr: &Trial, epoch: &str) -> usize {
    let e = tr.epoch(epoch).unwrap_or_else(|| panic!("no epoch {epoch}"));
    e.end - e.start
}

fn steps(ms: &[f64]) -> BTreeSet<usize> {
    ms.iter().map(|m| (m / DT) as usize).collect()
}

/// Location of a bump on ring `modality` at step `t` (population vector of that ring's inputs).
fn ring_loc(tr: &Trial, t: usize, modality: usize) -> Option<f64> {
    let n = 32;
    let x = tr.input(t);
    let r = &x[1 + (modality - 1) * n..1 + modality * n];
    if r.iter().all(|&v| v == 0.0) {
        None
    } else {
        ring::population_vector(r)
    }
}

fn final_target(tr: &Trial) -> Response {
    tr.response[tr.steps - 1]
}

#[test]
fn delay_go_epochs_follow_task_py() {
    let (mut on, mut stim, mut delay) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for tr in trials("delaygo", 400, 1) {
        on.insert(len(&tr, "fix1"));
        stim.insert(len(&tr, "stim1"));
        delay.insert(len(&tr, "delay1"));
        assert_eq!(len(&tr, "go1"), 25, "500 ms response");
        assert_eq!(tr.go, tr.epoch("go1").unwrap().start);
        // Fixation input on until go, off after; fixation target 0.8 then 0.05.
        assert_eq!(tr.input(tr.go - 1)[0], 1.0);
        assert_eq!(tr.input(tr.go)[0], 0.0);
        assert_eq!(tr.target(tr.go - 1)[0], 0.8);
        assert_eq!(tr.target(tr.go)[0], 0.05);
    }
    assert_eq!(on, steps(&[300.0, 500.0, 700.0]));
    assert_eq!(stim, steps(&[200.0, 400.0, 600.0]));
    assert_eq!(delay, steps(&[200.0, 400.0, 800.0, 1600.0]));
}

#[test]
fn stimulus_tuning_is_yangs_gaussian_bump() {
    for tr in trials("fdgo", 20, 2) {
        let t = tr.epoch("stim1").unwrap().start;
        let modality = if ring_loc(&tr, t, 1).is_some() { 1 } else { 2 };
        let loc = ring_loc(&tr, t, modality).unwrap();
        let x = tr.input(t);
        for k in 0..32 {
            let pref = TAU * k as f64 / 32.0;
            let d = ring::periodic_distance(loc, pref) / (PI / 8.0);
            let want = 0.8 * (-d * d / 2.0).exp();
            assert!((f64::from(x[1 + (modality - 1) * 32 + k]) - want).abs() < 1e-5);
        }
        // The output target is the same bump on top of the 0.05 baseline, from go on.
        let y = tr.target(tr.go);
        let pref = 0.0;
        let d = ring::periodic_distance(loc, pref) / (PI / 8.0);
        assert!((f64::from(y[1]) - (0.05 + 0.8 * (-d * d / 2.0).exp())).abs() < 1e-5);
    }
}

#[test]
fn anti_tasks_point_opposite_and_react_tasks_keep_the_fixation_input() {
    for name in ["fdanti", "reactanti", "delayanti"] {
        for tr in trials(name, 30, 3) {
            let stim_t = tr.epochs.iter().find(|e| e.name == "stim1").map_or(tr.go, |e| e.start);
            let m = if ring_loc(&tr, stim_t, 1).is_some() { 1 } else { 2 };
            let loc = ring_loc(&tr, stim_t, m).unwrap();
            let Response::Ring(r) = final_target(&tr) else {
                panic!("anti is a go task")
            };
            assert!((ring::periodic_distance(r, loc) - PI).abs() < 1e-4, "{name}");
        }
    }
    for tr in trials("reactgo", 30, 4) {
        assert_eq!(tr.input(tr.steps - 1)[0], 1.0, "fixation input stays on");
        assert_eq!(tr.steps - tr.go, 25);
        assert!((25..=125).contains(&tr.go), "stimulus onset U(500, 2500) ms");
    }
}

/// Strength of the stimulus at `target` on a ring carrying two bumps, and of the other one, recovered
/// exactly from the ring's sum and first Fourier coefficient (both independent of where the bumps sit for
/// a 32-unit ring with tuning width π/8): Σx = (s₁ + s₂)·C₀ and Σx·e^{iθ} = (s₁e^{il₁} + s₂e^{il₂})·C₁.
fn strengths(x: &[f32], target: f64) -> (f64, f64) {
    let pref = ring::preferred(32);
    let c0: f64 = pref.iter().map(|&p| ring::tuning(0.0, p)).sum();
    let c1: f64 = pref.iter().map(|&p| ring::tuning(0.0, p) * p.cos()).sum();
    let m = x.iter().map(|&v| f64::from(v)).sum::<f64>() / c0;
    let (re, im) = x.iter().zip(&pref).fold((0.0, 0.0), |(a, b), (&v, &p)| {
        (a + f64::from(v) * p.cos() / c1, b + f64::from(v) * p.sin() / c1)
    });
    let proj = re * target.cos() + im * target.sin();
    let s = (m * m - (re * re + im * im)) / (2.0 * (m - proj));
    (s, m - s)
}

#[test]
fn decision_tasks_choose_the_stronger_or_attended_stimulus() {
    for name in [
        "dm1",
        "dm2",
        "contextdm1",
        "contextdm2",
        "multidm",
        "delaydm1",
        "multidelaydm",
    ] {
        for tr in trials(name, 100, 5) {
            let Response::Ring(target) = final_target(&tr) else {
                panic!()
            };
            // Sum the two stimulus epochs of the delayed tasks: each holds one bump.
            let epochs: Vec<usize> = ["stim1", "stim2"]
                .iter()
                .filter_map(|e| tr.epoch(e))
                .map(|e| e.start)
                .collect();
            let mut rings = vec![vec![0.0f32; 32]; 2];
            for &t in &epochs {
                for (m, r) in rings.iter_mut().enumerate() {
                    for (k, v) in r.iter_mut().enumerate() {
                        *v += tr.input(t)[1 + m * 32 + k];
                    }
                }
            }
            let on = |m: usize| rings[m].iter().any(|&v| v != 0.0);
            let (s_t, s_o) = match name {
                "dm1" | "delaydm1" | "contextdm1" => strengths(&rings[0], target),
                "dm2" | "contextdm2" => strengths(&rings[1], target),
                _ => {
                    let both: Vec<f32> = rings[0].iter().zip(&rings[1]).map(|(a, b)| a + b).collect();
                    strengths(&both, target)
                }
            };
            assert!(s_t > s_o, "{name}: chose {s_t} over {s_o}");
            assert!(
                (0.4..1.6).contains(&s_t) || name.starts_with("multi"),
                "{name}: strength {s_t}"
            );
            match name {
                "dm1" | "delaydm1" => assert!(on(0) && !on(1)),
                "dm2" => assert!(!on(0) && on(1)),
                _ => assert!(on(0) && on(1)),
            }
            if !name.contains("delay") {
                assert!([400.0, 800.0, 1600.0]
                    .iter()
                    .any(|ms| (ms / DT) as usize == len(&tr, "stim1")));
            }
            assert_eq!(len(&tr, "go1"), 25);
        }
    }
    // The context tasks ignore the other modality: in about half the trials it points the other way.
    let mut conflicts = 0;
    for tr in trials("contextdm1", 200, 6) {
        let Response::Ring(target) = final_target(&tr) else {
            panic!()
        };
        let t = tr.epoch("stim1").unwrap().start;
        let (a, b) = strengths(&tr.input(t)[33..65], target);
        conflicts += usize::from(b > a);
    }
    assert!(
        (60..140).contains(&conflicts),
        "{conflicts}/200 trials where modality 2 disagrees"
    );
}

#[test]
fn delayed_decisions_have_two_stimulus_epochs_and_a_second_delay() {
    for tr in trials("contextdelaydm2", 100, 7) {
        assert!(steps(&[200.0, 400.0, 600.0]).contains(&len(&tr, "stim1")));
        assert!(steps(&[200.0, 400.0, 600.0]).contains(&len(&tr, "stim2")));
        assert!(steps(&[200.0, 400.0, 800.0, 1600.0]).contains(&len(&tr, "delay1")));
        assert!((5..15).contains(&len(&tr, "delay2")), "U(100, 300) ms");
        let s2 = tr.epoch("stim2").unwrap().start;
        assert!(ring_loc(&tr, s2, 1).is_some() && ring_loc(&tr, s2, 2).is_some());
        assert!(ring_loc(&tr, s2 - 1, 1).is_none(), "nothing during the delay");
    }
}

#[test]
fn match_tasks_go_or_withhold_by_the_rule() {
    for (name, go_on_match) in [("dmsgo", true), ("dmsnogo", false), ("dmcgo", true), ("dmcnogo", false)] {
        let (mut goes, mut n) = (0, 0);
        for tr in trials(name, 300, 8) {
            let s1 = tr.epoch("stim1").unwrap().start;
            let l1 = [1, 2].iter().find_map(|&m| ring_loc(&tr, s1, m)).unwrap();
            let l2 = [1, 2].iter().find_map(|&m| ring_loc(&tr, tr.go, m)).unwrap();
            let matched = if name.starts_with("dmc") {
                (l1 < PI) == (l2 < PI)
            } else {
                ring::periodic_distance(l1, l2) < 1e-3
            };
            let go = matches!(final_target(&tr), Response::Ring(_));
            assert_eq!(go, matched == go_on_match, "{name}");
            if let Response::Ring(r) = final_target(&tr) {
                assert!(ring::periodic_distance(r, l2) < 1e-3, "respond to the test stimulus");
            }
            assert_eq!(tr.input(tr.steps - 1)[0], 1.0, "fixation input stays on");
            goes += usize::from(go);
            n += 1;
        }
        let p = goes as f64 / n as f64;
        assert!((p - 0.5).abs() < 0.1, "{name}: go on {p} of trials");
    }
}

#[test]
fn cost_mask_is_yangs() {
    for tr in trials("delaygo", 10, 9) {
        let o = tr.output_dim;
        let m = |t: usize, k: usize| tr.mask[t * o + k];
        assert_eq!(m(0, 1), 0.0, "first 100 ms free");
        assert_eq!(m(4, 1), 0.0);
        assert_eq!(m(5, 1), 1.0);
        assert_eq!(m(5, 0), 2.0, "fixation x2");
        assert_eq!(m(tr.go, 1), 0.0, "first 100 ms of the response free");
        assert_eq!(m(tr.go + 5, 1), 5.0);
        assert_eq!(m(tr.go + 5, 0), 10.0);
    }
}

#[test]
fn modcog_int_turns_the_response_by_omega_times_the_delay() {
    let mut delays = BTreeSet::new();
    for (name, sign) in [("delaygo_intl", 1.0), ("delaygo_intr", -1.0)] {
        for tr in trials(name, 200, 10) {
            let delay = len(&tr, "delay1");
            delays.insert(delay);
            let s = tr.epoch("stim1").unwrap().start;
            let loc = [1, 2].iter().find_map(|&m| ring_loc(&tr, s, m)).unwrap();
            let Response::Ring(r) = tr.response[tr.go] else {
                panic!()
            };
            let want = (loc + sign * 0.01 * delay as f64 * DT).rem_euclid(TAU);
            assert!(ring::periodic_distance(r, want) < 1e-4, "{name}: {r} vs {want}");
        }
    }
    assert_eq!(delays, (0..12).map(|k| k * 5).collect(), "{{0, 100, …, 1100}} ms");
}

/// Mod-Cog's `int` in its other two families (mod_cog_tasks.py): the delayed-decision family fixes the
/// delay at 500 ms and sets `i_target = int(mod(i_target ± ω·delay, dim_ring))`, 5 ring indices; the match
/// family draws the delay from {0, …, 1100} ms and moves the test target by int(±ω·delay) indices; `intr`
/// raises the index in both (32 ring units here: one index is 2π/32).
#[test]
fn modcog_int_moves_decision_and_match_targets_by_ring_indices_as_in_the_reference() {
    let index = TAU / 32.0;
    for (name, sign) in [("delaydm1_intr", 1.0), ("contextdelaydm2_intl", -1.0)] {
        for tr in trials(name, 60, 4) {
            assert_eq!(
                len(&tr, "delay1"),
                (500.0 / DT) as usize,
                "{name}: the delay is fixed at 500 ms"
            );
            let (s1, s2) = (tr.epoch("stim1").unwrap().start, tr.epoch("stim2").unwrap().start);
            let locs: Vec<f64> = [(s1, 1), (s1, 2), (s2, 1), (s2, 2)]
                .iter()
                .filter_map(|&(t, m)| ring_loc(&tr, t, m))
                .collect();
            let Response::Ring(r) = tr.response[tr.go] else {
                panic!()
            };
            // int(ω·500) = 5 indices from one of the two stimuli.
            let near = locs
                .iter()
                .map(|l| ring::periodic_distance(r, (l + sign * 5.0 * index).rem_euclid(TAU)))
                .fold(f64::INFINITY, f64::min);
            assert!(near < 1e-4, "{name}: {r} is not 5 indices from {locs:?}");
        }
    }
    let mut delays = BTreeSet::new();
    for (name, sign) in [("dmsgo_intr", 1.0), ("dmsgo_intl", -1.0)] {
        for tr in trials(name, 200, 6) {
            let Response::Ring(r) = tr.response[tr.go] else {
                continue; // a no-go trial
            };
            let delay_ms = len(&tr, "delay1") as f64 * DT;
            delays.insert(delay_ms as u64);
            let test = [1, 2].iter().find_map(|&m| ring_loc(&tr, tr.go, m)).unwrap();
            let want = (test + sign * (0.01 * delay_ms).trunc() * index).rem_euclid(TAU);
            assert!(ring::periodic_distance(r, want) < 1e-4, "{name}: {r} vs {want}");
        }
    }
    assert_eq!(delays, (0..12).map(|k| k * 100).collect(), "{{0, 100, …, 1100}} ms");
}

/// Mod-Cog's `seq` (mod_cog_tasks.py, `my_set_groundtruth`): after t steps of the decision period the
/// target index is `mod(value + int(seq·t·ω·dt), dim_ring)`, `seqr` passing seq = +1 (the index rises,
/// counter-clockwise) and `seql` −1; non-reaction seq tasks set `timing = {'decision': 1000}`, reaction
/// ones keep 500 ms. Here ω = 0.01 rad/ms, dt = 20 ms, 32 ring units: the index moves every 5 steps.
#[test]
fn modcog_seq_targets_move_by_whole_ring_indices_as_in_the_reference() {
    let n_ring = conv().n_ring as f64;
    for (name, seq, response_ms) in [
        ("fdgo_seql", -1.0, 1000.0),
        ("dm2_seqr", 1.0, 1000.0),
        ("dmsgo_intl_seqr", 1.0, 1000.0),
        ("reactgo_seqr", 1.0, 500.0),
        ("fdgo", 0.0, 500.0),
    ] {
        for tr in trials(name, 30, 11) {
            let Response::Ring(r0) = tr.response[tr.go] else {
                continue;
            };
            assert_eq!(tr.steps - tr.go, (response_ms / DT) as usize, "{name}: decision period");
            for t in 0..tr.steps - tr.go {
                let Response::Ring(r) = tr.response[tr.go + t] else {
                    panic!("{name}")
                };
                // int() truncates toward zero, as Python's.
                let moved = (seq * t as f64 * 0.01 * DT).trunc();
                let want = (r0 + moved * TAU / n_ring).rem_euclid(TAU);
                assert!(
                    ring::periodic_distance(r, want) < 1e-9,
                    "{name}, step {t}: {r} vs {want}"
                );
            }
        }
    }
}

#[test]
fn the_modcog_batteries_are_the_references_lists_and_names_round_trip() {
    // The Mod-Cog README's list: 20 + 22 int + 40 seq (its 84 entries repeat dlyantiintr/intl).
    let modcog = suite("modcog").unwrap();
    assert_eq!(modcog.len(), 82);
    assert_eq!(modcog.iter().collect::<BTreeSet<_>>().len(), 82);
    assert!(modcog.contains(&"dmcnogo_intl".to_string()) && modcog.contains(&"reactanti_seql".to_string()));
    // mod_cog_tasks.py's `…intseq` tasks set integrate = seq = True: r and r only.
    let intseq = suite("modcog_intseq").unwrap();
    assert_eq!(intseq.len(), 11);
    assert!(intseq.iter().all(|n| n.ends_with("_intr_seqr")), "{intseq:?}");
    assert_eq!(suite("yang20").unwrap().len(), 20);
    assert_eq!(suite("modcog_int").unwrap().len(), 22);
    // Our extension: every combination of directions.
    let all = suite("modcog_all_turns").unwrap();
    assert_eq!(all.len(), 126);
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 126);
    for name in &all {
        assert_eq!(&Task::from_name(name).unwrap().name(), name);
    }
    assert!(Task::from_name("fdgo_intl").is_err(), "int needs a delay");
    assert!(Task::from_name("delaygo_seql_intl").is_err(), "int before seq");
    assert!(Task::from_name("delaygoo").is_err());
    assert_eq!(YangTask::ALL.iter().filter(|t| t.has_delay()).count(), 11);
}

#[test]
fn an_oracle_scores_one_on_every_task() {
    for names in [
        suite("modcog_all_turns").unwrap(),
        vec!["flipflop".into()],
        vec!["context_integration".into()],
        vec!["sine_wave".into()],
    ] {
        let set = TaskSet::from_names(&names, Conventions::yang2019()).unwrap();
        for k in 0..set.tasks().len() {
            let batch = set.batch_of(k, 16, k as u64).unwrap();
            let scores = batch.score(&set, &batch.targets).unwrap();
            assert!(
                scores.iter().all(|&s| s == 1.0),
                "{}: {scores:?}",
                set.tasks()[k].name()
            );
        }
    }
}

#[test]
fn the_yang20_set_has_85_inputs_and_33_outputs_and_batches_are_seeded() {
    let set = TaskSet::from_names(&["yang20"], Conventions::yang2019()).unwrap();
    assert_eq!((set.input_dim(), set.output_dim()), (85, 33));
    let a = set.batch(32, 5);
    let b = set.batch(32, 5);
    let c = set.batch(32, 6);
    assert_eq!(a.inputs, b.inputs);
    assert_ne!(a.inputs, c.inputs);
    // Rule one-hot of the trial's task, and input noise of sd 0.01·√10 on silent channels.
    let r = 3;
    let k = a.tasks[r];
    let x = &a.trials[r].inputs[..85];
    assert!((x[65 + k] - 1.0).abs() < 0.2);
    let silent: Vec<f64> = a
        .trials
        .iter()
        .flat_map(|t| {
            t.inputs
                .chunks(85)
                .map(|s| f64::from(s[84 - usize::from(t.inputs[84] > 0.5)]))
        })
        .collect();
    let sd = (silent.iter().map(|v| v * v).sum::<f64>() / silent.len() as f64).sqrt();
    assert!((sd - 0.01 * 10f64.sqrt()).abs() < 0.003, "input noise sd {sd}");
    // Padding: zero cost after each trial's end.
    let short = (0..a.batch).min_by_key(|&r| a.trials[r].steps).unwrap();
    let t_end = a.trials[short].steps;
    if t_end < a.steps {
        let o = a.output_dim;
        assert!(a.mask[(t_end * a.batch + short) * o..(t_end * a.batch + short + 1) * o]
            .iter()
            .all(|&m| m == 0.0));
    }
}

/// Fixates until the response period, then picks a uniformly random direction: under Yang's tolerance
/// correct on a go trial with probability 0.2 (±0.2π of 2π), under the reference's exact scoring 1/32;
/// never on a no-go trial.
fn chance_rate(names: &[&str], trials: usize, seed: u64, rewards: DecisionRewards) -> f64 {
    let set = TaskSet::from_names(names, conv()).unwrap();
    let mut env = DecisionEnv::new(set, rewards).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut correct = 0;
    for i in 0..trials {
        env.reset(Some(seed + i as u64), &DecisionOptions::default()).unwrap();
        let go = env.trial().unwrap().go;
        let mut t = 0;
        loop {
            let a = if t < go + 5 { 0 } else { rng.random_range(1..=32) };
            let s = env.step(&a).unwrap();
            t += 1;
            if s.terminated {
                correct += usize::from(s.info.correct.unwrap());
                break;
            }
        }
    }
    correct as f64 / trials as f64
}

#[test]
fn a_random_chooser_scores_at_chance() {
    let n = 2000;
    let se = |p: f64| (p * (1.0 - p) / n as f64).sqrt();
    let tol = DecisionRewards::yang_tolerance();
    let p = chance_rate(&["fdgo", "delayanti", "dm1", "contextdelaydm1"], n, 1, tol);
    // Directions within 0.2π of the target: 7 of 32 on average (6.4 for a continuous target).
    assert!((p - 0.2).abs() < 4.0 * se(0.2), "go tasks: {p}");
    let p = chance_rate(&["dmsgo", "dmcnogo"], n, 2, tol);
    assert!((p - 0.1).abs() < 4.0 * se(0.1), "match tasks (half no-go): {p}");
    // The reference's `action == gt`: one direction of 32.
    let p = chance_rate(
        &["fdgo", "delayanti", "dm1", "contextdelaydm1"],
        n,
        1,
        DecisionRewards::default(),
    );
    assert!((p - 1.0 / 32.0).abs() < 4.0 * se(1.0 / 32.0), "go tasks, exact: {p}");
}

/// The reference's rules (Mod-Cog `_step` on NeuroGym): a choice in the fixation epoch costs −0.1 per
/// step and does not end the trial (`abort = False`); one during the stimulus or delay is ignored; in the
/// decision period only `action == gt` is correct; a held no-go trial earns nothing.
#[test]
fn decision_rules_follow_the_reference() {
    let set = TaskSet::from_names(&["delaygo"], conv()).unwrap();
    let mut env = DecisionEnv::new(set.clone(), DecisionRewards::default()).unwrap();
    env.reset(Some(4), &DecisionOptions::default()).unwrap();
    let trial = env.trial().unwrap().clone();
    let fix_end = trial.epoch("fix1").unwrap().end;
    let Response::Ring(target) = trial.response[trial.go] else {
        panic!("delaygo responds on the ring")
    };
    let gt = ((target / TAU * 32.0).round() as usize) % 32 + 1;
    let neighbour = gt % 32 + 1;
    for t in 0..trial.go {
        let s = env.step(&neighbour).unwrap();
        let want = if t < fix_end { -0.1 } else { 0.0 };
        assert_eq!((s.reward, s.terminated), (want, false), "step {t}");
    }
    // The neighbouring direction (11.25° away, inside Yang's 0.2π) is wrong here ...
    let s = env.step(&neighbour).unwrap();
    assert!(s.terminated && s.reward == 0.0 && s.info.correct == Some(false));
    // ... and right under Yang's tolerance; the exact one is right under both.
    let mut tol = DecisionEnv::new(set.clone(), DecisionRewards::yang_tolerance()).unwrap();
    tol.reset(Some(4), &DecisionOptions::default()).unwrap();
    for _ in 0..trial.go {
        tol.step(&0).unwrap();
    }
    assert_eq!(tol.step(&neighbour).unwrap().info.correct, Some(true));
    env.reset(Some(4), &DecisionOptions::default()).unwrap();
    for _ in 0..trial.go {
        env.step(&0).unwrap();
    }
    let s = env.step(&gt).unwrap();
    assert_eq!((s.reward, s.info.correct), (1.0, Some(true)));
    // A no-go trial held to its end: correct, no reward (Yang-tolerance rules pay `correct`).
    let set = TaskSet::from_names(&["dmsnogo"], conv()).unwrap();
    for (rewards, pay) in [
        (DecisionRewards::default(), 0.0),
        (DecisionRewards::yang_tolerance(), 1.0),
    ] {
        let mut env = DecisionEnv::new(set.clone(), rewards).unwrap();
        let mut seed = 0;
        loop {
            env.reset(Some(seed), &DecisionOptions::default()).unwrap();
            let tr = env.trial().unwrap();
            if tr.response[tr.steps - 1] == Response::Fixate {
                break;
            }
            seed += 1;
        }
        let last = loop {
            let s = env.step(&0).unwrap();
            if s.terminated {
                break s;
            }
        };
        assert_eq!((last.reward, last.info.correct), (pay, Some(true)));
    }
}

#[test]
fn a_uniformly_random_agent_breaks_fixation_and_an_oracle_env_agent_scores_one() {
    let set = TaskSet::from_names(&["yang20"], conv()).unwrap();
    let mut env = DecisionEnv::new(set, DecisionRewards::default()).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let (mut random_ok, mut oracle_ok) = (0, 0);
    for i in 0..400 {
        env.reset(Some(i), &DecisionOptions::default()).unwrap();
        loop {
            let s = env.step(&rng.random_range(0..33)).unwrap();
            if s.terminated {
                random_ok += usize::from(s.info.correct.unwrap());
                break;
            }
        }
        env.reset(Some(i), &DecisionOptions::default()).unwrap();
        let trial = env.trial().unwrap().clone();
        for t in 0.. {
            let a = match trial.response[t] {
                Response::Ring(l) if t >= trial.go => ((l / TAU * 32.0).round() as usize) % 32 + 1,
                _ => 0,
            };
            let s = env.step(&a).unwrap();
            if s.terminated {
                oracle_ok += usize::from(s.info.correct.unwrap());
                break;
            }
        }
    }
    assert!(random_ok < 20, "random agent: {random_ok}/400");
    assert_eq!(oracle_ok, 400);
}

#[test]
fn flip_flop_holds_the_last_pulse_and_chance_is_one_half() {
    let mut rng = rng_from_seed(12);
    let task = Task::from_name("flipflop").unwrap();
    let mut chance = Vec::new();
    for _ in 0..50 {
        let tr = task.generate(&conv(), &mut rng);
        let mut state = [0.0f32; 3];
        for t in 0..tr.steps {
            for (b, st) in state.iter_mut().enumerate() {
                if tr.input(t)[b] != 0.0 {
                    *st = tr.input(t)[b];
                }
                assert_eq!(tr.target(t)[b], *st);
            }
        }
        let random: Vec<f32> = (0..tr.steps * 3).map(|_| rng.random_range(-1.0..1.0)).collect();
        chance.push(task.score(&tr, &random));
    }
    let mean = chance.iter().sum::<f64>() / chance.len() as f64;
    assert!((mean - 0.5).abs() < 0.05, "{mean}");
}

#[test]
fn context_integration_reports_the_attended_stream() {
    let mut rng = rng_from_seed(13);
    let task = Task::from_name("context_integration").unwrap();
    let mut agree = 0;
    for _ in 0..200 {
        let tr = task.generate(&conv(), &mut rng);
        let ctx = if tr.input(0)[2] == 1.0 { 0 } else { 1 };
        let stim = tr.epoch("stim1").unwrap();
        let mean: f32 = (stim.start..stim.end).map(|t| tr.input(t)[ctx]).sum::<f32>() / (stim.end - stim.start) as f32;
        agree += usize::from(mean * tr.target(tr.steps - 1)[0] > 0.0);
    }
    // The sample mean of 40 steps of N(c, 0.5²) has the sign of c unless |c| is small.
    assert!(agree > 150, "{agree}/200");
}

#[test]
fn the_envs_pass_the_checker() {
    let set = TaskSet::from_names(&["yang20"], Conventions::yang2019()).unwrap();
    check_env(&mut DecisionEnv::new(set, DecisionRewards::default()).unwrap(), 3, 300).unwrap();
    let set = TaskSet::from_names(&["flipflop"], Conventions::yang2019()).unwrap();
    check_env(&mut OutputEnv::<3>::new(set).unwrap(), 3, 300).unwrap();
    let set = TaskSet::from_names(&["flipflop"], Conventions::yang2019()).unwrap();
    assert!(OutputEnv::<2>::new(set.clone()).is_err());
    assert!(DecisionEnv::new(set, DecisionRewards::default()).is_err());
    let mut env = OutputEnv::<3>::new(TaskSet::from_names(&["flipflop"], conv()).unwrap()).unwrap();
    env.reset(Some(0), &DecisionOptions::default()).unwrap();
    assert!(env.step(&[f32::NAN, 0.0, 0.0]).is_err(), "a NaN action is refused");
}

#[test]
fn bad_actions_and_conventions_are_refused_with_the_key() {
    let set = TaskSet::from_names(&["fdgo"], conv()).unwrap();
    let mut env = DecisionEnv::new(set, DecisionRewards::default()).unwrap();
    assert!(env.step(&0).is_err(), "a step before the first reset");
    env.reset(Some(0), &DecisionOptions::default()).unwrap();
    let e = env.step(&33).unwrap_err().to_string();
    assert!(e.contains("33"), "{e}");
    let e = env
        .reset(Some(0), &DecisionOptions { task: Some(3) })
        .unwrap_err()
        .to_string();
    assert!(e.contains("options.task"), "{e}");
    let bad = Conventions {
        dt_ms: 0.0,
        ..Conventions::yang2019()
    };
    let e = TaskSet::from_names(&["fdgo"], bad).unwrap_err().to_string();
    assert!(e.contains("dt_ms"), "{e}");
    let e = TaskSet::weighted(vec![Task::from_name("dm1").unwrap()], &[f64::NAN], conv())
        .unwrap_err()
        .to_string();
    assert!(e.contains("tasks.weights"), "{e}");
    let e = TaskSet::from_names(&["dm1", "dm1"], conv()).unwrap_err().to_string();
    assert!(e.contains("twice"), "{e}");
}

#[test]
fn classic_task_parameters_that_would_panic_are_refused_with_the_key() {
    use reachlab_envs::cognitive::{ContextIntegration, FlipFlop, SineWave};
    let refused = |t: Task, key: &str| {
        let e = TaskSet::new(vec![t], conv()).expect_err("accepted").to_string();
        assert!(e.contains(key), "{e}");
    };
    for p in [2.0, f64::NAN, -0.1] {
        refused(
            Task::FlipFlop(FlipFlop {
                pulse_prob: p,
                ..FlipFlop::default()
            }),
            "tasks.flipflop.pulse_prob",
        );
    }
    refused(
        Task::FlipFlop(FlipFlop {
            bits: 100_000,
            ..FlipFlop::default()
        }),
        "tasks.flipflop.bits",
    );
    refused(
        Task::ContextIntegration(ContextIntegration {
            coherences: vec![],
            ..ContextIntegration::default()
        }),
        "tasks.context_integration.coherences",
    );
    refused(
        Task::SineWave(SineWave {
            frequencies: 0,
            ..SineWave::default()
        }),
        "tasks.sine_wave.frequencies",
    );
    // The defaults pass.
    for name in ["flipflop", "context_integration", "sine_wave"] {
        TaskSet::from_names(&[name], conv()).unwrap();
    }
}
