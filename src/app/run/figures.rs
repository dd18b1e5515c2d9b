//! The figures `surge run` (and `surge report`) print on the terminal, computed once over the
//! replications so that `commands::run` only words them: every metric of the table with its
//! mean and 95% interval (`metrics::replicated`), each tier's instances over the measured
//! period, and the SLO's figures. Not here: their wording (`commands::run`), `summary.json`'s
//! means (`metrics::run_summary`).

use crate::experiment::RunOutput;
use crate::metrics::Summary;
use crate::metrics::replicated::Replicated;
use crate::metrics::summary::TierSummary;
use crate::model::Model;
use crate::stats::{Estimate, mean_ci95};

/// A mean over the replications that have a value, with its 95% half-width (not finite for
/// one value); `None` when none has one.
pub(crate) type MeanCi = Option<(f64, f64)>;

/// The terminal's figures over the replications.
pub(crate) struct RunFigures {
    /// Every metric of the table (`metrics::table`), by key.
    pub(crate) estimates: Replicated,
    /// Per tier of the model: its fewest and most instances over the measured period and their
    /// time-average, each a mean over the replications (`None` when no replication has the tier).
    pub(crate) instances: Vec<[Option<f64>; 3]>,
    /// Per tier: its utilisation in its busiest bucket after the warm-up (busy threads over
    /// the threads of the instances up), a mean over the replications.
    pub(crate) peak_utilisation: Vec<Option<f64>>,
    pub(crate) slo: SloFigures,
    /// The requests line's figures.
    pub(crate) requests: RequestFigures,
    /// The calls line's figures.
    pub(crate) calls: CallFigures,
    /// The users line's figures, where the replications have a users source.
    pub(crate) users: Option<UserFigures>,
}

/// The attempt level's figures, means over the replications of the summary's typed counts (the
/// means `metrics::replicated` takes): a figure every run has is a number, one only some
/// models have (a breaker, a throttle, an edge rate limit) is `None` without it.
pub(crate) struct RequestFigures {
    pub(crate) offered: f64,
    pub(crate) succeeded: f64,
    pub(crate) rejected: f64,
    pub(crate) timed_out: f64,
    pub(crate) failed: f64,
    /// Failed at the client by an open circuit breaker.
    pub(crate) short_circuited: Option<f64>,
    /// Rejected by the client's adaptive throttle.
    pub(crate) throttled: Option<f64>,
    /// Of `rejected`, refused by the edge rate limit (429).
    pub(crate) rate_limited: Option<f64>,
    /// p50, p95 and p99 latency of the attempts that succeeded, with their 95% half-widths.
    pub(crate) latency: [Option<Estimate>; 3],
    /// Per tier of the model: the share of the attempts reaching it that it refused.
    pub(crate) blocking: Vec<Option<f64>>,
}

/// The call level's figures (a request with its retries, a page with its refreshes), means
/// over the replications.
pub(crate) struct CallFigures {
    pub(crate) made: f64,
    pub(crate) succeeded: f64,
    pub(crate) lost: f64,
    /// The share of the calls that ended that succeeded, with its 95% half-width.
    pub(crate) success_rate: Option<Estimate>,
}

/// The user level's figures (sessions), means over the replications.
pub(crate) struct UserFigures {
    pub(crate) arrived: f64,
    pub(crate) completed: f64,
    pub(crate) gave_up: f64,
    pub(crate) turned_away: f64,
    pub(crate) left_room: f64,
    pub(crate) lost: f64,
}

/// The estimate over the replications that have a value (a number: NaN is none).
fn estimate(outs: &[RunOutput], f: impl Fn(&Summary) -> Option<f64>) -> Option<Estimate> {
    let xs: Vec<f64> = (outs.iter())
        .filter_map(|o| f(&o.summary))
        .filter(|x| !x.is_nan())
        .collect();
    Estimate::of(&xs)
}

/// The mean of a count every replication has.
fn mean_count(outs: &[RunOutput], f: impl Fn(&Summary) -> u64) -> f64 {
    let xs: Vec<f64> = outs.iter().map(|o| f(&o.summary) as f64).collect();
    mean_ci95(&xs).0
}

/// The mean of a count some replications have (`None` when none has it).
fn mean_some(outs: &[RunOutput], f: impl Fn(&Summary) -> Option<u64>) -> Option<f64> {
    estimate(outs, |s| f(s).map(|n| n as f64)).map(|e| e.mean)
}

impl RequestFigures {
    fn of(model: &Model, outs: &[RunOutput]) -> RequestFigures {
        let latency = |q: fn(&Summary) -> Option<f64>| estimate(outs, q);
        RequestFigures {
            offered: mean_count(outs, |s| s.requests.attempts.offered),
            succeeded: mean_count(outs, |s| s.requests.attempts.succeeded),
            rejected: mean_count(outs, |s| s.requests.attempts.rejected),
            timed_out: mean_count(outs, |s| s.requests.attempts.timed_out),
            failed: mean_count(outs, |s| s.requests.attempts.failed),
            short_circuited: mean_some(outs, |s| s.requests.short_circuited),
            throttled: mean_some(outs, |s| s.requests.throttled),
            rate_limited: mean_some(outs, |s| s.requests.rate_limited),
            latency: [
                latency(|s| s.latency_s.p50),
                latency(|s| s.latency_s.p95),
                latency(|s| s.latency_s.p99),
            ],
            blocking: (model.tiers.iter())
                .map(|t| {
                    let of = |s: &Summary| {
                        let tier = s.tiers.iter().find(|x| x.name == t.name)?;
                        tier.blocking_probability
                    };
                    estimate(outs, of).map(|e| e.mean)
                })
                .collect(),
        }
    }
}

impl CallFigures {
    fn of(outs: &[RunOutput]) -> CallFigures {
        CallFigures {
            made: mean_count(outs, |s| s.calls.made),
            succeeded: mean_count(outs, |s| s.calls.succeeded),
            lost: mean_count(outs, |s| s.calls.lost),
            success_rate: estimate(outs, |s| s.calls.success_rate),
        }
    }
}

impl UserFigures {
    /// `None` when no replication has a users source.
    fn of(outs: &[RunOutput]) -> Option<UserFigures> {
        let has: Vec<_> = (outs.iter())
            .filter_map(|o| o.summary.sessions.as_ref())
            .collect();
        if has.is_empty() {
            return None;
        }
        let mean = |f: fn(&crate::metrics::summary::SessionCounts) -> u64| {
            let xs: Vec<f64> = has.iter().map(|s| f(s) as f64).collect();
            mean_ci95(&xs).0
        };
        Some(UserFigures {
            arrived: mean(|s| s.arrived),
            completed: mean(|s| s.completed),
            gave_up: mean(|s| s.gave_up),
            turned_away: mean(|s| s.turned_away),
            left_room: mean(|s| s.left_room),
            lost: mean(|s| s.lost),
        })
    }
}

/// The SLO's figures over the measured period.
pub(crate) struct SloFigures {
    /// Success rate of the requests that ended.
    pub(crate) success_rate: MeanCi,
    /// Share of the SLO windows that met it.
    pub(crate) windows_met_share: MeanCi,
    /// Time out of the SLO, in seconds.
    pub(crate) time_out_s: MeanCi,
    /// Share of the error budget used.
    pub(crate) error_budget_used: MeanCi,
}

impl RunFigures {
    pub(crate) fn of(model: &Model, outs: &[RunOutput]) -> RunFigures {
        let runs: Vec<_> = outs
            .iter()
            .map(|o| o.as_run(model.slo.outage_below))
            .collect();
        let tier_mean = |k: usize, f: fn(&TierSummary) -> f64| {
            let xs: Vec<f64> = (outs.iter())
                .filter_map(|o| o.summary.tiers.get(k).map(f))
                .collect();
            (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
        };
        let instances = (0..model.tiers.len())
            .map(|k| {
                [
                    tier_mean(k, |s| f64::from(s.instances_min)),
                    tier_mean(k, |s| f64::from(s.instances_max)),
                    tier_mean(k, |s| s.instances_mean),
                ]
            })
            .collect();
        let warmup_s = model.scenario.warmup_s;
        let peak_utilisation = (0..model.tiers.len())
            .map(|k| {
                let xs: Vec<f64> = (outs.iter())
                    .filter_map(|o| {
                        let ts = o.series.tiers.get(k)?;
                        ts.peak_bucket_utilization(&o.series.t_s, warmup_s)
                    })
                    .collect();
                (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
            })
            .collect();
        let over = |f: &dyn Fn(&RunOutput) -> Option<f64>| {
            let xs: Vec<f64> = outs.iter().filter_map(f).collect();
            (!xs.is_empty()).then(|| mean_ci95(&xs))
        };
        let slo = SloFigures {
            success_rate: over(&|o| o.summary.slo.success_rate),
            windows_met_share: over(&|o| o.summary.slo.windows_met_share),
            time_out_s: over(&|o| Some(o.summary.slo.time_out_of_slo_s)),
            error_budget_used: over(&|o| o.summary.slo.error_budget_used),
        };
        RunFigures {
            estimates: Replicated::of(&runs),
            instances,
            peak_utilisation,
            slo,
            requests: RequestFigures::of(model, outs),
            calls: CallFigures::of(outs),
            users: UserFigures::of(outs),
        }
    }
}
