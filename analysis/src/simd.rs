//! Run-time choice of the instruction set for the few loops that dominate the fixed-point finder.
//!
//! The crate is built for baseline x86-64 so that binaries run anywhere, which leaves the matrix–vector
//! products of the cells in 128-bit SSE. [`simd_versions`] compiles a function's body once more for
//! AVX-512 and once for AVX2 and picks the widest the CPU has (a cached check). The arithmetic is the same
//! in every version (Rust does not contract `a * b + c` into an FMA, and the loops fix their own order of
//! summation), so the results do not depend on the instruction set. (`reachlab-agents` has the same macro
//! for its kernels; this crate does not depend on that one.)

/// Defines `fn $name(args)`, whose body runs compiled for AVX-512, for AVX2, or for the baseline target.
macro_rules! simd_versions {
    ($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2")]
                fn avx512($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F (checked just above).
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

pub(crate) use simd_versions;

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
