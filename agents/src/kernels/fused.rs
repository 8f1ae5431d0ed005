//! Whole-sequence forward and BPTT backward, and the candle `CustomOp3` that puts them in the graph.
//!
//! The batch is cut into fixed blocks of `rows_per_chunk` rows, processed in parallel (rayon); every
//! reduction over blocks runs in block order. The blocks do not depend on the thread count, so the results
//! are bit-identical whatever the number of threads.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::{matmul, CellKind, Real, View};

/// What the forward pass of one block keeps for its backward pass.
struct BlockTrace<T> {
    start: usize,
    rows: usize,
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
    hidden: usize,
}

/// Rows per block: `rows_per_chunk`, or with 0 half the batch clamped to 8..=32 (two blocks for the usual
/// batch sizes; larger blocks amortise `gemm`'s packing of the recurrent matrix). Depends on the batch
/// size only, never on the thread count.
fn block_rows(batch: usize, rows_per_chunk: usize) -> usize {
    if rows_per_chunk > 0 {
        rows_per_chunk
    } else {
        batch.div_ceil(2).clamp(16, 32)
    }
}

fn blocks(batch: usize, rows_per_chunk: usize) -> Vec<(usize, usize)> {
    let r = block_rows(batch, rows_per_chunk);
    (0..batch.div_ceil(r)).map(|c| (c * r, r.min(batch - c * r))).collect()
}

/// Forward over the whole sequence. `xp`: `[T, B, G·H]`, `h0`: `[B, S]`, `w`: `[G·H, H + 1]`.
/// Returns the outputs `[T, B, H]` and the traces.
fn seq_forward<T: Real>(
    kind: CellKind,
    d: Dims,
    rows_per_chunk: usize,
    xp: &[T],
    h0: &[T],
    w: &[T],
) -> (Vec<T>, Vec<BlockTrace<T>>) {
    let (h, g, s, k) = (
        d.hidden,
        kind.gates() * d.hidden,
        kind.state_width(d.hidden),
        kind.trace_width(d.hidden),
    );
    let traces: Vec<BlockTrace<T>> = blocks(d.batch, rows_per_chunk)
        .into_par_iter()
        .map(|(start, rows)| {
            let mut states = vec![T::ZERO; (d.steps + 1) * rows * s];
            let mut cells = vec![T::ZERO; d.steps * rows * k];
            let mut gh = vec![T::ZERO; rows * g];
            states[..rows * s].copy_from_slice(&h0[start * s..(start + rows) * s]);
            for t in 0..d.steps {
                let x = &xp[(t * d.batch + start) * g..(t * d.batch + start + rows) * g];
                let (done, rest) = states.split_at_mut((t + 1) * rows * s);
                let prev = &done[t * rows * s..];
                let next = &mut rest[..rows * s];
                let cell = &mut cells[t * rows * k..(t + 1) * rows * k];
                kind.forward(h, rows, x, prev, w, &mut gh, next, Some(cell));
            }
            BlockTrace {
                start,
                rows,
                states,
                cells,
            }
        })
        .collect();
    let mut out = vec![T::ZERO; d.steps * d.batch * h];
    for b in &traces {
        for t in 0..d.steps {
            for i in 0..b.rows {
                let src = &b.states[((t + 1) * b.rows + i) * s..][..h];
                out[(t * d.batch + b.start + i) * h..][..h].copy_from_slice(src);
            }
        }
    }
    (out, traces)
}

/// Gradients of one fused call.
struct Grads<T> {
    dxp: Vec<T>,
    dh0: Vec<T>,
    dw: Vec<T>,
}

/// BPTT backward. `dout`: `[T, B, H]`, the gradient with respect to the outputs.
fn seq_backward<T: Real>(kind: CellKind, d: Dims, traces: &[BlockTrace<T>], w: &[T], dout: &[T]) -> Grads<T> {
    let (h, g, s, k) = (
        d.hidden,
        kind.gates() * d.hidden,
        kind.state_width(d.hidden),
        kind.trace_width(d.hidden),
    );
    // Per block: dxp and dgh as [T, rows, G·H], and the gradient with respect to the initial state.
    let per_block: Vec<(Vec<T>, Vec<T>, Vec<T>)> = traces
        .par_iter()
        .map(|b| {
            let rows = b.rows;
            let mut dxp = vec![T::ZERO; d.steps * rows * g];
            let mut dgh = vec![T::ZERO; d.steps * rows * g];
            let mut dnext = vec![T::ZERO; rows * s];
            let mut dprev = vec![T::ZERO; rows * s];
            for t in (0..d.steps).rev() {
                for i in 0..rows {
                    let src = &dout[(t * d.batch + b.start + i) * h..][..h];
                    for (dst, v) in dnext[i * s..i * s + h].iter_mut().zip(src) {
                        *dst += *v;
                    }
                }
                kind.backward(
                    h,
                    rows,
                    &b.states[t * rows * s..(t + 1) * rows * s],
                    w,
                    &b.cells[t * rows * k..(t + 1) * rows * k],
                    &dnext,
                    &mut dxp[t * rows * g..(t + 1) * rows * g],
                    &mut dgh[t * rows * g..(t + 1) * rows * g],
                    &mut dprev,
                );
                std::mem::swap(&mut dnext, &mut dprev);
            }
            (dxp, dgh, dnext)
        })
        .collect();

    let mut dxp = vec![T::ZERO; d.steps * d.batch * g];
    let mut dh0 = vec![T::ZERO; d.batch * s];
    for (b, (bdxp, _, bdh0)) in traces.iter().zip(&per_block) {
        for t in 0..d.steps {
            let src = &bdxp[t * b.rows * g..(t + 1) * b.rows * g];
            dxp[(t * d.batch + b.start) * g..][..b.rows * g].copy_from_slice(src);
        }
        dh0[b.start * s..(b.start + b.rows) * s].copy_from_slice(bdh0);
    }

    // dW[i, :H] = Σ_blocks Σ_t dgh[t]ᵀ·h_prev[t]; dW[i, H] = Σ dgh[:, i]. Rows of dW are split across
    // threads; each row sums the blocks in order.
    const ROW_BLOCK: usize = 16;
    let mut dw = vec![T::ZERO; g * (h + 1)];
    dw.par_chunks_mut(ROW_BLOCK * (h + 1))
        .enumerate()
        .for_each(|(rb, dst)| {
            let r0 = rb * ROW_BLOCK;
            let nr = dst.len() / (h + 1);
            for (b, (_, bdgh, _)) in traces.iter().zip(&per_block) {
                let n = d.steps * b.rows;
                // lhs (i, p) = dgh[p, r0 + i]; rhs (p, j) = state[p, j] for the states before each step.
                matmul(
                    nr,
                    h,
                    n,
                    dst,
                    h + 1,
                    View {
                        data: &bdgh[r0..],
                        rs: 1,
                        cs: g,
                    },
                    View {
                        data: &b.states,
                        rs: s,
                        cs: 1,
                    },
                    true,
                );
                for i in 0..nr {
                    let mut acc = T::ZERO;
                    for p in 0..n {
                        acc += bdgh[p * g + r0 + i];
                    }
                    dst[i * (h + 1) + h] += acc;
                }
            }
        });
    Grads { dxp, dh0, dw }
}

/// The fused whole-sequence recurrent op: `(xp [T, B, G·H], h0 [B, S], w [G·H, H + 1]) → h [T, B, H]`,
/// with a hand-written BPTT backward (`bwd`) that reuses the traces the forward pass kept.
pub struct FusedRnn {
    kind: CellKind,
    hidden: usize,
    rows_per_chunk: usize,
    saved: Mutex<Option<Saved>>,
}

impl FusedRnn {
    /// `rows_per_chunk` = 0 chooses the block size from the batch size (see the module docs).
    pub fn new(kind: CellKind, hidden: usize, rows_per_chunk: usize) -> Self {
        FusedRnn {
            kind,
            hidden,
            rows_per_chunk,
            saved: Mutex::new(None),
        }
    }

    fn dims(&self, xp: &Layout, h0: &Layout, w: &Layout) -> candle_core::Result<Dims> {
        let (h, g, s) = (
            self.hidden,
            self.kind.gates() * self.hidden,
            self.kind.state_width(self.hidden),
        );
        let bad = |what: String| candle_core::Error::Msg(format!("fused_rnn: {what}"));
        let (steps, batch, gx) = xp.shape().dims3()?;
        if gx != g {
            return Err(bad(format!("xp has {gx} columns, expected gates × hidden = {g}")));
        }
        if h0.shape().dims() != [batch, s] {
            return Err(bad(format!(
                "h0 has shape {:?}, expected [{batch}, {s}]",
                h0.shape().dims()
            )));
        }
        if w.shape().dims() != [g, h + 1] {
            return Err(bad(format!(
                "w has shape {:?}, expected [{g}, {}]",
                w.shape().dims(),
                h + 1
            )));
        }
        Ok(Dims {
            steps,
            batch,
            hidden: h,
        })
    }
}

/// The three gradients of one call as tensors, `(dxp, dh0, dw)`.
type OpGrads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

impl FusedRnn {
    /// The forward pass on the (contiguous) storage slices of the three inputs.
    fn forward_slices<T: Real>(
        &self,
        d: Dims,
        x: (&[T], &Layout),
        h0: (&[T], &Layout),
        w: (&[T], &Layout),
    ) -> candle_core::Result<(Vec<T>, Vec<BlockTrace<T>>)> {
        Ok(seq_forward(
            self.kind,
            d,
            self.rows_per_chunk,
            contiguous(x.0, x.1)?,
            contiguous(h0.0, h0.1)?,
            contiguous(w.0, w.1)?,
        ))
    }

    /// The backward pass from the saved traces, as tensors on `w`'s device.
    fn backward_tensors<T: Real + candle_core::WithDType>(
        &self,
        d: Dims,
        traces: &[BlockTrace<T>],
        w: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<OpGrads> {
        let (s, g) = (self.kind.state_width(d.hidden), self.kind.gates() * d.hidden);
        let dev = w.device();
        let gr = seq_backward(
            self.kind,
            d,
            traces,
            &w.flatten_all()?.to_vec1::<T>()?,
            &grad_res.flatten_all()?.to_vec1::<T>()?,
        );
        Ok((
            Some(Tensor::from_vec(gr.dxp, (d.steps, d.batch, g), dev)?),
            Some(Tensor::from_vec(gr.dh0, (d.batch, s), dev)?),
            Some(Tensor::from_vec(gr.dw, (g, d.hidden + 1), dev)?),
        ))
    }
}

fn contiguous<'a, T>(data: &'a [T], layout: &Layout) -> candle_core::Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => Err(candle_core::Error::Msg("fused_rnn: inputs must be contiguous".into())),
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
                "fused_rnn: xp, h0 and w must all be f32 or all f64".into(),
            )),
        }
    }

    fn bwd(
        &self,
        xp: &Tensor,
        h0: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<OpGrads> {
        let d = self.dims(xp.layout(), h0.layout(), w.layout())?;
        let saved = self.saved.lock().expect("fused_rnn trace lock");
        match (saved.as_ref(), xp.dtype()) {
            (Some(Saved::F32(tr)), DType::F32) => self.backward_tensors(d, tr, w, grad_res),
            (Some(Saved::F64(tr)), DType::F64) => self.backward_tensors(d, tr, w, grad_res),
            _ => Err(candle_core::Error::Msg(
                "fused_rnn: backward without a matching forward trace".into(),
            )),
        }
    }
}
