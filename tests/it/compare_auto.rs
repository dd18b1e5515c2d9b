//! `surge compare --reps auto` (the default): every variant runs 2 replications on the
//! baseline's seeds, then one more per round while not told apart from the baseline, up to
//! `--max-reps`; a clearly better variant stops at 2, a close one gets more, the answer is the
//! same whatever `--jobs`, `--reps N` keeps its exact meaning, and a killed comparison resumes
//! to the same files.

use serde_json::Value;

use crate::common::{assert_success, compare_in_temp, read_json, run_compare, variant};
use crate::journal_common::{rows, run, spawn, wait_for};

/// One web tier of 2 threads, no queue, 18 requests/s of 100 ms: 1.8 erlangs on 2 servers lose
/// 36.7% (Erlang B), a success of 63.3% against an SLO of 62% over one-minute windows, so the
/// baseline falls in most replications (in both of the first two). Four instances (0.45 erlang
/// each, 1.3% lost) never fall; a little less load (17.5/s, 35.5% lost) falls nearly as often.
pub(crate) const MODEL: &str = r#"
[scenario]
name = "auto-test"
duration = "30m"
bucket = "1m"
seed = 11

[[source]]
name = "load"
kind = "requests"
rate = 18.0

[[tier]]
name = "web"
instances = 1
threads = 2
queue = 0
service = { dist = "exponential", mean = "100ms" }

[slo]
window = "1m"
outage_below = 0.62

[[variant]]
name = "4 instances"
set = { "tier.web.instances" = 4 }

[[variant]]
name = "a little less load"
set = { "source.load.rate" = 17.5 }
"#;

fn reps(doc: &Value, name: &str) -> usize {
    variant(doc, name)["replications"].as_array().unwrap().len()
}

#[test]
fn a_clearly_better_variant_stops_at_two_and_a_close_one_gets_more() {
    let cmp = compare_in_temp(MODEL, &["--quiet", "--jobs", "2"]);
    let doc = read_json(&cmp.out.join("compare.json"));
    assert_eq!(doc["auto"], true);
    assert_eq!(doc["max_reps"], 10);
    // Held in both while the baseline fell in both: told apart at its first look.
    let better = variant(&doc, "4 instances");
    assert_eq!(
        better["decision"],
        serde_json::json!({"verdict": "better", "metric": "outage_share", "reps": 2,
            "ended": "told_apart"})
    );
    assert_eq!(reps(&doc, "4 instances"), 2);
    assert_eq!(better["outage"]["with_outage"], 0);
    // The close one ran more, up to the most allowed, and was not told apart.
    let close = variant(&doc, "a little less load");
    assert_eq!(close["decision"]["verdict"], "not_told_apart");
    assert_eq!(close["decision"]["ended"], "reps_spent");
    assert_eq!(reps(&doc, "a little less load"), 10);
    // The baseline ran every replication some variant needed, and no decision of its own.
    assert_eq!(reps(&doc, "baseline"), 10);
    assert_eq!(variant(&doc, "baseline")["decision"], Value::Null);
    assert_eq!(doc["reps"], 10);
    // compare.csv says it per row; the same bytes with one thread.
    let csv = std::fs::read_to_string(cmp.out.join("compare.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",vs_baseline,variant_reps"), "{header}");
    assert_eq!(csv.lines().count(), 1 + 10 + 2 + 10);
    assert!(csv.contains("\n4 instances,1,"));
    assert!(!csv.contains("\n4 instances,2,"));
    let last = |name: &str| {
        (csv.lines())
            .find(|l| l.starts_with(&format!("{name},0,")))
            .map(|l| l.rsplit(',').take(2).collect::<Vec<_>>())
            .unwrap()
    };
    assert_eq!(last("4 instances"), ["2", "better"]);
    assert_eq!(last("a little less load"), ["10", "not_told_apart"]);
    let one = cmp.dir.path().join("one");
    run_compare(&cmp.file, &one, &["--quiet", "--jobs", "1"]);
    assert_eq!(
        csv,
        std::fs::read_to_string(one.join("compare.csv")).unwrap()
    );
    // The terminal says it.
    let told = run_compare(&cmp.file, &cmp.dir.path().join("told"), &["--jobs", "2"]);
    let out = String::from_utf8_lossy(&told.stdout);
    assert!(out.contains("2 to 10 replications"), "{out}");
    let line = |name: &str| out.lines().find(|l| l.contains(name)).unwrap().to_string();
    assert!(line("4 instances").contains("better (2)"), "{out}");
    assert!(
        line("a little less load").contains("not told apart (10)"),
        "{out}"
    );
    // The report too.
    let md = std::fs::read_to_string(cmp.out.join("report.md")).unwrap();
    assert!(
        md.contains("better: fewer outages (2 replications)"),
        "{md}"
    );
}

#[test]
fn reps_n_runs_every_variant_n_times_and_max_reps_caps_auto() {
    let cmp = compare_in_temp(MODEL, &["--quiet", "--reps", "3"]);
    let doc = read_json(&cmp.out.join("compare.json"));
    assert_eq!(doc["auto"], false);
    for name in ["baseline", "4 instances", "a little less load"] {
        assert_eq!(reps(&doc, name), 3, "{name}");
    }
    let capped = cmp.dir.path().join("capped");
    run_compare(&cmp.file, &capped, &["--quiet", "--max-reps", "4"]);
    let doc = read_json(&capped.join("compare.json"));
    assert_eq!(reps(&doc, "a little less load"), 4);
    assert_eq!(reps(&doc, "4 instances"), 2);
    assert_eq!(variant(&doc, "a little less load")["decision"]["reps"], 4);
}

#[test]
fn a_killed_auto_comparison_resumes_to_the_same_files() {
    let cmp = compare_in_temp(
        MODEL,
        &["--quiet", "--jobs", "1", "--set", "scenario.duration=4h"],
    );
    let file = cmp.file.to_str().unwrap();
    let cut = cmp.dir.path().join("cut");
    let args = |extra: &'static str| {
        vec![
            "compare",
            file,
            "--jobs",
            "1",
            "--set",
            "scenario.duration=4h",
            "--out",
            cut.to_str().unwrap(),
            extra,
        ]
    };
    let journal = cut.join("compare.partial.csv");
    let mut child = spawn(&args("--quiet"));
    // Past the first round (6 runs): the journal holds runs of a round decided on.
    wait_for("8 journaled runs", &|| rows(&journal) >= 8);
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = rows(&journal);
    assert!((8..30).contains(&kept), "{kept} runs journaled");
    let o = run(&args("--resume"));
    assert_success(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "resuming: {kept} (of at most 30) runs already done"
        )),
        "{err}"
    );
    let read = |d: &std::path::Path| std::fs::read(d.join("compare.csv")).unwrap();
    assert_eq!(read(&cut), read(&cmp.out));
}
