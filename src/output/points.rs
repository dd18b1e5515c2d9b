//! The files of a finished sweep: `points.csv` (one row per point and replication: point, the
//! varied values, rep, seed, then the metrics of `metrics::table`) and `sweep.json` (per point,
//! the mean and 95% interval of every metric, over the replications that have a value, and how
//! many replications had an outage, recovered, or were still down at the end).
//!
//! The statistics are computed from the CSV cells as written, so a sweep merged from shards and
//! one run on one machine give the same bytes. This module knows the formats, not how the runs
//! were made: `output::sweep` writes through it (for `surge sweep` and `surge merge`), `surge
//! plot` reads.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) use crate::experiment::sweep::format_number;
use crate::metrics::outage::OutageCounts;
use crate::metrics::table::{self, Column, Run};
use crate::model::error::BadInput;

/// The columns of `points.csv`: `point`, the varied keys, `rep`, `seed`, then the metrics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub keys: Vec<String>,
    pub metrics: Vec<String>,
}

impl Header {
    /// The header of a run with these metric columns.
    pub(crate) fn new(keys: &[&str], metrics: &[Column]) -> Header {
        Header {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            metrics: metrics.iter().map(Column::key).collect(),
        }
    }

    /// The header line's fields.
    pub(crate) fn fields(&self) -> Vec<String> {
        let mut h = vec!["point".to_string()];
        h.extend(self.keys.iter().cloned());
        h.extend(["rep".to_string(), "seed".to_string()]);
        h.extend(self.metrics.iter().cloned());
        h
    }

    /// Read a header line of a sweep varying `keys` keys.
    pub(crate) fn parse(fields: &[String], keys: usize) -> Option<Header> {
        let (lead, rest) = fields.split_first()?;
        let (varied, rest) = (rest.get(..keys)?, rest.get(keys..)?);
        match (lead.as_str(), rest) {
            ("point", [rep, seed, metrics @ ..]) if rep == "rep" && seed == "seed" => {
                Some(Header {
                    keys: varied.to_vec(),
                    metrics: metrics.to_vec(),
                })
            }
            _ => None,
        }
    }
}

/// One finished (point, replication): its row of `points.csv`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub point: usize,
    /// The varied values of its point, as passed to `--set`.
    pub values: Vec<String>,
    pub rep: u32,
    pub seed: String,
    /// One cell per metric column; empty where the run has no value.
    pub cells: Vec<String>,
}

impl Record {
    /// The record of a run: its metrics in the order of `columns`.
    pub(crate) fn of_run(
        point: usize,
        values: &[String],
        rep: u32,
        seed: u64,
        run: &Run,
        columns: &[Column],
    ) -> Record {
        Record {
            point,
            values: values.to_vec(),
            rep,
            seed: seed.to_string(),
            cells: columns
                .iter()
                .map(|c| {
                    c.value(run)
                        .filter(|x| !x.is_nan())
                        .map_or_else(String::new, format_number)
                })
                .collect(),
        }
    }

    /// Read back a row of a sweep varying `keys` keys.
    pub(crate) fn parse(fields: &[String], keys: usize) -> Option<Record> {
        let (point, rest) = fields.split_first()?;
        let (values, rest) = (rest.get(..keys)?, rest.get(keys..)?);
        let [rep, seed, cells @ ..] = rest else {
            return None;
        };
        Some(Record {
            point: point.parse().ok()?,
            values: values.to_vec(),
            rep: rep.parse().ok()?,
            seed: seed.clone(),
            cells: cells.to_vec(),
        })
    }

    /// The row's fields.
    pub(crate) fn fields(&self) -> Vec<String> {
        let mut f = vec![self.point.to_string()];
        f.extend(self.values.iter().cloned());
        f.extend([self.rep.to_string(), self.seed.clone()]);
        f.extend(self.cells.iter().cloned());
        f
    }
}

/// Read the records of a `points.csv` or shard CSV of a sweep varying `keys` keys; `place`
/// names it in errors.
pub(crate) fn read_csv(bytes: &[u8], keys: usize, place: &str) -> Result<(Header, Vec<Record>)> {
    let bad = |why: String| BadInput(format!("{place}: {why}"));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut header: Option<Header> = None;
    let mut records = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("not a CSV of sweep rows: {e}")))?;
        let fields: Vec<String> = rec.iter().map(String::from).collect();
        if header.is_none() {
            header = Some(Header::parse(&fields, keys).ok_or_else(|| {
                bad("the header is not point, the varied keys, rep, seed, metrics".into())
            })?);
            continue;
        }
        let mut fields = fields;
        for v in fields.iter_mut().skip(1).take(keys) {
            *v = super::csv_untext(v).to_string();
        }
        records.push(Record::parse(&fields, keys).ok_or_else(|| {
            bad(format!(
                "line {}: the point or rep column is not a whole number",
                i + 1
            ))
        })?);
    }
    let header = header.ok_or_else(|| bad("empty: no header".into()))?;
    Ok((header, records))
}

/// `points.csv` (or a shard's CSV): the header and the records as they are.
pub(crate) fn write_csv(header: &Header, records: &[Record]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header.fields())?;
    for r in records {
        // The varied values are text a spreadsheet must not run (`output::csv_text`).
        let mut f = r.fields();
        for v in &mut f[1..=r.values.len()] {
            *v = super::csv_text(v).into_owned();
        }
        w.write_record(f)?;
    }
    Ok(w.into_inner()?)
}

/// One point of `sweep.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct PointStats {
    /// Half-width of the 95% interval of each mean (metrics with two values or more).
    pub ci95: BTreeMap<String, f64>,
    /// Mean over the replications that have a value; `null` when none has.
    pub mean: BTreeMap<String, Option<f64>>,
    /// Absent from a `sweep.json` of an earlier surge.
    #[serde(default)]
    pub outage: OutageCounts,
    pub point: usize,
    /// The varied values: a number when the value is one.
    pub values: BTreeMap<String, GridValue>,
}

impl PointStats {
    /// The mean of `key`, NaN when there is none.
    pub(crate) fn mean(&self, key: &str) -> f64 {
        self.mean.get(key).copied().flatten().unwrap_or(f64::NAN)
    }

    /// The 95% half-width of `key`, NaN when there is none.
    pub(crate) fn ci95(&self, key: &str) -> f64 {
        self.ci95.get(key).copied().unwrap_or(f64::NAN)
    }
}

/// A value of a varied key in `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum GridValue {
    Number(f64),
    Text(String),
}

impl GridValue {
    pub(crate) fn of(v: &str) -> GridValue {
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => GridValue::Number(x),
            _ => GridValue::Text(v.to_string()),
        }
    }

    /// The value as `--set` takes it.
    pub(crate) fn text(&self) -> String {
        match self {
            GridValue::Number(x) => format_number(*x),
            GridValue::Text(s) => s.clone(),
        }
    }
}

/// `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SweepDoc {
    pub model: String,
    pub model_hash: String,
    pub parameters: Vec<String>,
    pub points: Vec<PointStats>,
    pub reps: u32,
    pub seed: u64,
    /// "independent" (replication r of each point has its own seed) or "common" (the same
    /// seed at every point).
    #[serde(default = "independent")]
    pub seeds: String,
    /// The `--set` overrides applied to every point.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// When a run counted as failed: "outage" or "slo".
    #[serde(default)]
    pub criterion: crate::metrics::slo::Criterion,
    pub surge_version: String,
}

fn independent() -> String {
    "independent".to_string()
}

/// Per point of `grid` (the varied values of each point): the statistics of its records.
pub(crate) fn summarise(
    grid: &[Vec<String>],
    header: &Header,
    records: &[Record],
) -> Vec<PointStats> {
    let column = |key: &str| header.metrics.iter().position(|m| m == key);
    let (crashed, recovered, censored) = (
        column(table::OUTAGE_CRASHED),
        column(table::OUTAGE_RECOVERED),
        column(table::DOWNTIME_CENSORED),
    );
    let number = |x: &str| x.parse::<f64>().ok().filter(|x| x.is_finite());
    grid.iter()
        .enumerate()
        .map(|(p, values)| {
            let runs: Vec<&Record> = records.iter().filter(|r| r.point == p).collect();
            let mut st = PointStats {
                point: p,
                values: header
                    .keys
                    .iter()
                    .zip(values)
                    .map(|(k, v)| (k.clone(), GridValue::of(v)))
                    .collect(),
                ..PointStats::default()
            };
            for (i, key) in header.metrics.iter().enumerate() {
                let xs: Vec<f64> = runs
                    .iter()
                    .filter_map(|r| r.cells.get(i).and_then(|c| number(c)))
                    .collect();
                let (mean, half) = crate::stats::mean_ci95(&xs);
                st.mean
                    .insert(key.clone(), mean.is_finite().then_some(mean));
                if half.is_finite() {
                    st.ci95.insert(key.clone(), half);
                }
            }
            let yes = |r: &Record, col: Option<usize>| {
                col.and_then(|i| r.cells.get(i)).and_then(|c| number(c)) == Some(1.0)
            };
            let no = |r: &Record, col: Option<usize>| {
                col.and_then(|i| r.cells.get(i)).and_then(|c| number(c)) == Some(0.0)
            };
            let n = |f: &dyn Fn(&Record) -> bool| runs.iter().filter(|r| f(r)).count() as u32;
            st.outage = OutageCounts {
                runs: runs.len() as u32,
                with_outage: n(&|r| yes(r, crashed)),
                recovered: n(&|r| yes(r, recovered)),
                not_recovered: n(&|r| no(r, recovered)),
                still_down_at_end: n(&|r| yes(r, censored)),
            };
            st
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_as_written() {
        let h = Header {
            keys: vec!["a".into(), "b".into()],
            metrics: vec!["x".into()],
        };
        assert_eq!(Header::parse(&h.fields(), 2), Some(h.clone()));
        let r = Record {
            point: 3,
            values: vec!["1".into(), "lifo".into()],
            rep: 2,
            seed: "99".into(),
            cells: vec!["".into()],
        };
        assert_eq!(Record::parse(&r.fields(), 2), Some(r));
        assert!(Header::parse(&["point".into(), "rep".into()], 2).is_none());
    }

    #[test]
    fn means_skip_runs_without_a_value_and_outcomes_are_counted() {
        let h = Header {
            keys: vec!["k".into()],
            metrics: vec![
                table::OUTAGE_CRASHED.into(),
                table::OUTAGE_RECOVERED.into(),
                table::RECOVERY_TIME.into(),
                table::DOWNTIME_CENSORED.into(),
            ],
        };
        let row = |rep, cells: [&str; 4]| Record {
            point: 0,
            values: vec!["1".into()],
            rep,
            seed: "1".into(),
            cells: cells.iter().map(|c| c.to_string()).collect(),
        };
        let records = [
            row(0, ["1", "1", "100", "0"]),
            row(1, ["1", "0", "", "1"]),
            row(2, ["0", "", "", "0"]),
            row(3, ["1", "1", "300", "0"]),
        ];
        let st = &summarise(&[vec!["1".into()]], &h, &records)[0];
        assert_eq!(st.mean(table::RECOVERY_TIME), 200.0);
        assert_eq!(st.mean(table::OUTAGE_CRASHED), 0.75);
        assert_eq!(
            st.outage,
            OutageCounts {
                runs: 4,
                with_outage: 3,
                recovered: 2,
                not_recovered: 1,
                still_down_at_end: 1,
            }
        );
        assert_eq!(st.values["k"], GridValue::Number(1.0));
    }
}
