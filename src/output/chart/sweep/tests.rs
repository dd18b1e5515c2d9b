//! Tests of the sweep chart: axes, scales and sample drawings.

use super::super::samples::{draw_sample, keep_sample, size_of};
use super::*;

#[test]
fn a_time_axis_stops_at_zero() {
    // p95 of 0.1 s +/- 0.5 s (three skewed replications): the axis once went to -0.4 s.
    let y = metric_y(&[(1.0, 0.1, 0.5), (2.0, 0.2, 0.05)], false, 0.0);
    assert!(
        y.ticks.iter().all(|t| t.0 >= 0.0) && y.lo > -0.05,
        "{:?}",
        y.ticks
    );
    assert!(metric_y(&[(1.0, 0.1, 0.5)], false, f64::NEG_INFINITY).lo < -0.3);
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// 10 points of `tier.web.instances` 4..22: outages vanish around 11.
fn sample_sweep() -> (Axis, Vec<MetricSeries>) {
    let x: Vec<f64> = (0..10).map(|i| 4.0 + 2.0 * f64::from(i)).collect();
    let p: Vec<f64> = x.iter().map(|&v| logistic((11.3 - v) * 1.1)).collect();
    let p_ci: Vec<f64> = p
        .iter()
        .map(|&p| 1.96 * (p * (1.0 - p) / 40.0).sqrt())
        .collect();
    let rec: Vec<f64> = x
        .iter()
        .map(|&v| (9.0 * 3600.0 * (1.0 - (v - 4.0) / 12.0)).max(0.0))
        .collect();
    let rec_ci: Vec<f64> = rec.iter().map(|&r| 0.12 * r).collect();
    let lat: Vec<f64> = x
        .iter()
        .map(|&v| 0.25 + 30.0 * logistic((10.0 - v) * 0.9))
        .collect();
    let lat_ci: Vec<f64> = lat.iter().map(|&l| 0.15 * l).collect();
    let axis = Axis {
        name: "tier.web.instances".to_string(),
        x,
        labels: None,
    };
    let metrics = vec![
        MetricSeries {
            label: "outage probability".to_string(),
            unit: String::new(),
            probability: true,
            mean: p,
            ci95: p_ci,
            ..MetricSeries::default()
        },
        MetricSeries {
            label: "recovery time".to_string(),
            unit: "s".to_string(),
            mean: rec,
            ci95: rec_ci,
            notes: vec!["not recovered in 1 of 4".to_string()],
            ..MetricSeries::default()
        },
        MetricSeries {
            label: "p95 latency".to_string(),
            unit: "s".to_string(),
            mean: lat,
            ci95: lat_ci,
            ..MetricSeries::default()
        },
    ];
    (axis, metrics)
}

#[test]
fn draws_sample_sweep() {
    let (axis, metrics) = sample_sweep();
    let text = draw_sample("sample-sweep", |png, svg| {
        draw_sweep(
            "ircc-2016 — sweep of web instances",
            &axis,
            &metrics,
            png,
            svg,
        )
    });
    assert!(text.contains("recovery time (h)"), "seconds shown in hours");
    assert!(text.contains("p95 latency (s)"));
    assert!(text.contains("outage probability"));
    assert!(text.contains("tier.web.instances"));
}

/// 6 x 5 grid of web instances against the surge peak.
#[test]
fn degenerate_sweeps_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut draw = |axis: &Axis, metrics: &[MetricSeries]| {
        n += 1;
        let png = dir.path().join(format!("s{n}.png"));
        let svg = dir.path().join(format!("s{n}.svg"));
        draw_sweep("degenerate", axis, metrics, &png, &svg).unwrap();
        keep_sample(&png, &svg, &format!("degenerate-sweep-{n}"));
        assert!(size_of(&png) > 1000 && size_of(&svg) > 1000);
    };
    let metric = |mean: Vec<f64>, ci95: Vec<f64>| MetricSeries {
        label: "m".to_string(),
        unit: "s".to_string(),
        mean,
        ci95,
        ..MetricSeries::default()
    };
    let nan = f64::NAN;
    draw(&Axis::default(), &[]);
    draw(&Axis::default(), &[metric(vec![], vec![])]);
    let one = Axis {
        name: "x".to_string(),
        x: vec![3.0],
        labels: None,
    };
    draw(&one, &[metric(vec![5.0], vec![1.0])]);
    draw(&one, &[metric(vec![nan], vec![nan])]);
    let equal = Axis {
        name: "x".to_string(),
        x: vec![2.0, 2.0, 2.0],
        labels: None,
    };
    draw(&equal, &[metric(vec![0.0, 0.0, 0.0], vec![0.0, nan, -1.0])]);
    let odd = Axis {
        name: String::new(),
        x: vec![nan, 1.0, f64::INFINITY, -4.0, 1e12],
        labels: None,
    };
    draw(
        &odd,
        &[
            metric(vec![1.0, nan, 3.0], vec![nan; 7]),
            metric(vec![-5.0, 1e300, f64::INFINITY, -1e-300, 0.0, 9.0], vec![]),
        ],
    );
    // Probabilities exactly 0 and 1 with whiskers past the ends.
    let p = MetricSeries {
        label: "outage probability".to_string(),
        unit: String::new(),
        probability: true,
        mean: vec![1.0, 1.0, 0.0, 0.0],
        ci95: vec![0.3, 0.0, 0.2, nan],
        ..MetricSeries::default()
    };
    let four = Axis {
        name: "x".to_string(),
        x: vec![1.0, 2.0, 3.0, 4.0],
        labels: None,
    };
    draw(&four, std::slice::from_ref(&p));
    // Categories, with more labels than points and very long names.
    let cats = Axis {
        name: "retry.policy".to_string(),
        x: vec![0.0, 1.0, 2.0],
        labels: Some(vec![
            "none".to_string(),
            "exponential backoff with full jitter and a budget".to_string(),
            "fixed 1 s".to_string(),
            "unused".to_string(),
        ]),
    };
    draw(
        &cats,
        &[p.clone(), metric(vec![1.0, 2.0, 3.0], vec![0.1; 3])],
    );
    let many = Axis {
        name: "x".to_string(),
        x: (0..300).map(f64::from).collect(),
        labels: Some((0..300).map(|i| format!("category number {i}")).collect()),
    };
    draw(&many, &[p]);
}

#[test]
fn sweep_shows_category_names() {
    let dir = tempfile::tempdir().unwrap();
    let axis = Axis {
        name: "retry.policy".to_string(),
        x: vec![0.0, 1.0, 2.0],
        labels: Some(vec!["none".into(), "exponential".into(), "jittered".into()]),
    };
    let m = MetricSeries {
        label: "goodput".to_string(),
        unit: "req/s".to_string(),
        mean: vec![1200.0, 15_000.0, 16_500.0],
        ci95: vec![100.0, 800.0, 900.0],
        ..MetricSeries::default()
    };
    let (png, svg) = (dir.path().join("c.png"), dir.path().join("c.svg"));
    draw_sweep(
        "retry policies",
        &axis,
        std::slice::from_ref(&m),
        &png,
        &svg,
    )
    .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    for name in ["none", "exponential", "jittered", "goodput (req/s)"] {
        assert!(text.contains(name), "{name} missing");
    }
    // Categories are not joined by a line (the same values on a numeric axis are).
    let lines = |svg: &str| {
        svg.split("<polyline")
            .skip(1)
            .filter(|el| {
                let points = el.split("points=\"").nth(1).unwrap_or("");
                let points = points.split('"').next().unwrap_or("");
                points.split_whitespace().count() > 2
            })
            .count()
    };
    assert_eq!(lines(&text), 0, "a line joins the categories");
    let numeric = Axis {
        labels: None,
        ..axis
    };
    draw_sweep("retry policies", &numeric, &[m], &png, &svg).unwrap();
    assert!(lines(&std::fs::read_to_string(&svg).unwrap()) > 0);
}
