//! A connection pool as the planner sees it (issue 29, item 3, from a new-user trial): a
//! checkout API, front -> app (a pool to db) -> db, with client retries and a 4x surge. Where
//! the pool is the bottleneck (4 app instances x 6 connections = 24 in a db of 48 threads), the
//! terminal names the pool, not the front door that turns attempts away, the pool's figures
//! are on the terminal, in the report's table and in the time series, and `surge report`
//! searches the pool's connections for the crash point. Where the db's threads are the
//! bottleneck (a pool of 4 x 30 = 120 in front of 24 threads) the pool is not blamed.

use crate::common::{at, count, csv_column, run_text, surge_on, tier, write_file};

/// The trial's site: `connections` per app instance to a db of `db_threads` 40 ms threads;
/// 200 requests a second, 4x at the surge (800 a second: 32 db requests at once needed).
fn checkout(connections: u32, db_threads: u32) -> String {
    let front = tier("front", (1, 200, 50), "lognormal", "2ms", 0.5);
    let app = tier("app", (4, 32, 20), "lognormal", "5ms", 1.0);
    let db = tier("db", (1, db_threads, 200), "lognormal", "40ms", 1.0);
    format!(
        r#"[scenario]
name = "checkout"
duration = "5m"
warmup = "30s"
seed = 7
bucket = "10s"
[surge]
peak = 4.0
start = "1m"
ramp = "10s"
hold = "2m"
decay = "10s"
[[source]]
kind = "requests"
rate = 200
[client]
timeout = "5s"
[client.retry]
max_attempts = 3
{front}{app}pool = {{ connections = {connections}, timeout = "1s" }}
{db}[slo]
window = "30s"
stable = "1m"
"#
    )
}

#[test]
fn a_pool_that_limits_is_named_as_the_bottleneck() {
    let (dir, text) = run_text(&checkout(6, 48), &[]);
    // The front door turns attempts away, but the line says why.
    assert!(
        text.contains("client attempts turned away at front"),
        "{text}"
    );
    assert!(
        text.contains(
            " (waits for the app -> db pool's connections behind them: see the bottleneck line)"
        ),
        "{text}"
    );
    assert!(
        text.contains("bottleneck: the app -> db pool (6 connections per instance x 4 instances = 24): every connection of an instance's pool in use "),
        "{text}"
    );
    assert!(text.contains("while db had threads to spare ("), "{text}");
    // The pool's own line under the app tier, with its size and peak.
    assert!(
        text.contains("  pool app -> db: 6 connections per instance x 4 instances = 24; "),
        "{text}"
    );
    assert!(text.contains("at most 24 in use at once"), "{text}");
    // Utilisation says which: the mean over the run and the busiest bucket.
    assert!(
        text.contains("mean over the run (") && text.contains("in its busiest 10.0 s bucket)"),
        "{text}"
    );
    let s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let full = at(&s, "tiers.1.pool_full_share").as_f64().unwrap();
    assert!(full > 0.3 && full <= 1.0, "the pool full {full}");
    let db_peak = at(&s, "tiers.2.utilization_peak_bucket").as_f64().unwrap();
    // 24 connections, 48 threads: the db never has more than half of them busy.
    assert!(
        db_peak <= 0.5 && db_peak > 0.4,
        "db's busiest bucket {db_peak}"
    );
    assert!(count(&s, "tiers.1.pool_waited") >= count(&s, "tiers.1.pool_timeouts"));
    assert!(count(&s, "tiers.1.pool_requests") > count(&s, "tiers.1.pool_waited"));
    assert_eq!(count(&s, "tiers.1.pool_peak_connections"), 24);
    // The time series: connections in use never past the pool's 24 (a time average per bucket).
    let csv = std::fs::read_to_string(dir.path().join("out/timeseries.csv")).unwrap();
    let used: Vec<f64> = (csv_column(&csv, "app.pool_in_use").iter())
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(!used.is_empty());
    assert!(used.iter().all(|&u| u <= 24.0 + 1e-9), "{used:?}");
    assert!(used.iter().any(|&u| u > 23.0), "the pool filled: {used:?}");
    assert!(!csv_column(&csv, "app.pool_waiting").is_empty());
    // The report: the answer names the pool, the table has its rows.
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        md.contains("The bottleneck was the app -\\> db pool"),
        "{md}"
    );
    assert!(
        md.contains("app: requests that waited for a connection"),
        "{md}"
    );
    assert!(md.contains("app: pool full"), "{md}");
    assert!(md.contains("db: utilisation in its busiest bucket"), "{md}");
}

#[test]
fn a_full_pool_before_busy_db_threads_is_not_blamed() {
    // 120 connections into 24 db threads: the db's threads saturate at the surge and its queue
    // fills the pools; the db, not the pool, is the limit.
    let (dir, text) = run_text(&checkout(30, 24), &[]);
    assert!(!text.contains("bottleneck: the app -> db pool"), "{text}");
    assert!(!text.contains("see the bottleneck line"), "{text}");
    assert!(
        text.contains("; not the bottleneck: db's threads were all busy ("),
        "{text}"
    );
    let s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let db_peak = at(&s, "tiers.2.utilization_peak_bucket").as_f64().unwrap();
    assert!(db_peak > 0.95, "db's busiest bucket {db_peak}");
    // The db's threads, all busy in its busiest bucket, are named instead (issue 29).
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(!md.contains("The bottleneck was the app"), "{md}");
    assert!(db_peak >= 0.99, "db's busiest bucket {db_peak}");
    assert!(
        text.contains("bottleneck: db, all threads busy in its busiest bucket ("),
        "{text}"
    );
    assert!(
        md.contains("The bottleneck was db, all threads busy in its busiest bucket ("),
        "{md}"
    );
}

#[test]
fn surge_report_searches_the_pool_that_limits() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "checkout.toml", &checkout(6, 48));
    let out = dir.path().join("report");
    let o = surge_on(
        "report",
        &file,
        &["--budget", "2m", "--jobs", "2", "--quiet"],
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("crash point in tier.app.pool.connections (6..18)"),
        "{md}"
    );
    assert!(
        md.contains("searched in the app -\\> db pool, the bottleneck the run measured (its connections all in use while db had threads to spare"),
        "{md}"
    );
    assert!(!md.contains("crash point in tier.db.instances"), "{md}");
    assert!(
        md.contains("Crash point at ") && md.contains(" tier.app.pool.connections, "),
        "{md}"
    );
}

#[test]
fn the_pool_rule_runs_over_replications() {
    let (_dir, text) = run_text(&checkout(6, 48), &["--reps", "2"]);
    assert!(text.contains("bottleneck: the app -> db pool"), "{text}");
}

/// Without any pool the busiest bucket is measured too, so a db whose threads are all busy is
/// named the bottleneck on the terminal (issue 29: the rule worked only in models with a pool).
#[test]
fn a_saturated_tier_is_named_in_a_model_without_pools() {
    let model = checkout(30, 24).replace("pool = { connections = 30, timeout = \"1s\" }\n", "");
    assert!(!model.contains("pool"), "{model}");
    let (dir, text) = run_text(&model, &[]);
    let s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let db_peak = at(&s, "tiers.2.utilization_peak_bucket").as_f64().unwrap();
    assert!(db_peak >= 0.99, "db's busiest bucket {db_peak}");
    assert!(
        text.contains("bottleneck: db, all threads busy in its busiest bucket ("),
        "{text}"
    );
}
