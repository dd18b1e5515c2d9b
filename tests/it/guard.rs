//! Guard rails: `--max-events` and `--max-wall` end a run cleanly with partial results marked as
//! such; an absurd model is refused before it runs (unless allowed or bounded); and a 30-day
//! horizon keeps nanosecond resolution.

use crate::common::{check_invariants, run_model, run_model_keep, surge};

const BUSY: &str = "[scenario]\nduration = \"1h\"\nbucket = \"1m\"\nseed = 5\n\n\
    [[source]]\nkind = \"requests\"\nrate = 20000\n\n\
    [[tier]]\nname = \"web\"\ninstances = 2\nthreads = 40\n\
    service = { dist = \"exponential\", mean = \"2ms\" }\n";

#[test]
fn max_events_ends_the_run_with_partial_results() {
    let (dir, s) = run_model_keep(BUSY, &["--max-events", "50000"]);
    assert_eq!(s["partial"], true, "{s}");
    assert_eq!(s["ended_by"], "max_events");
    assert_eq!(s["events"], 50_000);
    let until = s["simulated_until_s"].as_f64().unwrap();
    assert!(until > 0.0 && until < 3600.0, "{until}");
    assert_eq!(s["sim_time_s"].as_f64(), Some(until));
    // The partial run still balances its books (run_model_keep checked the invariants), and its
    // time series stops where the run did.
    let t = crate::common::column(dir.path(), "t_s");
    assert!(*t.last().unwrap() <= until, "{t:?}");
    assert!(t.len() <= (until / 60.0).ceil() as usize);
}

#[test]
fn max_wall_ends_the_run_with_partial_results() {
    // About 1.4e8 events: far longer than the bound on any machine.
    let started = std::time::Instant::now();
    let s = run_model(BUSY, &["--max-wall", "300ms"]);
    assert!(started.elapsed().as_secs_f64() < 20.0);
    assert_eq!(s["partial"], true, "{s}");
    assert_eq!(s["ended_by"], "max_wall");
    assert!(s["wall_s"].as_f64().unwrap() < 5.0);
    check_invariants(&s);
}

#[test]
fn a_complete_run_is_not_marked_partial() {
    let small = BUSY.replace("duration = \"1h\"", "duration = \"2s\"");
    let s = run_model(&small, &["--max-events", "100000000"]);
    assert!(
        s.get("partial").is_none() && s.get("ended_by").is_none(),
        "{s}"
    );
}

#[test]
fn an_absurd_model_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, BUSY.replace("\"1h\"", "\"300d\"")).unwrap();
    let out = dir.path().join("out");
    let o = surge()
        .args(["run"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = crate::common::refused(&o, "huge.toml");
    assert!(
        err.contains("huge.toml") && err.contains("1.0e12 events"),
        "{err}"
    );
    assert!(
        err.contains("--allow-huge") && err.contains("--max-events"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out.exists());
    // Bounded, it runs (and says it stopped).
    let s = run_model(
        &BUSY.replace("\"1h\"", "\"300d\""),
        &["--max-events", "20000"],
    );
    assert_eq!(s["ended_by"], "max_events");
}

#[test]
fn thirty_days_keep_nanosecond_latencies() {
    // Arrivals only in the last hour of 30 days; a deterministic 0.5 ms + 1 ns of service at a
    // server that never queues. Kept in f64 seconds (resolution 0.5 ns at 2.6e6 s, accumulated
    // over 3 events) the latencies would drift; in integer nanoseconds they are exact.
    let model = "[scenario]\nduration = \"30d\"\nbucket = \"1h\"\nseed = 1\n\n\
        [[source]]\nkind = \"requests\"\nrate = 1\nprofile = [[\"0s\", 0.0], [\"719h\", 0.0], [\"719h\", 1.0]]\n\n\
        [[tier]]\nname = \"web\"\ninstances = 1\nthreads = 1000\n\
        service = { dist = \"deterministic\", value = \"500001ns\" }\n";
    let s = run_model(model, &["--set", "scenario.duration=30d"]);
    let n = s["requests"]["succeeded"].as_u64().unwrap();
    assert!((3300..3900).contains(&n), "{n} requests in the last hour");
    let mean = s["latency_s"]["mean"].as_f64().unwrap();
    assert!(
        (mean - 0.000_500_001).abs() < 1e-14,
        "mean latency {mean:e} s at t = 30 days"
    );
    assert_eq!(s["sim_time_s"].as_f64(), Some(30.0 * 86_400.0));
}
