//! The kernel thread count, decided once per process.

/// Fixes the number of threads candle's CPU kernels use for the whole process: `requested` if given (a
/// `--threads` flag), else `RAYON_NUM_THREADS` if set, else candle's own default (the physical cores),
/// written into `RAYON_NUM_THREADS`.
///
/// candle asks for the count at every matrix product (`candle_core::utils::get_num_threads`), and without
/// `RAYON_NUM_THREADS` that means parsing `/proc/cpuinfo`: 6,700 reads in a 0.7 s quick run, a third of its
/// wall time (0.67 → 0.43 s with the variable set), and more on machines with many cores. The count, and so
/// every result, is the same either way. Binaries call it first in `main`, before any thread starts
/// (setting an environment variable while other threads read the environment is undefined behaviour).
pub fn fix_kernel_threads(requested: Option<usize>) {
    let n = match requested {
        Some(n) => n,
        None if std::env::var_os("RAYON_NUM_THREADS").is_some() => return,
        None => candle_core::utils::get_num_threads(),
    };
    // SAFETY: called at start-up, before the process starts any thread (see above).
    #[allow(unused_unsafe)]
    unsafe {
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
}
