//! Locust's `*_stats_history.csv`: one row a second per request name, with the user count, the
//! response-time percentiles of the last seconds (ms) and cumulative request and failure
//! counts. Only the `Aggregated` rows are read. Locust keeps no request-level times, so each
//! row becomes as many requests as its cumulative count grew by (exact counts), ending evenly
//! over the interval since the row before, with response times read off the row's percentiles
//! at evenly spaced levels (linear between the given percentiles, from the minimum so far to
//! the maximum): the fits are fits to that reconstruction, as fit.json says. A row whose
//! width is not the header's, or whose count grew by more than [`MAX_REQUESTS_PER_S`] a second,
//! is a bad line: never read as zeros, never a trillion records.

use super::input::{FormatInfo, Header, LineParser, Requests, field, split_csv};

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
pub const MAX_REQUESTS_PER_S: f64 = 1e6;

#[derive(Debug, Default)]
pub struct Locust {
    time: usize,
    users: usize,
    name: usize,
    total: usize,
    failures: usize,
    min: Option<usize>,
    levels: Vec<(usize, f64)>,
    prev: Option<(f64, u64, u64)>,
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
        split_csv(line, &mut self.fields);
        if self.fields.len() != self.width {
            return Err(format!(
                "{} fields where the header has {}",
                self.fields.len(),
                self.width
            ));
        }
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
        let (t0, total0, fails0) = self.prev.unwrap_or((t - 1.0, 0, 0));
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
        self.prev = Some((t, total, fails));
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
        let span = (t - t0).max(0.0);
        for k in 0..n {
            let u = (k as f64 + 0.5) / n as f64;
            let time_s = if self.knots.len() < 2 {
                f64::NAN
            } else {
                quantile(&self.knots, u) / 1000.0
            };
            let end = t0 + span * u;
            // Failures spread evenly among the row's requests.
            let ok = (k * nf / n) == ((k + 1) * nf / n);
            let start_s = end - if time_s.is_finite() { time_s } else { 0.0 };
            to.push("(all)", start_s, time_s, ok, users as f32);
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
