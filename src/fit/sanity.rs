//! Values absurd for their unit, which mean the file was read with the wrong `--format` (or
//! `--log-format`), a column in another unit, or a broken clock: a request whose start is not a
//! time or whose response time is negative or longer than a day is a bad line (counted with the
//! line's other faults, and more than 5% of them stop the fit); a file whose every response time
//! is 0, or whose mean is over an hour, stops the fit. Each error names the format the file was
//! read as, so the user can tell it was the wrong one.
//!
//! These are bounds on what a web request can be, not fits: nothing here adjusts a value.

use super::{FileInfo, Record};

/// Longest response time a web request is taken to have, seconds.
pub(crate) const MAX_RESPONSE_S: f64 = 86_400.0;
/// Latest start accepted, seconds since 1970 (the year 10000).
pub(crate) const MAX_START_S: f64 = 253_402_300_800.0;
/// Longest mean response time of a whole file, seconds.
pub(crate) const MAX_MEAN_RESPONSE_S: f64 = 3_600.0;

/// Whether one request's values can be a web request's; why not.
pub(crate) fn record(r: &Record) -> Result<(), String> {
    if !r.start_s.is_finite() || r.start_s < 0.0 || r.start_s >= MAX_START_S {
        return Err(format!(
            "start time {} s since 1970 is not a date between 1970 and 9999",
            r.start_s
        ));
    }
    if r.time_s.is_nan() {
        return Ok(());
    }
    if !(0.0..=MAX_RESPONSE_S).contains(&r.time_s) {
        return Err(format!(
            "a response time of {} s is not a web request's (at most a day)",
            r.time_s
        ));
    }
    Ok(())
}

/// Whether a whole file's response times can be a web site's: `mean_s` is the mean over its
/// successful requests with a time (NaN when none).
pub(crate) fn file(f: &FileInfo, timed: u64, mean_s: f64) -> Result<(), String> {
    let hint = "the file was probably read with the wrong format or unit: give --format (and --log-format for another log layout)";
    if timed >= 10 && f.zero_times == timed {
        return Err(format!(
            "{}: all {timed} response times read as {} are 0: that is not a response time; {hint}",
            f.path.display(),
            f.format
        ));
    }
    if mean_s > MAX_MEAN_RESPONSE_S {
        return Err(format!(
            "{}: the mean response time read as {} is {:.1} h, not a web request's; {hint}",
            f.path.display(),
            f.format,
            mean_s / 3600.0
        ));
    }
    Ok(())
}
