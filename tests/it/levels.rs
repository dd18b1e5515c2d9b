//! Issue 26, item 1: what users got, not only what attempts got. Every output gives the call
//! level (a request with its retries, a page with its refreshes) and, with a users source, the
//! user level (sessions) beside the attempt level; the numbers are checked exactly where they
//! are known (a deterministic trace) and against probability where attempts fail independently.

use crate::common::{column, run_model_keep, surge, write_file};
use serde_json::Value;

/// A requests source, one tier with threads to spare and exponential service of mean 1 s,
/// clients that give up after 1 s: each attempt times out with probability p = e^-1,
/// independently of the others. With 3 attempts a call is lost with probability p^3.
fn independent_timeouts(extra: &str) -> String {
    format!(
        "[scenario]\nname = \"timeouts\"\nduration = \"1h\"\nseed = 26\n\
         [[source]]\nkind = \"requests\"\nrate = 50\n\
         [client]\ntimeout = \"1s\"\n\
         [client.retry]\nmax_attempts = 3\nbackoff = \"fixed\"\nbase = \"1s\"\n\
         [[tier]]\nname = \"api\"\ninstances = 1\nthreads = 5000\n\
         service = {{ dist = \"exponential\", mean = \"1s\" }}\n{extra}"
    )
}

fn n(v: &Value, path: &str) -> f64 {
    crate::common::at(v, path)
        .as_f64()
        .unwrap_or_else(|| panic!("{path} missing in {v}"))
}

/// `x` lies within `k` standard errors of a binomial share `p` over `trials`.
fn near_share(what: &str, x: f64, p: f64, trials: f64, k: f64) {
    let se = (p * (1.0 - p) / trials).sqrt();
    assert!(
        (x - p).abs() <= k * se,
        "{what}: {x:.5} is not within {k} standard errors ({se:.5}) of {p:.5}"
    );
    eprintln!("{what}: {x:.5} against {p:.5} (se {se:.5})");
}

#[test]
fn calls_succeed_as_one_minus_p_cubed_while_attempts_succeed_as_one_minus_p() {
    let (dir, s) = run_model_keep(&independent_timeouts(""), &[]);
    let p = (-1.0f64).exp();
    let c = &s["calls"];
    let ended = n(c, "succeeded") + n(c, "lost");
    near_share(
        "call success rate",
        n(c, "success_rate"),
        1.0 - p.powi(3),
        ended,
        4.0,
    );
    let attempts = n(&s, "requests.succeeded") + n(&s, "requests.timed_out");
    near_share(
        "attempt success rate",
        n(&s, "slo.success_rate"),
        1.0 - p,
        attempts,
        4.0,
    );
    // Calls are first attempts; a call ends once (its success, or its third timeout).
    assert_eq!(n(c, "made"), n(&s, "requests.first_attempts"));
    assert_eq!(n(c, "succeeded"), n(&s, "requests.succeeded"));
    let going = n(c, "made") - ended;
    assert!((0.0..=200.0).contains(&going), "calls still going: {going}");
    // Neither level went down; the call-level window column is there.
    assert_eq!(c["outage"]["crashed"], false);
    let window = column(dir.path(), "window_call_success_rate");
    assert!(window.iter().skip(5).all(|r| *r > 0.93), "{window:?}");
}

#[test]
fn pages_and_sessions_succeed_as_the_independent_failures_say() {
    // Users who refresh every failed page, and give up after 3 failures in a row: a page is
    // lost with probability p^3, and a session of exactly 3 pages gets every page with
    // probability (1 - p^3)^3.
    let model = "[scenario]\nname = \"readers\"\nduration = \"1h\"\nseed = 27\n\
         [[source]]\nkind = \"users\"\nusers = 600\n\
         pages = { dist = \"deterministic\", value = 3 }\n\
         think = { dist = \"exponential\", mean = \"10s\" }\n\
         [client]\ntimeout = \"1s\"\nrefresh = 1.0\n\
         refresh_after = { dist = \"exponential\", mean = \"1s\" }\ngive_up_after = 3\n\
         [[tier]]\nname = \"web\"\ninstances = 1\nthreads = 5000\n\
         service = { dist = \"exponential\", mean = \"1s\" }\n";
    let (_dir, s) = run_model_keep(model, &[]);
    let p = (-1.0f64).exp();
    let page = 1.0 - p.powi(3);
    let c = &s["calls"];
    near_share(
        "page success rate",
        n(c, "success_rate"),
        page,
        n(c, "succeeded") + n(c, "lost"),
        4.0,
    );
    let u = &s["sessions"];
    let ended = n(u, "completed") + n(u, "lost");
    near_share(
        "session success rate",
        n(u, "success_rate"),
        page.powi(3),
        ended,
        4.0,
    );
    // Every session lost here gave up after errors: there is no waiting room.
    assert_eq!(n(u, "lost"), n(u, "gave_up"));
    assert_eq!(n(u, "turned_away") + n(u, "left_room"), 0.0);
    // A page lost is a session given up: each user who gives up loses exactly one page.
    assert_eq!(n(c, "lost"), n(u, "gave_up"));
}

/// Pairs of requests 10 s apart on one thread with no queue and a service of exactly 1 s: the
/// first of each pair is served, the second (0.5 s later) is turned away; its retry 2 s later
/// finds the thread free. Every number is known.
fn pairs(max_attempts: u32) -> (tempfile::TempDir, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut trace = String::from("time\n");
    for k in 0..100 {
        trace.push_str(&format!("{}\n{}.5\n", 10 * k, 10 * k));
    }
    write_file(dir.path(), "pairs.csv", &trace);
    let model = format!(
        "[scenario]\nname = \"pairs\"\nduration = \"1100s\"\nbucket = \"10s\"\n\
         [[source]]\nkind = \"trace\"\nfile = \"pairs.csv\"\n\
         [client.retry]\nmax_attempts = {max_attempts}\nbackoff = \"fixed\"\nbase = \"2s\"\n\
         [[tier]]\nname = \"one\"\ninstances = 1\nthreads = 1\nqueue = 0\n\
         service = {{ dist = \"deterministic\", value = \"1s\" }}\n\
         [slo]\nwindow = \"1m\"\n"
    );
    let file = write_file(dir.path(), "model.toml", &model);
    let out = surge()
        .args(["run", file.to_str().unwrap(), "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    crate::common::assert_success(&out);
    let s = crate::common::read_json(&dir.path().join("out/summary.json"));
    crate::common::check_invariants(&s);
    (dir, s, String::from_utf8(out.stdout).unwrap())
}

#[test]
fn a_retry_that_succeeds_makes_a_call_that_succeeded() {
    let (dir, s, text) = pairs(2);
    assert_eq!(n(&s, "requests.offered"), 300.0);
    assert_eq!(n(&s, "requests.succeeded"), 200.0);
    assert_eq!(n(&s, "requests.rejected"), 100.0);
    assert_eq!(n(&s, "calls.made"), 200.0);
    assert_eq!(n(&s, "calls.succeeded"), 200.0);
    assert_eq!(n(&s, "calls.lost"), 0.0);
    assert_eq!(n(&s, "calls.success_rate"), 1.0);
    let rate = n(&s, "slo.success_rate");
    assert!((rate - 2.0 / 3.0).abs() < 1e-12, "{rate}");
    // Every call-level window is perfect; a third of the attempts failed.
    let calls = column(dir.path(), "window_call_success_rate");
    assert!(calls.iter().all(|r| r.is_nan() || *r == 1.0), "{calls:?}");
    assert!(
        text.contains("calls: 200 made; 100.0% of the 200 that ended succeeded, 0.0% lost"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("levels: \"requests\" counts attempts")),
        "{text}"
    );
    let lost: f64 = column(dir.path(), "calls_lost").iter().sum();
    assert_eq!(lost, 0.0);
    // The two attempt-level shares say what they are over: the offered, and those that ended
    // in the measured period (once "66.7% succeeded" and "success rate 66.7%" side by side).
    assert!(
        text.contains("requests: 300 offered; of the offered, 66.7% succeeded and 33.3% were lost"),
        "{text}"
    );
    assert!(
        text.contains("success rate 66.7% of the requests that ended in the measured period"),
        "{text}"
    );
}

#[test]
fn without_retries_the_turned_away_call_is_lost() {
    let (dir, s, text) = pairs(1);
    assert_eq!(n(&s, "requests.offered"), 200.0);
    assert_eq!(n(&s, "calls.made"), 200.0);
    assert_eq!(n(&s, "calls.succeeded"), 100.0);
    assert_eq!(n(&s, "calls.lost"), 100.0);
    assert_eq!(n(&s, "calls.success_rate"), 0.5);
    let lost: f64 = column(dir.path(), "calls_lost").iter().sum();
    assert_eq!(lost, 100.0);
    assert!(text.contains("outage by calls: "), "{text}");
    assert!(text.contains("outage by requests: "), "{text}");
}

#[test]
fn replicated_summaries_average_the_levels() {
    let (_dir, s) = run_model_keep(&independent_timeouts(""), &["--reps", "3"]);
    let reps = s["replications"].as_array().unwrap();
    let mean = reps.iter().map(|r| n(r, "calls.lost")).sum::<f64>() / 3.0;
    assert!((n(&s, "calls.lost") - mean).abs() < 1e-9);
    assert!(n(&s["ci95"], "calls.success_rate") > 0.0);
}
