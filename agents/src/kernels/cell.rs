//! One time step of a recurrent cell, forward and backward, over a block of `rows` batch rows.

use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use super::packed::{matmul_packed, Packed};
use super::{sigmoid, Real, View};

/// A cell's recurrent weights `W_hh` (`G·H × H`) and bias `b_hh`, packed once for the per-step products.
#[derive(Debug, Clone)]
pub(crate) struct CellWeights<T> {
    /// `W_hhᵀ` (`H × G·H`): the forward product `h·W_hhᵀ`.
    wt: Packed<T>,
    /// `W_hh` itself (`G·H × H`): the backward product `dgh·W_hh`; `None` when only acting.
    w: Option<Packed<T>>,
    bias: Vec<T>,
}

/// A cell's input projection `W_ih` (`G·H × I`, packed as `W_ihᵀ`) and bias `b_ih`.
#[derive(Debug, Clone)]
pub(crate) struct InputWeights<T> {
    wt: Packed<T>,
    bias: Vec<T>,
}

impl<T: Real> InputWeights<T> {
    /// `w_ih`: the `g × i` input matrix (any strides); `bias`: `g` values.
    pub fn new(g: usize, i: usize, w_ih: View<'_, T>, bias: Vec<T>) -> Self {
        assert_eq!(bias.len(), g, "InputWeights: bias length");
        let wt = Packed::new(
            i,
            g,
            View {
                data: w_ih.data,
                rs: w_ih.cs,
                cs: w_ih.rs,
            },
        );
        InputWeights { wt, bias }
    }

    /// `xp = x·W_ihᵀ + b_ih (+ noise)` for `rows` rows: `x` rows×I, `noise` rows×G·H or empty, `xp` rows×G·H.
    pub fn project(&self, rows: usize, x: &[T], noise: &[T], xp: &mut [T]) {
        let g = self.bias.len();
        let xp = &mut xp[..rows * g];
        for row in xp.chunks_exact_mut(g) {
            row.copy_from_slice(&self.bias);
        }
        matmul_packed(rows, View::rows(x, self.wt.k()), &self.wt, xp, g, true);
        for (a, n) in xp.iter_mut().zip(noise) {
            *a += *n;
        }
    }
}

impl<T: Real> CellWeights<T> {
    /// `w_hh`: the `g × h` recurrent matrix (any strides); `bias`: `g` values; `backward`: also pack for
    /// the backward pass.
    pub fn new(g: usize, h: usize, w_hh: View<'_, T>, bias: Vec<T>, backward: bool) -> Self {
        assert_eq!(bias.len(), g, "CellWeights: bias length");
        let wt = Packed::new(
            h,
            g,
            View {
                data: w_hh.data,
                rs: w_hh.cs,
                cs: w_hh.rs,
            },
        );
        let w = backward.then(|| Packed::new(g, h, w_hh));
        CellWeights { wt, w, bias }
    }
}

/// Nonlinearity of the vanilla leaky RNN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Tanh,
    Relu,
}

/// Which recurrent cell a kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    /// `h' = (1 − α)·h + α·φ(xp + W_hh·h + b_hh)`, α = dt/τ.
    Vanilla { activation: Activation, alpha: f64 },
    /// PyTorch's GRU: r, z, n gates; `h' = (1 − z)·n + z·h`.
    Gru,
    /// PyTorch's LSTM: i, f, g, o gates; `c' = f·c + i·g`, `h' = o·tanh(c')`.
    Lstm,
}

impl CellKind {
    /// Number of gate blocks `G` (rows of `W_hh` are `G·H`).
    pub fn gates(self) -> usize {
        match self {
            CellKind::Vanilla { .. } => 1,
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }

    /// Width of the recurrent state per row: `H`, or `2H` (`[h | c]`) for the LSTM.
    pub fn state_width(self, hidden: usize) -> usize {
        match self {
            CellKind::Lstm => 2 * hidden,
            _ => hidden,
        }
    }

    /// Values kept per row and step for the backward pass.
    pub(crate) fn trace_width(self, hidden: usize) -> usize {
        match self {
            CellKind::Vanilla { .. } => hidden, // φ'(a)
            CellKind::Gru => 4 * hidden,        // r, z, n, W_hn·h + b_hn
            CellKind::Lstm => 5 * hidden,       // i, f, g, o, tanh(c')
        }
    }

    /// One step forward. `xp`: rows×GH; `prev`, `next`: rows×S; `gh`: rows×GH scratch;
    /// `trace`: rows×[`trace_width`](Self::trace_width) when the backward pass will need it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn forward<T: Real>(
        self,
        hidden: usize,
        rows: usize,
        xp: &[T],
        prev: &[T],
        w: &CellWeights<T>,
        gh: &mut [T],
        next: &mut [T],
        trace: Option<&mut [T]>,
    ) {
        forward_step(self, hidden, rows, xp, prev, w, gh, next, trace);
    }

    /// One step backward. `dnext` (rows×S) holds the total gradient with respect to the new state; writes
    /// the gradient with respect to `xp` into `dxp` (rows×GH), with respect to the recurrent pre-activation
    /// `W_hh·h + b_hh` into `dgh` (rows×GH, for the weight gradient), and with respect to `prev` into
    /// `dprev` (rows×S).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn backward<T: Real>(
        self,
        hidden: usize,
        rows: usize,
        prev: &[T],
        w: &CellWeights<T>,
        trace: &[T],
        dnext: &[T],
        dxp: &mut [T],
        dgh: &mut [T],
        dprev: &mut [T],
    ) {
        backward_step(self, hidden, rows, prev, w, trace, dnext, dxp, dgh, dprev);
    }
}

/// The first `N` consecutive `h`-long parts of `v` (exact lengths, so indexing them by `j < h` needs no
/// bounds checks and the gate loops vectorise).
#[inline(always)]
fn parts<const N: usize, T>(v: &[T], h: usize) -> [&[T]; N] {
    std::array::from_fn(|q| &v[q * h..(q + 1) * h])
}

/// [`parts`] for a mutable slice.
#[inline(always)]
fn parts_mut<const N: usize, T>(v: &mut [T], h: usize) -> [&mut [T]; N] {
    let mut rest = v;
    std::array::from_fn(|_| {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(h);
        rest = tail;
        part
    })
}

/// The body of [`CellKind::forward`], compiled for AVX-512, AVX2 + FMA and the baseline, chosen at run
/// time (see the module docs).
#[allow(clippy::too_many_arguments)]
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn forward_step<T: Real>(
    kind: CellKind,
    hidden: usize,
    rows: usize,
    xp: &[T],
    prev: &[T],
    w: &CellWeights<T>,
    gh: &mut [T],
    next: &mut [T],
    trace: Option<&mut [T]>,
) {
    let mut trace = trace;
    let h = hidden;
    let g = kind.gates() * h;
    let s = kind.state_width(h);
    let k = kind.trace_width(h);
    for row in gh[..rows * g].chunks_exact_mut(g) {
        row.copy_from_slice(&w.bias);
    }
    matmul_packed(
        rows,
        View {
            data: prev,
            rs: s,
            cs: 1,
        },
        &w.wt,
        gh,
        g,
        true,
    );
    for i in 0..rows {
        let x = &xp[i * g..(i + 1) * g];
        let a = &gh[i * g..(i + 1) * g];
        let p = &prev[i * s..(i + 1) * s];
        let nx = &mut next[i * s..(i + 1) * s];
        match kind {
            CellKind::Vanilla { activation, alpha } => {
                let alpha = T::from_f64(alpha);
                let mut dy_buf = trace.as_deref_mut().map(|t| &mut t[i * k..i * k + h]);
                let [x] = parts(x, h);
                let [a] = parts(a, h);
                let [p] = parts(p, h);
                let [nx] = parts_mut(nx, h);
                for j in 0..h {
                    let pre = x[j] + a[j];
                    let (y, dy) = match activation {
                        Activation::Tanh => {
                            let y = pre.tanh();
                            (y, T::ONE - y * y)
                        }
                        Activation::Relu => {
                            if pre > T::ZERO {
                                (pre, T::ONE)
                            } else {
                                (T::ZERO, T::ZERO)
                            }
                        }
                    };
                    nx[j] = (T::ONE - alpha) * p[j] + alpha * y;
                    if let Some(t) = dy_buf.as_deref_mut() {
                        t[j] = dy;
                    }
                }
            }
            CellKind::Gru => {
                let [xr, xz, xn] = parts(x, h);
                let [ar, az, an] = parts(a, h);
                let [hp] = parts(p, h);
                let [out] = parts_mut(nx, h);
                match trace.as_deref_mut() {
                    Some(t) => {
                        let [tr, tz, tn, thn] = parts_mut(&mut t[i * k..(i + 1) * k], h);
                        for j in 0..h {
                            let r = sigmoid(xr[j] + ar[j]);
                            let z = sigmoid(xz[j] + az[j]);
                            let n = (xn[j] + r * an[j]).tanh();
                            out[j] = (T::ONE - z) * n + z * hp[j];
                            tr[j] = r;
                            tz[j] = z;
                            tn[j] = n;
                            thn[j] = an[j];
                        }
                    }
                    None => {
                        for j in 0..h {
                            let r = sigmoid(xr[j] + ar[j]);
                            let z = sigmoid(xz[j] + az[j]);
                            let n = (xn[j] + r * an[j]).tanh();
                            out[j] = (T::ONE - z) * n + z * hp[j];
                        }
                    }
                }
            }
            CellKind::Lstm => {
                let [_, cp] = parts(p, h);
                let [hn, cn] = parts_mut(nx, h);
                let [xi, xf, xg, xo] = parts(x, h);
                let [ai, af, ag, ao] = parts(a, h);
                let mut tr = trace
                    .as_deref_mut()
                    .map(|t| parts_mut::<5, T>(&mut t[i * k..(i + 1) * k], h));
                for j in 0..h {
                    let ig = sigmoid(xi[j] + ai[j]);
                    let fg = sigmoid(xf[j] + af[j]);
                    let gg = (xg[j] + ag[j]).tanh();
                    let og = sigmoid(xo[j] + ao[j]);
                    let c = fg * cp[j] + ig * gg;
                    let tc = c.tanh();
                    hn[j] = og * tc;
                    cn[j] = c;
                    if let Some([ti, tf, tg, to, tt]) = tr.as_mut() {
                        ti[j] = ig;
                        tf[j] = fg;
                        tg[j] = gg;
                        to[j] = og;
                        tt[j] = tc;
                    }
                }
            }
        }
    }
}

/// The body of [`CellKind::backward`], compiled for AVX-512, AVX2 + FMA and the baseline, chosen at run
/// time (see the module docs).
#[allow(clippy::too_many_arguments)]
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn backward_step<T: Real>(
    kind: CellKind,
    hidden: usize,
    rows: usize,
    prev: &[T],
    w: &CellWeights<T>,
    trace: &[T],
    dnext: &[T],
    dxp: &mut [T],
    dgh: &mut [T],
    dprev: &mut [T],
) {
    let h = hidden;
    let g = kind.gates() * h;
    let s = kind.state_width(h);
    let k = kind.trace_width(h);
    for i in 0..rows {
        let t = &trace[i * k..(i + 1) * k];
        let dn = &dnext[i * s..(i + 1) * s];
        let p = &prev[i * s..(i + 1) * s];
        let dx = &mut dxp[i * g..(i + 1) * g];
        let da = &mut dgh[i * g..(i + 1) * g];
        let dp = &mut dprev[i * s..(i + 1) * s];
        match kind {
            CellKind::Vanilla { alpha, .. } => {
                let alpha = T::from_f64(alpha);
                let [t] = parts(t, h);
                let [dn] = parts(dn, h);
                let [dx] = parts_mut(dx, h);
                let [da] = parts_mut(da, h);
                let [dp] = parts_mut(dp, h);
                for j in 0..h {
                    let d = alpha * t[j] * dn[j];
                    dx[j] = d;
                    da[j] = d;
                    dp[j] = (T::ONE - alpha) * dn[j];
                }
            }
            CellKind::Gru => {
                let [tr, tz, tn, thn] = parts(t, h);
                let [dn] = parts(dn, h);
                let [p] = parts(p, h);
                let [dxr, dxz, dxn] = parts_mut(dx, h);
                let [dar_, daz_, dan_] = parts_mut(da, h);
                let [dp] = parts_mut(dp, h);
                for j in 0..h {
                    let (r, z, n, hn) = (tr[j], tz[j], tn[j], thn[j]);
                    let dh = dn[j];
                    let dan = dh * (T::ONE - z) * (T::ONE - n * n);
                    let daz = dh * (p[j] - n) * z * (T::ONE - z);
                    let dar = dan * hn * r * (T::ONE - r);
                    dxr[j] = dar;
                    dxz[j] = daz;
                    dxn[j] = dan;
                    dar_[j] = dar;
                    daz_[j] = daz;
                    dan_[j] = dan * r;
                    dp[j] = dh * z;
                }
            }
            CellKind::Lstm => {
                let [ti, tf, tg, to, tt] = parts(t, h);
                let [dnh, dnc] = parts(dn, h);
                let [_, cp] = parts(p, h);
                let [dxi, dxf, dxg, dxo] = parts_mut(dx, h);
                let [dai_, daf_, dag_, dao_] = parts_mut(da, h);
                let [dph, dpc] = parts_mut(dp, h);
                for j in 0..h {
                    let (ig, fg, gg, og, tc) = (ti[j], tf[j], tg[j], to[j], tt[j]);
                    let dh = dnh[j];
                    let dc = dnc[j] + dh * og * (T::ONE - tc * tc);
                    let dai = dc * gg * ig * (T::ONE - ig);
                    let daf = dc * cp[j] * fg * (T::ONE - fg);
                    let dag = dc * ig * (T::ONE - gg * gg);
                    let dao = dh * tc * og * (T::ONE - og);
                    (dxi[j], dxf[j], dxg[j], dxo[j]) = (dai, daf, dag, dao);
                    (dai_[j], daf_[j], dag_[j], dao_[j]) = (dai, daf, dag, dao);
                    dph[j] = T::ZERO;
                    dpc[j] = dc * fg;
                }
            }
        }
    }
    // dprev[:, :H] += dgh · W_hh  (rows×G·H times G·H×H).
    let w = w.w.as_ref().expect("CellWeights packed without the backward matrix");
    matmul_packed(rows, View::rows(dgh, g), w, dprev, s, true);
}
