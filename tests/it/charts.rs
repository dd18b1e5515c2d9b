//! What the charts show, read back from their SVG: titles, axis labels, series names, and the
//! values drawn, compared with the run's own CSV and JSON files (a chart that drew the wrong
//! column, the wrong scale or an empty panel fails here, where a file-size check would pass).

use crate::common::{MEMORY_CRASH, column, read_json, surge_ok, write_file};
use crate::svg::{Chart, parse_elapsed, parse_tick};
use std::path::Path;

/// Asserts `drawn` is `want` within `px` pixels of the axis whose scale is `per_px` per pixel.
fn within_px(drawn: f64, want: f64, per_px: f64, px: f64, what: &str) {
    assert!(
        (drawn - want).abs() <= px * per_px.abs(),
        "{what}: drawn {drawn}, the data say {want} (1 px = {per_px})"
    );
}

#[test]
fn the_timeline_draws_every_buckets_offered_rate() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "m.toml", MEMORY_CRASH);
    let out = dir.path().join("run");
    let o = out.to_str().unwrap();
    surge_ok(&["run", model.to_str().unwrap(), "--quiet", "--out", o]);
    let chart = Chart::read(&out.join("timeline.svg"));
    chart.assert_shows(&[
        "Offered load: attempts per second (first attempts + retries)",
        "Outcomes per second",
        "Latency of successful requests",
        "time since start",
        "req/s",
        "latency (s)",
        "offered",
        "retries",
        "succeeded",
        "rejected",
        "timed out",
        "failed",
        "p50",
        "p95",
        "p99",
        "tier app: busy threads",
        "tier app: queued requests",
        "busy threads",
    ]);
    let panel = chart.panel(
        "Offered load: attempts per second (first attempts + retries)",
        &["Outcomes per second"],
    );
    let (to_t, to_rate) = (panel.x_scale(parse_elapsed), panel.y_scale());
    let (t_px, rate_px) = (to_t(1.0) - to_t(0.0), to_rate(1.0) - to_rate(0.0));
    // The series (the legend's sample of it lies right of the axis's end).
    let end = panel
        .x_labels()
        .into_iter()
        .filter(|(_, t)| parse_elapsed(t).is_some())
        .map(|(x, _)| x)
        .fold(0.0, f64::max);
    let drawn: Vec<(f64, f64)> = panel
        .line("#1F77B4")
        .into_iter()
        .filter(|(x, _)| *x <= end + 1.0)
        .collect();
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            vec![c[0].parse().unwrap(), c[3].parse().unwrap()]
        })
        .collect();
    assert_eq!(drawn.len(), rows.len(), "one point per bucket: {drawn:?}");
    for (&(x, y), row) in drawn.iter().zip(&rows) {
        // A point per 60 s bucket, at its middle, at the bucket's attempts per second.
        within_px(to_t(x), row[0] + 30.0, t_px, 1.5, "bucket time (s)");
        within_px(to_rate(y), row[1] / 60.0, rate_px, 1.5, "offered (req/s)");
    }
}

fn sweep(dir: &Path, out: &str, varies: &[&str]) -> std::path::PathBuf {
    let model = write_file(dir, "m.toml", MEMORY_CRASH);
    let out = dir.join(out);
    let mut args = vec!["sweep", model.to_str().unwrap()];
    for v in varies {
        args.extend(["--vary", v]);
    }
    args.extend(["--reps", "2", "--jobs", "1", "--quiet"]);
    args.extend(["--out", out.to_str().unwrap()]);
    surge_ok(&args);
    out
}

#[test]
fn the_sweep_chart_draws_each_points_outage_probability() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(dir.path(), "sw", &["surge.peak=1.6..2.2:0.2"]);
    let chart = Chart::read(&out.join("sweep.svg"));
    chart.assert_shows(&[
        "m — 4 points x 2 replications",
        "outage probability",
        "recovery time (s)",
        "downtime (min)",
        "p95 latency (s)",
        "surge.peak",
        "mean",
        "95% interval",
    ]);
    let panel = chart.panel("outage probability", &["recovery time (s)"]);
    let labels: Vec<(f64, &str)> = panel
        .x_labels()
        .into_iter()
        .filter(|(_, t)| parse_tick(t).is_some())
        .collect();
    let ticks: Vec<&str> = labels.iter().map(|(_, t)| *t).collect();
    assert_eq!(ticks, ["1.6", "1.8", "2", "2.2"], "a tick per point");
    let tick_x: Vec<f64> = labels.iter().map(|(x, _)| *x).collect();
    let to_p = panel.y_scale();
    let p_px = to_p(1.0) - to_p(0.0);
    // The markers on the plot (the legend's sample lies right of the last tick).
    let marks: Vec<(f64, f64)> = panel
        .markers("#1F77B4", 5.0)
        .into_iter()
        .filter(|(x, _)| *x <= tick_x[3] + 1.0)
        .collect();
    let doc = read_json(&out.join("sweep.json"));
    let points = doc["points"].as_array().unwrap();
    assert_eq!(marks.len(), points.len(), "{marks:?}");
    for ((&(x, y), p), tx) in marks.iter().zip(points).zip(&tick_x) {
        assert!((x - tx).abs() <= 1.0, "marker at x {x}, its tick at {tx}");
        let want = p["mean"]["outage.crashed"].as_f64().unwrap();
        within_px(to_p(y), want, p_px, 1.5, "outage probability");
    }
    // Not every point alike: the chart must show the rise it is drawn for.
    let means: Vec<f64> = points
        .iter()
        .map(|p| p["mean"]["outage.crashed"].as_f64().unwrap())
        .collect();
    assert!(means[0] < means[3], "{means:?}");
}

#[test]
fn the_heatmap_writes_each_cells_outage_probability() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(
        dir.path(),
        "hm",
        &["surge.peak=1.5,2.5", "tier.app.threads=8,12,16"],
    );
    let chart = Chart::read(&out.join("heatmap.svg"));
    chart.assert_shows(&[
        "m — 6 points x 2 replications",
        "surge.peak",
        "tier.app.threads",
        "outage probability",
        "crash boundary",
    ]);
    let doc = read_json(&out.join("sweep.json"));
    let mut want: Vec<String> = doc["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{:.2}", p["mean"]["outage.crashed"].as_f64().unwrap()))
        .collect();
    // The cells are written after the axes' labels, before the colour bar's title.
    let texts = chart.texts();
    let from = texts.iter().position(|t| *t == "tier.app.threads").unwrap() + 1;
    let to = texts
        .iter()
        .position(|t| *t == "outage probability")
        .unwrap();
    let mut cells: Vec<String> = texts[from..to].iter().map(|t| t.to_string()).collect();
    want.sort();
    cells.sort();
    assert_eq!(
        cells, want,
        "one cell per point, its mean outage probability"
    );
    assert!(want.contains(&"0.00".into()) && want.contains(&"1.00".into()));
}

#[test]
fn the_crash_point_chart_states_the_answer_and_every_try() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "m.toml", MEMORY_CRASH);
    let out = dir.path().join("cp");
    surge_ok(&[
        "crashpoint",
        model.to_str().unwrap(),
        "--vary",
        "surge.peak=1.5..2.5",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let doc = read_json(&out.join("crashpoint.json"));
    let cp = doc["crash_point"].as_f64().unwrap();
    let chart = Chart::read(&out.join("crashpoint.svg"));
    let answer = format!("crash point {cp:.3}");
    chart.assert_shows(&[
        "m — crash point in surge.peak",
        &answer,
        "surge.peak",
        "outage probability",
        "tries, in order",
    ]);
    // The theory's answer is 2 (capacity / base load); the chart states the search's.
    assert!((cp - 2.0).abs() < 0.06, "{cp}");
    // The table of tries: its outages and replications add up, per value, to the JSON's points.
    let texts = chart.texts();
    let start = texts.iter().position(|t| *t == "outages / reps").unwrap() + 1;
    let mut per_value: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for row in texts[start..].chunks(3) {
        let (k, n) = row[2]
            .split_whitespace()
            .next()
            .unwrap()
            .split_once('/')
            .unwrap();
        let e = per_value.entry(row[1].to_string()).or_default();
        e.0 += k.parse::<u64>().unwrap();
        e.1 += n.parse::<u64>().unwrap();
    }
    let points = doc["points"].as_array().unwrap();
    assert_eq!(per_value.len(), points.len(), "{per_value:?}");
    for p in points {
        let v = p["value"].as_f64().unwrap();
        let (k, n) = per_value
            .iter()
            .find(|(s, _)| (s.parse::<f64>().unwrap() - v).abs() < 1e-9)
            .map(|(_, c)| *c)
            .unwrap_or_else(|| panic!("no try of {v} in the table"));
        assert_eq!(
            (k, n),
            (p["outages"].as_u64().unwrap(), p["reps"].as_u64().unwrap()),
            "at {v}"
        );
    }
}

/// A model of requests only, saturated: 150 req/s offered to 10 threads serving 10 req/s each,
/// so the queue grows by about 50 a second (to thousands) while the busy threads stay at 10.
const SATURATED: &str = r#"
[scenario]
name = "saturated"
duration = "10m"
bucket = "1m"
seed = 5
[[source]]
name = "clients"
kind = "requests"
rate = 150
[[tier]]
name = "server"
instances = 1
threads = 10
queue = 100000
service = { dist = "exponential", mean = "100ms" }
"#;

/// A model with users.
const USERS: &str = r#"
[scenario]
name = "users"
duration = "5m"
bucket = "1m"
seed = 5
[[source]]
kind = "users"
users = 100
pages = { dist = "geometric", mean = 4 }
think = { dist = "exponential", mean = "5s" }
[[tier]]
name = "web"
instances = 1
threads = 50
service = { dist = "exponential", mean = "50ms" }
"#;

#[test]
fn the_timeline_of_a_request_only_model_has_no_users_panel() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str| run_timeline(dir.path(), name, text, name);
    // Requests only: no users, so no flat "concurrent users" line at 0.
    let requests = run("requests", SATURATED);
    let texts = requests.texts();
    assert!(
        !texts.iter().any(|t| t.contains("concurrent users")),
        "a request-only model has no users to draw: {texts:?}"
    );
    requests.assert_shows(&["Offered load: attempts per second (first attempts + retries)"]);
    // A users source keeps its panel.
    let users = run("users", USERS);
    users.assert_shows(&["Traffic: concurrent users", "concurrent users", "users"]);
}

#[test]
fn a_saturated_tier_draws_its_busy_threads_on_their_own_scale() {
    let dir = tempfile::tempdir().unwrap();
    // Into `out`, where `common::column` reads timeseries.csv.
    let chart = run_timeline(dir.path(), "m", SATURATED, "out");
    let threads = chart.panel(
        "tier server: busy threads",
        &["tier server: queued requests"],
    );
    let to_v = threads.y_scale();
    let per_px = to_v(1.0) - to_v(0.0);
    // The axis is scaled to the 10 threads, not to the queue: a pixel is well under a thread.
    assert!(per_px.abs() < 0.1, "1 px = {per_px} threads");
    let busy = plotted(&threads, "#1F77B4");
    let top = busy.iter().map(|p| to_v(p.1)).fold(f64::MIN, f64::max);
    within_px(top, 10.0, per_px, 3.0, "busy threads of the saturated tier");
    // The queue on its own panel, its highest point the CSV's.
    let queue = chart.panel("tier server: queued requests", &[]);
    let to_q = queue.y_scale();
    let q_px = to_q(1.0) - to_q(0.0);
    let drawn = plotted(&queue, "#FF7F0E");
    let drawn_max = drawn.iter().map(|p| to_q(p.1)).fold(f64::MIN, f64::max);
    let csv_max = column(dir.path(), "server.queued")
        .into_iter()
        .fold(f64::MIN, f64::max);
    assert!(csv_max > 1000.0, "the queue grows to thousands: {csv_max}");
    within_px(drawn_max, csv_max, q_px, 2.0, "queued requests");
}

/// `surge run` of the model `text` (written as `name.toml` in `dir`) into `dir/out`: its
/// timeline chart.
fn run_timeline(dir: &Path, name: &str, text: &str, out: &str) -> Chart {
    let model = write_file(dir, &format!("{name}.toml"), text);
    let out = dir.join(out);
    surge_ok(&[
        "run",
        model.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    Chart::read(&out.join("timeline.svg"))
}

/// The points of a panel's line in `stroke` inside its plot (not its legend's sample, which lies
/// right of the x axis's last tick).
fn plotted(panel: &crate::svg::Panel, stroke: &str) -> Vec<(f64, f64)> {
    let end = panel
        .x_labels()
        .into_iter()
        .map(|(x, _)| x)
        .fold(0.0, f64::max);
    let points: Vec<(f64, f64)> = panel
        .line(stroke)
        .into_iter()
        .filter(|(x, _)| *x <= end + 1.0)
        .collect();
    assert!(!points.is_empty(), "no line in {stroke}");
    points
}
