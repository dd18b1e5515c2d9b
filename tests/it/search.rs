//! The crash-point search spends its runs around the crossing, resumes from its journal, and
//! uses common seeds (recorded); common seeds make a difference between two points sharper for
//! the same replications than independent ones, measured on the memory-crash model of
//! tests/it/sweep.rs. `crashpoint --vary` reads its range as `sweep --vary` does, and with
//! `--criterion slo` speaks of SLO breaches throughout.

use crate::common::{memory_crash_output, read_json, run_memory_crash, surge};
use std::path::Path;

// The model, `common::MEMORY_CRASH` (as in tests/it/sweep.rs): one instance of c = 10 threads
// at m = 10 req/s each, base load 50 req/s, a memory limit reached once 200 requests are in
// it; a 30-minute surge crashes it
// once the offered load passes c m, so the crash point in `surge.peak` is 2 and, at peak 3
// (150 req/s), the crash point in threads lies between 15 and 16.

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
    run_memory_crash(dir.path(), &args);
    let cp = read_json(&out.join("crashpoint.json"));
    assert_eq!(cp["method"], "bracket");
    assert_eq!(cp["ci95"], serde_json::json!([15.0, 16.0]));
    // One replication at each value of the gallop and the bisection; at the two values around
    // the crossing, six failing (0.5^6 = 1.6%) and five holding (0.5^5 = 3.1%), 4.7% in all.
    let points = cp["points"].as_array().unwrap();
    for p in points {
        let (v, reps) = (p["value"].as_f64().unwrap(), p["reps"].as_u64().unwrap());
        let want = match v {
            15.0 => 6,
            16.0 => 5,
            _ => 1,
        };
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
    run_memory_crash(dir.path(), &args);
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
    run_memory_crash(dir.path(), &again);
    let (a, b) = (
        read_json(&whole.join("crashpoint.json")),
        read_json(&cut.join("crashpoint.json")),
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
    assert!(crate::common::refused(&o, "").contains("another crash-point search"));
}

/// The surge peaks around the crossing of this model's 40-minute run (1.975: the fluid limit
/// puts it at 2, where 50 x peak req/s meet the 100 served; a little below in a finite horizon),
/// 0.01 apart.
const NEAR_CROSSING: &str = "surge.peak=1.96,1.97,1.98,1.99";

/// `points.csv` of a sweep over the peaks near the crossing with `--seeds MODE`: per
/// replication, the (seed, metric) at each point.
fn per_rep(dir: &Path, mode: &str, reps: usize, metric: &str) -> Vec<Vec<(String, f64)>> {
    let out = dir.join(mode);
    run_memory_crash(
        dir,
        &[
            "sweep",
            "--vary",
            NEAR_CROSSING,
            "--reps",
            &reps.to_string(),
            "--seeds",
            mode,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(read_json(&out.join("sweep.json"))["seeds"], mode);
    let mut rdr = csv::Reader::from_path(out.join("points.csv")).unwrap();
    let head = rdr.headers().unwrap().clone();
    let col = |k: &str| head.iter().position(|h| h == k).unwrap();
    let (p, r, s, m) = (col("point"), col("rep"), col("seed"), col(metric));
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let points = NEAR_CROSSING.split(',').count();
    (0..reps)
        .map(|rep| {
            (0..points)
                .map(|point| {
                    let row = rows
                        .iter()
                        .find(|x| x[p] == point.to_string() && x[r] == rep.to_string())
                        .unwrap();
                    (row[s].to_string(), row[m].parse::<f64>().unwrap())
                })
                .collect()
        })
        .collect()
}

fn variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// The gain of common seeds on the question a crash-point search asks: how much more likely an
/// outage is at one value than at its neighbour. Per replication, the difference of
/// `outage.crashed` between neighbouring peaks; the replications needed for a 95% interval of
/// half-width w on that difference are 1.96^2 var / w^2, so the ratio of the variances is the
/// ratio of the replications needed (figures in docs/performance.md).
#[test]
fn common_seeds_need_fewer_replications_for_a_difference_near_the_crossing() {
    let dir = tempfile::tempdir().unwrap();
    let reps = 40;
    let common = per_rep(dir.path(), "common", reps, "outage.crashed");
    let independent = per_rep(dir.path(), "independent", reps, "outage.crashed");
    // Replication r uses one seed at every point with common seeds, its own at each without.
    assert!(common.iter().all(|r| r.iter().all(|x| x.0 == r[0].0)));
    assert!(
        independent
            .iter()
            .all(|r| r.windows(2).all(|w| w[0].0 != w[1].0))
    );
    let diffs = |xs: &[Vec<(String, f64)>]| -> Vec<f64> {
        xs.iter()
            .flat_map(|r| r.windows(2).map(|w| w[1].1 - w[0].1).collect::<Vec<_>>())
            .collect()
    };
    let (dc, di) = (diffs(&common), diffs(&independent));
    // With common seeds a replication that goes down at one peak goes down at every higher
    // one (the same arrivals, only faster): its outcomes are monotone, so the estimated
    // outage probability never falls as the peak rises.
    let backwards = dc.iter().filter(|d| **d < 0.0).count();
    assert!(
        backwards * 20 <= dc.len(),
        "{backwards} of {} pairs",
        dc.len()
    );
    let (vc, vi) = (variance(&dc), variance(&di));
    let need = |v: f64| (1.96f64.powi(2) * v / 0.1f64.powi(2)).ceil();
    eprintln!(
        "outage.crashed, difference between peaks 0.01 apart near the crossing ({} pairs): \
         variance common {vc:.3}, independent {vi:.3}; replications for a 95% interval of \
         +-0.1: common {}, independent {} ({:.1}x)",
        dc.len(),
        need(vc),
        need(vi),
        vi / vc
    );
    assert!(vi > 1.4 * vc, "common {vc:.3}, independent {vi:.3}");
}

#[test]
fn crashpoint_records_independent_seeds_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cp");
    let mut args = THREADS.to_vec();
    args.extend(["--seeds", "independent", "--out", out.to_str().unwrap()]);
    run_memory_crash(dir.path(), &args);
    let cp = read_json(&out.join("crashpoint.json"));
    assert_eq!(cp["seeds"], "independent");
    assert_eq!(cp["ci95"], serde_json::json!([15.0, 16.0]));
}

/// Run `surge crashpoint` on the model of this file with `args`, whatever its exit code.
fn crashpoint_output(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["crashpoint"];
    all.extend(args);
    memory_crash_output(dir, &all)
}

#[test]
fn crashpoint_reads_a_duration_range_as_sweep_does() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cp");
    // How long a surge of 150 req/s (50 more than the 100 served) must last to crash it.
    let o = crashpoint_output(
        dir.path(),
        &[
            "--vary",
            "surge.hold=1s..30m",
            "--set",
            "surge.peak=3",
            "--tolerance",
            "0.5",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cp = read_json(&out.join("crashpoint.json"));
    let values: Vec<f64> = cp["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    // The ends, in seconds.
    assert!(
        values.contains(&1.0) && values.contains(&1800.0),
        "{values:?}"
    );
    assert_eq!(cp["direction"], "larger crashes");
    // Errors in the words of `sweep --vary`, exit 2, nothing written.
    for (vary, says) in [
        ("surge.hold=30s..5s", "the range must go up"),
        ("surge.hold=5s..1GiB", "mixes kinds"),
        ("surge.hold=5s..soon", "is not a number, a duration"),
        ("surge.hold=5s,30s", "expected KEY=LO..HI"),
    ] {
        let out = dir.path().join("bad");
        let o = crashpoint_output(
            dir.path(),
            &["--vary", vary, "--quiet", "--out", out.to_str().unwrap()],
        );
        let err = crate::common::refused(&o, vary);
        assert!(err.contains(says), "{vary}: {err}");
        assert!(
            err.contains(&format!("(in --vary {vary})")),
            "{vary}: {err}"
        );
        assert!(!out.exists(), "{vary}: an output folder was made");
    }
    // The same mistake in `sweep --vary` reads the same.
    let file = dir.path().join("model.toml");
    let o = surge()
        .arg("sweep")
        .arg(&file)
        .args(["--vary", "surge.hold=5s..1GiB:1s", "--quiet"])
        .output()
        .unwrap();
    assert!(crate::common::refused(&o, "").contains("mixes kinds"));
}

#[test]
fn with_the_slo_criterion_every_word_says_slo_breach() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cp");
    let mut args = THREADS[1..].to_vec();
    args.retain(|a| *a != "--quiet");
    args.extend(["--criterion", "slo", "--out", out.to_str().unwrap()]);
    let o = crashpoint_output(dir.path(), &args);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.contains("SLO-breaking point of tier.app.threads"),
        "{text}"
    );
    let cp = read_json(&out.join("crashpoint.json"));
    assert_eq!(cp["criterion"], "slo");
    assert_eq!(cp["direction"], "larger keeps the SLO");
    let svg = std::fs::read_to_string(out.join("crashpoint.svg")).unwrap();
    assert!(
        svg.contains("SLO-breaking point"),
        "the chart does not say it"
    );
    assert!(svg.contains("SLO-breach probability"));
    for (what, s) in [("stdout", text.to_string()), ("chart", svg)] {
        for word in ["outage", "crash point", "crashes"] {
            assert!(
                !s.to_lowercase().contains(word),
                "{what} says `{word}` with --criterion slo"
            );
        }
    }
}

#[test]
fn crashpoint_shows_each_run_off_a_terminal_and_stops_at_its_budget() {
    // Off a terminal (a pipe, as in CI) each run is a line on stderr. With a budget spent
    // before the first run ends, the search asks for nothing after the two ends: the answer is
    // the bracket of the range, marked as stopped by --budget.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cp");
    let o = crashpoint_output(
        dir.path(),
        &[
            "--vary",
            "tier.app.threads=5..40",
            "--set",
            "surge.peak=3",
            "--budget",
            "1ms",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let cp = read_json(&out.join("crashpoint.json"));
    assert_eq!(cp["budget_reached"], true);
    assert_eq!(cp["max_runs_reached"], true);
    assert_eq!(cp["runs"], 2);
    assert_eq!(cp["ci95"], serde_json::json!([5.0, 40.0]));
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("run ")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("run 1: tier.app.threads = ")),
        "{err}"
    );
    assert!(
        err.contains("-> outage (") && err.contains("-> no outage ("),
        "{err}"
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("--budget reached"), "{text}");
    assert!(text.contains("stopped at --budget 1 ms"), "{text}");
}
