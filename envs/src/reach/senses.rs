//! The senses' delays: the hand's visual position and velocity, and what the effector senses of itself,
//! each reach the observation a fixed number of steps late.
//!
//! At step `t` the observation shows the vision of step `t − d_v` and the proprioception of step `t − d_p`
//! (the values at the reset before that: the start posture, at rest). The delays are set in seconds
//! (`observation.vision_delay`, `observation.proprioception_delay`), whole multiples of `dt`.
//!
//! MotorNet sets its delays in seconds too, but its buffer of `delay / dt` entries shows the state of
//! `delay / dt − 1` steps before (its default `delay = dt` means none; `environment.py`, `get_obs`):
//! MotorNet's `vision_delay = 0.05` at `dt = 0.01` is `0.04` here. We keep the reading that a delay of
//! `x` seconds shows the state of `x` seconds before.

/// A delay line of the sensed rows (the 4 visual components, then the proprioceptive ones), newest at
/// `head`, `depth` rows deep (the larger delay + 1). Nothing is allocated per step.
#[derive(Debug, Clone)]
pub(crate) struct DelayLine {
    vision: usize,
    proprioception: usize,
    width: usize,
    depth: usize,
    rows: Vec<f32>,
    head: usize,
}

/// The visual components: the hand's position and velocity (observation columns 3..7).
pub(crate) const VISION: std::ops::Range<usize> = 3..7;

impl DelayLine {
    /// A line for delays of `vision` and `proprioception` steps over `sensed` proprioceptive components;
    /// `None` when both delays are 0 (the observation is then written as it is sensed).
    pub(crate) fn new(vision: usize, proprioception: usize, sensed: usize) -> Option<Self> {
        if vision == 0 && proprioception == 0 {
            return None;
        }
        let width = VISION.len() + sensed;
        let depth = vision.max(proprioception) + 1;
        Some(DelayLine {
            vision,
            proprioception,
            width,
            depth,
            rows: vec![0.0; width * depth],
            head: 0,
        })
    }

    /// Takes the current senses from `obs` (vision in columns 3..7, proprioception in `obs[task..]`) into
    /// the line and writes the delayed ones in their place. `fresh` (at a reset) fills the whole line
    /// with the current row.
    pub(crate) fn delay(&mut self, obs: &mut [f32], task: usize, fresh: bool) {
        let w = self.width;
        let v = VISION.len();
        self.head = if fresh { 0 } else { (self.head + 1) % self.depth };
        let row = &mut self.rows[self.head * w..(self.head + 1) * w];
        row[..v].copy_from_slice(&obs[VISION]);
        row[v..].copy_from_slice(&obs[task..task + w - v]);
        if fresh {
            for r in 1..self.depth {
                self.rows.copy_within(..w, r * w);
            }
        }
        let at = |lag: usize| ((self.head + self.depth - lag) % self.depth) * w;
        let (vision, proprioception) = (at(self.vision), at(self.proprioception));
        obs[VISION].copy_from_slice(&self.rows[vision..vision + v]);
        obs[task..task + w - v].copy_from_slice(&self.rows[proprioception + v..proprioception + w]);
    }
}
