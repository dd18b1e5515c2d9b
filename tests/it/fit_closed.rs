//! `surge fit` on closed load tests and the round trip: a JMeter test generated with known
//! threads N (ramped up), constant timer Z, lognormal service S, server threads and errors
//! must come back as a closed users source of N users thinking Z, threads at least the requests
//! in progress, and a model that, simulated by `fit` itself, gives the data's success rate and
//! p95; `--threads` sets the threads and says so; a tier's `errors` fail that share.

use crate::common::{run_file, surge, write_file};
use crate::fit_common::f;
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal, StandardUniform};
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write;
use std::path::Path;

/// A JMeter test plan as run: `threads` users started evenly over `ramp_s`, each looping a
/// constant timer of `think_s` then one HTTP sample, for `duration_s`; the site serves with
/// `server_threads` first come first served, lognormal service of mean `mean_s` and cv 1; a
/// share `errors` of samples fail (HTTP 500).
struct Plan {
    threads: usize,
    ramp_s: f64,
    think_s: f64,
    duration_s: f64,
    mean_s: f64,
    server_threads: usize,
    errors: f64,
    seed: u64,
}

const EPOCH_MS: u64 = 1_700_000_000_000;

/// The JTL (CSV with JMeter's default columns), and every sample's (elapsed s, ok).
fn jmeter(p: &Plan) -> (String, Vec<(f64, bool)>) {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(p.seed);
    let s2: f64 = 2f64.ln();
    let service = LogNormal::new(p.mean_s.ln() - s2 / 2.0, s2.sqrt()).unwrap();
    // (when the thread sends, ms since the start; thread)
    let mut due: BinaryHeap<Reverse<(u64, usize)>> = (0..p.threads)
        .map(|k| {
            let start = (k as f64 * p.ramp_s / p.threads as f64 * 1000.0) as u64;
            Reverse((start + (p.think_s * 1000.0) as u64, k))
        })
        .collect();
    let mut free = vec![0u64; p.server_threads];
    let mut csv = String::from(
        "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n",
    );
    let mut samples = Vec::new();
    let end_ms = (p.duration_s * 1000.0) as u64;
    while let Some(Reverse((at, k))) = due.pop() {
        if at >= end_ms {
            continue;
        }
        let (i, &first) = free.iter().enumerate().min_by_key(|(_, f)| **f).unwrap();
        let begin = at.max(first);
        let s: f64 = service.sample(&mut rng);
        let done = begin + (s * 1000.0).round().max(1.0) as u64;
        free[i] = done;
        let elapsed = done - at;
        let u: f64 = StandardUniform.sample(&mut rng);
        let ok = u >= p.errors;
        let running = (0..p.threads)
            .filter(|j| (*j as f64 * p.ramp_s / p.threads as f64 * 1000.0) as u64 <= at)
            .count();
        writeln!(
            csv,
            "{},{elapsed},GET /item,{},{},Thread Group 1-{},text,{ok},,1024,120,{running},{running},http://site/item,{},0,3",
            EPOCH_MS + at,
            if ok { 200 } else { 500 },
            if ok { "OK" } else { "Internal Server Error" },
            k + 1,
            elapsed / 2
        )
        .unwrap();
        samples.push((elapsed as f64 / 1000.0, ok));
        due.push(Reverse((done + (p.think_s * 1000.0) as u64, k)));
    }
    (csv, samples)
}

/// `surge fit FILE EXTRA --out DIR/out`: (fit.json, model.toml, terminal output).
fn fit_dir(dir: &Path, file: &Path, extra: &[&str]) -> (Value, String, String) {
    crate::fit_common::fit_model(&[file], extra, &dir.join("out"))
}

/// 112 threads ramped up over 10 s, a 500 ms constant timer, 800 ms of service on 64 server
/// threads (so requests wait: 112 users would offer 86/s to a site that serves 80/s), 10% of
/// samples failing, 90 s.
fn the_112_thread_plan() -> Plan {
    Plan {
        threads: 112,
        ramp_s: 10.0,
        think_s: 0.5,
        duration_s: 90.0,
        mean_s: 0.8,
        server_threads: 64,
        errors: 0.1,
        seed: 112,
    }
}

#[test]
fn a_closed_jmeter_test_is_fitted_as_its_users_and_their_think_time() {
    let plan = the_112_thread_plan();
    let (csv, samples) = jmeter(&plan);
    let dir = tempfile::tempdir().unwrap();
    let jtl = write_file(dir.path(), "results.jtl", &csv);
    let (j, model, stdout) = fit_dir(dir.path(), &jtl, &[]);
    // the users are the recorded threads, their think time the timer
    let c = &j["closed"];
    assert_eq!(c["users"], 112, "{c}");
    assert!(
        c["users_from"].as_str().unwrap().contains("allThreads"),
        "{c}"
    );
    assert_eq!(
        c["gaps"]["mean_s"].as_f64().map(|z| (z * 1000.0).round()),
        Some(500.0),
        "{c}"
    );
    assert!((f(&c["think_mean_s"]) - 0.5).abs() < 0.005, "{c}");
    // Little's law over the span agrees within the edges of the span (a cycle in 90 s)
    assert!((f(&c["think_little_s"]) - 0.5).abs() < 0.1, "{c}");
    // the ramp is followed: the first knot below the last
    let prof = c["profile"].as_array().unwrap();
    assert!(
        f(&prof[0][1]) < 0.5 && f(&prof[prof.len() - 1][1]) == 1.0,
        "{c}"
    );
    assert!(
        model.contains("population = \"closed\"") && model.contains("users = 112"),
        "{model}"
    );
    // threads: never fewer than the requests in progress (Little's law: about 72)
    let in_progress: f64 = samples.iter().map(|s| s.0).sum::<f64>() / plan.duration_s;
    let cap = &j["capacity"];
    assert!(
        (f(&cap["in_progress_whole_span"]) - in_progress).abs() < 0.05 * in_progress,
        "{cap}"
    );
    assert!(f(&cap["threads"]) >= in_progress, "{cap}");
    assert_eq!(cap["from"], "assumption");
    assert!(model.contains("# ASSUMPTION: threads unknown"), "{model}");
    assert!(
        stdout.contains("ASSUMED (confirm with --threads N)"),
        "{stdout}"
    );
    // the round trip: success within 5 points, p95 within 25%, and said so
    let rt = &j["round_trip"];
    assert_eq!(rt["within"], true, "{rt}");
    let ok = samples.iter().filter(|s| s.1).count() as f64 / samples.len() as f64;
    assert!((f(&rt["data"]["success_rate"]) - ok).abs() < 1e-9, "{rt}");
    assert!(
        stdout.contains("simulated on the fitted model: "),
        "{stdout}"
    );
    assert!(!stdout.contains("WARNING"), "{stdout}");
}

#[test]
fn threads_from_the_flag_are_said_to_come_from_it() {
    let plan = Plan {
        duration_s: 30.0,
        ..the_112_thread_plan()
    };
    let dir = tempfile::tempdir().unwrap();
    let jtl = write_file(dir.path(), "results.jtl", &jmeter(&plan).0);
    let (j, model, stdout) = fit_dir(dir.path(), &jtl, &["--threads", "64"]);
    assert_eq!(j["capacity"]["threads"], 64);
    assert_eq!(j["capacity"]["from"], "flag");
    assert!(model.contains("threads = 64   # from --threads"), "{model}");
    assert!(!model.contains("ASSUMPTION: threads"), "{model}");
    assert!(stdout.contains("threads: 64 from --threads"), "{stdout}");
    // fewer than the data show in progress: warned
    let (j, _, stdout) = fit_dir(dir.path(), &jtl, &["--threads", "8"]);
    assert!(j["capacity"]["warning"].is_string());
    assert!(
        stdout.contains("WARNING: --threads 8 is fewer than"),
        "{stdout}"
    );
    // not a number: bad input
    let a = surge()
        .arg("fit")
        .arg(&jtl)
        .args(["--threads", "0"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("--threads"));
}

#[test]
fn a_tier_errors_share_fails_that_share_of_requests() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "m.toml",
        "[scenario]\nduration = \"10m\"\nseed = 4\n[[source]]\nkind = \"requests\"\nrate = 200\n\
         [[tier]]\nname = \"site\"\ninstances = 1\nthreads = 100\n\
         service = { dist = \"exponential\", mean = \"50ms\" }\nerrors = 0.1\n",
    );
    let s = run_file(&file, dir.path(), &[]);
    let (failed, offered) = (f(&s["requests"]["failed"]), f(&s["requests"]["offered"]));
    // binomial: 120,000 requests, s.d. of the share 0.00087
    assert!(
        (failed / offered - 0.1).abs() < 4.0 * 0.00087,
        "{failed} of {offered}"
    );
    assert_eq!(
        f(&s["requests"]["rejected"]) + f(&s["requests"]["timed_out"]),
        0.0
    );
}

/// fit.json, model.toml and the terminal of `surge fit` on a file of the corpus.
fn fit_corpus(name: &str) -> (Value, String, String) {
    let dir = tempfile::tempdir().unwrap();
    fit_dir(dir.path(), &crate::fit_common::real(name), &[])
}

#[test]
fn a_real_one_thread_jmeter_run_is_one_closed_user_and_passes_the_round_trip() {
    let (j, model, stdout) = fit_corpus("jmeter-htmlreport.csv");
    let c = &j["closed"];
    assert_eq!(c["users"], 1, "{c}");
    // 254 gaps between the thread's samples, 139 ms in all (Python over the file)
    assert_eq!(c["gaps"]["count"], 254, "{c}");
    assert!(
        (f(&c["gaps"]["mean_s"]) - 0.000_547_244).abs() < 1e-6,
        "{c}"
    );
    // a test without timers: the least think time a model takes
    assert_eq!(f(&c["think_mean_s"]), 0.001, "{c}");
    assert_eq!(j["capacity"]["threads"], 1, "{}", j["capacity"]);
    assert!(model.contains("errors = 0.011765"), "{model}");
    let rt = &j["round_trip"];
    assert!(
        (f(&rt["data"]["success_rate"]) - 252.0 / 255.0).abs() < 1e-12,
        "{rt}"
    );
    assert_eq!(rt["within"], true, "{rt}\n{stdout}");
}

#[test]
fn a_real_overloaded_locust_run_is_its_50_users_and_passes_the_round_trip() {
    let (j, model, stdout) = fit_corpus("locust-bitcoin-api_stats_history.csv");
    let c = &j["closed"];
    assert_eq!(c["users"], 50, "{c}");
    assert!(c["users_from"].as_str().unwrap().contains("Locust"), "{c}");
    assert!(model.contains("population = \"closed\""), "{model}");
    // The run's failures are instant: 429 Too Many Requests of its rate limiter (its
    // results_failures.csv), answered in about 3 ms (Locust's own average over all requests,
    // failures included, is 53.8 ms), so the tier's `errors`, which fail at once, are right.
    // The slow requests (about 2 s) are the first 188, before the limiter bit; Locust's
    // percentile columns are over a window of several seconds and kept them long after, and
    // read as each row's own they had made the data's p95 2.00 s. Read off the slice of the
    // window that has each row's exact mean (from the cumulative average), the round trip holds.
    assert!(model.contains("errors = 0.729756"), "{model}");
    let rt = &j["round_trip"];
    assert!(
        (f(&rt["data"]["success_rate"]) - 554.0 / 2050.0).abs() < 1e-12,
        "{rt}"
    );
    // the successes' p95 of that reading (Python over the file, the same slices): 974.16 ms
    assert!((f(&rt["data"]["p95_s"]) - 0.974_160).abs() < 1e-5, "{rt}");
    assert!(f(&rt["success_points"]).abs() <= 5.0, "{rt}\n{stdout}");
    assert!(f(&rt["p95_off"]).abs() <= 0.25, "{rt}\n{stdout}");
    assert_eq!(rt["within"], true, "{rt}\n{stdout}");
    assert!(!stdout.contains("WARNING"), "{stdout}");
}
