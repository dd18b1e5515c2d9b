//! The columns of each tier in points.csv, compare.csv and the tables (one `TierMetric` per
//! column, in column order). Not the columns of the whole run (`table.rs`).

use super::{INSTANCE_HOURS, TierMetric, count, optional_tier, tier};

/// The metrics of each tier, in column order.
pub(crate) const TIER: &[TierMetric] = &[
    optional_tier("arrivals", "attempts arrived", "attempts", |t| {
        t.arrivals.map(|n| n as f64)
    }),
    optional_tier(
        "attempts_per_call",
        "attempts arrived per call made",
        "attempts per call",
        |t| t.attempts_per_call,
    ),
    tier(
        "blocking_probability",
        "blocking probability",
        "",
        true,
        |t| t.blocking_probability,
    ),
    optional_tier("cost", "cost", "currency units", |t| t.cost),
    tier("crashes", "instance crashes", "crashes", false, |t| {
        count(t.crashes)
    }),
    tier("departures_per_s", "departures", "req/s", false, |t| {
        Some(t.departures_per_s)
    }),
    tier(
        "first_crash_s",
        "time of the first crash",
        "s",
        false,
        |t| t.first_crash_s,
    ),
    tier(
        "in_tier_at_end",
        "requests in the tier at the end",
        "requests",
        false,
        |t| count(t.in_tier_at_end),
    ),
    tier(
        INSTANCE_HOURS,
        "instance-hours",
        "instance-hours",
        false,
        |t| Some(t.instance_hours),
    ),
    tier("instances", "instances", "instances", false, |t| {
        Some(f64::from(t.instances))
    }),
    tier(
        "mean_busy_threads",
        "mean busy threads",
        "threads",
        false,
        |t| Some(t.mean_busy_threads),
    ),
    tier(
        "mean_in_system",
        "mean requests in the tier",
        "requests",
        false,
        |t| Some(t.mean_in_system),
    ),
    tier("mean_queue_wait_s", "mean queue wait", "s", false, |t| {
        t.mean_queue_wait_s
    }),
    tier(
        "mean_queued",
        "mean requests queued",
        "requests",
        false,
        |t| Some(t.mean_queued),
    ),
    tier("mean_response_s", "mean response time", "s", false, |t| {
        t.mean_response_s
    }),
    tier(
        "mean_time_in_tier_s",
        "mean time in the tier",
        "s",
        false,
        |t| t.mean_time_in_tier_s,
    ),
    tier("prob_wait", "probability of waiting", "", true, |t| {
        t.prob_wait
    }),
    optional_tier("retries", "retries of its caller", "attempts", |t| {
        t.retries.map(|n| n as f64)
    }),
    tier("threads", "threads per instance", "threads", false, |t| {
        Some(f64::from(t.threads))
    }),
    tier("throughput_per_s", "throughput", "req/s", false, |t| {
        Some(t.throughput_per_s)
    }),
    tier(
        "time_in_tier_s",
        "time spent in the tier",
        "s",
        false,
        |t| Some(t.time_in_tier_s),
    ),
    tier("utilization", "utilisation", "", true, |t| {
        Some(t.utilization)
    }),
    tier("wait_p50_s", "p50 queue wait", "s", false, |t| t.wait_p50_s),
    tier("wait_p90_s", "p90 queue wait", "s", false, |t| t.wait_p90_s),
    tier("wait_p99_s", "p99 queue wait", "s", false, |t| t.wait_p99_s),
];
