//! The simulated site: traffic sources (open request streams and user sessions), the clients
//! behind them (timeouts, patience, refreshes, retries, coming back later), the tiers a request
//! walks through in order (a thread held in each while later tiers work), the instances of each
//! tier with their threads, bounded queues, memory and crashes, health checks and the balancer
//! in front of them, autoscaling, and the operators who act once an outage is noticed.
//!
//! Server-side work is an *attempt*: what holds threads and queue places. A client may give up
//! on an attempt (timeout) while the server keeps working on it: the outcome is recorded when
//! the client leaves, the thread is freed only when the server is done (wasted work).
//!
//! `World` owns all entity state in arenas indexed by `u32` (attempts, calls, users) and reports
//! to a `metrics::Collector`; the engine's `Calendar` orders its events. Events that may become
//! stale (a timeout for an attempt that already ended) carry the attempt's generation and are
//! ignored when they no longer match: lazy cancellation, no search in the event set.
//!
//! One file per concern: `events` (what can happen, and who handles it), `users` (sources,
//! sessions and the pools of waiting users), `attempts` (a request on the server side),
//! `client` (what a client does after an outcome, retries and backoff), `crashes` (crashes,
//! restarts, health checks), `operators` (operators' actions and the autoscaler), `observe`
//! (bucket ends and the end of the run), `tier` (instances and balancers) and `arrivals`
//! (arrival times); a tier's policies: `concurrency_limit` (adaptive limits), `outlier` (the
//! balancer's outlier detection), `scale_in` (scaling in and instance-hours) and
//! `tier_policies` (where attempts meet them). This file holds the world's state and sets it up.

pub mod arrivals;
mod attempts;
pub mod client;
mod concurrency_limit;
mod crashes;
mod events;
mod observe;
mod operators;
mod outlier;
mod scale_in;
pub mod tier;
mod tier_policies;
mod users;

use crate::engine::rng::stream;
use crate::engine::{Calendar, Stream, Time};
use crate::metrics::Collector;
use crate::model::{Model, SourceKind};
use arrivals::Arrivals;
use attempts::{Attempt, Slot};
use client::Call;
pub use events::Event;
pub use observe::Until;
use operators::Watch;
use tier::TierState;
pub use users::PoolKind;
use users::{Pool, SourceState, User};

const NONE: u32 = u32::MAX;
/// A delay line the model does not use.
const NO_LINE: usize = usize::MAX;

/// Tokens a retry budget can bank.
const TOKEN_CAP: f64 = 10.0;

/// The simulated site during one replication.
pub struct World<'m> {
    model: &'m Model,
    horizon: Time,
    sources: Vec<SourceState>,
    tiers: Vec<TierState>,
    n_tiers: usize,
    attempts: Vec<Attempt>,
    slots: Vec<Slot>,
    free_attempts: Vec<u32>,
    calls: Vec<Call>,
    free_calls: Vec<u32>,
    users: Vec<User>,
    free_users: Vec<u32>,
    rng_route: Stream,
    rng_users: Stream,
    rng_client: Stream,
    bucket_start: Time,
    finished: bool,
    shed_fraction: f64,
    shed_until: Time,
    watch: Watch,
    /// Calendar slot of each source's next arrival (request or session).
    arrival_slot: Vec<usize>,
    /// Waiting attempts CoDel turns away, as (attempt, generation, tier).
    late: Vec<(u32, u32, u8)>,
    /// Delay lines of the calendar: client timeouts per source, server and probe timeouts per
    /// tier (each a fixed delay, so their events fire in the order they were scheduled); only
    /// the ones a model uses exist (`NO_LINE` otherwise).
    line_client: Vec<usize>,
    line_server: Vec<usize>,
    line_probe: Vec<usize>,
    /// End the run as soon as this question is answered with yes (see `Until`).
    until: Option<Until>,
    /// Where the run ended because `until` was answered.
    answered_at: Option<Time>,
    /// Attempts the server finished after their client had left.
    pub wasted: u64,
    pub metrics: Collector,
}

/// Random stream ids: sources 0.., tiers 1000.., the rest fixed.
const STREAM_ROUTE: u64 = 900;
const STREAM_USERS: u64 = 901;
const STREAM_CLIENT: u64 = 902;
const STREAM_TIER: u64 = 1000;
/// Concurrency limiters of tiers: 2000.. (only Vegas draws from its stream).
const STREAM_LIMIT: u64 = 2000;

impl<'m> World<'m> {
    pub fn new(model: &'m Model, seed: u64) -> World<'m> {
        let sc = &model.scenario;
        let sources = model
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let per_s = match s.kind {
                    SourceKind::Requests | SourceKind::Trace => s.baseline,
                    // Sessions begin at users / E[session length] (Little's law).
                    SourceKind::Users => s.baseline / model.session_length_s(s),
                };
                SourceState {
                    kind: s.kind,
                    arrivals: match &s.trace {
                        Some(trace) => Arrivals::replay(trace),
                        None => Arrivals::new(per_s, &s.profile, &model.surge),
                    },
                    rng: stream(seed, i as u64),
                    pages: s.pages.clone(),
                    think: s.think.clone(),
                    tokens: TOKEN_CAP,
                    thinking: Pool::for_dist(s.think.as_ref()),
                    refreshing: Pool::for_dist(s.client.refresh_after.as_ref()),
                    returning: Pool::for_dist(s.client.return_after.as_ref()),
                }
            })
            .collect();
        let tiers: Vec<TierState> = model
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut state = TierState::new(t, stream(seed, STREAM_TIER + i as u64));
                state.limiter = t.concurrency_limit.map(|c| {
                    concurrency_limit::TierLimiter::new(c, stream(seed, STREAM_LIMIT + i as u64))
                });
                state
            })
            .collect();
        let info: Vec<(String, u32, u32)> = model
            .tiers
            .iter()
            .map(|t| (t.name.clone(), t.threads, t.instances))
            .collect();
        let metrics = Collector::new(
            sc.bucket_s,
            sc.warmup_s,
            model.slo.window_s,
            sc.start_clock_s,
            &info,
        );
        World {
            model,
            horizon: Time::from_secs(sc.duration_s),
            sources,
            n_tiers: tiers.len(),
            tiers,
            attempts: Vec::new(),
            slots: Vec::new(),
            free_attempts: Vec::new(),
            calls: Vec::new(),
            free_calls: Vec::new(),
            users: Vec::new(),
            free_users: Vec::new(),
            rng_route: stream(seed, STREAM_ROUTE),
            rng_users: stream(seed, STREAM_USERS),
            rng_client: stream(seed, STREAM_CLIENT),
            bucket_start: Time::ZERO,
            finished: false,
            shed_fraction: 0.0,
            shed_until: Time::ZERO,
            watch: Watch {
                next_look: vec![None; model.operators.len()],
                ..Watch::default()
            },
            arrival_slot: Vec::new(),
            late: Vec::new(),
            line_client: Vec::new(),
            line_server: Vec::new(),
            line_probe: Vec::new(),
            until: None,
            answered_at: None,
            wasted: 0,
            metrics,
        }
    }

    pub fn horizon(&self) -> Time {
        self.horizon
    }

    /// End the run at the first bucket end where `until` is answered with yes (set before
    /// `start`).
    pub fn stop_when(&mut self, until: Option<Until>) {
        self.until = until;
    }

    /// Where the run ended because its `until` question was answered, if it did.
    pub fn answered_at(&self) -> Option<Time> {
        self.answered_at
    }

    /// True once the last bucket has been closed at the horizon.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Schedule the first events. Users sources start warm: as many users as the model puts on
    /// the site at t = 0, each about to ask for a page after a think time (exactly the stationary
    /// state when think times are exponential and pages geometric).
    pub fn start(&mut self, cal: &mut Calendar<Event>) {
        let mut line_if = |used: bool| if used { cal.add_line() } else { NO_LINE };
        self.line_client = (self.model.sources.iter())
            .map(|s| line_if(s.client.timeout_s.is_some()))
            .collect();
        self.line_server = (self.tiers.iter())
            .map(|t| line_if(t.request_timeout_s.is_some()))
            .collect();
        self.line_probe = (self.tiers.iter())
            .map(|t| line_if(t.health_check.is_some()))
            .collect();
        self.arrival_slot = (0..self.sources.len()).map(|_| cal.add_slot()).collect();
        for i in 0..self.sources.len() {
            self.schedule_next(i as u16, cal);
            if self.sources[i].kind == SourceKind::Users {
                let s = &self.model.sources[i];
                let n =
                    (s.baseline * s.profile.at(0.0) * self.model.surge.factor(0.0)).round() as u64;
                for _ in 0..n {
                    let src = &self.sources[i];
                    let pages = src
                        .pages
                        .as_ref()
                        .map_or(1.0, |d| d.sample(&mut self.rng_users));
                    let user = self.new_user(i as u16, pages);
                    self.metrics.users.add(Time::ZERO, 1.0);
                    self.wait_then_page(Time::ZERO, user, PoolKind::Thinking, cal);
                }
            }
        }
        for (t, tier) in self.tiers.iter().enumerate() {
            if let Some(hc) = tier.health_check {
                let n = tier.instances.len();
                for i in 0..n {
                    // Stagger the probes of the instances over one interval.
                    let at = hc.interval_s * (i as f64 + 1.0) / n as f64;
                    cal.schedule(
                        Time::from_secs(at),
                        Event::Probe {
                            tier: t as u8,
                            instance: i as u32,
                        },
                    );
                }
            }
        }
        let warmup = self.metrics.warmup();
        if warmup > Time::ZERO {
            cal.schedule(warmup, Event::Warmup);
        }
        cal.schedule(self.metrics.bucket().min(self.horizon), Event::Bucket);
    }

    /// Attempts still in the system.
    pub fn in_flight(&self) -> usize {
        self.attempts.len() - self.free_attempts.len()
    }
}
