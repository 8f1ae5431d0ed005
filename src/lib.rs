//! # reachlab
//!
//! Train recurrent networks by reinforcement learning to reach and to do cognitive tasks, then take them
//! apart the way one takes apart a brain. This facade re-exports the member crates:
//!
//! - [`envs`]: Gymnasium-style environments (curl-field reaching, cognitive tasks), vector envs, wrappers.
//! - [`agents`]: RNN policies and policy-gradient training.
//! - [`analysis`]: population geometry and dynamics.
//! - [`scenarios`]: whole experiments as data.
//! - [`cli`]: the command-line front end the `train_agent` binary calls (flags as [`cli::TrainOptions`],
//!   progress output, sweep backends).

pub use reachlab_agents as agents;
pub use reachlab_analysis as analysis;
pub use reachlab_envs as envs;
pub use reachlab_scenarios as scenarios;

pub mod cli;

/// What the binaries' `main` returns for `run()`'s result: success, or exit status 1 with the error chain
/// (`{:#}`) on one line and no backtrace.
pub fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Makes a closed pipe end the binary quietly, as it ends `cat` or `ls` (`train_agent --list-scenarios |
/// head -1`): Rust ignores SIGPIPE, so every later `println!` to the closed pipe would panic. Call it first
/// in `main`.
pub fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's action to the default is async-signal-safe and done before any thread
    // starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
