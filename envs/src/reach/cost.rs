//! The per-step cost of a reach: the objective that training through the plant minimises and that the
//! reward `reward.kind = "cost"` pays (negated), so that policy gradient and backpropagation through the
//! plant optimise one and the same thing.
//!
//! With `R` the reach radius, `u_max` the action bound, `s` the step count after the step (1 for the
//! first step of a trial), `p`, `v` the hand's position (relative to the start) and velocity after it,
//! `p*` the target and `u` the applied (clipped) action:
//!
//! - before the go cue (`s < go`): `w_start·|p|²/R²` (hold at the start);
//! - from `move_time` after the go cue on (`s ≥ go + round(move_time/dt)`):
//!   `w_target·√(|p − p*|² + 10⁻⁶)/R + w_stop·|v·τ/R|²` with τ = `move_time` (be on the target, and still;
//!   the distance itself, smoothed within 1 mm, not its square, so its pull does not fade near the target:
//!   MotorNet's position loss is an L1 norm for the same reason);
//! - from the go cue on (`s ≥ go`): `w_path·(d⊥/R)²`, d⊥ the distance from the straight start→target line,
//!   and `w_overshoot·(max(0, p·û − |p*|)/R)²`, the distance past the target along the reach direction û
//!   (0 unless set: the target term pays nothing before `move_time`, so a reach that overshoots and comes
//!   back before then is not paid for; for arm26 that overshoot made the path ~4 % longer than straight);
//! - always: `w_effort·|u/u_max|²`, and from the second step of a trial on `w_jerk·|Δu/u_max|²`;
//! - always (0 unless set): `w_hand_jerk·|j·τ³/R|²`, with `j = (v − 2v₋₁ + v₋₂)/dt²` the hand's jerk from its
//!   velocities after this step and the two before (the hand rests before a trial's first step): Flash &
//!   Hogan's kinematic smoothness cost. For the point mass the command's change is the hand's jerk times
//!   the mass, so `w_jerk` alone asks for it; for a muscle arm, whose excitations reach the hand through
//!   activation dynamics and the muscles' force–length–velocity relations, it does not.
//!
//! A trial's cost is the mean of its step costs over `trial_steps` (the whole trial is always simulated).
//! With no cost on the way the cheapest reach that arrives by `move_time` with the least squared jerk of
//! the command is close to minimum jerk (Flash & Hogan 1985): straight, one bell-shaped speed peak.
//!
//! Training through the plant (`reachlab_agents::plant_bptt_step`) computes the same cost on tensors; a
//! test holds the two equal to round-off (`agents/tests/consistency.rs`).
//!
//! ```
//! use reachlab_envs::reach::{CostConfig, StepCost};
//! let cost = CostConfig::default();
//! // At rest on the start before the go cue, with no command: nothing to pay.
//! let at_rest = StepCost {
//!     step: 1,
//!     go_step: 30,
//!     pos: [0.0; 2],
//!     vel: [0.0; 2],
//!     target: [0.1, 0.0],
//!     action: &[0.0; 2],
//!     previous: None,
//!     previous_vel: [[0.0; 2]; 2],
//! };
//! assert_eq!(cost.step_cost(&at_rest, 0.01, 0.1, 10.0), 0.0);
//! ```

use serde::{Deserialize, Serialize};

use crate::effector::sum_sq;
use crate::error::{EnvError, Result};

/// Weights of the per-step cost (see the [module docs](self)); a TOML table `[env.cost]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostConfig {
    /// Time (s) after the go cue from which the hand should be on the target and still.
    pub move_time: f64,
    /// Holding at the start before the go cue.
    pub w_start: f64,
    /// Distance to the target from `move_time` on.
    pub w_target: f64,
    /// Speed from `move_time` on.
    pub w_stop: f64,
    /// Squared distance from the straight start→target line after the go cue.
    pub w_path: f64,
    /// Squared command.
    pub w_effort: f64,
    /// Squared change of the command between steps.
    pub w_jerk: f64,
    /// Squared jerk of the hand (normalised by `radius / move_time³`).
    pub w_hand_jerk: f64,
    /// Squared distance past the target along the reach direction after the go cue.
    pub w_overshoot: f64,
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            move_time: 0.4,
            w_start: 50.0,
            w_target: 1.0,
            w_stop: 0.1,
            w_path: 0.0,
            w_effort: 1e-3,
            w_jerk: 1e-2,
            w_hand_jerk: 0.0,
            w_overshoot: 0.0,
        }
    }
}

/// What one step's cost depends on (the state after the step, the action that led there).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepCost<'a> {
    /// Step count after this step (1 for a trial's first step).
    pub step: u32,
    /// The trial's go cue (a step count).
    pub go_step: u32,
    /// Hand position relative to the start (m).
    pub pos: [f64; 2],
    /// Hand velocity (m/s).
    pub vel: [f64; 2],
    /// Target relative to the start (m).
    pub target: [f64; 2],
    /// The applied (clipped) action, one value per actuator.
    pub action: &'a [f64],
    /// The action applied at the step before (`None` at a trial's first step).
    pub previous: Option<&'a [f64]>,
    /// Hand velocity after the step before and the one before that (zero before a trial's first steps).
    pub previous_vel: [[f64; 2]; 2],
}

impl CostConfig {
    /// Checks every weight; the error names the key.
    pub fn validate(&self) -> Result<()> {
        if !(self.move_time.is_finite() && self.move_time > 0.0) {
            return Err(EnvError::config(
                "cost.move_time",
                format!("{} must be finite and > 0", self.move_time),
            ));
        }
        for (key, v) in [
            ("cost.w_start", self.w_start),
            ("cost.w_target", self.w_target),
            ("cost.w_stop", self.w_stop),
            ("cost.w_path", self.w_path),
            ("cost.w_effort", self.w_effort),
            ("cost.w_jerk", self.w_jerk),
            ("cost.w_hand_jerk", self.w_hand_jerk),
            ("cost.w_overshoot", self.w_overshoot),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(EnvError::config(key, format!("{v} must be finite and ≥ 0")));
            }
        }
        Ok(())
    }

    /// `move_time` in whole steps of `dt`.
    pub fn move_steps(&self, dt: f64) -> u32 {
        (self.move_time / dt).round() as u32
    }

    /// The cost of one step (see the [module docs](self)), for steps of `dt`, reach radius `radius` and
    /// actions measured in units of `bound` (the action bound of forces and torques, 1 for excitations).
    pub fn step_cost(&self, c: &StepCost<'_>, dt: f64, radius: f64, bound: f64) -> f64 {
        let (r2, b2) = (radius * radius, bound * bound);
        let sq = |x: [f64; 2]| x[0] * x[0] + x[1] * x[1];
        let mut cost = self.w_effort * sum_sq(c.action) / b2;
        if let Some(prev) = c.previous {
            let jerk = c
                .action
                .iter()
                .zip(prev)
                .fold(0.0, |acc, (a, p)| acc + (a - p) * (a - p));
            cost += self.w_jerk * jerk / b2;
        }
        if self.w_hand_jerk > 0.0 {
            let [v1, v2] = c.previous_vel;
            let scale = self.move_time.powi(3) / (dt * dt * radius);
            let j = [0, 1].map(|d| (c.vel[d] - 2.0 * v1[d] + v2[d]) * scale);
            cost += self.w_hand_jerk * sq(j);
        }
        if c.step < c.go_step {
            cost += self.w_start * sq(c.pos) / r2;
            return cost;
        }
        let d = c.target[0].hypot(c.target[1]).max(f64::MIN_POSITIVE);
        let perp = c.pos[0] * (c.target[1] / d) - c.pos[1] * (c.target[0] / d);
        cost += self.w_path * perp * perp / r2;
        if self.w_overshoot > 0.0 {
            let past =
                ((c.pos[0] - c.target[0]) * (c.target[0] / d) + (c.pos[1] - c.target[1]) * (c.target[1] / d)).max(0.0);
            cost += self.w_overshoot * past * past / r2;
        }
        if c.step >= c.go_step + self.move_steps(dt) {
            let off = (sq([c.pos[0] - c.target[0], c.pos[1] - c.target[1]]) + 1e-6).sqrt();
            cost += self.w_target * off / radius + self.w_stop * sq(c.vel) * self.move_time * self.move_time / r2;
        }
        cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The overshoot term against distances worked by hand: a target 0.1 m away at 45°, the hand 0.11 m
    /// along that direction and 0.02 m to its side is 0.01 m past the target (0.02 to the side is the path
    /// term's); short of the target, or before the go cue, it costs nothing.
    #[test]
    fn the_overshoot_term_is_the_squared_distance_past_the_target() {
        let only = CostConfig {
            w_effort: 0.0,
            w_jerk: 0.0,
            w_start: 0.0,
            w_target: 0.0,
            w_stop: 0.0,
            w_path: 0.0,
            w_overshoot: 2.0,
            ..CostConfig::default()
        };
        let (u, s) = (std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::FRAC_1_SQRT_2);
        let at = |along: f64, side: f64, step: u32| StepCost {
            step,
            go_step: 30,
            pos: [along * u - side * s, along * s + side * u],
            vel: [0.0; 2],
            target: [0.1 * u, 0.1 * s],
            action: &[0.0; 2],
            previous: None,
            previous_vel: [[0.0; 2]; 2],
        };
        let r = 0.1;
        let past = only.step_cost(&at(0.11, 0.02, 40), 0.01, r, 10.0);
        assert!((past - 2.0 * 0.01f64.powi(2) / (r * r)).abs() < 1e-12, "{past}");
        assert_eq!(only.step_cost(&at(0.09, 0.02, 40), 0.01, r, 10.0), 0.0);
        assert_eq!(only.step_cost(&at(0.11, 0.0, 20), 0.01, r, 10.0), 0.0);
    }

    /// The hand jerk term against the jerk worked out by hand: velocities 0, 0.1, 0.3 m/s along x at 10 ms
    /// steps are a jerk of (0.3 − 2·0.1 + 0)/0.01² = 1000 m/s³, normalised by R/τ³ (0.1 m / 0.4³ s³) to 640.
    #[test]
    fn the_hand_jerk_term_is_the_squared_normalised_jerk() {
        let base = CostConfig {
            w_effort: 0.0,
            w_jerk: 0.0,
            w_start: 0.0,
            ..CostConfig::default()
        };
        let c = StepCost {
            step: 5,
            go_step: 30,
            pos: [0.0; 2],
            vel: [0.3, 0.0],
            target: [0.1, 0.0],
            action: &[0.0; 2],
            previous: None,
            previous_vel: [[0.1, 0.0], [0.0, 0.0]],
        };
        assert_eq!(base.step_cost(&c, 0.01, 0.1, 1.0), 0.0);
        let with = CostConfig {
            w_hand_jerk: 1e-4,
            ..base
        };
        let got = with.step_cost(&c, 0.01, 0.1, 1.0);
        assert!((got - 1e-4 * 640.0 * 640.0).abs() < 1e-9, "{got}");
        // Constant acceleration has no jerk.
        let steady = StepCost {
            previous_vel: [[0.2, 0.0], [0.1, 0.0]],
            ..c
        };
        assert!(with.step_cost(&steady, 0.01, 0.1, 1.0).abs() < 1e-9);
    }
}
