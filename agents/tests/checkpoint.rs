//! Checkpoints round-trip exactly, refuse the wrong architecture, and load in Python (numpy + safetensors).

use std::path::PathBuf;
use std::process::Command;

use reachlab_agents::{
    load_checkpoint, save_checkpoint, Agent, AgentError, CoreConfig, CoreKind, HeadKind, Policy, PolicyAgent,
    PolicyConfig, TrainerState,
};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reachlab-ckpt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn policy(kind: CoreKind, hidden: usize) -> Policy {
    let cfg = PolicyConfig {
        core: CoreConfig {
            kind,
            hidden,
            alpha: 0.5,
            ..CoreConfig::default()
        },
        action_mean_init_std: 0.5,
        init_seed: 3,
        ..PolicyConfig::default()
    };
    Policy::new(&cfg, 7, HeadKind::Gaussian { dim: 2 }).unwrap()
}

/// Observations, hidden states and head outputs of a deterministic run.
type Trace = (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<Vec<f32>>);

fn trace(p: &Policy, steps: usize) -> Trace {
    let mut agent = PolicyAgent::new(p.snapshot().unwrap(), true, 0);
    Agent::<[f32; 2]>::reset(&mut agent);
    let (mut obs, mut hid, mut head) = (vec![], vec![], vec![]);
    for t in 0..steps {
        let o: Vec<f32> = (0..7).map(|i| ((t * 7 + i) as f32 * 0.37).sin()).collect();
        let _: [f32; 2] = agent.act(&o);
        // The agent records its full state (`[h | c]` for an LSTM); the probe compares `h`.
        hid.push(Agent::<[f32; 2]>::hidden(&agent).unwrap()[..p.hidden()].to_vec());
        head.push(agent.head().to_vec());
        obs.push(o);
    }
    (obs, hid, head)
}

#[test]
fn a_checkpoint_round_trips_and_refuses_another_architecture() {
    let dir = tmp("roundtrip");
    let p = policy(CoreKind::Gru, 12);
    let state = TrainerState {
        updates: 17,
        env_steps: 12345,
        ..TrainerState::default()
    };
    save_checkpoint(&dir, &p, state).unwrap();
    let (q, s2) = load_checkpoint(&dir).unwrap();
    assert_eq!(s2, state);
    assert_eq!(trace(&p, 20), trace(&q, 20), "loaded policy acts differently");

    // Same layout, different hidden size: the error names the tensor.
    let mut other = policy(CoreKind::Gru, 10);
    let err = other.params_mut().load(&dir.join("weights.safetensors")).unwrap_err();
    assert!(matches!(err, AgentError::Checkpoint { .. }), "{err}");
    assert!(err.to_string().contains("actor."), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn python_reproduces_the_actor_from_the_checkpoint() {
    let has_python = Command::new("python3")
        .args(["-c", "import numpy, safetensors"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_python && std::env::var_os("REACHLAB_REQUIRE_PYTHON").is_none() {
        eprintln!("skipped: python3 with numpy and safetensors not found (CI sets REACHLAB_REQUIRE_PYTHON)");
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/check_checkpoint.py");
    for kind in [CoreKind::Gru, CoreKind::Lstm, CoreKind::Sparse, CoreKind::Autapse] {
        let dir = tmp(&format!("{kind:?}"));
        let p = policy(kind, 16);
        save_checkpoint(&dir, &p, TrainerState::default()).unwrap();
        let (obs, hidden, head) = trace(&p, 30);
        let probe = serde_json::json!({ "obs": obs, "hidden": hidden, "head": head });
        std::fs::write(dir.join("probe.json"), probe.to_string()).unwrap();
        let out = Command::new("python3")
            .arg(&script)
            .arg(&dir)
            .arg("--probe")
            .arg(dir.join("probe.json"))
            .output()
            .expect("python3 runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{kind:?}: {text}");
        assert!(text.contains("max |Δ hidden|"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_restored_trainer_continues_exactly_as_the_uninterrupted_one() {
    use reachlab_agents::{restore_trainer, save_trainer, RolloutConfig, RolloutWorkers, TrainConfig, Trainer};
    use reachlab_envs::reach::{ReachConfig, ReachEnv};
    use reachlab_envs::Env;
    let make = || {
        let config = TrainConfig {
            episodes_per_update: 8,
            minibatches: 2,
            rollout: RolloutConfig {
                max_steps: 60,
                ..RolloutConfig::default()
            },
            ..TrainConfig::default()
        };
        let workers = RolloutWorkers::new(8, 4, 2, |_| Ok(ReachEnv::new(ReachConfig::default())?)).unwrap();
        let env = workers.first_env();
        let pc = PolicyConfig {
            core: CoreConfig {
                hidden: 16,
                ..CoreConfig::default()
            },
            ..PolicyConfig::default()
        };
        let p = Policy::for_spaces(&pc, env.observation_space(), env.action_space()).unwrap();
        Trainer::new(p, config, workers).unwrap()
    };
    let mut a = make();
    for _ in 0..3 {
        a.update().unwrap();
    }
    let dir = tmp("resume");
    save_trainer(&dir, &a).unwrap();
    let rest_a: Vec<f64> = (0..3).map(|_| a.update().unwrap().policy_loss).collect();
    let mut b = make();
    restore_trainer(&dir, &mut b).unwrap();
    let rest_b: Vec<f64> = (0..3).map(|_| b.update().unwrap().policy_loss).collect();
    assert_eq!(rest_a, rest_b);
    assert_eq!(a.state(), b.state());
    let _ = std::fs::remove_dir_all(&dir);
}
