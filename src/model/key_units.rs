//! The unit of a model key as `--set` and `--vary` name it (`tier.web.request_timeout`: seconds;
//! `tier.web.threads`: threads; `source.clients.rate`: requests per second (a requests source's
//! rate; a users source has `users`); `slo.outage_below`:
//! a share), so that a range of it can be written for people: "5 to 8 threads", "100 s to
//! 3 min 20 s", "30 to 39 requests/s", "50% to 90%". A key this module does not know is a
//! plain number.
//!
//! Not here: reading or checking values (`units`, `schema`), the durations a file states
//! (`durations`, whose list of duration keys this reads).

/// The unit words of `key`: `s` for a duration, `share` for a share (0..1), `bytes` for a size,
/// `×` for a multiplier, what is counted (`threads`, `instances`, `places`, `attempts`,
/// `users`) for a count, `requests/s` for a source's rate, a price per hour; empty for a plain
/// number.
pub(crate) fn key_unit(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    let last = *parts.last().unwrap_or(&"");
    // The key as the lists of keys write it: `tier[].request_timeout`.
    let mut pattern: Vec<String> = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let p = parts[i];
        if matches!(p, "tier" | "source" | "operator") && i + 1 < parts.len() {
            pattern.push(format!("{p}[]"));
            i += 2;
        } else {
            pattern.push(p.to_string());
            i += 1;
        }
    }
    let pattern = pattern.join(".");
    if super::durations::is_duration_path(&pattern) {
        return "s".into();
    }
    let words = match last {
        "instances" | "min_instances" | "max_instances" => "instances",
        "threads" => "threads",
        "queue" => "places",
        "max_attempts" => "attempts",
        "visit" | "errors" | "refresh" | "probability" | "fraction" | "target_utilization"
        | "scale_in_below" | "success_rate" | "outage_below" => "share",
        "limit" | "base" | "per_request" if pattern.starts_with("tier[].memory.") => "bytes",
        "peak" if pattern == "surge.peak" => "×",
        "cost_per_instance_hour" => "currency units per instance-hour",
        "cost_per_thread_hour" => "currency units per thread-hour",
        "users" if pattern == "source[].users" => "users",
        "rate" if pattern == "source[].rate" => "requests/s",
        _ => "",
    };
    words.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_of_keys_as_vary_names_them() {
        assert_eq!(key_unit("tier.web.request_timeout"), "s");
        assert_eq!(key_unit("tier.web.service.mean"), "s");
        assert_eq!(key_unit("source.api.client.timeout"), "s");
        assert_eq!(key_unit("client.retry.base"), "s");
        assert_eq!(key_unit("tier.web.threads"), "threads");
        assert_eq!(key_unit("tier.web.instances"), "instances");
        assert_eq!(key_unit("tier.web.queue"), "places");
        assert_eq!(key_unit("source.api.rate"), "requests/s");
        assert_eq!(key_unit("source.people.users"), "users");
        assert_eq!(key_unit("slo.outage_below"), "share");
        assert_eq!(key_unit("tier.web.memory.limit"), "bytes");
        assert_eq!(key_unit("surge.peak"), "×");
        assert_eq!(key_unit("tier.web.contention"), "");
    }
}
