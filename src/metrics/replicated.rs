//! The typed aggregate over replications: every metric of the table (`metrics::table`) with its
//! mean and 95% interval ([`Estimate`], from `stats`) over the replications that have a value.
//! The terminal report of `surge run` and `surge compare` read it; `summary.json`'s mean tree is
//! `metrics::means`, which uses the same interval. It is not a file format: `points.csv`
//! and `sweep.json` are computed from their CSV cells (`output::points`).

use std::collections::BTreeMap;

use super::table::{Column, Run};
use crate::stats::Estimate;

/// Each metric's estimate over a set of replications of one model.
#[derive(Debug, Clone)]
pub(crate) struct Replicated {
    pub columns: Vec<Column>,
    /// One per column: `None` when no replication has a value.
    pub estimates: Vec<Option<Estimate>>,
}

impl Replicated {
    /// The estimates over `runs` (the columns are those of the first run's tiers).
    pub(crate) fn of(runs: &[Run]) -> Replicated {
        let columns = runs
            .first()
            .map(|r| Column::of(r.summary))
            .unwrap_or_default();
        let estimates = columns
            .iter()
            .map(|c| {
                let xs: Vec<f64> = values(runs, c).into_iter().flatten().collect();
                Estimate::of(&xs)
            })
            .collect();
        Replicated { columns, estimates }
    }

    /// The estimate of the metric with key `key` (as in `points.csv`).
    pub(crate) fn get(&self, key: &str) -> Option<Estimate> {
        self.columns
            .iter()
            .position(|c| c.key() == key)
            .and_then(|i| self.estimates[i])
    }

    /// The mean of `key`, when some replication has a value.
    pub(crate) fn mean(&self, key: &str) -> Option<f64> {
        self.get(key).map(|e| e.mean)
    }

    /// Every metric by key.
    pub(crate) fn by_key(&self) -> BTreeMap<String, Option<Estimate>> {
        self.columns
            .iter()
            .zip(&self.estimates)
            .map(|(c, e)| (c.key(), *e))
            .collect()
    }
}

/// The value of `column` in each run (`None`: the run has none, or it is not a number).
pub(crate) fn values(runs: &[Run], column: &Column) -> Vec<Option<f64>> {
    runs.iter()
        .map(|r| column.value(r).filter(|x| !x.is_nan()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Summary;
    use crate::metrics::table::{DOWNTIME, LATENCY_P95};

    #[test]
    fn means_skip_runs_without_a_value() {
        let mut a = Summary::default();
        a.outage.downtime_s = 100.0;
        a.latency_s.p95 = Some(2.0);
        let mut b = Summary::default();
        b.outage.downtime_s = 300.0;
        let runs: Vec<Run> = [&a, &b]
            .iter()
            .map(|s| Run {
                summary: s,
                down_at_end: false,
            })
            .collect();
        let r = Replicated::of(&runs);
        let d = r.get(DOWNTIME).unwrap();
        assert_eq!(d.mean, 200.0);
        assert_eq!(d.ci95, Some(crate::stats::mean_ci95(&[100.0, 300.0]).1));
        assert_eq!(
            r.get(LATENCY_P95),
            Some(Estimate {
                mean: 2.0,
                ci95: None
            })
        );
        assert_eq!(r.mean("nothing"), None);
    }
}
