//! `surge fit` on each tool's format, from a small sample in its exact layout
//! (tests/fit-data/): auto-detected and named, the figures read, gzip and several files, garbage
//! lines, custom log formats and a proxy's log.

use crate::common::{repo_file, surge};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Run `surge fit --quiet` and return fit.json.
fn fit(files: &[&Path], extra: &[&str], out: &Path) -> Value {
    let mut args = extra.to_vec();
    args.push("--quiet");
    crate::fit_common::fit_with_stdout(files, &args, out).0
}
fn data(name: &str) -> PathBuf {
    repo_file("tests/fit-data").join(name)
}

/// fit.json of one sample file.
fn sample(name: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    fit(&[&data(name)], extra, &dir.path().join("out"))
}

#[test]
fn each_tool_format_is_read_from_its_own_layout() {
    // (file, format named in fit.json, requests, failed)
    let cases = [
        ("nginx.log", "nginx", 40, 1),
        ("apache.log", "apache", 40, 1),
        ("results.jtl", "jtl", 120, 1),
        ("k6.csv", "k6", 30, 1),
        ("locust_stats_history.csv", "locust", 1240, 4),
        ("vegeta.csv", "vegeta", 40, 1),
    ];
    for (file, format, requests, failed) in cases {
        // auto-detected, then named
        for extra in [vec![], vec!["--format", format]] {
            let j = sample(file, &extra);
            let shown = j["files"][0]["format"].as_str().unwrap().to_string();
            assert!(shown.starts_with(format), "{file}: read as {shown}");
            assert_eq!(
                j["lines"]["skipped"], 0,
                "{file}: {}",
                j["files"][0]["bad_lines"]
            );
            if format != "locust" {
                assert_eq!(j["arrivals"]["requests"], requests, "{file}");
            }
            assert_eq!(j["requests"]["failed"], failed, "{file}");
            assert!(j["service"]["mean_s"].as_f64().unwrap() > 0.0, "{file}");
        }
    }
}

#[test]
fn formats_read_the_right_figures() {
    // nginx: the first line's time, end less request time
    let j = sample("nginx.log", &[]);
    assert_eq!(
        j["arrivals"]["first_s"].as_f64().unwrap().floor(),
        1_700_000_000.0 - 1.0
    );
    // Apache: %D microseconds; the path without query string
    let j = sample("apache.log", &[]);
    assert_eq!(j["endpoints"][0]["endpoint"], "/api/orders");
    assert!(j["service"]["observed"]["mean_s"].as_f64().unwrap() < 1.0);
    // JMeter: allThreads is the concurrency, labels are endpoints
    let j = sample("results.jtl", &[]);
    assert_eq!(j["endpoints"][0]["endpoint"], "Home page");
    assert!(
        j["contention"]["load_from"]
            .as_str()
            .unwrap()
            .contains("recorded")
    );
    // k6: http_req_waiting averaged; requests are http_req_duration samples
    let j = sample("k6.csv", &[]);
    assert!(
        j["files"][0]["notes"]["http_req_waiting_mean_s"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert_eq!(j["endpoints"][0]["endpoint"], "/news.php");
    // Locust: counts from the cumulative totals of the Aggregated rows
    let j = sample("locust_stats_history.csv", &[]);
    let expected: u64 = (1..=20).map(|i: u64| 8 * (i * 5).min(50) / 5).sum();
    assert_eq!(j["arrivals"]["requests"], expected);
    let p50 = j["service"]["observed"]["p50_s"].as_f64().unwrap();
    assert!((p50 - 0.110).abs() < 0.002, "p50 {p50}");
    // vegeta: ns latencies, the refused connection is a failure
    let j = sample("vegeta.csv", &[]);
    assert_eq!(j["requests"]["failed"], 1);
    assert!(j["service"]["observed"]["mean_s"].as_f64().unwrap() < 0.1);
}

#[test]
fn gzip_and_several_files_merge_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let j = fit(&[&data("nginx.log.1.gz")], &[], &dir.path().join("a"));
    assert_eq!(j["arrivals"]["requests"], 40);
    // a rotated pair: the same lines twice, merged
    let j = fit(
        &[&data("nginx.log"), &data("nginx.log.1.gz")],
        &[],
        &dir.path().join("b"),
    );
    assert_eq!(j["arrivals"]["requests"], 80);
    assert_eq!(j["lines"]["read"], 80);
    assert_eq!(j["files"].as_array().unwrap().len(), 2);
}

#[test]
fn a_few_garbage_lines_are_skipped_and_quoted_too_many_are_an_error() {
    let j = sample("nginx-some-garbage.log", &[]);
    assert_eq!(j["lines"]["read"], 41);
    assert_eq!(j["lines"]["parsed"], 40);
    assert_eq!(j["lines"]["skipped"], 1);
    assert_eq!(j["files"][0]["bad_lines"][0]["line"], 21);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a = surge()
        .args(["fit", "--format", "nginx"])
        .arg(data("nginx-mostly-garbage.log"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("5 of 25 lines"), "{err}");
    assert!(
        err.contains("nginx (combined followed by $request_time)"),
        "{err}"
    );
    assert!(
        err.contains("line 21:") && err.contains("<html>oops</html>"),
        "{err}"
    );
    assert!(!out.join("model.toml").exists(), "no half-written output");
    // a missing file
    let a = surge().args(["fit", "no-such-file.log"]).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("no-such-file.log"), "{err}");
}

#[test]
fn a_custom_log_format_is_compiled_from_nginx_or_apache_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("custom.log");
    let mut f = std::fs::File::create(&log).unwrap();
    for i in 0..30 {
        writeln!(
            f,
            "{}.{:03} {} \"GET /x/{}?q HTTP/2.0\" up={}, 0.010",
            1_700_000_000 + i,
            i * 7,
            if i == 5 { 502 } else { 200 },
            i % 2,
            0.05 + f64::from(i) / 1000.0
        )
        .unwrap();
    }
    drop(f);
    let j = fit(
        &[&log],
        &[
            "--log-format",
            "$msec $status \"$request\" up=$upstream_response_time",
        ],
        &dir.path().join("out"),
    );
    assert_eq!(j["arrivals"]["requests"], 30);
    assert_eq!(j["requests"]["failed"], 1);
    // upstream times are a comma list: added
    let mean = j["service"]["observed"]["mean_s"].as_f64().unwrap();
    assert!((mean - 0.0745).abs() < 1e-3, "mean {mean}");
    let a = surge()
        .args(["fit", "--log-format", "$status $body_bytes_sent"])
        .arg(&log)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("no time field"), "{err}");
}

#[test]
fn a_proxy_log_with_both_times_is_read_with_its_response_times() {
    // nginx in front of an application server, as the reality check's: the combined format
    // followed by $request_time $upstream_response_time (a 499's upstream time may be "-").
    // Read as a plain log, the times were lost and the service became an assumption.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (i, (status, rt, urt)) in [
        (200, "0.100", "0.099"),
        (200, "0.300", "0.300"),
        (499, "2.000", "-"),
        (200, "0.200", "0.199"),
    ]
    .iter()
    .cycle()
    .take(40)
    .enumerate()
    {
        text.push_str(&format!(
            "127.0.0.1 - - [06/Dec/2026:23:12:{:02} +0000] \"GET / HTTP/1.1\" {status} 3 \"-\" \"locust\" {rt} {urt}\n",
            10 + i
        ));
    }
    let log = dir.path().join("access.log");
    std::fs::write(&log, text).unwrap();
    let j = fit(&[&log], &[], &dir.path().join("out"));
    let shown = j["files"][0]["format"].as_str().unwrap();
    assert!(shown.contains("$upstream_response_time"), "read as {shown}");
    assert_eq!(j["lines"]["skipped"], 0);
    assert_eq!(j["arrivals"]["requests"], 40);
    assert_eq!(j["requests"]["failed"], 10);
    // The 30 successes' request times: 10 each of 100, 300 and 200 ms.
    let mean = j["service"]["observed"]["mean_s"].as_f64().unwrap();
    assert!((mean - 0.2).abs() < 1e-9, "mean {mean}");
}
