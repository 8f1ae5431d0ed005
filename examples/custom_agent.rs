//! A hand-written agent stepping the reaching env through the plain `Env` API: a PD controller that
//! holds at the start until the go cue, then drives the hand to the target.
//!
//! It reaches all 8 targets in the null field with straight paths, and fails visibly in a curl field:
//! the paths bow sideways (a large maximum perpendicular deviation, MPD) because the controller does not
//! anticipate the velocity-dependent force.
//!
//! Run: `cargo run --release --example custom_agent`

use reachlab::envs::reach::{FieldSpec, Phase, ReachConfig, ReachEnv, ReachOptions};
use reachlab::envs::{Env, EnvError};

/// Proportional–derivative control of the hand, in the units of the observation.
struct PdController {
    kp: f32,
    kd: f32,
    position_scale: f32,
    velocity_scale: f32,
}

impl PdController {
    /// Acceleration command from an observation `[tx, ty, go, px, py, vx, vy]`.
    fn act(&self, obs: &[f32]) -> [f32; 2] {
        let go = obs[2] > 0.5;
        let mut a = [0.0; 2];
        for i in 0..2 {
            let goal = if go { obs[i] / self.position_scale } else { 0.0 };
            let pos = obs[3 + i] / self.position_scale;
            let vel = obs[5 + i] / self.velocity_scale;
            a[i] = self.kp * (goal - pos) - self.kd * vel;
        }
        a
    }
}

struct Reach {
    success: bool,
    mpd_cm: f64,
    /// Time from the go cue to the end of the successful hold (s).
    time_to_success: Option<f64>,
}

/// Runs one trial to `target`; returns success and the signed maximum perpendicular deviation.
fn reach_once(env: &mut ReachEnv, agent: &PdController, target: usize) -> Result<Reach, EnvError> {
    let opts = ReachOptions {
        target: Some(target),
        trial_type: None,
    };
    let (mut obs, info) = env.reset(Some(target as u64), &opts)?;
    let [tx, ty] = info.target_pos;
    let norm = tx.hypot(ty);
    let mut mpd: f64 = 0.0;
    let mut time_to_success = None;
    loop {
        let step = env.step(&agent.act(&obs))?;
        let p = step.info.hand.pos;
        let perp = (tx * p[1] - ty * p[0]) / norm; // (p × û), positive = counter-clockwise of the line
        if perp.abs() > mpd.abs() {
            mpd = perp;
        }
        if step.info.success && time_to_success.is_none() {
            time_to_success = Some(f64::from(step.info.step - step.info.go_step) * env.config().dt);
        }
        obs = step.obs;
        if step.terminated || step.truncated {
            return Ok(Reach {
                success: step.info.success,
                mpd_cm: mpd * 100.0,
                time_to_success,
            });
        }
    }
}

fn main() -> Result<(), EnvError> {
    let config = ReachConfig::default();
    let agent = PdController {
        kp: 100.0,
        kd: 20.0,
        position_scale: config.observation.position_scale as f32,
        velocity_scale: config.observation.velocity_scale as f32,
    };
    let mut env = ReachEnv::new(config.clone())?;
    for (name, field) in [
        ("null field", FieldSpec::Null),
        ("curl field b = 15 N·s/m", FieldSpec::Curl { b: 15.0 }),
    ] {
        env.set_phase(Phase {
            field,
            ..Phase::null(name)
        })?;
        println!("{name}:");
        let mut successes = 0;
        for target in 0..config.n_targets {
            let r = reach_once(&mut env, &agent, target)?;
            successes += usize::from(r.success);
            let outcome = match r.time_to_success {
                Some(t) => format!("reached and held after {t:.2} s"),
                None => "missed".to_string(),
            };
            println!(
                "  target {target} ({:>3}°): MPD {:+.2} cm, {outcome}",
                target * 360 / config.n_targets,
                r.mpd_cm
            );
        }
        println!("  {successes}/{} targets reached", config.n_targets);
    }
    Ok(())
}
