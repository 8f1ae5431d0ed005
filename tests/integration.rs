//! The one integration-test binary of the `reachlab` package (it links every member crate once).
//! Each module holds the tests of one user-facing feature.

mod custom_agent;
mod fault_injection;
mod fuzz;
mod ppo_reach;
mod sweep;
mod tasks;
mod train_agent;

/// Runs `analyze_run FLAG DIR…` (`--run` one folder, `--compare` several) and returns what it printed.
fn analyze_run<P: AsRef<std::ffi::OsStr>>(flag: &str, dirs: &[P]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_analyze_run"))
        .arg(flag)
        .args(dirs)
        .output()
        .unwrap()
}
