//! k6 results written with `--out csv`: a header (`metric_name,timestamp,metric_value,check,
//! error,error_code,expected_response,group,method,name,proto,scenario,service,status,...`),
//! then one metric sample a line. A request is its `http_req_duration` sample (ms; the
//! timestamp, whole seconds since 1970 or RFC 3339, is when it ended); `http_req_waiting`
//! (time to first byte) is averaged for fit.json; `vus` samples give the concurrency of the
//! requests that follow. Other metrics are read and set aside, but for what tells the
//! executor, which k6 does not record: a closed executor's VUs (constant-vus, ramping-vus, the
//! iteration-count ones) are always inside an iteration (a `sleep` is part of it), so the
//! `iteration_duration`s add up to the VUs' time; an arrival-rate executor (open: it starts
//! iterations on a schedule) keeps a pool of VUs idle between iterations and writes
//! `dropped_iterations` when the pool runs short. [`K6::open_reason`] says which was seen.

use super::input::{FormatInfo, Header, LineParser, Requests, field, path_of, split_row};
use super::timefmt::parse_iso;

#[derive(Debug, Default)]
pub(crate) struct K6 {
    metric: usize,
    time: usize,
    value: usize,
    name: Option<usize>,
    url: Option<usize>,
    status: Option<usize>,
    expected: Option<usize>,
    vus: f32,
    width: usize,
    waiting_sum: f64,
    waiting_n: u64,
    fields: Vec<(usize, usize)>,
    /// Sum of `iteration_duration`, ms, and their count.
    iteration_ms: f64,
    iterations: u64,
    /// Sum of `vus` samples, their count, and the first and last timestamp of any sample.
    vus_sum: f64,
    vus_n: u64,
    first_s: f64,
    last_s: f64,
    dropped: u64,
}

/// Below this share of the VUs' time spent in iterations, the executor was an arrival-rate one.
pub(crate) const OPEN_BELOW: f64 = 0.7;
/// Notes: the share of the VUs' time in iterations, and the `dropped_iterations` seen.
pub(crate) const BUSY_NOTE: &str = "k6_vus_busy_share";
pub(crate) const DROPPED_NOTE: &str = "k6_dropped_iterations";

impl K6 {
    /// A reader fed samples one at a time, without a CSV header (k6's JSON output).
    pub(crate) fn without_header() -> K6 {
        K6 {
            vus: f32::NAN,
            ..K6::default()
        }
    }

    /// A sample at timestamp `t` (unparsed ones are the request rows' business).
    fn seen_at(&mut self, t: &str) {
        if let Some(t) = t.parse::<f64>().ok().or_else(|| parse_iso(t)) {
            // 0: none seen yet (no k6 run is dated 1970)
            if self.first_s == 0.0 || t < self.first_s {
                self.first_s = t;
            }
            self.last_s = self.last_s.max(t);
        }
    }

    /// The share of the VUs' time spent inside iterations: iteration durations over the mean
    /// `vus` x the span of the samples (None without both).
    fn busy_share(&self) -> Option<f64> {
        let span = self.last_s - self.first_s + 1.0;
        (self.iterations > 0 && self.vus_n > 0 && span > 0.0)
            .then(|| self.iteration_ms / 1000.0 / (self.vus_sum / self.vus_n as f64 * span))
    }
}

/// Why a k6 file's notes show an open (arrival-rate) executor, or None where they show a closed
/// one or cannot tell.
pub(crate) fn open_reason(notes: &[(String, f64)]) -> Option<String> {
    let get = |k: &str| notes.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    if let Some(d) = get(DROPPED_NOTE).filter(|&d| d > 0.0) {
        return Some(format!(
            "it wrote `dropped_iterations` ({d:.0}), which only an arrival-rate executor (constant-arrival-rate, ramping-arrival-rate) does"
        ));
    }
    get(BUSY_NOTE).filter(|&b| b < OPEN_BELOW).map(|b| {
        format!(
            "its VUs spent {:.0}% of their time in iterations (a closed executor's are always in one: near 100%); an arrival-rate executor (constant-arrival-rate) keeps them idle between the iterations it starts on a schedule",
            100.0 * b
        )
    })
}

impl LineParser for K6 {
    fn format(&self) -> FormatInfo {
        FormatInfo::new("k6 (--out csv)", 1e-6)
    }
    fn header(&mut self, line: &str) -> Result<bool, String> {
        let h = Header::of(line, "a k6 CSV header", "");
        self.metric = h.need("metric_name")?;
        self.time = h.need("timestamp")?;
        self.value = h.need("metric_value")?;
        self.name = h.find("name");
        self.url = h.find("url");
        self.status = h.find("status");
        self.expected = h.find("expected_response");
        self.vus = f32::NAN;
        self.width = h.width();
        Ok(true)
    }
    fn notes(&self) -> Vec<(String, f64)> {
        let mut notes = Vec::new();
        if let Some(b) = self.busy_share() {
            notes.push((BUSY_NOTE.into(), b));
        }
        if self.dropped > 0 {
            notes.push((DROPPED_NOTE.into(), self.dropped as f64));
        }
        if self.waiting_n == 0 {
            return notes;
        }
        notes.extend([
            (
                "http_req_waiting_mean_s".into(),
                self.waiting_sum / self.waiting_n as f64 / 1000.0,
            ),
            ("http_req_waiting_samples".into(), self.waiting_n as f64),
        ]);
        notes
    }
    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        split_row(line, &mut self.fields, self.width)?;
        let fields = std::mem::take(&mut self.fields);
        let f = |i: usize| field(line, &fields, i);
        let point = Point {
            metric: f(self.metric),
            time: f(self.time),
            value: f(self.value),
            status: self.status.map(f),
            expected: self.expected.map(f),
            name: self.name.map(f),
            url: self.url.map(f),
        };
        let r = self.point(&point, to);
        self.fields = fields;
        r
    }
}

/// One metric sample, from a CSV row or a JSON `Point` line: the metric's name, its timestamp
/// and value as written, and the tags a request's sample carries.
#[derive(Debug, Default)]
pub(crate) struct Point<'a> {
    pub(crate) metric: &'a str,
    pub(crate) time: &'a str,
    pub(crate) value: &'a str,
    pub(crate) status: Option<&'a str>,
    pub(crate) expected: Option<&'a str>,
    pub(crate) name: Option<&'a str>,
    pub(crate) url: Option<&'a str>,
}

impl K6 {
    /// Read one sample, whichever output wrote it.
    pub(crate) fn point(&mut self, p: &Point<'_>, to: &mut Requests) -> Result<(), String> {
        let value = || -> Result<f64, String> {
            p.value
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("metric_value `{}` is not a number", p.value))
        };
        match p.metric {
            "http_req_duration" => {
                let t = p.time;
                let end = t
                    .parse::<f64>()
                    .ok()
                    .or_else(|| parse_iso(t))
                    .ok_or_else(|| {
                        format!("timestamp `{t}` is neither seconds since 1970 nor RFC 3339")
                    })?;
                let ms = value()?;
                let status = p.status.and_then(|s| s.parse::<u16>().ok());
                let ok = match p.expected {
                    Some("true") => true,
                    Some("false") => false,
                    _ => status.is_none_or(|s| (1..400).contains(&s)),
                };
                let target = p
                    .name
                    .filter(|s| !s.is_empty())
                    .or(p.url)
                    .unwrap_or("(all)");
                let r = to.push(
                    path_of(target),
                    end - ms / 1000.0,
                    ms / 1000.0,
                    ok,
                    self.vus,
                );
                if !ok {
                    // status 0: no response (k6's `error` says how the connection failed)
                    r.refusal = match status {
                        Some(0) => super::refusals::Refusal::TurnedAway,
                        Some(s) => super::refusals::of_status(s),
                        None => super::refusals::Refusal::CauseUnknown,
                    };
                }
            }
            "http_req_waiting" => {
                self.waiting_sum += value()?;
                self.waiting_n += 1;
            }
            "vus" => {
                let v = value()?;
                self.vus = v as f32;
                self.vus_sum += v;
                self.vus_n += 1;
                self.seen_at(p.time);
            }
            "iteration_duration" => {
                self.iteration_ms += value()?;
                self.iterations += 1;
                self.seen_at(p.time);
            }
            "dropped_iterations" => self.dropped += value()?.max(0.0) as u64,
            "" => return Err("no metric_name".into()),
            _ => {}
        }
        Ok(())
    }
}
