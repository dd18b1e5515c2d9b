//! The mean and 95% half-width over replications of every field of a run's [`Summary`]: the
//! typed means tree and `ci95` tree of `summary.json` for `surge run --reps N` (N > 1). Numbers
//! are averaged (`stats::mean_ci95`), booleans give the share that were true, a field a
//! replication has no value for (`null`) is left out of its mean, and names, the seed and the
//! outage intervals keep the first replication's. A field written only when a model has it
//! (a breaker's `short_circuited`, a tier's `cost`, the `waiting_room`) is there when the first
//! replication has it.
//!
//! Each summary type lists its fields once, by how they combine ([`averaged!`]); the list is
//! checked against the type (a field added to the summary and not listed here does not
//! compile). It is not the table of metrics that sweeps and comparisons report (`table.rs`,
//! read by `replicated.rs`): this is the whole summary, for `summary.json` only.

use serde::{Deserialize, Serialize};

use super::outage::Outage;
use super::room::{RoomState, RoomSummary};
use super::slo::SloSummary;
use super::summary::{
    AttemptCounts, CallCounts, EndedBy, Latency, RequestCounts, SessionCounts, Summary, TierSummary,
};

/// A field that averages as a number; `None` where `summary.json` holds `null` (no value, or
/// not a finite number).
trait Number {
    fn number(&self) -> Option<f64>;
}

impl Number for f64 {
    fn number(&self) -> Option<f64> {
        self.is_finite().then_some(*self)
    }
}

impl Number for u64 {
    fn number(&self) -> Option<f64> {
        Some(*self as f64)
    }
}

impl Number for u32 {
    fn number(&self) -> Option<f64> {
        Some(f64::from(*self))
    }
}

impl Number for bool {
    fn number(&self) -> Option<f64> {
        Some(if *self { 1.0 } else { 0.0 })
    }
}

impl<T: Number> Number for Option<T> {
    fn number(&self) -> Option<f64> {
        self.as_ref().and_then(Number::number)
    }
}

/// The mean of the values there are (`None`: none) and its 95% half-width (`None` with fewer
/// than two).
fn estimate(values: impl Iterator<Item = Option<f64>>) -> (Option<f64>, Option<f64>) {
    let xs: Vec<f64> = values.flatten().collect();
    if xs.is_empty() {
        return (None, None);
    }
    let (mean, half) = crate::stats::mean_ci95(&xs);
    (
        mean.is_finite().then_some(mean),
        half.is_finite().then_some(half),
    )
}

/// A part of the summary with its means and intervals over replications.
pub(crate) trait Averaged {
    /// The means, shaped as the part (`null` where no replication has a value).
    type Mean: Serialize;
    /// The 95% half-widths, shaped as the part (absent where fewer than two have a value).
    type Ci: Serialize;
    /// Over `items`, one per replication, at least one.
    fn average(items: &[&Self]) -> (Self::Mean, Self::Ci);
}

/// A list (the tiers): element by element, over the replications that have it.
impl<T: Averaged> Averaged for Vec<T> {
    type Mean = Vec<T::Mean>;
    type Ci = Vec<T::Ci>;
    fn average(items: &[&Self]) -> (Self::Mean, Self::Ci) {
        (0..items[0].len())
            .map(|i| {
                let of_i: Vec<&T> = items.iter().filter_map(|v| v.get(i)).collect();
                T::average(&of_i)
            })
            .unzip()
    }
}

/// The means and intervals of a summary type, its fields listed by how they combine:
/// `keep` (the first replication's value), `keep_present` (the same, absent when `None`),
/// `flags` (a boolean written only when true: the share over the replications that wrote it,
/// so 1), `numbers` (mean and interval), `when_present` (an optional number written only when
/// set: present as the first replication's is), `nested` (a part with its own means),
/// `optional` (an optional part, present as the first replication's is).
macro_rules! averaged {
    (
        $(#[$doc:meta])*
        $ty:ident => $mean:ident, $ci:ident {
            keep: [$($k:ident: $kt:ty),* $(,)?],
            keep_present: [$($kp:ident: $kpt:ty),* $(,)?],
            flags: [$($f:ident),* $(,)?],
            $(flat: [$($fl:ident: $flt:ty),* $(,)?],)?
            numbers: [$($n:ident),* $(,)?],
            when_present: [$($p:ident),* $(,)?],
            nested: [$($s:ident: $st:ty),* $(,)?],
            optional: [$($o:ident: $ot:ty),* $(,)?],
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub(crate) struct $mean {
            $(pub(crate) $k: $kt,)*
            $(#[serde(skip_serializing_if = "Option::is_none")] pub(crate) $kp: $kpt,)*
            $(#[serde(skip_serializing_if = "Option::is_none")] pub(crate) $f: Option<f64>,)*
            $($(#[serde(flatten)] pub(crate) $fl: <$flt as Averaged>::Mean,)*)?
            $(pub(crate) $n: Option<f64>,)*
            $(#[serde(skip_serializing_if = "Option::is_none")] pub(crate) $p: Option<f64>,)*
            $(pub(crate) $s: <$st as Averaged>::Mean,)*
            $(#[serde(skip_serializing_if = "Option::is_none")]
              pub(crate) $o: Option<<$ot as Averaged>::Mean>,)*
        }

        #[doc = concat!("The 95% half-widths of [`", stringify!($mean), "`].")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub(crate) struct $ci {
            $(#[serde(skip_serializing_if = "Option::is_none")] pub(crate) $f: Option<f64>,)*
            $($(#[serde(flatten)] pub(crate) $fl: <$flt as Averaged>::Ci,)*)?
            $(#[serde(skip_serializing_if = "Option::is_none")] pub(crate) $n: Option<f64>,)*
            $(#[serde(skip_serializing_if = "Option::is_none")] pub(crate) $p: Option<f64>,)*
            $(pub(crate) $s: <$st as Averaged>::Ci,)*
            $(#[serde(skip_serializing_if = "Option::is_none")]
              pub(crate) $o: Option<<$ot as Averaged>::Ci>,)*
        }

        impl Averaged for $ty {
            type Mean = $mean;
            type Ci = $ci;
            fn average(items: &[&Self]) -> ($mean, $ci) {
                let first = items[0];
                // Every field is listed above: a field added to the type must be listed too.
                let $ty { $($k: _,)* $($kp: _,)* $($f: _,)* $($($fl: _,)*)? $($n: _,)* $($p: _,)* $($s: _,)*
                    $($o: _,)* } = first;
                $(let $f = if first.$f {
                    estimate(items.iter().filter(|x| x.$f).map(|_| Some(1.0)))
                } else {
                    (None, None)
                };)*
                $($(let $fl = <$flt as Averaged>::average(
                    &items.iter().map(|x| &x.$fl).collect::<Vec<_>>(),
                );)*)?
                $(let $n = estimate(items.iter().map(|x| x.$n.number()));)*
                $(let $p = if first.$p.is_some() {
                    estimate(items.iter().map(|x| x.$p.number()))
                } else {
                    (None, None)
                };)*
                $(let $s = <$st as Averaged>::average(
                    &items.iter().map(|x| &x.$s).collect::<Vec<_>>(),
                );)*
                $(let $o = match &first.$o {
                    Some(_) => {
                        let (m, c) = <$ot as Averaged>::average(
                            &items.iter().filter_map(|x| x.$o.as_ref()).collect::<Vec<_>>(),
                        );
                        (Some(m), Some(c))
                    }
                    None => (None, None),
                };)*
                (
                    $mean {
                        $($k: first.$k.clone(),)*
                        $($kp: first.$kp.clone(),)*
                        $($f: $f.0,)*
                        $($($fl: $fl.0,)*)?
                        $($n: $n.0,)*
                        $($p: $p.0,)*
                        $($s: $s.0,)*
                        $($o: $o.0,)*
                    },
                    $ci {
                        $($f: $f.1,)*
                        $($($fl: $fl.1,)*)?
                        $($n: $n.1,)*
                        $($p: $p.1,)*
                        $($s: $s.1,)*
                        $($o: $o.1,)*
                    },
                )
            }
        }
    };
}

averaged! {
    /// The means of a [`Summary`]: `summary.json` of `surge run --reps N` at its top level.
    Summary => SummaryMeans, SummaryCi {
        keep: [model: String, seed: u64],
        keep_present: [ended_by: Option<EndedBy>],
        flags: [partial],
        numbers: [
            sim_time_s, warmup_s, wall_s, events, events_per_s, peak_pending_events,
            peak_concurrent_users, mean_concurrent_users,
        ],
        when_present: [simulated_until_s],
        nested: [
            requests: RequestCounts, calls: CallCounts, latency_s: Latency, outage: Outage,
            slo: SloSummary, tiers: Vec<TierSummary>,
        ],
        optional: [sessions: SessionCounts, waiting_room: RoomSummary],
    }
}

averaged! {
    /// The means of the request counts.
    RequestCounts => RequestMeans, RequestCi {
        keep: [],
        keep_present: [],
        flags: [],
        flat: [attempts: AttemptCounts],
        numbers: [in_flight, wasted],
        when_present: [short_circuited, throttled, rate_limited],
        nested: [],
        optional: [],
    }
}

averaged! {
    /// The means of the attempt counts (written in place, at the level of the request counts).
    AttemptCounts => AttemptMeans, AttemptCi {
        keep: [],
        keep_present: [],
        flags: [],
        numbers: [offered, first_attempts, retries, succeeded, rejected, timed_out, failed],
        when_present: [],
        nested: [],
        optional: [],
    }
}

averaged! {
    /// The means of the call counts, and of the call-level outage.
    CallCounts => CallMeans, CallCi {
        keep: [],
        keep_present: [],
        flags: [],
        numbers: [made, succeeded, lost, success_rate],
        when_present: [],
        nested: [outage: Outage],
        optional: [],
    }
}

averaged! {
    /// The means of the session counts.
    SessionCounts => SessionMeans, SessionCi {
        keep: [],
        keep_present: [],
        flags: [],
        numbers: [
            arrived, completed, gave_up, turned_away, left_room, lost, success_rate,
        ],
        when_present: [],
        nested: [outage: Outage],
        optional: [],
    }
}

averaged! {
    /// The means of the latency quantiles.
    Latency => LatencyMeans, LatencyCi {
        keep: [],
        keep_present: [],
        flags: [],
        numbers: [mean, p50, p95, p99],
        when_present: [],
        nested: [],
        optional: [],
    }
}

averaged! {
    /// The means of the outage figures (the intervals are the first replication's).
    Outage => OutageMeans, OutageCi {
        keep: [intervals: Vec<[f64; 2]>],
        keep_present: [],
        flags: [],
        numbers: [
            crashed, crash_time_s, recovered, recovery_time_s, downtime_s, episodes,
            recovered_at_s, down_at_end, held_at_end_s,
        ],
        when_present: [],
        nested: [],
        optional: [],
    }
}

averaged! {
    /// The means of the SLO figures.
    SloSummary => SloMeans, SloCi {
        keep: [],
        keep_present: [],
        flags: [],
        numbers: [
            success_rate, windows_met_share, time_out_of_slo_s, error_budget_used, broken,
            target_success_rate, target_latency_s, window_s, outage_below, stable_s,
        ],
        when_present: [],
        nested: [],
        optional: [],
    }
}

averaged! {
    /// The means of one tier's figures.
    TierSummary => TierMeans, TierCi {
        keep: [name: String],
        keep_present: [],
        flags: [],
        numbers: [
            threads, instances, utilization, mean_in_system, mean_queue_wait_s, mean_response_s,
            blocking_probability, crashes, first_crash_s, throughput_per_s, departures_per_s,
            mean_time_in_tier_s, time_in_tier_s, in_tier_at_end, mean_busy_threads, mean_queued,
            prob_wait, wait_p50_s, wait_p90_s, wait_p99_s, instance_hours, instances_min,
            instances_max, instances_mean,
        ],
        when_present: [
            cost, ejections, limited, pool_timeouts, pool_mean_wait_s, pool_peak_connections,
            pool_connections, pool_requests, pool_waited, pool_mean_in_use, pool_mean_waiting,
            pool_full_share, utilization_peak_bucket, peak_in_tier, arrivals, retries,
            attempts_per_call,
        ],
        nested: [],
        optional: [],
    }
}

averaged! {
    /// The means of the waiting room's figures.
    RoomSummary => RoomMeans, RoomCi {
        keep: [],
        keep_present: [],
        flags: [],
        numbers: [
            arrived, admitted, abandoned, rejected, expired, left, wait_p50_s, wait_p95_s,
            mean_wait_s, max_waiting, mean_waiting,
        ],
        when_present: [],
        nested: [at_start: RoomState, at_end: RoomState],
        optional: [],
    }
}

averaged! {
    /// The means of the sessions in each state.
    RoomState => RoomStateMeans, RoomStateCi {
        keep: [],
        keep_present: [],
        flags: [],
        numbers: [on_site, waiting, away],
        when_present: [],
        nested: [],
        optional: [],
    }
}

/// The means and 95% half-widths of `reps` (at least one), each shaped as a summary.
pub(crate) fn over_replications(reps: &[&Summary]) -> (SummaryMeans, SummaryCi) {
    Summary::average(reps)
}

#[cfg(test)]
mod tests;
