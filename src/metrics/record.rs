//! Recording latencies cheaply into the run's HDR histograms (`stats::histogram::new_histogram`: 1 ns to
//! 10^15 ns, two significant digits). A value goes first into a plain array of counters indexed
//! exactly as `hdrhistogram` indexes its own, and the counters are added to the histogram in one
//! pass (`flush`) before the histogram is read. The histogram then holds the same counts as if
//! each value had been recorded into it, so its quantiles, mean, minimum and maximum are the
//! same; a record costs an index and an increment instead of `hdrhistogram`'s range checks and
//! minimum/maximum upkeep. Not here: reading histograms, other histogram settings.

use std::fmt;

use hdrhistogram::Histogram;

/// Sub-buckets per bucket: two significant digits need unit resolution up to 200, so 256 (2^8);
/// the index space of each bucket but the first starts halfway (2^7).
const SUB_MAGNITUDE: u32 = 8;
const HALF_MAGNITUDE: u32 = SUB_MAGNITUDE - 1;
const HALF: usize = 1 << HALF_MAGNITUDE;
const SUB_MASK: u64 = (1 << SUB_MAGNITUDE) - 1;
/// Leading zeros of the largest value of bucket 0 (`hdrhistogram`'s `leading_zero_count_base`
/// with a lowest value of 1).
const LZ_BASE: u32 = 64 - SUB_MAGNITUDE;
/// Indices of every u64 value (bucket 56 is the last): values past the histogram's range are
/// counted here and clamped when added, as `saturating_record` clamps them.
const SLOTS: usize = ((LZ_BASE as usize + 1) << HALF_MAGNITUDE) + HALF;

/// The histogram's index of `v`.
#[inline]
fn index_of(v: u64) -> usize {
    let bucket = LZ_BASE - (v | SUB_MASK).leading_zeros();
    let sub = (v >> bucket) as usize;
    ((bucket as usize + 1) << HALF_MAGNITUDE) + sub - HALF
}

/// The lowest value with index `i`.
fn value_of(i: usize) -> u64 {
    let bucket = (i >> HALF_MAGNITUDE) as i64 - 1;
    let sub = (i & (HALF - 1)) + HALF;
    if bucket < 0 {
        (sub - HALF) as u64
    } else {
        (sub as u64) << bucket
    }
}

/// Counts recorded but not yet added to their histogram.
#[derive(Clone)]
pub(super) struct Pending {
    counts: Box<[u32]>,
    dirty: bool,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            counts: vec![0; SLOTS].into_boxed_slice(),
            dirty: false,
        }
    }
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("dirty", &self.dirty)
            .finish()
    }
}

impl Pending {
    /// Record `v` for `into` (a histogram of `stats::histogram::new_histogram`'s settings); it is
    /// there once `flush` has run.
    #[inline]
    pub(super) fn record(&mut self, v: u64, into: &mut Histogram<u64>) {
        let i = index_of(v);
        let c = &mut self.counts[i];
        *c = c.wrapping_add(1);
        self.dirty = true;
        if *c == 0 {
            // 2^32 records of one value since the last flush: hand them over now.
            into.saturating_record_n(value_of(i), 1 << 32);
        }
    }

    /// Add the pending counts to `into` and clear them.
    pub(super) fn flush(&mut self, into: &mut Histogram<u64>) {
        if !self.dirty {
            return;
        }
        for (i, c) in self.counts.iter_mut().enumerate() {
            if *c != 0 {
                into.saturating_record_n(value_of(i), u64::from(*c));
                *c = 0;
            }
        }
        self.dirty = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::histogram::new_histogram;

    #[test]
    fn index_and_value_agree_with_hdrhistogram() {
        let mut values: Vec<u64> = (0..5000).collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Spread over every magnitude.
            values.push(x >> (x % 64));
        }
        values.extend([
            1 << 62,
            u64::MAX,
            1_000_000_000_000_000,
            1_000_000_000_000_001,
        ]);
        for &v in &values {
            let i = index_of(v);
            assert!(i < SLOTS);
            let lo = value_of(i);
            assert_eq!(index_of(lo), i, "value {v}");
            assert!(lo <= v, "value {v}");
        }
        // Recorded directly and through `Pending`, the histograms read the same.
        let mut direct = new_histogram();
        let mut via = new_histogram();
        let mut pending = Pending::default();
        for &v in &values {
            direct.saturating_record(v);
            pending.record(v, &mut via);
        }
        assert!(
            via.is_empty(),
            "nothing reaches the histogram before the flush"
        );
        pending.flush(&mut via);
        assert_eq!(via.len(), direct.len());
        assert_eq!(via.max(), direct.max());
        assert_eq!(via.min_nz(), direct.min_nz());
        assert_eq!(via.min(), direct.min());
        assert_eq!(via.mean(), direct.mean());
        let a: Vec<(u64, u64)> = (via.iter_recorded())
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        let b: Vec<(u64, u64)> = (direct.iter_recorded())
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        assert_eq!(a, b);
        for q in [0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(via.value_at_quantile(q), direct.value_at_quantile(q));
        }
        // A second round adds to what is there.
        pending.record(7, &mut via);
        pending.flush(&mut via);
        assert_eq!(via.len(), direct.len() + 1);
    }
}
