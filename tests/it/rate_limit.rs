//! The edge rate limiter (`[rate_limit]`, `[source.rate_limit]`): a token bucket that starts
//! full. Against an arrival stream faster than its rate, a greedy token bucket lets through
//! exactly what its tokens allow: with arrivals at t_k, the attempts passed by time t are
//! burst + rate x t (whole tokens), the rest are 429s counted as `rejected` and
//! `rate_limited`; the clients retry them as any rejection. Every run is checked for
//! conservation and Little's law (`common::check_invariants`).

use serde_json::Value;

use crate::common::{check_invariants, run_model, write_file};

const TIER: &str = r#"
[[tier]]
name = "web"
instances = 1
threads = 200
service = { dist = "exponential", mean = "10ms" }
"#;

fn counts(s: &Value) -> (u64, u64, u64, u64) {
    let r = &s["requests"];
    let n = |k: &str| r[k].as_u64().unwrap();
    (
        n("offered"),
        n("succeeded") + n("in_flight"),
        n("rejected"),
        n("rate_limited"),
    )
}

#[test]
fn a_source_bucket_passes_its_burst_then_its_rate_exactly() {
    // 6,000 arrivals 10 ms apart (100 a second) against 50 tokens a second and a burst of 10:
    // the bucket passes 10 + 50 x 59.99 = 3,009.5 tokens' worth by the last arrival, so
    // 3,009 attempts, and refuses the other 2,991.
    let dir = tempfile::tempdir().unwrap();
    let times: String = (0..6000)
        .map(|k| format!("{:.2}\n", k as f64 * 0.01))
        .collect();
    write_file(dir.path(), "arrivals.csv", &format!("time\n{times}"));
    let model = format!(
        "[scenario]\nduration = \"2m\"\n[[source]]\nname = \"replay\"\nkind = \"trace\"\n\
         file = \"arrivals.csv\"\nrate_limit = {{ rate = 50, burst = 10 }}\n{TIER}"
    );
    let file = write_file(dir.path(), "model.toml", &model);
    let s = crate::common::run_file(&file, dir.path(), &[]);
    check_invariants(&s);
    let (offered, passed, rejected, limited) = counts(&s);
    assert_eq!(
        (offered, passed, rejected, limited),
        (6000, 3009, 2991, 2991)
    );
    // The time series has the 429s per bucket: every arrival falls in the first minute.
    let per_bucket = crate::common::column(dir.path(), "rate_limited");
    assert_eq!(per_bucket, vec![2991.0, 0.0]);
    // Nothing reached the tier but what passed: it served those 3,009 in the 2 minutes.
    let served = s["tiers"][0]["departures_per_s"].as_f64().unwrap() * 120.0;
    assert!((served - 3009.0).abs() < 1e-6, "{served}");
}

#[test]
fn a_site_bucket_holds_every_source_together_to_its_rate() {
    // Two Poisson sources of 100 a second against one bucket of 50 a second for an hour:
    // the offered stream is four times the rate, so the bucket is almost always empty and
    // passes 50 x 3600 + 100 tokens, less the few lost to a full bucket (none, in practice).
    // One source has its own bucket of 20 a second too: it gets at most 20 x 3600 + 20.
    let model = format!(
        "[scenario]\nduration = \"1h\"\nseed = 5\n\
         [[source]]\nname = \"a\"\nkind = \"requests\"\nrate = 100\n\
         rate_limit = {{ rate = 20 }}\n\
         [[source]]\nname = \"b\"\nkind = \"requests\"\nrate = 100\n\
         [rate_limit]\nrate = 50\nburst = 100\n{TIER}"
    );
    let s = run_model(&model, &[]);
    check_invariants(&s);
    let (offered, passed, rejected, limited) = counts(&s);
    assert_eq!(rejected, limited, "only the edge refuses");
    // The terminal says which share of the rejected were 429s: all of them.
    let (_, text) = crate::common::run_text(&model, &[]);
    assert!(
        text.contains("100.0% of those 429s of the edge rate limit"),
        "{text}"
    );
    assert_eq!(passed + rejected, offered);
    let cap = 50 * 3600 + 100;
    assert!(
        passed <= cap && passed + 5 >= cap,
        "passed {passed}, bucket {cap}"
    );
    // Offered 200 a second, within a Poisson 4-sigma band.
    assert!((offered as f64 - 720_000.0).abs() < 4.0 * 720_000f64.sqrt());
}

#[test]
fn clients_retry_a_429_and_the_call_level_shows_it() {
    // 100 a second against 80 a second: a fifth of the attempts are refused; with up to 4
    // attempts and a short backoff, most calls get through in the end.
    let model = format!(
        "[scenario]\nduration = \"30m\"\nseed = 2\n\
         [[source]]\nname = \"api\"\nkind = \"requests\"\nrate = 100\n\
         rate_limit = {{ rate = 80 }}\n\
         [client.retry]\nmax_attempts = 4\nbase = \"100ms\"\n{TIER}"
    );
    let s = run_model(&model, &[]);
    check_invariants(&s);
    let (offered, passed, _, limited) = counts(&s);
    assert!(limited > 0 && s["requests"]["retries"].as_u64().unwrap() > 0);
    // The bucket passes 80 a second whatever the retries add.
    let cap = 80 * 1800 + 80;
    assert!(
        passed <= cap && passed + 5 >= cap,
        "passed {passed}, bucket {cap}"
    );
    let per_attempt = passed as f64 / offered as f64;
    let per_call = s["calls"]["success_rate"].as_f64().unwrap();
    assert!(
        per_call > per_attempt + 0.05,
        "calls {per_call} vs attempts {per_attempt}"
    );
}

#[test]
fn check_says_what_share_each_bucket_must_refuse_at_the_peak() {
    // 50 requests/s x a 4x surge = 200/s against the source's bucket of 150/s (it refuses 25%),
    // then the site's bucket of 100/s is offered those 150/s (it refuses a third); the tier is
    // loaded with the 100/s let through: 100/s x 10 ms = 1.0 Erlang of its 200 threads (0.5%).
    let dir = tempfile::tempdir().unwrap();
    let model = format!(
        "[scenario]\nduration = \"1h\"\n[surge]\npeak = 4\nstart = \"10m\"\nhold = \"20m\"\n\
         [[source]]\nname = \"api\"\nkind = \"requests\"\nrate = 50\n\
         rate_limit = {{ rate = 150 }}\n[rate_limit]\nrate = 100\nburst = 200\n{TIER}"
    );
    let file = write_file(dir.path(), "model.toml", &model);
    let out = crate::common::check_ok(&file);
    for line in [
        "edge rate limit (every source): 100/s, burst 200; at the surge peak (150.0/s offered \
         to it) it refuses at least 33.3% of the first attempts with 429",
        "edge rate limit of source api: 150/s, burst 150; at the surge peak (200.0/s offered to \
         it) it refuses at least 25.0% of the first attempts with 429",
        "the tier loads below count what the limits let through: 100.0/s at the surge peak",
        "0.5 Erlangs at baseline (utilisation 0.2%), 1.0 at peak (0.5%)",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}
