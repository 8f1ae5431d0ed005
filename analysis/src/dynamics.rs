//! The [`Dynamics`] trait (one step of a recurrent map, its analytic Jacobian and vector–Jacobian
//! product) and the cells that implement it: a linear map, a leaky vanilla RNN, and a GRU and an LSTM
//! with PyTorch's gate conventions.
//!
//! Weights are plain row-major `f64` arrays: this crate knows nothing of tensors or training; the code
//! that owns a trained network copies its weights in.

// Index loops read as the cell equations they implement.
#![allow(clippy::needless_range_loop)]

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use multiversion::multiversion;

use crate::error::{AnalysisError, Result};
use crate::simd::clear_upper_vector_state;

/// A discrete-time recurrent map `h' = F(h, u)`.
pub trait Dynamics {
    /// Dimension of the state h.
    fn dim(&self) -> usize;
    /// Dimension of the input u.
    fn input_dim(&self) -> usize;
    /// Writes `F(h, u)` into `out`.
    fn step(&self, h: &[f64], u: &[f64], out: &mut [f64]);
    /// Writes the Jacobian ∂F/∂h at (h, u) into `jac`, row-major (`jac[i·dim + j] = ∂F_i/∂h_j`).
    fn jacobian(&self, h: &[f64], u: &[f64], jac: &mut [f64]);
    /// q(h) = ½‖F(h, u) − h‖² and its gradient `(J − I)ᵀ·(F − h)` into `grad`, in one pass where a cell
    /// can share work between the two (the fixed-point finder's inner loop).
    fn q_and_grad(&self, h: &[f64], u: &[f64], grad: &mut [f64]) -> f64 {
        let n = self.dim();
        let mut r = vec![0.0; n];
        self.step(h, u, &mut r);
        let mut q = 0.0;
        for i in 0..n {
            r[i] -= h[i];
            q += r[i] * r[i];
        }
        self.vjp(h, u, &r, grad);
        for i in 0..n {
            grad[i] -= r[i];
        }
        0.5 * q
    }
    /// [`q_and_grad`](Self::q_and_grad) for a batch of states: `hs` holds `qs.len()` states one after the
    /// other, `grads` receives their gradients in the same layout. The default calls `q_and_grad` per
    /// state; a cell overrides it with matrix–matrix products, which reuse the weights across the batch.
    fn q_and_grad_batch(&self, hs: &[f64], u: &[f64], grads: &mut [f64], qs: &mut [f64]) {
        let n = self.dim();
        for ((h, g), q) in hs.chunks_exact(n).zip(grads.chunks_exact_mut(n)).zip(qs.iter_mut()) {
            *q = self.q_and_grad(h, u, g);
        }
    }
    /// Writes the vector–Jacobian product `Jᵀ·v` at (h, u) into `out` (the gradient of q(h) needs only
    /// this). The default forms the Jacobian; the cells override it with an O(weights) pass that never
    /// builds the matrix.
    fn vjp(&self, h: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        let n = self.dim();
        let mut jac = vec![0.0; n * n];
        self.jacobian(h, u, &mut jac);
        out.fill(0.0);
        for i in 0..n {
            for j in 0..n {
                out[j] += jac[i * n + j] * v[i];
            }
        }
    }
}

/// `out += wᵀ·v` for a row-major `w` with `cols` columns.
#[multiversion(targets("x86_64+avx512f+avx2", "x86_64+avx2"))]
fn add_matvec_t(w: &[f64], v: &[f64], cols: usize, out: &mut [f64]) {
    for (r, &vr) in v.iter().enumerate() {
        if vr == 0.0 {
            continue;
        }
        for (o, wv) in out.iter_mut().zip(&w[r * cols..(r + 1) * cols]) {
            *o += wv * vr;
        }
    }
}

/// Activation of a [`LeakyRnn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// tanh.
    Tanh,
    /// max(0, x) (derivative 0 at 0).
    Relu,
}

impl Activation {
    fn apply(self, x: f64) -> (f64, f64) {
        match self {
            Activation::Tanh => {
                let t = x.tanh();
                (t, 1.0 - t * t)
            }
            Activation::Relu => {
                if x > 0.0 {
                    (x, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
        }
    }
}

fn check_len(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(AnalysisError::Shape {
            op: "dynamics",
            expected: format!("{what} of {expected} values"),
            got: format!("{got}"),
        })
    }
}

/// `w` (row-major, `rows × cols`) transposed, row-major `cols × rows`.
fn transpose(w: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

/// `out = w·x` from `wt = wᵀ` (row-major, `x.len() × out.len()`): the columns of `w` scaled by `x` and
/// accumulated, a loop over contiguous memory that vectorises (a dot product per row would be a chain of
/// dependent adds).
fn matvec_t(wt: &[f64], x: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    let cols = out.len();
    add_matvec_t(wt, x, cols, out);
}

/// `out = w·x` for a row-major `w` with `rows` rows.
#[multiversion(targets("x86_64+avx512f+avx2", "x86_64+avx2"))]
fn matvec(w: &[f64], x: &[f64], rows: usize, out: &mut [f64]) {
    let cols = x.len();
    for (r, o) in out.iter_mut().enumerate().take(rows) {
        *o = dot(&w[r * cols..(r + 1) * cols], x);
    }
}
/// A dot product with eight independent partial sums, so the compiler can vectorise it (a plain
/// iterator `sum` must add in order and stays scalar). The order of additions is fixed, so results do
/// not depend on the machine beyond its floating-point rounding.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    // 32 partial sums: four independent chains of 8-wide vectors, so the adds do not wait on each other.
    let mut acc = [0.0f64; 32];
    let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..32 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    let mut half = [0.0f64; 16];
    for k in 0..16 {
        half[k] = acc[k] + acc[k + 16];
    }
    let mut quarter = [0.0f64; 8];
    for k in 0..8 {
        quarter[k] = half[k] + half[k + 8];
    }
    ((quarter[0] + quarter[4]) + (quarter[1] + quarter[5]))
        + ((quarter[2] + quarter[6]) + (quarter[3] + quarter[7]))
        + tail
}

/// `h' = A·h + B·u + c`.
#[derive(Debug, Clone)]
pub struct LinearMap {
    n: usize,
    m: usize,
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

impl LinearMap {
    /// A (n × n), B (n × m) row-major, c (n).
    pub fn new(n: usize, m: usize, a: Vec<f64>, b: Vec<f64>, c: Vec<f64>) -> Result<Self> {
        check_len("A", a.len(), n * n)?;
        check_len("B", b.len(), n * m)?;
        check_len("c", c.len(), n)?;
        Ok(LinearMap { n, m, a, b, c })
    }
}

impl Dynamics for LinearMap {
    fn dim(&self) -> usize {
        self.n
    }
    fn input_dim(&self) -> usize {
        self.m
    }
    fn step(&self, h: &[f64], u: &[f64], out: &mut [f64]) {
        let mut bu = vec![0.0; self.n];
        matvec(&self.a, h, self.n, out);
        matvec(&self.b, u, self.n, &mut bu);
        for i in 0..self.n {
            out[i] += self.c[i] + bu[i];
        }
    }
    fn jacobian(&self, _h: &[f64], _u: &[f64], jac: &mut [f64]) {
        jac.copy_from_slice(&self.a);
    }
}

/// Leaky RNN `h' = (1 − α)·h + α·φ(W·h + W_in·u + b)`, α = dt/τ (the Yang et al. 2019 convention;
/// α = 1 is a plain vanilla RNN).
#[derive(Debug, Clone)]
pub struct LeakyRnn {
    n: usize,
    m: usize,
    w: Vec<f64>,
    /// `Wᵀ`, for the forward product.
    w_t: Vec<f64>,
    w_in: Vec<f64>,
    bias: Vec<f64>,
    alpha: f64,
    activation: Activation,
}

impl LeakyRnn {
    /// W (n × n), W_in (n × m), b (n), row-major.
    pub fn new(
        n: usize,
        m: usize,
        w: Vec<f64>,
        w_in: Vec<f64>,
        bias: Vec<f64>,
        alpha: f64,
        activation: Activation,
    ) -> Result<Self> {
        check_len("W", w.len(), n * n)?;
        check_len("W_in", w_in.len(), n * m)?;
        check_len("b", bias.len(), n)?;
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Err(AnalysisError::InvalidParameter {
                op: "leaky_rnn",
                name: "alpha",
                reason: format!("must be in (0, 1], got {alpha}"),
            });
        }
        Ok(LeakyRnn {
            n,
            m,
            w_t: transpose(&w, n, n),
            w,
            w_in,
            bias,
            alpha,
            activation,
        })
    }

    fn pre(&self, h: &[f64], u: &[f64]) -> Vec<f64> {
        let mut z = vec![0.0; self.n];
        let mut wu = vec![0.0; self.n];
        matvec_t(&self.w_t, h, &mut z);
        matvec(&self.w_in, u, self.n, &mut wu);
        for i in 0..self.n {
            z[i] += self.bias[i] + wu[i];
        }
        z
    }
}

impl Dynamics for LeakyRnn {
    fn dim(&self) -> usize {
        self.n
    }
    fn input_dim(&self) -> usize {
        self.m
    }
    fn step(&self, h: &[f64], u: &[f64], out: &mut [f64]) {
        let z = self.pre(h, u);
        for i in 0..self.n {
            out[i] = (1.0 - self.alpha) * h[i] + self.alpha * self.activation.apply(z[i]).0;
        }
    }
    fn jacobian(&self, h: &[f64], u: &[f64], jac: &mut [f64]) {
        let z = self.pre(h, u);
        let n = self.n;
        for i in 0..n {
            let d = self.alpha * self.activation.apply(z[i]).1;
            for j in 0..n {
                jac[i * n + j] = d * self.w[i * n + j] + if i == j { 1.0 - self.alpha } else { 0.0 };
            }
        }
    }
    fn vjp(&self, h: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        let z = self.pre(h, u);
        let n = self.n;
        let dz: Vec<f64> = (0..n)
            .map(|i| self.alpha * self.activation.apply(z[i]).1 * v[i])
            .collect();
        for j in 0..n {
            out[j] = (1.0 - self.alpha) * v[j];
        }
        add_matvec_t(&self.w, &dz, n, out);
    }
}

/// GRU with PyTorch's equations and weight layout (`weight_ih` 3n × m, `weight_hh` 3n × n, gate order
/// r, z, n):
/// r = σ(W_ir·u + b_ir + W_hr·h + b_hr), z = σ(W_iz·u + b_iz + W_hz·h + b_hz),
/// ñ = tanh(W_in·u + b_in + r ⊙ (W_hn·h + b_hn)), h' = (1 − z) ⊙ ñ + z ⊙ h.
#[derive(Debug, Clone)]
pub struct Gru {
    n: usize,
    m: usize,
    w_hh: Vec<f64>,
    /// `W_hhᵀ` and `W_ihᵀ`, for the forward products.
    w_hh_t: Vec<f64>,
    w_ih_t: Vec<f64>,
    b_ih: Vec<f64>,
    b_hh: Vec<f64>,
}

struct GruGates {
    r: Vec<f64>,
    z: Vec<f64>,
    cand: Vec<f64>,
    /// W_hn·h + b_hn.
    hn: Vec<f64>,
}

impl Gru {
    /// Builds a GRU from PyTorch-layout weights.
    pub fn new(n: usize, m: usize, w_ih: Vec<f64>, w_hh: Vec<f64>, b_ih: Vec<f64>, b_hh: Vec<f64>) -> Result<Self> {
        check_len("weight_ih", w_ih.len(), 3 * n * m)?;
        check_len("weight_hh", w_hh.len(), 3 * n * n)?;
        check_len("bias_ih", b_ih.len(), 3 * n)?;
        check_len("bias_hh", b_hh.len(), 3 * n)?;
        Ok(Gru {
            n,
            m,
            w_hh_t: transpose(&w_hh, 3 * n, n),
            w_ih_t: transpose(&w_ih, 3 * n, m),
            w_hh,
            b_ih,
            b_hh,
        })
    }

    fn gates(&self, h: &[f64], u: &[f64]) -> GruGates {
        let n = self.n;
        let mut gi = vec![0.0; 3 * n];
        let mut gh = vec![0.0; 3 * n];
        matvec_t(&self.w_ih_t, u, &mut gi);
        matvec_t(&self.w_hh_t, h, &mut gh);
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let r: Vec<f64> = (0..n)
            .map(|i| sig(gi[i] + self.b_ih[i] + gh[i] + self.b_hh[i]))
            .collect();
        let z: Vec<f64> = (0..n)
            .map(|i| sig(gi[n + i] + self.b_ih[n + i] + gh[n + i] + self.b_hh[n + i]))
            .collect();
        let hn: Vec<f64> = (0..n).map(|i| gh[2 * n + i] + self.b_hh[2 * n + i]).collect();
        let cand: Vec<f64> = (0..n)
            .map(|i| (gi[2 * n + i] + self.b_ih[2 * n + i] + r[i] * hn[i]).tanh())
            .collect();
        GruGates { r, z, cand, hn }
    }
}

impl Dynamics for Gru {
    fn dim(&self) -> usize {
        self.n
    }
    fn input_dim(&self) -> usize {
        self.m
    }
    fn step(&self, h: &[f64], u: &[f64], out: &mut [f64]) {
        let g = self.gates(h, u);
        for i in 0..self.n {
            out[i] = (1.0 - g.z[i]) * g.cand[i] + g.z[i] * h[i];
        }
    }
    fn jacobian(&self, h: &[f64], u: &[f64], jac: &mut [f64]) {
        let n = self.n;
        let g = self.gates(h, u);
        let whr = &self.w_hh[..n * n];
        let whz = &self.w_hh[n * n..2 * n * n];
        let whn = &self.w_hh[2 * n * n..];
        for i in 0..n {
            let dr = g.r[i] * (1.0 - g.r[i]);
            let dz = g.z[i] * (1.0 - g.z[i]);
            let dcand = 1.0 - g.cand[i] * g.cand[i];
            for j in 0..n {
                // ∂ñ_i/∂h_j = (1 − ñ²)·(r_i·W_hn[i,j] + hn_i·r_i(1 − r_i)·W_hr[i,j])
                let dn = dcand * (g.r[i] * whn[i * n + j] + g.hn[i] * dr * whr[i * n + j]);
                let dzj = dz * whz[i * n + j];
                jac[i * n + j] = (1.0 - g.z[i]) * dn + (h[i] - g.cand[i]) * dzj + if i == j { g.z[i] } else { 0.0 };
            }
        }
    }
    fn q_and_grad(&self, h: &[f64], u: &[f64], grad: &mut [f64]) -> f64 {
        // A batch of one: the batched form is the one implementation of q and its gradient.
        let mut q = [0.0];
        self.q_and_grad_batch(h, u, grad, &mut q);
        q[0]
    }
    fn vjp(&self, h: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        let g = self.gates(h, u);
        self.vjp_with(&g, h, v, out);
    }
    fn q_and_grad_batch(&self, hs: &[f64], u: &[f64], grads: &mut [f64], qs: &mut [f64]) {
        // The same equations as `q_and_grad`, with the two products over the weights done for the whole
        // batch: `hs·W_hhᵀ` forward and `[dr | dz | dn]·W_hh` for the vector–Jacobian product.
        let (n, b) = (self.n, qs.len());
        let mut gi = vec![0.0; 3 * n];
        matvec_t(&self.w_ih_t, u, &mut gi);
        let mut gh = vec![0.0; b * 3 * n];
        matmul(
            MatMut::from_row_major_slice_mut(&mut gh, b, 3 * n),
            Accum::Replace,
            MatRef::from_row_major_slice(hs, b, n),
            MatRef::from_row_major_slice(&self.w_hh_t, n, 3 * n),
            1.0,
            Par::Seq,
        );
        clear_upper_vector_state();
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let mut coef = vec![0.0; b * 3 * n];
        let mut res = vec![0.0; b * n];
        for row in 0..b {
            let (h, a) = (&hs[row * n..(row + 1) * n], &gh[row * 3 * n..(row + 1) * 3 * n]);
            let (c, r_out) = (
                &mut coef[row * 3 * n..(row + 1) * 3 * n],
                &mut res[row * n..(row + 1) * n],
            );
            let g = &mut grads[row * n..(row + 1) * n];
            let mut q = 0.0;
            for i in 0..n {
                let r = sig(gi[i] + self.b_ih[i] + a[i] + self.b_hh[i]);
                let z = sig(gi[n + i] + self.b_ih[n + i] + a[n + i] + self.b_hh[n + i]);
                let hn = a[2 * n + i] + self.b_hh[2 * n + i];
                let cand = (gi[2 * n + i] + self.b_ih[2 * n + i] + r * hn).tanh();
                let v = (1.0 - z) * cand + z * h[i] - h[i];
                r_out[i] = v;
                q += v * v;
                let dc = v * (1.0 - z) * (1.0 - cand * cand);
                c[n + i] = v * (h[i] - cand) * z * (1.0 - z);
                c[2 * n + i] = dc * r;
                c[i] = dc * hn * r * (1.0 - r);
                g[i] = v * z;
            }
            qs[row] = 0.5 * q;
        }
        matmul(
            MatMut::from_row_major_slice_mut(grads, b, n),
            Accum::Add,
            MatRef::from_row_major_slice(&coef, b, 3 * n),
            MatRef::from_row_major_slice(&self.w_hh, 3 * n, n),
            1.0,
            Par::Seq,
        );
        clear_upper_vector_state();
        for (g, r) in grads.iter_mut().zip(&res) {
            *g -= *r;
        }
    }
}

impl Gru {
    fn vjp_with(&self, g: &GruGates, h: &[f64], v: &[f64], out: &mut [f64]) {
        let n = self.n;
        let (mut dr, mut dz, mut dn) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for i in 0..n {
            let dc = v[i] * (1.0 - g.z[i]) * (1.0 - g.cand[i] * g.cand[i]);
            dz[i] = v[i] * (h[i] - g.cand[i]) * g.z[i] * (1.0 - g.z[i]);
            dn[i] = dc * g.r[i];
            dr[i] = dc * g.hn[i] * g.r[i] * (1.0 - g.r[i]);
            out[i] = v[i] * g.z[i];
        }
        add_matvec_t(&self.w_hh[..n * n], &dr, n, out);
        add_matvec_t(&self.w_hh[n * n..2 * n * n], &dz, n, out);
        add_matvec_t(&self.w_hh[2 * n * n..], &dn, n, out);
    }
}

/// LSTM with PyTorch's equations and weight layout (`weight_ih` 4n × m, `weight_hh` 4n × n, gate order
/// i, f, g, o); the state is `x = [h | c]` (2n):
/// i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of `W_i·u + b_i + W_h·h + b_h`; c' = f ⊙ c + i ⊙ g,
/// h' = o ⊙ tanh(c').
#[derive(Debug, Clone)]
pub struct Lstm {
    n: usize,
    m: usize,
    w_ih: Vec<f64>,
    w_hh: Vec<f64>,
    /// `W_hhᵀ`, for the forward product.
    w_hh_t: Vec<f64>,
    bias: Vec<f64>,
}

impl Lstm {
    /// Builds an LSTM from PyTorch-layout weights.
    pub fn new(n: usize, m: usize, w_ih: Vec<f64>, w_hh: Vec<f64>, b_ih: Vec<f64>, b_hh: Vec<f64>) -> Result<Self> {
        check_len("weight_ih", w_ih.len(), 4 * n * m)?;
        check_len("weight_hh", w_hh.len(), 4 * n * n)?;
        check_len("bias_ih", b_ih.len(), 4 * n)?;
        check_len("bias_hh", b_hh.len(), 4 * n)?;
        let bias = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
        let w_hh_t = transpose(&w_hh, 4 * n, n);
        Ok(Lstm {
            n,
            m,
            w_ih,
            w_hh,
            w_hh_t,
            bias,
        })
    }

    /// Gates (i, f, g, o) at state `x = [h | c]`.
    fn gates(&self, x: &[f64], u: &[f64]) -> [Vec<f64>; 4] {
        let n = self.n;
        let mut a = vec![0.0; 4 * n];
        let mut ah = vec![0.0; 4 * n];
        matvec(&self.w_ih, u, 4 * n, &mut a);
        matvec_t(&self.w_hh_t, &x[..n], &mut ah);
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let pre = |k: usize, i: usize| a[k * n + i] + ah[k * n + i] + self.bias[k * n + i];
        [
            (0..n).map(|i| sig(pre(0, i))).collect(),
            (0..n).map(|i| sig(pre(1, i))).collect(),
            (0..n).map(|i| pre(2, i).tanh()).collect(),
            (0..n).map(|i| sig(pre(3, i))).collect(),
        ]
    }
}

impl Dynamics for Lstm {
    fn dim(&self) -> usize {
        2 * self.n
    }
    fn input_dim(&self) -> usize {
        self.m
    }
    fn step(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        let n = self.n;
        let [i, f, g, o] = self.gates(x, u);
        for k in 0..n {
            let c = f[k] * x[n + k] + i[k] * g[k];
            out[n + k] = c;
            out[k] = o[k] * c.tanh();
        }
    }
    fn jacobian(&self, x: &[f64], u: &[f64], jac: &mut [f64]) {
        let n = self.n;
        let d = 2 * n;
        let [i, f, g, o] = self.gates(x, u);
        let w = |gate: usize, r: usize, col: usize| self.w_hh[(gate * n + r) * n + col];
        for r in 0..n {
            let c_new = f[r] * x[n + r] + i[r] * g[r];
            let tc = c_new.tanh();
            let dh_dc = o[r] * (1.0 - tc * tc);
            let (di, df, dg, dor) = (
                i[r] * (1.0 - i[r]),
                f[r] * (1.0 - f[r]),
                1.0 - g[r] * g[r],
                o[r] * (1.0 - o[r]),
            );
            for col in 0..n {
                // ∂c'/∂h: through f, i and g.
                let dc = x[n + r] * df * w(1, r, col) + g[r] * di * w(0, r, col) + i[r] * dg * w(2, r, col);
                jac[(n + r) * d + col] = dc;
                jac[r * d + col] = tc * dor * w(3, r, col) + dh_dc * dc;
                // ∂/∂c: only c_r itself.
                let same = if col == r { 1.0 } else { 0.0 };
                jac[(n + r) * d + n + col] = f[r] * same;
                jac[r * d + n + col] = dh_dc * f[r] * same;
            }
        }
    }
    fn vjp(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        let n = self.n;
        let [i, f, g, o] = self.gates(x, u);
        let mut dgates = vec![0.0; 4 * n];
        for r in 0..n {
            let c_new = f[r] * x[n + r] + i[r] * g[r];
            let tc = c_new.tanh();
            let dc = v[n + r] + v[r] * o[r] * (1.0 - tc * tc);
            dgates[r] = dc * g[r] * i[r] * (1.0 - i[r]);
            dgates[n + r] = dc * x[n + r] * f[r] * (1.0 - f[r]);
            dgates[2 * n + r] = dc * i[r] * (1.0 - g[r] * g[r]);
            dgates[3 * n + r] = v[r] * tc * o[r] * (1.0 - o[r]);
            out[n + r] = dc * f[r];
            out[r] = 0.0;
        }
        add_matvec_t(&self.w_hh, &dgates, n, &mut out[..n]);
    }
}
