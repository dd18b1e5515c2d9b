//! `surge fit` on the second size of each format in tests/fit-data/real/ (the README there has
//! each file's source, licence and facts), and the round trip of every file in the corpus:
//! each figure asserted here was computed independently of surge (Python's `re`, `csv`,
//! `datetime` over the same bytes), or is the tool's own summary of the same run (Locust's
//! `Total Average Response Time`, its `locust_stats.csv`). The README's round-trip table is read
//! and asserted row by row: the two real k6 files and the two real vegeta files found hold 4
//! requests each, read exactly and refused as too few to fit.

use crate::common::{close, num, repo_file, run_file};
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

/// One row of the README's round-trip table: the file, its flags, its requests, failures,
/// requests turned away and failures of unknown cause (counted in Python), the queue, and the
/// verdict.
struct Row {
    file: String,
    flags: Vec<String>,
    requests: u64,
    failed: u64,
    turned_away: u64,
    cause_unknown: u64,
    queue: String,
    verdict: String,
}

/// The rows of tests/fit-data/real/README.md's table under "The round trip of every file".
fn readme_round_trips() -> Vec<Row> {
    let readme = std::fs::read_to_string(repo_file("tests/fit-data/real/README.md")).unwrap();
    let table = readme
        .split("## The round trip of every file")
        .nth(1)
        .expect("the README's round-trip section");
    let count = |c: &str| -> u64 { c.replace(',', "").parse().unwrap() };
    let cells = |l: &str| -> Vec<String> {
        l.trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect()
    };
    table
        .lines()
        .skip_while(|l| !l.starts_with("| file |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let c = cells(l);
            assert_eq!(c.len(), 10, "{l}");
            Row {
                file: c[0].clone(),
                flags: c[1].split_whitespace().map(String::from).collect(),
                requests: count(&c[2]),
                failed: count(&c[3]),
                turned_away: count(&c[4]),
                cause_unknown: count(&c[5]),
                queue: c[6].clone(),
                verdict: c[9].clone(),
            }
        })
        .collect()
}

/// Every file of the corpus, as the README's round-trip table says: the requests turned away
/// and the failures of unknown cause, the queue the model takes from them (no bound where both
/// are 0), and whether the model `fit` wrote, simulated at the data's load, gives the data's
/// success within 5 points and p95 within 25% (or, for the k6 and vegeta files, that they hold
/// too few successes to fit).
#[test]
fn the_round_trip_of_every_file_is_as_the_readme_says() {
    let rows = readme_round_trips();
    let mut files: Vec<String> = std::fs::read_dir(repo_file("tests/fit-data/real"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != "README.md")
        .collect();
    files.sort();
    let mut listed: Vec<String> = rows.iter().map(|r| r.file.clone()).collect();
    listed.sort();
    assert_eq!(
        listed, files,
        "the table lists every file of the corpus, once"
    );
    for row in rows {
        let name = row.file.as_str();
        let flags: Vec<&str> = row.flags.iter().map(String::as_str).collect();
        let dir = tempfile::tempdir().unwrap();
        if let Some(successes) = row.verdict.strip_prefix("not fitted: ") {
            let o = crate::fit_common::fit_output(
                &[&crate::fit_common::real(name)],
                &dir.path().join("fit"),
                &flags,
            );
            let err = crate::common::refused(&o, name);
            // the README quotes this message
            let (ok, span) = match name {
                "k6-taurus-blazedemo-2021-10.csv" => (2, "45 s"),
                "k6-taurus-blazedemo-2021-01.csv" => (2, "31 s"),
                _ => (4, "1 s"),
            };
            assert_eq!(
                err.trim_end(),
                format!(
                    "error: fewer than 10 successful requests with a response time: no service fit ({ok} of 4 requests over {span} succeeded); a service distribution needs at least 10 response times, and so few requests show neither a rate nor a p95 a model could be checked against. Fit a longer run, or give --service DIST to write a model anyway (its round trip cannot be judged on so few requests)"
                ),
                "{name} ({successes})"
            );
            let mut flags = flags.clone();
            flags.extend(["--service", "lognormal:300ms:0.5"]);
            let o = crate::fit_common::fit_output(
                &[&crate::fit_common::real(name)],
                &dir.path().join("given"),
                &flags,
            );
            crate::common::assert_success(&o);
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert!(
                stdout.contains("; it cannot be judged on 4 requests (fewer than 30)"),
                "{name}: {stdout}"
            );
            assert!(
                !stdout.contains("WARNING: the fitted model"),
                "{name}: {stdout}"
            );
            let (f, _) = fit_in(dir.path(), name, &flags);
            refusals_are(&f, &row);
            continue;
        }
        let (f, model) = fit_in(dir.path(), name, &flags);
        refusals_are(&f, &row);
        if row.queue == "no bound" {
            assert!(!model.lines().any(|l| l.starts_with("queue")), "{name}");
            assert!(model.contains("# queue: no bound"), "{name}");
        } else {
            let threads = num(&f, "capacity.threads");
            assert_eq!(row.queue, format!("{threads} (= threads)"), "{name}");
            assert!(
                model.contains(&format!("queue = {threads}   # ASSUMPTION")),
                "{name}"
            );
        }
        if row.verdict.starts_with("misses") {
            // its refusals go to the queue, which the ASSUMED threads never fill (the README)
            assert_eq!(
                f["round_trip"]["within"], false,
                "{name}: {}",
                f["round_trip"]
            );
            continue;
        }
        assert_eq!(row.verdict, "passes", "{name}: the table's verdict");
        round_trip_holds(&f, name);
    }
}

/// fit.json counts the requests, failures, requests turned away and failures of unknown cause
/// as `row` does.
fn refusals_are(f: &Value, row: &Row) {
    assert_eq!(
        num(f, "requests.total"),
        row.requests as f64,
        "{}",
        row.file
    );
    assert_eq!(num(f, "requests.failed"), row.failed as f64, "{}", row.file);
    assert_eq!(
        num(f, "requests.refusals.turned_away"),
        row.turned_away as f64,
        "{}",
        row.file
    );
    assert_eq!(
        num(f, "requests.refusals.cause_unknown"),
        row.cause_unknown as f64,
        "{}",
        row.file
    );
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
/// M/M/4 wait out and finds the service (102 ms) and no contention. No request was turned away
/// (3,244 200s and one 499, a client that gave up), so the model's queue has no bound and it
/// carries the run. With the queue the fit assumed before (as many places as threads) the same
/// model turns away what gunicorn's backlog of 128 held, and misses: that is the miss the queue
/// from the data mends.
#[test]
fn nginx_with_request_times_at_80_percent_load() {
    let dir = tempfile::tempdir().unwrap();
    let name = "reality-nginx-80pct.log";
    // one 499: a client that gave up
    let (f, model) = reality_fit(dir.path(), name, 3245.0, 1.0, 0.418);
    round_trip_holds(&f, name);
    assert!(model.contains("# queue: no bound"), "{model}");
    let s = run_file(
        &dir.path().join("fit/model.toml"),
        dir.path(),
        &["--set", "tier.site.queue=4", "--reps", "3"],
    );
    let p95 = s["latency_s"]["p95"].as_f64().unwrap();
    assert!(p95 / 0.418 - 1.0 < -0.25, "p95 {p95} against 0.418");
    let ok =
        s["requests"]["succeeded"].as_f64().unwrap() / s["requests"]["offered"].as_f64().unwrap();
    assert!(ok < 0.97, "success {ok}");
}
