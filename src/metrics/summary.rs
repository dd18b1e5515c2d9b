//! `summary.json`: the stable fields (listed in docs/outputs.md) for one run. The mean and 95%
//! half-width of every field over replications are `metrics::means`; the metrics that reports,
//! sweeps and comparisons read over replications are `metrics::replicated`.

use serde::{Deserialize, Serialize};

pub use super::attempts::AttemptCounts;
use super::outage::Outage;
use super::slo::{Criterion, SloSummary};

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct RequestCounts {
    /// Attempts offered and their outcomes, written at this level (`offered`, ..., `failed`):
    /// the collector's own counts (`collector::Counts::attempts`).
    #[serde(flatten)]
    pub attempts: AttemptCounts,
    /// Failed at the client by an open circuit breaker (present when a source has a breaker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_circuited: Option<u64>,
    /// Rejected locally by the client's adaptive throttle (present when a source has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled: Option<u64>,
    /// Of `rejected`, refused at the edge by a rate limit (429; present when the model has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<u64>,
    pub in_flight: u64,
    /// Attempts the server completed after their client had left (wasted work); not an outcome.
    pub wasted: u64,
}

impl RequestCounts {
    /// Attempts that ended in any outcome.
    pub fn ended(&self) -> u64 {
        self.attempts.succeeded + self.lost()
    }

    /// Attempts that ended without success: rejected, timed out, failed, short-circuited or
    /// throttled.
    pub fn lost(&self) -> u64 {
        self.attempts.lost() + self.short_circuited.unwrap_or(0) + self.throttled.unwrap_or(0)
    }
}

/// The call level: what clients asked for, whatever it took. A call is a request of a requests
/// source with its automatic retries, or a page of a user with its refreshes; it succeeded if
/// any of its attempts did, and it is lost when its client gave up on it (no retry or refresh
/// left, or none wanted), or when the waiting room turned its user away (or the user left it)
/// before the page was sent. Counted by the offer time of the attempt that ended the call (at
/// the door, the time the user left), at or after the warm-up, as `requests` counts attempts.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct CallCounts {
    /// Calls begun: first attempts, and pages asked for at the waiting room's door and never
    /// sent.
    pub made: u64,
    /// Calls one of whose attempts succeeded (each success ends a call: `requests.succeeded`).
    pub succeeded: u64,
    /// Calls that ended without success.
    pub lost: u64,
    /// `succeeded` / (`succeeded` + `lost`): the share of the calls that ended that succeeded;
    /// `None` when none ended.
    pub success_rate: Option<f64>,
    /// The outage analysis on the calls' window success rate (`outage::detect_in`).
    pub outage: Outage,
}

/// The user level, for models with a users source: sessions (a new visit, or a user coming
/// back after leaving) and how they ended. Counted when they happen, at or after the warm-up.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct SessionCounts {
    /// Sessions begun: new visits and users coming back (the users on the site at the start of
    /// the measured period are not among them).
    pub arrived: u64,
    /// Sessions whose every page succeeded.
    pub completed: u64,
    /// Sessions given up after a failed page (no refresh, or `give_up_after` failures in a row).
    pub gave_up: u64,
    /// Users the waiting room turned away (`method = "reject"`).
    pub turned_away: u64,
    /// Users who left the waiting room before their turn (`patience`).
    pub left_room: u64,
    /// `gave_up` + `turned_away` + `left_room`: users who did not get what they came for.
    pub lost: u64,
    /// `completed` / (`completed` + `lost`): the share of the sessions that ended that got every
    /// page; `None` when none ended.
    pub success_rate: Option<f64>,
    /// The outage analysis on the sessions' window success rate (`outage::detect_in`).
    #[serde(default)]
    pub outage: Outage,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Latency {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct TierSummary {
    pub name: String,
    /// Worker threads per instance, and instances at the start.
    pub threads: u32,
    pub instances: u32,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub utilization: f64,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub mean_in_system: f64,
    pub mean_queue_wait_s: Option<f64>,
    pub mean_response_s: Option<f64>,
    pub blocking_probability: Option<f64>,
    pub crashes: u64,
    /// Time of the tier's first crash, seconds.
    pub first_crash_s: Option<f64>,
    /// Requests served by the tier (cohort), per second.
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub throughput_per_s: f64,
    /// Every visit that left the tier (served, left its queue unserved, or a health-check
    /// probe), per second, and the mean time they spent in it: L = departures x time.
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub departures_per_s: f64,
    pub mean_time_in_tier_s: Option<f64>,
    /// Time spent in the tier within [warm-up, horizon] by all visits, seconds: equal to
    /// `mean_in_system` x that span (the exact, finite-horizon form of Little's law).
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub time_in_tier_s: f64,
    /// Requests in the tier at the horizon.
    pub in_tier_at_end: u64,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub mean_busy_threads: f64,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub mean_queued: f64,
    /// Share of the requests served that waited for a thread at all.
    pub prob_wait: Option<f64>,
    /// Quantiles of the queue wait, seconds.
    pub wait_p50_s: Option<f64>,
    pub wait_p90_s: Option<f64>,
    pub wait_p99_s: Option<f64>,
    /// Instances x hours over the measured period, each instance from when it joined until it
    /// was scaled in (crashed ones included).
    #[serde(default)]
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub instance_hours: f64,
    /// The fewest and the most instances provisioned at any instant of the measured period,
    /// and their time-average (`instance_hours` over the hours measured): with autoscaling or
    /// scale-in they differ from `instances` (at the start).
    #[serde(default)]
    pub instances_min: u32,
    #[serde(default)]
    pub instances_max: u32,
    #[serde(default)]
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub instances_mean: f64,
    /// `instance_hours` x `cost_per_instance_hour`, when the model sets a price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// Ejections by outlier detection, when the tier has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ejections: Option<u64>,
    /// Requests turned away by the concurrency limit (503), when the tier has one; they are
    /// among the tier's rejections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limited: Option<u64>,
    /// Requests whose wait for a connection of this tier's pool (to the tier it calls) ran out:
    /// they failed (attempt level; among `requests.failed`). When the tier has `[tier.pool]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_timeouts: Option<u64>,
    /// Mean wait for a connection of the pool of the requests that got one, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_mean_wait_s: Option<f64>,
    /// Most connections of the pool in use at once, all instances together (whole run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_peak_connections: Option<u32>,
    /// Connections per instance of the pool (`[tier.pool].connections`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_connections: Option<u32>,
    /// Requests (attempts, cohort) that asked for a connection of the pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_requests: Option<u64>,
    /// Requests (attempts, cohort) that found no free connection and waited for one (among
    /// them the `pool_timeouts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_waited: Option<u64>,
    /// Time-averaged connections in use and requests waiting for one since the warm-up, all
    /// instances together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_mean_in_use: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_mean_waiting: Option<f64>,
    /// Share of the tier's instance-time (`instance_hours`) whose pool had every connection in
    /// use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_full_share: Option<f64>,
    /// The tier's utilisation in its busiest bucket since the warm-up (busy threads over the
    /// threads of the instances up at the bucket's end), present on every tier of every model
    /// (read from the per-bucket series): the tier's threads were the limit when it reached 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_peak_bucket: Option<f64>,
    /// Most requests in the tier at once since the warm-up (waiting, in service or holding a
    /// thread), present on every tier when the model has a pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_in_tier: Option<u32>,
    /// Attempts that arrived at the tier since the warm-up (cohort), and of them the retries of
    /// its caller (`[tier.retry]` of the tier before it); present on every tier when the model
    /// has a `[tier.retry]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    /// `arrivals` per call made (`calls.made`): the retry amplification at this tier, attempt
    /// level over call level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_per_call: Option<f64>,
}

impl TierSummary {
    /// A tier's summary with zeros in the keys of a pool, where the tier has one (`has_pool`)
    /// and where the model has one (`model_has_pool`), for `--assert` to know the keys.
    pub(crate) fn pool_template(has_pool: bool, model_has_pool: bool) -> TierSummary {
        let zero = |x| has_pool.then_some(x);
        TierSummary {
            pool_timeouts: has_pool.then_some(0),
            pool_mean_wait_s: zero(0.0),
            pool_peak_connections: has_pool.then_some(0),
            pool_connections: has_pool.then_some(0),
            pool_requests: has_pool.then_some(0),
            pool_waited: has_pool.then_some(0),
            pool_mean_in_use: zero(0.0),
            pool_mean_waiting: zero(0.0),
            pool_full_share: zero(0.0),
            utilization_peak_bucket: Some(0.0),
            peak_in_tier: model_has_pool.then_some(0),
            ..Default::default()
        }
    }
}

/// Why a run ended before its horizon: a guard rail (`--max-events`, `--max-wall`), or the
/// answer it was run for became known (its first outage, or its first SLO breach: yes; or the
/// hold rule: no).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    MaxEvents,
    MaxWall,
    FirstOutage,
    FirstSloBreach,
    FirstCallOutage,
    FirstUserOutage,
    /// The run held `experiment::held::MAX_HELD` requests at once (its memory bound).
    MaxHeld,
    /// The answer to its yes/no question was known to be no (`crate::system::hold`): the surge
    /// had passed and the site had met its SLO for `slo.stable` since, nothing pending.
    Held,
}

impl EndedBy {
    /// The command-line option that set the bound.
    pub fn option(self) -> &'static str {
        match self {
            EndedBy::MaxEvents => "--max-events",
            EndedBy::MaxWall => "--max-wall",
            EndedBy::FirstOutage => "--until outage",
            EndedBy::FirstSloBreach => "--until slo",
            EndedBy::FirstCallOutage => "--until call-outage",
            EndedBy::FirstUserOutage => "--until user-outage",
            EndedBy::MaxHeld => "the cap of 20,000,000 requests held at once",
            EndedBy::Held => "the hold rule (surge passed, SLO met for slo.stable since)",
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The summary of one replication.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Summary {
    pub model: String,
    pub seed: u64,
    /// The run stopped at a bound before its horizon: every figure covers
    /// [warmup_s, simulated_until_s) only. Absent from complete runs.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<EndedBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated_until_s: Option<f64>,
    /// The horizon simulated (the model's, or where a bound stopped the run).
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub sim_time_s: f64,
    /// Statistics cover [warmup_s, sim_time_s).
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub warmup_s: f64,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub wall_s: f64,
    pub events: u64,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub events_per_s: f64,
    /// The most events pending in the event heap at once.
    pub peak_pending_events: u64,
    /// The attempt level: every attempt, retries and refreshes included.
    pub requests: RequestCounts,
    /// The call level (`CallCounts`). Absent from a summary of an earlier surge.
    #[serde(default)]
    pub calls: CallCounts,
    /// The user level, when the model has a users source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionCounts>,
    pub latency_s: Latency,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub peak_concurrent_users: f64,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub mean_concurrent_users: f64,
    pub outage: Outage,
    /// The SLO over the measured period (`metrics::slo`).
    pub slo: SloSummary,
    pub tiers: Vec<TierSummary>,
    /// The waiting room (`metrics::room`), when the model has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<super::room::RoomSummary>,
}

/// Fields that describe the computer or the invocation (the command line names the output
/// folder), not the model: left out when comparing runs.
pub const WALL_CLOCK_FIELDS: &[&str] = &["wall_s", "events_per_s", "command_line"];

impl Criterion {
    /// Whether the run failed by this criterion.
    pub fn failed(self, s: &Summary) -> bool {
        match self {
            Criterion::Outage => s.outage.crashed,
            Criterion::Slo => s.slo.broken,
            Criterion::CallOutage => s.calls.outage.crashed,
            Criterion::UserOutage => s.sessions.as_ref().is_some_and(|u| u.outage.crashed),
        }
    }
}
