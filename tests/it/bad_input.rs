//! Bad input gets a clear one-paragraph error and exit code 2: the message
//! starts with `error: `, names the model file (with the line and column where the TOML position
//! is known), says what was expected, and nothing panics or is written.
//!
//! Every case is the small valid model `BASE` with a few edits, run as `surge run MODEL --out
//! DIR/out --quiet` (or `surge check MODEL`) in a fresh temporary folder. `valid_base_model_runs`
//! is the positive control: without it a broken `BASE` would make every case "pass".

use crate::common::{FORBIDDEN, refusal_problems, surge, write_file};
use std::path::Path;

/// A small valid model (line numbers matter: the cases below expect positions in it).
const BASE: &str = r#"[scenario]
duration = "10m"

[[source]]
kind = "requests"
rate = 5

[[tier]]
name = "web"
instances = 1
threads = 2
service = { dist = "exponential", mean = "100ms" }
"#;

/// The last line of `BASE`, to append tables after it.
const LAST: &str = r#"service = { dist = "exponential", mean = "100ms" }"#;

/// The model file of a case.
enum Model {
    /// `BASE` with each `(find, replace)` applied in turn; `find` must occur exactly once.
    Edit(&'static [(&'static str, &'static str)]),
    /// As `Edit`, with extra files `(name, contents)` next to the model.
    EditWith(
        &'static [(&'static str, &'static str)],
        &'static [(&'static str, &'static str)],
    ),
    /// No model file at all.
    Missing,
}

#[derive(Clone, Copy)]
enum Cmd {
    Run,
    Check,
}

struct Case {
    name: &'static str,
    cmd: Cmd,
    model: Model,
    /// Arguments after the model (and after `--out DIR --quiet` for `run`).
    args: &'static [&'static str],
    /// Fragments stderr must contain; `{file}` stands for the model path as given to surge.
    expect: &'static [&'static str],
}

const fn run(
    name: &'static str,
    model: Model,
    args: &'static [&'static str],
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        cmd: Cmd::Run,
        model,
        args,
        expect,
    }
}

const fn check(
    name: &'static str,
    model: Model,
    args: &'static [&'static str],
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        cmd: Cmd::Check,
        model,
        args,
        expect,
    }
}

mod cases;
use cases::CASES;

/// The model file's name in each case's temporary folder (neutral, so no fragment matches it).
const MODEL_FILE: &str = "model.toml";

/// The model text of a case.
fn model_text(edits: &[(&str, &str)]) -> Result<String, String> {
    let mut text = BASE.to_string();
    for (find, replace) in edits {
        let n = text.matches(find).count();
        if n != 1 {
            return Err(format!(
                "test bug: `{find}` occurs {n} times in the model, expected once"
            ));
        }
        text = text.replacen(find, replace, 1);
    }
    if !edits.is_empty() && text == BASE {
        return Err("test bug: the edits leave the model unchanged".into());
    }
    Ok(text)
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Run one case; `Err` lists what is wrong with surge's answer.
fn run_case(case: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
    let file = dir.path().join(MODEL_FILE);
    let mut expected_files = Vec::new();
    let edits = match &case.model {
        Model::Edit(edits) => Some((*edits, &[][..])),
        Model::EditWith(edits, files) => Some((*edits, *files)),
        Model::Missing => None,
    };
    if let Some((edits, files)) = edits {
        std::fs::write(&file, model_text(edits)?).map_err(|e| e.to_string())?;
        expected_files.push(MODEL_FILE.to_string());
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).map_err(|e| e.to_string())?;
            expected_files.push((*name).to_string());
        }
    }
    expected_files.sort();

    let out = dir.path().join("out");
    let mut cmd = surge();
    cmd.current_dir(dir.path());
    match case.cmd {
        Cmd::Run => cmd
            .arg("run")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .arg("--quiet"),
        Cmd::Check => cmd.arg("check").arg(&file),
    };
    cmd.args(case.args);
    let output = cmd.output().map_err(|e| format!("cannot run surge: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = file.display().to_string();
    // Match fragments against the message with the paths taken out, so that a fragment cannot
    // match by chance inside the temporary folder's name.
    let dir_shown = dir.path().display().to_string();
    let message = stderr
        .replace(&shown, "{file}")
        .replace(&dir_shown, "{dir}");
    let mut problems = refusal_problems(&output, &shown, &message, case.expect);
    if !stderr.ends_with('\n') || stderr.trim_end_matches('\n').contains('\n') {
        problems.push("stderr is not exactly one line".to_string());
    }
    let written = listing(&out);
    if !written.is_empty() {
        problems.push(format!("the output folder holds {written:?}"));
    }
    let mut left = listing(dir.path());
    left.retain(|n| n != "out");
    if left != expected_files {
        problems.push(format!(
            "the folder holds {left:?}, expected only {expected_files:?}"
        ));
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}:\n    - {}\n    stderr: {:?}\n    exit code: {:?}",
            case.name,
            problems.join("\n    - "),
            stderr,
            output.status.code()
        ))
    }
}

#[test]
fn bad_input_gets_one_paragraph_and_exit_code_2() {
    let mut failures = Vec::new();
    for case in CASES {
        match run_case(case) {
            Ok(()) => println!("ok   {}", case.name),
            Err(e) => {
                println!("FAIL {e}");
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases are not reported as they should be:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "two cases share a name");
}

/// Positive control: the model every case starts from is valid, runs, and writes its summary.
#[test]
fn valid_base_model_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_file(dir.path(), "base.toml", BASE);
    let out = dir.path().join("out");
    let output = surge()
        .current_dir(dir.path())
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .expect("run surge");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
    let summary = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    let v: serde_json::Value = serde_json::from_str(&summary).expect("summary.json is JSON");
    assert!(
        v["requests"]["offered"].as_f64().is_some_and(|n| n > 0.0),
        "{summary}"
    );

    crate::common::check_ok(&file);
}

/// `surge sweep MODEL ARGS...` on `BASE` in a fresh folder: (exit code, stdout, stderr).
fn sweep(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_file(dir.path(), MODEL_FILE, BASE);
    let out = surge()
        .current_dir(dir.path())
        .arg("sweep")
        .arg(&file)
        .args(["--out", "out"])
        .args(args)
        .output()
        .expect("run surge sweep");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    for f in FORBIDDEN {
        assert!(!stderr.contains(f), "{stderr}");
    }
    (out.status.code(), stdout, stderr)
}

/// A step that does not divide its range is refused, not rounded; errors name the `--vary`.
#[test]
fn vary_refuses_a_step_that_does_not_divide_the_range() {
    let (code, _, err) = sweep(&["--vary", "tier.web.threads=1..6:2", "--count-points"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("does not divide the range 1..6"), "{err}");
    assert!(err.contains("(in --vary tier.web.threads=1..6:2)"), "{err}");
    // Counts are whole: 10 points over 1..6 are not.
    let (code, _, err) = sweep(&["--vary", "tier.web.threads=1..6", "--count-points"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("takes whole numbers"), "{err}");
    // A value the model refuses names the --vary it came from, not a --set.
    let (code, _, err) = sweep(&["--vary", "tier.web.threads=0,2", "--count-points"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("(in --vary tier.web.threads, at the value 0)"),
        "{err}"
    );
    // With two --vary, a key the model checks once every override is in (here unknown) names
    // the --vary it came from, not the last one applied (a new user's trial found the other).
    let (code, _, err) = sweep(&[
        "--vary",
        "tier.web.eror=0,1",
        "--vary",
        "surge.peak=2,4",
        "--count-points",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("(in --vary tier.web.eror, at the value 0)"),
        "{err}"
    );
    // ... and one placed on its own --vary keeps it.
    let (code, _, err) = sweep(&[
        "--vary",
        "surge.peak=2,4",
        "--vary",
        "tier.web.threads=0,2",
        "--count-points",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("(in --vary tier.web.threads, at the value 0)"),
        "{err}"
    );
}

/// Durations and sizes as ranges: `50ms..200ms:50ms`, `1GiB..4GiB:1GiB`.
#[test]
fn vary_takes_duration_and_size_ranges() {
    let (code, out, err) = sweep(&["--vary", "client.timeout=50ms..200ms:50ms", "--list-points"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "0 client.timeout=0.05\n1 client.timeout=0.1\n2 client.timeout=0.15\n3 client.timeout=0.2\n"
    );
    let (code, out, err) = sweep(&[
        "--vary",
        "tier.web.memory.base=1GiB..4GiB:1GiB",
        "--count-points",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "4\n");
}

/// A sweep of 1,000 runs or more says its size and estimated time first; on a pipe (as here)
/// nobody can answer, so it runs.
#[test]
fn a_large_sweep_says_its_size_and_runs_on_a_pipe() {
    let (code, _, err) = sweep(&[
        "--vary",
        "scenario.duration=10s,20s",
        "--reps",
        "500",
        "--quiet",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.is_empty(), "--quiet on a pipe says nothing: {err}");
    let (code, _, err) = sweep(&["--vary", "scenario.duration=10s,20s", "--reps", "500"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("1,000 runs (2 points x 500 replications)"),
        "{err}"
    );
    assert!(err.contains("about "), "{err}");
    assert!(!err.contains("Start it?"), "{err}");
}
