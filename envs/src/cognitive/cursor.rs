//! The state both task envs keep: the task set, the random stream, the trial being run and the step.

use super::task_set::TaskSet;
use super::trial::Trial;
use crate::error::{EnvError, Result};
use crate::seeding::{rng_from_entropy, rng_from_seed, EnvRng};

pub(crate) struct TrialCursor {
    pub set: TaskSet,
    rng: Option<EnvRng>,
    trial: Option<Trial>,
    pub task: usize,
    pub t: usize,
    pub done: bool,
}

impl TrialCursor {
    pub fn new(set: TaskSet) -> Self {
        TrialCursor {
            set,
            rng: None,
            trial: None,
            task: 0,
            t: 0,
            done: true,
        }
    }

    pub fn trial(&self) -> Option<&Trial> {
        self.trial.as_ref()
    }

    /// Starts a trial of `task` (or one drawn by weight) and writes its first input into `obs`; Gymnasium's
    /// seeding: `Some(seed)` restarts the stream, `None` continues it.
    pub fn reset(&mut self, seed: Option<u64>, task: Option<usize>, obs: &mut [f32]) -> Result<usize> {
        check_len(obs, self.set.input_dim())?;
        if let Some(s) = seed {
            self.rng = Some(rng_from_seed(s));
        }
        let rng = self.rng.get_or_insert_with(rng_from_entropy);
        let task = match task {
            Some(k) if k < self.set.tasks().len() => k,
            Some(k) => return Err(EnvError::config("options.task", format!("{k} is not a task index"))),
            None => self.set.sample_task(rng),
        };
        let trial = self.set.trial_of(task, rng);
        obs.copy_from_slice(trial.input(0));
        self.trial = Some(trial);
        self.task = task;
        self.t = 0;
        self.done = false;
        Ok(task)
    }

    /// The running trial, once `obs` has the right length and a step may be taken.
    pub fn running(&self, obs: &[f32]) -> Result<&Trial> {
        check_len(obs, self.set.input_dim())?;
        match (&self.trial, self.done) {
            (Some(t), false) => Ok(t),
            _ => Err(EnvError::NeedsReset {
                why: "the trial ended (or no reset yet)",
            }),
        }
    }

    /// Moves to the next step and writes its input (the last input again once the trial is over).
    pub fn advance(&mut self, obs: &mut [f32]) {
        self.t += 1;
        let trial = self.trial.as_ref().expect("advance after reset");
        obs.copy_from_slice(trial.input(self.t.min(trial.steps - 1)));
    }
}

fn check_len(obs: &[f32], want: usize) -> Result<()> {
    if obs.len() == want {
        Ok(())
    } else {
        Err(EnvError::BufferSize {
            what: "obs",
            expected: want,
            got: obs.len(),
        })
    }
}
