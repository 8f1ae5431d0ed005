//! Whole-sequence forward and BPTT backward, and the candle `CustomOp3` that puts them in the graph.
//!
//! The batch is cut into fixed blocks of `rows_per_chunk` rows, processed in parallel (rayon); every
//! reduction over blocks runs in block order. The blocks do not depend on the thread count, so the results
//! are bit-identical whatever the number of threads.

use std::any::Any;
use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Storage, Tensor};
use rayon::prelude::*;

use super::cell::{CellWeights, InputWeights};
use super::packed::{matmul_packed, Packed};
use super::{contiguous, matmul, CellKind, Real, View};

/// What the forward pass of one block keeps for its backward pass.
struct BlockTrace<T> {
    start: usize,
    rows: usize,
    /// The block's inputs `[T, rows, I]` (for the gradient of `W_ih`).
    inputs: Vec<T>,
    /// States `[T + 1, rows, S]`, the initial one first.
    states: Vec<T>,
    /// Cell traces `[T, rows, K]`.
    cells: Vec<T>,
}

enum Saved {
    F32(Vec<BlockTrace<f32>>),
    F64(Vec<BlockTrace<f64>>),
}

/// Dimensions of one fused call.
#[derive(Debug, Clone, Copy)]
struct Dims {
    steps: usize,
    batch: usize,
    input: usize,
    hidden: usize,
}

impl Dims {
    /// Columns of the packed weights `[W_ih | W_hh | b_ih | b_hh]`.
    fn ld(&self) -> usize {
        self.input + self.hidden + 2
    }
}

/// Rows per block: `rows_per_chunk`, or with 0 half the batch clamped to 8..=32 (two blocks, so two
/// threads, for the usual batch sizes; the per-step products want at least 8 rows). Depends on the batch
/// size only, never on the thread count.
fn block_rows(batch: usize, rows_per_chunk: usize) -> usize {
    if rows_per_chunk > 0 {
        rows_per_chunk
    } else {
        batch.div_ceil(2).clamp(8, 32)
    }
}

fn blocks(batch: usize, rows_per_chunk: usize) -> Vec<(usize, usize)> {
    let r = block_rows(batch, rows_per_chunk);
    (0..batch.div_ceil(r)).map(|c| (c * r, r.min(batch - c * r))).collect()
}

/// The input projection and the cell's weights from the fused op's weights `w` (`[G·H, I + H + 2]` =
/// `[W_ih | W_hh | b_ih | b_hh]`).
pub(crate) fn unpack<T: Real>(
    kind: CellKind,
    input: usize,
    hidden: usize,
    w: &[T],
    backward: bool,
) -> (InputWeights<T>, CellWeights<T>) {
    let (i, h, ld) = (input, hidden, input + hidden + 2);
    let g = kind.gates() * h;
    let column = |c: usize| -> Vec<T> { (0..g).map(|j| w[j * ld + c]).collect() };
    let w_ih = View { data: w, rs: ld, cs: 1 };
    let w_hh = View {
        data: &w[i..],
        rs: ld,
        cs: 1,
    };
    (
        InputWeights::new(g, i, w_ih, column(i + h)),
        CellWeights::new(g, h, w_hh, column(i + h + 1), backward),
    )
}

/// A cell's weights unpacked for the kernels: the input projection and the recurrent weights (packed for
/// the backward pass too).
pub(crate) type Unpacked<T> = (InputWeights<T>, CellWeights<T>);

/// The fused op's weights unpacked once and shared by every call that passes the same weights: the steps
/// of one closed-loop rollout, each a call of the op over one step (`Core::stepper`). Valid for the
/// weights it was first filled from; whoever holds it holds those weights too.
#[derive(Default)]
pub struct UnpackCache(Mutex<Option<Arc<dyn Any + Send + Sync>>>);

impl UnpackCache {
    /// The weights `w` unpacked, from the cache if it holds them in `T`, else unpacked and kept.
    fn get<T: Real>(&self, kind: CellKind, d: Dims, w: &[T]) -> Arc<Unpacked<T>> {
        let mut slot = self.0.lock().expect("fused_rnn unpack cache lock");
        if let Some(hit) = slot.as_ref().and_then(|a| a.clone().downcast::<Unpacked<T>>().ok()) {
            return hit;
        }
        let fresh = Arc::new(unpack(kind, d.input, d.hidden, w, true));
        *slot = Some(fresh.clone());
        fresh
    }
}

/// Forward over the whole sequence. `x`: `[T, B, I]`, `h0`: `[B, S]`, `w`: `[G·H, I + H + 2]`, `noise`:
/// `[T, B, G·H]` added to the input projection. Returns the outputs `[T, B, H]` and the traces.
fn seq_forward<T: Real>(
    kind: CellKind,
    d: Dims,
    rows_per_chunk: usize,
    x: &[T],
    h0: &[T],
    noise: Option<&[T]>,
    unpacked: &Unpacked<T>,
) -> (Vec<T>, Vec<BlockTrace<T>>) {
    let (i, h, g, s, k) = (
        d.input,
        d.hidden,
        kind.gates() * d.hidden,
        kind.state_width(d.hidden),
        kind.trace_width(d.hidden),
    );
    let (projection, cell) = (&unpacked.0, &unpacked.1);
    let traces: Vec<BlockTrace<T>> = blocks(d.batch, rows_per_chunk)
        .into_par_iter()
        .map(|(start, rows)| {
            let mut inputs = Vec::with_capacity(d.steps * rows * i);
            for t in 0..d.steps {
                inputs.extend_from_slice(&x[(t * d.batch + start) * i..(t * d.batch + start + rows) * i]);
            }
            let mut states = vec![T::ZERO; (d.steps + 1) * rows * s];
            let mut cells = vec![T::ZERO; d.steps * rows * k];
            let mut xp = vec![T::ZERO; rows * g];
            let mut gh = vec![T::ZERO; rows * g];
            states[..rows * s].copy_from_slice(&h0[start * s..(start + rows) * s]);
            for t in 0..d.steps {
                let noise_t = noise.map_or(&[][..], |n| {
                    &n[(t * d.batch + start) * g..(t * d.batch + start + rows) * g]
                });
                projection.project(rows, &inputs[t * rows * i..(t + 1) * rows * i], noise_t, &mut xp);
                let (done, rest) = states.split_at_mut((t + 1) * rows * s);
                let prev = &done[t * rows * s..];
                let next = &mut rest[..rows * s];
                let trace = &mut cells[t * rows * k..(t + 1) * rows * k];
                kind.forward(h, rows, &xp, prev, cell, &mut gh, next, Some(trace));
            }
            BlockTrace {
                start,
                rows,
                inputs,
                states,
                cells,
            }
        })
        .collect();
    let mut out = vec![T::ZERO; d.steps * d.batch * h];
    for b in &traces {
        for t in 0..d.steps {
            for r in 0..b.rows {
                let src = &b.states[((t + 1) * b.rows + r) * s..][..h];
                out[(t * d.batch + b.start + r) * h..][..h].copy_from_slice(src);
            }
        }
    }
    (out, traces)
}

/// Gradients of one fused call; `dx` and `dh0` only when asked for.
struct Grads<T> {
    dx: Option<Vec<T>>,
    dh0: Option<Vec<T>>,
    dw: Vec<T>,
}

/// What the backward pass of one block returns.
struct BlockGrads<T> {
    /// `[dW_ih | dW_hh | db_ih | db_hh]` summed over the block's rows and steps.
    dw: Vec<T>,
    /// Gradient with respect to the block's initial state, `[rows, S]`.
    dh0: Vec<T>,
    /// Gradient with respect to the block's inputs `[T, rows, I]` (when asked for).
    dx: Option<Vec<T>>,
}

/// BPTT backward. `dout`: `[T, B, H]`, the gradient with respect to the outputs; `want`: whether to
/// compute the gradients with respect to `x` and `h0`.
fn seq_backward<T: Real>(
    kind: CellKind,
    d: Dims,
    traces: &[BlockTrace<T>],
    w: &[T],
    dout: &[T],
    want: (bool, bool),
    unpacked: &Unpacked<T>,
) -> Grads<T> {
    let (i, h, g, s, k, ld) = (
        d.input,
        d.hidden,
        kind.gates() * d.hidden,
        kind.state_width(d.hidden),
        kind.trace_width(d.hidden),
        d.ld(),
    );
    let cell = &unpacked.1;
    let per_block: Vec<BlockGrads<T>> = traces
        .par_iter()
        .map(|b| {
            let rows = b.rows;
            let mut dw = vec![T::ZERO; g * ld];
            let (mut db_in, mut db_hh) = (vec![T::ZERO; g], vec![T::ZERO; g]);
            let mut dx = want.0.then(|| vec![T::ZERO; d.steps * rows * i]);
            // dxp and dgh of a chunk of consecutive steps, so that the weight-gradient products have
            // k = steps × rows ≈ 128 (a rank-8 update per step would spend its time storing tiles).
            let chunk = 128usize.div_ceil(rows).max(1);
            let mut dxp = vec![T::ZERO; chunk * rows * g];
            let mut dgh = vec![T::ZERO; chunk * rows * g];
            let mut dnext = vec![T::ZERO; rows * s];
            let mut dprev = vec![T::ZERO; rows * s];
            let (mut x_c, mut h_c) = (Packed::empty(), Packed::empty());
            for t in (0..d.steps).rev() {
                for r in 0..rows {
                    let src = &dout[(t * d.batch + b.start + r) * h..][..h];
                    for (dst, v) in dnext[r * s..r * s + h].iter_mut().zip(src) {
                        *dst += *v;
                    }
                }
                let t_lo = t / chunk * chunk;
                let slot = (t - t_lo) * rows * g..(t - t_lo + 1) * rows * g;
                let prev = &b.states[t * rows * s..(t + 1) * rows * s];
                let trace = &b.cells[t * rows * k..(t + 1) * rows * k];
                let (dxp_t, dgh_t) = (&mut dxp[slot.clone()], &mut dgh[slot.clone()]);
                kind.backward(h, rows, prev, cell, trace, &dnext, dxp_t, dgh_t, &mut dprev);
                std::mem::swap(&mut dnext, &mut dprev);
                if let Some(dx) = dx.as_mut() {
                    // dx_t = dxp·W_ih.
                    let dst = &mut dx[t * rows * i..(t + 1) * rows * i];
                    matmul(
                        rows,
                        i,
                        g,
                        dst,
                        i,
                        View::rows(dxp_t, g),
                        View { data: w, rs: ld, cs: 1 },
                        false,
                    );
                }
                if t != t_lo {
                    continue;
                }
                // The chunk's steps t_lo.. are complete: dW_ih += dxpᵀ·x, dW_hh += dghᵀ·h_prev over its
                // steps and rows (their inputs and previous states are contiguous in the trace), and the
                // column sums for the biases.
                let t_hi = (t_lo + chunk).min(d.steps);
                let n = (t_hi - t_lo) * rows;
                x_c.repack(n, i, View::rows(&b.inputs[t_lo * rows * i..t_hi * rows * i], i));
                h_c.repack(
                    n,
                    h,
                    View {
                        data: &b.states[t_lo * rows * s..t_hi * rows * s],
                        rs: s,
                        cs: 1,
                    },
                );
                matmul_packed(
                    g,
                    View {
                        data: &dxp,
                        rs: 1,
                        cs: g,
                    },
                    &x_c,
                    &mut dw,
                    ld,
                    true,
                );
                matmul_packed(
                    g,
                    View {
                        data: &dgh,
                        rs: 1,
                        cs: g,
                    },
                    &h_c,
                    &mut dw[i..],
                    ld,
                    true,
                );
                for (rx, rh) in dxp[..n * g].chunks_exact(g).zip(dgh[..n * g].chunks_exact(g)) {
                    for ((ax, ah), (vx, vh)) in db_in.iter_mut().zip(db_hh.iter_mut()).zip(rx.iter().zip(rh)) {
                        *ax += *vx;
                        *ah += *vh;
                    }
                }
            }
            for (j, row) in dw.chunks_exact_mut(ld).enumerate() {
                row[i + h] = db_in[j];
                row[i + h + 1] = db_hh[j];
            }
            BlockGrads { dw, dh0: dnext, dx }
        })
        .collect();

    // Sum the blocks in order (each element separately, so the split across threads does not matter).
    let mut dw = vec![T::ZERO; g * ld];
    dw.par_chunks_mut(4096).enumerate().for_each(|(c, dst)| {
        for bg in &per_block {
            for (a, v) in dst.iter_mut().zip(&bg.dw[c * 4096..]) {
                *a += *v;
            }
        }
    });
    let dh0 = want.1.then(|| {
        let mut dh0 = vec![T::ZERO; d.batch * s];
        for (b, bg) in traces.iter().zip(&per_block) {
            dh0[b.start * s..(b.start + b.rows) * s].copy_from_slice(&bg.dh0);
        }
        dh0
    });
    let dx = want.0.then(|| {
        let mut dx = vec![T::ZERO; d.steps * d.batch * i];
        for (b, bg) in traces.iter().zip(&per_block) {
            let src = bg.dx.as_ref().expect("block dx computed when asked for");
            for t in 0..d.steps {
                dx[(t * d.batch + b.start) * i..(t * d.batch + b.start + b.rows) * i]
                    .copy_from_slice(&src[t * b.rows * i..(t + 1) * b.rows * i]);
            }
        }
        dx
    });
    Grads { dx, dh0, dw }
}

/// The fused whole-sequence recurrent op: `(x [T, B, I], h0 [B, S], w [G·H, I + H + 2]) → h [T, B, H]`,
/// where `w = [W_ih | W_hh | b_ih | b_hh]` (PyTorch's matrices side by side, gates in PyTorch order), with a
/// hand-written BPTT backward (`bwd`) that reuses the traces the forward pass kept.
///
/// The input projection runs inside the op, so no `[T, B, G·H]` tensor enters candle's graph (its
/// allocation, zero-filling and accumulation in candle's backward cost more than the projection itself).
/// Gradients flow to `w` always, and to `x` and `h0` when they are tracked (`Tensor::track_op`).
pub struct FusedRnn {
    kind: CellKind,
    hidden: usize,
    rows_per_chunk: usize,
    noise: Option<Tensor>,
    saved: Mutex<Option<Saved>>,
    unpacked: Option<Arc<UnpackCache>>,
}

impl FusedRnn {
    /// `rows_per_chunk` = 0 chooses the block size from the batch size (see the module docs).
    pub fn new(kind: CellKind, hidden: usize, rows_per_chunk: usize) -> Self {
        FusedRnn {
            kind,
            hidden,
            rows_per_chunk,
            noise: None,
            saved: Mutex::new(None),
            unpacked: None,
        }
    }

    /// Takes the unpacked weights from `cache` (filled by the first call that uses it) instead of unpacking
    /// them at every call: for many calls on the same weights.
    pub fn with_unpack_cache(mut self, cache: Arc<UnpackCache>) -> Self {
        self.unpacked = Some(cache);
        self
    }

    /// The weights `w` unpacked (from the cache when there is one; else for the `backward` pass or not).
    fn unpacked<T: Real>(&self, d: Dims, w: &[T], backward: bool) -> Arc<Unpacked<T>> {
        match &self.unpacked {
            Some(cache) => cache.get(self.kind, d, w),
            None => Arc::new(unpack(self.kind, d.input, d.hidden, w, backward)),
        }
    }

    /// Adds `noise` (`[T, B, G·H]`, no gradient) to the input projection at every step: the recurrent
    /// noise of a leaky RNN, as recorded during a rollout.
    pub fn with_noise(mut self, noise: Option<Tensor>) -> Self {
        self.noise = noise;
        self
    }

    fn dims(&self, x: &Layout, h0: &Layout, w: &Layout) -> candle_core::Result<Dims> {
        let (h, g, s) = (
            self.hidden,
            self.kind.gates() * self.hidden,
            self.kind.state_width(self.hidden),
        );
        let bad = |what: String| candle_core::Error::Msg(format!("fused_rnn: {what}"));
        let (steps, batch, input) = x.shape().dims3()?;
        if h0.shape().dims() != [batch, s] {
            return Err(bad(format!(
                "h0 has shape {:?}, expected [{batch}, {s}]",
                h0.shape().dims()
            )));
        }
        let ld = input + h + 2;
        if w.shape().dims() != [g, ld] {
            return Err(bad(format!(
                "w has shape {:?}, expected [gates × hidden, inputs + hidden + 2] = [{g}, {ld}]",
                w.shape().dims(),
            )));
        }
        if let Some(n) = &self.noise {
            if n.dims() != [steps, batch, g] {
                return Err(bad(format!(
                    "noise has shape {:?}, expected [{steps}, {batch}, {g}]",
                    n.dims()
                )));
            }
        }
        Ok(Dims {
            steps,
            batch,
            input,
            hidden: h,
        })
    }
}

/// The three gradients of one call as tensors, `(dx, dh0, dw)`.
type OpGrads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

impl FusedRnn {
    /// The forward pass on the (contiguous) storage slices of the three inputs.
    fn forward_slices<T: Real + candle_core::WithDType>(
        &self,
        d: Dims,
        x: (&[T], &Layout),
        h0: (&[T], &Layout),
        w: (&[T], &Layout),
    ) -> candle_core::Result<(Vec<T>, Vec<BlockTrace<T>>)> {
        let noise = match &self.noise {
            Some(n) => Some(n.to_dtype(T::DTYPE)?.flatten_all()?.to_vec1::<T>()?),
            None => None,
        };
        let unpacked = self.unpacked(d, contiguous(w.0, w.1, "fused_rnn", "weights")?, false);
        Ok(seq_forward(
            self.kind,
            d,
            self.rows_per_chunk,
            contiguous(x.0, x.1, "fused_rnn", "inputs")?,
            contiguous(h0.0, h0.1, "fused_rnn", "initial state")?,
            noise.as_deref(),
            &unpacked,
        ))
    }

    /// The backward pass from the saved traces, as tensors on `w`'s device.
    fn backward_tensors<T: Real + candle_core::WithDType>(
        &self,
        d: Dims,
        traces: &[BlockTrace<T>],
        (x, h0, w): (&Tensor, &Tensor, &Tensor),
        grad_res: &Tensor,
    ) -> candle_core::Result<OpGrads> {
        let (s, g) = (self.kind.state_width(d.hidden), self.kind.gates() * d.hidden);
        let dev = w.device();
        let grad_res = grad_res.contiguous()?;
        let (ws, wl) = w.storage_and_layout();
        let (gs, gl) = grad_res.storage_and_layout();
        let (Storage::Cpu(ws), Storage::Cpu(gs)) = (&*ws, &*gs) else {
            return Err(candle_core::Error::Msg("fused_rnn: CPU tensors only".into()));
        };
        let w = contiguous(T::cpu_storage_as_slice(ws)?, wl, "fused_rnn", "weights")?;
        let unpacked = self.unpacked(d, w, true);
        let gr = seq_backward(
            self.kind,
            d,
            traces,
            w,
            contiguous(T::cpu_storage_as_slice(gs)?, gl, "fused_rnn", "output gradient")?,
            (x.track_op(), h0.track_op()),
            &unpacked,
        );
        Ok((
            gr.dx
                .map(|v| Tensor::from_vec(v, (d.steps, d.batch, d.input), dev))
                .transpose()?,
            gr.dh0.map(|v| Tensor::from_vec(v, (d.batch, s), dev)).transpose()?,
            Some(Tensor::from_vec(gr.dw, (g, d.ld()), dev)?),
        ))
    }
}

impl CustomOp3 for FusedRnn {
    fn name(&self) -> &'static str {
        "fused_rnn"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = self.dims(l1, l2, l3)?;
        let shape = Shape::from((d.steps, d.batch, d.hidden));
        match (s1, s2, s3) {
            (CpuStorage::F32(x), CpuStorage::F32(h0), CpuStorage::F32(w)) => {
                let (out, tr) = self.forward_slices(d, (x, l1), (h0, l2), (w, l3))?;
                *self.saved.lock().expect("fused_rnn trace lock") = Some(Saved::F32(tr));
                Ok((CpuStorage::F32(out), shape))
            }
            (CpuStorage::F64(x), CpuStorage::F64(h0), CpuStorage::F64(w)) => {
                let (out, tr) = self.forward_slices(d, (x, l1), (h0, l2), (w, l3))?;
                *self.saved.lock().expect("fused_rnn trace lock") = Some(Saved::F64(tr));
                Ok((CpuStorage::F64(out), shape))
            }
            _ => Err(candle_core::Error::Msg(
                "fused_rnn: x, h0 and w must all be f32 or all f64".into(),
            )),
        }
    }

    fn bwd(
        &self,
        x: &Tensor,
        h0: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<OpGrads> {
        let d = self.dims(x.layout(), h0.layout(), w.layout())?;
        let saved = self.saved.lock().expect("fused_rnn trace lock");
        match (saved.as_ref(), x.dtype()) {
            (Some(Saved::F32(tr)), DType::F32) => self.backward_tensors(d, tr, (x, h0, w), grad_res),
            (Some(Saved::F64(tr)), DType::F64) => self.backward_tensors(d, tr, (x, h0, w), grad_res),
            _ => Err(candle_core::Error::Msg(
                "fused_rnn: backward without a matching forward trace".into(),
            )),
        }
    }
}
