//! Reports (`report.md`) of runs whose outage was still on at the end: a downtime cut by the
//! horizon reads "at least", a run that did not recover has no recovery time, and a mean that
//! every replication gave alike has no "± 0" interval.

use crate::common::{MEMORY_CRASH, assert_success, surge};
use std::path::Path;

/// The memory-crash model cut at 20 minutes: a surge of 3 x the base load from 5 minutes on
/// crashes the one instance for good, so the outage runs past the end in every replication.
fn short_horizon(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("model.toml");
    std::fs::write(
        &file,
        MEMORY_CRASH.replace("duration = \"40m\"", "duration = \"20m\""),
    )
    .unwrap();
    file
}

fn surge_in(dir: &Path, args: &[&str]) -> String {
    let out = dir.join("out");
    let o = surge()
        .args(args)
        .arg(short_horizon(dir))
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_success(&o);
    std::fs::read_to_string(out.join("report.md")).unwrap()
}

/// The cells of the table row of `report.md` that starts with `first`.
fn row(md: &str, first: &str) -> Vec<String> {
    md.lines()
        .find(|l| l.starts_with(&format!("| {first} |")))
        .unwrap_or_else(|| panic!("no row {first} in\n{md}"))
        .trim_matches('|')
        .split(" | ")
        .map(|c| c.trim().to_string())
        .collect()
}

/// No "± 0" (nor "± 0.0%", "± 0 ms"): an interval of zero width is no interval.
fn assert_no_zero_interval(md: &str) {
    for (i, _) in md.match_indices("± ") {
        let number: String = md[i + "± ".len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        // "± the half-width of ..." in a caption is no value.
        assert!(
            number.is_empty() || number.parse::<f64>().is_ok_and(|x| x > 0.0),
            "a zero interval printed: `{}`\n{md}",
            md[i..].chars().take(12).collect::<String>()
        );
    }
}

#[test]
fn a_sweep_report_says_at_least_and_not_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let md = surge_in(
        dir.path(),
        &["sweep", "--vary", "surge.peak=1,3", "--reps", "3"],
    );
    // The censoring the report reads is the one points.csv records.
    let csv = std::fs::read_to_string(dir.path().join("out/points.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let k = header
        .iter()
        .position(|h| *h == "outage.downtime_censored")
        .unwrap();
    let cut = csv
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("1,") && l.split(',').nth(k) == Some("1"))
        .count();
    assert_eq!(cut, 3, "{csv}");
    let crashed = row(&md, "3");
    assert_eq!(crashed[2], "not recovered in 3 of 3", "{md}");
    assert!(
        crashed[3].starts_with("at least ")
            && crashed[3].ends_with("(3 of 3 still down at the end)"),
        "downtime cell: {}",
        crashed[3]
    );
    let calm = row(&md, "1");
    assert_eq!(calm[3], "0 ms (all 3 alike)", "{md}");
    assert_no_zero_interval(&md);
}

#[test]
fn a_replicated_run_report_says_at_least() {
    let dir = tempfile::tempdir().unwrap();
    let md = surge_in(dir.path(), &["run", "--set", "surge.peak=3", "--reps", "3"]);
    let down = row(&md, "downtime");
    assert!(
        down[1].starts_with("at least ") && down[1].ends_with("(3 of 3 still down at the end)"),
        "{md}"
    );
    assert_eq!(down[2], "none: a lower bound", "{md}");
    assert!(
        md.contains("not recovered in 3 of 3: still down at the end"),
        "{md}"
    );
    assert_no_zero_interval(&md);
    assert!(
        row(&md, "outage episodes")[2] == "none: all 3 alike",
        "{md}"
    );
}

#[test]
fn a_single_run_report_says_at_least() {
    let dir = tempfile::tempdir().unwrap();
    let md = surge_in(dir.path(), &["run", "--set", "surge.peak=3"]);
    let down = row(&md, "downtime");
    assert!(
        down[1].starts_with("at least ") && down[1].ends_with("(still down at the end)"),
        "{md}"
    );
    assert!(md.contains("not recovered: still down at the end"), "{md}");
}

#[test]
fn a_compare_report_says_at_least_and_not_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let md = surge_in(
        dir.path(),
        &[
            "compare",
            "--set",
            "surge.peak=3",
            "--variant",
            "calm:surge.peak=1",
            "--reps",
            "3",
        ],
    );
    let down = row(&md, "baseline");
    assert_eq!(down[1], "(the baseline)", "{md}");
    assert_eq!(down[2], "3 of 3", "{md}");
    assert!(
        down[3].starts_with("at least ") && down[3].ends_with("(3 of 3 still down at the end)"),
        "{md}"
    );
    assert_eq!(down[4], "not recovered in 3 of 3", "{md}");
    let calm = row(&md, "calm");
    // Held in all 3 while the baseline fell in all 3: told apart on the 3 replications.
    assert_eq!(calm[1], "better: fewer outages (3 replications)", "{md}");
    assert!(calm[3].starts_with("0 ms (all 3 alike)"), "{md}");
    assert_no_zero_interval(&md);
}
