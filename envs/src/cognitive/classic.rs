//! The classic benchmarks of RNN dynamics (Sussillo & Barak 2013; Mante et al. 2013; Maheswaranathan
//! et al. 2019): the 3-bit flip-flop, context-dependent integration and the frequency-cued sine wave.

use std::f64::consts::TAU;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::trial::{Epoch, Trial};
use crate::seeding::EnvRng;

/// N-bit flip-flop: each input channel carries rare ±1 pulses; each output must hold the sign of the
/// last pulse on its channel. Before a channel's first pulse its output is not scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlipFlop {
    pub bits: usize,
    pub steps: usize,
    /// Probability of a pulse per step and channel.
    pub pulse_prob: f64,
}

impl Default for FlipFlop {
    fn default() -> Self {
        FlipFlop {
            bits: 3,
            steps: 100,
            pulse_prob: 0.05,
        }
    }
}

impl FlipFlop {
    pub(crate) fn generate(&self, rng: &mut EnvRng) -> Trial {
        let (n, t_max) = (self.bits, self.steps);
        let mut inputs = vec![0.0f32; t_max * n];
        let mut targets = vec![0.0f32; t_max * n];
        let mut mask = vec![0.0f32; t_max * n];
        let mut state = vec![0.0f32; n];
        for t in 0..t_max {
            for b in 0..n {
                if rng.random_bool(self.pulse_prob) {
                    let s = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                    inputs[t * n + b] = s;
                    state[b] = s;
                }
                targets[t * n + b] = state[b];
                mask[t * n + b] = if state[b] != 0.0 { 1.0 } else { 0.0 };
            }
        }
        Trial {
            steps: t_max,
            input_dim: n,
            output_dim: n,
            inputs,
            targets,
            mask,
            response: Vec::new(),
            go: 0,
            epochs: vec![Epoch {
                name: "hold",
                start: 0,
                end: t_max,
            }],
        }
    }

    /// Fraction of scored (step, bit) entries whose output has the target's sign.
    pub(crate) fn score(trial: &Trial, outputs: &[f32]) -> f64 {
        sign_agreement(trial, outputs, 0)
    }
}

/// Context-dependent integration (Mante et al. 2013): two noisy evidence streams (motion, colour) and a
/// one-hot context; after the stimulus the single output must report (±1) the sign of the mean of the
/// stream the context names, ignoring the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextIntegration {
    pub fixation_ms: f64,
    pub stimulus_ms: f64,
    pub response_ms: f64,
    /// Coherences (mean evidence per step); each stream draws one with a random sign.
    pub coherences: Vec<f64>,
    /// Standard deviation of the evidence noise per step.
    pub noise: f64,
}

impl Default for ContextIntegration {
    fn default() -> Self {
        ContextIntegration {
            fixation_ms: 300.0,
            stimulus_ms: 800.0,
            response_ms: 300.0,
            coherences: vec![0.05, 0.15, 0.5],
            noise: 0.5,
        }
    }
}

impl ContextIntegration {
    pub(crate) fn generate(&self, dt_ms: f64, rng: &mut EnvRng) -> Trial {
        let steps_of = |ms: f64| (ms / dt_ms).round() as usize;
        let (fix, stim, resp) = (
            steps_of(self.fixation_ms),
            steps_of(self.stimulus_ms),
            steps_of(self.response_ms),
        );
        let steps = fix + stim + resp;
        let pick = |rng: &mut EnvRng| {
            let c = self.coherences[rng.random_range(0..self.coherences.len())];
            if rng.random_bool(0.5) {
                c
            } else {
                -c
            }
        };
        let coh = [pick(rng), pick(rng)];
        let context = rng.random_range(0..2usize);
        let answer = if coh[context] > 0.0 { 1.0 } else { -1.0 };
        let (i_dim, o_dim) = (4, 1);
        let mut inputs = vec![0.0f32; steps * i_dim];
        let mut targets = vec![0.0f32; steps];
        let mut mask = vec![0.0f32; steps];
        let free = steps_of(100.0);
        for t in 0..steps {
            inputs[t * i_dim + 2 + context] = 1.0;
            if (fix..fix + stim).contains(&t) {
                for (s, c) in coh.iter().enumerate() {
                    let xi: f64 = StandardNormal.sample(rng);
                    inputs[t * i_dim + s] = (c + self.noise * xi) as f32;
                }
            }
            if t >= fix + stim {
                targets[t] = answer;
                mask[t] = if t >= fix + stim + free { 5.0 } else { 0.0 };
            } else {
                mask[t] = 1.0;
            }
        }
        Trial {
            steps,
            input_dim: i_dim,
            output_dim: o_dim,
            inputs,
            targets,
            mask,
            response: Vec::new(),
            go: fix + stim,
            epochs: vec![
                Epoch {
                    name: "fix1",
                    start: 0,
                    end: fix,
                },
                Epoch {
                    name: "stim1",
                    start: fix,
                    end: fix + stim,
                },
                Epoch {
                    name: "go1",
                    start: fix + stim,
                    end: steps,
                },
            ],
        }
    }

    /// 1 when the output at the last step has the sign of the attended stream's coherence.
    pub(crate) fn score(trial: &Trial, outputs: &[f32]) -> f64 {
        let last = trial.steps - 1;
        f64::from(u8::from(outputs[last] * trial.targets[last] > 0.0))
    }
}

/// Frequency-cued sine wave (Sussillo & Barak 2013): a static input `j/J + 0.25` names one of `J`
/// frequencies evenly spaced in `[min, max]` rad/step; the output must produce `sin(ω_j t)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SineWave {
    pub steps: usize,
    pub frequencies: usize,
    pub min_rad_per_step: f64,
    pub max_rad_per_step: f64,
    /// A trial is correct when the root-mean-square error over the scored steps is below this.
    pub tolerance: f64,
}

impl Default for SineWave {
    fn default() -> Self {
        SineWave {
            steps: 100,
            frequencies: 51,
            min_rad_per_step: 0.1,
            max_rad_per_step: 0.6,
            tolerance: 0.2,
        }
    }
}

impl SineWave {
    /// The angular frequency of cue `j` (rad per step).
    pub fn omega(&self, j: usize) -> f64 {
        let span = (self.frequencies.max(2) - 1) as f64;
        self.min_rad_per_step + (self.max_rad_per_step - self.min_rad_per_step) * j as f64 / span
    }

    pub(crate) fn generate(&self, rng: &mut EnvRng) -> Trial {
        let j = rng.random_range(0..self.frequencies);
        let cue = (j as f64 / self.frequencies as f64 + 0.25) as f32;
        let omega = self.omega(j);
        let phase_free = 5.min(self.steps);
        let steps = self.steps;
        Trial {
            steps,
            input_dim: 1,
            output_dim: 1,
            inputs: vec![cue; steps],
            targets: (0..steps).map(|t| ((omega * t as f64) % TAU).sin() as f32).collect(),
            mask: (0..steps).map(|t| if t >= phase_free { 1.0 } else { 0.0 }).collect(),
            response: Vec::new(),
            go: 0,
            epochs: vec![Epoch {
                name: "go1",
                start: 0,
                end: steps,
            }],
        }
    }

    pub(crate) fn score(&self, trial: &Trial, outputs: &[f32]) -> f64 {
        let (mut se, mut n) = (0.0f64, 0.0f64);
        for ((o, y), m) in outputs.iter().zip(&trial.targets).zip(&trial.mask) {
            if *m > 0.0 {
                se += f64::from(o - y).powi(2);
                n += 1.0;
            }
        }
        f64::from(u8::from((se / n.max(1.0)).sqrt() < self.tolerance))
    }
}

/// Fraction of masked entries from step `from` on where output and target have the same sign.
fn sign_agreement(trial: &Trial, outputs: &[f32], from: usize) -> f64 {
    let o = trial.output_dim;
    let (mut good, mut total) = (0usize, 0usize);
    for t in from..trial.steps {
        for k in 0..o {
            let i = t * o + k;
            if trial.mask[i] > 0.0 {
                total += 1;
                good += usize::from(outputs[i] * trial.targets[i] > 0.0);
            }
        }
    }
    if total == 0 {
        1.0
    } else {
        good as f64 / total as f64
    }
}

/// Refuses a value outside `range` (or not finite), naming the key `tasks.<task>.<field>`.
fn check(key: &str, v: f64, ok: bool, what: &str) -> crate::Result<()> {
    if v.is_finite() && ok {
        Ok(())
    } else {
        Err(crate::EnvError::config(key, format!("{v} {what}")))
    }
}

/// The most steps a classic task's trial may have (a batch holds every trial's inputs and targets).
const MAX_STEPS: usize = 100_000;

impl FlipFlop {
    /// Checks the parameters; errors name `tasks.flipflop.<field>`.
    pub fn validate(&self) -> crate::Result<()> {
        check(
            "tasks.flipflop.bits",
            self.bits as f64,
            (1..=1024).contains(&self.bits),
            "is not in 1..=1024",
        )?;
        check(
            "tasks.flipflop.steps",
            self.steps as f64,
            (1..=MAX_STEPS).contains(&self.steps),
            "is not in 1..=100000",
        )?;
        check(
            "tasks.flipflop.pulse_prob",
            self.pulse_prob,
            (0.0..=1.0).contains(&self.pulse_prob),
            "is not a probability",
        )
    }
}

impl ContextIntegration {
    /// Checks the parameters; errors name `tasks.context_integration.<field>`.
    pub fn validate(&self) -> crate::Result<()> {
        for (key, v) in [
            ("tasks.context_integration.fixation_ms", self.fixation_ms),
            ("tasks.context_integration.stimulus_ms", self.stimulus_ms),
            ("tasks.context_integration.response_ms", self.response_ms),
            ("tasks.context_integration.noise", self.noise),
        ] {
            check(key, v, (0.0..=1e7).contains(&v), "must be ≥ 0 (and at most 1e7)")?;
        }
        if self.coherences.is_empty() {
            return Err(crate::EnvError::config(
                "tasks.context_integration.coherences",
                "needs at least one coherence",
            ));
        }
        for &c in &self.coherences {
            check("tasks.context_integration.coherences", c, true, "is not finite")?;
        }
        Ok(())
    }
}

impl SineWave {
    /// Checks the parameters; errors name `tasks.sine_wave.<field>`.
    pub fn validate(&self) -> crate::Result<()> {
        check(
            "tasks.sine_wave.steps",
            self.steps as f64,
            (1..=MAX_STEPS).contains(&self.steps),
            "is not in 1..=100000",
        )?;
        check(
            "tasks.sine_wave.frequencies",
            self.frequencies as f64,
            (1..=100_000).contains(&self.frequencies),
            "is not in 1..=100000",
        )?;
        check(
            "tasks.sine_wave.min_rad_per_step",
            self.min_rad_per_step,
            true,
            "is not finite",
        )?;
        check(
            "tasks.sine_wave.max_rad_per_step",
            self.max_rad_per_step,
            self.max_rad_per_step >= self.min_rad_per_step,
            "must be ≥ min_rad_per_step",
        )?;
        check(
            "tasks.sine_wave.tolerance",
            self.tolerance,
            self.tolerance >= 0.0,
            "must be ≥ 0",
        )
    }
}
