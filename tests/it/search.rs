//! The crash-point search spends its runs around the crossing, resumes from its journal, and
//! uses common seeds (recorded); common seeds make a difference between two points sharper for
//! the same replications than independent ones, measured on the memory-crash model of
//! tests/it/sweep.rs.

use crate::common::surge;
use serde_json::Value;
use std::path::Path;

/// The model of tests/it/sweep.rs: one instance of c = 10 threads at m = 10 req/s each, base load
/// 50 req/s, a memory limit reached once 200 requests are in it; a 30-minute surge crashes it
/// once the offered load passes c m, so the crash point in `surge.peak` is 2 and, at peak 3
/// (150 req/s), the crash point in threads lies between 15 and 16.
const THEORY: &str = r#"
[scenario]
duration = "40m"
seed = 3
[surge]
start = "5m"
ramp = "0s"
hold = "30m"
decay = "0s"
[[source]]
kind = "requests"
rate = 50
[[tier]]
name = "app"
instances = 1
threads = 10
service = { dist = "exponential", mean = "100ms" }
[tier.memory]
base = "0"
per_request = "1MiB"
limit = "200MiB"
"#;

fn surge_on(dir: &Path, args: &[&str]) -> std::process::Output {
    let file = dir.join("model.toml");
    std::fs::write(&file, THEORY).unwrap();
    let out = surge()
        .arg(args[0])
        .arg(&file)
        .args(&args[1..])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const THREADS: &[&str] = &[
    "crashpoint",
    "--vary",
    "tier.app.threads=5..40",
    "--set",
    "surge.peak=3",
    "--quiet",
];

#[test]
fn an_all_or_nothing_count_is_bracketed_with_one_replication_per_value_but_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cp");
    let mut args = THREADS.to_vec();
    args.extend(["--out", out.to_str().unwrap()]);
    surge_on(dir.path(), &args);
    let cp = json(&out.join("crashpoint.json"));
    assert_eq!(cp["method"], "bracket");
    assert_eq!(cp["ci95"], serde_json::json!([15.0, 16.0]));
    // One replication at each value of the bisection; six (each all alike: 0.5^6 < 2.5%) at
    // the two values around the crossing.
    let points = cp["points"].as_array().unwrap();
    for p in points {
        let (v, reps) = (p["value"].as_f64().unwrap(), p["reps"].as_u64().unwrap());
        let want = if v == 15.0 || v == 16.0 { 6 } else { 1 };
        assert_eq!(reps, want, "{p}");
    }
    let runs = cp["runs"].as_u64().unwrap();
    assert!(runs <= 20, "{runs} runs");
    assert_eq!(cp["seeds"], "common");
    assert!(!out.join("crashpoint.partial.csv").exists(), "journal left");
}

#[test]
fn an_interrupted_search_resumes_from_its_journal_with_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let mut args = THREADS.to_vec();
    args.extend(["--jobs", "1", "--out", whole.to_str().unwrap()]);
    surge_on(dir.path(), &args);
    // The same search, killed once its journal holds a few runs.
    let cut = dir.path().join("cut");
    let file = dir.path().join("model.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_surge"))
        .arg("crashpoint")
        .arg(&file)
        .args(&THREADS[1..])
        .args(["--jobs", "1", "--out", cut.to_str().unwrap()])
        .spawn()
        .unwrap();
    let journal = cut.join("crashpoint.partial.csv");
    let rows = || {
        std::fs::read_to_string(&journal)
            .map(|t| t.lines().count().saturating_sub(2))
            .unwrap_or(0)
    };
    let start = std::time::Instant::now();
    while rows() < 3 && start.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = rows();
    assert!(kept >= 3, "the journal holds {kept} runs");
    assert!(!cut.join("crashpoint.json").exists() || kept > 0);
    let mut again = THREADS.to_vec();
    again.extend(["--jobs", "1", "--resume", "--out", cut.to_str().unwrap()]);
    surge_on(dir.path(), &again);
    let (a, b) = (
        json(&whole.join("crashpoint.json")),
        json(&cut.join("crashpoint.json")),
    );
    assert!(b["runs_from_journal"].as_u64().unwrap() >= 3, "{b}");
    for k in [
        "crash_point",
        "ci95",
        "method",
        "points",
        "runs",
        "direction",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
    // A journal of another search is refused.
    std::fs::write(
        cut.join("crashpoint.partial.csv"),
        "# surge crashpoint journal: surge_version=0 model_hash=0\n",
    )
    .unwrap();
    let o = surge()
        .arg("crashpoint")
        .arg(&file)
        .args(&THREADS[1..])
        .args(["--resume", "--out", cut.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another crash-point search"));
}

/// `points.csv` of a sweep over two surge peaks with `--seeds MODE`: per replication, the
/// (seed, metric) at each point.
fn pairs(dir: &Path, mode: &str, reps: &str, metric: &str) -> Vec<[(String, f64); 2]> {
    let out = dir.join(mode);
    surge_on(
        dir,
        &[
            "sweep",
            "--vary",
            "surge.peak=1.8,1.9",
            "--reps",
            reps,
            "--seeds",
            mode,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(json(&out.join("sweep.json"))["seeds"], mode);
    let mut rdr = csv::Reader::from_path(out.join("points.csv")).unwrap();
    let head = rdr.headers().unwrap().clone();
    let col = |k: &str| head.iter().position(|h| h == k).unwrap();
    let (p, r, s, m) = (col("point"), col("rep"), col("seed"), col(metric));
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let reps: usize = reps.parse().unwrap();
    (0..reps)
        .map(|rep| {
            let at = |point: usize| {
                let row = rows
                    .iter()
                    .find(|x| x[p] == point.to_string() && x[r] == rep.to_string())
                    .unwrap();
                (row[s].to_string(), row[m].parse::<f64>().unwrap())
            };
            [at(0), at(1)]
        })
        .collect()
}

fn variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

#[test]
fn common_seeds_pair_the_points_and_sharpen_a_difference() {
    let dir = tempfile::tempdir().unwrap();
    let metric = "tiers.app.utilization";
    let common = pairs(dir.path(), "common", "40", metric);
    let independent = pairs(dir.path(), "independent", "40", metric);
    // Replication r uses one seed at both points with common seeds, two without.
    assert!(common.iter().all(|[a, b]| a.0 == b.0));
    assert!(independent.iter().all(|[a, b]| a.0 != b.0));
    // Replications needed for a given interval width of the difference between the points
    // scale with the variance of the per-replication difference.
    let diff =
        |xs: &[[(String, f64); 2]]| -> Vec<f64> { xs.iter().map(|[a, b]| b.1 - a.1).collect() };
    let (vc, vi) = (variance(&diff(&common)), variance(&diff(&independent)));
    eprintln!(
        "{metric}: variance of the difference, common {vc:.3e}, independent {vi:.3e}: \
         {:.1} times the replications with independent seeds",
        vi / vc
    );
    assert!(vi > 2.0 * vc, "common {vc:.3e}, independent {vi:.3e}");
}

#[test]
fn crashpoint_records_independent_seeds_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cp");
    let mut args = THREADS.to_vec();
    args.extend(["--seeds", "independent", "--out", out.to_str().unwrap()]);
    surge_on(dir.path(), &args);
    let cp = json(&out.join("crashpoint.json"));
    assert_eq!(cp["seeds"], "independent");
    assert_eq!(cp["ci95"], serde_json::json!([15.0, 16.0]));
}
