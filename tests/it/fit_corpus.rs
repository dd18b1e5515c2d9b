//! `surge fit` on the second size of each format in tests/fit-data/real/ (the README there has
//! each file's source, licence and facts), and the round trip of every file in the corpus:
//! each figure asserted here was computed independently of surge (Python's `re`, `csv`,
//! `datetime` over the same bytes), or is the tool's own summary of the same run (Locust's
//! `Total Average Response Time`, its `locust_stats.csv`). The two real k6 files and the two
//! real vegeta files found hold 4 requests each: they are read, and refused as too few to fit.

use crate::common::{close, num, repo_file, run_file, surge};
use serde_json::Value;
use std::path::Path;

/// `surge fit FILE EXTRA --out DIR/fit`: fit.json and model.toml (the command must succeed).
fn fit_in(dir: &Path, name: &str, extra: &[&str]) -> (Value, String) {
    let out = dir.join("fit");
    let (json, model, _) =
        crate::fit_common::fit_model(&[&crate::fit_common::real(name)], extra, &out);
    (json, model)
}

/// The round trip `fit` ran on its own model holds (success within 5 points, p95 within 25%).
fn round_trip_holds(f: &Value, name: &str) {
    let rt = &f["round_trip"];
    assert_eq!(rt["within"], true, "{name}: {rt}");
    assert!(
        num(f, "round_trip.success_points").abs() <= 5.0,
        "{name}: {rt}"
    );
}

/// The fit of one of the reality check's nginx logs with `--threads 4`: `lines` read, `failed`
/// requests, the data's p95 as Python reads it, the app's 100 ms service found and no
/// significant contention. Returns fit.json and model.toml.
fn reality_fit(dir: &Path, name: &str, lines: f64, failed: f64, data_p95: f64) -> (Value, String) {
    let (f, model) = fit_in(dir, name, &["--threads", "4"]);
    assert_eq!(num(&f, "lines.read"), lines);
    assert_eq!(num(&f, "requests.failed"), failed);
    close(num(&f, "round_trip.data.p95_s"), data_p95, 1e-9, "data p95");
    close(
        num(&f, "service.mean_s"),
        0.100,
        0.005,
        "service mean (the app's 100 ms)",
    );
    assert_ne!(
        f["contention"]["verdict"], "significant",
        "{}",
        f["contention"]
    );
    (f, model)
}

#[test]
fn nasa_kennedy_1880_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (f, _) = fit_in(dir.path(), "nasa-kennedy-aug95-clf-1880.log", &[]);
    assert_eq!(num(&f, "lines.read"), 1880.0);
    assert_eq!(num(&f, "lines.skipped"), 0.0);
    assert_eq!(num(&f, "requests.total"), 1880.0);
    // 1 status 403 and 5 status 404
    assert_eq!(num(&f, "requests.failed"), 6.0);
    assert_eq!(num(&f, "status_codes.403"), 1.0);
    assert_eq!(num(&f, "status_codes.404"), 5.0);
    close(num(&f, "arrivals.first_s"), 807249601.0, 1e-6, "first");
    close(num(&f, "arrivals.last_s"), 807253944.0, 1e-6, "last");
    // 4,344 whole seconds from the first request's to the end of the last's
    close(
        num(&f, "arrivals.mean_rate_per_s"),
        1880.0 / 4344.0,
        1e-12,
        "rate",
    );
    // 177 hosts, 30 min gap: 179 sessions with a page, 5 with images only
    assert_eq!(num(&f, "sessions.sessions"), 179.0);
    assert_eq!(num(&f, "sessions.asset_only_visits"), 5.0);
    assert_eq!(num(&f, "sessions.page_views"), 751.0);
    assert_eq!(num(&f, "sessions.assets"), 1129.0);
    // the data's success: 1,874 of 1,880
    close(
        num(&f, "round_trip.data.success_rate"),
        1874.0 / 1880.0,
        1e-12,
        "success",
    );
    round_trip_holds(&f, "nasa 1880");
    // the model runs: a requests source holding the 1,880 requests, offered within the
    // Poisson error (s.d. 43)
    let s = run_file(&dir.path().join("fit/model.toml"), dir.path(), &[]);
    let offered = num(&s, "requests.offered");
    assert!((offered - 1880.0).abs() < 4.0 * 1880f64.sqrt(), "{offered}");
}

#[test]
fn semicomplete_2822_lines_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let (f, model) = fit_in(dir.path(), "semicomplete-combined-2822.log", &[]);
    assert_eq!(num(&f, "lines.read"), 2822.0);
    assert_eq!(num(&f, "lines.skipped"), 0.0);
    assert_eq!(num(&f, "requests.total"), 2822.0);
    // 53 status 404 and 1 status 500
    assert_eq!(num(&f, "requests.failed"), 54.0);
    assert_eq!(num(&f, "status_codes.500"), 1.0);
    close(num(&f, "arrivals.first_s"), 1431857100.0, 1e-6, "first");
    close(num(&f, "arrivals.last_s"), 1431939959.0, 1e-6, "last");
    close(
        num(&f, "arrivals.mean_rate_per_s"),
        2822.0 / 82860.0,
        1e-12,
        "rate",
    );
    // 577 clients (address and user agent) over 23 h: 767 sessions with a page, 168 with
    // assets only; most sessions whole within the day, so the model is a users source
    assert_eq!(num(&f, "sessions.sessions"), 767.0);
    assert_eq!(num(&f, "sessions.asset_only_visits"), 168.0);
    assert_eq!(num(&f, "sessions.page_views"), 1440.0);
    assert_eq!(num(&f, "sessions.assets"), 1382.0);
    assert_eq!(f["model_source"]["kind"], "users");
    assert!(model.contains("kind = \"users\""), "{model}");
    round_trip_holds(&f, "semicomplete 2822");
    run_file(&dir.path().join("fit/model.toml"), dir.path(), &[]);
}

#[test]
fn jmeter_csv_112_threads_taurus() {
    // the file of issue 24: 599 samples in 8 s by 112 threads, a model with 17 threads then
    let dir = tempfile::tempdir().unwrap();
    let (f, model) = fit_in(dir.path(), "jmeter-taurus-slow-stdev.csv", &[]);
    assert_eq!(num(&f, "requests.total"), 599.0);
    // 61 with responseCode 500, 2 with 200 and success=false
    assert_eq!(num(&f, "requests.failed"), 63.0);
    close(num(&f, "arrivals.first_s"), 1532376558.104, 1e-6, "first");
    close(num(&f, "arrivals.last_s"), 1532376565.129, 1e-6, "last");
    close(
        num(&f, "service.observed.mean_s"),
        0.852_992_537_313_432_9,
        1e-12,
        "mean elapsed of the 536 successes",
    );
    close(num(&f, "service.observed.p95_s"), 2.691, 1e-12, "p95");
    assert_eq!(num(&f, "closed.users"), 112.0);
    assert!(model.contains("population = \"closed\""), "{model}");
    // Little's law: 481.836 s of elapsed over the 8 whole seconds; threads never fewer
    close(
        num(&f, "capacity.in_progress_whole_span"),
        481.836 / 8.0,
        1e-9,
        "in progress",
    );
    assert!(num(&f, "capacity.threads") >= 481.836 / 8.0);
    round_trip_holds(&f, "slow-stdev");
    run_file(&dir.path().join("fit/model.toml"), dir.path(), &[]);
}

#[test]
fn jmeter_xml_2000_samples_ten_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (f, _) = fit_in(dir.path(), "jmeter-sample_log1c.jtl", &[]);
    assert_eq!(num(&f, "requests.total"), 2000.0);
    assert_eq!(num(&f, "requests.failed"), 0.0);
    close(num(&f, "arrivals.first_s"), 1132668448.174, 1e-6, "first");
    close(num(&f, "arrivals.last_s"), 1132668615.234, 1e-6, "last");
    close(num(&f, "service.observed.mean_s"), 0.18031, 1e-12, "mean t");
    close(num(&f, "service.observed.p95_s"), 0.270, 1e-12, "p95");
    let eps = f["endpoints"].as_array().unwrap();
    for label in ["jakarta_home", "jmeter_home"] {
        let e = eps.iter().find(|e| e["endpoint"] == label).unwrap();
        assert_eq!(e["requests"], 1000, "{label}");
    }
    round_trip_holds(&f, "sample_log1c");
    run_file(&dir.path().join("fit/model.toml"), dir.path(), &[]);
}

#[test]
fn locust_500_grpc_users_every_5_s() {
    let dir = tempfile::tempdir().unwrap();
    let (f, _) = fit_in(dir.path(), "locust-load-testing-hub_stats_history.csv", &[]);
    assert_eq!(num(&f, "requests.total"), 11779.0);
    assert_eq!(num(&f, "requests.failed"), 0.0);
    assert_eq!(num(&f, "closed.users"), 500.0);
    // Locust's own figures for the run (locust_stats.csv, Aggregated): average 4,663.45 ms,
    // p95 7,800 ms (rounded to 2 figures by Locust)
    close(num(&f, "service.observed.mean_s"), 4.663_453, 1e-4, "mean");
    close(num(&f, "service.observed.p95_s"), 7.8, 0.05, "p95");
    round_trip_holds(&f, "load-testing-hub");
    run_file(&dir.path().join("fit/model.toml"), dir.path(), &[]);
}

/// Every file of the corpus that holds enough requests to fit: its model, simulated by `fit`,
/// gives the data's success within 5 points and p95 within 25%.
#[test]
fn every_fittable_file_of_the_corpus_passes_the_round_trip() {
    for name in [
        "nasa-kennedy-aug95-clf.log",
        "semicomplete-combined.log",
        "jmeter-htmlreport.csv",
        "jmeter-sample_log1.jtl",
        "locust-bitcoin-api_stats_history.csv",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (f, _) = fit_in(dir.path(), name, &[]);
        round_trip_holds(&f, name);
    }
}

/// The real k6 and vegeta files found hold 4 requests each: read exactly, refused as too few
/// to fit a service (exit 2), and fitted with `--service` given.
#[test]
fn four_request_k6_and_vegeta_runs_are_read_and_too_few_to_fit() {
    // (file, requests, failed: k6's two `lookup: no such host` requests, status 0)
    for (name, total, failed) in [
        ("k6-taurus-blazedemo-2021-10.csv", 4.0, 2.0),
        ("k6-taurus-blazedemo-2021-01.csv", 4.0, 2.0),
        ("vegeta-taurus-localhost.csv", 4.0, 0.0),
        ("vegeta-taurus-blazedemo.csv", 4.0, 0.0),
    ] {
        let o = surge()
            .arg("fit")
            .arg(repo_file(&format!("tests/fit-data/real/{name}")))
            .arg("--out")
            .arg(tempfile::tempdir().unwrap().path().join("fit"))
            .output()
            .unwrap();
        let err = crate::common::refused(&o, name);
        assert!(
            err.contains("fewer than 10 successful requests"),
            "{name}: {err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let (f, _) = fit_in(dir.path(), name, &["--service", "lognormal:300ms:0.5"]);
        assert_eq!(num(&f, "requests.total"), total, "{name}");
        assert_eq!(num(&f, "requests.failed"), failed, "{name}");
    }
}

/// nginx's combined format followed by `$request_time $upstream_response_time`, the proxy log
/// `surge fit` reads response times from: two logs of this project's reality check (a real
/// nginx 1.22 in front of 4 gunicorn sync workers whose handler sleeps a lognormal of mean
/// 100 ms, cv 0.5; docs/reality.md), at 30% and 80% of capacity. The truth is known: 4 workers,
/// no contention (the handler only sleeps), a service of mean 100 ms plus nginx's and
/// gunicorn's few ms.
#[test]
fn nginx_with_request_times_at_30_percent_load() {
    let dir = tempfile::tempdir().unwrap();
    let name = "reality-nginx-30pct.log";
    // Python over the same bytes: mean $request_time 104.6 ms, p95 200 ms
    let (f, _) = reality_fit(dir.path(), name, 1454.0, 0.0, 0.200);
    assert_eq!(num(&f, "lines.skipped"), 0.0);
    round_trip_holds(&f, name);
}

/// At 80% load the times hold 90 ms of waiting for the 4 workers (mean 190 ms): the fit takes the
/// M/M/4 wait out and finds the service (102 ms) and no contention; its round trip misses
/// (p95 239 ms against 418 ms, 95.8% success against 100%) because the queue it assumes (as many
/// places as threads) turns away what gunicorn's backlog of 128 held. With that backlog, from
/// the deployment's config as the model's comment asks, the model carries the run.
#[test]
fn nginx_with_request_times_at_80_percent_load_needs_the_backlog_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let name = "reality-nginx-80pct.log";
    // one 499: a client that gave up
    let (f, model) = reality_fit(dir.path(), name, 3245.0, 1.0, 0.418);
    assert_eq!(
        f["round_trip"]["within"], false,
        "the queue ASSUMPTION's miss"
    );
    assert!(model.contains("queue = 4   # ASSUMPTION"), "{model}");
    let s = run_file(
        &dir.path().join("fit/model.toml"),
        dir.path(),
        &["--set", "tier.site.queue=129", "--reps", "3"],
    );
    let p95 = s["latency_s"]["p95"].as_f64().unwrap();
    assert!((p95 / 0.418 - 1.0).abs() <= 0.25, "p95 {p95} against 0.418");
    let ok =
        s["requests"]["succeeded"].as_f64().unwrap() / s["requests"]["offered"].as_f64().unwrap();
    assert!(ok > 0.99, "success {ok}");
}
