//! `surge fit` on the real files of tests/fit-data/real/ (their sources, licences and facts are
//! in that folder's README.md): one test per file asserting what the fit must find, each figure
//! computed independently of surge (Python over the same bytes). The Common Log Format and
//! combined logs also have their sessions counted (clients, pages, assets).

use crate::common::{assert_success, close, num, read_json, repo_file, surge};
use serde_json::Value;

/// `surge fit FILE --out TMP`: the parsed fit.json (the command must succeed and write a
/// model.toml).
fn fit_real(name: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit");
    crate::fit_common::fit_model(&[&crate::fit_common::real(name)], &[], &out).0
}

#[test]
fn jmeter_csv_report_generator_run() {
    let f = fit_real("jmeter-htmlreport.csv");
    assert_eq!(num(&f, "lines.read"), 255.0);
    assert_eq!(num(&f, "lines.skipped"), 0.0);
    assert_eq!(num(&f, "requests.total"), 255.0);
    assert_eq!(num(&f, "requests.failed"), 3.0);
    close(num(&f, "arrivals.first_s"), 1551783627.191, 1e-6, "first");
    close(num(&f, "arrivals.last_s"), 1551783687.071, 1e-6, "last");
    close(
        num(&f, "service.observed.mean_s"),
        0.235_900_793_650_793_64,
        1e-12,
        "mean elapsed of the successful samples",
    );
    // the recorded threads are the load (requests in progress come from Little's law)
    assert_eq!(num(&f, "contention.max_load_seen"), 1.0);
}

#[test]
fn locust_stats_history_overloaded_run() {
    let f = fit_real("locust-bitcoin-api_stats_history.csv");
    assert_eq!(num(&f, "lines.read"), 56.0);
    assert_eq!(num(&f, "lines.skipped"), 0.0);
    assert_eq!(num(&f, "requests.total"), 2050.0);
    assert_eq!(num(&f, "requests.failed"), 1496.0);
    assert_eq!(num(&f, "contention.max_load_seen"), 50.0);
}

#[test]
fn jmeter_xml_two_threads() {
    let f = fit_real("jmeter-sample_log1.jtl");
    assert_eq!(num(&f, "requests.total"), 126.0);
    assert_eq!(num(&f, "requests.failed"), 0.0);
    close(num(&f, "arrivals.first_s"), 1132021485.561, 1e-6, "first");
    close(num(&f, "arrivals.last_s"), 1132021509.525, 1e-6, "last");
    close(
        num(&f, "service.observed.mean_s"),
        0.286_682_539_682_539_7,
        1e-12,
        "mean t",
    );
    let eps = f["endpoints"].as_array().unwrap();
    for label in ["jakarta_home", "jmeter_home"] {
        let e = eps
            .iter()
            .find(|e| e["endpoint"] == label)
            .unwrap_or_else(|| panic!("no endpoint {label}: {eps:?}"));
        close(e["share"].as_f64().unwrap(), 0.5, 1e-12, label);
    }
}

/// The sessions of a log with no response time: 30 min apart, pages are what the default
/// `--assets` does not match (counted independently with Python's `re` for the README facts).
fn sessions(f: &Value, sessions: f64, asset_only: f64, pages: f64, assets: f64) {
    assert!(
        f["files"][0]["format"]
            .as_str()
            .unwrap()
            .contains("no response time")
    );
    assert_eq!(num(f, "sessions.sessions"), sessions);
    assert_eq!(num(f, "sessions.asset_only_visits"), asset_only);
    assert_eq!(num(f, "sessions.page_views"), pages);
    assert_eq!(num(f, "sessions.assets"), assets);
    // a span shorter than the gap: every session may be cut, so no users source
    assert_eq!(f["sessions"]["seen"], false);
    assert_eq!(f["model_source"]["kind"], "requests");
    assert_eq!(f["service_given"]["from"], "assumption");
}

#[test]
fn nasa_kennedy_common_log_format() {
    let f = fit_real("nasa-kennedy-aug95-clf.log");
    assert_eq!(num(&f, "lines.read"), 292.0);
    assert_eq!(num(&f, "lines.skipped"), 0.0);
    assert_eq!(num(&f, "requests.total"), 292.0);
    assert_eq!(num(&f, "requests.failed"), 0.0);
    close(num(&f, "arrivals.first_s"), 807249601.0, 1e-6, "first");
    close(num(&f, "arrivals.last_s"), 807249995.0, 1e-6, "last");
    // 39 hosts: 36 with a page, 3 with images only
    sessions(&f, 36.0, 3.0, 110.0, 182.0);
    assert_eq!(
        num(&f, "status_codes.200") + num(&f, "status_codes.302") + num(&f, "status_codes.304"),
        292.0
    );
}

#[test]
fn semicomplete_combined_unsorted() {
    let f = fit_real("semicomplete-combined.log");
    assert_eq!(num(&f, "lines.read"), 63.0);
    assert_eq!(num(&f, "lines.skipped"), 0.0);
    assert_eq!(num(&f, "requests.total"), 63.0);
    assert_eq!(num(&f, "requests.failed"), 1.0);
    close(num(&f, "arrivals.first_s"), 1431857100.0, 1e-6, "first");
    close(num(&f, "arrivals.last_s"), 1431857159.0, 1e-6, "last");
    // 20 clients (address and user agent): 14 with a page, 6 with assets only
    sessions(&f, 14.0, 6.0, 19.0, 44.0);
    assert_eq!(num(&f, "status_codes.404"), 1.0);
}

/// `--format jtl` reads JMeter's CSV and its XML alike, and gives the same requests as
/// auto-detection.
#[test]
fn format_jtl_reads_csv_and_xml() {
    for (name, total) in [
        ("jmeter-htmlreport.csv", 255.0),
        ("jmeter-sample_log1.jtl", 126.0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fit");
        let o = surge()
            .args(["fit", "--format", "jtl", "--out"])
            .arg(&out)
            .arg(repo_file(&format!("tests/fit-data/real/{name}")))
            .output()
            .unwrap();
        assert_success(&o);
        let f = read_json(&out.join("fit.json"));
        assert_eq!(num(&f, "requests.total"), total, "{name}");
    }
}

/// A transaction controller's parent `<sample>` holding its `<httpSample>` children counts once
/// (as JMeter's CSV counts it), with the parent's time.
#[test]
fn jmeter_xml_nested_samples_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testResults version=\"1.2\">\n");
    for i in 0..60u64 {
        let ts = 1_700_000_000_000 + i * 1000;
        xml.push_str(&format!(
            "<sample t=\"{}\" ts=\"{ts}\" s=\"true\" lb=\"checkout\" rc=\"200\" na=\"3\">\n  <httpSample t=\"100\" ts=\"{ts}\" s=\"true\" lb=\"cart\" rc=\"200\">\n    <responseData class=\"java.lang.String\">&lt;html&gt;\n</responseData>\n  </httpSample>\n  <httpSample t=\"{}\" ts=\"{}\" s=\"true\" lb=\"pay\"\n      rc=\"200\"/>\n</sample>\n",
            300 + i,
            200 + i,
            ts + 100
        ));
    }
    xml.push_str("</testResults>\n");
    let file = dir.path().join("nested.jtl");
    std::fs::write(&file, xml).unwrap();
    let out = dir.path().join("fit");
    let o = surge()
        .arg("fit")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let f = read_json(&out.join("fit.json"));
    assert_eq!(num(&f, "requests.total"), 60.0);
    // mean of 300..=359 ms
    close(
        num(&f, "service.observed.mean_s"),
        0.3295,
        1e-12,
        "parent times",
    );
    let eps = f["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 1, "{eps:?}");
    assert_eq!(eps[0]["endpoint"], "checkout");
    // the recorded threads are the load (requests in progress come from Little's law)
    assert_eq!(num(&f, "contention.max_load_seen"), 3.0);
}
