//! The kernel thread count, decided once per process.

/// The kernel thread count candle would choose by itself: `RAYON_NUM_THREADS` if set, else the physical
/// cores. Reads only; see [`fix_kernel_threads`] for why a process writes it down once.
pub fn default_kernel_threads() -> usize {
    candle_core::utils::get_num_threads()
}

/// Fixes the number of threads candle's CPU kernels use for the whole process: `requested` if given (a
/// `--threads` flag), else `RAYON_NUM_THREADS` if set, else candle's own default (the physical cores),
/// written into `RAYON_NUM_THREADS`.
///
/// candle asks for the count at every matrix product (`candle_core::utils::get_num_threads`), and without
/// `RAYON_NUM_THREADS` that means parsing `/proc/cpuinfo`: 6,700 reads in a 0.7 s quick run, a third of its
/// wall time (0.67 → 0.43 s with the variable set), and more on machines with many cores. The count, and so
/// every result, is the same either way.
///
/// # Safety
///
/// It sets an environment variable: no other thread may read or write the environment meanwhile (see
/// [`std::env::set_var`]). Binaries call it first in `main`, before they start any thread. A host that may
/// already run threads (Python, with torch or a user's threads) must not call it: the Python package
/// sets the variable through `os.environ` instead, from [`default_kernel_threads`].
pub unsafe fn fix_kernel_threads(requested: Option<usize>) {
    let n = match requested {
        Some(n) => n,
        None if std::env::var_os("RAYON_NUM_THREADS").is_some() => return,
        None => default_kernel_threads(),
    };
    // SAFETY: the caller guarantees that no other thread touches the environment (see above).
    unsafe {
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
}
