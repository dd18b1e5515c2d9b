//! `surge report` keeps its budget (issue 28, item 2): the run, then the variants with
//! `--reps auto` (rounds sized from the run times measured as they come in), then the crash
//! point with what is left; the whole takes at most the budget x 1.05 plus the process start,
//! and the report says what each answer rests on, never leaving a section blank.

use std::time::Instant;

use crate::common::{surge, write_file};

/// The site of `compare_auto.rs` over 4 hours (a run takes about 0.15 s on a quiet machine):
/// the baseline falls, four instances never do, a little less load falls nearly as often as
/// the baseline (so it would run to 10 replications), and a third variant with 3 threads; the
/// bottleneck is the web tier's one instance.
fn model(dir: &std::path::Path) -> std::path::PathBuf {
    let text = crate::compare_auto::MODEL.replace("duration = \"30m\"", "duration = \"4h\"")
        + "\n[[variant]]\nname = \"3 threads\"\nset = { \"tier.web.threads\" = 3 }\n";
    assert!(text.contains("\"4h\""));
    write_file(dir, "budget.toml", &text)
}

/// Seconds `surge report` takes with this budget, and its report.md.
fn report(file: &std::path::Path, out: &std::path::Path, budget: &str) -> (f64, String) {
    let t = Instant::now();
    let o = surge()
        .arg("report")
        .arg(file)
        .args(["--budget", budget, "--jobs", "2", "--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap();
    let took = t.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (
        took,
        std::fs::read_to_string(out.join("report.md")).unwrap(),
    )
}

#[test]
fn a_small_budget_is_kept_and_the_answers_come_most_important_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = model(dir.path());
    // The process start: a surge that loads the model and says it (its run is not timed here).
    let t = Instant::now();
    crate::common::check_ok(&file);
    let start = t.elapsed().as_secs_f64();
    // 3 s: the run, and what else fits on this machine today; 15 s: the variants surely.
    for budget in [3.0, 15.0] {
        let out = dir.path().join(format!("r{budget}"));
        let (took, md) = report(&file, &out, &format!("{budget}s"));
        assert!(
            took <= budget * 1.05 + start,
            "budget {budget} s took {took:.2} s (process start {start:.2} s):\n{md}"
        );
        // The run first; then every variant with what it rests on, or why there is none; the
        // crash point's answer or why there is none: never a blank.
        assert!(md.contains("## What was done"), "{md}");
        assert!(out.join("run/summary.json").exists());
        let answer = md.split("## What was done").next().unwrap();
        assert!(answer.contains("Crash point"), "{answer}");
        if !out.join("compare").exists() {
            assert!(budget < 15.0, "the variants did not fit in 15 s:\n{answer}");
            assert!(
                answer.contains("Variants: skipped for lack of time"),
                "{answer}"
            );
            continue;
        }
        for name in ["4 instances", "a little less load", "3 threads"] {
            assert!(answer.contains(name), "{name} not in the answer:\n{answer}");
        }
        assert!(
            answer.contains("better: fewer outages (2 replications)"),
            "{answer}"
        );
        let doc: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("compare/compare.json")).unwrap(),
        )
        .unwrap();
        for v in doc["variants"].as_array().unwrap().iter().skip(1) {
            let d = &v["decision"];
            assert_eq!(
                d["reps"].as_u64().unwrap() as usize,
                v["replications"].as_array().unwrap().len(),
                "{v}"
            );
        }
    }
}
