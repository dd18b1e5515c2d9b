//! When a variant is told apart from the baseline (`surge compare`, `--reps auto` and `--reps N`):
//! Bonferroni paired-t comparisons with a standard under common random numbers (Nelson &
//! Goldsman 2001), made sequential as repeated confidence intervals (Jennison & Turnbull 1989)
//! with a Bonferroni split over the looks fixed in advance.
//!
//! Each replication r of a variant is paired with the baseline's replication r (the same seed);
//! the difference d_r = variant - baseline is taken on the deciding metric: the outage (1 when
//! the replication had one, 0 when not), and where every pair so far had the same outage (both
//! fell, or both held) the downtime in seconds. At a look with n pairs the paired t interval
//! `mean(d) ± t(1 - a/2, n-1) s/√n` is formed at the per-test level `a = (1 - confidence) /
//! (2 metrics x variants x looks)`; the variant is told apart (better below zero, worse above)
//! when it leaves out zero. A variant whose pairs all differ by the same amount (it held in
//! every replication while the baseline fell in every one) has `s = 0` and is told apart at its
//! first look. Guarantee: with normal differences, the chance that any variant is ever told
//! apart on the wrong side (or from a baseline it equals) is at most `1 - confidence`, for the
//! whole comparison, whatever the looks. ASSUMPTION: normal paired differences; 0/1 outages are
//! not (the error rate on them is measured in the tests below, not guaranteed).
//!
//! Not here: running the rounds (`super::rounds`), the statistics written (`super`).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Replications of every variant in the first round of `--reps auto`.
pub(crate) const FIRST_REPS: u32 = 2;

/// The metrics a decision may rest on (outage, then downtime): the error is split over them.
const METRICS: u32 = 2;

/// How a variant compares with the baseline on the deciding metric.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// Told apart: fewer outages (or, with the same outages, less downtime) than the baseline.
    Better,
    /// Told apart: more outages (or more downtime).
    Worse,
    /// Not told apart from the baseline at the confidence, on the replications it ran.
    NotToldApart,
}

/// The metric that told a variant apart.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Metric {
    /// The replications with an outage (by requests).
    OutageShare,
    /// The time down per replication, within the horizon (the outage the same in every pair).
    Downtime,
}

/// Why a variant ran no more replications.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Ended {
    /// It was told apart.
    ToldApart,
    /// The replications allowed ran out (`--reps N`, or `--max-reps` with auto).
    RepsSpent,
    /// The time budget (`surge report --budget`) left no room for another round.
    Budget,
}

/// A variant's comparison with the baseline (`compare.json`: `variants[i].decision`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Decision {
    pub verdict: Verdict,
    /// The metric that told it apart; `null` when not told apart.
    pub metric: Option<Metric>,
    /// The replications it rests on, each paired with the baseline's of the same seed.
    pub reps: u32,
    pub ended: Ended,
}

impl Decision {
    /// In words: "better by outage share, on 2 replications".
    pub(crate) fn words(&self) -> String {
        let what = match (self.verdict, self.metric) {
            (Verdict::Better, Some(Metric::OutageShare)) => "better: fewer outages",
            (Verdict::Better, _) => "better: less downtime",
            (Verdict::Worse, Some(Metric::OutageShare)) => "worse: more outages",
            (Verdict::Worse, _) => "worse: more downtime",
            (Verdict::NotToldApart, _) => "not told apart",
        };
        let why = match self.ended {
            Ended::ToldApart | Ended::RepsSpent => "",
            Ended::Budget => ", stopped by the budget",
        };
        format!("{what} ({} replications{why})", self.reps)
    }
}

/// One pair of replications (the variant's and the baseline's of the same seed): the
/// differences variant - baseline on the outage (-1, 0, 1) and on the downtime in seconds
/// (`None` where either is not a number).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pair {
    pub outage: f64,
    pub downtime: Option<f64>,
}

/// The rule of a comparison: its confidence, the variants compared with the baseline and the
/// looks planned at each (one per round).
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// The t quantile of each number of pairs, index n - 2 for n = 2.. (degrees of freedom n - 1).
    t: Vec<f64>,
    /// The per-test error level.
    pub(crate) alpha: f64,
}

impl Rule {
    /// `confidence` for the whole comparison of `variants` variants, each looked at `looks`
    /// times at most, with up to `most` pairs.
    pub(crate) fn new(confidence: f64, variants: u32, looks: u32, most: u32) -> Rule {
        let alpha = (1.0 - confidence) / f64::from(METRICS * variants.max(1) * looks.max(1));
        let t = (1..most.max(2))
            .map(|df| {
                StudentsT::new(0.0, 1.0, f64::from(df))
                    .map_or(f64::INFINITY, |d| d.inverse_cdf(1.0 - alpha / 2.0))
            })
            .collect();
        Rule { t, alpha }
    }

    /// The decision on these pairs, if they tell the variant apart.
    pub(crate) fn decide(&self, pairs: &[Pair]) -> Option<(Verdict, Metric)> {
        let outage: Vec<f64> = pairs.iter().map(|p| p.outage).collect();
        if let Some(v) = self.told(&outage) {
            return Some((v, Metric::OutageShare));
        }
        if outage.iter().any(|d| *d != 0.0) {
            return None;
        }
        let downtime: Vec<f64> = pairs.iter().filter_map(|p| p.downtime).collect();
        self.told(&downtime).map(|v| (v, Metric::Downtime))
    }

    /// Whether the paired t interval of `d` leaves out zero, and on which side.
    fn told(&self, d: &[f64]) -> Option<Verdict> {
        let n = d.len();
        let t = *self.t.get(n.checked_sub(2)?)?;
        let mean = d.iter().sum::<f64>() / n as f64;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // Every pair alike: no spread, the interval is the mean alone.
        let half = if var == 0.0 {
            0.0
        } else {
            t * (var / n as f64).sqrt()
        };
        if mean.abs() > half && mean != 0.0 {
            Some(if mean < 0.0 {
                Verdict::Better
            } else {
                Verdict::Worse
            })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests;
