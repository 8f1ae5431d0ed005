//! What a run writes: CSV logs that survive a resume, and recordings Python reads with `safetensors`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use reachlab_agents::Episode;
use reachlab_envs::reach::{ReachInfo, TrialType};
use serde::Serialize;

use crate::error::{Result, ScenarioError};

/// A CSV file of `T` rows with a header, appended row by row.
pub struct CsvLog<T> {
    path: PathBuf,
    writer: csv::Writer<File>,
    rows: usize,
    _row: PhantomData<T>,
}

impl<T: Serialize> CsvLog<T> {
    /// A new file (the header is written with the first row).
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(|e| ScenarioError::io(path, e))?;
        Ok(CsvLog {
            path: path.to_owned(),
            writer: csv::Writer::from_writer(file),
            rows: 0,
            _row: PhantomData,
        })
    }

    /// An existing file cut back to its header and first `keep` rows, then appended to. The cut is one
    /// `ftruncate`, so a kill during a resume leaves the committed rows in place (rewriting the file would
    /// lose them); with `keep == 0` a missing file is created.
    pub fn reopen(path: &Path, keep: usize) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Err(e) if keep == 0 && e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            r => r.map_err(|e| ScenarioError::io(path, e))?,
        };
        // The end of line `keep` (the header is line 0), or 0 to keep nothing, header included.
        let lines_kept = if keep == 0 { 0 } else { keep + 1 };
        let cut = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1)
            .nth(lines_kept.wrapping_sub(1));
        let cut = match (lines_kept, cut) {
            (0, _) => 0,
            (_, Some(c)) => c,
            (_, None) => {
                let have = bytes.iter().filter(|b| **b == b'\n').count().saturating_sub(1);
                return Err(ScenarioError::Resume {
                    dir: path.to_owned(),
                    reason: format!("the file has {have} rows, the checkpoint expects at least {keep}"),
                });
            }
        };
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(|e| ScenarioError::io(path, e))?;
        out.set_len(cut as u64).map_err(|e| ScenarioError::io(path, e))?;
        out.seek(SeekFrom::End(0)).map_err(|e| ScenarioError::io(path, e))?;
        let writer = csv::WriterBuilder::new().has_headers(keep == 0).from_writer(out);
        Ok(CsvLog {
            path: path.to_owned(),
            writer,
            rows: keep,
            _row: PhantomData,
        })
    }

    pub fn write(&mut self, row: &T) -> Result<()> {
        self.writer
            .serialize(row)
            .map_err(|e| ScenarioError::output(&self.path, e))?;
        self.rows += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|e| ScenarioError::io(&self.path, e))
    }

    /// Rows written (without the header).
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// The evaluation trials of a recorded block, as arrays (trials N, steps T, hidden units H).
///
/// Saved as safetensors (f32 unless noted): `hidden` [N, T, H] (actor state after each step), `cell`
/// [N, T, H] (only for an LSTM: its cell state after each step, so that the full state `[h | c]` that
/// the fixed-point search runs on is the one the network had), `obs`
/// [N, T, O] (the observation the policy stepped on at each step, so that `hidden` can be recomputed from
/// the saved weights: `reachlab.load_policy(run).forward(obs)` in Python),
/// `hand_pos`, `hand_vel`, `field_force` [N, T, 2] (m, m/s, N; start at the origin), `target_pos` [N, 2],
/// `target` [N] (u32), `trial_type` [N] (u32: 0 normal, 1 catch, 2 channel), `cue_step` [N] (u32: the
/// step at which the target appears), `go_step` [N] (u32: the step
/// count at which the go cue appears, so `hidden[:, go_step]` is the first state that saw it and
/// `hidden[:, :go_step]` is the hold, cue and delay), `length` [N] (u32: steps run; later entries are 0),
/// `actions` [N, T, A] (the action applied at each step, after clipping; A = 2 for the point mass and the
/// two-link arm, 6 excitations for arm26) and `rewards` [N, T]. The header's
/// metadata (`recording`: a JSON object) names the scenario, stage, block, seed and dt, the trial-type
/// codes and the units, so that a user can replay a checkpoint on the recorded trials
/// (`json.loads(safe_open(path, "np").metadata()["recording"])` in Python).
/// Entry s of `hidden` is the state after the policy's (s+1)-th step; entry s of the hand arrays is the
/// hand after the env's (s+1)-th step.
pub struct Recording {
    n: usize,
    t: usize,
    h: usize,
    o: usize,
    /// Action width.
    a: usize,
    /// Width of the state beyond `h` (an LSTM's cell: H; else 0).
    c: usize,
    hidden: Vec<f32>,
    cell: Vec<f32>,
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    hand_pos: Vec<f32>,
    hand_vel: Vec<f32>,
    field_force: Vec<f32>,
    target_pos: Vec<f32>,
    target: Vec<u32>,
    trial_type: Vec<u32>,
    cue_step: Vec<u32>,
    go_step: Vec<u32>,
    length: Vec<u32>,
    /// What the arrays mean: the safetensors header's metadata, as one JSON object under `recording`
    /// (one key, because the header writes its metadata map in no fixed order: the file's bytes must
    /// not depend on it).
    metadata: std::collections::BTreeMap<String, String>,
}

impl Recording {
    /// Room for `n` trials of up to `t` steps, `h` hidden units in a recurrent state of width `s` (`2h`
    /// for an LSTM, else `h`), observations of length `o` and actions of width `a`.
    pub fn new(n: usize, t: usize, (h, s): (usize, usize), o: usize, a: usize) -> Self {
        let c = s.saturating_sub(h);
        Recording {
            n,
            t,
            h,
            o,
            a,
            c,
            hidden: vec![0.0; n * t * h],
            cell: vec![0.0; n * t * c],
            obs: vec![0.0; n * t * o],
            actions: vec![0.0; n * t * a],
            rewards: vec![0.0; n * t],
            hand_pos: vec![0.0; n * t * 2],
            hand_vel: vec![0.0; n * t * 2],
            field_force: vec![0.0; n * t * 2],
            target_pos: vec![0.0; n * 2],
            target: vec![0; n],
            trial_type: vec![0; n],
            cue_step: vec![0; n],
            go_step: vec![0; n],
            length: vec![0; n],
            metadata: Default::default(),
        }
    }

    /// Adds `key = value` to the recording's metadata record.
    pub fn describe(&mut self, key: &str, value: impl ToString) {
        self.metadata.insert(key.to_string(), value.to_string());
    }

    /// Stores trial `i`.
    pub fn push<C: AsRef<[f64]> + Clone + Default>(&mut self, i: usize, ep: &Episode<ReachInfo<C>>) {
        let (t, h, a, c) = (self.t, self.h, self.a, self.c);
        for (s, info) in ep.infos.iter().enumerate().take(t) {
            let k = i * t + s;
            for d in 0..2 {
                self.hand_pos[k * 2 + d] = info.hand.pos[d] as f32;
                self.hand_vel[k * 2 + d] = info.hand.vel[d] as f32;
                self.field_force[k * 2 + d] = info.field_force[d] as f32;
            }
            for (slot, &u) in self.actions[k * a..(k + 1) * a].iter_mut().zip(info.action.as_ref()) {
                *slot = u as f32;
            }
            if let Some(r) = ep.rewards.get(s) {
                self.rewards[k] = *r as f32;
            }
            if let Some(hid) = ep.hidden.get(s) {
                self.hidden[k * h..(k + 1) * h].copy_from_slice(&hid[..h]);
                if let Some(cell) = hid.get(h..h + c) {
                    self.cell[k * c..(k + 1) * c].copy_from_slice(cell);
                }
            }
            if let Some(obs) = ep.obs.get(s) {
                let o = self.o.min(obs.len());
                self.obs[k * self.o..k * self.o + o].copy_from_slice(&obs[..o]);
            }
        }
        let last = ep.final_info();
        self.target_pos[i * 2] = last.target_pos[0] as f32;
        self.target_pos[i * 2 + 1] = last.target_pos[1] as f32;
        self.target[i] = last.target as u32;
        self.trial_type[i] = match last.trial_type {
            TrialType::Normal => 0,
            TrialType::Catch => 1,
            TrialType::Channel => 2,
        };
        self.cue_step[i] = last.cue_step;
        self.go_step[i] = last.go_step;
        self.length[i] = ep.infos.len().min(t) as u32;
    }

    pub fn save(self, path: &Path) -> Result<()> {
        let dev = Device::Cpu;
        let (n, t, h) = (self.n, self.t, self.h);
        let mut map: HashMap<String, Tensor> = HashMap::new();
        map.insert("hidden".into(), Tensor::from_vec(self.hidden, (n, t, h), &dev)?);
        if self.c > 0 {
            map.insert("cell".into(), Tensor::from_vec(self.cell, (n, t, self.c), &dev)?);
        }
        map.insert("obs".into(), Tensor::from_vec(self.obs, (n, t, self.o), &dev)?);
        map.insert("hand_pos".into(), Tensor::from_vec(self.hand_pos, (n, t, 2), &dev)?);
        map.insert("hand_vel".into(), Tensor::from_vec(self.hand_vel, (n, t, 2), &dev)?);
        map.insert(
            "field_force".into(),
            Tensor::from_vec(self.field_force, (n, t, 2), &dev)?,
        );
        map.insert("target_pos".into(), Tensor::from_vec(self.target_pos, (n, 2), &dev)?);
        map.insert("target".into(), Tensor::from_vec(self.target, n, &dev)?);
        map.insert("trial_type".into(), Tensor::from_vec(self.trial_type, n, &dev)?);
        map.insert("cue_step".into(), Tensor::from_vec(self.cue_step, n, &dev)?);
        map.insert("go_step".into(), Tensor::from_vec(self.go_step, n, &dev)?);
        map.insert("length".into(), Tensor::from_vec(self.length, n, &dev)?);
        map.insert("actions".into(), Tensor::from_vec(self.actions, (n, t, self.a), &dev)?);
        map.insert("rewards".into(), Tensor::from_vec(self.rewards, (n, t), &dev)?);
        let mut metadata = self.metadata;
        for (k, v) in [
            ("trial_type_codes", "0 normal, 1 catch, 2 channel"),
            (
                "units",
                "hand_pos, target_pos m; hand_vel m/s; field_force N; actions: the effector's action after \
                 clipping (m/s^2 for an acceleration action, N for a force action, excitation in [0, 1] per muscle for arm26); rewards per step; \
                 cue_step, go_step, length in steps of dt",
            ),
        ] {
            metadata.insert(k.to_string(), v.to_string());
        }
        let header = HashMap::from([(
            "recording".to_string(),
            serde_json::to_string(&metadata).expect("strings serialise"),
        )]);
        // serialize_to_file orders the tensors itself (by dtype, then name): the map's order does not matter.
        safetensors::tensor::serialize_to_file(map, Some(header), path).map_err(|e| ScenarioError::output(path, e))
    }
}

/// The arrays of a saved recording (for the analysis and the figures).
pub struct LoadedRecording {
    pub n: usize,
    pub t: usize,
    pub h: usize,
    pub hidden: Vec<f32>,
    /// Width of the state beyond `h` and that part of it `[n, t, c]` (an LSTM's cell; empty otherwise,
    /// and in recordings written before cells were kept).
    pub c: usize,
    pub cell: Vec<f32>,
    /// Observation width and the observations `[n, t, o]`.
    pub o: usize,
    pub obs: Vec<f32>,
    /// Action width and the applied actions `[n, t, a]`.
    pub a: usize,
    pub actions: Vec<f32>,
    pub hand_pos: Vec<f32>,
    pub hand_vel: Vec<f32>,
    pub target: Vec<u32>,
    pub trial_type: Vec<u32>,
    pub go_step: Vec<u32>,
    /// Steps each trial ran (a trial that ended with its hold is shorter than `t`; later entries are 0).
    pub length: Vec<u32>,
}

impl LoadedRecording {
    /// The full recurrent state of trial `i` after step `s`: `[h | c]` for an LSTM (when its cell was
    /// recorded), `h` otherwise.
    pub fn state_at(&self, i: usize, s: usize) -> Vec<f64> {
        let k = i * self.t + s;
        let h = &self.hidden[k * self.h..(k + 1) * self.h];
        let c = self.cell.get(k * self.c..(k + 1) * self.c).unwrap_or(&[]);
        h.iter().chain(c).map(|&x| f64::from(x)).collect()
    }

    /// Component `d` of the hand velocity of trial `i` after step `s`.
    pub fn hand_vel_at(&self, i: usize, s: usize, d: usize) -> f32 {
        self.hand_vel[(i * self.t + s) * 2 + d]
    }

    pub fn load(path: &Path) -> Result<Self> {
        let map = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| ScenarioError::output(path, e))?;
        let get = |k: &str| {
            map.get(k)
                .ok_or_else(|| ScenarioError::output(path, format!("no tensor `{k}`")))
        };
        let hidden = get("hidden")?;
        let (n, t, h) = hidden.dims3()?;
        let f = |k: &str| -> Result<Vec<f32>> { Ok(get(k)?.flatten_all()?.to_vec1::<f32>()?) };
        let u = |k: &str| -> Result<Vec<u32>> { Ok(get(k)?.to_vec1::<u32>()?) };
        let (c, cell) = match map.get("cell") {
            Some(cell) => (cell.dims3()?.2, f("cell")?),
            None => (0, Vec::new()),
        };
        Ok(LoadedRecording {
            n,
            t,
            h,
            c,
            cell,
            o: get("obs")?.dims3()?.2,
            obs: f("obs")?,
            a: get("actions")?.dims3()?.2,
            actions: f("actions")?,
            hidden: f("hidden")?,
            hand_pos: f("hand_pos")?,
            hand_vel: f("hand_vel")?,
            target: u("target")?,
            trial_type: u("trial_type")?,
            go_step: u("go_step")?,
            length: u("length")?,
        })
    }
}

/// Writes every point of a fixed-point search to `path` (safetensors, as FixedPointFinder users expect
/// them in Python): `states` [K, S] (f64), `q` [K] (f64), `converged` [K] (u8: 1 = fixed point, 0 = slow
/// point), `unstable_modes` [K] (u32: 0 = stable, else the saddle index), `eigenvalues_re` and
/// `eigenvalues_im` [K, S] (f64, by decreasing modulus). `safetensors.numpy.load_file` reads it.
pub fn save_fixed_points(path: &Path, res: &reachlab_analysis::FixedPointResult) -> Result<()> {
    use reachlab_analysis::Stability;
    let dev = Device::Cpu;
    let k = res.points.len();
    let s = res.points.first().map_or(0, |p| p.x.len());
    let mut states = Vec::with_capacity(k * s);
    let (mut re, mut im) = (Vec::with_capacity(k * s), Vec::with_capacity(k * s));
    for p in &res.points {
        states.extend_from_slice(&p.x);
        for j in 0..s {
            let (a, b) = p.eigenvalues.get(j).copied().unwrap_or((f64::NAN, f64::NAN));
            re.push(a);
            im.push(b);
        }
    }
    let q: Vec<f64> = res.points.iter().map(|p| p.q).collect();
    let converged: Vec<u8> = res.points.iter().map(|p| u8::from(p.converged)).collect();
    let unstable: Vec<u32> = res
        .points
        .iter()
        .map(|p| match p.stability {
            Stability::Stable => 0,
            Stability::Saddle { unstable } => unstable as u32,
        })
        .collect();
    let mut map: HashMap<String, Tensor> = HashMap::new();
    map.insert("states".into(), Tensor::from_vec(states, (k, s), &dev)?);
    map.insert("q".into(), Tensor::from_vec(q, k, &dev)?);
    map.insert("converged".into(), Tensor::from_vec(converged, k, &dev)?);
    map.insert("unstable_modes".into(), Tensor::from_vec(unstable, k, &dev)?);
    map.insert("eigenvalues_re".into(), Tensor::from_vec(re, (k, s), &dev)?);
    map.insert("eigenvalues_im".into(), Tensor::from_vec(im, (k, s), &dev)?);
    candle_core::safetensors::save(&map, path).map_err(|e| ScenarioError::output(path, e))
}
