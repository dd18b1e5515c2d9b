//! `surge fit` on what the last new-user trial found (issue 24): a surge factor that moved with
//! `--bucket`, a partial last bucket, a k6 arrival-rate run fitted as closed, a two-file fit
//! that hid its second file, a semicolon-separated JMeter CSV, and contention fitted to open
//! arrivals without the threads. Each asserts the figures or the words said.

use crate::common::num;
use crate::fit::{EPOCH, Truth, clf, generated_log};
use crate::fit_common::{f, fit_model, fit_with_stdout, real, within};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// An nginx log of Poisson arrivals at 5/s for 2 h with 20/s (a 4x surge) from 1 h to 1 h 10 min,
/// each answered in 10 ms.
fn surge_log(dir: &Path) -> PathBuf {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp1};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(24);
    let mut s = String::new();
    let mut t = 0.0;
    let mut i = 0u64;
    loop {
        let rate = if (3600.0..4200.0).contains(&t) {
            20.0
        } else {
            5.0
        };
        let e: f64 = Exp1.sample(&mut rng);
        t += e / rate;
        if t >= 7199.9 {
            break;
        }
        i += 1;
        writeln!(
            s,
            "10.0.{}.{} - - [{}] \"GET /p?{i} HTTP/1.1\" 200 512 \"-\" \"gen\" 0.010",
            i % 200,
            i % 250,
            clf(EPOCH + t)
        )
        .unwrap();
    }
    let log = dir.join("surge.log");
    std::fs::write(&log, s).unwrap();
    log
}

#[test]
fn the_surge_factor_does_not_depend_on_the_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let log = surge_log(dir.path());
    let mut factors = Vec::new();
    for bucket in ["1s", "10s", "1m", "7m", "10m"] {
        let (j, stdout) = fit_with_stdout(
            &[&log],
            &["--bucket", bucket],
            &dir.path().join(format!("out-{bucket}")),
        );
        let s = &j["arrivals"]["surge"];
        // 5/s: the shortest window of at least 100 requests is 30 s
        assert_eq!(num(s, "window_s"), 30.0, "{s}");
        within(num(s, "base_rate_per_s"), 5.0, 0.05, "base");
        let factor = num(&j, "arrivals.surge_in_data");
        assert_eq!(factor, num(s, "factor"));
        // the busiest 30 s of Poisson(600) counts in the surge: 4x, plus at most a few s.e.
        assert!((3.9..4.6).contains(&factor), "{bucket}: {factor}");
        assert!(
            stdout.contains(&format!(
                "the data hold a {factor:.2}x surge (busiest 30 s window over the median 30 s, +- {:.2} s.e.;",
                num(s, "se")
            )),
            "{stdout}"
        );
        // the bucket's peak is the busiest bucket at its rate, never below the mean
        assert!(num(&j, "arrivals.peak_rate_per_s") >= num(&j, "arrivals.mean_rate_per_s"));
        factors.push(factor);
        if bucket == "7m" {
            // 2 h is 17 buckets of 7 min and one of 1 min
            assert!(
                stdout
                    .contains("arrivals: the last bucket covers 1 min of 7 min: its rate is its "),
                "{stdout}"
            );
        } else {
            assert!(!stdout.contains("the last bucket covers"), "{stdout}");
        }
    }
    assert!(factors.iter().all(|&x| x == factors[0]), "{factors:?}");
}

/// k6 `--out csv` columns.
const K6_HEADER: &str = "metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata";

fn k6_row(metric: &str, t: f64, value: f64) -> String {
    let request = metric.starts_with("http_req");
    let (ok, method, url, status) = if request {
        ("true", "GET", "http://127.0.0.1/", "200")
    } else {
        ("", "", "", "")
    };
    format!(
        "{metric},{},{value:.6},,,,{ok},,{method},{url},{},default,,{status},,,{url},,",
        t.floor() as i64,
        if request { "HTTP/1.1" } else { "" }
    )
}

/// A k6 CSV of 300 s: `iterations` of (start s, response ms, iteration ms), `vus` each second.
fn k6_file(
    dir: &Path,
    name: &str,
    vus: u32,
    iterations: &[(f64, f64, f64)],
    dropped: bool,
) -> PathBuf {
    let mut rows: Vec<(f64, String)> = Vec::new();
    for s in 0..300 {
        rows.push((
            EPOCH + f64::from(s),
            k6_row("vus", EPOCH + f64::from(s), f64::from(vus)),
        ));
    }
    for &(start, ms, iter_ms) in iterations {
        let end = EPOCH + start + ms / 1000.0;
        rows.push((end, k6_row("http_reqs", end, 1.0)));
        rows.push((end, k6_row("http_req_duration", end, ms)));
        let done = EPOCH + start + iter_ms / 1000.0;
        rows.push((done, k6_row("iteration_duration", done, iter_ms)));
        rows.push((done, k6_row("iterations", done, 1.0)));
    }
    if dropped {
        rows.push((
            EPOCH + 150.0,
            k6_row("dropped_iterations", EPOCH + 150.0, 1.0),
        ));
    }
    // in the order k6 writes them: by the second they are stamped with
    rows.sort_by(|a, b| a.0.floor().total_cmp(&b.0.floor()));
    let mut s = String::from(K6_HEADER);
    s.push('\n');
    for (_, r) in rows {
        s.push_str(&r);
        s.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, s).unwrap();
    path
}

/// A response of 30 to 60 ms, varying with `i`.
fn ms(i: usize) -> f64 {
    30.0 + (i * 7 % 31) as f64
}

/// constant-arrival-rate: 10 iterations a second on a schedule, 5 VUs pre-allocated.
fn open_k6(dir: &Path) -> PathBuf {
    let its: Vec<(f64, f64, f64)> = (0..2990)
        .map(|i| (i as f64 * 0.1, ms(i), ms(i) + 1.0))
        .collect();
    k6_file(dir, "open.csv", 5, &its, false)
}

/// constant-vus: 5 VUs, each a request then `sleep(0.45)`, back to back.
fn closed_k6(dir: &Path, name: &str, dropped: bool) -> PathBuf {
    let mut its = Vec::new();
    for vu in 0..5 {
        let mut t = vu as f64 * 0.1;
        let mut i = vu;
        while t < 299.0 {
            let r = ms(i);
            let it = r + 450.0;
            its.push((t, r, it));
            t += it / 1000.0 + 0.0005;
            i += 5;
        }
    }
    k6_file(dir, name, 5, &its, dropped)
}

#[test]
fn a_k6_arrival_rate_run_is_fitted_as_open_arrivals_and_a_constant_vus_run_as_closed() {
    let dir = tempfile::tempdir().unwrap();
    let open = open_k6(dir.path());
    let (j, model, stdout) = fit_model(&[&open], &[], &dir.path().join("open"));
    assert!(j["closed"].is_null(), "{}", j["closed"]);
    let busy = num(&j["files"][0]["notes"], "k6_vus_busy_share");
    within(busy, 10.0 * 0.0465 / 5.0, 0.05, "VUs' time in iterations");
    assert!(
        stdout.contains("WARNING: k6 records no executor; read as open arrivals (the VUs are a pool, not users in a loop): its VUs spent 9% of their time in iterations"),
        "{stdout}"
    );
    assert!(model.contains("kind = \"requests\""), "{model}");
    assert!(!model.contains("population = \"closed\""), "{model}");
    // the text agrees with the model: a schedule, Poisson in the model
    assert!(
        stdout.contains("The model's arrivals are Poisson (ASSUMPTION"),
        "{stdout}"
    );
    // --source users keeps it closed, and says so
    let (j, model, stdout) = fit_model(
        &[&open],
        &["--source", "users"],
        &dir.path().join("open-users"),
    );
    assert_eq!(j["closed"]["users"], 5, "{}", j["closed"]);
    assert!(model.contains("population = \"closed\""), "{model}");
    assert!(
        stdout.contains("but --source users keeps it a closed test of its VUs"),
        "{stdout}"
    );

    let closed = closed_k6(dir.path(), "closed.csv", false);
    let (j, model, stdout) = fit_model(&[&closed], &[], &dir.path().join("closed"));
    assert_eq!(j["closed"]["users"], 5, "{}", j["closed"]);
    assert!(model.contains("population = \"closed\""), "{model}");
    assert!(
        stdout.contains("WARNING: k6 records no executor; read as a closed test of its VUs: they spent 100% of their time in iterations"),
        "{stdout}"
    );
    // evenly sent, but by users in a loop: the text says the model is closed, not Poisson
    assert!(!stdout.contains("arrivals are Poisson"), "{stdout}");
    assert!(
        stdout.contains("The model is a closed population of 5 users"),
        "{stdout}"
    );
    // --source requests: open arrivals
    let (j, _, _) = fit_model(
        &[&closed],
        &["--source", "requests"],
        &dir.path().join("req"),
    );
    assert!(j["closed"].is_null());
    // dropped_iterations: only an arrival-rate executor writes them
    let dropped = closed_k6(dir.path(), "dropped.csv", true);
    let (j, _, stdout) = fit_model(&[&dropped], &[], &dir.path().join("dropped"));
    assert!(j["closed"].is_null());
    assert!(
        stdout.contains("it wrote `dropped_iterations` (1), which only an arrival-rate executor"),
        "{stdout}"
    );
}

#[test]
fn a_semicolon_separated_jmeter_csv_reads_as_the_comma_one() {
    let dir = tempfile::tempdir().unwrap();
    let comma = real("jmeter-taurus-slow-stdev.csv");
    let text = std::fs::read_to_string(&comma).unwrap();
    assert!(!text.contains('"') && !text.contains(';'));
    let semi = dir.path().join("semi.jtl");
    std::fs::write(&semi, text.replace(',', ";")).unwrap();
    let (a, _) = fit_with_stdout(&[&comma], &["--quiet"], &dir.path().join("a"));
    let (b, stdout) = fit_with_stdout(&[&semi], &[], &dir.path().join("b"));
    assert_eq!(
        b["files"][0]["format"],
        "jtl (JMeter CSV results with a header, separated by `;`)"
    );
    assert!(stdout.contains("separated by `;`"), "{stdout}");
    for k in [
        "requests.total",
        "requests.failed",
        "service.observed.mean_s",
        "closed.users",
    ] {
        assert_eq!(num(&a, k), num(&b, k), "{k}");
    }
}

#[test]
fn contention_fitted_without_the_threads_is_said_to_be_maybe_waiting_and_more_load_is_shown() {
    // 4 threads of 80 ms (50/s at most), arrivals from 20/s to 42/s: waiting, no contention
    let truth = Truth::served((|t| 20.0 + 22.0 * t / 1800.0, 42.0), 1800.0, 0.080, 4, 13);
    let (dir, log, _) = generated_log(&truth);
    let (j, model, stdout) = fit_model(&[&log], &[], &dir.path().join("out"));
    let c = &j["contention"];
    assert_eq!(c["significant"], true, "{c}");
    assert!(c["knee"].is_null(), "{c}");
    assert!(
        model.contains("without the thread count the fit cannot tell queueing from contention"),
        "{model}"
    );
    assert!(model.contains("give `surge fit --threads N`"), "{model}");
    let more = &j["round_trip"]["more_load"];
    assert_eq!(num(more, "factor"), 1.3);
    assert!(
        stdout.contains("at 1.3x the data's load the fitted model predicts "),
        "{stdout}"
    );
    eprintln!(
        "without --threads: service {} s, contention {}, p95 at 1.3x {}",
        f(&j["service"]["mean_s"]),
        f(&c["coefficient"]),
        f(&more["simulated"]["p95_s"])
    );
    // with the threads: the waiting is taken out, the service is 80 ms, nothing extrapolated
    let (j, _, stdout) = fit_model(&[&log], &["--threads", "4"], &dir.path().join("given"));
    within(
        f(&j["service"]["mean_s"]),
        0.080,
        0.08,
        "service with --threads 4",
    );
    assert!(j["round_trip"]["more_load"].is_null());
    assert!(!stdout.contains("at 1.3x"), "{stdout}");
}

#[test]
fn a_log_fitted_with_a_load_test_reports_both_files_and_what_each_gave() {
    let dir = tempfile::tempdir().unwrap();
    let log = real("semicomplete-combined-2822.log");
    let jtl = real("jmeter-taurus-slow-stdev.csv");
    let (j, model, stdout) = fit_model(&[&log, &jtl], &[], &dir.path().join("two"));
    let files = j["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{}", j["files"]);
    assert_eq!(
        files[0]["used_for"],
        "arrivals, profile, surge, endpoints, status codes, errors, sessions"
    );
    assert_eq!(
        files[1]["used_for"],
        "service time, contention, knee (and the round trip's p95); not its arrivals nor its errors"
    );
    assert_eq!(num(&files[1], "lines.parsed"), 599.0);
    // the requests and their lines are the log's
    assert_eq!(num(&j, "requests.total"), 2822.0);
    assert_eq!(num(&j, "lines.read"), 2822.0);
    assert_eq!(num(&j, "timing_requests.failed"), 63.0);
    let jtl_line = format!(
        "{}: jtl (JMeter CSV results with a header) — 599 lines, 599 parsed, 0 skipped\n  used for: service time",
        jtl.display()
    );
    assert!(stdout.contains(&jtl_line), "{stdout}");
    // the round trip's p95 is the load test's, said so
    let rt = &j["round_trip"];
    assert_eq!(rt["times_from"], jtl.display().to_string());
    within(num(rt, "data.p95_s"), 2.69, 0.01, "the load test's p95");
    assert!(!stdout.contains("no response times"), "{stdout}");
    // the model's p95 is taken at the load test's own load, not at the log's (issue 24 item 5)
    let at = rt["times_at"].as_str().unwrap_or_default();
    assert!(!at.is_empty(), "{rt}");
    assert!(
        stdout.contains(&format!(
            " at the load test's load ({at}) vs 2.69 s in {}",
            jtl.display()
        )),
        "{stdout}"
    );
    // the errors are the log's, as when the log is fitted alone
    let (_, alone, _) = fit_model(&[&log], &[], &dir.path().join("one"));
    let errors = |m: &str| {
        m.lines()
            .find(|l| l.starts_with("errors = "))
            .map(str::to_string)
    };
    assert_eq!(errors(&model), errors(&alone));
    assert!(
        errors(&model).unwrap().starts_with("errors = 0.019135"),
        "{model}"
    );
    assert!(
        model.contains("# 63 failed requests of the files with response times are left out of the service fit; `errors` below is the share of the traffic's files, not theirs."),
        "{model}"
    );
}

#[test]
fn a_closed_test_given_its_threads_says_its_waiting_once() {
    let dir = tempfile::tempdir().unwrap();
    let jtl = crate::common::repo_file("tests/fit-data/results.jtl");
    let (j, _) = fit_with_stdout(&[&jtl], &["--threads", "4", "--quiet"], dir.path());
    let basis = j["service"]["basis"].as_str().unwrap();
    assert_eq!(basis.matches("is taken out").count(), 1, "{basis}");
    assert!(
        basis.ends_with("once the wait of the window's users for 4 threads (machine-repairman M/M/4//N) is taken out"),
        "{basis}"
    );
}
