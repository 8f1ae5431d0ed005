//! Seeds and random streams: one seed fixes every random draw of an env and its wrappers.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random generator of every env and wrapper: ChaCha8, whose stream for a seed is fixed
/// across platforms and crate versions (unlike `StdRng`).
pub type EnvRng = ChaCha8Rng;

/// A generator for `seed`.
pub fn rng_from_seed(seed: u64) -> EnvRng {
    EnvRng::seed_from_u64(seed)
}

/// A generator seeded from the operating system, for `reset(None)` on a never-seeded env
/// (Gymnasium's behaviour). Runs that must be reproducible pass a seed.
pub fn rng_from_entropy() -> EnvRng {
    EnvRng::from_os_rng()
}

/// An independent seed for sub-stream `stream` of `seed` (SplitMix64 finaliser), so that a
/// wrapper's noise does not reuse the draws of the env it wraps.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_same_stream_and_derived_streams_differ() {
        let a: Vec<u32> = (0..4)
            .map(|_| 0)
            .scan(rng_from_seed(7), |r, _: u32| Some(r.random()))
            .collect();
        let b: Vec<u32> = (0..4)
            .map(|_| 0)
            .scan(rng_from_seed(7), |r, _: u32| Some(r.random()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(derive_seed(7, 1), derive_seed(7, 2));
        assert_ne!(derive_seed(7, 1), 7);
    }
}
