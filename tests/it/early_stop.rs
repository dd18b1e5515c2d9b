//! Runs that stop as soon as their yes/no answer is known (`Limits::until`): the answer is the
//! one the full run gives, the run ends right where its first outage (or SLO breach) is known,
//! and its outputs say it was stopped there.

use std::path::Path;

use surge::experiment::guard::{EndedBy, Limits, Until};
use surge::experiment::{run_bounded, run_once};
use surge::metrics::TimeSeries;
use surge::model::{Model, parse_text};

/// A tier of `instances` servers (100 req/s each) that run out of memory with 60 requests in
/// them, offered 250 req/s with a surge to `peak` times that from minute 10: few instances
/// crash early, many never do, and in between the surge decides.
fn model(instances: u32, peak: f64) -> Model {
    let text = format!(
        r#"
[scenario]
duration = "40m"
bucket = "30s"
warmup = "2m"
[surge]
peak = {peak}
start = "10m"
ramp = "5m"
hold = "10m"
decay = "5m"
[[source]]
kind = "requests"
rate = 250
[client]
timeout = "10s"
[[tier]]
name = "web"
instances = {instances}
threads = 10
queue = 100
service = {{ dist = "exponential", mean = "100ms" }}
[tier.memory]
base = "100MiB"
per_request = "1MiB"
limit = "160MiB"
[tier.restart]
after = "1m"
[slo]
window = "2m"
latency = "500ms"
"#
    );
    parse_text(&text, "early.toml", Path::new(".")).unwrap()
}

/// End of the first window, past the warm-up, that breaks the SLO (the full run's answer).
fn first_breach_end(model: &Model, s: &TimeSeries) -> Option<f64> {
    let slo = &model.slo;
    (0..s.len()).find_map(|i| {
        let end = (i + 1) as f64 * s.bucket_s;
        let (r, p95) = (s.window_success_rate[i], s.window_p95_s[i]);
        let holds = (r.is_nan() || r >= slo.success_rate) && (p95.is_nan() || p95 <= slo.latency_s);
        (end > model.scenario.warmup_s + 1e-9 && !holds).then_some(end)
    })
}

#[test]
fn stopping_at_the_first_outage_gives_the_full_runs_answer() {
    let (mut crashed, mut healthy) = (0, 0);
    for instances in [2, 3, 4, 6] {
        for seed in 1..=3 {
            let m = model(instances, 1.5);
            let full = run_once(&m, seed).summary;
            let out = run_bounded(&m, seed, &Limits::until(Until::FirstOutage));
            let early = &out.summary;
            assert_eq!(
                early.outage.crashed, full.outage.crashed,
                "{instances} instances, seed {seed}"
            );
            if !full.outage.crashed {
                healthy += 1;
                // Nothing to stop for: the same run, to the byte.
                assert!(!early.partial && early.ended_by.is_none());
                assert_eq!(early.requests, full.requests);
                continue;
            }
            crashed += 1;
            let crash = full.outage.crash_time_s.unwrap();
            assert_eq!(early.outage.crash_time_s, Some(crash));
            assert!(early.partial);
            assert_eq!(early.ended_by, Some(EndedBy::FirstOutage));
            // The run ends with the first down window: its centre stands for the crash, so it
            // ends half a window and half a bucket after it.
            let until = early.simulated_until_s.unwrap();
            assert!(
                (until - (crash + 60.0 + 15.0)).abs() < 1e-6,
                "stopped at {until} s, crash at {crash} s"
            );
            assert_eq!(early.sim_time_s, until);
            // The time series covers what was simulated, and it is the full run's beginning.
            assert_eq!(out.series.len() as f64 * 30.0, until);
            let full_series = run_once(&m, seed).series;
            assert_eq!(
                out.series.succeeded[..],
                full_series.succeeded[..out.series.len()]
            );
            assert!(early.events < full.events);
        }
    }
    // The cases cover both answers.
    assert!(
        crashed >= 3 && healthy >= 3,
        "{crashed} crashed, {healthy} healthy"
    );
}

#[test]
fn stopping_at_the_first_slo_breach_gives_the_full_runs_answer() {
    let mut breached = 0;
    for (instances, peak) in [(3, 1.0), (4, 1.5), (6, 1.5), (6, 2.5)] {
        for seed in 1..=2 {
            let m = model(instances, peak);
            let full = run_once(&m, seed);
            let out = run_bounded(&m, seed, &Limits::until(Until::FirstSloBreach));
            match first_breach_end(&m, &full.series) {
                Some(end) => {
                    breached += 1;
                    assert_eq!(out.summary.ended_by, Some(EndedBy::FirstSloBreach));
                    assert_eq!(out.summary.simulated_until_s, Some(end));
                    assert_eq!(first_breach_end(&m, &out.series), Some(end));
                }
                None => {
                    assert!(!out.summary.partial);
                    assert_eq!(first_breach_end(&m, &out.series), None);
                }
            }
        }
    }
    assert!((2..8).contains(&breached), "{breached} of 8 broke the SLO");
}
