//! Locust's `*_stats_history.csv`: one row a second per request name, with the user count, the
//! response-time percentiles of the last seconds (ms) and cumulative request and failure
//! counts. Only the `Aggregated` rows are read. Locust keeps no request-level times, so each
//! row becomes as many requests as its cumulative count grew by (exact counts), ending evenly
//! over the interval since the row before, with response times read off the row's percentiles
//! at evenly spaced levels (linear between the given percentiles, from the minimum so far to
//! the maximum): the fits are fits to that reconstruction, as fit.json says. The percentile
//! columns are Locust's *current* ones, over a window of several seconds, not over the row's
//! own requests; the cumulative `Total Average Response Time` gives the row's own mean exactly
//! (the growth of count x average over the growth of count), so the row's times are read off
//! the slice of the window's levels whose mean is that mean (the lowest levels when the row was
//! faster than the window, the highest when slower; [`slice`]). Without that column the whole
//! range of levels is used. A row whose
//! width is not the header's, or whose count grew by more than [`MAX_REQUESTS_PER_S`] a second,
//! is a bad line: never read as zeros, never a trillion records.

use super::input::{FormatInfo, Header, LineParser, Requests, field, split_row};

const LEVELS: [(&str, f64); 11] = [
    ("50%", 0.5),
    ("66%", 0.66),
    ("75%", 0.75),
    ("80%", 0.8),
    ("90%", 0.9),
    ("95%", 0.95),
    ("98%", 0.98),
    ("99%", 0.99),
    ("99.9%", 0.999),
    ("99.99%", 0.9999),
    ("100%", 1.0),
];

/// Most requests a second a row may add (more is a corrupt count, and would be as many records).
pub(crate) const MAX_REQUESTS_PER_S: f64 = 1e6;

#[derive(Debug, Default)]
pub(crate) struct Locust {
    time: usize,
    users: usize,
    name: usize,
    total: usize,
    failures: usize,
    mean: Option<usize>,
    min: Option<usize>,
    levels: Vec<(usize, f64)>,
    /// The last good row's time, cumulative requests and failures, and total response time (ms).
    prev: Option<(f64, u64, u64, f64)>,
    width: usize,
    fields: Vec<(usize, usize)>,
    knots: Vec<(f64, f64)>,
}

impl LineParser for Locust {
    fn format(&self) -> FormatInfo {
        FormatInfo::new("locust (*_stats_history.csv)", 1e-3)
    }
    fn header(&mut self, line: &str) -> Result<bool, String> {
        let h = Header::of(line, "a Locust stats history header", "");
        self.time = h.need("Timestamp")?;
        self.users = h.need("User Count")?;
        self.name = h.need("Name")?;
        self.total = h.need("Total Request Count")?;
        self.failures = h.need("Total Failure Count")?;
        self.width = h.width();
        self.min = h.find("Total Min Response Time");
        self.mean = h.find("Total Average Response Time");
        self.levels = LEVELS
            .iter()
            .filter_map(|&(n, p)| h.find(n).map(|i| (i, p)))
            .collect();
        if self.levels.is_empty() {
            return Err(format!(
                "a Locust stats history header needs percentile columns (50%, 95%, ...); got `{line}`"
            ));
        }
        Ok(true)
    }
    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        split_row(line, &mut self.fields, self.width)?;
        let fields = &self.fields;
        let f = |i: usize| field(line, fields, i);
        if f(self.name) != "Aggregated" {
            return Ok(());
        }
        let num = |i: usize, what: &str| -> Result<f64, String> {
            f(i).parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| format!("{what} `{}` is not a number", f(i)))
        };
        let t = num(self.time, "Timestamp")?;
        let users = num(self.users, "User Count")?;
        let total = num(self.total, "Total Request Count")? as u64;
        let fails = num(self.failures, "Total Failure Count")? as u64;
        // count x average: the response time of every request so far, ms (NaN without the column)
        let sum = self
            .mean
            .and_then(|i| f(i).parse::<f64>().ok())
            .filter(|m| m.is_finite() && *m >= 0.0)
            .map_or(f64::NAN, |m| m * total as f64);
        let (t0, total0, fails0, sum0) = self.prev.unwrap_or((t - 1.0, 0, 0, 0.0));
        if total < total0 || fails < fails0 || t < t0 {
            return Err("the cumulative counts or the time went backwards".into());
        }
        let n = total - total0;
        let most = MAX_REQUESTS_PER_S * (t - t0).max(1.0);
        if n as f64 > most {
            // skipped without moving `prev`: the next row counts from the last good one
            return Err(format!(
                "the request count grew by {n} in {:.0} s, more than {MAX_REQUESTS_PER_S:.0} a second: not a count",
                (t - t0).max(1.0)
            ));
        }
        self.prev = Some((t, total, fails, sum));
        let nf = (fails - fails0).min(n);
        if n == 0 {
            return Ok(());
        }
        self.knots.clear();
        let lo = self
            .min
            .and_then(|i| f(i).parse::<f64>().ok())
            .unwrap_or(0.0);
        self.knots.push((0.0, lo));
        for &(i, p) in &self.levels {
            if let Ok(q) = f(i).parse::<f64>() {
                let q = q.max(self.knots.last().map_or(0.0, |k| k.1));
                self.knots.push((p, q));
            }
        }
        let row_mean = (sum - sum0) / n as f64;
        let (u0, u1) = if self.knots.len() < 2 || !row_mean.is_finite() || row_mean < 0.0 {
            (0.0, 1.0)
        } else {
            slice(&self.knots, row_mean)
        };
        let span = (t - t0).max(0.0);
        for k in 0..n {
            let u = u0 + (u1 - u0) * (k as f64 + 0.5) / n as f64;
            let time_s = if self.knots.len() < 2 {
                f64::NAN
            } else {
                quantile(&self.knots, u) / 1000.0
            };
            let end = t0 + span * u;
            // Failures spread evenly among the row's requests.
            let ok = (k * nf / n) == ((k + 1) * nf / n);
            let start_s = end - if time_s.is_finite() { time_s } else { 0.0 };
            let r = to.push("(all)", start_s, time_s, ok, users as f32);
            if !ok {
                // Locust's history counts failures, not why they failed
                r.refusal = super::refusals::Refusal::CauseUnknown;
            }
        }
        Ok(())
    }
}

fn quantile(knots: &[(f64, f64)], u: f64) -> f64 {
    for w in knots.windows(2) {
        let ((p0, q0), (p1, q1)) = (w[0], w[1]);
        if u <= p1 {
            return if p1 > p0 {
                q0 + (q1 - q0) * (u - p0) / (p1 - p0)
            } else {
                q1
            };
        }
    }
    knots.last().map_or(f64::NAN, |k| k.1)
}

/// Mean of the piecewise-linear quantile function over the levels [a, b] (0 <= a < b <= 1).
fn mean_between(knots: &[(f64, f64)], a: f64, b: f64) -> f64 {
    let mut area = 0.0;
    for w in knots.windows(2) {
        let ((p0, q0), (p1, q1)) = (w[0], w[1]);
        let (lo, hi) = (p0.max(a), p1.min(b));
        if hi <= lo || p1 <= p0 {
            continue;
        }
        let at = |p: f64| q0 + (q1 - q0) * (p - p0) / (p1 - p0);
        area += 0.5 * (at(lo) + at(hi)) * (hi - lo);
    }
    area / (b - a)
}

/// The levels [u0, u1] a row's requests are read off: all of them when the window's mean is
/// the row's; else the lowest levels [0, u1] (the row faster than its window) or the highest
/// [u0, 1] (slower), as wide as gives the row's mean, found by bisection (the mean of a slice
/// from 0 grows with its end, of a slice to 1 with its start). A mean beyond the knots takes
/// the narrowest slice at that end.
fn slice(knots: &[(f64, f64)], row_mean: f64) -> (f64, f64) {
    const NARROWEST: f64 = 1e-6;
    let whole = mean_between(knots, 0.0, 1.0);
    let (mut lo, mut hi) = (NARROWEST, 1.0);
    if row_mean < whole {
        for _ in 0..60 {
            let m = 0.5 * (lo + hi);
            if mean_between(knots, 0.0, m) < row_mean {
                lo = m;
            } else {
                hi = m;
            }
        }
        (0.0, hi)
    } else if row_mean > whole {
        let (mut lo, mut hi) = (0.0, 1.0 - NARROWEST);
        for _ in 0..60 {
            let m = 0.5 * (lo + hi);
            if mean_between(knots, m, 1.0) < row_mean {
                lo = m;
            } else {
                hi = m;
            }
        }
        (lo, 1.0)
    } else {
        (0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0 ms at level 0 to 100 ms at level 1: the mean of [a, b] is 50 (a + b).
    const LINE: [(f64, f64); 2] = [(0.0, 0.0), (1.0, 100.0)];

    #[test]
    fn the_mean_of_a_slice_is_the_area_under_the_quantiles() {
        assert!((mean_between(&LINE, 0.0, 1.0) - 50.0).abs() < 1e-12);
        assert!((mean_between(&LINE, 0.2, 0.6) - 40.0).abs() < 1e-12);
        let steps = [(0.0, 2.0), (0.5, 4.0), (0.95, 4.0), (1.0, 2000.0)];
        // 0.5 x 3 + 0.45 x 4 + 0.05 x 1002
        assert!((mean_between(&steps, 0.0, 1.0) - 53.4).abs() < 1e-9);
    }

    #[test]
    fn a_row_faster_than_its_window_takes_the_lowest_levels() {
        let (a, b) = slice(&LINE, 20.0);
        assert_eq!(a, 0.0);
        assert!((b - 0.4).abs() < 1e-9, "{b}");
        let (a, b) = slice(&LINE, 80.0);
        assert!((a - 0.6).abs() < 1e-9, "{a}");
        assert_eq!(b, 1.0);
        assert_eq!(slice(&LINE, 50.0), (0.0, 1.0));
        // beyond the knots: the narrowest slice at that end
        let (_, b) = slice(&LINE, 0.0);
        assert!(b < 1e-5, "{b}");
        let (a, _) = slice(&LINE, 500.0);
        assert!(a > 1.0 - 1e-5, "{a}");
    }
}
