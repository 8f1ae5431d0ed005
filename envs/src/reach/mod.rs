//! Delayed centre-out reaching in a force field: the environment of the curl-field experiments.
//!
//! A trial runs `trial_steps` steps of `dt` through four epochs:
//!
//! | epoch | from step | what the agent sees |
//! |---|---|---|
//! | [`Epoch::Hold`] | 0 | the hand only |
//! | [`Epoch::Cue`] | `cue_step` (drawn) | the target |
//! | [`Epoch::Move`] | `go_step` (drawn: cue + delay) | the target and the go signal; the field switches on |
//! | [`Epoch::End`] | `go_step + movement_time` | the same; the hand should be holding on the target |
//!
//! The trial is *truncated* at `trial_steps` (a time limit: bootstrap), or *terminated* there with
//! `deadline_terminates` or under the cost reward. It is also *terminated* by a premature start or a
//! success when those are configured to end it (task reward only).
//!
//! **Observation** (`f32`, in this order): `[target_x, target_y, go, hand_x, hand_y, vel_x, vel_y]` and,
//! with `observation.field_input`, an eighth component k. Target and hand positions are relative to the
//! start and multiplied by `observation.position_scale`; the target reads 0 before its cue; `go` is 0 or 1;
//! velocities are multiplied by `observation.velocity_scale`; k = b·`field_input_scale` for the trial's
//! curl field when the phase shows it, else 0. Delays and noise on the hand components are wrappers
//! ([`SensoryDelay`](crate::wrappers::SensoryDelay), [`ObservationNoise`](crate::wrappers::ObservationNoise)
//! over [`ReachEnv::HAND_COMPONENTS`]).
//!
//! **Action**: the effector's ([`Effector`]): for [`ReachEnv`] 2-D, each component clipped to
//! `±action_bound` (a force or an acceleration for the point mass, torques or a hand force for the arm);
//! for `Reach<Arm26>` six muscle excitations clipped to [0, 1], and twelve proprioceptive components
//! (fibre lengths / optimal lengths, fibre velocities / maximal velocities) after the task's
//! observation. Effort terms measure actions in units of `action_bound` (excitations in units of 1). NaN
//! or infinite actions are refused with an error.
//!
//! **Reward**: see [`RewardConfig`].
//!
//! ```
//! use reachlab_envs::{Env, reach::{ReachConfig, ReachEnv, ReachOptions}};
//! let mut env = ReachEnv::new(ReachConfig::default()).unwrap();
//! let (obs, info) = env.reset(Some(42), &ReachOptions::default()).unwrap();
//! assert_eq!(obs.len(), 7);
//! let step = env.step(&[0.0, 0.0]).unwrap();
//! assert!(!step.terminated && !step.truncated);
//! assert!(env.step(&[f32::NAN, 0.0]).is_err());
//! # let _ = info;
//! ```

mod config;
pub mod cost;
mod schedule;
mod senses;

pub use config::{
    ChannelConfig, Duration, EffectorConfig, ObservationConfig, PrematureConfig, ReachConfig, RewardConfig, RewardKind,
};
pub use cost::{CostConfig, StepCost};
pub use schedule::{FieldSpec, Phase, PhaseSchedule, TargetSet};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::effector::{sum_sq, ChannelLaw, Effector, ForceLaw, HandState, PointMass, TwoLinkArm};
use crate::env::{check_finite, Env, Transition};
use crate::error::{EnvError, Result};
use crate::seeding::{rng_from_entropy, rng_from_seed, EnvRng};
use crate::space::{BoxSpace, Space};

/// Kind of trial, drawn per trial from the phase's mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialType {
    /// The phase's field acts (if it covers the target).
    #[default]
    Normal,
    /// The field is off.
    Catch,
    /// A force channel clamps the hand to the start→target line.
    Channel,
}

/// Trial epoch at the current step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Epoch {
    /// Before the target cue.
    #[default]
    Hold,
    /// Target shown, waiting for the go cue (the delay).
    Cue,
    /// After the go cue, within the movement time.
    Move,
    /// After the movement time.
    End,
}

/// Per-step information for analysis and logs; `C` is the effector's applied action (`[f64; 2]` for the
/// 2-D effectors of [`ReachEnv`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ReachInfo<C = [f64; 2]> {
    /// Steps taken in this trial (0 at reset).
    pub step: u32,
    /// Epoch at this step.
    pub epoch: Epoch,
    /// Target index.
    pub target: usize,
    /// Target position relative to the start (m).
    pub target_pos: [f64; 2],
    /// Trial type.
    pub trial_type: TrialType,
    /// True when a field or channel acts in this trial after the go cue.
    pub field_on: bool,
    /// Curl coefficient b of this trial's field (0 when none or not a curl).
    pub field_b: f64,
    /// Hand state after the step (relative to the start).
    pub hand: HandState,
    /// External force applied to the hand during the step just taken (N); in channel trials, the
    /// channel's force, i.e. the force the agent pushed against the wall with.
    pub field_force: [f64; 2],
    /// The action applied during the step just taken, after clipping to the action space (zero after a
    /// reset): with the observations, what a recorded trial needs to be replayed.
    pub action: C,
    /// Step of the target cue.
    pub cue_step: u32,
    /// Step of the go cue.
    pub go_step: u32,
    /// The hand has held on the target long enough (at this step or earlier).
    pub success: bool,
    /// The hand left the start before the go cue (at this step or earlier).
    pub premature: bool,
}

impl<C> ReachInfo<C> {
    /// The same info with its action mapped by `f` (`|_| ()` drops it).
    pub fn map_action<D>(self, f: impl FnOnce(C) -> D) -> ReachInfo<D> {
        ReachInfo {
            step: self.step,
            epoch: self.epoch,
            target: self.target,
            target_pos: self.target_pos,
            trial_type: self.trial_type,
            field_on: self.field_on,
            field_b: self.field_b,
            hand: self.hand,
            field_force: self.field_force,
            action: f(self.action),
            cue_step: self.cue_step,
            go_step: self.go_step,
            success: self.success,
            premature: self.premature,
        }
    }
}

/// Reset options: force a target or a trial type (for evaluation); `None` draws as usual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReachOptions {
    /// Target index to use.
    pub target: Option<usize>,
    /// Trial type to use.
    pub trial_type: Option<TrialType>,
}

/// The 2-D effectors a [`ReachEnv`] moves, chosen by `effector` in its config: the point mass or the
/// two-link arm (forces, accelerations or torques, each clipped to `±action_bound`).
// Held inline (one per env, stepped in the hot loop); boxing the point mass would add an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Body {
    /// A point mass.
    PointMass(PointMass),
    /// A torque- or force-driven two-link arm.
    Arm(TwoLinkArm),
}

impl Effector for Body {
    type Action = [f32; 2];
    type Command = [f64; 2];

    fn from_config(config: &EffectorConfig, dt: f64) -> Result<Self> {
        match *config {
            EffectorConfig::PointMass(c) => Ok(Body::PointMass(PointMass::new(c, dt)?)),
            EffectorConfig::TwoLinkArm(c) => Ok(Body::Arm(TwoLinkArm::new(c, dt)?)),
            EffectorConfig::Arm26(_) => Err(EnvError::config(
                "effector.kind",
                "arm26 is driven by 6 muscle excitations: build a `Reach<Arm26>`, not a 2-D `ReachEnv`",
            )),
        }
    }

    fn action_space(&self, bound: f64) -> Space {
        let bound = bound as f32;
        Space::Box(BoxSpace::uniform(2, -bound, bound))
    }

    #[inline]
    fn command(&self, action: &[f32; 2], bound: f64) -> [f64; 2] {
        [
            f64::from(action[0]).clamp(-bound, bound),
            f64::from(action[1]).clamp(-bound, bound),
        ]
    }

    fn effort_scale(&self, bound: f64) -> f64 {
        bound
    }

    #[inline]
    fn hand(&self) -> HandState {
        match self {
            Body::PointMass(p) => p.hand(),
            Body::Arm(a) => a.hand(),
        }
    }

    #[inline]
    fn step(&mut self, u: &[f64; 2], law: &ForceLaw) {
        match self {
            Body::PointMass(p) => p.step(*u, law),
            Body::Arm(a) => a.step(*u, law),
        }
    }

    fn rest_at_start(&mut self) {
        match self {
            Body::PointMass(p) => p.set_state([0.0; 2], [0.0; 2]),
            Body::Arm(a) => a.reset(),
        }
    }

    fn hand_inertia(&self) -> crate::effector::Mat2 {
        match self {
            Body::PointMass(p) => p.hand_inertia(),
            Body::Arm(a) => a.hand_inertia(),
        }
    }
}

/// Code generic over the effector's type, run with the type an env's `effector` table names
/// ([`EffectorConfig::visit`]). The one place where an effector kind becomes a type: a new effector adds
/// its arm there, and every visitor (the run, its validation, the plant's trial draw, the hand inertia at
/// the start) serves it unchanged.
pub trait EffectorVisitor {
    /// What the visit gives.
    type Output;
    /// Runs with effector type `B`.
    fn visit<B: Effector>(self) -> Self::Output;
}

impl EffectorConfig {
    /// Runs `visitor` with the effector type this table names: [`Body`] for the point mass and the
    /// two-link arm (2-D actions), [`Arm26`](crate::effector::Arm26) for the muscle arm.
    pub fn visit<V: EffectorVisitor>(&self, visitor: V) -> V::Output {
        match self {
            EffectorConfig::PointMass(_) | EffectorConfig::TwoLinkArm(_) => visitor.visit::<Body>(),
            EffectorConfig::Arm26(_) => visitor.visit::<crate::effector::Arm26>(),
        }
    }

    /// The hand's apparent inertia `Λ` ([`Effector::hand_inertia`]) of this effector at rest in its start
    /// posture, where every reach begins: turns the hand's initial acceleration into the force behind it.
    pub fn hand_inertia_at_start(&self, dt: f64) -> Result<crate::effector::Mat2> {
        struct AtRest<'a>(&'a EffectorConfig, f64);
        impl EffectorVisitor for AtRest<'_> {
            type Output = Result<crate::effector::Mat2>;
            fn visit<B: Effector>(self) -> Self::Output {
                let mut body = B::from_config(self.0, self.1)?;
                body.rest_at_start();
                Ok(body.hand_inertia())
            }
        }
        self.visit(AtRest(self, dt))
    }
}

/// What was drawn for the current trial.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Trial {
    target: usize,
    target_pos: [f64; 2],
    trial_type: TrialType,
    cue_step: u32,
    go_step: u32,
    move_end: u32,
    law: ForceLaw,
    field_on: bool,
    field_b: f64,
    k_obs: f32,
}

/// The delayed centre-out reaching environment (see the [module docs](self)), moving effector `B`.
///
/// [`ReachEnv`] is this task with the 2-D effectors ([`Body`]); `Reach<Arm26>` moves MotorNet's
/// six-muscle arm. The task (trials, phases, fields, rewards, observation) is the same code for all.
#[derive(Debug, Clone)]
pub struct Reach<B: Effector> {
    config: ReachConfig,
    phase: Phase,
    rng: Option<EnvRng>,
    obs_space: Space,
    action_space: Space,
    body: B,
    /// The senses' delay line (none when nothing is delayed).
    senses: Option<senses::DelayLine>,
    trial: Trial,
    step: u32,
    in_zone: u32,
    success: bool,
    premature: bool,
    needs_reset: bool,
    /// The action applied at the previous step of this trial (the cost's jerk term).
    previous_action: Option<B::Command>,
    /// The hand's velocity before the previous step (the cost's hand jerk; zero at a trial's start).
    earlier_vel: [f64; 2],
}

/// The reaching task with the point mass or the two-link arm (2-D actions).
pub type ReachEnv = Reach<Body>;

impl<B: Effector> Reach<B> {
    /// Indices of the hand position and velocity in the observation.
    pub const HAND_COMPONENTS: std::ops::Range<usize> = 3..7;

    /// An env in the null-field phase `baseline`; call [`Env::reset`] before stepping.
    pub fn new(config: ReachConfig) -> Result<Self> {
        config.validate()?;
        let body = B::from_config(&config.effector, config.dt)?;
        let ps = config.observation.position_scale as f32;
        let target_bound = ps * config.radius as f32;
        let mut low = vec![-target_bound, -target_bound, 0.0, f32::NEG_INFINITY, f32::NEG_INFINITY];
        let mut high = vec![target_bound, target_bound, 1.0, f32::INFINITY, f32::INFINITY];
        low.extend([f32::NEG_INFINITY; 2]);
        high.extend([f32::INFINITY; 2]);
        if config.observation.field_input {
            low.push(f32::NEG_INFINITY);
            high.push(f32::INFINITY);
        }
        low.extend(std::iter::repeat_n(f32::NEG_INFINITY, body.proprioception_dim()));
        high.extend(std::iter::repeat_n(f32::INFINITY, body.proprioception_dim()));
        Ok(Reach {
            obs_space: Space::Box(BoxSpace { low, high }),
            action_space: body.action_space(config.action_bound),
            phase: Phase::null("baseline"),
            rng: None,
            senses: {
                let (vision, proprioception) = config.observation.delay_steps(config.dt);
                senses::DelayLine::new(vision, proprioception, body.proprioception_dim())
            },
            body,
            trial: Trial::default(),
            step: 0,
            in_zone: 0,
            success: false,
            premature: false,
            needs_reset: true,
            previous_action: None,
            earlier_vel: [0.0; 2],
            config,
        })
    }

    /// The settings.
    pub fn config(&self) -> &ReachConfig {
        &self.config
    }

    /// The current phase.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Sets the phase; it takes effect at the next reset.
    pub fn set_phase(&mut self, phase: Phase) -> Result<()> {
        phase.validate(self.config.n_targets)?;
        self.phase = phase;
        Ok(())
    }

    /// The effector.
    pub fn effector(&self) -> &B {
        &self.body
    }

    /// Hand state now.
    pub fn hand(&self) -> HandState {
        self.body.hand()
    }

    /// The force law acting after the go cue in this trial.
    pub fn trial_force_law(&self) -> ForceLaw {
        self.trial.law
    }

    fn epoch_at(&self, t: u32) -> Epoch {
        if t >= self.trial.move_end {
            Epoch::End
        } else if t >= self.trial.go_step {
            Epoch::Move
        } else if t >= self.trial.cue_step {
            Epoch::Cue
        } else {
            Epoch::Hold
        }
    }

    /// The observation of this step, through the senses' delays (`fresh`: at a reset).
    fn observe(&mut self, h: &HandState, obs: &mut [f32], fresh: bool) {
        self.write_obs(h, obs);
        if let Some(line) = &mut self.senses {
            line.delay(obs, self.config.obs_dim(), fresh);
        }
    }

    fn write_obs(&self, h: &HandState, obs: &mut [f32]) {
        let ps = self.config.observation.position_scale;
        let vs = self.config.observation.velocity_scale;
        let shown = self.step >= self.trial.cue_step;
        let tp = self.trial.target_pos;
        obs[0] = if shown { (tp[0] * ps) as f32 } else { 0.0 };
        obs[1] = if shown { (tp[1] * ps) as f32 } else { 0.0 };
        obs[2] = if self.step >= self.trial.go_step { 1.0 } else { 0.0 };
        obs[3] = (h.pos[0] * ps) as f32;
        obs[4] = (h.pos[1] * ps) as f32;
        obs[5] = (h.vel[0] * vs) as f32;
        obs[6] = (h.vel[1] * vs) as f32;
        if self.config.observation.field_input {
            obs[7] = self.trial.k_obs;
        }
        let task = self.config.obs_dim();
        self.body.write_proprioception(&mut obs[task..]);
    }

    fn info(&self, hand: HandState, field_force: [f64; 2], action: B::Command) -> ReachInfo<B::Command> {
        ReachInfo {
            step: self.step,
            epoch: self.epoch_at(self.step),
            target: self.trial.target,
            target_pos: self.trial.target_pos,
            trial_type: self.trial.trial_type,
            field_on: self.trial.field_on,
            field_b: self.trial.field_b,
            hand,
            field_force,
            action,
            cue_step: self.trial.cue_step,
            go_step: self.trial.go_step,
            success: self.success,
            premature: self.premature,
        }
    }

    fn check_obs_len(&self, obs: &[f32]) -> Result<()> {
        // The task's components (`ReachConfig::obs_dim`) and the effector's proprioception.
        let expected = self.obs_dim();
        if obs.len() == expected {
            Ok(())
        } else {
            Err(EnvError::BufferSize {
                what: "observation",
                expected,
                got: obs.len(),
            })
        }
    }

    /// Draws the next trial. Every random quantity is drawn in a fixed order whatever the options, so
    /// forcing a target does not shift the rest of the stream.
    fn draw_trial(&mut self, options: &ReachOptions) -> Result<Trial> {
        let cfg = &self.config;
        let rng = self.rng.get_or_insert_with(rng_from_entropy);
        let drawn_target = rng.random_range(0..cfg.n_targets);
        let u: f64 = rng.random();
        let cue_step = cfg.cue_time.draw_steps(cfg.dt, rng);
        let go_step = cue_step + cfg.delay.draw_steps(cfg.dt, rng);
        let random_b: f64 = rng.random_range(-1.0..=1.0);

        let target = options.target.unwrap_or(drawn_target);
        if target >= cfg.n_targets {
            return Err(EnvError::config(
                "options.target",
                format!("target {target} does not exist (there are {})", cfg.n_targets),
            ));
        }
        let phase = &self.phase;
        let trial_type = options.trial_type.unwrap_or(if u < phase.channel_prob {
            TrialType::Channel
        } else if u < phase.channel_prob + phase.catch_prob {
            TrialType::Catch
        } else {
            TrialType::Normal
        });
        let target_pos = cfg.target_position(target);
        let (law, field_b) = match trial_type {
            TrialType::Catch => (ForceLaw::NULL, 0.0),
            TrialType::Channel => {
                let r = cfg.radius;
                let normal = [-target_pos[1] / r, target_pos[0] / r];
                let channel = ChannelLaw {
                    stiffness: cfg.channel.stiffness,
                    damping: cfg.channel.damping,
                    normal,
                };
                let law = ForceLaw {
                    viscous: [[0.0; 2]; 2],
                    channel: Some(channel),
                };
                (law, 0.0)
            }
            TrialType::Normal if !phase.field_targets.contains(target) => (ForceLaw::NULL, 0.0),
            TrialType::Normal => match &phase.field {
                FieldSpec::Null => (ForceLaw::NULL, 0.0),
                FieldSpec::Curl { b } => (ForceLaw::curl(*b), *b),
                FieldSpec::RandomCurl { b_max } => (ForceLaw::curl(random_b * b_max), random_b * b_max),
                FieldSpec::Viscous { matrix } => (
                    ForceLaw {
                        viscous: *matrix,
                        channel: None,
                    },
                    0.0,
                ),
            },
        };
        let k_obs = if phase.show_field_input {
            (field_b * cfg.observation.field_input_scale) as f32
        } else {
            0.0
        };
        let move_end = go_step + (cfg.movement_time / cfg.dt).round() as u32;
        Ok(Trial {
            target,
            target_pos,
            trial_type,
            cue_step,
            go_step,
            move_end,
            law,
            field_on: !law.is_null(),
            field_b,
            k_obs,
        })
    }
}

impl<B: Effector> Env for Reach<B> {
    type Action = B::Action;
    type Info = ReachInfo<B::Command>;
    type Options = ReachOptions;

    fn observation_space(&self) -> &Space {
        &self.obs_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &ReachOptions, obs: &mut [f32]) -> Result<Self::Info> {
        self.check_obs_len(obs)?;
        if let Some(s) = seed {
            self.rng = Some(rng_from_seed(s));
        }
        self.trial = self.draw_trial(options)?;
        self.body.rest_at_start();
        self.step = 0;
        self.in_zone = 0;
        self.success = false;
        self.premature = false;
        self.needs_reset = false;
        self.previous_action = None;
        self.earlier_vel = [0.0; 2];
        let hand = self.body.hand();
        self.observe(&hand, obs, true);
        Ok(self.info(hand, [0.0; 2], B::Command::default()))
    }

    fn step_into(&mut self, action: &B::Action, obs: &mut [f32]) -> Result<Transition<Self::Info>> {
        if self.needs_reset {
            return Err(EnvError::NeedsReset {
                why: "the episode is over or was never started",
            });
        }
        check_finite(action.as_ref())?;
        self.check_obs_len(obs)?;
        let cfg = &self.config;
        let bound = cfg.action_bound;
        let a = self.body.command(action, bound);
        let field_active = self.step >= self.trial.go_step;
        let law = if field_active { self.trial.law } else { ForceLaw::NULL };
        let before = self.body.hand();
        let field_force = law.force(before.pos, before.vel);
        self.body.step(&a, &law);
        self.step += 1;

        let hand = self.body.hand();
        if !(hand.pos.iter().chain(&hand.vel).all(|v| v.is_finite())) {
            self.needs_reset = true;
            return Err(EnvError::NonFiniteState {
                step: self.step,
                what: "hand state",
            });
        }
        // The phase's reward and premature-start rule when it has its own (a curriculum), else the env's.
        let rc = self.phase.reward.as_ref().unwrap_or(&cfg.reward);
        let premature = self.phase.premature.as_ref().unwrap_or(&cfg.premature);
        let dt = cfg.dt;
        let cost_reward = rc.kind == RewardKind::Cost;
        let mut reward = if cost_reward {
            let c = StepCost {
                step: self.step,
                go_step: self.trial.go_step,
                pos: hand.pos,
                vel: hand.vel,
                target: self.trial.target_pos,
                action: a.as_ref(),
                previous: self.previous_action.as_ref().map(|p| p.as_ref()),
                previous_vel: [before.vel, self.earlier_vel],
            };
            -cfg.cost.step_cost(&c, dt, cfg.radius, self.body.effort_scale(bound)) / f64::from(cfg.trial_steps)
        } else {
            let scale = self.body.effort_scale(bound);
            -rc.effort_weight * sum_sq(a.as_ref()) / (scale * scale) * dt
        };
        self.previous_action = Some(a);
        self.earlier_vel = before.vel;
        // The task terms pay (and may end the trial) under the task reward only; success and premature
        // starts are tracked under both.
        let task = if cost_reward { 0.0 } else { 1.0 };
        let mut terminated = false;
        if self.step < self.trial.go_step {
            let d = (hand.pos[0] * hand.pos[0] + hand.pos[1] * hand.pos[1]).sqrt();
            reward -= task * rc.distance_weight * rc.hold_weight * d / cfg.radius * dt;
            if d > premature.radius && !self.premature {
                self.premature = true;
                reward -= task * premature.penalty;
                terminated |= premature.terminate && !cost_reward;
            }
        } else {
            let tp = self.trial.target_pos;
            let (dx, dy) = (hand.pos[0] - tp[0], hand.pos[1] - tp[1]);
            let d = (dx * dx + dy * dy).sqrt();
            reward -= task * rc.distance_weight * d / cfg.radius * dt;
            self.in_zone = if d <= rc.success_radius { self.in_zone + 1 } else { 0 };
            if self.in_zone >= rc.hold_steps(dt) && !self.success {
                self.success = true;
                reward += task * rc.success_bonus;
                terminated |= rc.terminate_on_success && !cost_reward;
            }
        }
        let deadline = self.step >= cfg.trial_steps;
        let terminated = terminated || (deadline && (cfg.deadline_terminates || cost_reward));
        let truncated = !terminated && deadline;
        self.needs_reset = terminated || truncated;
        self.observe(&hand, obs, false);
        Ok(Transition {
            reward,
            terminated,
            truncated,
            info: self.info(hand, field_force, a),
        })
    }
}
