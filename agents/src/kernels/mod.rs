//! Hand-written recurrent kernels: one cell step forward and backward for the vanilla leaky RNN, the GRU
//! and the LSTM, over a block of batch rows, on `gemm`.
//!
//! Why by hand: composing candle ops per time step costs 2.8–4× PyTorch's fused `nn.GRU`/`nn.LSTM` on
//! these machines, and slicing a tracked `[T, B, H]` tensor per step makes candle's backward O(T²)
//! (`../shared/stack-notes.md` §1–2). No maintained crate offers a fused, differentiable RNN for candle on
//! CPU, so the whole sequence runs here: [`fused`] wraps these steps as a candle `CustomOp3` (forward and
//! BPTT backward), and the rollout path calls the same steps without any autograd graph.
//!
//! The cell steps are compiled for AVX-512, for AVX2 + FMA and for the baseline target, and the widest the
//! CPU supports runs (the `multiversion` crate; the crate itself is built for baseline x86-64 so binaries run
//! anywhere, which would leave the gate loops in 128-bit SSE). Rust does not contract `a·b + c` into an
//! FMA and each loop fixes its order, so every version gives the same bits.
//!
//! Conventions (PyTorch's, so checkpoints load into `torch.nn.GRU`/`LSTM`):
//! - `xp` is the input projection `x·W_ihᵀ + b_ih` (plus recurrent noise for the vanilla cell), `G·H` wide
//!   with gates in PyTorch order (GRU: r, z, n; LSTM: i, f, g, o).
//! - `w` packs the recurrent weights and their bias: `G·H` rows of `H + 1` columns, `[W_hh | b_hh]`.
//! - The state is `h` (width `H`), or `[h | c]` (width `2H`) for the LSTM; the output is `h`.

pub(crate) mod cell;
pub(crate) mod fused;
pub(crate) mod packed;

pub use cell::{Activation, CellKind};
pub use fused::{FusedRnn, UnpackCache};

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

use candle_core::Layout;

/// The two float types the kernels run in: `f32` for training, `f64` for gradient checks.
pub trait Real:
    Copy
    + Send
    + Sync
    + 'static
    + Debug
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
{
    const ZERO: Self;
    const ONE: Self;
    fn from_f64(x: f64) -> Self;
    fn exp(self) -> Self;
    fn tanh(self) -> Self;
    /// `self·a + b` with one rounding (a single instruction where the CPU has FMA).
    fn mul_add(self, a: Self, b: Self) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn exp(self) -> Self {
        exp_f32(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        // tanh x = 1 − 2/(e^{2x} + 1): exact at ±∞, absolute error ~1e-7 (libm's tanhf was 12% of a
        // BPTT iteration, and a call cannot be vectorised).
        1.0 - 2.0 / (exp_f32(2.0 * self) + 1.0)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f32::mul_add(self, a, b)
    }
}

/// e^x in f32 without a libm call, branch-free so that loops over it vectorise: x = n·ln 2 + r with
/// |r| ≤ ln 2 / 2 (Cody–Waite split of ln 2), e^r by its degree-6 Taylor polynomial (relative error
/// < 3e-7 on that interval), 2^n through the exponent bits. Saturates to 0 below −87.3 and to `f32::MAX`
/// (not ∞) above 88.7, which the sigmoid and tanh above treat correctly.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.3, 88.7);
    // Round to nearest with the 1.5·2²³ trick (`f32::round` is a libm call that blocks vectorisation).
    // The integer n then sits in the low mantissa bits of `shifted` (0x4B40_0000 is SHIFT's bit pattern), read
    // with integer arithmetic: `n as i32` would be a saturating conversion, which does not vectorise.
    const SHIFT: f32 = 12_582_912.0;
    let shifted = x * LOG2E + SHIFT;
    let n = shifted - SHIFT;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // n in [-126, 128]; 2^128 overflows the exponent, so split it as 2^(n-1)·2.
    let n_int = shifted.to_bits().wrapping_sub(0x4B40_0000);
    let bits = n_int.wrapping_add(126) << 23;
    p * f32::from_bits(bits) * 2.0
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f64::mul_add(self, a, b)
    }
}

#[inline]
pub(crate) fn sigmoid<T: Real>(x: T) -> T {
    T::ONE / (T::ONE + (-x).exp())
}

/// The elements a custom op's input holds, refused unless they are contiguous: the op's name and the
/// input's name say which one was not. Shared by every `CustomOp` of this crate (the fused recurrent
/// kernels, the fused arm26 step).
pub(crate) fn contiguous<'a, T>(data: &'a [T], layout: &Layout, op: &str, input: &str) -> candle_core::Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => Err(candle_core::Error::Msg(format!("{op}: {input} must be contiguous"))),
    }
}

/// A strided matrix view: element (i, j) is at `data[i·rs + j·cs]`.
#[derive(Clone, Copy)]
pub(crate) struct View<'a, T> {
    pub data: &'a [T],
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> View<'a, T> {
    /// A row-major matrix with `cols` columns.
    pub fn rows(data: &'a [T], cols: usize) -> Self {
        View { data, rs: cols, cs: 1 }
    }
    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(data: &'a [T], cols: usize) -> Self {
        View { data, rs: 1, cs: cols }
    }
}

/// `dst (m×n, row stride dst_rs) = [dst +] a (m×k) · b (k×n)`, single-threaded (threads split work above
/// this level, in fixed chunks, so results do not depend on the number of threads).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [T],
    dst_rs: usize,
    a: View<'_, T>,
    b: View<'_, T>,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= (m - 1) * dst_rs + n, "matmul: destination too short");
    if k > 0 {
        assert!(a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs, "matmul: lhs too short");
        assert!(b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs, "matmul: rhs too short");
    } else {
        if !accumulate {
            for i in 0..m {
                dst[i * dst_rs..i * dst_rs + n].fill(T::ZERO);
            }
        }
        return;
    }
    // SAFETY: the asserts above bound every index gemm touches: dst (i, j) at i·dst_rs + j with i < m,
    // j < n; lhs (i, p) at i·a.rs + p·a.cs with p < k; rhs (p, j) at p·b.rs + j·b.cs. All strides are
    // non-negative and the slices do not alias (dst is a unique borrow).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_naive_with_transposes_and_accumulation() {
        let (m, n, k) = (5, 7, 3);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let bt: Vec<f64> = (0..n * k).map(|i| (i as f64 * 0.11).cos()).collect(); // n×k row-major
        let mut dst = vec![1.0; m * n];
        matmul(m, n, k, &mut dst, n, View::rows(&a, k), View::transposed(&bt, k), true);
        for i in 0..m {
            for j in 0..n {
                let want = 1.0 + (0..k).map(|p| a[i * k + p] * bt[j * k + p]).sum::<f64>();
                assert!((dst[i * n + j] - want).abs() < 1e-14);
            }
        }
        assert!((sigmoid(0.3f64) - 1.0 / (1.0 + (-0.3f64).exp())).abs() < 1e-16);
    }

    #[test]
    fn fast_f32_exp_and_tanh_match_libm() {
        let mut worst_exp = 0.0f64;
        let mut worst_tanh = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 4.4e-4; // [-88, 88]
            let want = f64::from(x).exp();
            let got = f64::from(exp_f32(x));
            if want > 1e-37 && want < 3e38 {
                worst_exp = worst_exp.max(((got - want) / want).abs());
            }
            let t = f64::from(Real::tanh(x / 8.0));
            worst_tanh = worst_tanh.max((t - f64::from(x / 8.0).tanh()).abs());
        }
        assert!(worst_exp < 5e-7, "exp relative error {worst_exp}");
        assert!(worst_tanh < 3e-7, "tanh absolute error {worst_tanh}");
        assert_eq!(exp_f32(-200.0), 0.0f32.max(exp_f32(-200.0)));
        assert!(exp_f32(200.0).is_finite() && Real::tanh(200.0f32) == 1.0 && Real::tanh(-200.0f32) == -1.0);
        assert!((sigmoid(-100.0f32)).abs() < 1e-30 && (sigmoid(100.0f32) - 1.0).abs() < 1e-7);
    }
}
