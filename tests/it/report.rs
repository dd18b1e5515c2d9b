//! Reports and checks: every command that writes results writes a self-contained report.html
//! and a report.md beside them; `--assert` prints each check and exits 1 when one fails (2 for
//! a bad expression or an unknown key, before anything runs); `surge report` writes one report of
//! a run and its crash point; `surge plot` redraws the SLO lines from the targets in summary.json.
//! The browser side (layout, console, screenshots) is tests/browser/run.sh.

use crate::common::{plot_ok, small_model, surge, surge_on};
use std::path::Path;

/// report.html names nothing to fetch and runs nothing; report.md references the PNG files.
fn self_contained(dir: &Path) -> (String, String) {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "src=\"http",
        "href=\"http",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(!lower.contains(bad), "report.html contains {bad}");
    }
    assert!(html.contains("@media print"));
    assert!(!md.contains("<svg"));
    (html, md)
}

#[test]
fn a_run_writes_a_report_with_the_answer_the_charts_and_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_model(dir.path());
    let out = dir.path().join("run");
    let o = surge_on("run", &file, &["--set", "surge.peak=3", "--quiet"], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (html, md) = self_contained(&out);
    // The answer in words, with clock times: down at 18:04, the outage over at 18:37 (the
    // surge ends at 18:35) but the SLO not held again before the end at 18:40.
    assert!(
        html.contains("By requests: down at 18:0"),
        "no answer sentence"
    );
    assert!(
        html.contains("the outage over at 18:3") && html.contains("recovery not confirmed"),
        "{html}"
    );
    assert!(html.contains("requests lost (rejected, timed out or failed)"));
    // A requests-only model has no users: no "peak users on the site 0" row.
    assert!(!html.contains("peak users"), "{html}");
    assert!(!md.contains("peak users"), "{md}");
    // The chart inline, scaled to the page; its PNG in the Markdown.
    assert_eq!(html.matches("<svg ").count(), 1);
    assert!(md.contains("![Timeline"), "{md}");
    assert!(md.contains("(timeline.png)"));
    // The model as run (after --set) and its provenance.
    assert!(html.contains("peak = 3"), "the model as run");
    assert!(html.contains("surge.peak=3"), "the overrides");
    assert!(html.contains("model hash"));
    // summary.json records the SLO targets the report and `surge plot` use.
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["slo"]["target_success_rate"], 0.99);
    assert_eq!(s["slo"]["outage_below"], 0.5);
}

#[test]
fn checks_pass_fail_and_refuse_bad_expressions() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_model(dir.path());
    let out = dir.path().join("run");
    let run = |checks: &[&str]| {
        let mut c = surge();
        c.arg("run")
            .arg(&file)
            .arg("--quiet")
            .arg("--out")
            .arg(&out);
        for a in checks {
            c.args(["--assert", a]);
        }
        c.output().unwrap()
    };
    let o = run(&["outage.crashed==true", "tiers.app.utilization<=1"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("passed: outage.crashed==true (actual true)"),
        "{text}"
    );
    let o = run(&["outage.crashed==false", "latency_s.p95<10s"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED: outage.crashed==false (actual true)"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 of 2 --assert checks failed"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("1 of 2 checks failed"));
    assert!(html.contains("outage.crashed==false"));
    // Bad input: exit 2 before anything runs, nothing written.
    let fresh = dir.path().join("never");
    for (expr, says) in [
        ("slo.sucess_rate>=0.99", "did you mean slo.success_rate"),
        ("tiers.web.utilization<0.7", "has no key"),
        ("latency_s.p95<<1", "not a comparison"),
    ] {
        let o = surge_on("run", &file, &["--quiet", "--assert", expr], &fresh);
        let err = crate::common::refused(&o, expr);
        assert!(err.contains(says), "{expr}: {err}");
        assert!(!fresh.exists(), "{expr}: wrote outputs");
    }
}

#[test]
fn surge_report_writes_one_report_of_the_run_and_its_crash_point() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_model(dir.path());
    let out = dir.path().join("report");
    let o = surge_on("report", &file, &["--budget", "10m", "--quiet"], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (html, md) = self_contained(&out);
    assert!(html.contains("small-site: capacity report"));
    // One instance goes down under the 3x surge, two hold: the default search of the first
    // tier's instances brackets the crash point.
    assert!(
        html.contains("Crash point between 1 and 2 app instances"),
        "no crash point sentence"
    );
    assert!(html.contains("What was done"));
    assert!(html.contains("none declared ([[variant]])"));
    assert_eq!(html.matches("<svg ").count(), 2, "timeline and crash point");
    assert!(md.contains("(run/timeline.png)") && md.contains("(crashpoint/crashpoint.png)"));
    for sub in ["run", "crashpoint"] {
        assert!(
            out.join(sub).join("report.html").exists(),
            "{sub}/report.html"
        );
    }
    // Too small a budget: the run is done, the search skipped, and the report says why.
    let out = dir.path().join("hurried");
    let o = surge_on("report", &file, &["--budget", "1ms", "--quiet"], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("skipped for lack of time"), "no skip note");
    assert!(!out.join("crashpoint").exists());
}

#[test]
fn sweeps_and_plots_write_reports_and_plot_keeps_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_model(dir.path());
    let out = dir.path().join("sweep");
    let o = surge_on(
        "sweep",
        &file,
        &[
            "--vary",
            "tier.app.instances=1, 2",
            "--reps",
            "2",
            "--quiet",
        ],
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (html, _) = self_contained(&out);
    assert!(
        html.contains("crosses 0.5 between tier.app.instances = 1 (1.00) and 2 (0.00)"),
        "no crossing sentence"
    );
    // A run's report redrawn by `surge plot` keeps its model text.
    let run = dir.path().join("run");
    let o = surge_on("run", &file, &["--quiet"], &run);
    assert!(o.status.success());
    std::fs::remove_file(run.join("report.html")).unwrap();
    plot_ok(&run);
    let after = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        after.contains("name = &quot;small-site&quot;"),
        "model text lost"
    );
    assert!(after.contains("By requests: down at 18:0"));
}

#[test]
fn compare_writes_a_report_and_checks_every_variant() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compare");
    let o = crate::common::small_compare(dir.path(), &out);
    let text = String::from_utf8_lossy(&o.stdout);
    // The baseline (one instance) goes down, two instances hold: one check of two fails.
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED: [baseline] outage.crashed==false (actual 1)"),
        "{text}"
    );
    assert!(
        text.contains("passed: [two] outage.crashed==false (actual 0)"),
        "{text}"
    );
    let (html, md) = self_contained(&out);
    assert!(html.contains("Up in every replication: two."), "no answer");
    assert!(md.contains("(compare.png)"));
}

/// Two tiers: a web tier of 4 x 200 threads (2% busy at peak) in front of one database of 10
/// threads at 10 req/s each with a memory limit reached at 200 requests (the small site's
/// instance): the 3x surge (150 req/s) overloads the database (150% of its threads), so one
/// database goes down and two hold.
const TWO_TIERS: &str = r#"
[scenario]
name = "two-tiers"
start = "18:00"
duration = "40m"
seed = 3

[surge]
start = "5m"
peak = 3.0
ramp = "0s"
hold = "30m"
decay = "0s"

[[source]]
name = "clients"
kind = "requests"
rate = 50

[[tier]]
name = "web"
instances = 4
threads = 200
service = { dist = "exponential", mean = "10ms" }

[[tier]]
name = "db"
instances = 1
threads = 10
service = { dist = "exponential", mean = "100ms" }

[tier.memory]
base = "0"
per_request = "1MiB"
limit = "200MiB"
"#;

#[test]
fn surge_report_searches_the_bottleneck_check_names_by_the_criterion_asked() {
    // It once searched the first tier (web, 4 to 12 instances), which cannot save the
    // database: no answer. It searches the database, says why, and takes --criterion.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.toml");
    std::fs::write(&file, TWO_TIERS).unwrap();
    let out = dir.path().join("report");
    let o = surge_on(
        "report",
        &file,
        &["--budget", "10m", "--criterion", "call-outage"],
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let cp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("crashpoint").join("crashpoint.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cp["parameter"], "tier.db.instances");
    assert_eq!(cp["criterion"], "call-outage");
    assert_eq!(cp["ci95"], serde_json::json!([1.0, 2.0]));
    let why = "tier db, the bottleneck `surge check` finds: offered 150% of its threads at the \
               surge peak, the most of the 2 tiers (web 2%)";
    assert!(text.contains(why), "{text}");
    assert!(text.contains("failure = call-outage"), "{text}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("offered 150% of its threads at the surge peak"),
        "{html}"
    );
    // `surge check` says the same of the two tiers.
    let check = crate::common::check_ok(&file);
    assert!(check.contains("1 source, 2 tiers"), "{check}");
    assert!(
        check.contains("15.0 at peak (150.0%) — overloaded at peak"),
        "{check}"
    );
}

/// `surge report` on the built-in model searches it as it is (`app::ModelSource`): no model
/// file is written into the report's folder to be searched, and the search's journal names the
/// same overrides as the run.
#[test]
fn surge_report_searches_the_built_in_model_without_writing_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("builtin");
    let o = surge()
        .arg("report")
        .args(["--set", "scenario.duration=20m", "--vary"])
        .arg("tier.web.instances=1..2")
        .args(["--budget", "10s", "--jobs", "2", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("crash point in tier.web.instances (1..2)"),
        "the search ran: {md}"
    );
    let files: Vec<_> = walk(&out);
    assert!(
        !files.iter().any(|f| f.ends_with(".toml")),
        "a model file was written: {files:?}"
    );
    let summary = std::fs::read_to_string(out.join("run/summary.json")).unwrap();
    assert!(summary.contains("scenario.duration=20m"), "{summary}");
}

/// Every file under `dir`, as paths relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p.display().to_string());
        }
    }
    files
}
