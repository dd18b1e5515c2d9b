//! `surge fit` on hostile files (issue 24 item 6): a Locust row counting a trillion requests, an
//! 8 GiB hole of NULs (sparse, not on disk), a stray first date in 1970 or 9999, the same file
//! given twice, values absurd for their unit, a file name holding a newline, ragged CSV rows, and
//! a `--bucket` longer than the data. Each asserts exact counts or the error's words.

use crate::common::{assert_bad_input, assert_success, num, read_json, repo_file};
use crate::fit_common::{fit_output as fit_out, real};
use std::path::{Path, PathBuf};

/// The real Locust history with line `n` (1 = the first data row) changed by `edit`, written
/// with the file's own CR CR LF line ends.
fn locust_with(dir: &Path, n: usize, edit: impl Fn(&str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(real("locust-bitcoin-api_stats_history.csv")).unwrap();
    let lines: Vec<String> = text
        .split("\r\r\n")
        .enumerate()
        .map(|(i, l)| if i == n { edit(l) } else { l.to_string() })
        .collect();
    let file = dir.join("history.csv");
    std::fs::write(&file, lines.join("\r\r\n")).unwrap();
    file
}

/// The JTL sample (120 samples from 1700000000 s, one a second) with each data row edited.
fn jtl_with(dir: &Path, name: &str, edit: impl Fn(usize, &str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(repo_file("tests/fit-data/results.jtl")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for (i, l) in lines.enumerate() {
        out.push_str(&edit(i, l));
        out.push('\n');
    }
    let file = dir.join(name);
    std::fs::write(&file, out).unwrap();
    file
}

/// Column `col` of a CSV row replaced by `value`.
fn set(row: &str, col: usize, value: &str) -> String {
    let mut c: Vec<&str> = row.split(',').collect();
    c[col] = value;
    c.join(",")
}

#[test]
fn locust_row_of_a_trillion_requests_is_skipped_not_expanded() {
    let dir = tempfile::tempdir().unwrap();
    // row 1772849640 (the 28th) says 10^12 requests so far; the next row counts from the one before
    let file = locust_with(dir.path(), 28, |l| {
        assert!(l.starts_with("1772849640,"), "{l}");
        set(l, 17, "1000000000000")
    });
    let out = dir.path().join("fit");
    let o = fit_out(&[&file], &out, &[]);
    assert_success(&o);
    let f = read_json(&out.join("fit.json"));
    assert_eq!(num(&f, "lines.skipped"), 1.0);
    assert_eq!(num(&f, "requests.total"), 2050.0);
    assert_eq!(num(&f, "requests.failed"), 1496.0);
    let why = f["files"][0]["bad_lines"][0]["why"].as_str().unwrap();
    assert!(why.contains("grew by 999999999098"), "{why}");
}

#[test]
fn a_hole_of_8_gib_of_nuls_costs_no_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_file("tests/fit-data/results.jtl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let file = dir.path().join("rotated.jtl");
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(f, "{}", lines[..61].join("\n")).unwrap();
    // copytruncate: the writer goes on at its old offset, leaving a sparse hole of NULs
    let hole: u64 = 8 << 30;
    f.set_len(f.metadata().unwrap().len() + hole).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    writeln!(f, "{}", lines[61..].join("\n")).unwrap();
    drop(f);
    let out = dir.path().join("fit");
    let o = fit_out(&[&file], &out, &[]);
    assert_success(&o);
    let j = read_json(&out.join("fit.json"));
    assert_eq!(num(&j, "requests.total"), 120.0);
    assert_eq!(num(&j, "lines.skipped"), 0.0);
    assert_eq!(
        j["files"][0]["notes"]["nul_bytes_dropped"].as_f64(),
        Some(hole as f64)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("NUL bytes"), "{stdout}");
}

#[test]
fn a_stray_first_date_does_not_drop_the_rest() {
    for (name, ms) in [("1970.jtl", "0"), ("9999.jtl", "253402300799000")] {
        let dir = tempfile::tempdir().unwrap();
        let file = jtl_with(dir.path(), name, |i, l| {
            if i == 0 { set(l, 0, ms) } else { l.to_string() }
        });
        let out = dir.path().join("fit");
        let o = fit_out(&[&file], &out, &[]);
        assert_success(&o);
        let f = read_json(&out.join("fit.json"));
        assert_eq!(num(&f, "requests.total"), 119.0, "{name}");
        assert_eq!(num(&f, "requests.out_of_span"), 1.0, "{name}");
        assert_eq!(num(&f, "arrivals.first_s"), 1700000001.0, "{name}");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains("dropped 1 requests dated more than 400 days from the bulk"),
            "{name}: {stdout}"
        );
    }
}

#[test]
fn the_same_file_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let jtl = repo_file("tests/fit-data/results.jtl");
    let link = dir.path().join("link.jtl");
    std::os::unix::fs::symlink(&jtl, &link).unwrap();
    let dotted = repo_file("tests/fit-data/./results.jtl");
    for other in [&jtl, &link, &dotted] {
        let o = fit_out(&[&jtl, other], &dir.path().join("fit"), &[]);
        assert_bad_input(&o, &["is the same file as", "give each file once"]);
        assert!(!dir.path().join("fit/model.toml").exists());
    }
}

#[test]
fn values_absurd_for_their_unit_stop_the_fit_naming_the_format() {
    let cases: [(&str, usize, &str, &str); 4] = [
        ("nan.jtl", 0, "NaN", "start time NaN"),
        (
            "1e20.jtl",
            1,
            "1e20",
            "a response time of 100000000000000000 s",
        ),
        ("zero.jtl", 1, "0", "are 0"),
        ("34h.jtl", 1, "122400000", "a response time of 122400 s"),
    ];
    for (name, col, value, why) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = jtl_with(dir.path(), name, |_, l| set(l, col, value));
        let o = fit_out(&[&file], &dir.path().join("fit"), &[]);
        assert_bad_input(&o, &[why, "jtl (JMeter CSV", "--format"]);
    }
}

#[test]
fn a_newline_in_a_file_name_does_not_inject_toml() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(repo_file("tests/fit-data/results.jtl")).unwrap();
    let file = dir.path().join("x\n[surge]\npeak = 9.0\n#.jtl");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("fit");
    let o = fit_out(&[&file], &out, &[]);
    assert_success(&o);
    let model = std::fs::read_to_string(out.join("model.toml")).unwrap();
    assert!(
        model
            .lines()
            .all(|l| l != "[surge]" && !l.starts_with("peak = 9")),
        "{model}"
    );
    let first = model.lines().next().unwrap();
    assert!(
        first.contains("x\\n[surge]\\npeak = 9.0\\n#.jtl"),
        "{first}"
    );
}

#[test]
fn ragged_rows_are_skipped_never_read_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    // a Locust row cut short of its last three columns (min, max, content size)
    let file = locust_with(dir.path(), 30, |l| {
        let cols: Vec<&str> = l.split(',').collect();
        cols[..cols.len() - 3].join(",")
    });
    let out = dir.path().join("fit");
    let o = fit_out(&[&file], &out, &[]);
    assert_success(&o);
    let f = read_json(&out.join("fit.json"));
    assert_eq!(num(&f, "lines.skipped"), 1.0);
    assert_eq!(num(&f, "requests.total"), 2050.0);
    let why = f["files"][0]["bad_lines"][0]["why"].as_str().unwrap();
    assert_eq!(why, "21 fields where the header has 24");
    // a k6 row with one column too few
    let text = std::fs::read_to_string(repo_file("tests/fit-data/k6.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("http_req_duration,"))
        .unwrap();
    lines[i] = lines[i].rsplit_once(',').unwrap().0.to_string();
    let k6 = dir.path().join("k6.csv");
    std::fs::write(&k6, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("fit-k6");
    let o = fit_out(&[&k6], &out, &[]);
    assert_success(&o);
    let f = read_json(&out.join("fit.json"));
    assert_eq!(num(&f, "lines.skipped"), 1.0);
    assert_eq!(
        f["files"][0]["bad_lines"][0]["why"],
        "18 fields where the header has 19"
    );
}

#[test]
fn a_bucket_longer_than_the_data_still_writes_a_trace_that_replays() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit");
    // an open load test (no recorded users), so the model's source is `kind = "requests"`
    let vegeta = repo_file("tests/fit-data/vegeta.csv");
    let o = fit_out(&[&vegeta], &out, &["--bucket", "1h"]);
    assert_success(&o);
    let csv = std::fs::read_to_string(out.join("arrivals.csv")).unwrap();
    assert_eq!(csv, "start,count\n0,40\n1,0\n");
    let model = std::fs::read_to_string(out.join("model.toml")).unwrap();
    // a JMeter file is a closed test: its users source becomes the trace
    let traced = crate::fit_common::traced(
        &model,
        &["requests", "users"],
        &[
            "rate = ",
            "profile = ",
            "population = ",
            "users = ",
            "pages = ",
            "think = ",
        ],
    );
    let traced_file = out.join("traced.toml");
    std::fs::write(&traced_file, traced).unwrap();
    let summary = crate::common::run_file(&traced_file, dir.path(), &[]);
    assert_eq!(num(&summary, "requests.offered"), 40.0);
}
