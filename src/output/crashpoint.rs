//! The chart of a crash-point search (`crashpoint.png`, `crashpoint.svg`) from its result
//! ([`draw`]), written by `surge crashpoint` (and the search of `surge report`) and redrawn by
//! `surge plot`.
//!
//! Not here: the chart itself (`chart::draw_crashpoint`), the search (`experiment::crashpoint`),
//! `crashpoint.json` and the report pages (`app::crashpoint`, `report::crashpoint`).

use anyhow::Result;
use std::path::Path;

use crate::experiment::crashpoint::{CrashPoint, Try};
use crate::output::chart;

/// The chart of a crash-point search, titled `title`, into `dir`.
pub(crate) fn draw(title: &str, cp: &CrashPoint, dir: &Path) -> Result<()> {
    let tries = |ts: &[Try]| -> Vec<chart::CrashTry> {
        ts.iter()
            .map(|t| chart::CrashTry {
                value: t.value,
                reps: t.reps,
                outages: t.outages,
            })
            .collect()
    };
    let curve = cp.logistic.map(|c| move |x: f64| c.probability(x));
    let w = cp.words();
    let spec = chart::CrashChart {
        title,
        parameter: &cp.parameter,
        points: &tries(&cp.points),
        in_order: &tries(&cp.tries),
        crash_point: cp.crash_point,
        interval: cp.ci95.map(|c| (c[0], c[1])),
        interval_name: cp.method.interval_name(cp.confidence),
        p10: cp.p10,
        p90: cp.p90,
        curve: curve.as_ref().map(|c| c as &dyn Fn(f64) -> f64),
        words: chart::CrashWords {
            point: w.point,
            failures: w.failures,
            probability: w.probability,
        },
    };
    chart::draw_crashpoint(
        &spec,
        &dir.join("crashpoint.png"),
        &dir.join("crashpoint.svg"),
    )
}
