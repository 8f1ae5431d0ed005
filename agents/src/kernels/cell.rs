//! One time step of a recurrent cell, forward and backward, over a block of `rows` batch rows.

use serde::{Deserialize, Serialize};

use super::{matmul, sigmoid, Real, View};

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

    /// One step forward. `xp`: rows×GH; `prev`, `next`: rows×S; `w`: GH×(H+1); `gh`: rows×GH scratch;
    /// `trace`: rows×[`trace_width`](Self::trace_width) when the backward pass will need it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn forward<T: Real>(
        self,
        hidden: usize,
        rows: usize,
        xp: &[T],
        prev: &[T],
        w: &[T],
        gh: &mut [T],
        next: &mut [T],
        mut trace: Option<&mut [T]>,
    ) {
        let h = hidden;
        let g = self.gates() * h;
        let s = self.state_width(h);
        let k = self.trace_width(h);
        for i in 0..rows {
            for j in 0..g {
                gh[i * g + j] = w[j * (h + 1) + h];
            }
        }
        matmul(
            rows,
            g,
            h,
            gh,
            g,
            View {
                data: prev,
                rs: s,
                cs: 1,
            },
            View::transposed(w, h + 1),
            true,
        );
        for i in 0..rows {
            let x = &xp[i * g..(i + 1) * g];
            let a = &gh[i * g..(i + 1) * g];
            let p = &prev[i * s..(i + 1) * s];
            let nx = &mut next[i * s..(i + 1) * s];
            // Written as zips over equal-length slices so that the loops vectorise (no bounds checks).
            match self {
                CellKind::Vanilla { activation, alpha } => {
                    let alpha = T::from_f64(alpha);
                    let mut dy_buf = trace.as_deref_mut().map(|t| &mut t[i * k..(i + 1) * k]);
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
                    let (xr, rest) = x.split_at(h);
                    let (xz, xn) = rest.split_at(h);
                    let (ar, rest) = a.split_at(h);
                    let (az, an) = rest.split_at(h);
                    let hp = &p[..h];
                    let out = &mut nx[..h];
                    match trace.as_deref_mut() {
                        Some(t) => {
                            let (tr, rest) = t[i * k..(i + 1) * k].split_at_mut(h);
                            let (tz, rest) = rest.split_at_mut(h);
                            let (tn, thn) = rest.split_at_mut(h);
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
                    let cp = &p[h..];
                    let (hn, cn) = nx.split_at_mut(h);
                    let mut tr = trace.as_deref_mut().map(|t| &mut t[i * k..(i + 1) * k]);
                    for j in 0..h {
                        let ig = sigmoid(x[j] + a[j]);
                        let fg = sigmoid(x[h + j] + a[h + j]);
                        let gg = (x[2 * h + j] + a[2 * h + j]).tanh();
                        let og = sigmoid(x[3 * h + j] + a[3 * h + j]);
                        let c = fg * cp[j] + ig * gg;
                        let tc = c.tanh();
                        hn[j] = og * tc;
                        cn[j] = c;
                        if let Some(t) = tr.as_deref_mut() {
                            t[j] = ig;
                            t[h + j] = fg;
                            t[2 * h + j] = gg;
                            t[3 * h + j] = og;
                            t[4 * h + j] = tc;
                        }
                    }
                }
            }
        }
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
        w: &[T],
        trace: &[T],
        dnext: &[T],
        dxp: &mut [T],
        dgh: &mut [T],
        dprev: &mut [T],
    ) {
        let h = hidden;
        let g = self.gates() * h;
        let s = self.state_width(h);
        let k = self.trace_width(h);
        for i in 0..rows {
            let t = &trace[i * k..(i + 1) * k];
            let dn = &dnext[i * s..(i + 1) * s];
            let p = &prev[i * s..(i + 1) * s];
            let dx = &mut dxp[i * g..(i + 1) * g];
            let da = &mut dgh[i * g..(i + 1) * g];
            let dp = &mut dprev[i * s..(i + 1) * s];
            match self {
                CellKind::Vanilla { alpha, .. } => {
                    let alpha = T::from_f64(alpha);
                    for j in 0..h {
                        let d = alpha * t[j] * dn[j];
                        dx[j] = d;
                        da[j] = d;
                        dp[j] = (T::ONE - alpha) * dn[j];
                    }
                }
                CellKind::Gru => {
                    for j in 0..h {
                        let (r, z, n, hn) = (t[j], t[h + j], t[2 * h + j], t[3 * h + j]);
                        let dh = dn[j];
                        let dan = dh * (T::ONE - z) * (T::ONE - n * n);
                        let daz = dh * (p[j] - n) * z * (T::ONE - z);
                        let dar = dan * hn * r * (T::ONE - r);
                        dx[j] = dar;
                        dx[h + j] = daz;
                        dx[2 * h + j] = dan;
                        da[j] = dar;
                        da[h + j] = daz;
                        da[2 * h + j] = dan * r;
                        dp[j] = dh * z;
                    }
                }
                CellKind::Lstm => {
                    for j in 0..h {
                        let (ig, fg, gg, og, tc) = (t[j], t[h + j], t[2 * h + j], t[3 * h + j], t[4 * h + j]);
                        let dh = dn[j];
                        let dc = dn[h + j] + dh * og * (T::ONE - tc * tc);
                        let dai = dc * gg * ig * (T::ONE - ig);
                        let daf = dc * p[h + j] * fg * (T::ONE - fg);
                        let dag = dc * ig * (T::ONE - gg * gg);
                        let dao = dh * tc * og * (T::ONE - og);
                        for (q, v) in [dai, daf, dag, dao].into_iter().enumerate() {
                            dx[q * h + j] = v;
                            da[q * h + j] = v;
                        }
                        dp[j] = T::ZERO;
                        dp[h + j] = dc * fg;
                    }
                }
            }
        }
        // dprev[:, :H] += dgh · W_hh  (rows×G·H times G·H×H; W_hh is the first H columns of w).
        matmul(
            rows,
            h,
            g,
            dprev,
            s,
            View::rows(dgh, g),
            View {
                data: w,
                rs: h + 1,
                cs: 1,
            },
            true,
        );
    }
}
