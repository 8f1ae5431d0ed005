//! The per-step matrix products of the recurrent kernels, `[rows × K]·[K × N]`, where the right-hand
//! matrix (a cell's weights) is the same at every step of a sequence.
//!
//! Why by hand: `gemm` packs its right-hand operand at every call, which was ~10% of a GRU-128 BPTT
//! iteration although the weights do not change over the 100 steps, and on these machines its run-time
//! dispatch stops at AVX2. Here the weights are packed once per sequence ([`Packed`]) into panels of
//! [`LANES`] columns, the few state rows of a block into panels of `MR` rows at each step, and an
//! `MR × (NP·LANES)` tile of accumulators runs the `k` loop with fused multiply–adds. The same Rust
//! source is compiled for AVX-512, for AVX2 + FMA and for plain x86-64/other targets; the widest the CPU
//! supports is chosen at run time. Each output is one in-order sum over `k`, so the result does not depend
//! on the tile sizes, the block sizes or the number of threads.

use super::{Real, View};

/// Width of a packed column panel (one AVX-512 register of f32).
pub(crate) const LANES: usize = 16;

/// A `k × n` right-hand matrix packed in column panels: element `(p, c)` of panel `j` (columns
/// `j·LANES..`) sits at `data[(j·k + p)·LANES + c]`; columns past `n` are zero.
#[derive(Debug, Clone)]
pub(crate) struct Packed<T> {
    k: usize,
    n: usize,
    data: Vec<T>,
}

impl<T: Real> Packed<T> {
    /// Packs `b` (`k × n`, any strides).
    pub fn new(k: usize, n: usize, b: View<'_, T>) -> Self {
        let mut p = Packed::empty();
        p.repack(k, n, b);
        p
    }

    /// An empty matrix, to be filled by [`repack`](Self::repack).
    pub fn empty() -> Self {
        Packed {
            k: 0,
            n: 0,
            data: Vec::new(),
        }
    }

    /// Packs `b` (`k × n`) in place of the current matrix, reusing the allocation.
    pub fn repack(&mut self, k: usize, n: usize, b: View<'_, T>) {
        let panels = n.div_ceil(LANES);
        self.data.clear();
        self.data.resize(panels * k * LANES, T::ZERO);
        (self.k, self.n) = (k, n);
        if k == 0 {
            return;
        }
        for (j, panel) in self.data.chunks_exact_mut(k * LANES).enumerate() {
            let width = LANES.min(n - j * LANES);
            for (p, row) in panel.chunks_exact_mut(LANES).enumerate() {
                for (c, v) in row[..width].iter_mut().enumerate() {
                    *v = b.data[p * b.rs + (j * LANES + c) * b.cs];
                }
            }
        }
    }

    /// Rows (the inner dimension of the product).
    pub fn k(&self) -> usize {
        self.k
    }

    fn panels(&self) -> usize {
        self.n.div_ceil(LANES)
    }

    fn panel(&self, j: usize) -> &[T] {
        &self.data[j * self.k * LANES..(j + 1) * self.k * LANES]
    }
}

/// `dst (m × n, row stride dst_rs) = [dst +] a (m × k) · b`, single-threaded.
pub(crate) fn matmul_packed<T: Real>(
    m: usize,
    a: View<'_, T>,
    b: &Packed<T>,
    dst: &mut [T],
    dst_rs: usize,
    accumulate: bool,
) {
    if m == 0 || b.n == 0 {
        return;
    }
    assert!(
        dst.len() >= (m - 1) * dst_rs + b.n,
        "matmul_packed: destination too short"
    );
    if b.k > 0 {
        assert!(
            a.data.len() > (m - 1) * a.rs + (b.k - 1) * a.cs,
            "matmul_packed: lhs too short"
        );
    }
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        // SAFETY: T is f32 (checked just above), so these are the same slices and struct, retyped.
        let (a, b, dst) = unsafe {
            (
                View {
                    data: std::slice::from_raw_parts(a.data.as_ptr().cast::<f32>(), a.data.len()),
                    rs: a.rs,
                    cs: a.cs,
                },
                &*(b as *const Packed<T>).cast::<Packed<f32>>(),
                std::slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<f32>(), dst.len()),
            )
        };
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { x86::tiles_avx512(m, a, b, dst, dst_rs, accumulate) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { x86::tiles_avx2(m, a, b, dst, dst_rs, accumulate) };
        }
    }
    tiles::<T, 4, 1, false>(m, a, b, dst, dst_rs, accumulate);
}

/// The tiles of `dst` in portable Rust (f64, and f32 without AVX2): `MR × NP·LANES` register tiles.
fn tiles<T: Real, const MR: usize, const NP: usize, const FMA: bool>(
    m: usize,
    a: View<'_, T>,
    b: &Packed<T>,
    dst: &mut [T],
    dst_rs: usize,
    accumulate: bool,
) {
    for_tiles::<T, MR, NP>(
        m,
        a,
        b,
        dst,
        dst_rs,
        accumulate,
        |ap, j| micro::<T, MR, NP, FMA>(ap, b, j),
        |ap, j| micro::<T, MR, 1, FMA>(ap, b, j),
    );
}

/// Packs each `MR`-row block of `a`, then runs `full` on each group of `NP` panels and `last` on a
/// remaining single panel, and adds (or writes) the tiles into `dst`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn for_tiles<T: Real, const MR: usize, const NP: usize>(
    m: usize,
    a: View<'_, T>,
    b: &Packed<T>,
    dst: &mut [T],
    dst_rs: usize,
    accumulate: bool,
    mut full: impl FnMut(&[T], usize) -> [[[T; LANES]; NP]; MR],
    mut last: impl FnMut(&[T], usize) -> [[[T; LANES]; 1]; MR],
) {
    let k = b.k;
    let panels = b.panels();
    let mut ap = vec![T::ZERO; k * MR];
    for i0 in (0..m).step_by(MR) {
        let rows = MR.min(m - i0);
        for (p, col) in ap.chunks_exact_mut(MR).enumerate() {
            for (r, v) in col.iter_mut().enumerate() {
                *v = if r < rows {
                    a.data[(i0 + r) * a.rs + p * a.cs]
                } else {
                    T::ZERO
                };
            }
        }
        let mut j = 0;
        while j < panels {
            if j + NP <= panels {
                let acc = full(&ap, j);
                store(&acc, rows, b.n, j, &mut dst[i0 * dst_rs..], dst_rs, accumulate);
                j += NP;
            } else {
                let acc = last(&ap, j);
                store(&acc, rows, b.n, j, &mut dst[i0 * dst_rs..], dst_rs, accumulate);
                j += 1;
            }
        }
    }
}

/// The `MR × NP·LANES` tile of panel `j..j + NP` against the packed rows `ap` (`k × MR`).
#[inline(always)]
fn micro<T: Real, const MR: usize, const NP: usize, const FMA: bool>(
    ap: &[T],
    b: &Packed<T>,
    j: usize,
) -> [[[T; LANES]; NP]; MR] {
    let mut acc = [[[T::ZERO; LANES]; NP]; MR];
    let bp: [&[T]; NP] = std::array::from_fn(|q| b.panel(j + q));
    for (p, av) in ap.chunks_exact(MR).enumerate() {
        for (q, panel) in bp.iter().enumerate() {
            let bv = &panel[p * LANES..(p + 1) * LANES];
            for (r, &x) in av.iter().enumerate() {
                for (c, &y) in bv.iter().enumerate() {
                    acc[r][q][c] = if FMA {
                        x.mul_add(y, acc[r][q][c])
                    } else {
                        x * y + acc[r][q][c]
                    };
                }
            }
        }
    }
    acc
}

#[inline(always)]
fn store<T: Real, const MR: usize, const NP: usize>(
    acc: &[[[T; LANES]; NP]; MR],
    rows: usize,
    n: usize,
    j: usize,
    dst: &mut [T],
    dst_rs: usize,
    accumulate: bool,
) {
    for (r, tile) in acc.iter().enumerate().take(rows) {
        for (q, vals) in tile.iter().enumerate() {
            let c0 = (j + q) * LANES;
            let width = LANES.min(n - c0);
            let d = &mut dst[r * dst_rs + c0..r * dst_rs + c0 + width];
            if accumulate {
                for (d, &v) in d.iter_mut().zip(vals) {
                    *d += v;
                }
            } else {
                d.copy_from_slice(&vals[..width]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The f32 micro-kernels in intrinsics (the portable version above does not keep its accumulators in
    //! registers). Every output is the same FMA chain over `k` as in the portable version, so all three give
    //! the same bits.
    use std::arch::x86_64::*;

    use super::{for_tiles, Packed, View, LANES};

    #[target_feature(enable = "avx512f")]
    pub(super) fn tiles_avx512(m: usize, a: View<'_, f32>, b: &Packed<f32>, dst: &mut [f32], dst_rs: usize, acc: bool) {
        // 8 rows × 32 columns: 16 of the 32 vector registers hold accumulators.
        for_tiles::<f32, 8, 2>(
            m,
            a,
            b,
            dst,
            dst_rs,
            acc,
            |ap, j| micro512(ap, b, j),
            |ap, j| micro512(ap, b, j),
        );
    }

    #[target_feature(enable = "avx512f")]
    fn micro512<const NP: usize>(ap: &[f32], b: &Packed<f32>, j: usize) -> [[[f32; LANES]; NP]; 8] {
        let k = b.k;
        assert!(ap.len() >= 8 * k);
        let bp: [&[f32]; NP] = std::array::from_fn(|q| b.panel(j + q));
        let mut acc = [[_mm512_setzero_ps(); NP]; 8];
        for p in 0..k {
            // SAFETY: p < k, each panel holds k·LANES values and ap at least 8·k (asserted above).
            unsafe {
                let y: [__m512; NP] = std::array::from_fn(|q| _mm512_loadu_ps(bp[q].as_ptr().add(p * LANES)));
                for (r, row) in acc.iter_mut().enumerate() {
                    let x = _mm512_set1_ps(*ap.get_unchecked(p * 8 + r));
                    for (v, yq) in row.iter_mut().zip(&y) {
                        *v = _mm512_fmadd_ps(x, *yq, *v);
                    }
                }
            }
        }
        let mut out = [[[0.0f32; LANES]; NP]; 8];
        for (o, v) in out.iter_mut().zip(&acc) {
            for (oq, vq) in o.iter_mut().zip(v) {
                // SAFETY: oq holds LANES = 16 f32.
                unsafe { _mm512_storeu_ps(oq.as_mut_ptr(), *vq) };
            }
        }
        out
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn tiles_avx2(m: usize, a: View<'_, f32>, b: &Packed<f32>, dst: &mut [f32], dst_rs: usize, acc: bool) {
        // 6 rows × 16 columns: 12 of the 16 vector registers hold accumulators (gemm's f32 AVX2 tile).
        for_tiles::<f32, 6, 1>(
            m,
            a,
            b,
            dst,
            dst_rs,
            acc,
            |ap, j| micro256(ap, b, j),
            |ap, j| micro256(ap, b, j),
        );
    }

    #[target_feature(enable = "avx2,fma")]
    fn micro256(ap: &[f32], b: &Packed<f32>, j: usize) -> [[[f32; LANES]; 1]; 6] {
        let k = b.k;
        assert!(ap.len() >= 6 * k);
        let bp = b.panel(j);
        let mut acc = [[_mm256_setzero_ps(); 2]; 6];
        for p in 0..k {
            // SAFETY: p < k, the panel holds k·LANES values and ap at least 6·k (asserted above).
            unsafe {
                let y0 = _mm256_loadu_ps(bp.as_ptr().add(p * LANES));
                let y1 = _mm256_loadu_ps(bp.as_ptr().add(p * LANES + 8));
                for (r, row) in acc.iter_mut().enumerate() {
                    let x = _mm256_set1_ps(*ap.get_unchecked(p * 6 + r));
                    row[0] = _mm256_fmadd_ps(x, y0, row[0]);
                    row[1] = _mm256_fmadd_ps(x, y1, row[1]);
                }
            }
        }
        let mut out = [[[0.0f32; LANES]; 1]; 6];
        for (o, v) in out.iter_mut().zip(&acc) {
            // SAFETY: o[0] holds 16 f32: two stores of 8.
            unsafe {
                _mm256_storeu_ps(o[0].as_mut_ptr(), v[0]);
                _mm256_storeu_ps(o[0].as_mut_ptr().add(8), v[1]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: View<'_, f64>, b: View<'_, f64>) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k)
                    .map(|p| a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs])
                    .sum();
            }
        }
        out
    }

    #[test]
    fn packed_products_match_the_naive_sum_for_ragged_sizes_and_strides() {
        for &(m, n, k) in &[
            (1, 1, 1),
            (5, 7, 3),
            (9, 33, 17),
            (32, 48, 16),
            (13, 64, 40),
            (8, 16, 0),
        ] {
            let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
            let bt: Vec<f64> = (0..n * (k + 2)).map(|i| (i as f64 * 0.11).cos()).collect();
            // b is the transpose of a row-major n × (k + 2) matrix, first k columns.
            let bv = View {
                data: &bt,
                rs: 1,
                cs: k + 2,
            };
            let packed = Packed::new(k, n, bv);
            let want = naive(m, n, k, View::rows(&a, k), bv);
            let mut dst = vec![1.0; m * (n + 3)];
            matmul_packed(m, View::rows(&a, k), &packed, &mut dst, n + 3, true);
            for i in 0..m {
                for j in 0..n {
                    let d = dst[i * (n + 3) + j] - 1.0 - want[i * n + j];
                    assert!(d.abs() < 1e-12, "({m}, {n}, {k}) [{i}, {j}] off by {d}");
                }
                assert!(dst[i * (n + 3) + n..(i + 1) * (n + 3)].iter().all(|&v| v == 1.0));
            }
            let mut dst = vec![7.0; m * n];
            matmul_packed(m, View::rows(&a, k), &packed, &mut dst, n, false);
            for (d, w) in dst.iter().zip(&want) {
                assert!((d - w).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let (m, n, k) = (11, 40, 29);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.13).cos()).collect();
        let packed = Packed::new(k, n, View::rows(&b, n));
        let run = |f: &dyn Fn(&mut [f32])| {
            let mut d = vec![0.0f32; m * n];
            f(&mut d);
            d
        };
        let fused = run(&|d| tiles::<f32, 3, 2, true>(m, View::rows(&a, k), &packed, d, n, false));
        assert_eq!(
            fused,
            run(&|d| tiles::<f32, 8, 1, true>(m, View::rows(&a, k), &packed, d, n, false))
        );
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA are present.
            let avx2 = run(&|d| unsafe { x86::tiles_avx2(m, View::rows(&a, k), &packed, d, n, false) });
            assert_eq!(fused, avx2);
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F is present.
                let avx512 = run(&|d| unsafe { x86::tiles_avx512(m, View::rows(&a, k), &packed, d, n, false) });
                assert_eq!(fused, avx512);
            }
        }
    }
}
