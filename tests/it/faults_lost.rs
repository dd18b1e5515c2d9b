//! Hostile input, round two (issue 27, items 9-10): no finished work lost. `compare` journals
//! every finished (variant, replication) and takes `--resume`; Ctrl-C and SIGTERM stop
//! `compare`, `crashpoint` and `report` as they stop `sweep` (the runs in progress finish, exit
//! code 130, a line saying how to resume, no lock file left); `report` checks every variant
//! before it runs anything.

use crate::common::{
    MEMORY_CRASH, assert_bad_input, assert_success, repo_file, stderr, write_file,
};
use crate::journal_common::{crash_search_args, rows, run, signal, spawn, wait_for};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The compare of these tests: mmck and one variant with more threads, 6 replications of 2
/// simulated hours each (12 runs of about 0.2 s), one at a time.
fn compare_args<'a>(model: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "compare",
        model,
        "--variant",
        "more:tier.server.threads=12",
        "--reps",
        "6",
        "--set",
        "scenario.duration=2h",
        "--jobs",
        "1",
        "--out",
        out,
    ];
    a.extend(extra);
    a
}

#[test]
fn a_killed_or_interrupted_compare_resumes_without_redoing_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mmck = repo_file("models/mmck.toml");
    let m = mmck.to_str().unwrap();
    let whole = dir.path().join("whole");
    assert_success(&run(&compare_args(
        m,
        whole.to_str().unwrap(),
        &["--quiet"],
    )));
    assert!(
        !whole.join("compare.partial.csv").exists(),
        "the journal goes once done"
    );

    // SIGKILL once the journal holds 3 runs: they are kept, and a resume runs only the others.
    let cut = dir.path().join("cut");
    let journal = cut.join("compare.partial.csv");
    let mut child = spawn(&compare_args(m, cut.to_str().unwrap(), &["--quiet"]));
    wait_for("3 journaled runs", &|| rows(&journal) >= 3);
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = rows(&journal);
    assert!((3..12).contains(&kept), "{kept} runs journaled");
    let o = run(&compare_args(m, cut.to_str().unwrap(), &["--resume"]));
    assert_success(&o);
    assert!(
        stderr(&o).contains(&format!("resuming: {kept} of 12 runs already done")),
        "{}",
        stderr(&o)
    );
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    assert_eq!(read(&cut, "compare.csv"), read(&whole, "compare.csv"));
    let (a, b) = (
        crate::common::read_json(&whole.join("compare.json")),
        crate::common::read_json(&cut.join("compare.json")),
    );
    for (x, y) in a["variants"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["variants"].as_array().unwrap())
    {
        for k in ["name", "outage", "metrics", "key", "down_at_end"] {
            assert_eq!(x[k], y[k], "{k}");
        }
    }
    assert!(!journal.exists());

    // Ctrl-C twice: exit 130, how to resume, the journal kept, no lock left.
    let cc = dir.path().join("ctrl-c");
    let journal = cc.join("compare.partial.csv");
    let child = spawn(&compare_args(m, cc.to_str().unwrap(), &["--quiet"]));
    wait_for("2 journaled runs", &|| rows(&journal) >= 2);
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(30));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    assert!(rows(&journal) >= 2);
    assert!(!cc.join(".surge.lock").exists(), "a lock file was left");
    // A resume with another model is refused, the journal kept.
    let o = run(&compare_args(
        m,
        cc.to_str().unwrap(),
        &["--resume", "--set", "tier.server.queue=11"],
    ));
    assert_bad_input(&o, &["journal of another comparison"]);

    // SIGTERM once: the run in progress finishes and is journaled, then exit 130.
    let term = dir.path().join("term");
    let journal = term.join("compare.partial.csv");
    let child = spawn(&compare_args(m, term.to_str().unwrap(), &["--quiet"]));
    wait_for("1 journaled run", &|| rows(&journal) >= 1);
    signal(&child, "-TERM");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let kept = rows(&journal);
    assert!(
        stderr(&o).contains(&format!("interrupted with {kept} of 12 runs done")),
        "{}",
        stderr(&o)
    );
    assert!(!term.join(".surge.lock").exists());
}

/// A journal row edited by hand is refused by name, not taken on trust.
#[test]
fn a_compare_journal_row_that_is_not_a_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mmck = repo_file("models/mmck.toml");
    let m = mmck.to_str().unwrap();
    let out = dir.path().join("c");
    let journal = out.join("compare.partial.csv");
    let mut child = spawn(&compare_args(m, out.to_str().unwrap(), &["--quiet"]));
    wait_for("2 journaled runs", &|| rows(&journal) >= 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Replication 0's seed is the model's (7 in mmck): claim another.
    let row = lines
        .iter()
        .position(|l| l.starts_with("baseline,0,"))
        .unwrap_or(2);
    let fields: Vec<&str> = lines[row].splitn(4, ',').collect();
    lines[row] = format!("{},{},999,{}", fields[0], fields[1], fields[3]);
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let o = run(&compare_args(m, out.to_str().unwrap(), &["--resume"]));
    assert_bad_input(
        &o,
        &["compare.partial.csv", "is not a run of this comparison"],
    );
}

#[test]
fn an_interrupted_crash_point_search_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "crash.toml", MEMORY_CRASH);
    let out = dir.path().join("cp");
    let journal = out.join("crashpoint.partial.csv");
    let args = crash_search_args(file.to_str().unwrap(), out.to_str().unwrap());
    let child = spawn(&args);
    wait_for("1 journaled run", &|| rows(&journal) >= 1);
    signal(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted with"), "{err}");
    assert!(
        err.contains("crashpoint.partial.csv: run the same command with --resume"),
        "{err}"
    );
    assert!(!out.join(".surge.lock").exists());
    let kept = rows(&journal);
    let mut again = args.to_vec();
    again.push("--resume");
    let o = run(&again);
    assert_success(&o);
    let cp = crate::common::read_json(&out.join("crashpoint.json"));
    assert_eq!(cp["runs_from_journal"].as_u64(), Some(kept as u64), "{cp}");
}

#[test]
fn a_report_stopped_by_sigterm_leaves_no_lock() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "crash.toml",
        &MEMORY_CRASH.replace("duration = \"40m\"", "duration = \"40h\""),
    );
    let out = dir.path().join("report");
    let child = spawn(&[
        "report",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    // Once the run has started (its folder is there), the handler is in place.
    wait_for("the run's folder", &|| out.join("run").exists());
    signal(&child, "-TERM");
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(
        !out.join(".surge.lock").exists(),
        "the report's lock was left"
    );
    assert!(
        !out.join("run/.surge.lock").exists(),
        "the run's lock was left"
    );
    assert!(!out.join("report.html").exists());
}

/// Item 10: a variant with an unknown key is refused before the run and the search.
#[test]
fn a_report_checks_its_variants_before_it_runs_anything() {
    let dir = tempfile::tempdir().unwrap();
    let model = format!(
        "{MEMORY_CRASH}\n[[variant]]\nname = \"more\"\nset = {{ \"tier.app.threads\" = 20 }}\n\
         [[variant]]\nname = \"typo\"\nset = {{ \"tier.app.thread\" = 20 }}\n"
    );
    let file = write_file(dir.path(), "m.toml", &model);
    let out = dir.path().join("report");
    let started = Instant::now();
    let o = run(&[
        "report",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_bad_input(&o, &["m.toml", "variant \"typo\"", "thread"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        !out.exists(),
        "something ran before the variants were checked"
    );
}
