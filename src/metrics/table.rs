//! The table of metrics a sweep or a comparison reports for each run: key (the column of
//! `points.csv` and `compare.csv`, the name in `sweep.json` and `compare.json`), label and unit
//! (what charts and the terminal say), whether the value is a probability (drawn on a fixed 0..1
//! axis), how it is read from a run's [`Summary`], and whether a run has it at all (the waiting
//! room's metrics only with a room, the cost only with a price). Every metric combines over
//! replications the same way, a mean with its 95% interval: a yes/no outcome is stored as 1/0,
//! so its mean is the share of replications where it held. The terminal reports,
//! `points.csv`, `sweep.json`, `compare.csv`, `compare.json`, the charts and `surge plot` all
//! read this one table; nothing guesses a metric's meaning from its name.
//!
//! It is not the summary of a run (`summary.rs`, whose every field `summary.json` holds): it
//! lists the fields compared across points and variants, in the order of the columns.
//! A value a run does not have (no latency without a success, no recovery time for a run that
//! did not recover) is `None`: an empty cell, left out of the means.

use super::room::RoomSummary;
use super::summary::{Summary, TierSummary};

/// One metric: of a run ([`Metric`], the default) or of each tier ([`TierMetric`]), which
/// differ only in what they read (`V`) and what decides whether the column exists (`P`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metric<V = fn(&Run) -> Option<f64>, P = fn(&Summary) -> bool> {
    /// Column of `points.csv` and name in `sweep.json`, e.g. `outage.recovery_time_s`; for a
    /// tier's metric the field, its column being `tiers.<tier>.<key>`.
    pub key: &'static str,
    /// What is measured, for charts and the terminal, e.g. `recovery time`.
    pub label: &'static str,
    /// Unit of the values: `s`, `req/s`, `requests`...; empty for a share or a probability.
    pub unit: &'static str,
    /// The values are probabilities or shares, 0..1 (a yes/no outcome is stored as 1/0, so its
    /// mean over replications is the share where it held).
    pub probability: bool,
    pub value: V,
    /// Whether a run (or tier) has this column at all: the waiting room's only where the model
    /// has a room, a cost only where a tier has a price, so the columns of models without them
    /// stay as they were.
    pub present: P,
}

/// One metric of each tier; its column is `tiers.<tier>.<key>`.
pub(crate) type TierMetric = Metric<fn(&TierSummary) -> Option<f64>, TierPresence>;

/// Which tiers have a tier metric's column: every tier, or only those where it has a value (a
/// metric of a part the model may leave out: a tier's price, its caller's retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TierPresence {
    Always,
    WithValue,
}

impl TierMetric {
    /// Tier `t` has this column.
    pub(crate) fn present_in(&self, t: &TierSummary) -> bool {
        match self.present {
            TierPresence::Always => true,
            TierPresence::WithValue => (self.value)(t).is_some(),
        }
    }
}

/// A metric of the run.
const fn run(
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    probability: bool,
    value: fn(&Run) -> Option<f64>,
    present: fn(&Summary) -> bool,
) -> Metric {
    Metric {
        key,
        label,
        unit,
        probability,
        value,
        present,
    }
}

const fn mean(
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    value: fn(&Run) -> Option<f64>,
) -> Metric {
    run(key, label, unit, false, value, |_| true)
}

const fn share(key: &'static str, label: &'static str, value: fn(&Run) -> Option<f64>) -> Metric {
    run(key, label, "", true, value, |_| true)
}

const fn tier(
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    probability: bool,
    value: fn(&TierSummary) -> Option<f64>,
) -> TierMetric {
    TierMetric {
        key,
        label,
        unit,
        probability,
        value,
        present: TierPresence::Always,
    }
}

/// A metric of each tier that only some models have: its column exists only where the tier has
/// a value (`TierPresence::WithValue`).
const fn optional_tier(
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    value: fn(&TierSummary) -> Option<f64>,
) -> TierMetric {
    TierMetric {
        present: TierPresence::WithValue,
        ..tier(key, label, unit, false, value)
    }
}

/// A metric of the waiting room, present only when the run has one.
const fn room(
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    value: fn(&Run) -> Option<f64>,
) -> Metric {
    run(key, label, unit, false, value, |s| s.waiting_room.is_some())
}

/// The value `f` of the run's waiting room, when it has one.
fn of_room(r: &Run, f: fn(&RoomSummary) -> Option<f64>) -> Option<f64> {
    r.summary.waiting_room.as_ref().and_then(f)
}

fn yes(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn count(n: u64) -> Option<f64> {
    Some(n as f64)
}

/// The mean of a count of the summary, `$group.$field`, which is also its key: e.g.
/// `counted!(requests.failed, "requests failed", "requests")`.
macro_rules! counted {
    // A count of a part written in place (`#[serde(flatten)]`): `requests.attempts.failed` is
    // `requests.failed` in summary.json, and its key here.
    ($group:ident . $part:ident . $field:ident, $label:expr, $unit:expr) => {
        mean(
            concat!(stringify!($group), ".", stringify!($field)),
            $label,
            $unit,
            |r| count(r.summary.$group.$part.$field),
        )
    };
    ($group:ident . $field:ident, $label:expr, $unit:expr) => {
        mean(
            concat!(stringify!($group), ".", stringify!($field)),
            $label,
            $unit,
            |r| count(r.summary.$group.$field),
        )
    };
}

/// A metric of the waiting room, `waiting_room.$field`, read through `$read` (`count` for a
/// count, `Some` for a mean, `std::convert::identity` for a value it may lack).
macro_rules! in_room {
    ($field:ident, $label:expr, $unit:expr, $read:expr) => {
        room(
            concat!("waiting_room.", stringify!($field)),
            $label,
            $unit,
            |r| of_room(r, |w| $read(w.$field)),
        )
    };
}

/// What the table reads of one run.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    pub summary: &'a Summary,
    /// The run's outage was still on when it ended (its last SLO window was down): its
    /// downtime is only a lower bound, cut by the horizon.
    pub down_at_end: bool,
}

/// The time from the crash to recovery, only for a run that recovered.
fn recovery_time(r: &Run) -> Option<f64> {
    r.summary
        .outage
        .recovered
        .filter(|r| *r)
        .and(r.summary.outage.recovery_time_s)
}

pub(crate) const OUTAGE_CRASHED: &str = "outage.crashed";
pub(crate) const OUTAGE_RECOVERED: &str = "outage.recovered";
pub(crate) const RECOVERY_TIME: &str = "outage.recovery_time_s";
pub(crate) const DOWNTIME: &str = "outage.downtime_s";
pub(crate) const DOWNTIME_CENSORED: &str = "outage.downtime_censored";
pub(crate) const REQUESTS_LOST: &str = "requests.lost";
pub(crate) const CALLS_MADE: &str = "calls.made";
pub(crate) const CALLS_LOST: &str = "calls.lost";
pub(crate) const CALLS_SUCCESS_RATE: &str = "calls.success_rate";
pub(crate) const CALLS_CRASHED: &str = "calls.outage.crashed";
pub(crate) const CALLS_DOWNTIME: &str = "calls.outage.downtime_s";
pub(crate) const USERS_LOST: &str = "sessions.lost";
pub(crate) const USERS_SUCCESS_RATE: &str = "sessions.success_rate";
pub(crate) const USERS_CRASHED: &str = "sessions.outage.crashed";
pub(crate) const USERS_DOWNTIME: &str = "sessions.outage.downtime_s";
pub(crate) const LATENCY_P95: &str = "latency_s.p95";
/// The field of a tier's instance-hours (its column is `tiers.<tier>.instance_hours`).
pub(crate) const INSTANCE_HOURS: &str = "instance_hours";
/// The field of a tier's cost, and the key of the total over the tiers with a price.
pub(crate) const COST: &str = "cost";

/// The metrics of the whole run that come before the tiers' columns.
pub(crate) const BEFORE_TIERS: &[Metric] = &[
    mean("events", "events simulated", "events", |r| {
        count(r.summary.events)
    }),
    mean("latency_s.mean", "mean latency", "s", |r| {
        r.summary.latency_s.mean
    }),
    mean("latency_s.p50", "p50 latency", "s", |r| {
        r.summary.latency_s.p50
    }),
    mean(LATENCY_P95, "p95 latency", "s", |r| r.summary.latency_s.p95),
    mean("latency_s.p99", "p99 latency", "s", |r| {
        r.summary.latency_s.p99
    }),
    mean(
        "mean_concurrent_users",
        "mean concurrent users",
        "users",
        |r| Some(r.summary.mean_concurrent_users),
    ),
    mean("outage.crash_time_s", "time of the crash", "s", |r| {
        r.summary.outage.crash_time_s
    }),
    share(OUTAGE_CRASHED, "outage probability", |r| {
        Some(yes(r.summary.outage.crashed))
    }),
    share(
        DOWNTIME_CENSORED,
        "share of runs still down at the end",
        |r| Some(yes(r.down_at_end)),
    ),
    mean(DOWNTIME, "downtime", "s", |r| {
        Some(r.summary.outage.downtime_s)
    }),
    mean("outage.episodes", "outage episodes", "episodes", |r| {
        Some(f64::from(r.summary.outage.episodes))
    }),
    share(OUTAGE_RECOVERED, "share of outages recovered", |r| {
        r.summary.outage.recovered.map(yes)
    }),
    mean("outage.recovered_at_s", "time of recovery", "s", |r| {
        r.summary.outage.recovered_at_s
    }),
    mean(RECOVERY_TIME, "recovery time", "s", recovery_time),
    share(
        "slo.success_rate",
        "success rate over the measured period",
        |r| r.summary.slo.success_rate,
    ),
    share("slo.windows_met_share", "share of SLO windows met", |r| {
        r.summary.slo.windows_met_share
    }),
    mean("slo.time_out_of_slo_s", "time out of SLO", "s", |r| {
        Some(r.summary.slo.time_out_of_slo_s)
    }),
    mean(
        "slo.error_budget_used",
        "error budget used",
        "budgets",
        |r| r.summary.slo.error_budget_used,
    ),
    share("slo.broken", "probability of breaking the SLO", |r| {
        Some(yes(r.summary.slo.broken))
    }),
    mean(
        "peak_concurrent_users",
        "peak concurrent users",
        "users",
        |r| Some(r.summary.peak_concurrent_users),
    ),
    counted!(requests.attempts.failed, "requests failed", "requests"),
    counted!(
        requests.attempts.first_attempts,
        "first attempts",
        "requests"
    ),
    counted!(
        requests.in_flight,
        "requests in flight at the end",
        "requests"
    ),
    counted!(requests.attempts.offered, "requests offered", "requests"),
    counted!(requests.attempts.rejected, "requests rejected", "requests"),
    counted!(requests.attempts.retries, "retries", "requests"),
    counted!(
        requests.attempts.succeeded,
        "requests succeeded",
        "requests"
    ),
    counted!(
        requests.attempts.timed_out,
        "requests timed out",
        "requests"
    ),
    counted!(
        requests.wasted,
        "attempts served after their client left",
        "requests"
    ),
    mean("sim_time_s", "time simulated", "s", |r| {
        Some(r.summary.sim_time_s)
    }),
];

pub(crate) use tier_columns::TIER;

/// A count of the user level (a field of `sessions`), present only when the run has a users
/// source.
macro_rules! users {
    ($key:expr, $label:expr, $field:ident) => {
        run(
            $key,
            $label,
            "users",
            false,
            |r| r.summary.sessions.as_ref().map(|s| s.$field as f64),
            |s| s.sessions.is_some(),
        )
    };
}

/// The metrics of the whole run that come after the tiers' columns.
pub(crate) const AFTER_TIERS: &[Metric] = &[
    mean("warmup_s", "warm-up", "s", |r| Some(r.summary.warmup_s)),
    mean(
        REQUESTS_LOST,
        "requests lost (rejected, timed out, failed, short-circuited, throttled)",
        "requests",
        |r| count(r.summary.requests.lost()),
    ),
    run(
        "requests.rate_limited",
        "requests refused by the edge rate limit (429)",
        "requests",
        false,
        |r| r.summary.requests.rate_limited.map(|n| n as f64),
        |s| s.requests.rate_limited.is_some(),
    ),
    run(
        COST,
        "cost of all priced tiers",
        "currency units",
        false,
        |r| total_cost(r.summary),
        |s| total_cost(s).is_some(),
    ),
    in_room!(admitted, "users admitted from the room", "users", count),
    in_room!(
        abandoned,
        "users who left the room before their turn",
        "users",
        count
    ),
    in_room!(rejected, "users turned away by the room", "users", count),
    in_room!(
        wait_p50_s,
        "p50 wait in the room (users admitted)",
        "s",
        std::convert::identity
    ),
    in_room!(
        wait_p95_s,
        "p95 wait in the room (users admitted)",
        "s",
        std::convert::identity
    ),
    in_room!(max_waiting, "most users waiting at once", "users", count),
    in_room!(mean_waiting, "mean users waiting", "users", Some),
    // The call level: a request with its retries, a page with its refreshes.
    mean(CALLS_MADE, "calls made", "calls", |r| {
        count(r.summary.calls.made)
    }),
    counted!(calls.succeeded, "calls succeeded", "calls"),
    mean(
        CALLS_LOST,
        "calls lost (every attempt failed, or turned away at the waiting room)",
        "calls",
        |r| count(r.summary.calls.lost),
    ),
    share(CALLS_SUCCESS_RATE, "share of calls that succeeded", |r| {
        r.summary.calls.success_rate
    }),
    share(CALLS_CRASHED, "outage probability (by calls)", |r| {
        Some(yes(r.summary.calls.outage.crashed))
    }),
    mean(CALLS_DOWNTIME, "downtime (by calls)", "s", |r| {
        Some(r.summary.calls.outage.downtime_s)
    }),
    // The user level, with a users source.
    users!(
        "sessions.arrived",
        "sessions begun (visits and returns)",
        arrived
    ),
    users!(
        "sessions.completed",
        "sessions with every page served",
        completed
    ),
    users!(
        "sessions.gave_up",
        "sessions given up after errors",
        gave_up
    ),
    users!(
        "sessions.turned_away",
        "users turned away by the waiting room",
        turned_away
    ),
    users!(
        "sessions.left_room",
        "users who left the waiting room",
        left_room
    ),
    users!(
        USERS_LOST,
        "users lost (gave up, turned away or left the waiting room)",
        lost
    ),
    run(
        USERS_CRASHED,
        "outage probability (by users)",
        "",
        true,
        |r| (r.summary.sessions.as_ref()).map(|s| yes(s.outage.crashed)),
        |s| s.sessions.is_some(),
    ),
    run(
        USERS_DOWNTIME,
        "downtime (by users)",
        "s",
        false,
        |r| (r.summary.sessions.as_ref()).map(|s| s.outage.downtime_s),
        |s| s.sessions.is_some(),
    ),
    run(
        USERS_SUCCESS_RATE,
        "share of sessions with every page served",
        "",
        true,
        |r| r.summary.sessions.as_ref().and_then(|s| s.success_rate),
        |s| s.sessions.is_some(),
    ),
];

/// The cost of the tiers with a price, summed; `None` when no tier has one.
fn total_cost(s: &Summary) -> Option<f64> {
    s.tiers.iter().filter_map(|t| t.cost).reduce(|a, b| a + b)
}

/// Metrics labelled without the waiting room, for a run `s` with none (`labelled_for`; issue 29).
const WITHOUT_ROOM: &[Metric] = &[
    mean(
        CALLS_LOST,
        "calls lost (every attempt failed)",
        "calls",
        |r| count(r.summary.calls.lost),
    ),
    users!(USERS_LOST, "users lost (gave up after errors)", lost),
];

fn labelled_for(m: &'static Metric, s: &Summary) -> &'static Metric {
    let plain = (WITHOUT_ROOM.iter()).find(|w| w.key == m.key && s.waiting_room.is_none());
    plain.unwrap_or(m)
}

/// A column of `points.csv`: a metric of the run, or a metric of one tier.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    Run(&'static Metric),
    Tier(String, &'static TierMetric),
}

impl Column {
    /// The columns of one run's summary, in order: the run's metrics, each tier's, then the
    /// run's metrics after the tiers; a metric only where the run has it (`present`).
    pub(crate) fn of(s: &Summary) -> Vec<Column> {
        let mut out: Vec<Column> = BEFORE_TIERS
            .iter()
            .filter(|m| (m.present)(s))
            .map(Column::Run)
            .collect();
        for t in &s.tiers {
            out.extend(
                TIER.iter()
                    .filter(|m| m.present_in(t))
                    .map(|m| Column::Tier(t.name.clone(), m)),
            );
        }
        out.extend(
            AFTER_TIERS
                .iter()
                .filter(|m| (m.present)(s))
                .map(|m| Column::Run(labelled_for(m, s))),
        );
        out
    }

    /// The columns of several runs that may differ (variants of a model: one with a waiting
    /// room, one without): the first run's, then those of the others it lacks, in order.
    pub(crate) fn union<'a>(summaries: impl IntoIterator<Item = &'a Summary>) -> Vec<Column> {
        let mut out: Vec<Column> = Vec::new();
        let mut keys = std::collections::HashSet::new();
        for s in summaries {
            for c in Column::of(s) {
                if keys.insert(c.key()) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// The column named `key` (as in a `points.csv` header).
    #[cfg(test)]
    pub(crate) fn parse(key: &str) -> Option<Column> {
        if let Some(m) = BEFORE_TIERS
            .iter()
            .chain(AFTER_TIERS)
            .find(|m| m.key == key)
        {
            return Some(Column::Run(m));
        }
        let (tier, field) = key.strip_prefix("tiers.")?.rsplit_once('.')?;
        let m = TIER.iter().find(|m| m.key == field)?;
        Some(Column::Tier(tier.to_string(), m))
    }

    pub(crate) fn key(&self) -> String {
        match self {
            Column::Run(m) => m.key.to_string(),
            Column::Tier(t, m) => format!("tiers.{t}.{}", m.key),
        }
    }

    /// What the column measures, with the tier's name for a tier's metric (`web: utilisation`).
    pub(crate) fn label(&self) -> String {
        match self {
            Column::Run(m) => m.label.to_string(),
            Column::Tier(t, m) => format!("{t}: {}", m.label),
        }
    }

    /// The unit of the column's values (empty for a share or a probability).
    pub(crate) fn unit(&self) -> &'static str {
        match self {
            Column::Run(m) => m.unit,
            Column::Tier(_, m) => m.unit,
        }
    }

    /// The value of this column for a run (`None`: the run has none).
    pub(crate) fn value(&self, r: &Run) -> Option<f64> {
        match self {
            Column::Run(m) => (m.value)(r),
            Column::Tier(name, m) => r
                .summary
                .tiers
                .iter()
                .find(|t| &t.name == name)
                .and_then(|t| (m.value)(t)),
        }
    }
}

/// The metric with key `key` among the run's metrics.
pub(crate) fn metric(key: &str) -> Option<&'static Metric> {
    BEFORE_TIERS
        .iter()
        .chain(AFTER_TIERS)
        .find(|m| m.key == key)
}

mod tier_columns;

#[cfg(test)]
mod tests;
