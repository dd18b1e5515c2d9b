//! Every duration a model file states (timeouts, delays, windows, service and think times), with
//! its key path and its value as written, so that `surge check` can show each in human units and
//! a unit mistake (`timeout = 30000` meant as milliseconds) is seen before a run. This module
//! knows which keys of the schema are durations; it does not check values (loading does that).

use toml_edit::{Document, Item, Value};

use super::units::parse_duration;

/// Duration keys, by key path with list positions written `[]`.
const DURATION_KEYS: &[&str] = &[
    "scenario.duration",
    "scenario.warmup",
    "scenario.bucket",
    "surge.start",
    "surge.ramp",
    "surge.hold",
    "surge.decay",
    "client.timeout",
    "client.retry.base",
    "client.retry.cap",
    "client.retry.ttl",
    "client.breaker.window",
    "client.breaker.open_for",
    "client.throttle.window",
    "tier[].retry.base",
    "tier[].retry.cap",
    "tier[].retry.ttl",
    "tier[].pool.timeout",
    "tier[].concurrency_limit.timeout",
    "tier[].outlier_detection.base_ejection",
    "tier[].outlier_detection.max_ejection",
    "tier[].outlier_detection.interval",
    "tier[].autoscale.scale_in_after",
    "tier[].request_timeout",
    "tier[].refused_after",
    "tier[].codel.target",
    "tier[].codel.interval",
    "tier[].restart.after",
    "tier[].restart.window",
    "tier[].restart.cold.warmup",
    "tier[].health_check.interval",
    "tier[].health_check.timeout",
    "tier[].autoscale.provision",
    "tier[].autoscale.cooldown",
    "slo.latency",
    "slo.window",
    "slo.stable",
    "operator[].detect",
    "operator[].delay",
    "operator[].for",
    "waiting_room.session",
];

/// Distributions of a time (their `mean`, `sd`, `value`, `min`, `max`, `scale` and `means` are
/// durations); `pages` is a count and is not here.
const TIME_DISTRIBUTIONS: &[&str] = &[
    "tier[].service",
    "source[].think",
    "client.patience",
    "client.refresh_after",
    "client.return.after",
    "waiting_room.patience",
];

const TIME_PARAMETERS: &[&str] = &["mean", "sd", "value", "min", "max", "scale", "means"];

/// One duration as the file states it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WrittenDuration {
    /// Key path, `tier[0].restart.after`.
    pub key: String,
    /// The value as written in the file: `"2 min"`, `30000`.
    pub written: String,
    /// Seconds, as the model reads it (`None` when the value is not a duration at all).
    pub seconds: Option<f64>,
    /// Written as a bare number, which is read as seconds.
    pub bare: bool,
}

/// The durations stated in model `text`, in file order. A text that is not TOML gives none.
pub(crate) fn written_durations(text: &str) -> Vec<WrittenDuration> {
    let Ok(doc) = Document::parse(text.to_string()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk_item(doc.as_item(), "", "", &mut out);
    out
}

/// `pattern` with the client keys of a source folded onto `[client]` (`source[].client.timeout`
/// is `client.timeout`).
fn is_duration_key(pattern: &str) -> bool {
    let p = pattern.strip_prefix("source[].").unwrap_or(pattern);
    DURATION_KEYS.contains(&p)
}

/// Whether the key `pattern` (list positions written `[]`: `tier[].service.mean`) is a
/// duration: a duration key, or a time parameter of a distribution of a time.
pub(crate) fn is_duration_path(pattern: &str) -> bool {
    is_duration_key(pattern)
        || pattern.rsplit_once('.').is_some_and(|(dist, param)| {
            is_time_distribution(dist) && TIME_PARAMETERS.contains(&param)
        })
}

fn is_time_distribution(pattern: &str) -> bool {
    let p = pattern.strip_prefix("source[].").unwrap_or(pattern);
    TIME_DISTRIBUTIONS.contains(&p) || TIME_DISTRIBUTIONS.contains(&pattern)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk_item(item: &Item, path: &str, pattern: &str, out: &mut Vec<WrittenDuration>) {
    match item {
        Item::Table(t) => {
            for (k, v) in t.iter() {
                walk_item(v, &join(path, k), &join(pattern, k), out);
            }
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                for (k, v) in t.iter() {
                    walk_item(
                        v,
                        &join(&format!("{path}[{i}]"), k),
                        &join(&format!("{pattern}[]"), k),
                        out,
                    );
                }
            }
        }
        Item::Value(v) => walk_value(v, path, pattern, out),
        Item::None => {}
    }
}

fn walk_value(v: &Value, path: &str, pattern: &str, out: &mut Vec<WrittenDuration>) {
    if is_duration_key(pattern) {
        out.push(read(v, path));
        return;
    }
    if let Value::InlineTable(t) = v {
        let time = is_time_distribution(pattern);
        for (k, x) in t.iter() {
            let (p, q) = (join(path, k), join(pattern, k));
            if time && TIME_PARAMETERS.contains(&k) {
                match x {
                    Value::Array(a) => {
                        for (i, e) in a.iter().enumerate() {
                            out.push(read(e, &format!("{p}[{i}]")));
                        }
                    }
                    _ => out.push(read(x, &p)),
                }
            } else {
                walk_value(x, &p, &q, out);
            }
        }
    }
}

fn read(v: &Value, path: &str) -> WrittenDuration {
    let written = v.clone().decorated("", "").to_string();
    let (seconds, bare) = match v {
        Value::Integer(i) => (Some(*i.value() as f64), true),
        Value::Float(f) => (Some(*f.value()), true),
        Value::String(s) => (parse_duration(s.value()).ok(), false),
        _ => (None, false),
    };
    WrittenDuration {
        key: path.to_string(),
        written,
        seconds,
        bare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_durations_with_their_paths_in_file_order() {
        let text = r#"
[scenario]
duration = "2 hours"
seed = 3
[client]
timeout = 30000
patience = { dist = "exponential", mean = "30s" }
[[source]]
kind = "users"
users = 10
pages = { dist = "geometric", mean = 4 }
think = { dist = "exponential", mean = 20 }
client = { timeout = "5s" }
[[tier]]
instances = 1
threads = 2
service = { dist = "hyperexponential", p = [0.5, 0.5], means = ["10ms", "1s"] }
restart = { after = "2 min", cold = { factor = 2, warmup = 60 } }
[[operator]]
action = "restart"
detect = "5m"
"#;
        let d = written_durations(text);
        let keys: Vec<&str> = d.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "scenario.duration",
                "client.timeout",
                "client.patience.mean",
                "source[0].think.mean",
                "source[0].client.timeout",
                "tier[0].service.means[0]",
                "tier[0].service.means[1]",
                "tier[0].restart.after",
                "tier[0].restart.cold.warmup",
                "operator[0].detect",
            ]
        );
        assert_eq!(d[0].seconds, Some(7200.0));
        assert!(!d[0].bare);
        assert_eq!(d[1].written, "30000");
        assert_eq!(d[1].seconds, Some(30000.0));
        assert!(d[1].bare);
        assert_eq!(d[5].written, "\"10ms\"");
        assert_eq!(d[5].seconds, Some(0.01));
    }

    #[test]
    fn the_hop_retry_pool_and_policy_durations_are_read_too() {
        let text = r#"
[client.breaker]
window = "10s"
open_for = "30s"
[client.retry]
max_attempts = 3
budget_kind = "ratio"
ttl = "10s"
[[tier]]
retry = { max_attempts = 3, base = "25ms", cap = 1 }
pool = { connections = 4, timeout = "2s" }
outlier_detection = { base_ejection = "30s", max_ejection = "5m", interval = "10s" }
autoscale = { scale_in_after = "10m" }
concurrency_limit = { timeout = "1s" }
[tier.throttle]
"#;
        let keys: Vec<String> = (written_durations(text).into_iter())
            .map(|w| format!("{}={:?}", w.key, w.seconds))
            .collect();
        assert_eq!(
            keys,
            [
                "client.breaker.window=Some(10.0)",
                "client.breaker.open_for=Some(30.0)",
                "client.retry.ttl=Some(10.0)",
                "tier[0].retry.base=Some(0.025)",
                "tier[0].retry.cap=Some(1.0)",
                "tier[0].pool.timeout=Some(2.0)",
                "tier[0].outlier_detection.base_ejection=Some(30.0)",
                "tier[0].outlier_detection.max_ejection=Some(300.0)",
                "tier[0].outlier_detection.interval=Some(10.0)",
                "tier[0].autoscale.scale_in_after=Some(600.0)",
                "tier[0].concurrency_limit.timeout=Some(1.0)",
            ]
        );
    }
}
