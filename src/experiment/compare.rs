//! Comparing policies on the same random numbers: every variant (`experiment::variant`) runs
//! the replication seeds of `surge run MODEL --reps N` (common random numbers), all variant x
//! replication runs in parallel; the result is the same whatever the number of threads. Per
//! variant: every metric's mean and 95% interval (`metrics::replicated`), and for the key
//! metrics the paired difference from the baseline with its paired t interval. Censored values
//! (a run still down at the end, an outage not recovered) are counted and marked, never averaged
//! as if complete. This module computes [`Comparison`]; `app::compare` writes it and `commands::compare`
//! prints it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(test)]
mod hold_tests;
mod rounds;
pub(crate) mod sequential;

pub(crate) use rounds::{Ran, Reps, Rounds};
use sequential::Decision;

use super::variant::Variant;
use super::{RunOutput, mean_series, replication_seed};
use crate::metrics::outage::OutageCounts;
use crate::metrics::replicated::{self, Replicated};
use crate::metrics::table::{self, Column, Run};
use crate::metrics::{Summary, TimeSeries};
use crate::model::Model;
use crate::stats::Estimate;

/// The confidence of a comparison's decisions when none is asked for (`--confidence`): the
/// one default of every decision (`experiment::CONFIDENCE`).
pub(crate) use super::CONFIDENCE;

fn default_confidence() -> f64 {
    CONFIDENCE
}

/// A finished comparison: `compare.json`, and what the chart and the table read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Comparison {
    pub model: String,
    /// The most replications a variant ran (the baseline's): every variant with `--reps N`.
    pub reps: u32,
    /// `--reps auto`: replications added in rounds to the variants not yet told apart from the
    /// baseline (`sequential`), up to `max_reps`; false: `--reps N`, every variant N.
    #[serde(default)]
    pub auto: bool,
    /// The most replications a variant could run.
    #[serde(default)]
    pub max_reps: u32,
    /// The confidence of the decisions, for the whole comparison (every variant, every look).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// The error level of each look's paired t interval: `(1 - confidence) / (2 metrics x
    /// variants x looks)`.
    #[serde(default)]
    pub per_test_alpha: f64,
    /// The base seed; replication r of every variant uses `seeds[r]`.
    pub seed: u64,
    pub seeds: Vec<u64>,
    /// The `--set` overrides applied to every variant, the baseline included.
    pub overrides: Vec<String>,
    /// The baseline first, then the variants in the order given.
    pub variants: Vec<VariantResult>,
    pub surge_version: String,
    /// The variants' names, best first (`Comparison::ranking`): the terminal, the report and
    /// the chart all read this order.
    #[serde(default)]
    pub ranking: Vec<String>,
    /// What the ranking orders by, in words.
    #[serde(default)]
    pub ranked_by: String,
    /// The hold rule stopped replications early (`--reps auto`): a replication that holds
    /// stops once the surge has passed and the SLO has held for `slo.stable` with nothing
    /// pending (`system::hold`); each variant's `held` says which.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hold_rule: bool,
}

fn is_false(x: &bool) -> bool {
    !x
}

fn none_held(x: &[bool]) -> bool {
    !x.contains(&true)
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

/// One variant's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VariantResult {
    pub name: String,
    /// The keys it changes, as `--set` takes them (empty for the baseline).
    pub set: Vec<String>,
    /// How its replications ended: outages, recoveries, runs still down at the end.
    pub outage: OutageCounts,
    /// Every metric of `points.csv`: mean and 95% interval over the replications that have a
    /// value (`null`: none has).
    pub metrics: BTreeMap<String, Option<Estimate>>,
    /// The key metrics, with the paired difference from the baseline.
    pub key: Vec<KeyStat>,
    /// Each replication's summary, as `surge run --reps N` writes it in `replications`.
    pub replications: Vec<Summary>,
    /// Each replication's outage still on at the end (its downtime a lower bound).
    pub down_at_end: Vec<bool>,
    /// Each replication stopped by the hold rule (`ended_by: held`): by the rule no outage
    /// follows (a night that fell had recovered), so its outage, downtime and recovery are the
    /// whole night's; its other figures (requests and calls lost, success rates, p95,
    /// instance-hours, cost) over the span it ran, not the whole horizon. Absent when none was.
    #[serde(default, skip_serializing_if = "none_held")]
    pub held: Vec<bool>,
    /// How it compares with the baseline on the deciding metric, and the replications that
    /// rests on; absent for the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The time series averaged over the replications (for the chart; not in compare.json).
    #[serde(skip)]
    pub series: TimeSeries,
}

/// A key metric of one variant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct KeyStat {
    /// Its column of `compare.csv`, e.g. `outage.downtime_s`.
    pub key: String,
    pub label: String,
    pub unit: String,
    /// Mean and 95% interval over the replications that have a value.
    pub estimate: Option<Estimate>,
    /// Replications with a value.
    pub values: u32,
    /// Replications whose value is censored: for downtime, still down at the end (the value,
    /// included in the mean, is a lower bound, so the mean is too); for recovery time, an outage
    /// not recovered (no value: left out of the mean, which covers the recovered only).
    pub censored: u32,
    /// The mean is only a lower bound (some value in it is).
    pub lower_bound: bool,
    /// Values from replications stopped by the hold rule, over the span they ran (a count of
    /// events or a rate there, not over the whole horizon); 0 for downtime and recovery, which
    /// are the whole night's (by the rule no outage follows the stop). Absent when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shortened: u32,
    /// The paired difference (this variant minus the baseline, replication by replication),
    /// over the replications where both have a complete value; absent for the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<Difference>,
}

/// A paired difference from the baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Difference {
    /// Mean and 95% paired t interval; `None` without any complete pair.
    pub estimate: Option<Estimate>,
    /// Pairs used.
    pub pairs: u32,
    /// Pairs left out because one side's value was censored or missing.
    pub left_out: u32,
}

/// What a key metric is, and which values of it are censored.
struct KeyMetric {
    column: Column,
    censored: fn(&Run) -> bool,
}

fn never(_: &Run) -> bool {
    false
}

/// The key metrics of runs with these columns: downtime, recovery time, requests lost, success
/// rate, p95 latency, each tier's instance-hours, and the cost (each priced tier's, and their
/// total) where a tier has a price.
fn key_metrics(columns: &[Column]) -> Vec<KeyMetric> {
    let find = |key: &str| columns.iter().find(|c| c.key() == key).cloned();
    let mut out = Vec::new();
    type Censored = fn(&Run) -> bool;
    let fixed: [(&str, Censored); 8] = [
        (table::DOWNTIME, |r| r.down_at_end),
        (table::RECOVERY_TIME, |r| {
            r.summary.outage.crashed && r.summary.outage.recovered != Some(true)
        }),
        (table::REQUESTS_LOST, never),
        ("slo.success_rate", never),
        (table::LATENCY_P95, never),
        (table::CALLS_LOST, never),
        (table::CALLS_SUCCESS_RATE, never),
        (table::USERS_LOST, never),
    ];
    for (key, censored) in fixed {
        if let Some(column) = find(key) {
            out.push(KeyMetric { column, censored });
        }
    }
    let tier_field = |c: &Column, field: &str| matches!(c, Column::Tier(_, m) if m.key == field);
    for field in [table::INSTANCE_HOURS, table::COST] {
        out.extend(
            columns
                .iter()
                .filter(|c| tier_field(c, field))
                .map(|c| KeyMetric {
                    column: c.clone(),
                    censored: never,
                }),
        );
    }
    if let Some(column) = find(table::COST) {
        out.push(KeyMetric {
            column,
            censored: never,
        });
    }
    out
}

/// Run every variant (`variants[0]` is the baseline) as `reps` says on `jobs` threads,
/// replication r with `replication_seed(seed, r)`; `done` is called after each run.
#[cfg(test)]
pub(crate) fn compare(
    variants: &[(Variant, Model)],
    seed: u64,
    reps: Reps,
    jobs: usize,
    overrides: &[String],
    done: &(dyn Fn() + Sync),
) -> anyhow::Result<Comparison> {
    let stop = crate::experiment::runner::Stop::new();
    let rounds = Rounds {
        variants,
        seed,
        reps,
        confidence: CONFIDENCE,
        hold: matches!(reps, Reps::Auto { .. }),
    };
    let finished = |_: usize, _: u32, _: &RunOutput| {
        done();
        Ok(())
    };
    let ran = rounds
        .run(jobs, Done::new(), &stop, &finished, &|_, _, _| true)?
        .expect("nothing stops it");
    Ok(summarise_all(&rounds, overrides, ran))
}

/// Runs finished before (read back from a journal): (variant, replication) -> what it gave.
pub(crate) type Done = BTreeMap<(usize, u32), RunOutput>;

/// What a comparison keeps of a run's time series: the SLO windows' success rates (what the chart
/// and `down_at_end` read), not every column of every run.
pub(super) fn kept(out: RunOutput) -> RunOutput {
    let s = out.series;
    RunOutput {
        summary: out.summary,
        series: TimeSeries {
            bucket_s: s.bucket_s,
            start_clock_s: s.start_clock_s,
            window_success_rate: s.window_success_rate,
            ..TimeSeries::default()
        },
    }
}

/// The comparison of the runs of `rounds` (`ran`: variant by variant, replication by
/// replication, with each variant's decision).
pub(crate) fn summarise_all(rounds: &Rounds, overrides: &[String], ran: Ran) -> Comparison {
    let (variants, seed) = (rounds.variants, rounds.seed);
    let reps = ran.outs.first().map_or(0, |o| o.len() as u32);
    let seeds: Vec<u64> = (0..reps)
        .map(|r| replication_seed(seed, u64::from(r)))
        .collect();
    let per_variant: Vec<&[RunOutput]> = ran.outs.iter().map(Vec::as_slice).collect();
    let model = &variants[0].1;
    let mut results = summarise(variants, &per_variant);
    for (v, d) in results.iter_mut().zip(ran.decisions) {
        v.decision = d;
    }
    let auto = matches!(rounds.reps, Reps::Auto { .. });
    let mut cmp = Comparison {
        model: model.scenario.name.clone(),
        reps,
        auto,
        max_reps: rounds.reps.most(),
        confidence: rounds.confidence,
        per_test_alpha: rounds
            .reps
            .rule(rounds.confidence, variants.len().saturating_sub(1) as u32)
            .alpha,
        seed,
        seeds,
        overrides: overrides.to_vec(),
        variants: results,
        surge_version: env!("CARGO_PKG_VERSION").to_string(),
        ranking: Vec::new(),
        ranked_by: String::new(),
        hold_rule: rounds.hold,
    };
    cmp.ranking = (cmp.ranking().into_iter())
        .map(|i| cmp.variants[i].name.clone())
        .collect();
    cmp.ranked_by = cmp.ranked_by_words().to_string();
    cmp
}

/// The statistics of each variant's runs (`outs[v]`: variant v's replications in order).
fn summarise(variants: &[(Variant, Model)], outs: &[&[RunOutput]]) -> Vec<VariantResult> {
    let runs: Vec<Vec<Run>> = variants
        .iter()
        .zip(outs)
        .map(|((_, m), os)| os.iter().map(|o| o.as_run(m.slo.outage_below)).collect())
        .collect();
    // Every variant's columns: a variant may add a waiting room or a price the baseline lacks.
    let columns = Column::union(runs.iter().filter_map(|rs| rs.first()).map(|r| r.summary));
    let keys = key_metrics(&columns);
    // Complete values of each key metric in the baseline, replication by replication.
    let complete = |rs: &[Run], k: &KeyMetric| -> Vec<Option<f64>> {
        replicated::values(rs, &k.column)
            .into_iter()
            .zip(rs)
            .map(|(x, r)| x.filter(|_| !(k.censored)(r)))
            .collect()
    };
    let base: Vec<Vec<Option<f64>>> = keys.iter().map(|k| complete(&runs[0], k)).collect();
    variants
        .iter()
        .zip(&runs)
        .zip(outs)
        .enumerate()
        .map(|(v, (((variant, _), rs), os))| {
            let key = keys
                .iter()
                .zip(&base)
                .map(|(k, b)| {
                    let xs: Vec<f64> = replicated::values(rs, &k.column)
                        .into_iter()
                        .flatten()
                        .collect();
                    let censored = rs.iter().filter(|r| (k.censored)(r)).count() as u32;
                    let mine = complete(rs, k);
                    let difference = (v > 0).then(|| {
                        let (estimate, pairs) = Estimate::paired(b, &mine);
                        Difference {
                            estimate,
                            pairs: pairs as u32,
                            left_out: (rs.len() - pairs) as u32,
                        }
                    });
                    KeyStat {
                        key: k.column.key(),
                        label: k.column.label(),
                        unit: k.column.unit().to_string(),
                        estimate: Estimate::of(&xs),
                        values: xs.len() as u32,
                        censored,
                        // Downtime keeps its censored values: the mean is then a lower bound.
                        lower_bound: censored > 0 && k.column.key() == table::DOWNTIME,
                        shortened: if decided_by_hold(&k.column.key()) {
                            0
                        } else {
                            rs.iter().filter(|r| held(r.summary)).count() as u32
                        },
                        difference,
                    }
                })
                .collect();
            VariantResult {
                name: variant.name.clone(),
                set: variant.set.clone(),
                outage: outage_counts(rs),
                metrics: Replicated::of(rs).by_key(),
                key,
                replications: rs.iter().map(|r| r.summary.clone()).collect(),
                down_at_end: rs.iter().map(|r| r.down_at_end).collect(),
                held: rs.iter().map(|r| held(r.summary)).collect(),
                decision: None,
                series: if os.is_empty() {
                    TimeSeries::default()
                } else {
                    mean_series(os)
                },
            }
        })
        .collect()
}

/// Whether a replication was stopped by the hold rule.
pub(crate) fn held(s: &Summary) -> bool {
    s.ended_by == Some(super::guard::EndedBy::Held)
}

/// The key metrics a held replication has as the whole night would (by the rule no outage
/// follows the stop): downtime and recovery.
fn decided_by_hold(key: &str) -> bool {
    key == table::DOWNTIME || key == table::RECOVERY_TIME
}

fn outage_counts(rs: &[Run]) -> OutageCounts {
    let n = |f: &dyn Fn(&Run) -> bool| rs.iter().filter(|r| f(r)).count() as u32;
    OutageCounts {
        runs: rs.len() as u32,
        with_outage: n(&|r| r.summary.outage.crashed),
        recovered: n(&|r| r.summary.outage.recovered == Some(true)),
        not_recovered: n(&|r| r.summary.outage.recovered == Some(false)),
        still_down_at_end: n(&|r| r.down_at_end),
    }
}

impl VariantResult {
    /// The key metric `key`, when the runs have it.
    pub(crate) fn stat(&self, key: &str) -> Option<&KeyStat> {
        self.key.iter().find(|k| k.key == key)
    }

    /// The mean of key metric `key`.
    pub(crate) fn mean(&self, key: &str) -> Option<f64> {
        self.stat(key).and_then(|k| k.estimate).map(|e| e.mean)
    }
}

impl Comparison {
    /// The columns of `compare.csv`: the baseline's, then those only other variants have (a
    /// waiting room, a price), in order; a replication without one has an empty cell.
    pub(crate) fn columns(&self) -> Vec<Column> {
        Column::union(self.variants.iter().filter_map(|v| v.replications.first()))
    }

    /// Some variant has a users source (so a user level to rank by).
    fn has_users(&self) -> bool {
        self.variants
            .iter()
            .any(|v| v.stat(table::USERS_LOST).is_some())
    }

    /// The variants' indices, best first, by what users got: the users lost (sessions given
    /// up after errors, turned away by the waiting room or out of patience in it) where the
    /// model has a users source, then the calls lost (a request whose every attempt failed, a
    /// page whose refreshes all failed, a user turned away before its page), then the mean
    /// downtime by requests; the order given breaks the remaining ties. A variant without a
    /// value (no users source while another has one) ranks after those with one.
    pub(crate) fn ranking(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.variants.len()).collect();
        let key = |i: usize, k: &str| self.variants[i].mean(k).unwrap_or(f64::INFINITY);
        let users = self.has_users();
        idx.sort_by(|&a, &b| {
            let by = |k: &str| key(a, k).total_cmp(&key(b, k));
            let first = if users {
                by(table::USERS_LOST)
            } else {
                std::cmp::Ordering::Equal
            };
            first
                .then(by(table::CALLS_LOST))
                .then(by(table::DOWNTIME))
                .then(a.cmp(&b))
        });
        idx
    }

    /// What `ranking` orders by, in words.
    pub(crate) fn ranked_by_words(&self) -> &'static str {
        if self.has_users() {
            "users lost, then calls lost, then downtime (least first)"
        } else {
            "calls lost, then downtime (least first)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::variant::{self, BASELINE};

    const M: &str = r#"
[scenario]
name = "cmp"
duration = "40m"
bucket = "1m"
seed = 7
[[source]]
name = "load"
kind = "requests"
rate = 18.0
[[tier]]
name = "web"
instances = 1
threads = 2
queue = 0
service = { dist = "exponential", mean = "100ms" }
[slo]
window = "5m"
"#;

    fn variants(extra: &[Variant]) -> Vec<(Variant, Model)> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.toml");
        std::fs::write(&file, M).unwrap();
        variant::load_all(Some(&file), &[], extra).unwrap()
    }

    #[test]
    fn same_results_whatever_the_threads_and_zero_difference_for_no_change() {
        let vs = variants(&[
            Variant {
                name: "same".into(),
                set: vec![],
            },
            Variant {
                name: "more".into(),
                set: vec!["tier.web.threads=4".into()],
            },
        ]);
        let one = compare(&vs, 7, Reps::Fixed(3), 1, &[], &|| ()).unwrap();
        let two = compare(&vs, 7, Reps::Fixed(3), 2, &[], &|| ()).unwrap();
        assert_eq!(one.variants[0].name, BASELINE);
        for (a, b) in one.variants.iter().zip(&two.variants) {
            assert_eq!(a.key, b.key);
            assert_eq!(a.metrics, b.metrics);
        }
        for k in &one.variants[1].key {
            let d = k.difference.as_ref().unwrap();
            if d.pairs > 0 {
                assert_eq!(d.estimate.unwrap().mean, 0.0, "{}", k.key);
                assert_eq!(d.estimate.unwrap().ci95, Some(0.0), "{}", k.key);
            }
        }
        // More threads lose fewer requests, on the same random numbers.
        let lost = |v: &VariantResult| v.mean(table::REQUESTS_LOST).unwrap();
        assert!(lost(&one.variants[2]) < lost(&one.variants[0]));
        let d = one.variants[2].stat(table::REQUESTS_LOST).unwrap();
        assert!(d.difference.as_ref().unwrap().estimate.unwrap().mean < 0.0);
        assert_eq!(
            one.seeds,
            [7, replication_seed(7, 1), replication_seed(7, 2)]
        );
    }
}
