//! k6 results written with `--out json=FILE`: one JSON object a line, either a `Metric` line
//! (`{"type":"Metric","data":{...},"metric":"vus"}`, the metric's declaration, set aside) or a
//! `Point` line (`{"type":"Point","data":{"time":"2017-05-09T14:34:45.239531499+02:00",
//! "value":459.865729,"tags":{"status":"200","url":"...",...}},"metric":"http_req_duration"}`),
//! one sample. Each `Point` is read as the same row of k6's CSV output would be (see
//! [`super::k6`]: a request is its `http_req_duration`, `vus` gives the concurrency, the
//! executor is told the same way); this module only takes the JSON apart. It does not read
//! k6's end-of-test summary (`--summary-export`), which holds no single request.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::input::{FormatInfo, LineParser, Requests};
use super::k6::{K6, Point};

/// The reader: k6's own, fed one `Point` at a time.
#[derive(Debug)]
pub(crate) struct K6Json {
    inner: K6,
}

impl Default for K6Json {
    fn default() -> Self {
        K6Json {
            inner: K6::without_header(),
        }
    }
}

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    metric: String,
    #[serde(default)]
    data: Data,
}

#[derive(Deserialize, Default)]
struct Data {
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    tags: Option<BTreeMap<String, serde_json::Value>>,
}

/// Whether `line` (the first of a file) is a line of k6's JSON output.
pub(crate) fn detect(line: &str) -> bool {
    line.starts_with('{')
        && line.contains("\"metric\"")
        && (line.contains("\"Metric\"") || line.contains("\"Point\""))
}

/// A tag's value as text (k6 writes them as strings; a number or boolean is taken as written).
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl LineParser for K6Json {
    fn format(&self) -> FormatInfo {
        FormatInfo::new("k6 (--out json)", 1e-6)
    }
    fn notes(&self) -> Vec<(String, f64)> {
        self.inner.notes()
    }
    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        let l: Line = serde_json::from_str(line).map_err(|e| {
            // serde's "at line 1" is the line's own: the file's line is said beside it
            let msg = e.to_string();
            let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |m| m.0);
            format!(
                "not a line of k6's JSON output: {msg} at column {}",
                e.column()
            )
        })?;
        match l.kind.as_str() {
            "Metric" => return Ok(()),
            "Point" => {}
            other => {
                return Err(format!(
                    "\"type\" is `{other}`, neither \"Point\" nor \"Metric\""
                ));
            }
        }
        if l.metric.is_empty() {
            return Err("a Point without \"metric\"".into());
        }
        let tags = l.data.tags.unwrap_or_default();
        let tag = |k: &str| tags.get(k).map(text);
        let (status, expected, name, url) = (
            tag("status"),
            tag("expected_response"),
            tag("name"),
            tag("url"),
        );
        let value = l.data.value.as_ref().map(text).unwrap_or_default();
        let point = Point {
            metric: &l.metric,
            time: l.data.time.as_deref().unwrap_or(""),
            value: &value,
            status: status.as_deref(),
            expected: expected.as_deref(),
            name: name.as_deref(),
            url: url.as_deref(),
        };
        self.inner.point(&point, to)
    }
}
