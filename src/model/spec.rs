//! The checked model: what the simulator runs, every default applied and every value checked
//! (`load` and `build` make it from the file). Times are in seconds, sizes in bytes. This file
//! holds the types and the little arithmetic they carry (the surge's factor, a profile's value);
//! it reads nothing.

use super::client_policies::{Breaker, RetryRatio, Throttle};
use super::dist::Dist;
use super::schema::{Action, Backoff, Balancer, Discipline, Jitter, Population, SourceKind};
use super::trace::Trace;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// Clock time of t = 0, seconds after midnight.
    pub start_clock_s: Option<f64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub seed: u64,
    pub bucket_s: f64,
}

/// The surge multiplier: 1 before `start_s`, up to `peak` over `ramp_s`, held for `hold_s`, back
/// to 1 over `decay_s`.
#[derive(Debug, Clone, Copy)]
pub struct Surge {
    pub peak: f64,
    pub start_s: f64,
    pub ramp_s: f64,
    pub hold_s: f64,
    pub decay_s: f64,
}

impl Surge {
    /// The multiplier at time `t` (seconds).
    pub fn factor(&self, t: f64) -> f64 {
        let p = self.peak;
        let t1 = self.start_s;
        let t2 = t1 + self.ramp_s;
        let t3 = t2 + self.hold_s;
        let t4 = t3 + self.decay_s;
        if t < t1 {
            1.0
        } else if t < t2 {
            1.0 + (p - 1.0) * (t - t1) / self.ramp_s
        } else if t < t3 {
            p
        } else if t < t4 {
            p + (1.0 - p) * (t - t3) / self.decay_s
        } else {
            1.0
        }
    }

    /// Times where the multiplier changes slope.
    pub fn breakpoints(&self) -> [f64; 4] {
        let t2 = self.start_s + self.ramp_s;
        let t3 = t2 + self.hold_s;
        [self.start_s, t2, t3, t3 + self.decay_s]
    }
}

/// A piecewise-linear factor over time; flat before the first and after the last point.
#[derive(Debug, Clone)]
pub struct Profile {
    pub points: Vec<(f64, f64)>,
}

impl Profile {
    pub fn flat() -> Profile {
        Profile {
            points: vec![(0.0, 1.0)],
        }
    }

    pub fn at(&self, t: f64) -> f64 {
        let p = &self.points;
        if t <= p[0].0 {
            return p[0].1;
        }
        for w in p.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t < t1 {
                return if t1 > t0 {
                    v0 + (v1 - v0) * (t - t0) / (t1 - t0)
                } else {
                    v1
                };
            }
        }
        p[p.len() - 1].1
    }

    pub fn is_flat(&self) -> bool {
        self.points.windows(2).all(|w| w[0].1 == w[1].1)
    }
}

/// Automatic retries of a requests source.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub base_s: f64,
    pub cap_s: f64,
    pub jitter: Jitter,
    /// Retry token bucket: each success earns `budget` tokens, each retry spends one.
    pub budget: Option<f64>,
    /// The ratio retry budget (`budget_kind = "ratio"`), instead of the token bucket.
    pub ratio_budget: Option<RetryRatio>,
}

/// How clients behave when the site is slow or failing. Every part is off by default.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// A response not back by then counts as timed out; the server may keep working on it.
    pub timeout_s: Option<f64>,
    /// A client whose request is still waiting for a thread after this long abandons it.
    pub patience: Option<Dist>,
    /// Probability that a user who saw an error or a timeout asks for the page again.
    pub refresh: f64,
    pub refresh_after: Option<Dist>,
    /// Consecutive failures after which a user leaves.
    pub give_up_after: Option<u32>,
    /// Probability that a user who left after failures comes back later, and when.
    pub return_probability: f64,
    pub return_after: Option<Dist>,
    pub retry: Option<Retry>,
    /// A circuit breaker in front of every attempt (one per source).
    pub breaker: Option<Breaker>,
    /// Client-side adaptive throttling of every attempt (one per source).
    pub throttle: Option<Throttle>,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    /// Baseline requests per second (`requests`) or concurrent users (`users`); for a trace,
    /// its mean rate over the horizon.
    pub baseline: f64,
    /// Open (sessions arrive) or closed (a pool of users held at the target); `Open` for the
    /// other kinds.
    pub population: Population,
    pub profile: Profile,
    /// Pages per session (users).
    pub pages: Option<Dist>,
    /// Think time between pages, seconds (users).
    pub think: Option<Dist>,
    /// The recorded arrivals of a trace source.
    pub trace: Option<Trace>,
    pub client: Client,
    /// This source's own edge rate limit (`[source.rate_limit]`).
    pub rate_limit: Option<super::RateLimit>,
}

/// Crash recovery of an instance.
#[derive(Debug, Clone, Copy)]
pub struct Restart {
    pub after_s: f64,
    /// Service slower by this factor right after a restart, decaying linearly to 1 over
    /// `cold_warmup_s`.
    pub cold_factor: f64,
    pub cold_warmup_s: f64,
    /// More crashes than this within `window_s` stop the instance until an operator restarts
    /// it (rapid-fail protection); `None` restarts for ever.
    pub max_crashes: Option<u32>,
    pub window_s: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct HealthCheck {
    pub interval_s: f64,
    pub timeout_s: f64,
    pub unhealthy_after: u32,
    pub healthy_after: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Autoscale {
    pub target_utilization: f64,
    pub max_instances: u32,
    pub provision_s: f64,
    pub cooldown_s: f64,
    /// Scaling in, when `scale_in_below` is set.
    pub scale_in: Option<super::tier_policies::ScaleIn>,
}

/// People on call and what they do once an outage is noticed.
#[derive(Debug, Clone)]
pub struct Operator {
    pub detect_s: f64,
    pub action: Action,
    pub instances: u32,
    pub delay_s: f64,
    /// Tier index acted on; `None` is every tier (restart) or the first (add_instances).
    pub tier: Option<usize>,
    pub fraction: f64,
    /// How long shed_load lasts (default 1 h; a repeated action extends it).
    pub duration_s: f64,
}

#[derive(Debug, Clone)]
pub struct Tier {
    pub name: String,
    pub instances: u32,
    pub threads: u32,
    /// Waiting places per instance beyond the busy threads; `None` is unbounded.
    pub queue: Option<u32>,
    pub discipline: Discipline,
    /// CoDel's settings, when the discipline is CoDel.
    pub codel: Option<Codel>,
    pub service: Dist,
    pub contention: f64,
    pub visit: f64,
    /// Share of the requests served here that fail at the end of their service (`errors`).
    pub errors: f64,
    pub balancer: Balancer,
    pub memory_base: f64,
    pub memory_per_request: f64,
    /// The instance crashes when its memory passes this many bytes.
    pub memory_limit: Option<f64>,
    pub request_timeout_s: Option<f64>,
    /// A request turned away by a full queue reaches its client this long after (`None`: at once).
    pub refused_after_s: Option<f64>,
    pub restart: Restart,
    pub health_check: Option<HealthCheck>,
    pub autoscale: Option<Autoscale>,
    pub concurrency_limit: Option<super::tier_policies::ConcurrencyLimit>,
    pub outlier_detection: Option<super::tier_policies::OutlierDetection>,
    /// The connection pool each instance holds to the next tier a request visits.
    pub pool: Option<super::Pool>,
    /// How it retries the tier it calls (`[tier.retry]`).
    pub retry: Option<super::TierRetry>,
    pub cost_per_instance_hour: Option<f64>,
    /// Price of one thread of one instance for one hour (`surge optimize`).
    pub cost_per_thread_hour: Option<f64>,
}

/// Controlled delay (Nichols and Jacobson's CoDel, as servers use it): a waiting request is
/// dropped when a thread would take it if it waited longer than `target_s` while the queue has
/// been non-empty for over `interval_s` (a standing queue), or longer than `interval_s` otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Codel {
    pub target_s: f64,
    pub interval_s: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct Slo {
    pub success_rate: f64,
    pub latency_s: f64,
    pub window_s: f64,
    pub outage_below: f64,
    pub stable_s: f64,
}

/// A checked model with every default applied.
#[derive(Debug, Clone)]
pub struct Model {
    /// The file as the user named it (for messages).
    pub file: String,
    pub scenario: Scenario,
    pub surge: Surge,
    pub sources: Vec<Source>,
    pub tiers: Vec<Tier>,
    pub slo: Slo,
    pub operators: Vec<Operator>,
    /// The site-wide waiting room in front of the users sources, if any.
    pub waiting_room: Option<super::waiting_room::WaitingRoom>,
    /// The edge rate limit on every source together (`[rate_limit]`).
    pub rate_limit: Option<super::RateLimit>,
    /// `[cost]`: prices per unit-hour of numeric keys, by key path (`surge optimize`).
    pub prices: Vec<Price>,
    /// The model declares a site-wide `[client.retry]` (which a users source drops: `warnings`).
    pub(crate) client_retry: bool,
    /// The effective model text (after `--set`) in canonical form (`canonical`): what a sweep's
    /// fingerprint hashes.
    pub canonical: String,
}

/// One `[cost]` entry: a key path, its price per unit-hour, and the value the key has here
/// (`cost` reads and checks them; it names this file, never the other way round).
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub key: String,
    pub per_unit_hour: f64,
    pub value: f64,
}

impl Model {
    /// Mean time a request spends in service along the tiers when nothing queues, seconds.
    pub fn nominal_response_s(&self) -> f64 {
        self.tiers.iter().map(|t| t.visit * t.service.mean()).sum()
    }

    /// Mean length of a user session at nominal speed: pages x (response + think), seconds.
    pub fn session_length_s(&self, source: &Source) -> f64 {
        let pages = source.pages.as_ref().map_or(1.0, Dist::mean);
        let think = source.think.as_ref().map_or(0.0, Dist::mean);
        pages * (self.nominal_response_s() + think)
    }

    /// Number of time-series buckets.
    pub fn buckets(&self) -> usize {
        (self.scenario.duration_s / self.scenario.bucket_s)
            .ceil()
            .max(1.0) as usize
    }
}
