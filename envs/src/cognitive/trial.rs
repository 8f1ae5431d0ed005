//! One trial of a cognitive task: inputs, supervised targets, cost mask, the correct response at each
//! step and the named epochs, all on the task's time grid.

use serde::Serialize;

use super::ring;

/// A named interval of a trial, `[start, end)` in steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Epoch {
    pub name: &'static str,
    pub start: usize,
    pub end: usize,
}

/// What the network should do at a step of a ring task (Yang et al.'s `y_loc`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Response {
    /// Hold fixation.
    Fixate,
    /// Release fixation and point at this direction (radians, `[0, 2π)`).
    Ring(f64),
}

/// One trial, time-major: `inputs[t·input_dim + i]`, `targets[t·output_dim + o]`, `mask` like `targets`.
///
/// `inputs` hold the stimulus channels only (fixation and rings for the Yang family); the rule one-hot
/// and the input noise are added by [`TaskSet`](super::TaskSet), which knows the whole battery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    pub steps: usize,
    pub input_dim: usize,
    pub output_dim: usize,
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
    /// Cost weight per step and output (0 = not scored).
    pub mask: Vec<f32>,
    /// The correct response at each step (ring tasks; empty for the others).
    pub response: Vec<Response>,
    /// The first step of the response period (fixation off, or the go stimulus of a react/match task).
    pub go: usize,
    pub epochs: Vec<Epoch>,
}

impl Trial {
    /// The epoch called `name`, if the trial has one.
    pub fn epoch(&self, name: &str) -> Option<&Epoch> {
        self.epochs.iter().find(|e| e.name == name)
    }

    /// The input vector at step `t`.
    pub fn input(&self, t: usize) -> &[f32] {
        &self.inputs[t * self.input_dim..(t + 1) * self.input_dim]
    }

    /// The target vector at step `t`.
    pub fn target(&self, t: usize) -> &[f32] {
        &self.targets[t * self.output_dim..(t + 1) * self.output_dim]
    }
}

/// Builds a Yang-family trial with the operations of Yang et al.'s `Trial.add` (fixation input, ring
/// stimuli, fixation output, ring output) and `add_c_mask`.
pub(crate) struct RingTrialBuilder {
    steps: usize,
    n_ring: usize,
    pref: Vec<f64>,
    x: Vec<f32>,
    y: Vec<f32>,
    response: Vec<Response>,
    epochs: Vec<Epoch>,
}

impl RingTrialBuilder {
    /// Baseline targets 0.05 everywhere, as in Yang et al.'s least-squares loss.
    pub fn new(steps: usize, n_ring: usize) -> Self {
        RingTrialBuilder {
            steps,
            n_ring,
            pref: ring::preferred(n_ring),
            x: vec![0.0; steps * (1 + 2 * n_ring)],
            y: vec![0.05; steps * (1 + n_ring)],
            response: vec![Response::Fixate; steps],
            epochs: Vec::new(),
        }
    }

    fn span(&self, on: usize, off: Option<usize>) -> std::ops::Range<usize> {
        let off = off.unwrap_or(self.steps).min(self.steps);
        on.min(off)..off
    }

    /// Fixation input 1 on `[on, off)` (`off = None`: to the end).
    pub fn fix_in(&mut self, on: usize, off: Option<usize>) {
        let w = 1 + 2 * self.n_ring;
        for t in self.span(on, off) {
            self.x[t * w] = 1.0;
        }
    }

    /// Adds a bump at `loc` with `strength` to ring `modality` (1 or 2) on `[on, off)`.
    pub fn stim(&mut self, loc: f64, on: usize, off: Option<usize>, strength: f64, modality: usize) {
        let w = 1 + 2 * self.n_ring;
        let base = 1 + (modality - 1) * self.n_ring;
        let bump: Vec<f32> = self
            .pref
            .iter()
            .map(|&p| (ring::tuning(loc, p) * strength) as f32)
            .collect();
        for t in self.span(on, off) {
            for (k, b) in bump.iter().enumerate() {
                self.x[t * w + base + k] += b;
            }
        }
    }

    /// Fixation output target 0.8 on `[on, off)`.
    pub fn fix_out(&mut self, on: usize, off: Option<usize>) {
        let w = 1 + self.n_ring;
        for t in self.span(on, off) {
            self.y[t * w] = 0.8;
        }
    }

    /// Ring output bump on `[on, off)` at `loc` moved by `trunc(rate·(t − on))` ring indices (`rate` in
    /// indices per step: 0 for a fixed target, ±ω·dt for a Mod-Cog `seq` task, whose target index moves
    /// by `int(seq·t·ω·dt)`).
    pub fn out(&mut self, loc: f64, on: usize, off: Option<usize>, rate: f64) {
        let w = 1 + self.n_ring;
        let index = std::f64::consts::TAU / self.n_ring as f64;
        for t in self.span(on, off) {
            let l = ring::wrap(loc + (rate * (t - on) as f64).trunc() * index);
            for (k, &p) in self.pref.iter().enumerate() {
                self.y[t * w + 1 + k] += ring::tuning(l, p) as f32;
            }
            self.response[t] = Response::Ring(l);
        }
    }

    pub fn epoch(&mut self, name: &'static str, start: usize, end: usize) {
        self.epochs.push(Epoch { name, start, end });
    }

    /// Yang et al.'s cost mask: 0 for the first 100 ms, 1 until `pre_off`, 5 from `post_on` (the first
    /// 100 ms of the response are free), fixation output ×2.
    pub fn finish(self, dt_ms: f64, pre_off: usize, post_on: usize, go: usize) -> Trial {
        let w = 1 + self.n_ring;
        let pre_on = (100.0 / dt_ms) as usize;
        let mut mask = vec![0.0f32; self.steps * w];
        for t in 0..self.steps {
            let v = if t >= post_on {
                5.0
            } else if t >= pre_on && t < pre_off {
                1.0
            } else {
                0.0
            };
            for o in 0..w {
                mask[t * w + o] = if o == 0 { 2.0 * v } else { v };
            }
        }
        Trial {
            steps: self.steps,
            input_dim: 1 + 2 * self.n_ring,
            output_dim: w,
            inputs: self.x,
            targets: self.y,
            mask,
            response: self.response,
            go,
            epochs: self.epochs,
        }
    }
}
