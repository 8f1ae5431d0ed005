//! The 20 tasks of Yang et al. 2019 (Nat Neurosci 22:297), with their timing distributions, stimulus
//! statistics and targets as in the authors' `task.py`, and the Mod-Cog `int`/`seq` variants
//! (Khona et al. 2023) applied on top.
//!
//! One difference, on purpose: `task.py` draws epoch durations once per batch (every trial of a batch
//! has the same timing); here every trial draws its own, from the same distributions, so one trial is
//! one episode of an env and a batch mixes timings (shorter trials are padded with zero cost).

use std::f64::consts::{PI, TAU};

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::trial::{RingTrialBuilder, Trial};
use super::Conventions;
use crate::seeding::EnvRng;

/// The 20 tasks, named as in the paper and `task.py`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YangTask {
    FdGo,
    ReactGo,
    DelayGo,
    FdAnti,
    ReactAnti,
    DelayAnti,
    Dm1,
    Dm2,
    ContextDm1,
    ContextDm2,
    MultiDm,
    DelayDm1,
    DelayDm2,
    ContextDelayDm1,
    ContextDelayDm2,
    MultiDelayDm,
    DmsGo,
    DmsNogo,
    DmcGo,
    DmcNogo,
}

use YangTask::*;

impl YangTask {
    /// All 20, in the order of the paper (and of the rule inputs).
    pub const ALL: [YangTask; 20] = [
        FdGo,
        ReactGo,
        DelayGo,
        FdAnti,
        ReactAnti,
        DelayAnti,
        Dm1,
        Dm2,
        ContextDm1,
        ContextDm2,
        MultiDm,
        DelayDm1,
        DelayDm2,
        ContextDelayDm1,
        ContextDelayDm2,
        MultiDelayDm,
        DmsGo,
        DmsNogo,
        DmcGo,
        DmcNogo,
    ];

    /// The name used in the paper's code (`fdgo`, `contextdelaydm1`, …).
    pub fn name(self) -> &'static str {
        match self {
            FdGo => "fdgo",
            ReactGo => "reactgo",
            DelayGo => "delaygo",
            FdAnti => "fdanti",
            ReactAnti => "reactanti",
            DelayAnti => "delayanti",
            Dm1 => "dm1",
            Dm2 => "dm2",
            ContextDm1 => "contextdm1",
            ContextDm2 => "contextdm2",
            MultiDm => "multidm",
            DelayDm1 => "delaydm1",
            DelayDm2 => "delaydm2",
            ContextDelayDm1 => "contextdelaydm1",
            ContextDelayDm2 => "contextdelaydm2",
            MultiDelayDm => "multidelaydm",
            DmsGo => "dmsgo",
            DmsNogo => "dmsnogo",
            DmcGo => "dmcgo",
            DmcNogo => "dmcnogo",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The 11 tasks with a memory delay, to which the Mod-Cog `int` variant applies.
    pub fn has_delay(self) -> bool {
        matches!(
            self,
            DelayGo
                | DelayAnti
                | DelayDm1
                | DelayDm2
                | ContextDelayDm1
                | ContextDelayDm2
                | MultiDelayDm
                | DmsGo
                | DmsNogo
                | DmcGo
                | DmcNogo
        )
    }
}

/// A direction of rotation for the Mod-Cog variants: `l` counter-clockwise (+), `r` clockwise (−).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Turn {
    #[serde(rename = "l")]
    Left,
    #[serde(rename = "r")]
    Right,
}

impl Turn {
    pub fn sign(self) -> f64 {
        match self {
            Turn::Left => 1.0,
            Turn::Right => -1.0,
        }
    }

    /// The direction of a `seq` rotation in ring indices: `r` raises the index (counter-clockwise), `l`
    /// lowers it, as Mod-Cog's `seq = ±1`. (The `int` shift keeps [`Turn::sign`].)
    pub fn seq_sign(self) -> f64 {
        -self.sign()
    }

    pub fn letter(self) -> char {
        match self {
            Turn::Left => 'l',
            Turn::Right => 'r',
        }
    }
}

/// The Mod-Cog modifications of a Yang task.
///
/// - `int`: the response turns with the memory delay (the network must integrate elapsed time), as each
///   Mod-Cog family does it: go tasks draw the delay from {0, 100, …, 1100} ms and turn by `ω·delay`
///   radians (`r`: the response clockwise of the stimulus); delayed decisions fix it at 500 ms and move
///   the target by `int(ω·500)` = 5 ring indices; match tasks draw it as the go tasks and move the test
///   target by `int(ω·delay)` indices (`r` raising the index in both).
/// - `seq`: during the response period (1000 ms instead of 500, but for the reaction tasks) the target
///   moves around the ring from the original response, by `int(±t·ω·dt)` ring indices after `t` steps
///   (Mod-Cog's `my_set_groundtruth`: one index per 100 ms at ω = 0.01 rad/ms; `r` raises the index).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Variant {
    pub int: Option<Turn>,
    pub seq: Option<Turn>,
}

struct Draw<'a> {
    rng: &'a mut EnvRng,
    dt: f64,
}

impl Draw<'_> {
    /// `int(ms / dt)` as in `task.py`.
    fn steps(&self, ms: f64) -> usize {
        (ms / self.dt) as usize
    }
    fn choice_ms(&mut self, options: &[f64]) -> usize {
        let ms = options[self.rng.random_range(0..options.len())];
        self.steps(ms)
    }
    fn uniform_ms(&mut self, lo: f64, hi: f64) -> usize {
        let ms = self.rng.random_range(lo..hi);
        self.steps(ms)
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.rng.random_range(lo..hi)
    }
    fn angle(&mut self) -> f64 {
        self.rng.random_range(0.0..TAU)
    }
    fn sign(&mut self) -> f64 {
        if self.rng.random_bool(0.5) {
            1.0
        } else {
            -1.0
        }
    }
    fn modality(&mut self) -> usize {
        self.rng.random_range(1..=2)
    }
    fn pick(&mut self, options: &[f64]) -> f64 {
        options[self.rng.random_range(0..options.len())]
    }
    /// A second location 0.5π–1.5π away from the first, either side (the decision tasks).
    fn distant(&mut self, loc: f64) -> f64 {
        let d = self.uniform(0.5 * PI, 1.5 * PI) * self.sign();
        (loc + d).rem_euclid(TAU)
    }
    /// `contextdm_genstim`: a pair of strengths `mean ± coh`.
    fn pair(&mut self, cohs: &[f64]) -> (f64, f64) {
        let mean = self.uniform(0.8, 1.2);
        let coh = self.pick(cohs) * self.sign();
        (mean + coh, mean - coh)
    }
}

/// The delay that an `int` variant draws: {0, 100, …, 1100} ms.
const INT_DELAYS_MS: [f64; 12] = [0., 100., 200., 300., 400., 500., 600., 700., 800., 900., 1000., 1100.];
const DELAY_MS: [f64; 4] = [200., 400., 800., 1600.];
const STIM_MS: [f64; 3] = [200., 400., 600.];

/// One trial of `task` with `variant`, drawn from `rng`.
pub(crate) fn generate(task: YangTask, variant: Variant, conv: &Conventions, rng: &mut EnvRng) -> Trial {
    let mut d = Draw { rng, dt: conv.dt_ms };
    let n = conv.n_ring;
    // Mod-Cog's `seq`: the target's ring index moves by int(seq·t·ω·dt) after t steps of the response,
    // `r` raising the index (`my_set_groundtruth`, mod_cog_tasks.py): one index per 100 ms at ω = 0.01.
    let seq_rate = variant.seq.map_or(0.0, |s| s.seq_sign() * conv.omega * conv.dt_ms);
    // The response of a `seq` task lasts 1000 ms (`timing = {'decision': 1000}`), but for reaction tasks.
    let reaction = matches!(task, ReactGo | ReactAnti);
    let response_ms = if variant.seq.is_some() && !reaction {
        1000.0
    } else {
        500.0
    };
    // The memory delay of an `int` task and the turn of the response, as each Mod-Cog family sets them
    // (mod_cog_tasks.py): the go family draws the delay from {0, 100, …, 1100} ms and shows the stimulus
    // ω·delay radians ahead of the response (`intr`: the response lies ω·delay clockwise of the
    // stimulus); the delayed-decision family fixes the delay at 500 ms and moves the chosen target by
    // int(±ω·500) ring indices; the match family draws the delay as the go family and moves the test
    // target by int(±ω·delay) indices (`intr` raising the index in both).
    let index = TAU / n as f64;
    let delay = |d: &mut Draw, default: &[f64]| -> (usize, f64) {
        let Some(turn) = variant.int else {
            return (d.choice_ms(default), 0.0);
        };
        match task {
            DelayGo | DelayAnti => {
                let steps = d.choice_ms(&INT_DELAYS_MS);
                (steps, turn.sign() * conv.omega * steps as f64 * conv.dt_ms)
            }
            DelayDm1 | DelayDm2 | ContextDelayDm1 | ContextDelayDm2 | MultiDelayDm => {
                let steps = d.steps(500.0);
                (steps, turn.seq_sign() * (conv.omega * 500.0).trunc() * index)
            }
            _ => {
                let ms = INT_DELAYS_MS[d.rng.random_range(0..INT_DELAYS_MS.len())];
                (d.steps(ms), turn.seq_sign() * (conv.omega * ms).trunc() * index)
            }
        }
    };
    let check = |go: usize, d: &Draw| go + d.steps(100.0);
    match task {
        FdGo | FdAnti | ReactGo | ReactAnti | DelayGo | DelayAnti => {
            let anti = matches!(task, FdAnti | ReactAnti | DelayAnti);
            let loc = d.angle();
            let modality = d.modality();
            let mut response = if anti { (loc + PI).rem_euclid(TAU) } else { loc };
            let (stim_on, stim_off, go, steps);
            let mut b;
            match task {
                FdGo | FdAnti => {
                    stim_on = d.uniform_ms(300.0, 700.0);
                    go = stim_on + d.uniform_ms(500.0, 1500.0);
                    steps = go + d.steps(response_ms);
                    stim_off = None;
                    b = RingTrialBuilder::new(steps, n);
                    b.fix_in(0, Some(go));
                    b.epoch("fix1", 0, stim_on);
                    b.epoch("stim1", stim_on, go);
                }
                ReactGo | ReactAnti => {
                    stim_on = d.uniform_ms(500.0, 2500.0);
                    go = stim_on;
                    steps = go + d.steps(response_ms);
                    stim_off = None;
                    b = RingTrialBuilder::new(steps, n);
                    b.fix_in(0, None);
                    b.epoch("fix1", 0, stim_on);
                }
                _ => {
                    stim_on = d.choice_ms(&[300.0, 500.0, 700.0]);
                    let off = stim_on + d.choice_ms(&STIM_MS);
                    let (dl, shift) = delay(&mut d, &DELAY_MS);
                    response = (response + shift).rem_euclid(TAU);
                    go = off + dl;
                    steps = go + d.steps(response_ms);
                    stim_off = Some(off);
                    b = RingTrialBuilder::new(steps, n);
                    b.fix_in(0, Some(go));
                    b.epoch("fix1", 0, stim_on);
                    b.epoch("stim1", stim_on, off);
                    b.epoch("delay1", off, go);
                }
            }
            b.epoch("go1", go, steps);
            b.stim(loc, stim_on, stim_off, 1.0, modality);
            b.fix_out(0, Some(go));
            b.out(response, go, None, seq_rate);
            b.finish(conv.dt_ms, go, check(go, &d), go)
        }
        Dm1 | Dm2 | ContextDm1 | ContextDm2 | MultiDm => {
            let loc1 = d.angle();
            let loc2 = d.distant(loc1);
            let cohs = [0.01, 0.02, 0.04, 0.08];
            // Strengths of stimulus 1 and 2 in modality 1 and 2.
            let (m1, m2, choose) = dm_strengths(task, &mut d, &cohs);
            let stim_on = d.uniform_ms(100.0, 400.0);
            let go = stim_on + d.choice_ms(&[400.0, 800.0, 1600.0]);
            let steps = go + d.steps(response_ms);
            let mut b = RingTrialBuilder::new(steps, n);
            b.fix_in(0, Some(go));
            for (modality, (s1, s2)) in [(1, m1), (2, m2)] {
                if s1 != 0.0 || s2 != 0.0 {
                    b.stim(loc1, stim_on, Some(go), s1, modality);
                    b.stim(loc2, stim_on, Some(go), s2, modality);
                }
            }
            b.fix_out(0, Some(go));
            b.out(if choose { loc1 } else { loc2 }, go, None, seq_rate);
            b.epoch("fix1", 0, stim_on);
            b.epoch("stim1", stim_on, go);
            b.epoch("go1", go, steps);
            b.finish(conv.dt_ms, go, check(go, &d), go)
        }
        DelayDm1 | DelayDm2 | ContextDelayDm1 | ContextDelayDm2 | MultiDelayDm => {
            let loc1 = d.angle();
            let loc2 = d.distant(loc1);
            let cohs = [0.08, 0.16, 0.32];
            let (m1, m2, choose) = dm_strengths(task, &mut d, &cohs);
            let s1_on = d.choice_ms(&STIM_MS);
            let s1_off = s1_on + d.choice_ms(&STIM_MS);
            let (dl, shift) = delay(&mut d, &DELAY_MS);
            let s2_on = s1_off + dl;
            let s2_off = s2_on + d.choice_ms(&STIM_MS);
            let go = s2_off + d.uniform_ms(100.0, 300.0);
            let steps = go + d.steps(response_ms);
            let mut b = RingTrialBuilder::new(steps, n);
            b.fix_in(0, Some(go));
            for (modality, (s1, s2)) in [(1, m1), (2, m2)] {
                if s1 != 0.0 || s2 != 0.0 {
                    b.stim(loc1, s1_on, Some(s1_off), s1, modality);
                    b.stim(loc2, s2_on, Some(s2_off), s2, modality);
                }
            }
            b.fix_out(0, Some(go));
            let response = (if choose { loc1 } else { loc2 }) + shift;
            b.out(response.rem_euclid(TAU), go, None, seq_rate);
            b.epoch("fix1", 0, s1_on);
            b.epoch("stim1", s1_on, s1_off);
            b.epoch("delay1", s1_off, s2_on);
            b.epoch("stim2", s2_on, s2_off);
            b.epoch("delay2", s2_off, go);
            b.epoch("go1", go, steps);
            b.finish(conv.dt_ms, go, check(go, &d), go)
        }
        DmsGo | DmsNogo | DmcGo | DmcNogo => {
            let category = matches!(task, DmcGo | DmcNogo);
            let nogo_on_match = matches!(task, DmsNogo | DmcNogo);
            let (mod1, mod2) = (d.modality(), d.modality());
            let (loc1, loc2, matched);
            if category {
                let opts: Vec<f64> = (0..10).map(|k| (0.1 + 0.2 * k as f64) * PI).collect();
                loc1 = d.pick(&opts);
                loc2 = d.pick(&opts);
                matched = (loc1 < PI) == (loc2 < PI);
            } else {
                matched = d.rng.random_bool(0.5);
                let dist = d.uniform(PI / 9.0, 17.0 * PI / 9.0) * d.sign();
                loc1 = d.angle();
                loc2 = if matched { loc1 } else { (loc1 + dist).rem_euclid(TAU) };
            }
            let s1_on = d.choice_ms(&STIM_MS);
            let s1_off = s1_on + d.choice_ms(&STIM_MS);
            let (dl, shift) = delay(&mut d, &DELAY_MS);
            let go = s1_off + dl;
            let steps = go
                + if category && variant.seq.is_none() {
                    d.choice_ms(&STIM_MS)
                } else {
                    d.steps(response_ms)
                };
            let mut b = RingTrialBuilder::new(steps, n);
            b.fix_in(0, None);
            b.stim(loc1, s1_on, Some(s1_off), 1.0, mod1);
            b.stim(loc2, go, None, 1.0, mod2);
            if matched == nogo_on_match {
                b.fix_out(0, None);
            } else {
                b.fix_out(0, Some(go));
                b.out((loc2 + shift).rem_euclid(TAU), go, None, seq_rate);
            }
            b.epoch("fix1", 0, s1_on);
            b.epoch("stim1", s1_on, s1_off);
            b.epoch("delay1", s1_off, go);
            b.epoch("go1", go, steps);
            b.finish(conv.dt_ms, go, check(go, &d), go)
        }
    }
}

/// Strengths `(stim1, stim2)` in modality 1 and 2 for the decision tasks, and whether stimulus 1 is the
/// correct choice. Single-modality tasks put both stimuli in one modality (the other is 0).
fn dm_strengths(task: YangTask, d: &mut Draw, cohs: &[f64]) -> ((f64, f64), (f64, f64), bool) {
    match task {
        Dm1 | Dm2 | DelayDm1 | DelayDm2 => {
            let s = d.pair(cohs);
            let one = matches!(task, Dm1 | DelayDm1);
            let (m1, m2) = if one { (s, (0.0, 0.0)) } else { ((0.0, 0.0), s) };
            (m1, m2, s.0 > s.1)
        }
        ContextDm1 | ContextDm2 | ContextDelayDm1 | ContextDelayDm2 => {
            let m1 = d.pair(cohs);
            let m2 = d.pair(cohs);
            let attended = if matches!(task, ContextDm1 | ContextDelayDm1) {
                m1
            } else {
                m2
            };
            (m1, m2, attended.0 > attended.1)
        }
        _ => {
            // multidm: split each stimulus's strength between the modalities; the sum decides.
            let (s1, s2) = d.pair(cohs);
            let mut split = |s: f64| {
                let diff = s * d.uniform(0.2, 0.8) * d.sign();
                (s + diff / 2.0, s - diff / 2.0)
            };
            let (a1, a2) = split(s1);
            let (b1, b2) = split(s2);
            ((a1, b1), (a2, b2), a1 + a2 > b1 + b2)
        }
    }
}
