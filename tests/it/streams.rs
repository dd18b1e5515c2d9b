//! Random streams stay aligned when capacity changes: every source and every purpose draws from
//! its own stream, so a run with one more instance sees the same arrivals (and, where nothing
//! depends on the extra instance, the same everything else) for the same seed.

use std::path::Path;
use surge::experiment::run_once;
use surge::metrics::TimeSeries;
use surge::model::{Model, parse_text};

fn parse(text: &str) -> Model {
    parse_text(text, "streams.toml", Path::new(".")).unwrap()
}

fn series(text: &str, seed: u64) -> TimeSeries {
    run_once(&parse(text), seed).series
}

/// An open source (no retries, no users: nothing the site does feeds back into arrivals) with a
/// surge, on a tier small enough to turn requests away: capacity changes the outcomes only.
fn open_model(instances: u32) -> String {
    format!(
        r#"
[scenario]
duration = "30m"
bucket = "1m"
[surge]
peak = 3.0
start = "5m"
ramp = "5m"
hold = "10m"
decay = "5m"
[[source]]
kind = "requests"
rate = 300
profile = [["0m", 1.0], ["15m", 0.7], ["30m", 1.0]]
[client]
timeout = "5s"
patience = {{ dist = "exponential", mean = "2s" }}
[[tier]]
name = "web"
instances = {instances}
threads = 4
queue = 20
service = {{ dist = "lognormal", mean = "100ms", cv = 1.0 }}
balancer = "power_of_two"
[[tier]]
name = "db"
instances = 2
threads = 8
visit = 0.5
service = {{ dist = "exponential", mean = "20ms" }}
balancer = "random"
"#
    )
}

#[test]
fn one_more_instance_leaves_the_arrivals_of_an_open_source_unchanged() {
    for seed in [1, 2016] {
        let (a, b) = (series(&open_model(10), seed), series(&open_model(11), seed));
        assert_eq!(a.len(), b.len());
        assert_eq!(
            a.first_attempts, b.first_attempts,
            "seed {seed}: arrivals per bucket moved with the instance count"
        );
        assert_eq!(a.offered, b.offered);
        // The change did reach the site: fewer requests turned away with 11 instances.
        let lost =
            |s: &TimeSeries| s.rejected.iter().sum::<f64>() + s.timed_out.iter().sum::<f64>();
        assert!(
            lost(&a) > 0.0,
            "seed {seed}: the small site never turned anyone away"
        );
        assert!(
            lost(&b) < lost(&a),
            "seed {seed}: 11 instances lost no fewer requests"
        );
    }
}

/// Users on a site with room to spare and no contention: every request takes the same time
/// whichever instance serves it, so one instance more changes nothing at all, provided the
/// balancer's draws (random: one per request with two instances, none with one) are nobody
/// else's (the second tier's visits, the users' pages and think times).
fn roomy_model(instances: u32) -> String {
    format!(
        r#"
[scenario]
duration = "20m"
bucket = "1m"
[[source]]
kind = "users"
users = 300
pages = {{ dist = "geometric", mean = 4 }}
think = {{ dist = "exponential", mean = "5s" }}
[[tier]]
name = "web"
instances = {instances}
threads = 200
service = {{ dist = "lognormal", mean = "80ms", cv = 1.0 }}
balancer = "random"
[[tier]]
name = "db"
instances = 1
threads = 200
visit = 0.5
service = {{ dist = "exponential", mean = "40ms" }}
"#
    )
}

#[test]
fn where_capacity_does_not_matter_one_more_instance_changes_nothing() {
    let (a, b) = (series(&roomy_model(1), 7), series(&roomy_model(2), 7));
    assert!(a.offered.iter().sum::<f64>() > 10_000.0);
    assert_eq!(a.offered, b.offered, "pages asked per bucket");
    assert_eq!(a.succeeded, b.succeeded);
    assert_eq!(a.users, b.users, "users on the site");
    assert_eq!(a.p50_s, b.p50_s, "median latency per bucket");
    assert_eq!(a.p99_s, b.p99_s);
    assert_eq!(a.tiers[1].busy_threads, b.tiers[1].busy_threads);
}
