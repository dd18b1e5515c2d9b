//! Arrivals of the data: exact requests per bucket (aligned on the first request's second),
//! written as the `start,count` trace a `kind = "trace"` source replays, and summarised as a
//! baseline rate (the median bucket's) with a profile of at most 24 knots that follows the
//! buckets. A partial last bucket counts at its rate over the seconds it covers (so the peak
//! bucket is never below the mean). The surge the data already hold is `surge`'s: over a window
//! of fixed length, not the bucket's.

use serde::{Deserialize, Serialize};

use super::collect::Grid;
use super::surge::{self, Surge};

/// Most knots of the profile.
pub(crate) const MAX_KNOTS: usize = 24;
/// Whole seconds the dispersion needs.
pub(crate) const DISPERSION_SECONDS: usize = 10;
/// Mean requests a second the dispersion needs: below it, whole seconds are too coarse to tell
/// a schedule from chance (a request every other second gives counts 0, 1, 0, 1: dispersion 1).
pub(crate) const DISPERSION_MIN_RATE: f64 = 2.0;
/// Below this dispersion the arrivals are evenly paced (Poisson's is 1, its standard error
/// about sqrt(3 / n) over n seconds: 0.55 at 10 seconds, so 0.1 is more than 1.6 standard
/// errors below 1 there and far more with more seconds).
pub(crate) const PACED_BELOW: f64 = 0.1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Arrivals {
    pub requests: u64,
    /// First and last arrival, seconds since 1970.
    pub first_s: f64,
    pub last_s: f64,
    pub bucket_s: f64,
    /// Whole seconds from the first arrival's second to the end of the last arrival's.
    pub span_s: f64,
    pub mean_rate_per_s: f64,
    pub peak_rate_per_s: f64,
    pub median_rate_per_s: f64,
    /// The surge the data hold ([`Surge::factor`]; 1 when the data are too short to tell).
    pub surge_in_data: f64,
    /// How it was measured: the window, the base, the uncertainty (None: too short).
    #[serde(default)]
    pub surge: Option<Surge>,
    /// What was made of a partial last bucket (None: the last bucket is whole).
    #[serde(default)]
    pub partial_bucket_note: Option<String>,
    /// The model's `rate`: the median bucket's rate.
    pub baseline_rate_per_s: f64,
    /// `[seconds since the first arrival, factor]`, factors scaled (see `profile_scale`) so
    /// that baseline x profile holds exactly the requests counted.
    pub profile: Vec<(f64, f64)>,
    pub profile_scale: f64,
    /// Index of dispersion of the requests per whole second, from successive differences
    /// (sum of (c[k+1] - c[k])^2 / 2(n - 1), over the mean count), so a profile's slow trend
    /// does not count: 1 for Poisson arrivals, 0 for a load generator that sends on a fixed
    /// schedule, below 1 for closed-loop clients. `None` with fewer than [`DISPERSION_SECONDS`]
    /// whole seconds or fewer than [`DISPERSION_MIN_RATE`] requests a second.
    #[serde(default)]
    pub dispersion: Option<f64>,
    /// What became of the bucket asked for: the default capped to the data's span, or a
    /// `--bucket` longer than the data (kept: one bucket, a flat profile).
    #[serde(default)]
    pub bucket_note: Option<String>,
    /// Requests per bucket; the last bucket may be partial (`span_s` says how much).
    #[serde(skip)]
    pub counts: Vec<u64>,
}

impl Arrivals {
    /// Length of bucket `i` covered by the data, seconds.
    pub(crate) fn covered(&self, i: usize) -> f64 {
        (self.span_s - i as f64 * self.bucket_s).clamp(0.0, self.bucket_s)
    }
    pub(crate) fn rate(&self, i: usize) -> f64 {
        self.counts[i] as f64 / self.covered(i).max(1.0)
    }

    /// The `start,count` trace, closed by a row `span,0`: the trace source takes a bucket to
    /// run to the next row's start, so the last (partial) bucket ends where the data end, and a
    /// bucket longer than the data still makes the two rows a trace needs.
    pub(crate) fn trace_csv(&self) -> String {
        let mut s = String::from("start,count\n");
        for (i, c) in self.counts.iter().enumerate() {
            s.push_str(&format!("{},{c}\n", i as f64 * self.bucket_s));
        }
        let last = (self.counts.len().max(1) - 1) as f64 * self.bucket_s;
        s.push_str(&format!("{},0\n", self.span_s.max(last + 1.0)));
        s
    }

    /// The arrivals were sent on a fixed schedule (a constant-rate load generator), not by
    /// independent clients: dispersion below [`PACED_BELOW`].
    pub(crate) fn paced(&self) -> bool {
        self.dispersion.is_some_and(|d| d < PACED_BELOW)
    }

    /// Baseline x profile at `t` seconds after the first arrival (as the model replays it).
    pub(crate) fn profile_rate(&self, t: f64) -> f64 {
        self.baseline_rate_per_s * interp(&self.profile, t)
    }
}

fn interp(p: &[(f64, f64)], t: f64) -> f64 {
    if p.is_empty() {
        return 1.0;
    }
    if t <= p[0].0 {
        return p[0].1;
    }
    for w in p.windows(2) {
        if t < w[1].0 {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0);
        }
    }
    p[p.len() - 1].1
}

/// Integral of the piecewise-linear profile over [0, end].
fn integral(p: &[(f64, f64)], end: f64) -> f64 {
    let steps = 4000;
    let h = end / steps as f64;
    (0..steps)
        .map(|i| interp(p, (i as f64 + 0.5) * h) * h)
        .sum()
}

/// Whole seconds from the first arrival's second to the end of the last arrival's.
fn span_of(first_s: f64, last_s: f64) -> f64 {
    (last_s.floor() as i64 - first_s.floor() as i64 + 1) as f64
}

/// The bucket to use and what to say of it: the default (not `--bucket`) capped to the data's
/// span, so that a short test is not one bucket longer than itself; a `--bucket` longer than
/// the span kept as given (its `arrivals.csv` still replays: see [`Arrivals::trace_csv`]), with
/// a warning that the profile is then flat.
pub(crate) fn bucket_for(
    first_s: f64,
    last_s: f64,
    opts: &super::Options,
) -> (f64, Option<String>) {
    let span = span_of(first_s, last_s);
    let b = opts.bucket_s;
    if b <= span {
        return (b, None);
    }
    let span_text = crate::fmt::exact_duration(span);
    if opts.bucket_given {
        (
            b,
            Some(format!(
                "WARNING: --bucket {} is longer than the data's {span_text} span: all requests fall in one bucket, so the profile is flat and no surge can be seen; give a --bucket shorter than {span_text}",
                crate::fmt::exact_duration(b)
            )),
        )
    } else {
        (
            span,
            Some(format!(
                "bucket {} s: the default {} capped to the data's {span_text} span",
                span,
                crate::fmt::exact_duration(b)
            )),
        )
    }
}

/// Buckets and profile from counts per second.
pub(crate) fn from_seconds(
    per_second: &Grid<u32>,
    first_s: f64,
    last_s: f64,
    bucket_s: f64,
) -> Arrivals {
    let origin = first_s.floor() as i64;
    let span_s = (last_s.floor() as i64 - origin + 1) as f64;
    let b = bucket_s as i64;
    let n = ((span_s as i64 - 1) / b + 1) as usize;
    let mut counts = vec![0u64; n];
    for (k, c) in per_second.cells.iter().enumerate() {
        let sec = per_second.origin + k as i64;
        if *c > 0 {
            let i = ((sec - origin) / b) as usize;
            counts[i.min(n - 1)] += u64::from(*c);
        }
    }
    let requests: u64 = counts.iter().sum();
    let mut a = Arrivals {
        requests,
        first_s,
        last_s,
        bucket_s,
        span_s,
        mean_rate_per_s: requests as f64 / span_s,
        peak_rate_per_s: 0.0,
        median_rate_per_s: 0.0,
        surge_in_data: 1.0,
        surge: surge::measure(per_second, first_s, last_s),
        partial_bucket_note: None,
        baseline_rate_per_s: 0.0,
        profile: Vec::new(),
        profile_scale: 1.0,
        dispersion: dispersion(per_second, first_s, last_s),
        bucket_note: None,
        counts,
    };
    // Rates of every bucket, a partial last one at its count over the seconds it covers: the
    // mean is their average weighted by those seconds, so the peak is never below it.
    let covered_last = a.covered(n - 1);
    if n > 1 && covered_last < bucket_s {
        a.partial_bucket_note = Some(format!(
            "the last bucket covers {} of {}: its rate is its {} over those {}",
            crate::fmt::exact_duration(covered_last),
            crate::fmt::exact_duration(bucket_s),
            crate::fmt::counted(a.counts[n - 1], "request", "requests"),
            crate::fmt::exact_duration(covered_last),
        ));
    }
    let mut sorted: Vec<f64> = (0..n).map(|i| a.rate(i)).collect();
    sorted.sort_by(f64::total_cmp);
    a.peak_rate_per_s = sorted.last().copied().unwrap_or(a.mean_rate_per_s);
    a.median_rate_per_s = if sorted.is_empty() {
        a.mean_rate_per_s
    } else if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2])
    };
    let base = if a.median_rate_per_s > 0.0 {
        a.median_rate_per_s
    } else {
        a.mean_rate_per_s
    };
    a.baseline_rate_per_s = base;
    a.surge_in_data = a.surge.as_ref().map_or(1.0, |s| s.factor);
    // Knots: the mean rate of each of at most 24 runs of buckets, at the middle of the run.
    let groups = n.min(MAX_KNOTS);
    let mut knots = Vec::new();
    for g in 0..groups {
        let lo = g * n / groups;
        let hi = (g + 1) * n / groups;
        let count: u64 = a.counts[lo..hi].iter().sum();
        let covered: f64 = (lo..hi).map(|i| a.covered(i)).sum();
        let t0 = lo as f64 * bucket_s;
        let mid = t0 + covered / 2.0;
        knots.push((mid, count as f64 / covered.max(1.0) / base));
    }
    let total = integral(&knots, span_s) * base;
    a.profile_scale = if total > 0.0 {
        requests as f64 / total
    } else {
        1.0
    };
    a.profile = knots
        .into_iter()
        .map(|(t, f)| (t, f * a.profile_scale))
        .collect();
    a
}

/// The index of dispersion of the requests per whole second from `first_s` to `last_s` (the
/// seconds of the first and last request left out: partly covered), from successive
/// differences (see [`Arrivals::dispersion`]).
fn dispersion(per_second: &Grid<u32>, first_s: f64, last_s: f64) -> Option<f64> {
    let (lo, hi) = (first_s.floor() as i64 + 1, last_s.floor() as i64 - 1);
    let count = |sec: i64| -> f64 {
        let k = sec - per_second.origin;
        let c = usize::try_from(k)
            .ok()
            .and_then(|k| per_second.cells.get(k));
        c.map_or(0.0, |&c| f64::from(c))
    };
    let n = usize::try_from(hi - lo + 1).ok()?;
    if n < DISPERSION_SECONDS {
        return None;
    }
    let total: f64 = (lo..=hi).map(count).sum();
    let mean = total / n as f64;
    if mean < DISPERSION_MIN_RATE {
        return None;
    }
    let squares: f64 = (lo..hi).map(|s| (count(s + 1) - count(s)).powi(2)).sum();
    Some(squares / (2.0 * (n - 1) as f64) / mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_profile_hold_every_request() {
        let mut g = Grid::<u32>::default();
        // 10 minutes: 1 request/s for 5 minutes, then 3/s
        for s in 0..600 {
            *g.cell(1000 + s, 10_000).unwrap() = if s < 300 { 1 } else { 3 };
        }
        let a = from_seconds(&g, 1000.2, 1599.9, 60.0);
        assert_eq!(a.requests, 1200);
        assert_eq!(a.counts.len(), 10);
        assert_eq!(a.counts[0], 60);
        assert_eq!(a.peak_rate_per_s, 3.0);
        assert_eq!(a.median_rate_per_s, 2.0);
        assert!((integral(&a.profile, a.span_s) * a.baseline_rate_per_s - 1200.0).abs() < 1e-6);
        assert!(a.trace_csv().starts_with("start,count\n0,60\n60,60\n"));
        // counts that never vary but at the step are a schedule: one jump of 2 over 597 pairs
        let d = a.dispersion.unwrap();
        assert!((d - 4.0 / (2.0 * 597.0) / 2.0).abs() < 1e-12, "{d}");
    }

    /// A partial last bucket counts at its rate over the seconds it covers, said so: 10
    /// requests in a whole first minute, 100 in the 10 s after it: the peak is the last bucket's
    /// 10/s, above the mean (110 over 70 s), not the first's 0.17/s below it.
    #[test]
    fn a_partial_last_bucket_counts_at_its_rate_and_the_peak_is_not_below_the_mean() {
        let mut g = Grid::<u32>::default();
        for s in 0..60 {
            *g.cell(1000 + s, 10_000).unwrap() = u32::from(s % 6 == 0);
        }
        for s in 60..70 {
            *g.cell(1000 + s, 10_000).unwrap() = 10;
        }
        let a = from_seconds(&g, 1000.0, 1069.5, 60.0);
        assert_eq!(a.counts, vec![10, 100]);
        assert_eq!(a.peak_rate_per_s, 10.0);
        assert!(a.peak_rate_per_s >= a.mean_rate_per_s);
        assert!((a.mean_rate_per_s - 110.0 / 70.0).abs() < 1e-12);
        assert_eq!(
            a.partial_bucket_note.as_deref(),
            Some(
                "the last bucket covers 10 s of 1 min: its rate is its 100 requests over those 10 s"
            )
        );
        // a whole last bucket: nothing said
        let a = from_seconds(&g, 1000.0, 1059.5, 60.0);
        assert_eq!(a.partial_bucket_note, None);
    }

    /// Counts sent on a schedule have dispersion 0, exactly; Poisson counts about 1 (within
    /// 4 standard errors of the successive-difference estimator, sqrt(3 / n)); a step in the
    /// rate hardly moves it (one difference in n).
    #[test]
    fn dispersion_tells_a_schedule_from_poisson_arrivals() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Poisson};
        let grid = |counts: &[u32]| {
            let mut g = Grid::<u32>::default();
            for (s, &c) in counts.iter().enumerate() {
                *g.cell(5000 + s as i64, 100_000).unwrap() = c;
            }
            g
        };
        let n = 3000;
        let paced: Vec<u32> = (0..n).map(|s| if s < n / 2 { 20 } else { 34 }).collect();
        let a = from_seconds(&grid(&paced), 5000.0, 5000.0 + n as f64 - 0.5, 60.0);
        let d = a.dispersion.unwrap();
        assert!(d < 0.01, "{d}");
        assert!(a.paced());
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let po = Poisson::new(20.0).unwrap();
        let random: Vec<u32> = (0..n).map(|_| po.sample(&mut rng) as u32).collect();
        let a = from_seconds(&grid(&random), 5000.0, 5000.0 + n as f64 - 0.5, 60.0);
        let d = a.dispersion.unwrap();
        assert!((d - 1.0).abs() < 4.0 * (3.0 / n as f64).sqrt(), "{d}");
        assert!(!a.paced());
        // nine whole seconds are too few
        let a = from_seconds(&grid(&paced[..11]), 5000.0, 5010.5, 60.0);
        assert_eq!(a.dispersion, None);
    }
}
