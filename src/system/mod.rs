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
//! Random numbers: one stream per part and per purpose, named by (part kind, index, purpose)
//! and the replication's seed (`crate::engine::rng::substream`; all listed in `streams`). Each
//! source has its own streams for arrival times, session lengths, think times, refreshes,
//! returns, patience, retry jitter and load shedding; each tier for service times, visits and
//! its balancer. No
//! stream is shared between parts or purposes, and none depends on how many parts there are,
//! so changing one tier (its instances, threads, queue) leaves every other stream where it
//! was: the arrivals of two runs that differ only in capacity are the same, draw for draw, and
//! a comparison between them is paired (common random numbers). Draws that depend on what
//! happened (a refresh after an error) stay in step only as far as the runs do.
//!
//! One file per concern: `events` (what can happen, and who handles it), `users` (sources,
//! sessions and the pools of waiting users), `attempts` (a request on the server side),
//! `client` (what a client does after an outcome, retries and backoff), `crashes` (crashes,
//! restarts, health checks), `operators` (operators' actions and the autoscaler), `observe`
//! (bucket ends and the end of the run), `tier` (instances and balancers), `arrivals`
//! (arrival times), `users/population` (a closed users source, held at its target), `bulk`
//! (refused users advanced as a group while no instance is in rotation), `clocks` (the
//! clients' timeouts), `hold` (the hold rule: a yes/no run stopped once it cannot fail),
//! `window` (the per-second sliding window the client policies count in) and
//! `waiting_room` (the room in front of the users sources), `rate_limit` (the edge's token
//! buckets), `pool` (connection pools between tiers), `hop_retry` (a tier's retries of the tier it
//! calls); the clients'
//! policies: `breaker`, `throttle`, `retry_budget` (`client_policies` where attempts meet
//! them); a tier's policies: `concurrency_limit` (adaptive limits), `outlier` (the balancer's
//! outlier detection), `scale_in` (scaling in and instance-hours) and `tier_policies` (where
//! attempts meet them); `shortcuts` (the features a model leaves out, which the request path
//! then skips). This file holds the world's state and sets it up.

pub(crate) mod arrivals;
mod attempts;
pub(crate) mod breaker;
mod bulk;
pub(crate) mod client;
mod client_policies;
mod clocks;
mod concurrency_limit;
mod crashes;
mod events;
mod hold;
mod hop_retry;
mod observe;
mod operators;
mod outlier;
mod pool;
mod rate_limit;
pub(crate) mod retry_budget;
mod scale_in;
mod shortcuts;
mod stamp;
mod streams;
pub(crate) mod throttle;
pub(crate) mod tier;
mod tier_policies;
mod users;
mod waiting_room;
pub(crate) mod window;

use crate::engine::{Calendar, Time};
use crate::metrics::Collector;
use crate::model::{Model, SourceKind};
use attempts::{Attempt, Slot};
use client::Call;
use client_policies::ClientPolicies;
pub(crate) use events::{Event, PoolKind};
pub use observe::Until;
use operators::Watch;
use streams::TierUse;
use tier::TierState;
use users::{SourceState, User};
use waiting_room::Room;

const NONE: u32 = u32::MAX;
/// A delay line the model does not use.
const NO_LINE: usize = usize::MAX;

/// Tokens a retry budget can bank.
const TOKEN_CAP: f64 = 10.0;

/// The simulated site during one replication.
pub(crate) struct World<'m> {
    model: &'m Model,
    horizon: Time,
    sources: Vec<SourceState>,
    /// Each source's circuit breaker, throttle and ratio retry budget (`client_policies`).
    policies: Vec<ClientPolicies>,
    tiers: Vec<TierState<'m>>,
    n_tiers: usize,
    attempts: Vec<Attempt>,
    slots: Vec<Slot>,
    free_attempts: Vec<u32>,
    calls: Vec<Call>,
    free_calls: Vec<u32>,
    users: Vec<User>,
    free_users: Vec<u32>,
    bucket_start: Time,
    finished: bool,
    shed_fraction: f64,
    shed_until: Time,
    watch: Watch,
    /// Calendar slot of each source's next arrival (request or session).
    arrival_slot: Vec<usize>,
    /// Waiting attempts CoDel turns away, as (attempt, generation, tier).
    late: Vec<(stamp::Stamp, u8)>,
    /// Client timeouts, per source (see `clocks`).
    clocks: Vec<clocks::Clocks>,
    /// Delay lines of the calendar: server and probe timeouts per tier (each a fixed delay, so
    /// their events fire in the order they were scheduled); only the ones a model uses exist
    /// (`NO_LINE` otherwise).
    line_server: Vec<usize>,
    line_probe: Vec<usize>,
    /// End the run as soon as this question is answered with yes (see `Until`).
    until: Option<Until>,
    /// Where the run ended because `until` was answered.
    answered_at: Option<Time>,
    /// The hold rule (`hold`), when the run may be decided "no" before its horizon.
    hold: Option<hold::Hold>,
    /// The answer found at `answered_at`: yes (`until` happened) or no (the hold rule).
    answered_yes: bool,
    /// Retries and returns scheduled one by one (not in a pool), for the hold rule.
    scheduled_back: u64,
    /// The waiting room, when the model has one.
    room: Option<Room>,
    /// Features of the request path the model leaves out (`shortcuts`).
    shortcuts: shortcuts::Shortcuts,
    /// Users refused at once, advanced as a group (`bulk`).
    group: bulk::Group,
    /// Attempts the server finished after their client had left.
    pub wasted: u64,
    /// The edge rate limits (`rate_limit`).
    edge: rate_limit::EdgeLimits,
    /// Each tier's connection pools to the tier it calls, when it has them (`pool`).
    pools: Vec<Option<pool::TierPool>>,
    /// Connections freed while a hand-over was under way, as (tier, instance) (`pool`).
    handoffs: Vec<(u8, u32)>,
    handing_off: bool,
    /// The requests sources pass the waiting room too (`waiting_room`).
    room_requests: bool,
    /// Tests only: send every attempt through the arena and the balancer, even when the first
    /// tier has no instance in rotation (`attempts::offer`'s shortcut off), to compare the two.
    #[cfg(test)]
    one_by_one: bool,
    pub metrics: Collector,
}

impl<'m> World<'m> {
    pub(crate) fn new(model: &'m Model, seed: u64) -> World<'m> {
        let sc = &model.scenario;
        let sources: Vec<SourceState> = (0..model.sources.len())
            .map(|i| SourceState::new(model, i, seed))
            .collect();
        let tiers: Vec<TierState<'m>> = model
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let rng = |purpose: TierUse| streams::tier(seed, i, purpose);
                let (service, visit) = (rng(TierUse::Service), rng(TierUse::Visit));
                let mut state = TierState::new(t, [service, visit, rng(TierUse::Balancer)]);
                state.limiter = (t.concurrency_limit)
                    .map(|c| concurrency_limit::TierLimiter::new(c, rng(TierUse::Limit)));
                state.rng_errors = (t.errors > 0.0).then(|| rng(TierUse::Errors));
                state.retrying = (t.retry.as_ref())
                    .map(|r| hop_retry::TierRetrying::new(r, rng(TierUse::Retry)));
                state
            })
            .collect();
        let info: Vec<(String, u32, u32)> = model
            .tiers
            .iter()
            .map(|t| (t.name.clone(), t.threads, t.instances))
            .collect();
        let policies = (model.sources.iter().enumerate())
            .map(|(i, s)| ClientPolicies::new(s, i, seed))
            .collect();
        let mut metrics = Collector::new(
            sc.bucket_s,
            sc.warmup_s,
            model.slo.window_s,
            sc.start_clock_s,
            &info,
        );
        let room = (model.waiting_room.as_ref()).map(|r| Room::new(r, streams::room(seed)));
        if room.is_some() {
            metrics.with_room();
        }
        let any = |f: fn(&crate::model::Client) -> bool| model.sources.iter().any(|s| f(&s.client));
        metrics.series.has_breaker = any(|c| c.breaker.is_some());
        metrics.series.has_throttle = any(|c| c.throttle.is_some());
        metrics.series.has_rate_limit =
            model.rate_limit.is_some() || model.sources.iter().any(|s| s.rate_limit.is_some());
        metrics.series.has_users = (model.sources.iter()).any(|s| s.kind == SourceKind::Users);
        let group = bulk::Group::new(model, &sources);
        World {
            model,
            horizon: Time::from_secs(sc.duration_s),
            sources,
            policies,
            n_tiers: tiers.len(),
            tiers,
            attempts: Vec::new(),
            slots: Vec::new(),
            free_attempts: Vec::new(),
            calls: Vec::new(),
            free_calls: Vec::new(),
            users: Vec::new(),
            free_users: Vec::new(),
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
            clocks: (model.sources.iter())
                .map(|_| clocks::Clocks::default())
                .collect(),
            line_server: Vec::new(),
            line_probe: Vec::new(),
            until: None,
            answered_at: None,
            hold: None,
            answered_yes: false,
            scheduled_back: 0,
            room,
            shortcuts: shortcuts::Shortcuts::of(model),
            group,
            wasted: 0,
            edge: rate_limit::EdgeLimits::new(model),
            pools: (model.tiers.iter())
                .map(|t| t.pool.map(|p| pool::TierPool::new(p, t.instances)))
                .collect(),
            handoffs: Vec::new(),
            handing_off: false,
            room_requests: model.waiting_room.as_ref().is_some_and(|r| r.requests),
            #[cfg(test)]
            one_by_one: false,
            metrics,
        }
    }

    pub(crate) fn horizon(&self) -> Time {
        self.horizon
    }

    /// End the run at the first bucket end where `until` is answered with yes, or, with
    /// `hold`, where the hold rule answers it with no (`hold`; set before `start`).
    pub(crate) fn stop_when(&mut self, until: Option<Until>, hold: bool) {
        self.until = until;
        if let Some(u) = until.filter(|_| hold) {
            self.hold_when(u);
        }
    }

    /// The hold rule alone for `until` (set before `start`): the run stops where it decides the
    /// answer is no, and runs on at a yes.
    pub(crate) fn hold_alone(&mut self, until: Until) {
        self.hold_when(until);
    }

    /// Where the run ended because its `until` question was answered, if it did, and the
    /// answer: yes (it failed) or no (the hold rule decided it).
    pub(crate) fn answered_at(&self) -> Option<(Time, bool)> {
        self.answered_at.map(|t| (t, self.answered_yes))
    }

    /// True once the last bucket has been closed at the horizon.
    pub(crate) fn finished(&self) -> bool {
        self.finished
    }

    /// Schedule the first events. Users sources start warm: as many users as the model puts on
    /// the site at t = 0, each about to ask for a page after a think time (exactly the stationary
    /// state when think times are exponential and pages geometric). A closed source has no
    /// arrivals: its slot holds the next change of its target instead (`population`).
    pub(crate) fn start(&mut self, cal: &mut Calendar<Event>) {
        let mut line_if = |used: bool| if used { cal.add_line() } else { NO_LINE };
        self.line_server = (self.tiers.iter())
            .map(|t| line_if(t.spec.request_timeout_s.is_some()))
            .collect();
        self.line_probe = (self.tiers.iter())
            .map(|t| line_if(t.spec.health_check.is_some()))
            .collect();
        self.arrival_slot = (0..self.sources.len()).map(|_| cal.add_slot()).collect();
        if let Some(room) = &mut self.room {
            room.attach(cal);
        }
        for i in 0..self.sources.len() {
            let closed = self.sources[i].closed.is_some();
            if !closed {
                self.schedule_next(i as u16, cal);
            }
            if self.sources[i].kind == SourceKind::Users {
                let s = &self.model.sources[i];
                let n =
                    (s.baseline * s.profile.at(0.0) * self.model.surge.factor(0.0)).round() as u64;
                for _ in 0..n {
                    let src = &mut self.sources[i];
                    let pages =
                        (src.pages.as_ref()).map_or(1.0, |d| d.sample(&mut src.rng_sessions));
                    let user = self.new_user(i as u16, pages);
                    if self.room.is_some() {
                        self.room_start_user(user, cal);
                        continue;
                    }
                    self.metrics.users.add(Time::ZERO, 1.0);
                    self.wait_then_page(Time::ZERO, user, PoolKind::Thinking, cal);
                }
                if closed {
                    self.start_closed(i as u16, n, cal);
                }
            }
        }
        if self.metrics.counts(Time::ZERO) {
            // No warm-up: the measured period starts with the users placed above.
            self.room_start_counting(Time::ZERO);
            self.pools_start_counting(Time::ZERO);
        }
        for (t, tier) in self.tiers.iter().enumerate() {
            if let Some(hc) = tier.spec.health_check {
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
        // A bucket's end comes before any event at the same instant, which belongs to the next
        // bucket ([start, end)).
        cal.schedule_first(self.metrics.bucket().min(self.horizon), Event::Bucket);
    }

    /// Attempts still in the system.
    pub(crate) fn in_flight(&self) -> usize {
        self.attempts.len() - self.free_attempts.len()
    }
}

/// Tests: run a world from its start to its horizon (or its stop condition).
#[cfg(test)]
pub(super) fn run_to_end(w: &mut World<'_>) {
    let mut cal = Calendar::new();
    w.start(&mut cal);
    while let Some((now, ev)) = cal.pop() {
        w.handle(now, ev, &mut cal);
        if w.finished() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Stream;
    use rand::Rng;
    use std::path::Path;

    fn model(instances: u32, tiers: usize) -> Model {
        let mut text = String::from(
            "[scenario]\nduration = \"1m\"\n[[source]]\nkind = \"users\"\nusers = 10\n\
             pages = { dist = \"geometric\", mean = 3 }\n\
             think = { dist = \"exponential\", mean = \"5s\" }\n\
             [[source]]\nkind = \"requests\"\nrate = 5\n",
        );
        for t in 0..tiers {
            text.push_str(&format!(
                "[[tier]]\nname = \"t{t}\"\ninstances = {instances}\nthreads = 4\n\
                 balancer = \"random\"\nservice = {{ dist = \"exponential\", mean = \"10ms\" }}\n"
            ));
        }
        crate::model::parse_text(&text, "m.toml", Path::new(".")).unwrap()
    }

    /// A night where the first tier leaves the rotation one second in and never comes back
    /// (every health-check probe outlasts its timeout), for `balancer`.
    fn dead_tier(balancer: &str) -> Model {
        let text = format!(
            "[scenario]\nduration = \"20m\"\nwarmup = \"1m\"\n[[source]]\nkind = \"users\"\n\
             users = 300\npages = {{ dist = \"geometric\", mean = 4 }}\n\
             think = {{ dist = \"exponential\", mean = \"5s\" }}\n\
             [[source]]\nkind = \"requests\"\nrate = 20\n\
             [[tier]]\nname = \"web\"\ninstances = 3\nthreads = 400\nbalancer = \"{balancer}\"\n\
             service = {{ dist = \"deterministic\", value = \"2s\" }}\n\
             [tier.health_check]\ninterval = \"1s\"\ntimeout = \"500ms\"\nunhealthy_after = 1\n\
             [[tier]]\nname = \"db\"\ninstances = 1\nthreads = 10\n\
             service = {{ dist = \"exponential\", mean = \"10ms\" }}\n\
             [client]\nrefresh = 0.8\nrefresh_after = {{ dist = \"exponential\", mean = \"3s\" }}\n\
             give_up_after = 4\nreturn = {{ probability = 0.5, after = {{ dist = \"exponential\", mean = \"1m\" }} }}\n\
             retry = {{ max_attempts = 3, backoff = \"fixed\", base = \"1s\", jitter = \"full\" }}\n"
        );
        crate::model::parse_text(&text, "dead.toml", Path::new(".")).unwrap()
    }

    /// Run `model` to its horizon, every attempt through the arena when `one_by_one`; the
    /// totals, the web tier's arrivals and refusals, and the offered series.
    fn run_dead(model: &Model, seed: u64, one_by_one: bool) -> (String, u64) {
        let mut w = World::new(model, seed);
        w.one_by_one = one_by_one;
        // The per-request shortcut against the arena: the group advance (`bulk`) off.
        w.group.on = false;
        super::run_to_end(&mut w);
        let web = &w.metrics.tiers[0];
        let out = format!(
            "{:?} arrivals {} rejected {} served {} users {:?} offered {:?}",
            w.metrics.totals,
            web.arrivals,
            web.rejected,
            web.served,
            w.metrics.users.value,
            w.metrics.series.offered,
        );
        (out, w.metrics.totals.attempts.rejected)
    }

    /// Refusals while the first tier has no instance in rotation skip the arena and the
    /// balancer: the run must be the same, draw for draw, as when each goes through them.
    #[test]
    fn refusals_with_no_instance_in_rotation_match_the_one_by_one_path() {
        for balancer in ["round_robin", "random", "least_connections", "power_of_two"] {
            let m = dead_tier(balancer);
            for seed in [1, 2] {
                let (fast, rejected) = run_dead(&m, seed, false);
                let (slow, _) = run_dead(&m, seed, true);
                assert_eq!(fast, slow, "{balancer}, seed {seed}");
                // The tier was dead for most of the run: the shortcut was taken.
                assert!(rejected > 10_000, "{balancer}: {rejected} refusals");
            }
        }
    }

    #[test]
    fn streams_stay_aligned_when_capacity_changes() {
        let (a, b) = (model(2, 1), model(7, 3));
        let (wa, wb) = (World::new(&a, 5), World::new(&b, 5));
        let draw = |r: &Stream| r.clone().next_u64();
        for (sa, sb) in wa.sources.iter().zip(&wb.sources) {
            assert_eq!(draw(&sa.rng_arrivals), draw(&sb.rng_arrivals));
            assert_eq!(draw(&sa.rng_sessions), draw(&sb.rng_sessions));
            assert_eq!(draw(&sa.thinking.rng), draw(&sb.thinking.rng));
            assert_eq!(draw(&sa.rng_retry), draw(&sb.rng_retry));
        }
        let (ta, tb) = (&wa.tiers[0], &wb.tiers[0]);
        assert_eq!(draw(&ta.rng_service), draw(&tb.rng_service));
        assert_eq!(draw(&ta.rng_balancer), draw(&tb.rng_balancer));
        // Every part and purpose has a stream of its own.
        let s = &wa.sources;
        let mut firsts: Vec<u64> = s
            .iter()
            .flat_map(|s| {
                [
                    &s.rng_arrivals,
                    &s.rng_sessions,
                    &s.rng_patience,
                    &s.rng_retry,
                    &s.rng_shed,
                    &s.thinking.rng,
                    &s.refreshing.rng,
                    &s.returning.rng,
                ]
            })
            .chain(
                wb.tiers
                    .iter()
                    .flat_map(|t| [&t.rng_service, &t.rng_visit, &t.rng_balancer]),
            )
            .map(draw)
            .collect();
        let n = firsts.len();
        firsts.sort_unstable();
        firsts.dedup();
        assert_eq!(firsts.len(), n);
    }
}
