//! The model file as written: serde structs mirroring the TOML keys, one struct per table.
//! Values are checked as they are read (units, signs, ranges), so an error points at its line;
//! distributions and trace files stay as written here. `super::build` then builds them (reading
//! files relative to the model's folder), applies defaults and checks what spans several keys.

use serde::Deserialize;

use super::dist::RawDist;
use super::units::{Clock, Count, Duration, NonNegative, Places, Positive, Probability, Size};

/// Keys whose values are whole numbers (a sweep or crash-point search tries only whole values).
pub const COUNT_KEYS: &[&str] = &[
    "instances",
    "threads",
    "queue",
    "max_crashes",
    "max_attempts",
    "give_up_after",
    "unhealthy_after",
    "healthy_after",
    "max_instances",
    "k",
    "min_requests",
    "half_open_requests",
    "min_instances",
    "initial_limit",
    "min_limit",
    "max_limit",
    "consecutive_5xx",
    "max_ejection_percent",
    "connections",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    pub scenario: RawScenario,
    pub surge: Option<RawSurge>,
    #[serde(default, rename = "source")]
    pub sources: Vec<RawSource>,
    #[serde(default, rename = "tier")]
    pub tiers: Vec<RawTier>,
    pub slo: Option<RawSlo>,
    pub client: Option<RawClient>,
    #[serde(default, rename = "operator")]
    pub operators: Vec<RawOperator>,
    /// `[[variant]]`: alternatives for `surge compare`, read and checked there
    /// (`experiment::variant`); a run of the model itself ignores them.
    #[serde(default, rename = "variant")]
    #[allow(dead_code)] // read only so that the key is accepted
    pub variants: Option<serde::de::IgnoredAny>,
    pub waiting_room: Option<super::waiting_room::RawWaitingRoom>,
    /// The edge rate limit on every source together (`rate_limit`).
    pub rate_limit: Option<super::rate_limit::RawRateLimit>,
    /// `[cost]`: a price per unit-hour of any numeric key (`surge optimize`).
    pub cost: Option<std::collections::BTreeMap<String, NonNegative>>,
}

/// Client behaviour: in `[client]` for every source, or inside a `[[source]]` to override keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClient {
    pub timeout: Option<Duration>,
    pub patience: Option<RawDist>,
    pub refresh: Option<Probability>,
    pub refresh_after: Option<RawDist>,
    pub give_up_after: Option<Count>,
    #[serde(rename = "return")]
    pub come_back: Option<RawReturn>,
    pub retry: Option<RawRetry>,
    pub breaker: Option<super::client_policies::RawBreaker>,
    pub throttle: Option<super::client_policies::RawThrottle>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReturn {
    pub probability: Probability,
    pub after: RawDist,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    None,
    Fixed,
    #[default]
    Exponential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    #[default]
    None,
    Full,
    Equal,
    Decorrelated,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetry {
    pub max_attempts: Count,
    pub backoff: Option<Backoff>,
    pub base: Option<Duration>,
    pub cap: Option<Duration>,
    pub jitter: Option<Jitter>,
    pub budget: Option<NonNegative>,
    pub budget_kind: Option<super::client_policies::BudgetKind>,
    pub ratio: Option<NonNegative>,
    pub ttl: Option<Duration>,
    pub min_per_s: Option<NonNegative>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Restart,
    AddInstances,
    ShedLoad,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOperator {
    pub detect: Option<Duration>,
    pub action: Action,
    pub instances: Option<Places>,
    pub delay: Option<Duration>,
    /// The tier acted on (default: every tier for restart, the first for add_instances).
    pub tier: Option<String>,
    /// Share of new arrivals turned away by shed_load (default 0.5).
    pub fraction: Option<Probability>,
    /// How long shed_load stays on (default 1 h).
    #[serde(rename = "for")]
    pub duration: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: Option<String>,
    pub start: Option<Clock>,
    pub duration: Duration,
    pub warmup: Option<Duration>,
    pub seed: Option<u64>,
    pub bucket: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSurge {
    pub peak: Option<Positive>,
    pub start: Option<Duration>,
    pub ramp: Option<Duration>,
    pub hold: Option<Duration>,
    pub decay: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Requests,
    Users,
    /// Arrivals replayed from a CSV file (`file`).
    Trace,
}

/// Whether a users source's users come and go as they please (`open`: sessions begin as a
/// Poisson process, so their number grows under overload) or are a fixed pool held at the
/// target (`closed`: as a load generator's threads or virtual users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Population {
    #[default]
    Open,
    Closed,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub name: Option<String>,
    pub kind: SourceKind,
    pub rate: Option<Positive>,
    pub users: Option<Positive>,
    /// Users only: `open` (the default) or `closed` (see `Population`).
    pub population: Option<Population>,
    pub profile: Option<Vec<(Duration, NonNegative)>>,
    pub pages: Option<RawDist>,
    pub think: Option<RawDist>,
    /// The CSV of a trace source, relative to the model file's folder (read by `build`).
    pub file: Option<String>,
    pub client: Option<RawClient>,
    /// This source's own edge rate limit (`rate_limit`).
    pub rate_limit: Option<super::rate_limit::RawRateLimit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Discipline {
    #[default]
    Fifo,
    Lifo,
    /// Controlled delay: a request that waited too long is dropped (503) when a thread would
    /// take it; "too long" is `codel.target` once the queue has stayed non-empty for
    /// `codel.interval`, else `codel.interval`.
    Codel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Balancer {
    #[default]
    RoundRobin,
    LeastConnections,
    Random,
    PowerOfTwo,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTier {
    pub name: Option<String>,
    pub instances: Count,
    pub threads: Count,
    pub queue: Option<Places>,
    pub discipline: Option<Discipline>,
    pub codel: Option<RawCodel>,
    pub service: RawDist,
    pub contention: Option<NonNegative>,
    pub visit: Option<Probability>,
    /// Share of the requests served here that end in an error (load-independent failures).
    pub errors: Option<Probability>,
    pub balancer: Option<Balancer>,
    pub request_timeout: Option<Duration>,
    /// A request turned away by a full queue reaches its client as a rejection this long after.
    pub refused_after: Option<Duration>,
    pub memory: Option<RawMemory>,
    pub restart: Option<RawRestart>,
    pub health_check: Option<RawHealthCheck>,
    pub autoscale: Option<RawAutoscale>,
    pub concurrency_limit: Option<super::tier_policies::RawConcurrencyLimit>,
    pub outlier_detection: Option<super::tier_policies::RawOutlierDetection>,
    /// Connections each instance holds to the tier it calls (`[tier.pool]`).
    pub pool: Option<super::pool::RawPool>,
    /// Retries of the tier it calls (`[tier.retry]`).
    pub retry: Option<RawTierRetry>,
    /// Price of one instance for one hour, any currency (summary.json's `cost`).
    pub cost_per_instance_hour: Option<NonNegative>,
    /// Price of one thread (of one instance) for one hour (`surge optimize`'s cost).
    pub cost_per_thread_hour: Option<NonNegative>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCodel {
    pub target: Option<Duration>,
    pub interval: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRestart {
    pub after: Option<Duration>,
    pub cold: Option<RawCold>,
    pub max_crashes: Option<Count>,
    pub window: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCold {
    pub factor: Positive,
    pub warmup: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHealthCheck {
    pub interval: Duration,
    pub timeout: Duration,
    pub unhealthy_after: Option<Count>,
    pub healthy_after: Option<Count>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAutoscale {
    pub target_utilization: Probability,
    pub max_instances: Count,
    pub provision: Option<Duration>,
    pub cooldown: Option<Duration>,
    pub scale_in_below: Option<Probability>,
    pub min_instances: Option<Count>,
    pub scale_in_after: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMemory {
    pub limit: Option<Size>,
    pub base: Option<Size>,
    pub per_request: Option<Size>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlo {
    pub success_rate: Option<Probability>,
    pub latency: Option<Duration>,
    pub window: Option<Duration>,
    pub outage_below: Option<Probability>,
    pub stable: Option<Duration>,
}

/// A failure of the callee, as `on` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    /// The callee turned the call away: a full queue, no instance in rotation, a concurrency
    /// limit, CoDel.
    Rejected,
    /// The callee answered with an error (`errors`), or crashed with the call in it.
    Error,
    /// The callee's `request_timeout` cut the call off, or the caller's wait for a connection
    /// of its `[tier.pool]` ran out.
    TimedOut,
}

impl RetryOn {
    pub(super) fn bit(self) -> u8 {
        match self {
            RetryOn::Rejected => 1,
            RetryOn::Error => 2,
            RetryOn::TimedOut => 4,
        }
    }
}

/// `[tier.retry]` as written (checked in `tier_retry`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTierRetry {
    pub max_attempts: Count,
    pub backoff: Option<Backoff>,
    pub base: Option<Duration>,
    pub cap: Option<Duration>,
    pub jitter: Option<Jitter>,
    pub on: Option<Vec<RetryOn>>,
    pub budget_kind: Option<super::client_policies::BudgetKind>,
    pub ratio: Option<NonNegative>,
    pub ttl: Option<Duration>,
    pub min_per_s: Option<NonNegative>,
}
