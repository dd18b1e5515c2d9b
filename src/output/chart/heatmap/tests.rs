//! Tests of the heatmap chart.

use super::super::samples::{draw_sample, keep_sample, size_of};
use super::*;

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn sample_heatmap() -> (Axis, Axis, Vec<Vec<f64>>) {
    let x = Axis {
        name: "tier.web.instances".to_string(),
        x: vec![4.0, 8.0, 12.0, 16.0, 20.0, 24.0],
        labels: None,
    };
    let y = Axis {
        name: "surge.peak (users)".to_string(),
        x: vec![20_000.0, 30_000.0, 40_000.0, 50_000.0, 60_000.0],
        labels: None,
    };
    let z =
        y.x.iter()
            .map(|&peak| {
                x.x.iter()
                    .map(|&n| logistic((peak / 3000.0 - n) * 0.9))
                    .collect()
            })
            .collect();
    (x, y, z)
}

#[test]
fn draws_sample_heatmap() {
    let (x, y, mut z) = sample_heatmap();
    z[4][0] = f64::NAN;
    let text = draw_sample("sample-heatmap", |png, svg| {
        draw_heatmap(
            "ircc-2016 — outages by instances and peak",
            &x,
            &y,
            &z,
            png,
            svg,
        )
    });
    assert!(text.contains("outage probability"));
    assert!(text.contains("crash boundary"));
    assert!(text.contains("no data"));
    assert!(text.contains("surge.peak (users)"));
}

#[test]
fn degenerate_heatmaps_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut draw = |x: &Axis, y: &Axis, z: &[Vec<f64>]| {
        n += 1;
        let png = dir.path().join(format!("h{n}.png"));
        let svg = dir.path().join(format!("h{n}.svg"));
        draw_heatmap("degenerate", x, y, z, &png, &svg).unwrap();
        keep_sample(&png, &svg, &format!("degenerate-heatmap-{n}"));
        assert!(size_of(&png) > 1000 && size_of(&svg) > 1000);
    };
    let axis = |x: Vec<f64>| Axis {
        name: "a".to_string(),
        x,
        labels: None,
    };
    let nan = f64::NAN;
    draw(&Axis::default(), &Axis::default(), &[]);
    draw(&axis(vec![1.0]), &axis(vec![2.0]), &[vec![0.7]]);
    draw(&axis(vec![1.0]), &axis(vec![0.0]), &[]);
    draw(
        &axis(vec![1.0, 2.0]),
        &axis(vec![1.0, 2.0]),
        &[vec![nan, nan], vec![nan, nan]],
    );
    // All 0, all 1, exactly 0 / 1 split, exactly 0.5 everywhere.
    let (x, y, _) = sample_heatmap();
    for v in [0.0, 1.0, 0.5] {
        draw(&x, &y, &vec![vec![v; 6]; 5]);
    }
    let split: Vec<Vec<f64>> = (0..5)
        .map(|iy| (0..6).map(|ix| if ix > iy { 0.0 } else { 1.0 }).collect())
        .collect();
    draw(&x, &y, &split);
    // Equal and NaN grid values, unsorted values, ragged z, values outside 0..1.
    draw(
        &axis(vec![3.0, 3.0, nan]),
        &axis(vec![5.0, 1.0, 3.0]),
        &[vec![0.2, 0.9], vec![2.0, -1.0, 0.6, 0.7], vec![]],
    );
    // Categories on both axes, long names, saddles.
    let cats = |names: &[&str]| Axis {
        name: "policy".to_string(),
        x: (0..names.len()).map(|i| i as f64).collect(),
        labels: Some(names.iter().map(|s| s.to_string()).collect()),
    };
    draw(
        &cats(&["none", "exponential backoff with jitter", "fixed"]),
        &cats(&[
            "a very long category name indeed, longer than the room",
            "b",
        ]),
        &[vec![0.0, 1.0, 0.0], vec![1.0, 0.0, 1.0]],
    );
    // A large grid: no cell values, thinned ticks.
    let big: Vec<f64> = (0..80).map(f64::from).collect();
    let zz: Vec<Vec<f64>> = (0..80)
        .map(|j| (0..80).map(|i| f64::from((i * j) % 7) / 6.0).collect())
        .collect();
    draw(&axis(big.clone()), &axis(big), &zz);
}

#[test]
fn heatmap_grid_cells() {
    let g = Grid::new(&Axis {
        name: "x".to_string(),
        x: vec![8.0, 4.0, 16.0],
        labels: None,
    });
    assert!(g.numeric);
    assert_eq!(g.cells, vec![(6.0, 12.0), (2.0, 6.0), (12.0, 20.0)]);
    assert_eq!((g.lo, g.hi), (2.0, 20.0));
    let g = Grid::new(&Axis {
        name: "x".to_string(),
        x: vec![1.0, 1.0],
        labels: None,
    });
    assert!(!g.numeric);
    assert_eq!(g.cells, vec![(-0.5, 0.5), (0.5, 1.5)]);
}
