//! Tests of the timeline chart.

use super::*;
use crate::metrics::series::{TierSeries, TimeSeries};
use std::path::PathBuf;

/// 16 h of 1-minute buckets from 18:00: a surge peaking around 23:00, an outage from 5 h to
/// 14 h (crash at 5 h, recovered at 14 h), two tiers, and NaN latencies while nothing succeeds.
fn synthetic() -> TimeSeries {
    let bucket = 60.0;
    let n = 16 * 60;
    let mut ts = TimeSeries {
        bucket_s: bucket,
        start_clock_s: Some(18.0 * 3600.0),
        ..TimeSeries::default()
    };
    let mut web = TierSeries {
        name: "web".to_string(),
        threads_per_instance: 200.0,
        ..TierSeries::default()
    };
    let mut db = TierSeries {
        name: "db".to_string(),
        threads_per_instance: 50.0,
        ..TierSeries::default()
    };
    for i in 0..n {
        let t = i as f64 * bucket;
        let h = t / 3600.0;
        let surge = (-((h - 5.0) / 2.0).powi(2)).exp();
        let users = 3000.0 + 40000.0 * surge;
        let outage = (5.0..14.0).contains(&h);
        let dead = (6.0..9.0).contains(&h);
        let first = users * 0.02 * bucket;
        let retries = if outage { first * 0.8 } else { first * 0.02 };
        let offered = first + retries;
        let (ok, rej, tout, fail) = if dead {
            (0.0, offered * 0.5, offered * 0.3, offered * 0.2)
        } else if outage {
            (offered * 0.3, offered * 0.4, offered * 0.2, offered * 0.1)
        } else {
            (offered * 0.99, 0.0, offered * 0.005, offered * 0.005)
        };
        ts.t_s.push(t);
        ts.users.push(users);
        ts.offered.push(offered);
        ts.first_attempts.push(first);
        ts.retries.push(retries);
        ts.succeeded.push(ok);
        ts.rejected.push(rej);
        ts.timed_out.push(tout);
        ts.failed.push(fail);
        let base = if outage { 4.0 } else { 0.08 + 0.3 * surge };
        let lat = |m: f64| if dead { f64::NAN } else { base * m };
        ts.p50_s.push(lat(1.0));
        ts.p95_s.push(lat(3.0));
        ts.p99_s.push(lat(6.0));
        ts.window_success_rate
            .push(if dead { f64::NAN } else { 0.9 });
        ts.window_p95_s.push(lat(3.0));
        let web_up = if dead {
            0.0
        } else if outage {
            2.0
        } else {
            4.0
        };
        web.instances_up.push(web_up);
        web.busy_threads
            .push((users * 0.02).min(web_up * 200.0) * if outage { 1.0 } else { 0.9 });
        web.queued.push(if outage && !dead { 1500.0 } else { 0.0 });
        web.memory_max_bytes.push(1e9);
        db.instances_up.push(2.0);
        db.busy_threads.push((users * 0.002).min(100.0));
        db.queued.push(if outage { 30.0 } else { 0.0 });
        db.memory_max_bytes.push(2e9);
    }
    ts.tiers = vec![web, db];
    ts
}

fn size_of(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn draws_synthetic_timeline() {
    let ts = synthetic();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("timeline.png");
    let svg = dir.path().join("timeline.svg");
    let t = Timeline {
        title: "synthetic surge — seed 1",
        series: &ts,
        outages: &[(5.0 * 3600.0, 14.0 * 3600.0)],
        crash_time_s: Some(5.0 * 3600.0),
        calls_stayed_up: true,
        recovered_at_s: Some(14.0 * 3600.0),
        instance_crashes: vec![InstanceCrash {
            tier: "web".to_string(),
            t_s: 6.0 * 3600.0,
            crashes: 3,
        }],
        slo_lines: Some((0.99, 0.5)),
    };
    draw_timeline(&t, &png, &svg).unwrap();
    assert!(size_of(&png) > 50_000, "png is {} bytes", size_of(&png));
    assert!(size_of(&svg) > 50_000, "svg is {} bytes", size_of(&svg));
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    // The shading is the requests' outage (the SLO's level), and the calls had none.
    assert!(svg_text.contains("outage by requests (calls stayed up) 23:00"));
    assert!(
        svg_text.lines().any(|l| l.trim() == "outage by requests"),
        "the legend names the level"
    );
    assert!(svg_text.contains("first web instance crash 00:00 (of 3)"));
    assert!(svg_text.contains("recovered 08:00"));
    assert!(svg_text.contains("tier web"));
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // For eyeballing: SURGE_CHART_SAMPLE=/some/dir/sample-timeline.png cargo test keeps a
    // copy of the PNG there and of the SVG next to it.
    if let Some(keep) = std::env::var_os("SURGE_CHART_SAMPLE") {
        let keep = PathBuf::from(keep);
        std::fs::copy(&png, &keep).unwrap();
        std::fs::copy(&svg, keep.with_extension("svg")).unwrap();
    }
}

#[test]
fn draws_degenerate_series_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    // Empty, elapsed time.
    let empty = TimeSeries::default();
    let t = Timeline {
        title: "empty",
        series: &empty,
        outages: &[],
        crash_time_s: None,
        calls_stayed_up: false,
        recovered_at_s: None,
        instance_crashes: Vec::new(),
        slo_lines: None,
    };
    draw_timeline(&t, &dir.path().join("a.png"), &dir.path().join("a.svg")).unwrap();

    // All-zero and all-NaN columns, ragged lengths, markers out of range, no bucket length.
    let mut ts = TimeSeries {
        t_s: (0..50).map(|i| f64::from(i) * 10.0).collect(),
        users: vec![0.0; 50],
        offered: vec![0.0; 50],
        succeeded: vec![0.0; 20],
        p50_s: vec![f64::NAN; 50],
        p95_s: vec![f64::NAN; 50],
        p99_s: vec![f64::INFINITY; 50],
        ..TimeSeries::default()
    };
    ts.tiers.push(TierSeries {
        name: "only".to_string(),
        threads_per_instance: f64::NAN,
        instances_up: vec![1.0; 50],
        ..TierSeries::default()
    });
    let t = Timeline {
        title: "degenerate",
        series: &ts,
        outages: &[(-100.0, 50.0), (400.0, 1e9), (f64::NAN, 3.0), (30.0, 10.0)],
        crash_time_s: Some(-5.0),
        calls_stayed_up: false,
        recovered_at_s: Some(f64::NAN),
        instance_crashes: Vec::new(),
        slo_lines: None,
    };
    draw_timeline(&t, &dir.path().join("b.png"), &dir.path().join("b.svg")).unwrap();
    assert!(size_of(&dir.path().join("b.png")) > 1000);
}
