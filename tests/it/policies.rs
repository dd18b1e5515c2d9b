//! What a planner can change: autoscaling, operators' actions (add instances, shed load,
//! restart), retry budgets and backoff. Each test checks that the policy does what its keys say,
//! with numbers, and every run is checked for conservation and Little's law.

use crate::common::{column, run_model, run_model_keep};

/// Two instances of 10 threads (200 req/s) offered 300 req/s.
fn overloaded(extra: &str) -> String {
    format!(
        r#"
[scenario]
duration = "1h"
[[source]]
kind = "requests"
rate = 300
[[tier]]
name = "web"
instances = 2
threads = 10
service = {{ dist = "exponential", mean = "100ms" }}
{extra}
"#
    )
}

#[test]
fn autoscaling_adds_instances_up_to_the_target_and_no_further() {
    let (dir, s) = run_model_keep(
        &overloaded(
            "[tier.autoscale]\ntarget_utilization = 0.6\nmax_instances = 8\nprovision = \"2m\"\ncooldown = \"3m\"",
        ),
        &["--reps", "4"],
    );
    let up = column(dir.path(), "web.instances_up");
    // 300 req/s at 60% of 100 req/s per instance needs 5 instances; never more than 8.
    let last = *up.last().unwrap();
    assert!((5.0..=8.0).contains(&last), "instances at the end: {last}");
    assert!(up.iter().all(|&n| n <= 8.0));
    // The first new instances arrive after the first bucket plus the provisioning delay.
    assert_eq!(up[1], 2.0);
    assert!(up[3] > 2.0, "{:?}", &up[..6]);
    // Once scaled, the backlog is gone: the last quarter hour waits little.
    let p95 = column(dir.path(), "p95_s");
    assert!(p95[45..].iter().all(|&x| x < 0.5), "{:?}", &p95[45..]);
    assert!(
        s["requests"]["succeeded"].as_f64().unwrap() / s["requests"]["offered"].as_f64().unwrap()
            > 0.99
    );
}

#[test]
fn autoscaled_instances_are_reported_as_their_range_and_time_average() {
    // `tiers[].instances` is the count at the start (2); the autoscaler takes the tier to 5..8.
    let model = overloaded(
        "[tier.autoscale]\ntarget_utilization = 0.6\nmax_instances = 8\nprovision = \"2m\"\ncooldown = \"3m\"",
    );
    let (dir, s) = run_model_keep(&model, &[]);
    let t = &s["tiers"][0];
    assert_eq!(t["instances"], 2);
    assert_eq!(t["instances_min"], 2);
    let max = t["instances_max"].as_f64().unwrap();
    assert!((5.0..=8.0).contains(&max), "{t}");
    // The time-average is the instance-hours over the hour measured, between the two.
    let mean = t["instances_mean"].as_f64().unwrap();
    let hours = t["instance_hours"].as_f64().unwrap();
    assert!(
        (mean - hours / 1.0).abs() < 1e-9,
        "{mean} vs {hours} instance-hours in 1 h"
    );
    assert!(mean > 2.0 && mean < max, "{t}");
    // The terminal says the same.
    let o = crate::common::surge()
        .arg("run")
        .arg(dir.path().join("model.toml"))
        .args(["--out"])
        .arg(dir.path().join("again"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let again = crate::common::read_json(&dir.path().join("again").join("summary.json"));
    let (max, mean) = (
        again["tiers"][0]["instances_max"].as_f64().unwrap(),
        again["tiers"][0]["instances_mean"].as_f64().unwrap(),
    );
    let want = format!(
        "tier web: 2 to {max} instances (time-average {}; 2 at the start) x 10 threads",
        (mean * 10.0).round() / 10.0
    );
    assert!(text.contains(&want), "{want}\n{text}");
}

#[test]
fn an_operator_adds_instances_and_the_site_recovers() {
    // Without waiting room (queue 0) a third of the requests are refused: an outage once the SLO
    // says so. The operator adds three instances 20 minutes after it starts.
    let model = overloaded("queue = 0\n").replace(
        "[[tier]]",
        "[slo]\nsuccess_rate = 0.9\noutage_below = 0.9\nstable = \"10m\"\n[[operator]]\ndetect = \"10m\"\naction = \"add_instances\"\ninstances = 3\ndelay = \"10m\"\n\n[[tier]]",
    );
    let (dir, s) = run_model_keep(&model, &["--reps", "4"]);
    assert_eq!(s["outage"]["crashed"].as_f64(), Some(1.0));
    assert_eq!(s["outage"]["recovered"].as_f64(), Some(1.0));
    let up = column(dir.path(), "web.instances_up");
    assert_eq!(up[0], 2.0);
    assert_eq!(*up.last().unwrap(), 5.0);
    let back = s["outage"]["recovered_at_s"].as_f64().unwrap();
    let crash = s["outage"]["crash_time_s"].as_f64().unwrap();
    // Detected after 10 minutes, acted on 10 minutes later.
    assert!(
        back - crash >= 19.0 * 60.0 && back - crash <= 25.0 * 60.0,
        "crash {crash}, back {back}"
    );
}

#[test]
fn shedding_turns_away_the_share_it_is_told() {
    let model = overloaded("queue = 0\n").replace(
        "[[tier]]",
        "[slo]\noutage_below = 0.9\n[[operator]]\ndetect = \"5m\"\naction = \"shed_load\"\nfraction = 0.5\ndelay = \"0s\"\nfor = \"20m\"\n\n[[tier]]",
    );
    let (dir, _) = run_model_keep(&model, &[]);
    let offered = column(dir.path(), "offered");
    let rejected = column(dir.path(), "rejected");
    // Before shedding a third is refused (queue full); while shedding half is turned away at
    // the door and the servers, at 150 req/s of 200, refuse few of the rest.
    let share =
        |a: usize, b: usize| rejected[a..b].iter().sum::<f64>() / offered[a..b].iter().sum::<f64>();
    let before = share(1, 4);
    let during = share(10, 20);
    let after = share(35, 60);
    assert!((0.3..0.45).contains(&before), "before {before}");
    assert!((0.5..0.6).contains(&during), "during {during}");
    assert!(after > 0.3, "after {after}");
}

#[test]
fn a_retry_budget_caps_retries_at_its_share_of_successes() {
    // A backend that refuses most requests (1 thread, no queue, 10x overloaded), clients that
    // would retry up to 5 times: the budget lets through at most 0.1 retry per success (plus the
    // 10 tokens banked at the start).
    let model = r#"
[scenario]
duration = "10m"
[[source]]
kind = "requests"
rate = 100
[client.retry]
max_attempts = 5
backoff = "exponential"
base = "100ms"
cap = "2s"
jitter = "full"
budget = 0.1
[[tier]]
instances = 1
threads = 1
queue = 0
service = { dist = "exponential", mean = "100ms" }
"#;
    let s = run_model(model, &["--reps", "4"]);
    for r in s["replications"].as_array().unwrap() {
        let retries = r["requests"]["retries"].as_f64().unwrap();
        let ok = r["requests"]["succeeded"].as_f64().unwrap();
        assert!(
            retries <= 0.1 * ok + 10.0,
            "retries {retries}, successes {ok}"
        );
        assert!(
            retries > 0.05 * ok,
            "the budget is used: retries {retries}, successes {ok}"
        );
    }
    // Without the budget the same clients retry far more.
    let s = run_model(&model.replace("budget = 0.1\n", ""), &["--reps", "2"]);
    let r = &s["requests"];
    assert!(r["retries"].as_f64().unwrap() > 2.0 * r["succeeded"].as_f64().unwrap());
}

#[test]
fn a_restart_brings_back_what_is_down_and_leaves_healthy_instances_serving() {
    // The web tier runs out of memory, crashes and, at its second crash within 10 minutes, is
    // stopped by rapid-fail protection; the content tier behind it never crashes. An operator
    // restart that names no tier must bring the stopped web servers back without touching the
    // content servers, which keep all their instances up throughout.
    let model = r#"
[scenario]
duration = "1h"
bucket = "30s"
[[source]]
kind = "requests"
rate = 300
[[tier]]
name = "web"
instances = 2
threads = 10
queue = 100
service = { dist = "exponential", mean = "100ms" }
[tier.memory]
base = "100MiB"
per_request = "1MiB"
limit = "150MiB"
[tier.restart]
after = "30s"
max_crashes = 1
window = "10m"
[[tier]]
name = "content"
instances = 3
threads = 50
service = { dist = "exponential", mean = "10ms" }
[[operator]]
detect = "2m"
action = "restart"
delay = "3m"
"#;
    let (dir, s) = run_model_keep(model, &[]);
    let web = column(dir.path(), "web.instances_up");
    let content = column(dir.path(), "content.instances_up");
    assert!(
        content.iter().all(|&n| n == 3.0),
        "healthy content servers were taken down: {content:?}"
    );
    assert_eq!(s["tiers"][1]["crashes"].as_f64(), Some(0.0));
    // The web tier is stopped (no instance up at a bucket's end, nothing served in the bucket)
    // and the operator brings it back: a later bucket serves requests again. (The restarted
    // servers are overloaded at once and crash within the bucket, so `web.instances_up`,
    // sampled at each bucket's end, need not show them up: what they served shows it.)
    let served = column(dir.path(), "succeeded");
    let stopped = (0..web.len())
        .position(|i| web[i] == 0.0 && served[i] == 0.0)
        .expect("web never stopped");
    assert!(
        served[stopped..].iter().any(|&n| n > 0.0),
        "the stopped web servers never came back: {served:?}"
    );
    // Stopped at its second crash; every crash after that is a restarted server's.
    assert!(s["tiers"][0]["crashes"].as_f64().unwrap() >= 3.0);
}
