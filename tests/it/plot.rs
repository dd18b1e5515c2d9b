//! `surge plot` on each kind of folder: a run made with `--assert` keeps its checks in the
//! report it rewrites; a comparison folder gets its chart redrawn from compare.json (with its
//! checks); a `surge report` folder gets each step's charts and report redrawn.

use crate::common::{plot_ok, small_model, surge, surge_on};
use crate::svg::Chart;

/// The row of one check in report.html, with its verdict.
fn check_row(verdict: &str, expr: &str) -> String {
    let class = verdict.to_lowercase();
    format!("<span class=\"check {class}\">{verdict}</span></td><td><code>{expr}</code>")
}

#[test]
fn plot_keeps_the_checks_of_a_run_made_with_assert() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_model(dir.path());
    let out = dir.path().join("run");
    let o = surge_on(
        "run",
        &file,
        &[
            "--quiet",
            "--assert",
            "outage.crashed==true",
            "--assert",
            "outage.crashed==false",
        ],
        &out,
    );
    // The small site goes down: the first check passes, the second fails.
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    std::fs::remove_file(out.join("report.html")).unwrap();
    plot_ok(&out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("1 of 2 checks failed."),
        "no checks in the rewritten report"
    );
    assert!(html.contains(&check_row("PASSED", "outage.crashed==true")));
    assert!(html.contains(&check_row("FAILED", "outage.crashed==false")));
    // A later run without checks leaves none behind for plot to show.
    let o = surge_on("run", &file, &["--quiet"], &out);
    assert!(o.status.success());
    plot_ok(&out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("Checks (--assert)"), "stale checks shown");
}

#[test]
fn plot_redraws_a_comparison_from_compare_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compare");
    let o = crate::common::small_compare(dir.path(), &out);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    for f in ["compare.png", "compare.svg", "report.html"] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let said = plot_ok(&out);
    assert!(said.contains("redrew the comparison chart"), "{said}");
    assert!(out.join("compare.png").exists());
    let chart = Chart::read(&out.join("compare.svg"));
    chart.assert_shows(&["baseline", "two", "down below 50%"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Up in every replication: two."), "no answer");
    assert!(html.contains(&check_row("FAILED", "[baseline] outage.crashed==false")));
    assert!(html.contains(&check_row("PASSED", "[two] outage.crashed==false")));
}

#[test]
fn plot_redraws_each_step_of_a_report_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_model(dir.path());
    let out = dir.path().join("report");
    let o = surge_on("report", &file, &["--budget", "10m", "--quiet"], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "run/timeline.svg",
        "run/report.html",
        "crashpoint/crashpoint.svg",
    ] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let said = plot_ok(&out);
    assert!(said.contains("redrew the timeline in"), "{said}");
    assert!(said.contains("redrew the crash-point chart in"), "{said}");
    assert!(
        said.contains("left") && said.contains("as it was"),
        "{said}"
    );
    Chart::read(&out.join("run/timeline.svg")).assert_shows(&["tier app: busy threads"]);
    assert!(out.join("crashpoint/crashpoint.svg").exists());
    assert!(out.join("run/report.html").exists());
    // An empty folder is still nothing to plot.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = surge().arg("plot").arg(&empty).output().unwrap();
    crate::common::assert_bad_input(&o, &["nothing to plot"]);
}
