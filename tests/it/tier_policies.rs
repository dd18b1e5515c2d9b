//! A tier's policies: the adaptive concurrency limit (Netflix concurrency-limits' AIMD), the
//! balancer's outlier detection (Envoy's consecutive 5xx) and autoscaling that scales in, with
//! what capacity costs. Each test checks what the keys promise against numbers known exactly or
//! bounds that follow from the definitions; every run is checked for conservation and Little's
//! law (`common::check_invariants`).

use serde_json::Value;

use crate::common::{
    assert_bad_input, column, compare_in_temp, read_json, run_model, run_model_keep, variant,
    write_file,
};

/// One instance of `threads` threads, service exponential with mean `service`, Poisson arrivals.
fn one_instance(rate: f64, threads: u32, service: &str, extra: &str) -> String {
    format!(
        r#"
[scenario]
duration = "1h"
bucket = "1m"
seed = 5
[[source]]
kind = "requests"
rate = {rate}
[[tier]]
name = "server"
instances = 1
threads = {threads}
service = {{ dist = "exponential", mean = "{service}" }}
{extra}
"#
    )
}

#[test]
fn aimd_keeps_latency_near_its_timeout_under_twice_the_load_where_the_queue_grows_without_bound() {
    // 10 threads of 1 s mean service (10 req/s) offered 20 req/s.
    let (plain_dir, plain) = run_model_keep(&one_instance(20.0, 10, "1s", ""), &[]);
    let (dir, aimd) = run_model_keep(
        &one_instance(
            20.0,
            10,
            "1s",
            "[tier.concurrency_limit]\nalgorithm = \"aimd\"",
        ),
        &[],
    );
    // Without a limit the queue grows by about 10 requests a second all hour.
    let queued = column(plain_dir.path(), "server.queued");
    let last = *queued.last().unwrap();
    assert!(last > 0.8 * 10.0 * 3540.0, "queue at the end: {last}");
    let p95_plain = plain["latency_s"]["p95"].as_f64().unwrap();
    assert!(p95_plain > 600.0, "p95 without a limit: {p95_plain} s");
    // With AIMD (timeout 5 s, the default) a response over 5 s cuts the limit by 10%, so
    // admitted requests wait about the timeout: p95 within a few service times.
    let p95 = aimd["latency_s"]["p95"].as_f64().unwrap();
    assert!(
        p95 < 10.0,
        "p95 with AIMD: {p95} s (service 1 s, timeout 5 s)"
    );
    let by_bucket = column(dir.path(), "p95_s");
    assert!(
        by_bucket[5..].iter().all(|&x| x < 12.0),
        "p95 per bucket with AIMD: {by_bucket:?}"
    );
    // The threads stay busy: the limit sheds only the excess (about half the load).
    let tier = &aimd["tiers"][0];
    assert!(tier["utilization"].as_f64().unwrap() > 0.95, "{tier}");
    let offered = aimd["requests"]["offered"].as_f64().unwrap();
    let limited = tier["limited"].as_f64().unwrap();
    assert!(
        (0.4..0.6).contains(&(limited / offered)),
        "limited {limited} of {offered}"
    );
    // Every limit turned away is a rejection, counted once.
    assert_eq!(
        aimd["requests"]["rejected"].as_u64(),
        tier["limited"].as_u64()
    );
    // The limit column: within the library's [20, 200], and near where responses take about the
    // timeout: c + c x (5 s - 1 s) / 1 s = 50 in the instance.
    let limit = column(dir.path(), "server.concurrency_limit");
    assert_eq!(limit.len(), 60);
    assert!(
        limit.iter().all(|&l| (20.0..=200.0).contains(&l)),
        "{limit:?}"
    );
    let mean = limit[10..].iter().sum::<f64>() / 50.0;
    assert!((35.0..70.0).contains(&mean), "mean limit {mean}: {limit:?}");
    // No column for tiers without a limit.
    let header = std::fs::read_to_string(plain_dir.path().join("out/timeseries.csv")).unwrap();
    assert!(!header.lines().next().unwrap().contains("concurrency_limit"));
}

#[test]
fn gradient2_and_vegas_stay_within_their_bounds_and_shed_the_excess() {
    for (algorithm, max) in [("gradient2", 200.0), ("vegas", 1000.0)] {
        let (dir, s) = run_model_keep(
            &one_instance(
                20.0,
                10,
                "1s",
                &format!("[tier.concurrency_limit]\nalgorithm = \"{algorithm}\""),
            ),
            &[],
        );
        let limit = column(dir.path(), "server.concurrency_limit");
        let min = if algorithm == "vegas" { 1.0 } else { 20.0 };
        assert!(
            limit.iter().all(|&l| (min..=max).contains(&l)),
            "{algorithm}: {limit:?}"
        );
        let limited = s["tiers"][0]["limited"].as_u64().unwrap();
        assert!(limited > 0, "{algorithm} turned nothing away");
        eprintln!(
            "{algorithm}: p95 {} s, limited {limited} of {}, mean limit {:.1}",
            s["latency_s"]["p95"],
            s["requests"]["offered"],
            limit.iter().sum::<f64>() / limit.len() as f64
        );
    }
}

/// `instances` instances that crash on every request they take (memory), restart once after a
/// second, and stay down after their second crash (rapid-fail protection), with outlier
/// detection and no health checks: the balancer keeps sending to them and every response is a
/// 5xx (the crash, or the connection refused).
fn all_down(instances: u32, outlier: &str) -> String {
    format!(
        r#"
[scenario]
duration = "1h"
bucket = "1m"
seed = 3
[[source]]
kind = "requests"
rate = 100
[[tier]]
name = "web"
instances = {instances}
threads = 4
service = {{ dist = "exponential", mean = "50ms" }}
[tier.memory]
limit = "1KiB"
per_request = "2KiB"
[tier.restart]
after = "1s"
max_crashes = 1
window = "1h"
[tier.outlier_detection]
{outlier}
"#
    )
}

#[test]
fn outlier_detection_ejects_for_base_times_n_and_counts_every_ejection() {
    // Every instance may be ejected. Each one is ejected after 5 refusals for 30 s x n (n its
    // ejections so far; no full 10 s interval in rotation between two, so no decay), capped at
    // 300 s: 30 + 60 + ... + 300 = 1650 s for the first ten, then 300 s each. Re-ejection takes
    // a fraction of a second (5 requests), so in the hour each instance begins exactly 17
    // ejections (the 17th at about 1650 + 6 x 300 = 3450 s, the 18th would be at 3750 s).
    let (dir, s) = run_model_keep(&all_down(10, "max_ejection_percent = 100"), &[]);
    assert_eq!(s["tiers"][0]["crashes"].as_u64(), Some(20));
    assert_eq!(s["tiers"][0]["ejections"].as_u64(), Some(10 * 17), "{s}");
    let ejected = column(dir.path(), "web.ejected");
    assert!(ejected.iter().all(|&e| e <= 10.0));
    assert!(ejected[1..].iter().filter(|&&e| e == 10.0).count() > 50);
    // The rotation column counts instances the balancer may send to: none, mostly.
    let rotation = column(dir.path(), "web.in_rotation");
    for (r, e) in rotation.iter().zip(&ejected) {
        assert_eq!(r + e, 10.0);
    }
}

#[test]
fn outlier_detection_never_ejects_more_than_its_share() {
    // 20 instances, default 10%: two at most, and two at nearly every bucket end once under
    // way (a bucket end may fall in the fraction of a second between one ejection's end and
    // the next instance's fifth error).
    let (dir, s) = run_model_keep(&all_down(20, ""), &[]);
    let ejected = column(dir.path(), "web.ejected");
    assert!(ejected.iter().all(|&e| e <= 2.0), "{ejected:?}");
    assert!(
        ejected[1..].iter().filter(|&&e| e == 2.0).count() >= 50,
        "{ejected:?}"
    );
    assert!(s["tiers"][0]["ejections"].as_u64().unwrap() > 2);
    // Fewer than 10 instances at 10%: Envoy ejects none unless `always_eject_one_host`.
    let none = run_model(&all_down(9, ""), &[]);
    assert_eq!(none["tiers"][0]["ejections"].as_u64(), Some(0));
    let (dir, one) = run_model_keep(&all_down(9, "always_eject_one_host = true"), &[]);
    let ejected = column(dir.path(), "web.ejected");
    assert!(ejected.iter().all(|&e| e <= 1.0), "{ejected:?}");
    assert!(one["tiers"][0]["ejections"].as_u64().unwrap() > 1);
}

/// A tier of `instances` instances that scales in, with almost no load (deterministic: every
/// bucket is quiet).
fn idle_tier(instances: u32, autoscale: &str) -> String {
    format!(
        r#"
[scenario]
duration = "1h"
bucket = "1m"
[[source]]
kind = "requests"
rate = 0.001
[[tier]]
name = "web"
instances = {instances}
threads = 10
service = {{ dist = "exponential", mean = "10ms" }}
cost_per_instance_hour = 0.25
[tier.autoscale]
target_utilization = 0.7
max_instances = 10
{autoscale}
"#
    )
}

#[test]
fn scale_in_removes_one_instance_per_quiet_period_down_to_the_minimum_and_bills_exactly() {
    let (dir, s) = run_model_keep(
        &idle_tier(
            6,
            "scale_in_below = 0.3\nmin_instances = 2\nscale_in_after = \"5m\"",
        ),
        &[],
    );
    // Quiet from t = 0: one instance removed at 5, 10, 15 and 20 minutes, then the minimum.
    let hours = (6.0 * 300.0 + 5.0 * 300.0 + 4.0 * 300.0 + 3.0 * 300.0 + 2.0 * 2400.0) / 3600.0;
    let tier = &s["tiers"][0];
    let got = tier["instance_hours"].as_f64().unwrap();
    assert!((got - hours).abs() < 1e-9, "{got} != {hours}");
    assert!((tier["cost"].as_f64().unwrap() - 0.25 * hours).abs() < 1e-9);
    // The same integral from the time series: instances up through each one-minute bucket.
    let up = column(dir.path(), "web.instances_up");
    let from_series = up.iter().sum::<f64>() * 60.0 / 3600.0;
    assert!((from_series - hours).abs() < 1e-9, "{from_series}");
    assert!(up.iter().all(|&n| n >= 2.0));
    assert_eq!(&up[..6], &[6.0, 6.0, 6.0, 6.0, 6.0, 5.0]);
    assert_eq!(*up.last().unwrap(), 2.0);
}

#[test]
fn instance_hours_are_always_reported_and_cost_only_with_a_price() {
    // No scale-in keys: the tier keeps its instances; 30 minutes of warm-up are not measured.
    let model = idle_tier(3, "")
        .replace("cost_per_instance_hour = 0.25\n", "")
        .replace("bucket = \"1m\"", "bucket = \"1m\"\nwarmup = \"30m\"");
    let s = run_model(&model, &[]);
    let tier = &s["tiers"][0];
    assert!((tier["instance_hours"].as_f64().unwrap() - 1.5).abs() < 1e-9);
    assert!(tier.get("cost").is_none(), "{tier}");
    assert!(tier.get("ejections").is_none() && tier.get("limited").is_none());
}

#[test]
fn scale_in_follows_the_load_down_and_stops_at_the_minimum() {
    // 300 req/s for 20 minutes, then 30 req/s: out to about five instances, then back in.
    let model = r#"
[scenario]
duration = "2h"
bucket = "1m"
[[source]]
kind = "requests"
rate = 300
profile = [["0s", 1.0], ["20m", 1.0], ["21m", 0.1]]
[[tier]]
name = "web"
instances = 2
threads = 10
service = { dist = "exponential", mean = "100ms" }
[tier.autoscale]
target_utilization = 0.6
max_instances = 8
provision = "2m"
scale_in_below = 0.2
min_instances = 2
scale_in_after = "5m"
"#;
    let (dir, s) = run_model_keep(model, &["--reps", "3"]);
    let up = column(dir.path(), "web.instances_up");
    let peak = up.iter().cloned().fold(0.0, f64::max);
    assert!(peak >= 5.0, "{up:?}");
    // 30 req/s is 3 busy threads: utilisation 3 / (10 n) is under 0.2 for n >= 2, so it scales
    // in to the minimum, and never under it.
    assert!(up.iter().all(|&n| n >= 2.0), "{up:?}");
    assert_eq!(*up.last().unwrap(), 2.0, "{up:?}");
    // Instance-hours: between the minimum's and the peak's for two hours.
    let hours = s["tiers"][0]["instance_hours"].as_f64().unwrap();
    assert!(hours > 4.0 && hours < peak * 2.0, "{hours}");
}

#[test]
fn bad_policy_keys_exit_2_naming_the_key_path() {
    let tier = "[scenario]\nduration = \"10m\"\n[[source]]\nkind = \"requests\"\nrate = 5\n\
                [[tier]]\nname = \"web\"\ninstances = 2\nthreads = 2\n\
                service = { dist = \"exponential\", mean = \"100ms\" }\n";
    let autoscale = "[tier.autoscale]\ntarget_utilization = 0.6\nmax_instances = 4\n";
    let cases = [
        (
            "[tier.concurrency_limit]\nalgorithm = \"bbr\"".to_string(),
            "tier.web.concurrency_limit.algorithm",
            "expected one of `aimd`, `gradient2`, `vegas`",
        ),
        (
            "[tier.concurrency_limit]\nalgorithm = \"vegas\"\nbackoff_ratio = 0.8".into(),
            "tier.web.concurrency_limit.backoff_ratio",
            "does not apply to algorithm = \"vegas\"",
        ),
        (
            "[tier.concurrency_limit]\nalgorithm = \"aimd\"\ninitial_limit = 5".into(),
            "tier.web.concurrency_limit.initial_limit",
            "must lie within [min_limit, max_limit] = [20, 200]",
        ),
        (
            "[tier.concurrency_limit]\nalgorithm = \"aimd\"\nbackoff_ratio = 0.3".into(),
            "tier.web.concurrency_limit.backoff_ratio",
            "in [0.5, 1)",
        ),
        (
            "[tier.outlier_detection]\nconsecutive_500 = 3".into(),
            "tier.web.outlier_detection.consecutive_500",
            "did you mean `consecutive_5xx`?",
        ),
        (
            "[tier.outlier_detection]\nmax_ejection_percent = 150".into(),
            "tier.web.outlier_detection.max_ejection_percent",
            "at most 100",
        ),
        (
            format!("{autoscale}scale_in_below = 0.7"),
            "tier.web.autoscale.scale_in_below",
            "must be under target_utilization (0.6)",
        ),
        (
            format!("{autoscale}scale_in_below = 0.2\nmin_instances = 3"),
            "tier.web.autoscale.min_instances",
            "min_instances (3) is above the starting instances (2)",
        ),
        (
            format!("{autoscale}min_instances = 1"),
            "tier.web.autoscale.min_instances",
            "needs `scale_in_below`",
        ),
        (
            "cost_per_instance_hour = -1".into(),
            "tier.web.cost_per_instance_hour",
            "at least 0",
        ),
    ];
    for (extra, key, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("model.toml");
        std::fs::write(&file, format!("{tier}{extra}\n")).unwrap();
        let out = crate::common::run_output(&file, dir.path(), &[]);
        let stderr = crate::common::refused(&out, &extra);
        assert!(
            stderr.contains(&format!("at key `{key}`")),
            "{extra}: {stderr}"
        );
        assert!(stderr.contains(expect), "{extra}: {stderr}");
        assert!(!dir.path().join("out").exists(), "{extra}: output written");
    }
}

#[test]
fn unset_turns_the_autoscaler_off_on_the_command_line_and_in_a_variant() {
    let model = idle_tier(
        6,
        "scale_in_below = 0.3\nmin_instances = 2\nscale_in_after = \"5m\"",
    );
    // Without its autoscaler the tier keeps its 6 instances the whole hour: 6 instance-hours.
    let (dir, s) = run_model_keep(&model, &["--unset", "tier.web.autoscale"]);
    let tier = &s["tiers"][0];
    assert!(
        (tier["instance_hours"].as_f64().unwrap() - 6.0).abs() < 1e-9,
        "{tier}"
    );
    // With it, the tier scales in (the test above: 2.92 instance-hours).
    assert!(
        run_model(&model, &[])["tiers"][0]["instance_hours"]
            .as_f64()
            .unwrap()
            < 3.0
    );
    assert!(
        column(dir.path(), "web.instances_up")
            .iter()
            .all(|&n| n == 6.0)
    );
    // Applied before the --set: the autoscaler is gone and the set holds.
    let s = run_model(
        &model,
        &[
            "--set",
            "tier.web.instances=3",
            "--unset",
            "tier.web.autoscale",
        ],
    );
    assert!((s["tiers"][0]["instance_hours"].as_f64().unwrap() - 3.0).abs() < 1e-9);
    // The same as a compare variant, declared and on the command line.
    let declared =
        format!("{model}\n[[variant]]\nname = \"fixed\"\nunset = [\"tier.web.autoscale\"]\n");
    let c = compare_in_temp(
        &declared,
        &["--reps", "1", "--variant", "bare:unset tier.web.autoscale"],
    );
    let doc = read_json(&c.out.join("compare.json"));
    // The model's own variants are replaced by --variant; the declared one is run next.
    assert!((hours_of(&doc, "bare") - 6.0).abs() < 1e-9);
    assert!(hours_of(&doc, "baseline") < 6.0);
    let c = compare_in_temp(&declared, &["--reps", "1"]);
    let doc = read_json(&c.out.join("compare.json"));
    assert!((hours_of(&doc, "fixed") - 6.0).abs() < 1e-9);
    // A key that is not there is refused, naming the flag.
    let dir2 = tempfile::tempdir().unwrap();
    let file = write_file(dir2.path(), "m.toml", &model);
    let o = crate::common::check_output(&file, &["--unset", "tier.web.autoscal"]);
    assert_bad_input(
        &o,
        &[
            "(in --unset tier.web.autoscal)",
            "no `autoscal` here to unset",
        ],
    );
}

fn hours_of(doc: &Value, name: &str) -> f64 {
    variant(doc, name)["replications"][0]["tiers"][0]["instance_hours"]
        .as_f64()
        .unwrap()
}
