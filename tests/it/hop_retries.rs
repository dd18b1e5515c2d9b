//! Retries at every hop (`[tier.retry]`) against what they must do exactly. A callee that fails
//! with probability p whatever the load, behind a caller of 3 attempts per call, gets
//! 1 + p + p^2 attempts per call and the call succeeds with 1 - p^3 (inside a tight interval);
//! two retrying hops multiply as worked out in `two_retrying_hops_multiply`; the caller's
//! thread is held through the retries and their backoffs (Little's law on its busy threads);
//! the caller's own request timeout cuts its retries off; a callee cut off by its own request
//! timeout is retried, `on` filtering the outcomes; the run is the same on 1 thread or 2; and
//! a bad key exits 2 with its file and key path. Every run is checked for conservation and
//! Little's law (`common::run_model`).

use crate::common::{
    assert_bad_input, assert_exact, at, column, count, reps, run_model, surge, write_file,
};
use serde_json::Value;

/// A requests source of `rate` a second and the tiers given, 10 minutes after 30 s of warm-up.
fn model(rate: f64, tiers: &str) -> String {
    format!(
        "[scenario]\nname = \"hops\"\nduration = \"10m\"\nwarmup = \"30s\"\nseed = 5\nbucket = \"1m\"\n\
         [[source]]\nkind = \"requests\"\nrate = {rate}\n{tiers}"
    )
}

/// A tier with many threads and a deterministic service (never a queue).
fn tier(name: &str, service: &str, extra: &str) -> String {
    format!(
        "[[tier]]\nname = \"{name}\"\ninstances = 1\nthreads = 2000\n\
         service = {{ dist = \"deterministic\", value = \"{service}\" }}\n{extra}"
    )
}

const RETRY_3: &str = "retry = { max_attempts = 3, backoff = \"fixed\", base = \"50ms\" }\n";

#[test]
fn one_retrying_hop_makes_one_plus_p_plus_p_squared_attempts() {
    // l = 200/s; the api (10 ms) calls the ledger (20 ms), which fails 30% of its answers
    // whatever the load; the api makes up to 3 attempts, 50 ms apart.
    let p: f64 = 0.3;
    let tiers = tier("api", "10ms", RETRY_3) + &tier("ledger", "20ms", "errors = 0.3\n");
    let s = run_model(&model(200.0, &tiers), &["--reps", "10"]);
    // Attempts at the ledger per call: 1 + p + p^2 = 1.39; of them retries p + p^2 = 0.39.
    assert_exact(&s, "tiers.1.attempts_per_call", 1.0 + p + p * p);
    assert_exact(&s, "tiers.0.attempts_per_call", 1.0);
    // A call fails only when all three attempts do: 1 - p^3 = 0.973.
    assert_exact(&s, "calls.success_rate", 1.0 - p.powi(3));
    // The api's thread is held for its service, the ledger's attempts and the backoffs
    // between them (p + p^2 retries of 50 ms each): L = l (10 + 20 x 1.39 + 50 x 0.39) ms
    // = 200 x 0.0573 = 11.46 threads (Little's law), against 200 x 0.0378 = 7.56 without the
    // backoffs: the retry time is on the caller's busy threads.
    assert_exact(
        &s,
        "tiers.0.mean_busy_threads",
        200.0 * (0.010 + 0.020 * (1.0 + p + p * p) + 0.050 * (p + p * p)),
    );
    assert_exact(&s, "tiers.1.mean_busy_threads", 200.0 * 0.020 * 1.39);
    for r in reps(&s) {
        let (arrivals, retries) = (count(r, "tiers.1.arrivals"), count(r, "tiers.1.retries"));
        let first = count(r, "tiers.0.arrivals");
        // Every arrival at the ledger is the api's first call or a retry of it.
        assert!(
            arrivals.abs_diff(first + retries) <= 500,
            "arrivals {arrivals}, first calls {first}, retries {retries}"
        );
        assert_eq!(count(r, "tiers.0.retries"), 0, "nothing retries the api");
        // The client sent each call once: no attempt-level retries.
        assert_eq!(count(r, "requests.retries"), 0);
    }
}

#[test]
fn two_retrying_hops_multiply() {
    // edge -> orders -> ledger; edge and orders each make up to 3 attempts of their callee;
    // the ledger fails with p = 0.5. Exactly: each visit of orders makes m = 1 + p + p^2 =
    // 1.75 attempts at the ledger and fails with q = p^3 = 0.125 (all three failed); so the
    // edge makes 1 + q + q^2 = 1.140625 attempts at orders per call, and the ledger gets
    // m x (1 + q + q^2) = 1.99609 attempts per call, not m^2 = 3.0625: (1 + p + p^2)^k holds
    // only where every attempt of a hop fails together (overload), as with 27 = 3^3 at most.
    // A call fails with q^3 = 0.00195.
    let p: f64 = 0.5;
    let m = 1.0 + p + p * p;
    let q = p.powi(3);
    let tiers = tier("edge", "5ms", RETRY_3)
        + &tier("orders", "10ms", RETRY_3)
        + &tier("ledger", "20ms", "errors = 0.5\n");
    let s = run_model(&model(100.0, &tiers), &["--reps", "10"]);
    assert_exact(&s, "tiers.1.attempts_per_call", 1.0 + q + q * q);
    assert_exact(&s, "tiers.2.attempts_per_call", m * (1.0 + q + q * q));
    assert_exact(&s, "calls.success_rate", 1.0 - q.powi(3));
}

#[test]
fn the_callers_own_timeout_cuts_its_retries_off() {
    // The ledger always fails (20 ms); the api (10 ms, request timeout 100 ms) retries 45 ms
    // later, up to 5 attempts: 10 + 20 = 30 ms, retry at 75, fails at 95, next retry due at
    // 140: the api's timeout rings at 100 ms first. So exactly 2 attempts per call, every
    // call failed, and the api holds each for exactly 100 ms.
    let api = "request_timeout = \"100ms\"\n\
               retry = { max_attempts = 5, backoff = \"fixed\", base = \"45ms\" }\n";
    let tiers = tier("api", "10ms", api) + &tier("ledger", "20ms", "errors = 1\n");
    let s = run_model(&model(50.0, &tiers), &[]);
    let first = count(&s, "tiers.0.arrivals");
    let ledger = count(&s, "tiers.1.arrivals");
    assert!(ledger.abs_diff(2 * first) <= 10, "{ledger} vs 2 x {first}");
    assert_eq!(count(&s, "requests.succeeded"), 0);
    let w = at(&s, "tiers.0.mean_time_in_tier_s").as_f64().unwrap();
    assert!((w - 0.100).abs() < 1e-6, "the api holds each call {w} s");
}

#[test]
fn a_callee_cut_off_by_its_request_timeout_is_retried_only_when_on_says_so() {
    // The ledger takes 50 ms and cuts every request off at 30 ms: each attempt times out.
    // With on = ["timed_out"] the api makes exactly 3; with on = ["rejected", "error"] only 1.
    let ledger = "request_timeout = \"30ms\"\n";
    for (on, attempts) in [("\"timed_out\"", 3), ("\"rejected\", \"error\"", 1)] {
        let api = format!(
            "retry = {{ max_attempts = 3, backoff = \"fixed\", base = \"10ms\", on = [{on}] }}\n"
        );
        let tiers = tier("api", "1ms", &api) + &tier("ledger", "50ms", ledger);
        let s = run_model(&model(50.0, &tiers), &[]);
        let first = count(&s, "tiers.0.arrivals");
        let got = count(&s, "tiers.1.arrivals");
        assert!(
            got.abs_diff(attempts * first) <= 10,
            "on = [{on}]: {got} attempts for {first} calls"
        );
        let retries = count(&s, "tiers.1.retries");
        assert!(
            retries.abs_diff((attempts - 1) * first) <= 10,
            "{retries} retries"
        );
        assert_eq!(count(&s, "requests.succeeded"), 0);
    }
}

#[test]
fn hop_retries_are_the_same_whatever_the_threads() {
    let tiers = tier("edge", "5ms", RETRY_3)
        + &tier("orders", "10ms", RETRY_3)
        + "[[tier]]\nname = \"ledger\"\ninstances = 1\nthreads = 8\nqueue = 8\n\
           service = { dist = \"exponential\", mean = \"20ms\" }\nerrors = 0.2\n";
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "m.toml", &model(300.0, &tiers));
    let mut got = Vec::new();
    // `surge run` runs its replications on rayon's threads: 1, then 2.
    for jobs in ["1", "2"] {
        let sub = dir.path().join(jobs);
        std::fs::create_dir_all(&sub).unwrap();
        let o = surge()
            .env("RAYON_NUM_THREADS", jobs)
            .args(["run", "--quiet", "--reps", "4", "--out"])
            .arg(sub.join("out"))
            .arg(&file)
            .output()
            .unwrap();
        crate::common::assert_success(&o);
        let s = crate::common::read_json(&sub.join("out").join("summary.json"));
        crate::common::check_invariants(&s);
        let tiers: Vec<&Value> = reps(&s).iter().map(|r| &r["tiers"]).collect();
        let text = serde_json::to_string(&tiers).unwrap();
        got.push((text, column(&sub, "ledger.retries")));
    }
    assert_eq!(got[0], got[1]);
    // The ledger is overloaded (8 threads of 20 ms against 300 calls a second): it turns
    // attempts away and both hops retry them.
    assert!(got[0].1.iter().sum::<f64>() > 1000.0, "{:?}", got[0].1);
}

#[test]
fn a_bad_retry_key_names_its_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            tier(
                "api",
                "1ms",
                "retry = { max_attempts = 3, on = [\"bogus\"] }\n",
            ) + &tier("db", "1ms", ""),
            vec!["m.toml", "tier.api.retry", "bogus"],
        ),
        (
            tier("api", "1ms", "") + &tier("db", "1ms", "retry = { max_attempts = 3 }\n"),
            vec![
                "m.toml",
                "tier.db.retry",
                "the last tier calls no other tier",
            ],
        ),
        (
            tier("api", "1ms", "retry = { max_attempts = 3, on = [] }\n") + &tier("db", "1ms", ""),
            vec!["m.toml", "tier.api.retry.on", "at least one outcome"],
        ),
        (
            tier(
                "api",
                "1ms",
                "retry = { max_attempts = 3, base = \"2s\", cap = \"1s\" }\n",
            ) + &tier("db", "1ms", ""),
            vec!["m.toml", "tier.api.retry.cap", "below its base"],
        ),
    ];
    for (tiers, fragments) in cases {
        let file = write_file(dir.path(), "m.toml", &model(1.0, &tiers));
        let o = surge().arg("check").arg(&file).output().unwrap();
        assert_bad_input(&o, &fragments);
    }
}

#[test]
fn the_timeline_draws_the_attempts_arriving_at_each_tier() {
    let tiers = tier("api", "10ms", RETRY_3) + &tier("ledger", "20ms", "errors = 0.3\n");
    let (dir, s) = crate::common::run_model_keep(&model(200.0, &tiers), &[]);
    let chart = crate::svg::Chart::read(&dir.path().join("out").join("timeline.svg"));
    // Its panel, with one curve per tier named in the legend.
    chart.assert_shows(&[
        "Attempts arriving at each tier per second (each hop's retries included)",
        "api",
        "ledger",
    ]);
    // And the columns it is drawn from: each bucket's ledger arrivals are the api's plus its
    // retries (up to the few calls under way at a bucket's end).
    let (api, ledger) = (
        column(dir.path(), "api.arrivals"),
        column(dir.path(), "ledger.arrivals"),
    );
    let retries = column(dir.path(), "ledger.retries");
    for i in 0..api.len() {
        assert!(
            (ledger[i] - api[i] - retries[i]).abs() <= 60.0,
            "bucket {i}"
        );
    }
    assert!(count(&s, "tiers.1.retries") > 0);
}

#[test]
fn surge_check_prints_the_amplification_the_keys_predict() {
    // The model of `two_retrying_hops_multiply`: the same exact figures, before any run.
    let tiers = tier("edge", "5ms", RETRY_3)
        + &tier("orders", "10ms", RETRY_3)
        + &tier("ledger", "20ms", "errors = 0.5\n");
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "m.toml", &model(100.0, &tiers));
    let text = crate::common::check_ok(&file);
    assert!(
        text.contains("attempts per call (each attempt of a tier counted where it arrives) edge 1.000, orders 1.141, ledger 1.996; a call fails 0.1953% of the time; at most 9 attempts per call at ledger if every attempt fails"),
        "{text}"
    );
}

/// `surge check` on `tiers` (the 200/s source of `model`), with `args`: its stdout.
fn check_text(tiers: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "m.toml", &model(200.0, tiers));
    let o = crate::common::check_output(&file, args);
    crate::common::assert_success(&o);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn surge_check_loads_count_the_attempts_and_the_backoffs() {
    // The model of `one_retrying_hop_makes_one_plus_p_plus_p_squared_attempts`: the api's
    // thread is held 10 + 20 x 1.39 + 50 x 0.39 = 57.3 ms per call, 200 x 0.0573 = 11.46
    // Erlangs (the busy threads that test measures); the ledger gets 1.39 attempts per call,
    // 200 x 1.39 x 0.020 = 5.56 Erlangs. One attempt per call said 6.0 and 4.0.
    let tiers = tier("api", "10ms", RETRY_3) + &tier("ledger", "20ms", "errors = 0.3\n");
    let text = check_text(&tiers, &[]);
    assert!(
        text.contains("thread held 0.0573 s; offered load 11.5 Erlangs at baseline (utilisation 0.6%), 11.5 at peak (0.6%)\n"),
        "{text}"
    );
    assert!(
        text.contains("thread held 0.0200 s; offered load 5.6 Erlangs at baseline (utilisation 0.3%), 5.6 at peak (0.3%) (x1.39 attempts per call from [tier.retry]"),
        "{text}"
    );
    assert!(
        text.contains("the tier loads above count these attempts"),
        "{text}"
    );
}

#[test]
fn surge_check_counts_the_gallery_chain_ledger_at_its_attempts() {
    // The ledger gets 1.4286 attempts per call (gallery.rs measures 1.425): 100/s x 1.4286 x
    // 100 ms = 14.3 Erlangs of its 24 threads, 28.6 at the 2x peak: overloaded (one attempt
    // per call said 10.0 and 20.0, which fit).
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/microservice-chain.toml");
    let o = crate::common::check_output(&file, &[]);
    crate::common::assert_success(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("tier ledger: 1 instance x 24 threads; mean service 0.1000 s (cv 1.00), thread held 0.1000 s; offered load 14.3 Erlangs at baseline (utilisation 59.5%), 28.6 at peak (119.0%) (x1.43 attempts per call from [tier.retry]"),
        "{text}"
    );
    assert!(
        text.contains("more under overload) — overloaded at peak\n"),
        "{text}"
    );
}

#[test]
fn surge_check_amplifies_a_tier_only_some_requests_visit() {
    // The ledger is visited by 60% of the requests and fails 10%: the api makes 1 + 0.1 +
    // 0.01 = 1.11 attempts per visit, 0.6 x 1.11 = 0.666 per call; 200 x 0.666 x 20 ms =
    // 2.7 Erlangs. A call fails when all three do: 0.6 x 0.1^3 = 0.06%.
    let tiers =
        tier("api", "10ms", RETRY_3) + &tier("ledger", "20ms", "visit = 0.6\nerrors = 0.1\n");
    let text = check_text(&tiers, &[]);
    assert!(
        text.contains("attempts per call (each attempt of a tier counted where it arrives) api 1.000, ledger 0.666; a call fails 0.0600% of the time"),
        "{text}"
    );
    assert!(
        text.contains("offered load 2.7 Erlangs at baseline (utilisation 0.1%), 2.7 at peak (0.1%) (x0.67 attempts per call"),
        "{text}"
    );
}

#[test]
fn surge_check_says_a_load_dependent_retry_is_counted_once() {
    // The api retries rejections only and nothing fails whatever the load: the retries come
    // with overload, which a nominal load cannot count.
    let retry = "retry = { max_attempts = 3, on = [\"rejected\"] }\n";
    let tiers = tier("api", "10ms", retry) + &tier("ledger", "20ms", "errors = 0.3\n");
    let text = check_text(&tiers, &[]);
    assert!(
        text.contains("offered load 4.0 Erlangs at baseline (utilisation 0.2%), 4.0 at peak (0.2%) (the load counts one attempt per call: the tiers above retry it only on failures that depend on the load, rejections and timeouts)"),
        "{text}"
    );
}
