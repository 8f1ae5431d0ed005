//! The one integration-test binary of the `reachlab` package (it links every member crate once).
//! Each module holds the tests of one user-facing feature.

mod custom_agent;
mod fault_injection;
mod fuzz;
mod ppo_reach;
mod sweep;
mod tasks;
mod train_agent;
