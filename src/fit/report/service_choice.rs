//! Which service distribution the model gets: the best fit by AIC when it reproduces the times
//! it was fitted to (its mean and its 95th percentile each within [`MAX_OFF`] of theirs), else
//! those times themselves, drawn uniformly (`{ dist = "empirical", file = "service.csv" }`):
//! a bimodal or otherwise odd distribution (a warm-up of slow responses, then fast ones) that no
//! candidate follows would make the model miss the data it came from.
//!
//! It decides and writes the samples; `model_toml` writes the line, `app::fit` the file.

use serde::{Deserialize, Serialize};

use super::Service;

/// The file of the service times when the model draws from them.
pub(crate) const SERVICE_CSV: &str = "service.csv";
/// Most relative difference of the best fit's mean or p95 from the times' before the model
/// draws from the times instead.
pub(crate) const MAX_OFF: f64 = 0.10;
/// Fewest times for the comparison (below it the best fit stands).
const MIN_TIMES: usize = 20;

/// What the model's service is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Written {
    /// `"fitted"` (the best candidate) or `"empirical"` (the times, in service.csv).
    pub kind: String,
    /// The best candidate's mean and p95 over the times', minus 1.
    pub mean_off: f64,
    pub p95_off: f64,
    pub why: String,
}

fn quantile_of(sorted: &[f64], p: f64) -> f64 {
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The best fit's p95: where its distribution function crosses 0.95 (bisection).
fn fitted_p95(s: &Service) -> f64 {
    let (mut lo, mut hi) = (0.0, s.mean_s.max(1e-9));
    while s.fitted.cdf(hi) < 0.95 && hi < 1e9 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let m = 0.5 * (lo + hi);
        if s.fitted.cdf(m) < 0.95 {
            lo = m;
        } else {
            hi = m;
        }
    }
    hi
}

/// Whether the model takes the best fit or the times themselves.
pub(crate) fn choose(s: &Service) -> Written {
    let times = &s.sorted;
    if times.len() < MIN_TIMES {
        return Written {
            kind: "fitted".into(),
            mean_off: 0.0,
            p95_off: 0.0,
            why: format!("fewer than {MIN_TIMES} times: the best fit"),
        };
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let p95 = quantile_of(times, 0.95);
    let mean_off = s.fitted.mean() / mean - 1.0;
    let p95_off = fitted_p95(s) / p95 - 1.0;
    let misses = mean_off.abs() > MAX_OFF || p95_off.abs() > MAX_OFF;
    Written {
        kind: if misses { "empirical" } else { "fitted" }.into(),
        mean_off,
        p95_off,
        why: if misses {
            format!(
                "the best fit ({}) misses the times it was fitted to (mean {:+.0}%, p95 {:+.0}%, more than {:.0}%): the model draws from the {} times ({SERVICE_CSV})",
                s.dist,
                100.0 * mean_off,
                100.0 * p95_off,
                100.0 * MAX_OFF,
                times.len()
            )
        } else {
            format!(
                "the best fit ({}) follows the times (mean {:+.1}%, p95 {:+.1}%)",
                s.dist,
                100.0 * mean_off,
                100.0 * p95_off
            )
        },
    }
}

/// The fitted service when the model draws from its times (none given with `--service`).
pub(crate) fn empirical(fit: &super::Fit) -> Option<&Service> {
    if fit.logs.service_given.is_some() {
        return None;
    }
    fit.service
        .as_ref()
        .filter(|s| s.written.as_ref().is_some_and(|w| w.kind == "empirical"))
}

/// service.csv: the times, seconds, one a line, no header (as `empirical` reads them).
pub(crate) fn csv(s: &Service) -> String {
    let mut out = String::with_capacity(s.sorted.len() * 10);
    for t in &s.sorted {
        out.push_str(&format!("{t:.6}\n"));
    }
    out
}
