//! A sweep's files: what names a sweep ([`SweepId`], the first line of its journal and the head
//! of its `sweep.json` and shard manifests), the manifest beside a shard's CSV
//! ([`ShardManifest`]), [`write_outputs`], the one writer of a finished sweep (`points.csv`,
//! `sweep.json`, the charts), used by `surge sweep` on one machine and by `surge merge` for
//! shards (`app::sweep`, which then writes the report pages, `report::sweep`), and [`said`], the
//! table those commands print.
//!
//! Running the points, journaling them and finding the shards are `app::sweep`'s business.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::experiment::shard::Shard;
use crate::experiment::sweep::{self, Vary};
use crate::fmt::human_duration;
use crate::metrics::outage::OutageCounts;
use crate::metrics::slo::Criterion;
use crate::metrics::table;
use crate::output::chart;
use crate::output::points::{self, GridValue, Header, PointStats, Record, SweepDoc};

/// Metrics drawn against the varied key, in panel order.
const KEY_METRICS: &[&str] = &[
    table::OUTAGE_CRASHED,
    table::RECOVERY_TIME,
    table::DOWNTIME,
    table::REQUESTS_LOST,
    table::LATENCY_P95,
];

/// What makes two runs parts of one sweep: the shards of a sweep share it, and a journal must
/// match it to be resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SweepId {
    pub surge_version: String,
    /// `experiment::sweep::fingerprint` of the effective model, grid, reps and seed.
    pub model_hash: String,
    pub model: String,
    pub seed: u64,
    pub reps: u32,
    pub vary: Vec<Vary>,
    /// Replication r's seed at each point (shards written before `--seeds` were independent).
    #[serde(default)]
    pub seeds: crate::experiment::sweep::Seeds,
    /// The `--set` overrides applied to every point.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// When a run counts as failed on the charts and in the table.
    #[serde(default)]
    pub criterion: Criterion,
}

impl SweepId {
    /// The first line of the sweep's journal.
    pub(crate) fn marker(&self) -> String {
        format!(
            "surge sweep journal: surge_version={} model_hash={}",
            self.surge_version, self.model_hash
        )
    }

    pub(crate) fn keys(&self) -> Vec<&str> {
        self.vary.iter().map(|v| v.key.as_str()).collect()
    }
}

/// The file beside a shard's CSV (`shard-0001-of-0004.json`): which sweep, which share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ShardManifest {
    #[serde(flatten)]
    pub sweep: SweepId,
    /// Points in the whole sweep.
    pub points: usize,
    pub shard: Shard,
    /// The points of this shard (p with p mod count = index).
    pub shard_points: Vec<usize>,
    /// Rows in the CSV (points x reps).
    pub rows: usize,
    /// The CSV, in the same folder.
    pub file: String,
}

/// Write a finished sweep, from one machine or merged from shards: `points.csv`, `sweep.json`
/// and the charts (the caller then writes the report pages from these files), and return the
/// `sweep.json` written, for [`said`]. The statistics come from the records as written, so a
/// merged sweep gives the same bytes as one run on one machine.
pub(crate) fn write_outputs(
    dir: &Path,
    id: &SweepId,
    header: &Header,
    records: &[Record],
) -> Result<SweepDoc> {
    let keys = id.keys();
    let grid = sweep::grid(&id.vary);
    crate::store::atomic::write_atomic(
        &dir.join("points.csv"),
        &points::write_csv(header, records)?,
    )?;
    let per_point = points::summarise(&grid, header, records);
    let doc = SweepDoc {
        model: id.model.clone(),
        model_hash: id.model_hash.clone(),
        parameters: keys.iter().map(|k| k.to_string()).collect(),
        points: per_point,
        reps: id.reps,
        seed: id.seed,
        seeds: id.seeds.name().to_string(),
        overrides: id.overrides.clone(),
        criterion: id.criterion,
        surge_version: id.surge_version.clone(),
    };
    crate::store::atomic::write_json(&dir.join("sweep.json"), &doc)?;
    let title = format!(
        "{} — {} points x {} replications",
        id.model,
        grid.len(),
        id.reps
    );
    draw(&title, &id.vary, &doc.points, id.criterion, dir)?;
    Ok(doc)
}

/// What the terminal shows of a finished sweep `id` written to `dir` with `doc` as its
/// `sweep.json`: the table of its points, and where its files are. The caller prints it once its
/// own files are in order (its journal removed), so that a closed or full stdout loses only this.
pub(crate) fn said(id: &SweepId, doc: &SweepDoc, dir: &Path) -> String {
    format!(
        "{}outputs: {}/ (points.csv, sweep.json, charts, report.html, report.md)\n",
        table(
            &id.keys(),
            &sweep::grid(&id.vary),
            &doc.points,
            id.criterion
        ),
        dir.display()
    )
}

fn axis(v: &Vary) -> chart::Axis {
    let nums: Option<Vec<f64>> = v
        .values
        .iter()
        .map(|x| match GridValue::of(x) {
            GridValue::Number(n) => Some(n),
            GridValue::Text(_) => None,
        })
        .collect();
    match nums {
        Some(x) => chart::Axis {
            name: v.key.clone(),
            x,
            labels: None,
        },
        None => chart::Axis {
            name: v.key.clone(),
            x: (0..v.values.len()).map(|i| i as f64).collect(),
            labels: Some(v.values.clone()),
        },
    }
}

/// What the replications of a point leave out of a metric's mean, or make a lower bound, said
/// on the chart and in the terminal: "not recovered in 1 of 4", "at least: 2 of 4 still down
/// at the end".
fn caveat(key: &str, o: &OutageCounts) -> Option<String> {
    match key {
        table::RECOVERY_TIME if o.not_recovered > 0 => Some(format!(
            "not recovered in {} of {}",
            o.not_recovered, o.runs
        )),
        table::DOWNTIME if o.still_down_at_end > 0 => Some(format!(
            "at least: {} of {} still down at the end",
            o.still_down_at_end, o.runs
        )),
        _ => None,
    }
}

/// The sweep's charts (also used by `surge plot`).
pub(crate) fn draw(
    title: &str,
    varies: &[Vary],
    per_point: &[PointStats],
    criterion: Criterion,
    dir: &Path,
) -> Result<()> {
    match varies {
        [one] => {
            let series: Vec<chart::MetricSeries> = KEY_METRICS
                .iter()
                .filter_map(|k| table::metric(k))
                .map(|m| {
                    // The failure share is that of the criterion the sweep was run with.
                    let (key, label) = if m.key == table::OUTAGE_CRASHED {
                        (criterion.metric(), criterion.probability_label())
                    } else {
                        (m.key, m.label)
                    };
                    (m, key, label)
                })
                .map(|(m, key, label)| chart::MetricSeries {
                    label: label.to_string(),
                    unit: m.unit.to_string(),
                    probability: m.probability,
                    mean: per_point.iter().map(|p| p.mean(key)).collect(),
                    ci95: per_point.iter().map(|p| p.ci95(key)).collect(),
                    notes: per_point
                        .iter()
                        .map(|p| caveat(m.key, &p.outage).unwrap_or_default())
                        .collect(),
                    at_least: per_point
                        .iter()
                        .map(|p| m.key == table::DOWNTIME && p.outage.still_down_at_end > 0)
                        .collect(),
                    // Shares, times and counts: never below 0.
                    nonnegative: true,
                })
                .collect();
            chart::draw_sweep(
                title,
                &axis(one),
                &series,
                &dir.join("sweep.png"),
                &dir.join("sweep.svg"),
            )
        }
        [x, y] => {
            let (nx, ny) = (x.values.len(), y.values.len());
            // Points run with the first key slowest: point = ix * ny + iy.
            let z: Vec<Vec<f64>> = (0..ny)
                .map(|iy| {
                    (0..nx)
                        .map(|ix| per_point[ix * ny + iy].mean(criterion.metric()))
                        .collect()
                })
                .collect();
            chart::draw_heatmap(
                title,
                &axis(x),
                &axis(y),
                &z,
                &dir.join("heatmap.png"),
                &dir.join("heatmap.svg"),
            )
        }
        _ => Ok(()),
    }
}

/// The table printed after a sweep: the outage probability, the recovery time of the runs that
/// recovered (and how many did not), the downtime ("≥" when an outage was still on at the end)
/// and the p95 latency.
fn table(
    keys: &[&str],
    points: &[Vec<String>],
    per_point: &[PointStats],
    criterion: Criterion,
) -> String {
    let cell = |x: f64, f: &dyn Fn(f64) -> String| {
        if x.is_finite() { f(x) } else { "-".into() }
    };
    // Every column at least two spaces from the one before it, however long its header.
    let width = |j: usize, k: &str| {
        (points.iter().filter_map(|p| p.get(j)))
            .map(|v| v.chars().count())
            .chain([k.chars().count(), 20])
            .max()
            .unwrap_or(20)
            + 2
    };
    let widths: Vec<usize> = keys.iter().enumerate().map(|(j, k)| width(j, k)).collect();
    let label = match criterion {
        Criterion::Outage => "P(outage)",
        Criterion::Slo => "P(SLO broken)",
        Criterion::CallOutage => "P(call outage)",
        Criterion::UserOutage => "P(user outage)",
    };
    let pw = label.len().max(10) + 2;
    let mut s = format!("{:<6}", "point");
    for (k, w) in keys.iter().zip(&widths) {
        s.push_str(&format!("{k:>w$}"));
    }
    s.push_str(&format!(
        "{label:>pw$}  {:<36}{:>14}{:>14}\n",
        "recovery (runs that recovered)", "downtime", "p95"
    ));
    for (i, (p, st)) in points.iter().zip(per_point).enumerate() {
        s.push_str(&format!("{i:<6}"));
        for (v, w) in p.iter().zip(&widths) {
            s.push_str(&format!("{v:>w$}"));
        }
        let outage = cell(st.mean(criterion.metric()), &|x| format!("{x:.2}"));
        let mut rec = cell(st.mean(table::RECOVERY_TIME), &human_duration);
        if let Some(c) = caveat(table::RECOVERY_TIME, &st.outage) {
            rec = format!("{rec}; {c}");
        }
        let mut down = cell(st.mean(table::DOWNTIME), &human_duration);
        if st.outage.still_down_at_end > 0 {
            down = format!("≥ {down}");
        }
        let p95 = cell(st.mean(table::LATENCY_P95), &human_duration);
        s.push_str(&format!("{outage:>pw$}  {rec:<36}{down:>14}{p95:>14}\n"));
    }
    if per_point.iter().any(|p| p.outage.still_down_at_end > 0) {
        s.push_str(
            "≥: at least; some runs were still down at the end, so their downtime is cut by the \
             horizon\n",
        );
    }
    s
}
