//! k6 results written with `--out csv`: a header (`metric_name,timestamp,metric_value,check,
//! error,error_code,expected_response,group,method,name,proto,scenario,service,status,...`),
//! then one metric sample a line. A request is its `http_req_duration` sample (ms; the
//! timestamp, whole seconds since 1970 or RFC 3339, is when it ended); `http_req_waiting`
//! (time to first byte) is averaged for fit.json; `vus` samples give the concurrency of the
//! requests that follow. Other metrics are read and set aside.

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
        if self.waiting_n == 0 {
            return Vec::new();
        }
        vec![
            (
                "http_req_waiting_mean_s".into(),
                self.waiting_sum / self.waiting_n as f64 / 1000.0,
            ),
            ("http_req_waiting_samples".into(), self.waiting_n as f64),
        ]
    }
    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        split_row(line, &mut self.fields, self.width)?;
        let fields = &self.fields;
        let f = |i: usize| field(line, fields, i);
        let metric = f(self.metric);
        let value = || -> Result<f64, String> {
            f(self.value)
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("metric_value `{}` is not a number", f(self.value)))
        };
        match metric {
            "http_req_duration" => {
                let t = f(self.time);
                let end = t
                    .parse::<f64>()
                    .ok()
                    .or_else(|| parse_iso(t))
                    .ok_or_else(|| {
                        format!("timestamp `{t}` is neither seconds since 1970 nor RFC 3339")
                    })?;
                let ms = value()?;
                let ok = match self.expected.map(f) {
                    Some("true") => true,
                    Some("false") => false,
                    _ => self
                        .status
                        .map(f)
                        .and_then(|s| s.parse::<u16>().ok())
                        .is_none_or(|s| (1..400).contains(&s)),
                };
                let target = self
                    .name
                    .map(f)
                    .filter(|s| !s.is_empty())
                    .or_else(|| self.url.map(f))
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
                    let status = self.status.map(f).and_then(|s| s.parse::<u16>().ok());
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
            "vus" => self.vus = value()? as f32,
            "" => return Err("no metric_name".into()),
            _ => {}
        }
        Ok(())
    }
}
