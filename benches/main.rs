//! The one bench binary (criterion). Groups print throughput in elements per second, where an element
//! is one env step: `cargo bench --bench main -- physics`.

use criterion::{criterion_group, criterion_main};

mod physics;

criterion_group!(benches, physics::point_mass, physics::two_link_arm);
criterion_main!(benches);
