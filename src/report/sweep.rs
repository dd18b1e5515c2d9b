//! The report of a sweep (run on one machine or merged from shards), from `sweep.json` and the
//! chart beside it: which points failed (by the sweep's criterion), where the failure share
//! crosses one half along a single varied key, and per point the failure share, recovery time
//! (over the runs that recovered), downtime ("at least" where cut by the horizon) and p95
//! latency, each with its 95% interval.

use anyhow::Result;
use std::path::Path;

use super::mean::{self, Mean};
use super::{Block, Chart, Report, Section, Table};
use crate::fmt::human_duration;
use crate::metrics::table;
use crate::output::points::{PointStats, SweepDoc};
use crate::store::json::read_json;

/// A sweep's folder: `sweep.json` and its chart (`sweep.svg` for one key, `heatmap.svg` for two).
pub(crate) struct SweepFolder {
    pub doc: SweepDoc,
    pub chart: Option<Chart>,
}

impl SweepFolder {
    pub(crate) fn read(dir: &Path) -> Result<SweepFolder> {
        let doc: SweepDoc = read_json(&dir.join("sweep.json"))?;
        let chart = Chart::from_dir(
            dir,
            "sweep",
            "The key metrics against the varied key: means with 95% intervals.",
        )
        .or_else(|| {
            Chart::from_dir(
                dir,
                "heatmap",
                "The failure share over the two varied keys, with the boundary where it crosses 0.5.",
            )
        });
        Ok(SweepFolder { doc, chart })
    }
}

/// The mean of `key` at point `p`, over `values` replications.
fn mean_of(p: &PointStats, key: &str, values: u32) -> Mean {
    Mean::of(p.mean(key), p.ci95(key), values)
}

/// The words for a point that failed by the sweep's criterion.
fn failed_word(doc: &SweepDoc) -> &'static str {
    match doc.criterion {
        crate::metrics::slo::Criterion::Outage => "had an outage",
        crate::metrics::slo::Criterion::Slo => "broke the SLO",
        crate::metrics::slo::Criterion::CallOutage => "had an outage by calls",
        crate::metrics::slo::Criterion::UserOutage => "had an outage by users",
    }
}

/// The answer: how many points failed in no replication and in every one, and along a single
/// varied key, where the failure share crosses one half.
fn answer(doc: &SweepDoc) -> Vec<String> {
    let metric = doc.criterion.metric();
    let label = doc.criterion.probability_label();
    let share = |p: &PointStats| p.mean(metric);
    let never: Vec<&PointStats> = doc.points.iter().filter(|p| share(p) == 0.0).collect();
    let always = doc.points.iter().filter(|p| share(p) == 1.0).count();
    let mut answer = vec![format!(
        "{} points x {} replications: {} point{} {} in no replication, {} in every one.",
        doc.points.len(),
        doc.reps,
        never.len(),
        if never.len() == 1 { "" } else { "s" },
        failed_word(doc),
        always
    )];
    if let [key] = doc.parameters.as_slice() {
        // Where the share crosses 0.5 between neighbours along the one key.
        for w in doc.points.windows(2) {
            let (a, b) = (share(&w[0]), share(&w[1]));
            if a.is_finite() && b.is_finite() && (a < 0.5) != (b < 0.5) {
                answer.push(format!(
                    "The {label} crosses 0.5 between {key} = {} ({a:.2}) and {} ({b:.2}).",
                    w[0].values[key].text(),
                    w[1].values[key].text()
                ));
            }
        }
        if let Some(p) = never.first() {
            answer.push(format!(
                "First value with no failure in any replication: {key} = {}.",
                p.values[key].text()
            ));
        }
    }
    answer
}

/// One point's row: its values, the failure share with its count, recovery time, downtime
/// and p95 latency.
fn point_row(doc: &SweepDoc, p: &PointStats) -> Vec<String> {
    let metric = doc.criterion.metric();
    let mut row: Vec<String> = doc
        .parameters
        .iter()
        .map(|k| p.values.get(k).map_or("?".into(), |v| v.text()))
        .collect();
    // The share says its count, so an interval of zero adds nothing.
    let counted = mean_of(p, metric, p.outage.runs);
    let two = |x: f64| format!("{x:.2}");
    row.push(format!(
        "{} ({} of {})",
        counted
            .interval(&two)
            .map_or(counted.value(&two), |h| format!(
                "{} {h}",
                counted.value(&two)
            )),
        (p.mean(metric) * f64::from(p.outage.runs)).round(),
        p.outage.runs
    ));
    row.push(mean::recovery(
        mean_of(p, table::RECOVERY_TIME, p.outage.recovered),
        p.outage.not_recovered,
        p.outage.runs,
        &human_duration,
    ));
    row.push(
        mean_of(p, table::DOWNTIME, p.outage.runs)
            .censored(p.outage.still_down_at_end)
            .text(&human_duration),
    );
    row.push(mean_of(p, table::LATENCY_P95, p.outage.runs).text(&human_duration));
    row
}

/// The table of the points.
fn points_table(doc: &SweepDoc) -> Table {
    let mut header: Vec<String> = doc.parameters.clone();
    header.extend([
        doc.criterion.probability_label().to_string(),
        "recovery time (runs that recovered)".into(),
        "downtime".into(),
        "latency p95".into(),
    ]);
    Table {
        caption: format!(
            "Per point: means over {} replications ± the half-width of their 95% interval",
            doc.reps
        ),
        header,
        rows: doc.points.iter().map(|p| point_row(doc, p)).collect(),
        note: Some(
            "\"all n alike\": every replication gave the same value, so there is no interval; \
             \"at least\": some replications were still down at the end, so their downtime \
             is cut by the horizon and the mean is a lower bound (no interval). Recovery \
             time is the mean over the runs that recovered only; \"-\" is a value that does \
             not exist."
                .into(),
        ),
    }
}

/// The report of the sweep in `f`.
pub(crate) fn build(f: &SweepFolder) -> Report {
    let doc = &f.doc;
    let metric = doc.criterion.metric();
    let mut sections = vec![Section {
        heading: "Points".into(),
        blocks: vec![Block::Table(points_table(doc))],
    }];
    sections.push(Section {
        heading: "Chart".into(),
        blocks: vec![match &f.chart {
            Some(c) => Block::Chart(c.clone()),
            None => Block::Text("No chart in the folder (more than two varied keys).".into()),
        }],
    });
    sections.push(Section {
        heading: "Provenance".into(),
        blocks: vec![Block::Facts(vec![
            ("surge version".into(), doc.surge_version.clone()),
            ("sweep fingerprint".into(), doc.model_hash.clone()),
            ("base seed".into(), doc.seed.to_string()),
            ("replications per point".into(), doc.reps.to_string()),
            ("criterion".into(), metric.to_string()),
            (
                "overrides (--set)".into(),
                if doc.overrides.is_empty() {
                    "none".into()
                } else {
                    doc.overrides.join(" ")
                },
            ),
        ])],
    });
    Report {
        title: format!(
            "{}: surge sweep over {}",
            doc.model,
            doc.parameters.join(" x ")
        ),
        subtitle: format!(
            "surge sweep · {} points x {} replications · failure = {}",
            doc.points.len(),
            doc.reps,
            metric
        ),
        answer: answer(doc),
        checks: Vec::new(),
        sections,
    }
}
