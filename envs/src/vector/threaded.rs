//! [`ThreadedVecEnv`]: sub-envs split into fixed contiguous chunks, each stepped by its own worker thread.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

use super::{check_sizes, check_step, reset_slice, step_slice, AutoresetMode, ResetWhich, VecBuffers, VectorEnv};
use crate::env::Env;
use crate::error::{EnvError, Result};
use crate::space::{Space, SpaceValue};

enum Command {
    Step,
    Reset(Option<u64>),
    ResetDone,
}

/// What a worker owns: its envs and a private copy of its rows of the buffers.
struct Chunk<E: Env> {
    envs: Vec<E>,
    pending: Vec<bool>,
    actions: Vec<E::Action>,
    buf: VecBuffers<E::Info>,
    offset: usize,
    result: Result<()>,
}

struct Worker<E: Env> {
    chunk: Arc<Mutex<Chunk<E>>>,
    commands: Sender<Command>,
    done: Receiver<()>,
    handle: Option<JoinHandle<()>>,
}

/// Sub-envs split into contiguous chunks, one per worker thread (crossbeam channels hand each worker
/// its command; the caller's buffers are filled chunk by chunk, in order).
///
/// Each sub-env's trajectory depends only on its own seed and actions, and chunks are copied back in a
/// fixed order, so results are bit-identical to [`SyncVecEnv`](super::SyncVecEnv) for any thread count.
/// A step allocates nothing. Threads pay off when one env step costs more than the hand-off (a few
/// microseconds per step for the whole batch): the arm, long batches, or envs with heavy observations.
pub struct ThreadedVecEnv<E: Env + 'static> {
    workers: Vec<Worker<E>>,
    n: usize,
    mode: AutoresetMode,
    ever_reset: bool,
    obs_space: Space,
    action_space: Space,
}

impl<E: Env + 'static> ThreadedVecEnv<E> {
    /// `n` sub-envs built by `make(i)`, on `threads` workers (at most `n`).
    pub fn new(
        n: usize,
        threads: usize,
        mode: AutoresetMode,
        mut make: impl FnMut(usize) -> Result<E>,
    ) -> Result<Self> {
        if n == 0 {
            return Err(EnvError::config("num_envs", "must be ≥ 1"));
        }
        if threads == 0 {
            return Err(EnvError::config("threads", "must be ≥ 1"));
        }
        let threads = threads.min(n);
        let mut workers = Vec::with_capacity(threads);
        let mut spaces = None;
        let mut offset = 0;
        for w in 0..threads {
            // Contiguous chunks; the first n % threads workers get one extra env.
            let len = n / threads + usize::from(w < n % threads);
            let envs = (offset..offset + len).map(&mut make).collect::<Result<Vec<E>>>()?;
            for (j, e) in envs.iter().enumerate() {
                let s = (e.observation_space().clone(), e.action_space().clone());
                match &spaces {
                    None => spaces = Some(s),
                    Some(first) if *first != s => {
                        return Err(EnvError::config(
                            "envs",
                            format!("sub-env {} has different spaces than sub-env 0", offset + j),
                        ))
                    }
                    Some(_) => {}
                }
            }
            let obs_dim = envs[0].obs_dim();
            let action = E::Action::sample_from(envs[0].action_space(), &mut crate::seeding::rng_from_seed(0));
            let chunk = Chunk {
                pending: vec![true; len],
                actions: vec![action; len],
                buf: VecBuffers::new(len, obs_dim),
                envs,
                offset,
                result: Ok(()),
            };
            workers.push(spawn_worker(w, chunk, mode)?);
            offset += len;
        }
        let (obs_space, action_space) = spaces.expect("n ≥ 1");
        Ok(ThreadedVecEnv {
            workers,
            n,
            mode,
            ever_reset: false,
            obs_space,
            action_space,
        })
    }

    /// Number of worker threads.
    pub fn num_threads(&self) -> usize {
        self.workers.len()
    }

    /// Sends `make_cmd()` to every worker, waits for all, copies their rows into `buf` in order and
    /// returns the first error by sub-env index.
    fn run(&mut self, make_cmd: impl Fn() -> Command, buf: &mut VecBuffers<E::Info>) -> Result<()> {
        for (w, worker) in self.workers.iter().enumerate() {
            worker.commands.send(make_cmd()).map_err(|_| died(w))?;
        }
        let mut first_err = None;
        for (w, worker) in self.workers.iter().enumerate() {
            worker.done.recv().map_err(|_| died(w))?;
            let mut chunk = lock(&worker.chunk, w)?;
            buf.copy_rows_from(chunk.offset, &chunk.buf);
            if let Err(e) = std::mem::replace(&mut chunk.result, Ok(())) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

fn died(w: usize) -> EnvError {
    EnvError::WorkerDied {
        worker: w,
        reason: "its channel closed (the thread panicked or exited)".into(),
    }
}

fn lock<T>(m: &Mutex<T>, w: usize) -> Result<MutexGuard<'_, T>> {
    m.lock().map_err(|_| EnvError::WorkerDied {
        worker: w,
        reason: "it panicked while holding its chunk".into(),
    })
}

fn spawn_worker<E: Env + 'static>(w: usize, chunk: Chunk<E>, mode: AutoresetMode) -> Result<Worker<E>> {
    let chunk = Arc::new(Mutex::new(chunk));
    let (cmd_tx, cmd_rx) = bounded::<Command>(1);
    let (done_tx, done_rx) = bounded::<()>(1);
    let shared = Arc::clone(&chunk);
    let handle = std::thread::Builder::new()
        .name(format!("reachlab-venv-{w}"))
        .spawn(move || {
            while let Ok(cmd) = cmd_rx.recv() {
                {
                    let Ok(mut guard) = shared.lock() else { return };
                    let c = &mut *guard;
                    let n = c.envs.len();
                    let out = c.buf.slice(0, n);
                    c.result = match cmd {
                        Command::Step => step_slice(&mut c.envs, &mut c.pending, mode, &c.actions, out),
                        Command::Reset(seed) => {
                            reset_slice(&mut c.envs, &mut c.pending, ResetWhich::All(seed), c.offset, out)
                        }
                        Command::ResetDone => reset_slice(&mut c.envs, &mut c.pending, ResetWhich::Done, c.offset, out),
                    };
                }
                if done_tx.send(()).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| EnvError::WorkerDied {
            worker: w,
            reason: format!("could not spawn: {e}"),
        })?;
    Ok(Worker {
        chunk,
        commands: cmd_tx,
        done: done_rx,
        handle: Some(handle),
    })
}

impl<E: Env + 'static> VectorEnv for ThreadedVecEnv<E> {
    type Env = E;

    fn num_envs(&self) -> usize {
        self.n
    }

    fn autoreset_mode(&self) -> AutoresetMode {
        self.mode
    }

    fn single_observation_space(&self) -> &Space {
        &self.obs_space
    }

    fn single_action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>, buf: &mut VecBuffers<E::Info>) -> Result<()> {
        check_sizes(self.n, self.obs_space.flat_dim(), None, buf)?;
        self.ever_reset = true;
        self.run(|| Command::Reset(seed), buf)
    }

    fn step(&mut self, actions: &[E::Action], buf: &mut VecBuffers<E::Info>) -> Result<()> {
        check_sizes(self.n, self.obs_space.flat_dim(), Some(actions.len()), buf)?;
        check_step(self.mode, self.ever_reset, || {
            for (w, worker) in self.workers.iter().enumerate() {
                let c = lock(&worker.chunk, w)?;
                if let Some(j) = c.pending.iter().position(|&p| p) {
                    return Ok(Some(c.offset + j));
                }
            }
            Ok(None)
        })?;
        for (w, worker) in self.workers.iter().enumerate() {
            let mut chunk = lock(&worker.chunk, w)?;
            let start = chunk.offset;
            let len = chunk.actions.len();
            chunk.actions.copy_from_slice(&actions[start..start + len]);
        }
        self.run(|| Command::Step, buf)
    }

    fn reset_done(&mut self, buf: &mut VecBuffers<E::Info>) -> Result<()> {
        check_sizes(self.n, self.obs_space.flat_dim(), None, buf)?;
        self.run(|| Command::ResetDone, buf)
    }

    fn apply(&mut self, f: &(dyn Fn(&mut E) -> Result<()> + Send + Sync)) -> Result<()> {
        // Run on the calling thread, in index order, so `f` need not be 'static.
        for (w, worker) in self.workers.iter().enumerate() {
            lock(&worker.chunk, w)?.envs.iter_mut().try_for_each(f)?;
        }
        Ok(())
    }
}

impl<E: Env + 'static> Drop for ThreadedVecEnv<E> {
    fn drop(&mut self) {
        for worker in &mut self.workers {
            // Closing the command channel ends the worker's loop.
            let (dead_tx, _) = bounded(0);
            drop(std::mem::replace(&mut worker.commands, dead_tx));
            if let Some(h) = worker.handle.take() {
                let _ = h.join();
            }
        }
    }
}
