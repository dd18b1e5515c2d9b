//! `surge fit` on what a new user's trial tried (issue 24, the trial's findings): a custom nginx
//! `log_format` with fields after the combined ones, a bucket longer than a short test, a run in
//! which every request failed, a closed test's chart, `--out` onto a file, JMeter transaction
//! controllers (CSV parent rows, XML nested samples), durations without a unit, and vegeta's
//! client timeouts. Each asserts exact counts or the words said.

use crate::common::{assert_bad_input, num, refused, repo_file};
use crate::fit_common::{fit_output, fit_with_stdout, real};
use std::path::{Path, PathBuf};

/// The reality check's 30% nginx log (combined, `$request_time $upstream_response_time`) with
/// `"-"` appended to every line: a `log_format` that ends in `"$http_x_forwarded_for"`.
fn forwarded_log(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(real("reality-nginx-30pct.log")).unwrap();
    let out: String = text.lines().map(|l| format!("{l} \"-\"\n")).collect();
    let file = dir.join("custom.log");
    std::fs::write(&file, out).unwrap();
    file
}

const SUGGESTED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $extra2 "$extra3""#;

#[test]
fn extra_fields_after_the_combined_format_are_warned_of_with_the_log_format_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let log = forwarded_log(dir.path());
    let (f, stdout) = fit_with_stdout(&[&log], &[], &dir.path().join("auto"));
    // read as the combined format, every line counted, and not a response time taken silently
    assert_eq!(
        f["files"][0]["format"],
        "combined log format followed by 3 extra fields (read without them: no response time)"
    );
    assert_eq!(num(&f, "requests.total"), 1454.0);
    assert_eq!(f["files"][0]["notes"]["lines_with_extra_fields"], 1454.0);
    assert!(f["service"].is_null(), "{}", f["service"]);
    let warning = format!(
        "  WARNING: 1,454 of 1,454 lines have 3 extra fields after the combined format (the first line's: `0.024 0.024 \"-\"`); they were read as if absent, so this log gives no response times. Extra field 1 is a plain decimal on 1,454 of them (as nginx writes $request_time in seconds): if it is $request_time, give --log-format '{SUGGESTED}'"
    );
    assert!(stdout.contains(&warning), "{stdout}");
    assert_eq!(
        f["files"][0]["warnings"][0],
        warning.trim_start_matches("  WARNING: ")
    );
    // the format it names reads the times: the same as the log without the extra field
    let (given, _) = fit_with_stdout(
        &[&log],
        &["--log-format", SUGGESTED],
        &dir.path().join("given"),
    );
    let (plain, _) = fit_with_stdout(
        &[&real("reality-nginx-30pct.log")],
        &[],
        &dir.path().join("plain"),
    );
    assert_eq!(
        num(&given, "service.observed.mean_s"),
        num(&plain, "service.observed.mean_s")
    );
    assert_eq!(num(&given, "service.observed.responses"), 1454.0);
}

#[test]
fn the_default_bucket_is_capped_to_a_short_test_and_a_longer_bucket_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let jtl = real("jmeter-taurus-slow-stdev.csv");
    let (f, stdout) = fit_with_stdout(&[&jtl], &[], &dir.path().join("default"));
    assert_eq!(num(&f, "arrivals.span_s"), 8.0);
    assert_eq!(num(&f, "arrivals.bucket_s"), 8.0);
    assert_eq!(
        f["arrivals"]["bucket_note"],
        "bucket 8 s: the default 1 min capped to the data's 8 s span"
    );
    assert!(stdout.contains("per 8 s bucket"), "{stdout}");
    let (f, stdout) = fit_with_stdout(&[&jtl], &["--bucket", "1h"], &dir.path().join("given"));
    assert_eq!(num(&f, "arrivals.bucket_s"), 3600.0);
    assert!(
        stdout.contains("arrivals: WARNING: --bucket 1 h is longer than the data's 8 s span: all requests fall in one bucket, so the profile is flat and no surge can be seen; give a --bucket shorter than 8 s"),
        "{stdout}"
    );
    // a bucket inside the span: nothing said
    let (f, stdout) = fit_with_stdout(&[&jtl], &["--bucket", "2s"], &dir.path().join("inside"));
    assert_eq!(num(&f, "arrivals.bucket_s"), 2.0);
    assert!(f["arrivals"]["bucket_note"].is_null());
    assert!(!stdout.contains("capped"), "{stdout}");
}

#[test]
fn a_run_in_which_every_request_failed_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_file("tests/fit-data/results.jtl")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for l in lines {
        // responseCode (column 4) 500, success (column 8) false
        let mut c: Vec<&str> = l.split(',').collect();
        c[3] = "500";
        c[7] = "false";
        out.push_str(&c.join(","));
        out.push('\n');
    }
    let file = dir.path().join("failed.jtl");
    std::fs::write(&file, out).unwrap();
    let o = fit_output(&[&file], &dir.path().join("fit"), &[]);
    let err = refused(&o, "every request failed");
    assert!(
        err.contains(&format!(
            "{}: every request failed (120 of 120: status 400 or above, or the tool's own error), read as jtl (JMeter CSV results with a header): no successful response to fit a service time to",
            file.display()
        )),
        "{err}"
    );
    assert!(!err.contains("wrong format"), "{err}");
}

#[test]
fn an_empirical_service_is_said_in_the_headline_and_a_closed_test_chart_names_its_users() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("xml");
    let (f, stdout) = fit_with_stdout(&[&real("jmeter-sample_log1.jtl")], &[], &out);
    assert_eq!(f["service"]["written"]["kind"], "empirical");
    assert!(
        stdout.contains("service: the model draws from the measured times (service.csv, see below); best fit lognormal"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("Service time in the model: the 126 measured times themselves, drawn at random (service.csv; empirical"),
        "{report}"
    );
    // the closed test's legend: users, not a rate
    let out = dir.path().join("closed");
    fit_with_stdout(&[&real("jmeter-taurus-slow-stdev.csv")], &[], &out);
    let svg = std::fs::read_to_string(out.join("fit.svg")).unwrap();
    assert!(
        svg.contains("the model: 112 users (VUs) x profile"),
        "legend"
    );
    assert!(!svg.contains("model: rate"), "legend");
}

#[test]
fn out_onto_a_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "x").unwrap();
    let o = fit_output(&[&repo_file("tests/fit-data/results.jtl")], &file, &[]);
    assert_bad_input(
        &o,
        &[&format!(
            "--out {}: is a file, not a folder: give a folder for the fit's outputs",
            file.display()
        )],
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn jmeter_transaction_controllers_are_counted_and_said() {
    let dir = tempfile::tempdir().unwrap();
    // CSV: a parent row after every 3 samples, summing them, as JMeter writes it
    let text = std::fs::read_to_string(repo_file("tests/fit-data/results.jtl")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    let mut parents = 0;
    for (i, l) in lines.enumerate() {
        out.push_str(l);
        out.push('\n');
        if i % 3 == 2 {
            let c: Vec<&str> = l.split(',').collect();
            out.push_str(&format!(
                "{},300,Checkout,200,\"Number of samples in transaction : 3, number of failing samples : 0\",{},,true,,4773,369,1,1,,0,0,0\n",
                c[0], c[5]
            ));
            parents += 1;
        }
    }
    let file = dir.path().join("tc.jtl");
    std::fs::write(&file, out).unwrap();
    let (f, stdout) = fit_with_stdout(&[&file], &[], &dir.path().join("csv"));
    assert_eq!(parents, 40);
    assert_eq!(num(&f, "requests.total"), 120.0);
    assert_eq!(f["files"][0]["notes"]["transaction_rows_left_out"], 40.0);
    assert!(
        stdout.contains("  WARNING: 40 rows of a transaction controller's parent sample (responseMessage `Number of samples in transaction...`) left out: each sums its children, which are rows of their own, so they would count every request twice"),
        "{stdout}"
    );
    // XML: 12 transaction samples of 2 HTTP samples each
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testResults version=\"1.2\">\n");
    for i in 0..12u64 {
        let ts = 1_700_000_000_000 + 1000 * i;
        xml.push_str(&format!(
            "<sample t=\"{}\" ts=\"{ts}\" s=\"true\" lb=\"Checkout\" rc=\"200\" tn=\"TG 1-1\">\n  <httpSample t=\"100\" ts=\"{ts}\" s=\"true\" lb=\"/cart\" rc=\"200\" tn=\"TG 1-1\"/>\n  <httpSample t=\"150\" ts=\"{}\" s=\"true\" lb=\"/pay\" rc=\"200\" tn=\"TG 1-1\"/>\n</sample>\n",
            200 + 10 * i,
            ts + 100
        ));
    }
    xml.push_str("</testResults>\n");
    let file = dir.path().join("tc.xml");
    std::fs::write(&file, xml).unwrap();
    let (f, stdout) = fit_with_stdout(&[&file], &[], &dir.path().join("xml"));
    assert_eq!(num(&f, "requests.total"), 12.0);
    assert_eq!(f["files"][0]["notes"]["nested_samples"], 24.0);
    assert!(
        stdout.contains("  WARNING: 24 samples nested inside 12 top-level samples (a transaction controller's children, or an HTTP sample's redirects and embedded resources) counted once, in their top-level sample"),
        "{stdout}"
    );
}

#[test]
fn durations_without_a_unit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = real("nasa-kennedy-aug95-clf.log");
    let o = fit_output(
        &[&log],
        &dir.path().join("a"),
        &["--service", "lognormal:120:0.8"],
    );
    assert_bad_input(
        &o,
        &["--service lognormal:120:0.8: `120` has no unit: write 120ms or 120s"],
    );
    let o = fit_output(&[&log], &dir.path().join("b"), &["--session-gap", "30"]);
    assert_bad_input(
        &o,
        &["--session-gap 30: a plain number has no unit: write 30m or 30s"],
    );
}

#[test]
fn vegeta_client_timeouts_are_timeouts_not_requests_turned_away() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_file("tests/fit-data/vegeta.csv")).unwrap();
    let timeout = "Get http://localhost:8080/: net/http: request canceled (Client.Timeout exceeded while awaiting headers)";
    let refused_conn =
        "Get http://localhost:8080/: dial tcp 127.0.0.1:8080: connect: connection refused";
    let out: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut c: Vec<String> = l.split(',').map(str::to_string).collect();
            if i % 8 == 7 {
                c[1] = "0".into();
                c[2] = "30000000000".into();
                c[5] = timeout.into();
            } else if i == 0 {
                c[1] = "0".into();
                c[5] = refused_conn.into();
            }
            c.join(",") + "\n"
        })
        .collect();
    let file = dir.path().join("vegeta.csv");
    std::fs::write(&file, out).unwrap();
    let (f, stdout) = fit_with_stdout(&[&file], &[], &dir.path().join("fit"));
    assert_eq!(num(&f, "requests.total"), 40.0);
    // the file's own failure (row 10, connection refused) and the 6 made here
    assert_eq!(num(&f, "requests.failed"), 7.0);
    assert_eq!(num(&f, "requests.refusals.timed_out"), 5.0);
    assert_eq!(num(&f, "requests.refusals.turned_away"), 2.0);
    assert!(
        stdout.contains("; 5 requests timed out at the client (it gave up waiting: failures of a slow server, not turned away)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the data show 2 requests turned away"),
        "{stdout}"
    );
}

/// Response times with no spread at all (a stub that always takes 100 ms) fitted a Weibull
/// shape of about 10^32, written as an integer model.toml could not hold: the shape is capped
/// (and the lognormal's sigma floored), so the model fitted to such a file loads and runs.
#[test]
fn times_with_no_spread_give_a_model_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testResults version=\"1.2\">\n");
    for i in 0..40u64 {
        let ts = 1_700_000_000_000 + 1000 * i;
        xml.push_str(&format!(
            "<httpSample t=\"100\" ts=\"{ts}\" s=\"true\" lb=\"/ok\" rc=\"200\" tn=\"TG 1-1\"/>\n"
        ));
    }
    xml.push_str("</testResults>\n");
    let file = dir.path().join("same.xml");
    std::fs::write(&file, xml).unwrap();
    let out = dir.path().join("fit");
    let (f, _) = fit_with_stdout(&[&file], &[], &out);
    assert_eq!(num(&f, "requests.total"), 40.0);
    let model = out.join("model.toml");
    let text = std::fs::read_to_string(&model).unwrap();
    // Every shape written is a number of the model's scale (before: 1125899906842624 for 40
    // equal times, more for fewer).
    for line in text.lines().filter(|l| l.starts_with("service =")) {
        if let Some(rest) = line.split("shape = ").nth(1) {
            let shape: f64 = rest.split(',').next().unwrap().trim().parse().unwrap();
            assert!(shape <= 1e4, "{line}");
        }
    }
    let run = crate::common::surge()
        .args(["run", model.to_str().unwrap(), "--out"])
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&run.stderr)
    );
}
