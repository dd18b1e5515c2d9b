//! The clients' overload policies as written and as checked: a circuit breaker
//! (`[client.breaker]`, Hystrix / resilience4j), adaptive throttling (`[client.throttle]`, the
//! Google SRE book's client-side throttle) and the ratio retry budget (`[client.retry]
//! budget_kind = "ratio"`, Finagle / Linkerd). Defaults are those libraries' defaults. This file
//! holds both forms; checking and defaulting them is `build_client`, what the policies do during
//! a run is in `system::breaker`, `system::throttle` and `system::retry_budget`.

use serde::Deserialize;

use super::units::{Count, Duration, Positive, Probability};

/// `[client.breaker]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBreaker {
    pub window: Option<Duration>,
    pub min_requests: Option<Count>,
    pub failure_rate: Option<Probability>,
    pub open_for: Option<Duration>,
    pub half_open_requests: Option<Count>,
}

/// `[client.throttle]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThrottle {
    pub window: Option<Duration>,
    pub k: Option<Positive>,
}

/// Which retry budget a `[client.retry]` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BudgetKind {
    /// Tokens earned by successes (`budget` per success), one spent per retry.
    #[default]
    TokenBucket,
    /// Retries at most `ratio` of the requests of the last `ttl`, plus `min_per_s` a second.
    Ratio,
}

/// A circuit breaker in front of every attempt of a source's clients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breaker {
    /// The sliding window outcomes are counted over, whole seconds.
    pub window_s: u32,
    /// Outcomes the window must hold before the failure rate can open the breaker.
    pub min_requests: u32,
    /// The breaker opens when this share of the outcomes in the window are failures.
    pub failure_rate: f64,
    /// How long it stays open before letting trial attempts through.
    pub open_for_s: f64,
    /// Trial attempts let through while half-open.
    pub half_open_requests: u32,
}

/// Client-side adaptive throttling: reject locally with probability
/// max(0, (requests - k x accepts) / (requests + 1)) over the last `window_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub window_s: u32,
    pub k: f64,
}

/// The ratio retry budget: in any `ttl_s` window, retries at most `ratio` x requests +
/// `min_per_s` x `ttl_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryRatio {
    pub ratio: f64,
    pub ttl_s: u32,
    pub min_per_s: f64,
}
