//! The latency histograms every run keeps: HDR histograms in nanoseconds, 1 ns to 11.5 days with
//! two significant digits, their size in bytes and their quantiles in seconds.
//!
//! Not here: what is recorded into them and when (`metrics::collector`, `metrics::record`).

use hdrhistogram::Histogram;

/// Latency histogram in nanoseconds with two significant digits (1% relative error).
pub(crate) fn new_histogram() -> Histogram<u64> {
    // 1 ns to 10^15 ns (11.5 days); longer latencies saturate at the top.
    Histogram::new_with_bounds(1, 1_000_000_000_000_000, 2).expect("valid histogram bounds")
}

/// Bytes one latency histogram takes (its counts, 8 bytes each): what the SLO window keeps per
/// bucket (`metrics::collector`), and what `model::limits` bounds.
pub(crate) fn histogram_bytes() -> usize {
    new_histogram().distinct_values() * std::mem::size_of::<u64>()
}

pub(crate) fn quantile_s(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        h.median_equivalent(h.value_at_quantile(q)) as f64 / 1e9
    }
}
