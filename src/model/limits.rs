//! Limits on a model's size that keep a run's memory bounded: the number of sources, and the
//! memory of the time series and of the SLO window's latency histograms, refused with a message
//! that says which longer bucket would do. Not here: the limits on requests held at once and on
//! events, which depend on the traffic (`experiment::held`, `experiment::guard`).

use super::ctx::Ctx;
use super::error::ModelError;
use super::spec::{Scenario, Slo};

/// Most `[[source]]` tables a model may have (tiers are capped at 64).
pub(crate) const MAX_SOURCES: usize = 1000;

pub(crate) fn too_many_sources() -> String {
    format!(
        "a model has at most {MAX_SOURCES} sources (`[[source]]` tables); merge sources with the \
         same clients into one with the summed rate"
    )
}

/// Refuse a tier's or a source's name that cannot be a key: empty, with a dot (summary.json's
/// keys and `--assert` paths such as `tiers.NAME.utilization` are dotted), or with a control
/// character such as a newline (it would break the reports' lines and tables).
pub(crate) fn check_name(kind: &str, name: &str, key: &str, ctx: &Ctx) -> Result<(), ModelError> {
    let why = if name.trim().is_empty() {
        "is empty"
    } else if name.contains('.') {
        "has a dot (names are keys of dotted paths: `--assert 'tiers.NAME.utilization<0.7'`)"
    } else if name.chars().any(char::is_control) {
        "has a control character (a newline, a tab...)"
    } else {
        return Ok(());
    };
    Err(ctx.fail(
        key,
        format!("the {kind} name {name:?} {why}: use letters, digits, `-` or `_`"),
    ))
}

/// Most memory a replication's time series, or its SLO window's latency histograms, may take.
const SERIES_MEMORY: f64 = 1024.0 * 1024.0 * 1024.0;
const WINDOW_MEMORY: f64 = 256.0 * 1024.0 * 1024.0;

/// Refuse a bucket so short that the time series (a value per column and bucket) or the SLO
/// window (one latency histogram per bucket in it) would take more memory than the limits above.
pub(super) fn series_memory(
    sc: &Scenario,
    slo: &Slo,
    tiers: usize,
    ctx: &Ctx,
) -> Result<(), ModelError> {
    let buckets = (sc.duration_s / sc.bucket_s).ceil().max(1.0);
    // The site's columns and each tier's (`metrics::series`), 8 bytes a value.
    let columns = 20.0 + 7.0 * tiers as f64;
    let series = buckets * columns * 8.0;
    // The window keeps its last buckets, no more than the horizon has.
    let in_window = (slo.window_s / sc.bucket_s).round().clamp(1.0, buckets);
    let histogram = crate::stats::histogram::histogram_bytes() as f64;
    let window = in_window * histogram;
    let bytes = crate::fmt::human_bytes;
    let count = crate::fmt::human_count;
    if series > SERIES_MEMORY {
        return Err(ctx.fail(
            "scenario.bucket",
            format!(
                "{} buckets of {} x {columns} columns would take {} of time series, above {}: \
                 use a longer bucket (bucket = \"{}\" or more)",
                count(buckets),
                paste(sc.bucket_s),
                bytes(series),
                bytes(SERIES_MEMORY),
                paste(sc.bucket_s * series / SERIES_MEMORY)
            ),
        ));
    }
    if window > WINDOW_MEMORY {
        let span = slo.window_s.min(sc.duration_s);
        return Err(ctx.fail(
            "scenario.bucket",
            format!(
                "the SLO window ({} over a {} horizon) spans {} buckets of {}, and it keeps one \
                 latency histogram ({}) per bucket: {}, above {}: use a longer bucket \
                 (bucket = \"{}\" or more) or a shorter `slo.window`",
                paste(slo.window_s),
                paste(sc.duration_s),
                count(in_window),
                paste(sc.bucket_s),
                bytes(histogram),
                bytes(window),
                bytes(WINDOW_MEMORY),
                paste(span * histogram / WINDOW_MEMORY)
            ),
        ));
    }
    Ok(())
}

/// A duration as a model takes it, rounded up to a whole number of its unit: "172ns", "3us",
/// "15ms", "2s".
fn paste(s: f64) -> String {
    for (unit, size) in [("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3)] {
        if s < size * 1000.0 {
            return format!("{}{unit}", (s / size - 1e-9).ceil().max(1.0));
        }
    }
    format!("{}s", (s - 1e-9).ceil())
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_are_written_to_be_pasted() {
        assert_eq!(super::paste(1e-9), "1ns");
        assert_eq!(super::paste(171.3e-9), "172ns");
        assert_eq!(super::paste(2.5e-6), "3us");
        assert_eq!(super::paste(0.015), "15ms");
        assert_eq!(super::paste(90.2), "91s");
    }
}
