//! Settings of the reaching task: geometry, timing, effector, rewards, observations.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::effector::{Arm26Config, ArmConfig, PointMassConfig};
use crate::error::{EnvError, Result};
use crate::reach::cost::CostConfig;

/// A duration (s) drawn per trial.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Duration {
    /// Always the same.
    Fixed {
        /// Seconds.
        s: f64,
    },
    /// Uniform on `[lo, hi]`.
    Uniform {
        /// Shortest (s).
        lo: f64,
        /// Longest (s).
        hi: f64,
    },
}

impl Duration {
    /// Draws a duration and converts it to whole steps of `dt` (rounded to nearest).
    pub fn draw_steps<R: Rng + ?Sized>(&self, dt: f64, rng: &mut R) -> u32 {
        let s = match *self {
            Duration::Fixed { s } => s,
            Duration::Uniform { lo, hi } if hi > lo => rng.random_range(lo..=hi),
            Duration::Uniform { lo, .. } => lo,
        };
        (s / dt).round() as u32
    }

    /// The longest value it can take (s).
    pub fn max(&self) -> f64 {
        match *self {
            Duration::Fixed { s } => s,
            Duration::Uniform { hi, .. } => hi,
        }
    }

    fn validate(&self, key: &str) -> Result<()> {
        let ok = match *self {
            Duration::Fixed { s } => s.is_finite() && s >= 0.0,
            Duration::Uniform { lo, hi } => lo.is_finite() && hi.is_finite() && lo >= 0.0 && hi >= lo,
        };
        if ok {
            Ok(())
        } else {
            Err(EnvError::config(
                key,
                format!("{self:?} must be finite, ≥ 0, with lo ≤ hi"),
            ))
        }
    }
}

/// Which effector the agent moves.
// A config read once per env; arm26's parameter table makes that variant large, and boxing it would cost
// the `Copy` every caller relies on for nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum EffectorConfig {
    /// A point mass.
    PointMass(PointMassConfig),
    /// A two-link arm.
    TwoLinkArm(ArmConfig),
    /// MotorNet's six-muscle arm (6 excitations; a `Reach<Arm26>`).
    Arm26(Arm26Config),
}

impl Default for EffectorConfig {
    fn default() -> Self {
        EffectorConfig::PointMass(PointMassConfig::default())
    }
}

/// Reward terms, summed each step. Distances are in units of the reach radius and rates are per second
/// (multiplied by dt), so returns do not depend on the step size.
///
/// `r_t = −w_d·(d_t/R)·dt·(hold_weight before the go cue) − w_e·|a_t/a_max|²·dt + bonus·[success now]
///        − premature_penalty·[premature start now]`
///
/// where `d_t` is the hand's distance to the start before the go cue and to the target after it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewardConfig {
    /// What the reward pays: the task's terms below (`"task"`), or the negated per-step cost `env.cost`
    /// (`"cost"`, see [`crate::reach::cost`]): `r_t = −cost_t / trial_steps`, so a trial's return is minus
    /// the cost that training through the plant minimises. Under `"cost"` the terms below pay nothing,
    /// success and premature starts are reported but neither ends the trial, and every trial runs to
    /// `trial_steps` and ends there as *terminated* (a finite-horizon task: train it with γ = 1).
    pub kind: RewardKind,
    /// Weight `w_d` of the dense distance term (0 for a sparse task).
    pub distance_weight: f64,
    /// Multiplier of the distance term before the go cue (holding at the start); about 5 cures the drift
    /// toward the target during the delay that a plain −distance reward produces.
    pub hold_weight: f64,
    /// Weight `w_e` of the effort cost.
    pub effort_weight: f64,
    /// Sparse bonus when the hand has stayed within `success_radius` of the target for `hold_time`.
    pub success_bonus: f64,
    /// Radius of the target window (m).
    pub success_radius: f64,
    /// Time (s) the hand must stay inside the target window, without leaving it, for a success; leaving
    /// restarts the count. Rounded to whole steps (at least one).
    pub hold_time: f64,
    /// End the episode (terminated) at success, as a monkey's trial ends with the reward after the hold:
    /// the hand is then inside the window at the last step of every successful trial. With `false` (the
    /// rule before reach-and-hold, with `hold_time = 0.1`), the trial runs on to `trial_steps` and the
    /// hand may leave the target after the success.
    pub terminate_on_success: bool,
}

/// What the reaching reward pays (see [`RewardConfig::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    /// Distance, effort, the success bonus and the premature-start penalty.
    #[default]
    Task,
    /// Minus the per-step cost `env.cost` (the objective of training through the plant).
    Cost,
}

impl RewardConfig {
    /// The hold as whole steps of `dt` (at least one).
    pub fn hold_steps(&self, dt: f64) -> u32 {
        ((self.hold_time / dt).round() as u32).max(1)
    }

    /// Checks the table found under `key` (`"reward"`, or a phase's override): a positive window and
    /// hold, finite weights.
    pub fn validate(&self, key: &str) -> Result<()> {
        positive(&format!("{key}.success_radius"), self.success_radius)?;
        positive(&format!("{key}.hold_time"), self.hold_time)?;
        finite(&[
            (&format!("{key}.distance_weight"), self.distance_weight),
            (&format!("{key}.hold_weight"), self.hold_weight),
            (&format!("{key}.effort_weight"), self.effort_weight),
            (&format!("{key}.success_bonus"), self.success_bonus),
        ])
    }
}

impl Default for RewardConfig {
    fn default() -> Self {
        RewardConfig {
            kind: RewardKind::Task,
            distance_weight: 1.0,
            hold_weight: 5.0,
            effort_weight: 0.01,
            success_bonus: 1.0,
            success_radius: 0.015,
            // Delayed-reaching tasks end the trial with the reward after a hold on the target of a few
            // hundred ms (shared/science.md §2); 300 ms is the hold we require of the expert baseline.
            hold_time: 0.3,
            terminate_on_success: true,
        }
    }
}

/// Moving before the go cue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrematureConfig {
    /// Distance from the start (m) that counts as having moved.
    pub radius: f64,
    /// Penalty subtracted once, when it happens.
    pub penalty: f64,
    /// End the episode (terminated) when it happens.
    pub terminate: bool,
}

impl PrematureConfig {
    /// Checks the table found under `key` (`"premature"`, or a phase's override).
    pub fn validate(&self, key: &str) -> Result<()> {
        positive(&format!("{key}.radius"), self.radius)?;
        finite(&[(&format!("{key}.penalty"), self.penalty)])
    }
}

impl Default for PrematureConfig {
    fn default() -> Self {
        PrematureConfig {
            radius: 0.01,
            penalty: 1.0,
            terminate: false,
        }
    }
}

/// Scaling of the observation (see [`ReachEnv`](crate::reach::ReachEnv) for the order).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObservationConfig {
    /// Positions (target, hand) are multiplied by this (1/m); default 1/radius-ish, so targets sit on the unit circle.
    pub position_scale: f64,
    /// Velocities are multiplied by this (s/m).
    pub velocity_scale: f64,
    /// Append the field-strength input k (one more component).
    pub field_input: bool,
    /// k = b·field_input_scale.
    pub field_input_scale: f64,
    /// Visual delay (s): the hand's position and velocity observed at step t are those of
    /// `vision_delay` seconds before (the start posture's, at rest, before that). A whole multiple of
    /// `dt`; 0, the default, is none. See [`crate::reach`]'s `senses` for MotorNet's convention.
    pub vision_delay: f64,
    /// Proprioceptive delay (s), likewise for what the effector senses of itself (arm26's muscle lengths
    /// and velocities).
    pub proprioception_delay: f64,
}

impl ObservationConfig {
    /// The delays in whole steps of `dt`: (vision, proprioception). Checked by [`ReachConfig::validate`].
    pub fn delay_steps(&self, dt: f64) -> (usize, usize) {
        let steps = |d: f64| (d / dt).round() as usize;
        (steps(self.vision_delay), steps(self.proprioception_delay))
    }
}

impl Default for ObservationConfig {
    fn default() -> Self {
        ObservationConfig {
            position_scale: 10.0,
            velocity_scale: 2.0,
            field_input: false,
            field_input_scale: 0.1,
            vision_delay: 0.0,
            proprioception_delay: 0.0,
        }
    }
}

/// The force channel of error-clamp trials.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelConfig {
    /// Stiffness K (N/m).
    pub stiffness: f64,
    /// Damping C (N·s/m). Above 2√(K·m) the channel is overdamped and the perpendicular deviation
    /// stays below a_max·m/K for any bounded action.
    pub damping: f64,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            stiffness: 2000.0,
            damping: 100.0,
        }
    }
}

/// Settings of [`ReachEnv`](crate::reach::ReachEnv).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReachConfig {
    /// Number of targets, evenly spaced on the circle, target 0 at 0° (rightward), counter-clockwise.
    pub n_targets: usize,
    /// Reach distance (m).
    pub radius: f64,
    /// Step (s).
    pub dt: f64,
    /// Steps per trial; the trial is truncated there (a time limit: bootstrap from the value), or
    /// terminated with `deadline_terminates` (or under `reward.kind = "cost"`).
    pub trial_steps: u32,
    /// End a trial that reaches `trial_steps` as *terminated* (nothing to bootstrap: the trial is over,
    /// as a monkey's failed trial is) rather than truncated.
    pub deadline_terminates: bool,
    /// Time from trial start to the target cue.
    pub cue_time: Duration,
    /// Time from the target cue to the go cue (the delay).
    pub delay: Duration,
    /// Length of the movement epoch after the go cue (s); the rest of the trial is the end (hold) epoch.
    pub movement_time: f64,
    /// The effector.
    pub effector: EffectorConfig,
    /// Each action component is clipped to `[−action_bound, action_bound]`.
    pub action_bound: f64,
    /// Rewards.
    pub reward: RewardConfig,
    /// The per-step cost of a reach: what training through the plant minimises and what
    /// `reward.kind = "cost"` pays.
    pub cost: CostConfig,
    /// Premature starts.
    pub premature: PrematureConfig,
    /// Observation scaling and the k input.
    pub observation: ObservationConfig,
    /// Force channel.
    pub channel: ChannelConfig,
}

impl Default for ReachConfig {
    fn default() -> Self {
        ReachConfig {
            n_targets: 8,
            radius: 0.10,
            dt: 0.01,
            trial_steps: 150,
            deadline_terminates: false,
            cue_time: Duration::Uniform { lo: 0.1, hi: 0.3 },
            delay: Duration::Uniform { lo: 0.2, hi: 0.5 },
            movement_time: 0.5,
            effector: EffectorConfig::default(),
            action_bound: 10.0,
            reward: RewardConfig::default(),
            cost: CostConfig::default(),
            premature: PrematureConfig::default(),
            observation: ObservationConfig::default(),
            channel: ChannelConfig::default(),
        }
    }
}

impl ReachConfig {
    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<()> {
        if self.n_targets == 0 || self.n_targets > 360 {
            return Err(EnvError::config(
                "n_targets",
                format!("{} is not in 1..=360", self.n_targets),
            ));
        }
        if self.trial_steps == 0 || self.trial_steps > 100_000 {
            return Err(EnvError::config(
                "trial_steps",
                format!("{} is not in 1..=100000", self.trial_steps),
            ));
        }
        positive("radius", self.radius)?;
        positive("dt", self.dt)?;
        positive("action_bound", self.action_bound)?;
        self.reward.validate("reward")?;
        self.premature.validate("premature")?;
        positive("observation.position_scale", self.observation.position_scale)?;
        positive("observation.velocity_scale", self.observation.velocity_scale)?;
        for (key, d) in [
            ("observation.vision_delay", self.observation.vision_delay),
            (
                "observation.proprioception_delay",
                self.observation.proprioception_delay,
            ),
        ] {
            let steps = d / self.dt;
            if !(d.is_finite() && d >= 0.0) {
                return Err(EnvError::config(key, format!("must be finite and ≥ 0 s, got {d}")));
            }
            if (steps - steps.round()).abs() > 1e-6 * steps.max(1.0) {
                return Err(EnvError::config(
                    key,
                    format!("{d} s is not a whole number of steps of dt = {} s", self.dt),
                ));
            }
            if steps.round() > f64::from(self.trial_steps) {
                return Err(EnvError::config(
                    key,
                    format!("{d} s is longer than the trial ({} steps)", self.trial_steps),
                ));
            }
        }
        self.cost.validate()?;
        self.cue_time.validate("cue_time")?;
        self.delay.validate("delay")?;
        if !(self.movement_time.is_finite() && self.movement_time >= 0.0) {
            return Err(EnvError::config("movement_time", "must be finite and ≥ 0"));
        }
        let latest_go = ((self.cue_time.max() + self.delay.max()) / self.dt).round() as u32;
        if latest_go >= self.trial_steps {
            return Err(EnvError::config(
                "trial_steps",
                format!(
                    "{} steps end before the latest go cue (step {latest_go}); lengthen the trial or shorten cue_time/delay",
                    self.trial_steps
                ),
            ));
        }
        finite(&[
            ("channel.stiffness", self.channel.stiffness),
            ("channel.damping", self.channel.damping),
            ("observation.field_input_scale", self.observation.field_input_scale),
        ])
    }

    /// Target `k`'s position relative to the start (m).
    pub fn target_position(&self, k: usize) -> [f64; 2] {
        let angle = std::f64::consts::TAU * k as f64 / self.n_targets as f64;
        [self.radius * angle.cos(), self.radius * angle.sin()]
    }

    /// Length of the task's part of the observation: 7, or 8 with the k input. The env's whole observation
    /// adds the effector's proprioception after it (`Env::obs_dim`, e.g. 12 more for arm26).
    pub fn obs_dim(&self) -> usize {
        7 + usize::from(self.observation.field_input)
    }
}

/// `v` is finite and > 0, or an error naming `key`.
fn positive(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(EnvError::config(key, format!("must be finite and > 0, got {v}")))
    }
}

/// Every value is finite, or an error naming the first key that is not.
fn finite(values: &[(&str, f64)]) -> Result<()> {
    match values.iter().find(|(_, v)| !v.is_finite()) {
        Some((key, v)) => Err(EnvError::config(*key, format!("must be finite, got {v}"))),
        None => Ok(()),
    }
}
