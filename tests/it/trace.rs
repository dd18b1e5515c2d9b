//! Trace sources replay recorded arrivals: a column of instants gives exactly those arrivals,
//! and per-bucket counts come back bucket by bucket in the run's time series.

use crate::common::{column, run_file};

const TIERS: &str = "[[tier]]\nname = \"web\"\ninstances = 1\nthreads = 50\nservice = { dist = \"deterministic\", value = \"10ms\" }\n";

#[test]
fn a_trace_of_instants_gives_exactly_those_arrivals() {
    let dir = tempfile::tempdir().unwrap();
    // 1,000 arrivals inside the 10-minute horizon, then 5 after it (not replayed).
    let mut csv = String::from("time\n");
    for i in 0..1000 {
        csv.push_str(&format!("{}\n", i as f64 * 0.537));
    }
    for i in 0..5 {
        csv.push_str(&format!("{}\n", 600.0 + i as f64));
    }
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/arrivals.csv"), csv).unwrap();
    let model = format!(
        "[scenario]\nduration = \"10m\"\nbucket = \"1m\"\n\n[[source]]\nkind = \"trace\"\nfile = \"data/arrivals.csv\"\n\n{TIERS}"
    );
    let file = dir.path().join("model.toml");
    std::fs::write(&file, model).unwrap();
    let s = run_file(&file, dir.path(), &[]);
    assert_eq!(s["requests"]["offered"], 1000, "{}", s["requests"]);
    assert_eq!(s["requests"]["succeeded"], 1000, "{}", s["requests"]);
    // Deterministic service at an idle server: every latency is the service time.
    let p99 = s["latency_s"]["p99"].as_f64().unwrap();
    assert!((p99 - 0.010).abs() < 1e-4, "p99 {p99}");
}

#[test]
fn a_per_bucket_trace_reproduces_its_counts() {
    let dir = tempfile::tempdir().unwrap();
    let counts = [120u64, 0, 45, 980, 3, 600, 7, 250];
    let mut csv = String::from("start,count\n");
    for (i, c) in counts.iter().enumerate() {
        csv.push_str(&format!("{}m,{c}\n", i));
    }
    std::fs::write(dir.path().join("buckets.csv"), csv).unwrap();
    let model = format!(
        "[scenario]\nduration = \"8m\"\nbucket = \"1m\"\nseed = 3\n\n[[source]]\nkind = \"trace\"\nfile = \"buckets.csv\"\n\n{TIERS}"
    );
    let file = dir.path().join("model.toml");
    std::fs::write(&file, model).unwrap();
    let s = run_file(&file, dir.path(), &[]);
    assert_eq!(
        s["requests"]["offered"].as_u64().unwrap(),
        counts.iter().sum::<u64>()
    );
    let offered = column(dir.path(), "offered");
    let want: Vec<f64> = counts.iter().map(|c| *c as f64).collect();
    assert_eq!(offered, want);
    // Spread inside the bucket, not piled at its start: the 980 arrivals of minute 3 meet no
    // queue at a 50-thread server with 10 ms service only if they are spread out.
    let p99 = s["latency_s"]["p99"].as_f64().unwrap();
    assert!(p99 < 0.015, "p99 {p99}: arrivals piled up");

    // Seeded: the same seed gives the same run, another seed another spread.
    let again = run_file(&file, dir.path(), &[]);
    assert_eq!(s["latency_s"], again["latency_s"]);
}
