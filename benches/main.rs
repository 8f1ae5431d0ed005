//! The one bench binary (criterion). Groups print throughput in elements per second, where an element
//! is one env step (physics, PPO), one start (fixed points) or one sequence step (BPTT): `cargo bench --bench main -- point_mass`.

use criterion::criterion_group;

mod fixed_points;
mod physics;
mod training;

criterion_group!(
    benches,
    physics::point_mass,
    physics::two_link_arm,
    physics::threaded,
    fixed_points::gru_128,
    training::bptt,
    training::fused_gru,
    training::ppo
);
fn main() {
    // SAFETY: first thing in main, before criterion or any bench starts a thread.
    unsafe { reachlab::agents::fix_kernel_threads(None) };
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}
