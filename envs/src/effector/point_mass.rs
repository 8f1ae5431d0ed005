//! A point mass in the plane, integrated exactly or with one of two Euler schemes.
//!
//! Every force law reachlab applies is linear in the hand state, so one step of any scheme is an affine
//! map `z' = A·z + Bᵤ·u` of `z = [p − p₀, v]` with a control `u` held over the step (zero-order hold).
//! The maps are built once per force law and cached, so a step costs 24 multiply–adds.
//!
//! - [`Integrator::Exact`] (default): `A = e^{F·dt}` and `Bᵤ = ∫₀^dt e^{F·s} ds · G`, from the exponential of
//!   the augmented matrix `[[F, G], [0, 0]]·dt`. Under a pure curl field the velocity turns by exactly
//!   `ω·dt` per step (ω = b/m), so the speed is conserved, as in continuous time where `F·v = 0`.
//! - [`Integrator::ExplicitEuler`] (MotorNet's `PointMass`): `v += (u + F(v))·dt/m`, `p += v_old·dt`.
//! - [`Integrator::SemiImplicitEuler`]: `v += (u + F)·dt/m`, `p += v_new·dt`.
//!
//! Both Euler schemes multiply the speed by `√(1 + (b·dt/m)²)` per step under a curl field: an energy
//! leak (×1.64 after one second at b = 10 N·s/m, dt = 10 ms, m = 1 kg).

use serde::{Deserialize, Serialize};

use super::{ForceLaw, HandState};
use crate::error::{EnvError, Result};

/// How the point mass is integrated over one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Integrator {
    /// Exact solution of the linear ODE with the control held over the step (default).
    #[default]
    Exact,
    /// Explicit (forward) Euler, as MotorNet: position advances with the old velocity.
    ExplicitEuler,
    /// Semi-implicit (symplectic) Euler: position advances with the new velocity.
    SemiImplicitEuler,
}

/// What the action of a point mass means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointMassAction {
    /// The action is a force (N).
    Force,
    /// The action is a commanded acceleration (m/s²), i.e. a force `m·a`; the field still perturbs it.
    #[default]
    Acceleration,
}

/// Settings of a [`PointMass`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PointMassConfig {
    /// Mass (kg).
    pub mass: f64,
    /// Integration scheme.
    pub integrator: Integrator,
    /// Meaning of the action.
    pub action: PointMassAction,
}

impl Default for PointMassConfig {
    fn default() -> Self {
        PointMassConfig {
            mass: 1.0,
            integrator: Integrator::Exact,
            action: PointMassAction::Acceleration,
        }
    }
}

/// The affine one-step map of a scheme and force law: `z' = a·z + b·u`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StepMap {
    a: [[f64; 4]; 4],
    b: [[f64; 2]; 4],
}

/// A point mass driven by a 2-D force or acceleration.
///
/// ```
/// use reachlab_envs::effector::{ForceLaw, Integrator, PointMass, PointMassConfig};
/// let mut pm = PointMass::new(PointMassConfig { integrator: Integrator::Exact, ..Default::default() }, 0.01).unwrap();
/// pm.set_state([0.0, 0.0], [0.3, 0.0]);
/// let law = ForceLaw::curl(10.0);
/// for _ in 0..100 {
///     pm.step([0.0, 0.0], &law);
/// }
/// let v = pm.hand().vel;
/// assert!(((v[0] * v[0] + v[1] * v[1]).sqrt() - 0.3).abs() < 1e-12); // speed conserved
/// ```
#[derive(Debug, Clone)]
pub struct PointMass {
    config: PointMassConfig,
    dt: f64,
    z: [f64; 4],
    /// The null-field map (before the go cue, catch trials), built once.
    null_map: StepMap,
    /// The last non-null law and its map: trials in the same field reuse it.
    cached_law: ForceLaw,
    cached_map: StepMap,
}

impl PointMass {
    /// A point mass at rest at the start, for time step `dt` (s).
    pub fn new(config: PointMassConfig, dt: f64) -> Result<Self> {
        if !(config.mass.is_finite() && config.mass > 0.0) {
            return Err(EnvError::config(
                "effector.mass",
                format!("must be > 0, got {}", config.mass),
            ));
        }
        if !(dt.is_finite() && dt > 0.0) {
            return Err(EnvError::config("dt", format!("must be > 0, got {dt}")));
        }
        let law = ForceLaw::NULL;
        let map = step_map(&config, dt, &law);
        Ok(PointMass {
            config,
            dt,
            z: [0.0; 4],
            null_map: map,
            cached_law: law,
            cached_map: map,
        })
    }

    /// The settings.
    pub fn config(&self) -> &PointMassConfig {
        &self.config
    }

    /// Places the mass at `pos` (relative to the start) with velocity `vel`.
    pub fn set_state(&mut self, pos: [f64; 2], vel: [f64; 2]) {
        self.z = [pos[0], pos[1], vel[0], vel[1]];
    }

    /// Hand position and velocity.
    #[inline]
    pub fn hand(&self) -> HandState {
        HandState {
            pos: [self.z[0], self.z[1]],
            vel: [self.z[2], self.z[3]],
        }
    }

    /// `m·I`: the force that gives the mass a unit acceleration in each direction.
    pub fn hand_inertia(&self) -> crate::effector::Mat2 {
        let m = self.config.mass;
        [[m, 0.0], [0.0, m]]
    }

    /// The force (N) that `action` applies.
    #[inline]
    pub fn action_force(&self, action: [f64; 2]) -> [f64; 2] {
        match self.config.action {
            PointMassAction::Force => action,
            PointMassAction::Acceleration => [action[0] * self.config.mass, action[1] * self.config.mass],
        }
    }

    /// Advances one step under `action` and the external force law `law`.
    #[inline]
    pub fn step(&mut self, action: [f64; 2], law: &ForceLaw) {
        let map = if law.is_null() {
            &self.null_map
        } else {
            if *law != self.cached_law {
                self.cached_map = step_map(&self.config, self.dt, law);
                self.cached_law = *law;
            }
            &self.cached_map
        };
        let u = self.action_force(action);
        let StepMap { a, b } = map;
        let z = self.z;
        for (i, zi) in self.z.iter_mut().enumerate() {
            *zi = a[i][0] * z[0] + a[i][1] * z[1] + a[i][2] * z[2] + a[i][3] * z[3] + b[i][0] * u[0] + b[i][1] * u[1];
        }
    }
}

/// The continuous-time matrices of `ż = F·z + G·u` for this law, as 4×4 `f` and the velocity block of
/// `G` (which is `I/m`).
#[allow(clippy::needless_range_loop)]
fn continuous(config: &PointMassConfig, law: &ForceLaw) -> [[f64; 4]; 4] {
    let m = config.mass;
    let mut f = [[0.0; 4]; 4];
    f[0][2] = 1.0;
    f[1][3] = 1.0;
    for i in 0..2 {
        for j in 0..2 {
            f[2 + i][2 + j] = law.viscous[i][j] / m;
        }
    }
    if let Some(c) = &law.channel {
        let n = c.normal;
        for i in 0..2 {
            for j in 0..2 {
                f[2 + i][j] -= c.stiffness * n[i] * n[j] / m;
                f[2 + i][2 + j] -= c.damping * n[i] * n[j] / m;
            }
        }
    }
    f
}

// Index loops read as the matrix formulas they implement.
#[allow(clippy::needless_range_loop)]
fn step_map(config: &PointMassConfig, dt: f64, law: &ForceLaw) -> StepMap {
    let f = continuous(config, law);
    let inv_m = 1.0 / config.mass;
    let mut a = [[0.0; 4]; 4];
    let mut b = [[0.0; 2]; 4];
    match config.integrator {
        Integrator::Exact => {
            let mut aug = [[0.0; 6]; 6];
            for i in 0..4 {
                for j in 0..4 {
                    aug[i][j] = f[i][j] * dt;
                }
            }
            aug[2][4] = inv_m * dt;
            aug[3][5] = inv_m * dt;
            let e = super::expm(&aug);
            for i in 0..4 {
                a[i].copy_from_slice(&e[i][..4]);
                b[i].copy_from_slice(&e[i][4..]);
            }
        }
        Integrator::ExplicitEuler => {
            for i in 0..4 {
                for j in 0..4 {
                    a[i][j] = f[i][j] * dt + if i == j { 1.0 } else { 0.0 };
                }
            }
            b[2][0] = inv_m * dt;
            b[3][1] = inv_m * dt;
        }
        Integrator::SemiImplicitEuler => {
            // Velocity rows as explicit Euler; position rows p' = p + dt·v'.
            for i in 2..4 {
                for j in 0..4 {
                    a[i][j] = f[i][j] * dt + if i == j { 1.0 } else { 0.0 };
                }
            }
            b[2][0] = inv_m * dt;
            b[3][1] = inv_m * dt;
            for i in 0..2 {
                for j in 0..4 {
                    a[i][j] = if i == j { 1.0 } else { 0.0 } + dt * a[i + 2][j];
                }
                b[i][0] = dt * b[i + 2][0];
                b[i][1] = dt * b[i + 2][1];
            }
        }
    }
    StepMap { a, b }
}
