//! Tests of the crashpoint chart.

use super::super::samples::{draw_sample, keep_sample, size_of};
use super::*;

const OUTAGE: Words = Words {
    point: "crash point",
    failures: "outages",
    probability: "outage probability",
};

fn sample_tries() -> Vec<CrashTry> {
    let t = |value, reps, outages| CrashTry {
        value,
        reps,
        outages,
    };
    vec![
        t(4.0, 10, 10),
        t(22.0, 10, 0),
        t(13.0, 20, 3),
        t(8.5, 20, 19),
        t(10.75, 30, 19),
        t(11.875, 30, 10),
        t(11.3, 40, 21),
        t(11.6, 40, 15),
    ]
}

#[test]
fn draws_sample_crashpoint() {
    let tries = sample_tries();
    let curve = |x: f64| 1.0 / (1.0 + (-(x - 11.3) * -2.0).exp());
    let chart = CrashChart {
        title: "ircc-2016 — crash point of web instances",
        parameter: "tier.web.instances",
        points: &tries,
        in_order: &tries,
        crash_point: Some(11.3),
        interval: Some((10.9, 11.75)),
        interval_name: "95% interval".to_string(),
        p10: Some(12.6),
        p90: Some(10.1),
        curve: Some(&curve),
        words: OUTAGE,
    };
    let text = draw_sample("sample-crashpoint", |png, svg| {
        draw_crashpoint(&chart, png, svg)
    });
    assert!(text.contains("crash point 11.3"));
    assert!(text.contains("crash point 95% interval"));
    assert!(text.contains("logistic fit"));
    assert!(
        !text.contains("CI"),
        "a 95% interval is not called a CI here"
    );
    assert!(text.contains("outage probability"));
    assert!(text.contains("tier.web.instances"));
}

#[test]
fn degenerate_crashpoints_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut draw = |tries: &[CrashTry],
                    c: Option<f64>,
                    ci: Option<(f64, f64)>,
                    p10: Option<f64>,
                    p90: Option<f64>| {
        n += 1;
        let png = dir.path().join(format!("c{n}.png"));
        let svg = dir.path().join(format!("c{n}.svg"));
        let chart = CrashChart {
            title: "degenerate",
            parameter: "",
            points: tries,
            in_order: tries,
            crash_point: c,
            interval: ci,
            interval_name: "bracket".to_string(),
            p10,
            p90,
            curve: None,
            words: OUTAGE,
        };
        draw_crashpoint(&chart, &png, &svg).unwrap();
        keep_sample(&png, &svg, &format!("degenerate-crashpoint-{n}"));
        assert!(size_of(&png) > 1000 && size_of(&svg) > 1000);
    };
    let t = |value, reps, outages| CrashTry {
        value,
        reps,
        outages,
    };
    draw(&[], None, None, None, None);
    draw(&[], Some(5.0), Some((6.0, 4.0)), Some(f64::NAN), None);
    draw(&[t(3.0, 0, 0)], None, None, None, None);
    draw(
        &[t(3.0, 5, 9), t(3.0, 5, 0), t(3.0, 1, 1)],
        Some(3.0),
        None,
        None,
        None,
    );
    draw(
        &[
            t(f64::NAN, 5, 1),
            t(f64::INFINITY, 5, 1),
            t(1e300, 2, 1),
            t(-1e300, 2, 1),
        ],
        Some(f64::INFINITY),
        Some((f64::NAN, 1.0)),
        Some(1.0),
        Some(1.0),
    );
    // Many crowded tries.
    let many: Vec<CrashTry> = (0..200)
        .map(|i| t(10.0 + f64::from(i) * 0.001, 1000, i * 5))
        .collect();
    draw(
        &many,
        Some(10.1),
        Some((10.05, 10.15)),
        Some(10.2),
        Some(10.0),
    );
}
