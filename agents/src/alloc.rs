//! Allocator tuning for training processes.

/// Keeps large buffers in glibc's heap instead of returning them to the OS after each use.
///
/// Every BPTT step allocates and frees tensors of several megabytes; above glibc's default mmap threshold
/// each one is a fresh `mmap` whose pages fault in again, which cost ~10% of a GRU-128 iteration here
/// (`../shared/stack-notes.md` §1 measured the same with `GLIBC_TUNABLES`). This raises the mmap threshold
/// to 64 MiB and the trim threshold to 256 MiB. It changes process-wide allocator settings, so binaries
/// (not the library) call it, once, at start-up. A no-op outside Linux with glibc.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation thresholds; valid at any time, no memory is touched.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}
