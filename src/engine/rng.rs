//! Seeded random streams. Each replication owns its generators, and the caller names each one
//! by a path of numbers (`substream`): the stream depends on the seed and its path only, never
//! on how many other streams exist or in which order they are made. A caller that gives every
//! purpose of every part its own path keeps the random numbers of one part where they were when
//! another part changes (common random numbers across the points of a sweep).

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A fast seeded generator (xoshiro256++), portable across platforms and versions.
pub(crate) type Stream = Xoshiro256PlusPlus;

/// SplitMix64 finaliser: a good 64-bit mixer.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed derived from a base seed and a path of indices (e.g. sweep point, replication): the
/// same inputs give the same seed whatever the order of execution.
pub(crate) fn derive_seed(base: u64, path: &[u64]) -> u64 {
    path.iter().fold(mix(base), |acc, &p| {
        mix(acc ^ mix(p.wrapping_add(0x632B_E59B_D9B4_E019)))
    })
}

/// The generator for stream `id` of a replication seeded with `seed` (unit tests' shorthand for
/// `substream(seed, &[id])`).
#[cfg(test)]
pub(crate) fn stream(seed: u64, id: u64) -> Stream {
    Stream::seed_from_u64(derive_seed(seed, &[id]))
}

/// The generator named by `path` (e.g. part kind, part index, purpose) in a replication seeded
/// with `seed`.
pub(crate) fn substream(seed: u64, path: &[u64]) -> Stream {
    Stream::seed_from_u64(derive_seed(seed, path))
}

/// A uniform draw in the open interval (0, 1): safe for `ln`.
#[inline]
pub(crate) fn open01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 53 random bits, offset by half a step so neither 0 nor 1 can come out.
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_by_path_and_repeat() {
        assert_eq!(derive_seed(1, &[2, 3]), derive_seed(1, &[2, 3]));
        assert_ne!(derive_seed(1, &[2, 3]), derive_seed(1, &[3, 2]));
        assert_ne!(derive_seed(1, &[0]), derive_seed(2, &[0]));
        let mut a = stream(7, 1);
        let mut b = stream(7, 1);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn open01_is_inside() {
        let mut r = stream(1, 1);
        for _ in 0..10_000 {
            let u = open01(&mut r);
            assert!(u > 0.0 && u < 1.0);
        }
    }
}
