//! The differentiable twins against the env, for every effector (the point mass, the two-link arm driven by
//! torques or by a hand force, arm26):
//! - forward: `closed_loop` run on a sequence of commands sees the observations the env shows for the same
//!   commands (hand, cues, proprioception), and its loss is minus the env's return under the cost reward,
//!   in the null field, a curl field and a force channel;
//! - backward: the gradient of that loss with respect to the commands matches central finite differences.

use candle_core::{DType, Device, Tensor, Var};
use reachlab_agents::closed_loop;
use reachlab_envs::effector::{Arm26, Arm26Config, ArmAction, ArmConfig, Effector};
use reachlab_envs::reach::{
    Body, CostConfig, EffectorConfig, FieldSpec, Phase, Reach, ReachConfig, ReachOptions, RewardKind, TargetSet,
};
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::{Env, Space, SpaceValue};

fn config(effector: EffectorConfig) -> ReachConfig {
    let mut c = ReachConfig {
        effector,
        trial_steps: 90,
        cost: CostConfig {
            w_path: 10.0,
            w_jerk: 0.5,
            w_hand_jerk: 1e-4,
            w_overshoot: 30.0,
            ..CostConfig::default()
        },
        ..ReachConfig::default()
    };
    c.reward.kind = RewardKind::Cost;
    c
}

fn phases() -> [Phase; 3] {
    [
        Phase::null("null"),
        Phase {
            field: FieldSpec::Curl { b: 10.0 },
            field_targets: TargetSet::All,
            ..Phase::null("curl")
        },
        Phase {
            channel_prob: 1.0,
            ..Phase::null("channel")
        },
    ]
}

/// Commands for step `t` of a trial, exactly representable in f32 (what the env takes), inside the
/// action space and away from its bounds (so a finite-difference step does not cross a clip).
fn command(t: u32, width: usize, low: f64, high: f64) -> Vec<f64> {
    (0..width)
        .map(|k| {
            let s = f64::from(t) * (0.05 + 0.013 * k as f64) + k as f64;
            let x = 0.5 + 0.35 * s.sin();
            f64::from((low + (high - low) * x) as f32)
        })
        .collect()
}

/// Steps the env through `commands` on the trial `closed_loop` draws first; its observations and return.
fn env_run<B: Effector>(cfg: &ReachConfig, phase: &Phase, seed: u64, commands: &[Vec<f64>]) -> (Vec<Vec<f32>>, f64)
where
    B::Action: SpaceValue,
{
    let mut env: Reach<B> = Reach::new(cfg.clone()).unwrap();
    env.set_phase(phase.clone()).unwrap();
    let options = ReachOptions {
        target: Some(0),
        trial_type: None,
    };
    let (obs, _) = env.reset(Some(derive_seed(seed, 0)), &options).unwrap();
    let (mut seen, mut ret) = (vec![obs], 0.0);
    for c in commands {
        let flat: Vec<f32> = c.iter().map(|&x| x as f32).collect();
        let action = B::Action::from_flat(&flat).unwrap();
        let step = env.step(&action).unwrap();
        ret += step.reward;
        seen.push(step.obs);
        if step.terminated || step.truncated {
            break;
        }
    }
    (seen, ret)
}

fn bounds(cfg: &ReachConfig) -> (usize, f64, f64) {
    let space = match cfg.effector {
        EffectorConfig::Arm26(_) => Reach::<Arm26>::new(cfg.clone()).unwrap().action_space().clone(),
        _ => Reach::<Body>::new(cfg.clone()).unwrap().action_space().clone(),
    };
    let Space::Box(b) = space else { panic!("box actions") };
    (b.low.len(), f64::from(b.low[0]), f64::from(b.high[0]))
}

fn check_forward(effector: EffectorConfig) {
    check_forward_of(config(effector));
}

fn check_forward_of(cfg: ReachConfig) {
    let (width, low, high) = bounds(&cfg);
    let commands: Vec<Vec<f64>> = (0..cfg.trial_steps).map(|t| command(t, width, low, high)).collect();
    for phase in &phases() {
        for seed in [3u64, 11] {
            let mut seen = Vec::new();
            let mut controller = |obs: &Tensor, t: u32| -> reachlab_agents::Result<Tensor> {
                seen.push(obs.get(0)?.to_vec1::<f64>()?);
                Ok(Tensor::new(commands[t as usize].as_slice(), &Device::Cpu)?.unsqueeze(0)?)
            };
            let ro = closed_loop(&mut controller, DType::F64, &cfg, phase, 1, 0.0, seed).unwrap();
            let loss = ro.loss.to_scalar::<f64>().unwrap();
            let (env_obs, ret) = match cfg.effector {
                EffectorConfig::Arm26(_) => env_run::<Arm26>(&cfg, phase, seed, &commands),
                _ => env_run::<Body>(&cfg, phase, seed, &commands),
            };
            assert_eq!(
                env_obs.len(),
                commands.len() + 1,
                "{}: the trial ran to its end",
                phase.name
            );
            for (t, twin) in seen.iter().enumerate() {
                assert_eq!(twin.len(), env_obs[t].len());
                for (k, (a, b)) in twin.iter().zip(&env_obs[t]).enumerate() {
                    // The env's observations are f32: the twin's f64 must round to them.
                    assert!(
                        (*a as f32 - b).abs() <= 1e-6 * b.abs().max(1.0),
                        "{} seed {seed}, step {t}, observation {k}: twin {a} vs env {b}",
                        phase.name
                    );
                }
            }
            assert!(
                (ret + loss).abs() < 1e-9 * loss.abs().max(1.0),
                "{} seed {seed}: env return {ret} vs plant loss {loss}",
                phase.name
            );
        }
    }
}

/// The loss of `commands` `[T, 1, A]` through the twin.
fn loss_of(cfg: &ReachConfig, phase: &Phase, commands: &Tensor) -> Tensor {
    let mut controller = |_obs: &Tensor, t: u32| -> reachlab_agents::Result<Tensor> { Ok(commands.get(t as usize)?) };
    closed_loop(&mut controller, DType::F64, cfg, phase, 1, 0.0, 5)
        .unwrap()
        .loss
}

/// The gradient of `loss` with respect to `var`, flattened.
fn gradient(loss: &Tensor, var: &Var) -> Vec<f64> {
    let grads = loss.backward().unwrap();
    grads
        .get(var.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn check_gradient(effector: EffectorConfig) {
    let cfg = config(effector);
    let (width, low, high) = bounds(&cfg);
    let t_max = cfg.trial_steps as usize;
    let flat: Vec<f64> = (0..cfg.trial_steps)
        .flat_map(|t| command(t, width, low, high))
        .collect();
    for phase in &phases()[1..] {
        let var = Var::from_vec(flat.clone(), (t_max, 1, width), &Device::Cpu).unwrap();
        let loss = loss_of(&cfg, phase, var.as_tensor());
        let g = gradient(&loss, &var);
        let g_max = g.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(g_max > 0.0, "{}: a gradient", phase.name);
        let mut checked = 0;
        // Commands through the whole trial (before the go cue, the reach, the hold), every actuator.
        for t in (0..t_max).step_by(7) {
            for k in 0..width {
                let i = t * width + k;
                let eps = 1e-6;
                let at = |d: f64| {
                    let mut v = flat.clone();
                    v[i] += d;
                    let x = Tensor::from_vec(v, (t_max, 1, width), &Device::Cpu).unwrap();
                    loss_of(&cfg, phase, &x).to_scalar::<f64>().unwrap()
                };
                let fd = (at(eps) - at(-eps)) / (2.0 * eps);
                assert!(
                    (fd - g[i]).abs() <= 1e-5 * g_max + 1e-4 * fd.abs(),
                    "{}: d loss / d u[{t}][{k}]: autograd {} vs finite differences {fd} (largest {g_max})",
                    phase.name,
                    g[i]
                );
                checked += 1;
            }
        }
        assert!(checked >= 13 * width);
    }
}

#[test]
fn the_point_mass_twin_sees_and_pays_what_the_env_does() {
    check_forward(EffectorConfig::default());
}

#[test]
fn the_arm26_twin_sees_and_pays_what_the_env_does() {
    check_forward(EffectorConfig::Arm26(Arm26Config::default()));
}

#[test]
fn the_point_mass_twin_gradient_matches_finite_differences() {
    check_gradient(EffectorConfig::default());
}

#[test]
fn the_arm26_twin_gradient_matches_finite_differences() {
    check_gradient(EffectorConfig::Arm26(Arm26Config::default()));
}

#[test]
fn the_two_link_arm_twin_sees_and_pays_what_the_env_does() {
    for action in [ArmAction::Torque, ArmAction::EndpointForce] {
        check_forward(two_link(action));
    }
}

#[test]
fn the_two_link_arm_twin_gradient_matches_finite_differences() {
    for action in [ArmAction::Torque, ArmAction::EndpointForce] {
        check_gradient(two_link(action));
    }
}

/// The two-link arm with 2 RK4 sub-steps (so that the twin's loop over sub-steps is exercised).
fn two_link(action: ArmAction) -> EffectorConfig {
    EffectorConfig::TwoLinkArm(ArmConfig {
        action,
        substeps: 2,
        ..ArmConfig::default()
    })
}

/// With the senses delayed (vision 3 steps, proprioception 2), the twin sees what the env shows: the
/// hand and the muscles of steps before, the start posture's at first.
#[test]
fn the_twin_sees_the_delayed_senses_the_env_shows() {
    for effector in [
        EffectorConfig::Arm26(Arm26Config::default()),
        two_link(ArmAction::Torque),
    ] {
        let mut cfg = config(effector);
        cfg.observation.vision_delay = 3.0 * cfg.dt;
        cfg.observation.proprioception_delay = 2.0 * cfg.dt;
        check_forward_of(cfg);
    }
}

/// The loss `Σ_t w_t · (hand, observed hand, proprioception)` of arm26 driven by `commands` `[T, N, 6]`
/// through `twin`, with weights that differ per column and step (so no gradient hides in a sum).
fn arm26_probe(twin: &mut dyn reachlab_agents::twin::Twin, commands: &Tensor, on: &Tensor) -> Tensor {
    let t_max = commands.dim(0).unwrap();
    let mut loss = Tensor::zeros((), DType::F64, &Device::Cpu).unwrap();
    for t in 0..t_max {
        twin.step(&commands.get(t).unwrap(), on).unwrap();
        let (p, v) = twin.hand().unwrap();
        let sense = twin.proprioception().unwrap().expect("arm26 senses itself");
        let seen = twin.observe_hand().unwrap();
        let all = Tensor::cat(&[&p, &v, &seen, &sense], 1).unwrap();
        let width = all.dim(1).unwrap();
        let w: Vec<f64> = (0..width)
            .map(|k| ((t * 31 + k * 7) % 13) as f64 / 13.0 - 0.4)
            .collect();
        let w = Tensor::from_vec(w, (1, width), &Device::Cpu).unwrap();
        let term = all.sqr().unwrap().broadcast_mul(&w).unwrap().sum_all().unwrap();
        loss = (loss + term).unwrap();
    }
    loss
}

#[test]
fn the_fused_arm26_twin_steps_and_differentiates_as_its_tensor_graph_does() {
    use reachlab_agents::twin::{Arm26GraphTwin, Arm26Twin};
    use reachlab_envs::effector::ForceLaw;
    let cfg = config(EffectorConfig::Arm26(Arm26Config::default()));
    // Four trials: no field, a curl field, a channel, a stiff curl field; the laws act from step 10 on.
    let mut channel = ForceLaw::NULL;
    channel.channel = Some(reachlab_envs::effector::ChannelLaw {
        stiffness: 2000.0,
        damping: 20.0,
        normal: [0.6, 0.8],
    });
    let laws = [ForceLaw::NULL, ForceLaw::curl(10.0), channel, ForceLaw::curl(-25.0)];
    let n = laws.len();
    let t_max = 60;
    let flat: Vec<f64> = (0..t_max)
        .flat_map(|t| (0..n).flat_map(move |i| command(t as u32 + 5 * i as u32, 6, 0.0, 1.0)))
        .collect();
    let mut grads = Vec::new();
    let mut losses = Vec::new();
    for fused in [true, false] {
        let var = Var::from_vec(flat.clone(), (t_max, n, 6), &Device::Cpu).unwrap();
        let mut twin: Box<dyn reachlab_agents::twin::Twin> = if fused {
            Box::new(Arm26Twin::new(&cfg, &laws, DType::F64).unwrap())
        } else {
            Box::new(Arm26GraphTwin::new(&cfg, &laws, DType::F64).unwrap())
        };
        let on = Tensor::ones((n, 1), DType::F64, &Device::Cpu).unwrap();
        let loss = arm26_probe(twin.as_mut(), var.as_tensor(), &on);
        let g = gradient(&loss, &var);
        losses.push(loss.to_scalar::<f64>().unwrap());
        grads.push(g);
    }
    // Forward: the same f64 step; the graph computes a few quantities in another order (its hand once per
    // step from the state, the same formula), so round-off apart.
    assert!(
        (losses[0] - losses[1]).abs() <= 1e-12 * losses[1].abs().max(1.0),
        "loss: fused {} vs graph {}",
        losses[0],
        losses[1]
    );
    let g_max = grads[1].iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(g_max > 0.0);
    for (i, (a, b)) in grads[0].iter().zip(&grads[1]).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9 * g_max,
            "d loss / d u[{}][{}][{}]: fused {a} vs graph {b} (largest {g_max})",
            i / (6 * n),
            (i / 6) % n,
            i % 6
        );
    }
}
