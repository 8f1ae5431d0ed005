//! Vector-unit housekeeping for the fixed-point finder.
//!
//! The per-state products of the cells (`dynamics.rs`) are compiled for AVX-512, AVX2 and the baseline with
//! the `multiversion` crate (the crate is built for baseline x86-64 so binaries run anywhere, which would
//! leave them in 128-bit SSE); Rust does not contract `a·b + c` and each loop fixes its order, so every
//! version gives the same bits.

/// `vzeroupper` after faer's AVX-512 products: its kernels leave the upper halves of the vector registers
/// dirty, and libm's `exp`/`tanh` that follow then ran ~5× slower (SSE–AVX transition penalties).
pub(crate) fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx")]
        fn zeroupper() {
            std::arch::x86_64::_mm256_zeroupper();
        }
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX (checked just above).
            unsafe { zeroupper() };
        }
    }
}
