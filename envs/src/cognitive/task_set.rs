//! Tasks by name, batteries of tasks sampled by weight, and padded supervised batches.

use std::f64::consts::PI;

use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::classic::{ContextIntegration, FlipFlop, SineWave};
use super::trial::{Response, Trial};
use super::yang::{self, Turn, Variant, YangTask};
use super::{ring, Conventions};
use crate::error::{EnvError, Result};
use crate::seeding::{rng_from_seed, EnvRng};

/// One task.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// A Yang et al. task, possibly with Mod-Cog `int`/`seq` modifications.
    Yang {
        task: YangTask,
        variant: Variant,
    },
    FlipFlop(FlipFlop),
    ContextIntegration(ContextIntegration),
    SineWave(SineWave),
}

impl Task {
    /// Parses a task name: a Yang task (`delaygo`), optionally followed by `_int{l,r}` (delay tasks
    /// only) and/or `_seq{l,r}` (`delaygo_intl_seqr`); or `flipflop`, `context_integration`, `sine_wave`
    /// (default parameters).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "flipflop" => return Ok(Task::FlipFlop(FlipFlop::default())),
            "context_integration" => return Ok(Task::ContextIntegration(ContextIntegration::default())),
            "sine_wave" => return Ok(Task::SineWave(SineWave::default())),
            _ => {}
        }
        let unknown = || {
            EnvError::config(
                "tasks.names",
                format!("unknown task `{name}` (a Yang task such as `delaygo`, with optional `_intl`/`_intr` and `_seql`/`_seqr`; or flipflop, context_integration, sine_wave)"),
            )
        };
        let mut parts = name.split('_');
        let task = parts.next().and_then(YangTask::from_name).ok_or_else(unknown)?;
        let mut variant = Variant::default();
        for p in parts {
            let turn = match p.chars().last() {
                Some('l') => Turn::Left,
                Some('r') => Turn::Right,
                _ => return Err(unknown()),
            };
            match &p[..p.len() - 1] {
                "int" if variant.int.is_none() && variant.seq.is_none() => variant.int = Some(turn),
                "seq" if variant.seq.is_none() => variant.seq = Some(turn),
                _ => return Err(unknown()),
            }
        }
        if variant.int.is_some() && !task.has_delay() {
            return Err(EnvError::config(
                "tasks.names",
                format!(
                    "`{name}`: the int variant applies only to the 11 tasks with a delay, not {}",
                    task.name()
                ),
            ));
        }
        Ok(Task::Yang { task, variant })
    }

    /// The canonical name (the inverse of [`Task::from_name`]).
    pub fn name(&self) -> String {
        match self {
            Task::Yang { task, variant } => {
                let mut s = task.name().to_string();
                if let Some(t) = variant.int {
                    s.push_str("_int");
                    s.push(t.letter());
                }
                if let Some(t) = variant.seq {
                    s.push_str("_seq");
                    s.push(t.letter());
                }
                s
            }
            Task::FlipFlop(_) => "flipflop".into(),
            Task::ContextIntegration(_) => "context_integration".into(),
            Task::SineWave(_) => "sine_wave".into(),
        }
    }

    /// Stimulus inputs and outputs per step (without rule units).
    pub fn dims(&self, conv: &Conventions) -> (usize, usize) {
        match self {
            Task::Yang { .. } => (1 + 2 * conv.n_ring, 1 + conv.n_ring),
            Task::FlipFlop(f) => (f.bits, f.bits),
            Task::ContextIntegration(_) => (4, 1),
            Task::SineWave(_) => (1, 1),
        }
    }

    /// True for the fixate-then-point tasks scored on a ring.
    pub fn is_ring(&self) -> bool {
        matches!(self, Task::Yang { .. })
    }

    /// One trial (stimulus channels only).
    pub fn generate(&self, conv: &Conventions, rng: &mut EnvRng) -> Trial {
        match self {
            Task::Yang { task, variant } => yang::generate(*task, *variant, conv, rng),
            Task::FlipFlop(f) => f.generate(rng),
            Task::ContextIntegration(c) => c.generate(conv.dt_ms, rng),
            Task::SineWave(s) => s.generate(rng),
        }
    }

    /// The score of one trial given the network's outputs `[steps × output_dim]`: 0 or 1 for the ring
    /// tasks (Yang et al.'s `get_perf` at the last step), a fraction for the flip-flop.
    pub fn score(&self, trial: &Trial, outputs: &[f32]) -> f64 {
        match self {
            Task::Yang { .. } => score_ring(trial, outputs),
            Task::FlipFlop(_) => FlipFlop::score(trial, outputs),
            Task::ContextIntegration(_) => ContextIntegration::score(trial, outputs),
            Task::SineWave(s) => s.score(trial, outputs),
        }
    }
}

/// Yang et al.'s `get_perf` at the last step: fixation output > 0.5 when fixation is required;
/// otherwise fixation released and the population vector of the ring outputs within 0.2π of the target.
fn score_ring(trial: &Trial, outputs: &[f32]) -> f64 {
    let o = trial.output_dim;
    let last = trial.steps - 1;
    let y = &outputs[last * o..(last + 1) * o];
    let fixating = y[0] > 0.5;
    let ok = match trial.response[last] {
        Response::Fixate => fixating,
        Response::Ring(target) => {
            !fixating && ring::population_vector(&y[1..]).is_some_and(|l| ring::periodic_distance(l, target) < 0.2 * PI)
        }
    };
    f64::from(u8::from(ok))
}

/// The named batteries, as the Mod-Cog reference (mikailkhona/Mod_Cog) defines them:
///
/// - `yang20`: the 20 tasks of Yang et al. 2019;
/// - `modcog`: the list the Mod-Cog README trains on: the 20, the 11 delay tasks with `intr`/`intl` (22)
///   and the 20 with `seqr`/`seql` (40): 82 tasks (the README lists `dlyantiintr`/`dlyantiintl` twice);
/// - `modcog_seq` (40) and `modcog_int` (22): those two parts;
/// - `modcog_intseq`: the 11 `…intseq` tasks mod_cog_tasks.py defines, `integrate = seq = True`, i.e.
///   `_intr_seqr` only;
/// - `modcog_all_turns`: an extension of ours, every combination of the variants and directions:
///   20 + 40 + 22 + 44 = 126.
pub const SUITES: [&str; 6] = [
    "yang20",
    "modcog",
    "modcog_seq",
    "modcog_int",
    "modcog_intseq",
    "modcog_all_turns",
];

/// The task names of a battery, or `None` for an unknown battery.
pub fn suite(name: &str) -> Option<Vec<String>> {
    let turns = [Turn::Left, Turn::Right];
    let named = |task: YangTask, int: Option<Turn>, seq: Option<Turn>| {
        Task::Yang {
            task,
            variant: Variant { int, seq },
        }
        .name()
    };
    let base: Vec<String> = YangTask::ALL.iter().map(|&t| named(t, None, None)).collect();
    let seq: Vec<String> = YangTask::ALL
        .iter()
        .flat_map(|&t| turns.map(|s| named(t, None, Some(s))))
        .collect();
    let delay = || YangTask::ALL.into_iter().filter(|t| t.has_delay());
    let int: Vec<String> = delay().flat_map(|t| turns.map(|i| named(t, Some(i), None))).collect();
    let intseq_reference: Vec<String> = delay()
        .map(|t| named(t, Some(Turn::Right), Some(Turn::Right)))
        .collect();
    let intseq_all: Vec<String> = delay()
        .flat_map(|t| turns.into_iter().flat_map(move |i| turns.map(move |s| (t, i, s))))
        .map(|(t, i, s)| named(t, Some(i), Some(s)))
        .collect();
    Some(match name {
        "yang20" => base,
        "modcog_seq" => seq,
        "modcog_int" => int,
        "modcog_intseq" => intseq_reference,
        "modcog" => [base, int, seq].concat(),
        "modcog_all_turns" => [base, seq, int, intseq_all].concat(),
        _ => return None,
    })
}

/// A battery of tasks sharing one input/output layout, sampled by weight.
///
/// Inputs are the task's stimulus channels followed, when the set has more than one task, by a one-hot
/// rule unit per task (on for the whole trial, as in Yang et al.); Gaussian input noise of standard
/// deviation [`Conventions::input_noise_std`] is added to every input.
#[derive(Debug, Clone)]
pub struct TaskSet {
    tasks: Vec<Task>,
    cumulative: Vec<f64>,
    conventions: Conventions,
    stim_dim: usize,
    output_dim: usize,
}

impl TaskSet {
    /// Tasks with equal weights.
    pub fn new(tasks: Vec<Task>, conventions: Conventions) -> Result<Self> {
        let w = vec![1.0; tasks.len()];
        Self::weighted(tasks, &w, conventions)
    }

    /// Tasks or batteries by name (see [`Task::from_name`] and [`suite`]), equal weights.
    pub fn from_names<S: AsRef<str>>(names: &[S], conventions: Conventions) -> Result<Self> {
        let mut tasks = Vec::new();
        for n in names {
            match suite(n.as_ref()) {
                Some(all) => {
                    for t in all {
                        tasks.push(Task::from_name(&t)?);
                    }
                }
                None => tasks.push(Task::from_name(n.as_ref())?),
            }
        }
        Self::new(tasks, conventions)
    }

    /// Tasks sampled with probability proportional to `weights`.
    pub fn weighted(tasks: Vec<Task>, weights: &[f64], conventions: Conventions) -> Result<Self> {
        conventions.validate()?;
        if tasks.is_empty() {
            return Err(EnvError::config("tasks.names", "at least one task is needed"));
        }
        if weights.len() != tasks.len() {
            return Err(EnvError::config(
                "tasks.weights",
                format!("{} weights for {} tasks", weights.len(), tasks.len()),
            ));
        }
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || weights.iter().sum::<f64>() <= 0.0 {
            return Err(EnvError::config("tasks.weights", "must be finite, >= 0, and not all 0"));
        }
        for t in &tasks {
            match t {
                Task::FlipFlop(f) => f.validate()?,
                Task::ContextIntegration(c) => c.validate()?,
                Task::SineWave(w) => w.validate()?,
                _ => {}
            }
        }
        let (stim_dim, output_dim) = tasks[0].dims(&conventions);
        for t in &tasks {
            if t.dims(&conventions) != (stim_dim, output_dim) {
                return Err(EnvError::config(
                    "tasks.names",
                    format!(
                        "`{}` has a different input/output layout from `{}`; a set shares one",
                        t.name(),
                        tasks[0].name()
                    ),
                ));
            }
        }
        let mut names: Vec<String> = tasks.iter().map(Task::name).collect();
        names.sort();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(EnvError::config("tasks.names", format!("`{}` is listed twice", w[0])));
        }
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        Ok(TaskSet {
            tasks,
            cumulative,
            conventions,
            stim_dim,
            output_dim,
        })
    }

    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    pub fn conventions(&self) -> &Conventions {
        &self.conventions
    }

    /// Rule units: one per task when there is more than one task.
    pub fn rule_dim(&self) -> usize {
        if self.tasks.len() > 1 {
            self.tasks.len()
        } else {
            0
        }
    }

    pub fn input_dim(&self) -> usize {
        self.stim_dim + self.rule_dim()
    }

    pub fn output_dim(&self) -> usize {
        self.output_dim
    }

    /// True when every task is a ring task (so [`DecisionEnv`](super::DecisionEnv) can run the set).
    pub fn all_ring(&self) -> bool {
        self.tasks.iter().all(Task::is_ring)
    }

    /// Draws a task index by weight.
    pub fn sample_task(&self, rng: &mut EnvRng) -> usize {
        let total = *self.cumulative.last().expect("non-empty");
        let u = rng.random_range(0.0..total);
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.tasks.len() - 1)
    }

    /// One trial of task `index`, with rule units and input noise.
    pub fn trial_of(&self, index: usize, rng: &mut EnvRng) -> Trial {
        let mut trial = self.tasks[index].generate(&self.conventions, rng);
        let (s, i) = (self.stim_dim, self.input_dim());
        if i != s {
            let mut x = vec![0.0f32; trial.steps * i];
            for t in 0..trial.steps {
                x[t * i..t * i + s].copy_from_slice(&trial.inputs[t * s..(t + 1) * s]);
                x[t * i + s + index] = 1.0;
            }
            trial.inputs = x;
            trial.input_dim = i;
        }
        let sd = self.conventions.input_noise_std();
        if sd > 0.0 {
            let normal = Normal::new(0.0, sd).expect("finite sd");
            for v in &mut trial.inputs {
                *v += normal.sample(rng) as f32;
            }
        }
        trial
    }

    /// A batch of `size` trials from `seed`, tasks drawn by weight (same seed, same batch).
    pub fn batch(&self, size: usize, seed: u64) -> TrialBatch {
        let mut rng = rng_from_seed(seed);
        let mut tasks = Vec::with_capacity(size);
        let mut trials = Vec::with_capacity(size);
        for _ in 0..size {
            let k = self.sample_task(&mut rng);
            trials.push(self.trial_of(k, &mut rng));
            tasks.push(k);
        }
        TrialBatch::pack(tasks, trials, self.input_dim(), self.output_dim)
    }

    /// A batch of `size` trials of task `index` only.
    pub fn batch_of(&self, index: usize, size: usize, seed: u64) -> Result<TrialBatch> {
        if index >= self.tasks.len() {
            return Err(EnvError::config(
                "task",
                format!("index {index} of {} tasks", self.tasks.len()),
            ));
        }
        let mut rng = rng_from_seed(seed);
        let trials = (0..size).map(|_| self.trial_of(index, &mut rng)).collect();
        Ok(TrialBatch::pack(
            vec![index; size],
            trials,
            self.input_dim(),
            self.output_dim,
        ))
    }
}

/// Trials packed time-major for BPTT: `inputs [T, B, I]`, `targets` and `mask [T, B, O]`, where `T` is the
/// longest trial; steps after a trial's end have zero input, zero target and zero cost.
#[derive(Debug, Clone)]
pub struct TrialBatch {
    pub steps: usize,
    pub batch: usize,
    pub input_dim: usize,
    pub output_dim: usize,
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
    pub mask: Vec<f32>,
    /// Task index of each trial in its [`TaskSet`].
    pub tasks: Vec<usize>,
    /// The trials themselves (unpadded), for scoring and analysis.
    pub trials: Vec<Trial>,
}

impl TrialBatch {
    fn pack(tasks: Vec<usize>, trials: Vec<Trial>, i_dim: usize, o_dim: usize) -> Self {
        let steps = trials.iter().map(|t| t.steps).max().unwrap_or(0);
        let b = trials.len();
        let mut inputs = vec![0.0f32; steps * b * i_dim];
        let mut targets = vec![0.0f32; steps * b * o_dim];
        let mut mask = vec![0.0f32; steps * b * o_dim];
        for (r, tr) in trials.iter().enumerate() {
            for t in 0..tr.steps {
                inputs[(t * b + r) * i_dim..(t * b + r + 1) * i_dim].copy_from_slice(tr.input(t));
                let dst = (t * b + r) * o_dim..(t * b + r + 1) * o_dim;
                targets[dst.clone()].copy_from_slice(tr.target(t));
                mask[dst].copy_from_slice(&tr.mask[t * o_dim..(t + 1) * o_dim]);
            }
        }
        TrialBatch {
            steps,
            batch: b,
            input_dim: i_dim,
            output_dim: o_dim,
            inputs,
            targets,
            mask,
            tasks,
            trials,
        }
    }

    /// The outputs of trial `r` (its own length) from padded time-major outputs `[T, B, O]`.
    pub fn trial_outputs(&self, outputs: &[f32], r: usize) -> Vec<f32> {
        let (b, o) = (self.batch, self.output_dim);
        (0..self.trials[r].steps)
            .flat_map(|t| outputs[(t * b + r) * o..(t * b + r + 1) * o].iter().copied())
            .collect()
    }

    /// Each trial's score given the network's outputs `[T, B, O]`.
    pub fn score(&self, set: &TaskSet, outputs: &[f32]) -> Result<Vec<f64>> {
        let want = self.steps * self.batch * self.output_dim;
        if outputs.len() != want {
            return Err(EnvError::BufferSize {
                what: "outputs",
                expected: want,
                got: outputs.len(),
            });
        }
        Ok((0..self.batch)
            .map(|r| set.tasks[self.tasks[r]].score(&self.trials[r], &self.trial_outputs(outputs, r)))
            .collect())
    }
}
