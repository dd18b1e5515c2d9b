//! Hostile input, round two (issue 27, items 17-22): what misled. Help that shows a refused
//! example, checks that read nothing or could never hold, `--set` that cannot add the first
//! operator, I/O errors with the exit code of a failed check, values accepted silently, and
//! outputs a spreadsheet runs or a Markdown viewer breaks, written with another mode than the
//! charts.

use crate::common::write_file;
use crate::common::{assert_bad_input, assert_success, mmck, read_json, repo_file, stderr, surge};
use std::path::Path;

/// A short compare of mmck (`--reps 2`, 2 simulated minutes) with `args`, into `out`.
fn compare(out: &Path, args: &[&str]) -> std::process::Output {
    surge()
        .arg("compare")
        .arg(mmck())
        .args([
            "--reps",
            "2",
            "--set",
            "scenario.duration=2m",
            "--quiet",
            "--out",
        ])
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

/// Item 17: the example `compare --help` gives is accepted; a key only some variants have names
/// the variants without it.
#[test]
fn compare_help_examples_run_and_a_partial_key_names_its_variants() {
    let help = surge().args(["compare", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    let at = text.find("--assert '").expect("an --assert example") + "--assert '".len();
    let example = &text[at..at + text[at..].find('\'').unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let o = compare(
        &dir.path().join("a"),
        &[
            "--variant",
            "more:tier.server.threads=12",
            "--assert",
            example,
        ],
    );
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("has no key"), "{}", stderr(&o));
    let o = compare(
        &dir.path().join("b"),
        &[
            "--variant",
            "priced:tier.server.cost_per_instance_hour=0.5",
            "--assert",
            "tiers.server.cost<10",
        ],
    );
    assert_bad_input(
        &o,
        &[
            "the key \"tiers.server.cost\" is not in the summary of \"baseline\" (only of \"priced\")",
        ],
    );
}

/// Item 18: `--set operator.0.action=restart` adds the first operator.
#[test]
fn set_adds_the_first_operator() {
    let dir = tempfile::tempdir().unwrap();
    let o = surge()
        .arg("run")
        .arg(mmck())
        .args([
            "--quiet",
            "--set",
            "scenario.duration=2m",
            "--set",
            "operator.0.action=restart",
        ])
        .args(["--save-model"])
        .arg(dir.path().join("saved.toml"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_success(&o);
    let saved = std::fs::read_to_string(dir.path().join("saved.toml")).unwrap();
    assert!(
        saved.contains("[[operator]]") && saved.contains("action = \"restart\""),
        "{saved}"
    );
}

/// Item 19: a percentage on seconds or counts, and a share above 1, are refused.
#[test]
fn checks_that_could_never_mean_it_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = |expr: &str| {
        surge()
            .arg("run")
            .arg(mmck())
            .args([
                "--quiet",
                "--set",
                "scenario.duration=2m",
                "--assert",
                expr,
                "--out",
            ])
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    assert_bad_input(
        &run("latency_s.p95<5%"),
        &["is a percentage, but `latency_s.p95`"],
    );
    assert_bad_input(&run("requests.rejected<5%"), &["not a share or a ratio"]);
    assert_bad_input(
        &run("slo.success_rate>=99"),
        &[
            "`slo.success_rate` is a share between 0 and 1",
            "write 0.99 or 99%",
        ],
    );
    // As meant, they run (and pass or fail on the numbers).
    for expr in [
        "slo.success_rate>=90%",
        "tiers.server.utilization<0.99",
        "latency_s.p95<5s",
    ] {
        let o = run(expr);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{expr}: {}",
            stderr(&o)
        );
    }
    // A 100 KB check is refused in a short message.
    let long = format!("slo.success_rate>={}", "9".repeat(100_000));
    let o = run(&long);
    assert_bad_input(&o, &["too long for a check"]);
    assert!(stderr(&o).len() < 1000, "{} bytes", stderr(&o).len());
}

/// Item 20: an I/O error has an exit code of its own (not 1, a failed check) and names what it
/// could not write; `plot` on a truncated CSV names the file.
#[test]
fn io_errors_have_their_own_exit_code_and_name_the_file() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_surge"))
        .arg("check")
        .arg(mmck())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write to standard output"),
        "{}",
        stderr(&o)
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = surge()
        .arg("run")
        .arg(mmck())
        .args(["--quiet", "--set", "scenario.duration=10m", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let csv = out.join("timeseries.csv");
    let text = std::fs::read(&csv).unwrap();
    std::fs::write(&csv, &text[..text.len() - 7]).unwrap();
    let o = surge().arg("plot").arg(&out).output().unwrap();
    assert_bad_input(&o, &["timeseries.csv: truncated"]);
    std::fs::write(&csv, "t_s,clock\n1,2,3\n").unwrap();
    let o = surge().arg("plot").arg(&out).output().unwrap();
    assert_bad_input(&o, &["timeseries.csv: not a time series"]);
}

/// A sweep.json that is not what a sweep writes (a count written as text): `surge plot` names
/// the file and the field, as bad input, and draws nothing.
#[test]
fn plot_names_the_file_and_the_field_of_a_corrupt_sweep_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let o = surge()
        .arg("sweep")
        .arg(mmck())
        .args(["--quiet", "--set", "scenario.duration=10m", "--reps", "1"])
        .args(["--vary", "tier.server.instances=1,2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let path = out.join("sweep.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"runs\": 1,"), "{text}");
    std::fs::write(
        &path,
        text.replacen("\"runs\": 1,", "\"runs\": \"one\",", 1),
    )
    .unwrap();
    let o = surge().arg("plot").arg(&out).output().unwrap();
    assert_bad_input(&o, &["sweep.json: at points[0].outage.runs: invalid type"]);
    std::fs::write(&path, "{\"points\": [").unwrap();
    let o = surge().arg("plot").arg(&out).output().unwrap();
    assert_bad_input(&o, &["sweep.json: EOF while parsing"]);
}

/// Item 21: values that were accepted silently are refused, each naming itself.
#[test]
fn absurd_values_are_refused() {
    let m = mmck();
    let m = m.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o");
    let o = o.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "run",
                m,
                "--set",
                "tier.server.request_timeout=1e308s",
                "--out",
                o,
            ],
            "overflows the simulator's clock",
        ),
        (
            vec!["report", m, "--budget", "1e308s", "--out", o],
            "overflows",
        ),
        (
            vec![
                "crashpoint",
                m,
                "--vary",
                "surge.peak=1..3",
                "--tolerance",
                "nan",
                "--out",
                o,
            ],
            "--tolerance must be a share above 0",
        ),
        (
            vec!["sweep", m, "--vary", "surge.peak=1,1", "--out", o],
            "the value `1` is listed twice",
        ),
        (
            vec![
                "sweep",
                m,
                "--vary",
                "surge.peak=1,2",
                "--vary",
                "surge.peak=3",
                "--out",
                o,
            ],
            "--vary surge.peak is given twice",
        ),
        (
            vec!["bench", "--quick", "--simpy-rate", "nan"],
            "--simpy-rate must be",
        ),
    ];
    for (args, want) in cases {
        let r = surge().args(&args).output().unwrap();
        let err = crate::common::refused(&r, &format!("{args:?}"));
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!Path::new(o).exists());
}

/// Item 21: a log clock with no such zone (`+9999`) or no such day (`31/Feb`) is a bad line,
/// skipped and quoted, not a time; `fit --bucket 1e308` overflows.
#[test]
fn a_log_clock_that_is_no_time_is_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_file("tests/fit-data/nginx.log")).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| match i + 1 {
            5 => l.replace("-0500]", "+9999]"),
            9 => l.replace("[14/Nov/2023", "[31/Feb/2023"),
            _ => l.to_string(),
        })
        .collect();
    let log = write_file(dir.path(), "odd.log", &(lines.join("\n") + "\n"));
    let out = dir.path().join("fit");
    let o = surge()
        .args(["fit", "--format", "nginx", "--quiet"])
        .arg(&log)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let j = read_json(&out.join("fit.json"));
    assert_eq!(j["lines"]["skipped"], 2, "{}", j["lines"]);
    let bad = &j["files"][0]["bad_lines"];
    assert_eq!(bad[0]["line"], 5, "{bad}");
    assert_eq!(bad[1]["line"], 9, "{bad}");
    let o = surge()
        .args(["fit", "--format", "nginx", "--bucket", "1e308"])
        .arg(&log)
        .arg("--out")
        .arg(dir.path().join("b"))
        .output()
        .unwrap();
    assert_bad_input(&o, &["--bucket", "overflows"]);
}

/// Item 22: names a spreadsheet would run as a formula are written as text; a backtick stays in
/// its Markdown cell; a newline in a name is refused; every output has the charts' mode.
#[test]
fn outputs_are_safe_to_open_and_share_the_mode_of_the_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let o = compare(
        &out,
        &[
            "--variant",
            "=HYPERLINK(\"x\"):tier.server.threads=12",
            "--variant",
            "a`b:tier.server.threads=11",
        ],
    );
    assert_success(&o);
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert!(csv.contains("\n\"'=HYPERLINK(\"\"x\"\")\","), "{csv}");
    assert!(!csv.contains("\n=") && !csv.contains("\n\"="), "{csv}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("a\\`b"), "{md}");
    let o = compare(
        &dir.path().join("nl"),
        &["--variant", "a\nb:tier.server.threads=11"],
    );
    assert_bad_input(&o, &["has a control character"]);

    // A tier named as a formula: text in timeseries.csv, read back by `plot`.
    let model = std::fs::read_to_string(mmck())
        .unwrap()
        .replace("name = \"server\"", "name = \"=1+1\"");
    let file = write_file(dir.path(), "f.toml", &model);
    let run = dir.path().join("run");
    let o = surge()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--set", "scenario.duration=2m", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert_success(&o);
    let ts = std::fs::read_to_string(run.join("timeseries.csv")).unwrap();
    let header = ts.lines().next().unwrap();
    assert!(header.contains(",'=1+1.instances_up,"), "{header}");
    assert_success(&surge().arg("plot").arg(&run).output().unwrap());

    // Every file has the mode the charts have (0666 less the umask), not 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = |f: &str| std::fs::metadata(run.join(f)).unwrap().permissions().mode() & 0o777;
    let chart = mode("timeline.png");
    for f in ["summary.json", "timeseries.csv", "report.html", "report.md"] {
        assert_eq!(mode(f), chart, "{f}");
    }
    let json = read_json(&run.join("summary.json"));
    assert_eq!(json["tiers"][0]["name"], "=1+1");
}
