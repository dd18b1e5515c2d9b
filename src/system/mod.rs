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

pub mod arrivals;
pub mod client;
pub mod tier;

use crate::engine::rng::{open01, stream};
use crate::engine::{Calendar, Stream, Time};
use crate::metrics::{Collector, Outcome};
use crate::model::{Action, Dist, Model, SourceKind};
use arrivals::Arrivals;
use client::{Call, backoff_delay};
use rand_distr::{Distribution, Exp1};
use tier::TierState;

/// Everything that can happen. Small and `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The next request of an open source arrives.
    Arrival { source: u16 },
    /// The next user session of a users source begins.
    Session { source: u16 },
    /// A user who left after errors comes back: a new session.
    Return { source: u16 },
    /// Some member of one of a source's pools is due (see `Pool`).
    Pool { source: u16, pool: PoolKind },
    /// A user asks for the next page (after reading), asks again (refresh), or leaves.
    Page { user: u32 },
    /// An automatic retry of a requests-source call.
    Retry { call: u32 },
    /// An attempt's service at its current tier is complete.
    Done { req: u32, epoch: u32 },
    /// The client stops waiting for the attempt.
    ClientTimeout { req: u32, epoch: u32 },
    /// The client abandons the attempt if it is still waiting for a thread.
    Abandon { req: u32, epoch: u32 },
    /// The server stops working on the attempt in `tier` (request_timeout).
    ServerTimeout { req: u32, epoch: u32, tier: u8 },
    /// A crashed (or operator-restarted) instance is up again.
    Restart { tier: u8, instance: u32, epoch: u32 },
    /// The balancer's health check of an instance.
    Probe { tier: u8, instance: u32 },
    /// A health-check probe gets no answer in time.
    ProbeTimeout { req: u32, epoch: u32 },
    /// An instance ordered by the autoscaler is ready.
    Provisioned { tier: u8 },
    /// An operator carries out an action.
    Operate { operator: u16 },
    /// Load shedding ends.
    ShedEnd,
    /// A time-series bucket ends.
    Bucket,
    /// The warm-up ends: summary statistics start.
    Warmup,
}

const NONE: u32 = u32::MAX;
/// A delay line the model does not use.
const NO_LINE: usize = usize::MAX;

/// Server-side work for one request attempt (or one health-check probe).
#[derive(Debug, Clone, Copy)]
struct Attempt {
    created: Time,
    user: u32,
    call: u32,
    source: u16,
    epoch: u32,
    /// Tiers where the attempt holds a thread (bit t for tier t).
    held: u64,
    /// The tier it is in now (waiting there, or in service).
    at: u8,
    waiting: bool,
    /// The client has already given up (its outcome is recorded); the server may still work.
    client_gone: bool,
    probe: bool,
    /// In use (not on the free list).
    live: bool,
}

/// Where an attempt sits in one tier.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    instance: u32,
    enter: Time,
    /// When its service began (for the request timeout).
    started: Time,
    /// Index in the instance's list of attempts holding a thread.
    pos: u32,
}

/// A user's session state. It lives in the users arena while the user has a request in flight
/// or an event of its own, and moves by value into a pool while it waits there, so the arena
/// stays as small as the users in flight (and in cache) however many users read.
#[derive(Debug, Clone, Copy)]
struct User {
    source: u16,
    pages_left: u32,
    failures: u32,
    /// The next page request repeats a failed one.
    refreshing: bool,
}

struct SourceState {
    kind: SourceKind,
    arrivals: Arrivals,
    rng: Stream,
    pages: Option<Dist>,
    think: Option<Dist>,
    /// Retry tokens (when the client has a retry budget).
    tokens: f64,
    /// Users reading a page, when think times are exponential.
    thinking: Pool,
    /// Users about to refresh, when the refresh delay is exponential.
    refreshing: Pool,
    /// Users who will come back, when the return delay is exponential.
    returning: Pool,
}

impl SourceState {
    fn pool(&mut self, kind: PoolKind) -> &mut Pool {
        match kind {
            PoolKind::Thinking => &mut self.thinking,
            PoolKind::Refreshing => &mut self.refreshing,
            PoolKind::Returning => &mut self.returning,
        }
    }
}

/// The pools of users waiting out an exponential delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// Reading a page (think time): then the next page.
    Thinking,
    /// About to press refresh after an error: then the same page again.
    Refreshing,
    /// Gone after errors, coming back later: then a new session.
    Returning,
}

/// Users waiting for an exponential delay, held as one pool instead of one event each: with N
/// members of mean delay m, the next one leaves after Exp(N / m) and is any member with equal
/// chance, exactly as if each had its own exponential clock (memorylessness). The pool's one
/// pending event lives in a calendar slot and is redrawn in place whenever N changes, so
/// nothing stale is left behind. This keeps hundreds of thousands of reading users out of the
/// event heap.
#[derive(Debug, Clone, Default)]
struct Pool {
    /// Mean delay, seconds; 0 when the delay is not exponential (members get their own events).
    mean_s: f64,
    members: Vec<User>,
    /// Members without identity (returning users are only a count).
    count: u64,
    /// The calendar slot of the pool's next departure, once it has had members.
    slot: Option<usize>,
    /// The uniform draw that places the next newcomer, drawn one insertion ahead so the place
    /// can be fetched into cache before it is needed (it is independent of everything in
    /// between, so the place is still uniform).
    next_place: f64,
    /// A member is leaving right now: redraw the next departure once the event is handled, not
    /// at each change within it (the member often comes straight back to the same pool).
    firing: bool,
}

impl Pool {
    fn for_dist(d: Option<&Dist>) -> Pool {
        match d {
            Some(Dist::Exponential { mean }) => Pool {
                mean_s: *mean,
                ..Pool::default()
            },
            _ => Pool::default(),
        }
    }

    fn active(&self) -> bool {
        self.mean_s > 0.0
    }

    fn size(&self) -> u64 {
        self.members.len() as u64 + self.count
    }
}

/// Online view of the outage, as the operators see it at bucket ends.
#[derive(Debug, Clone, Default)]
struct Watch {
    down_since: Option<Time>,
    /// Per operator: not before this time may it act again (it acted, and gives its action one
    /// detection period to work before it looks again).
    next_look: Vec<Option<Time>>,
}

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
    /// Attempts the server finished after their client had left.
    pub wasted: u64,
    pub metrics: Collector,
}

/// Ask the processor to bring `v[i]` into cache (a hint: no effect on results).
#[inline]
fn prefetch<T>(v: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if i < v.len() {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch never faults and reads nothing the program sees; SSE is part of
        // every x86-64 processor, and the address lies inside `v`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(v[i..].as_ptr().cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, i);
}

/// Random stream ids: sources 0.., tiers 1000.., the rest fixed.
const STREAM_ROUTE: u64 = 900;
const STREAM_USERS: u64 = 901;
const STREAM_CLIENT: u64 = 902;
const STREAM_TIER: u64 = 1000;

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
            .map(|(i, t)| TierState::new(t, stream(seed, STREAM_TIER + i as u64)))
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
            wasted: 0,
            metrics,
        }
    }

    pub fn horizon(&self) -> Time {
        self.horizon
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

    /// Handle one event.
    #[inline]
    pub fn handle(&mut self, now: Time, ev: Event, cal: &mut Calendar<Event>) {
        match ev {
            Event::Arrival { source } => {
                self.schedule_next(source, cal);
                let call = if self.model.sources[source as usize].client.retry.is_some() {
                    self.new_call(source)
                } else {
                    NONE
                };
                self.offer(now, source, NONE, call, false, cal);
            }
            Event::Session { source } => {
                self.schedule_next(source, cal);
                self.begin_session(now, source, cal);
            }
            Event::Return { source } => self.begin_session(now, source, cal),
            Event::Page { user } => self.page_due(now, user, cal),
            Event::Pool { source, pool } => {
                let p = self.sources[source as usize].pool(pool);
                if p.size() == 0 {
                    return;
                }
                if pool == PoolKind::Returning {
                    p.count -= 1;
                    self.reschedule_pool(now, source, pool, cal);
                    self.begin_session(now, source, cal);
                    return;
                }
                // Members are kept in uniformly random order (see `wait_then_page`), so the
                // last one is a uniform pick, and taking it touches only hot memory.
                let u = p
                    .members
                    .pop()
                    .expect("a pool of size > 0 with no count has members");
                p.firing = true;
                let user = self.place_user(u);
                self.page_due(now, user, cal);
                self.sources[source as usize].pool(pool).firing = false;
                self.reschedule_pool(now, source, pool, cal);
            }
            Event::Retry { call } => {
                let source = self.calls[call as usize].source;
                self.offer(now, source, NONE, call, true, cal);
            }
            Event::Done { req, epoch } => {
                let a = self.attempts[req as usize];
                if a.epoch != epoch {
                    return;
                }
                if a.probe {
                    self.probe_answered(now, req, cal);
                    return;
                }
                let t = a.at as usize;
                self.advance(now, req, t + 1, cal);
                // Still holding this tier's thread while a later tier works: the request
                // timeout `serve` left out (its service ended first) now matters.
                let b = self.attempts[req as usize];
                if let (true, Some(rt)) = (
                    b.epoch == epoch && b.held & (1 << t) != 0,
                    self.tiers[t].request_timeout_s,
                ) {
                    let at = self.slots[req as usize * self.n_tiers + t]
                        .started
                        .after(rt);
                    if now < at {
                        self.schedule_server_timeout(req, epoch, t, at, cal);
                    }
                }
            }
            Event::ClientTimeout { req, epoch } => {
                let a = self.attempts[req as usize];
                if a.epoch == epoch && !a.client_gone {
                    self.attempts[req as usize].client_gone = true;
                    self.client_outcome(now, req, Outcome::TimedOut, cal);
                }
            }
            Event::Abandon { req, epoch } => {
                let a = self.attempts[req as usize];
                if a.epoch == epoch && !a.client_gone && a.waiting {
                    self.finish(now, req, Some(Outcome::TimedOut), cal);
                }
            }
            Event::ServerTimeout { req, epoch, tier } => {
                let a = self.attempts[req as usize];
                if a.epoch == epoch && a.held & (1 << tier) != 0 {
                    self.finish(now, req, Some(Outcome::Failed), cal);
                }
            }
            Event::Restart {
                tier,
                instance,
                epoch,
            } => {
                let inst = &mut self.tiers[tier as usize].instances[instance as usize];
                if inst.restart_epoch == epoch && !inst.up && !inst.stopped {
                    inst.up = true;
                    inst.restarted_at = Some(now);
                    let threads = self.tiers[tier as usize].threads;
                    self.metrics.tiers[tier as usize].instances_changed(now, threads, 1);
                }
            }
            Event::Probe { tier, instance } => self.probe(now, tier as usize, instance, cal),
            Event::ProbeTimeout { req, epoch } => {
                let a = self.attempts[req as usize];
                if a.epoch == epoch && !a.client_gone {
                    self.attempts[req as usize].client_gone = true;
                    let t = a.at as usize;
                    let i = self.slots[req as usize * self.n_tiers + t].instance;
                    self.health_result(t, i, false);
                }
            }
            Event::Provisioned { tier } => {
                let t = tier as usize;
                let i = self.tiers[t].add_instance(now);
                self.tiers[t].pending -= 1;
                let threads = self.tiers[t].threads;
                let stats = &mut self.metrics.tiers[t];
                stats.instances_changed(now, threads, 1);
                stats.in_rotation += 1;
                if let Some(hc) = self.tiers[t].health_check {
                    cal.schedule(now.after(hc.interval_s), Event::Probe { tier, instance: i });
                }
            }
            Event::Operate { operator } => self.operate(now, operator as usize, cal),
            Event::ShedEnd => {
                if now >= self.shed_until {
                    self.shed_fraction = 0.0;
                }
            }
            Event::Bucket => self.close_bucket(now, cal),
            Event::Warmup => self.metrics.start_counting(now),
        }
    }

    /// A user is due to ask for a page: the next one, a refresh, or none (it leaves).
    fn page_due(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        let u = self.users[user as usize];
        if u.pages_left == 0 {
            self.leave(now, user);
        } else {
            self.users[user as usize].refreshing = false;
            self.offer(now, u.source, user, NONE, u.refreshing, cal);
        }
    }

    /// A user starts waiting (reading, or before a refresh): in its source's pool, or with its
    /// own event when the delay is not exponential.
    fn wait_then_page(&mut self, now: Time, user: u32, kind: PoolKind, cal: &mut Calendar<Event>) {
        let source = self.users[user as usize].source;
        let src = &mut self.sources[source as usize];
        let pool = src.pool(kind);
        if pool.active() {
            // Inside-out Fisher-Yates: the newcomer takes a uniform place among the n + 1 and
            // the member there moves to the end, so the order stays a uniform permutation and
            // the member at the end is a uniform pick. (The random access here is a store the
            // processor need not wait for; a random pick at departure would be a load it must.)
            let u = self.users[user as usize];
            let n = pool.members.len();
            let j = ((pool.next_place * (n + 1) as f64) as usize).min(n);
            if j == n {
                pool.members.push(u);
            } else {
                let displaced = std::mem::replace(&mut pool.members[j], u);
                pool.members.push(displaced);
            }
            pool.next_place = open01(&mut self.rng_users);
            prefetch(&pool.members, (pool.next_place * (n + 2) as f64) as usize);
            self.free_users.push(user);
            if !pool.firing {
                self.reschedule_pool(now, source, kind, cal);
            }
        } else {
            let wait = match kind {
                PoolKind::Thinking => src
                    .think
                    .as_ref()
                    .map_or(0.0, |d| d.sample(&mut self.rng_users)),
                _ => {
                    let c = &self.model.sources[source as usize].client;
                    c.refresh_after
                        .as_ref()
                        .map_or(0.0, |d| d.sample(&mut self.rng_client))
                }
            };
            cal.schedule(now.after(wait), Event::Page { user });
        }
    }

    /// A pool changed size: its next departure is Exp(size / mean) from now, in the pool's
    /// calendar slot (which replaces the departure planned before the change).
    fn reschedule_pool(
        &mut self,
        now: Time,
        source: u16,
        kind: PoolKind,
        cal: &mut Calendar<Event>,
    ) {
        let pool = self.sources[source as usize].pool(kind);
        let slot = *pool.slot.get_or_insert_with(|| cal.add_slot());
        let n = pool.size();
        if n == 0 {
            cal.clear_slot(slot);
            return;
        }
        let e: f64 = Exp1.sample(&mut self.rng_users);
        let wait = e * pool.mean_s / n as f64;
        cal.set_slot(slot, now.after(wait), Event::Pool { source, pool: kind });
    }

    fn schedule_next(&mut self, source: u16, cal: &mut Calendar<Event>) {
        let horizon = self.horizon.secs();
        let src = &mut self.sources[source as usize];
        if let Some(t) = src.arrivals.next(&mut src.rng, horizon) {
            let ev = match src.kind {
                SourceKind::Requests | SourceKind::Trace => Event::Arrival { source },
                SourceKind::Users => Event::Session { source },
            };
            cal.set_slot(self.arrival_slot[source as usize], Time::from_secs(t), ev);
        }
    }

    fn begin_session(&mut self, now: Time, source: u16, cal: &mut Calendar<Event>) {
        let src = &mut self.sources[source as usize];
        let pages = src.pages.as_ref().map_or(1.0, |d| d.sample(&mut src.rng));
        let user = self.new_user(source, pages);
        self.metrics.users.add(now, 1.0);
        self.offer(now, source, user, NONE, false, cal);
    }

    fn new_user(&mut self, source: u16, pages: f64) -> u32 {
        // Whole pages: a fractional draw rounds up with the probability of its fraction, so the
        // mean number of pages is the distribution's.
        let whole =
            pages.floor() + f64::from(u8::from(open01(&mut self.rng_users) < pages.fract()));
        self.place_user(User {
            source,
            pages_left: whole.max(1.0) as u32,
            failures: 0,
            refreshing: false,
        })
    }

    /// Put a user into the arena (the most recently freed place first: likely in cache).
    fn place_user(&mut self, u: User) -> u32 {
        match self.free_users.pop() {
            Some(i) => {
                self.users[i as usize] = u;
                i
            }
            None => {
                self.users.push(u);
                (self.users.len() - 1) as u32
            }
        }
    }

    fn new_call(&mut self, source: u16) -> u32 {
        let c = Call {
            source,
            attempts: 0,
            last_delay_s: 0.0,
        };
        match self.free_calls.pop() {
            Some(i) => {
                self.calls[i as usize] = c;
                i
            }
            None => {
                self.calls.push(c);
                (self.calls.len() - 1) as u32
            }
        }
    }

    fn leave(&mut self, now: Time, user: u32) {
        self.metrics.users.add(now, -1.0);
        self.free_users.push(user);
    }

    fn new_attempt(&mut self, now: Time, source: u16, user: u32, call: u32, probe: bool) -> u32 {
        let mut a = Attempt {
            created: now,
            user,
            call,
            source,
            epoch: 0,
            held: 0,
            at: 0,
            waiting: false,
            client_gone: false,
            probe,
            live: true,
        };
        match self.free_attempts.pop() {
            Some(i) => {
                a.epoch = self.attempts[i as usize].epoch;
                self.attempts[i as usize] = a;
                i
            }
            None => {
                self.attempts.push(a);
                self.slots
                    .resize(self.attempts.len() * self.n_tiers, Slot::default());
                (self.attempts.len() - 1) as u32
            }
        }
    }

    /// A client sends an attempt: a user's page (or its refresh), or a call (or its retry).
    fn offer(
        &mut self,
        now: Time,
        source: u16,
        user: u32,
        call: u32,
        retry: bool,
        cal: &mut Calendar<Event>,
    ) {
        if call != NONE {
            self.calls[call as usize].attempts += 1;
        }
        let req = self.new_attempt(now, source, user, call, false);
        self.metrics.offered(now, retry);
        if self.shed_fraction > 0.0 && open01(&mut self.rng_route) < self.shed_fraction {
            self.finish(now, req, Some(Outcome::Rejected), cal);
            return;
        }
        let epoch = self.attempts[req as usize].epoch;
        self.advance(now, req, 0, cal);
        // The client's clocks start now, but only an attempt still open needs them: one turned
        // away at once (a full queue, no instance) would leave a stale timeout behind.
        if self.attempts[req as usize].epoch != epoch {
            return;
        }
        let client = &self.model.sources[source as usize].client;
        if let Some(t) = client.timeout_s {
            cal.schedule_line(
                self.line_client[source as usize],
                now.after(t),
                Event::ClientTimeout { req, epoch },
            );
        }
        if let Some(p) = &client.patience {
            let wait = p.sample(&mut self.rng_client);
            cal.schedule(now.after(wait), Event::Abandon { req, epoch });
        }
    }

    /// Send an attempt on to the next tier it visits at or after `from`, or complete it.
    fn advance(&mut self, now: Time, req: u32, from: usize, cal: &mut Calendar<Event>) {
        for t in from..self.n_tiers {
            let visit = self.tiers[t].visit;
            if visit >= 1.0 || open01(&mut self.rng_route) < visit {
                self.enter(now, req, t, cal);
                return;
            }
        }
        self.finish(now, req, Some(Outcome::Succeeded), cal);
    }

    /// An attempt arrives at tier `t`: the balancer picks an instance, then a thread, a queue
    /// place, or rejection.
    fn enter(&mut self, now: Time, req: u32, t: usize, cal: &mut Calendar<Event>) {
        let counted = self.metrics.counts(now);
        if counted {
            self.metrics.tiers[t].arrivals += 1;
        }
        let picked = self.tiers[t].pick(&mut self.rng_route);
        match picked {
            Some(i) if self.tiers[t].instances[i as usize].up => {
                self.admit(now, req, t, i, cal);
            }
            _ => {
                // No instance in rotation, or the balancer chose one that is down.
                if counted {
                    self.metrics.tiers[t].rejected += 1;
                }
                self.finish(now, req, Some(Outcome::Rejected), cal);
            }
        }
    }

    /// Put an attempt into instance `i` of tier `t`: a thread, a queue place, or rejection.
    /// Returns false if it was turned away.
    fn admit(&mut self, now: Time, req: u32, t: usize, i: u32, cal: &mut Calendar<Event>) -> bool {
        let tier = &self.tiers[t];
        let inst = &tier.instances[i as usize];
        let serve_now = inst.busy < tier.threads;
        if !serve_now && inst.live_waiting >= tier.queue {
            if self.metrics.counts(now) && !self.attempts[req as usize].probe {
                self.metrics.tiers[t].rejected += 1;
            }
            self.finish(now, req, Some(Outcome::Rejected), cal);
            return false;
        }
        let inst = &mut self.tiers[t].instances[i as usize];
        inst.in_instance += 1;
        let in_instance = inst.in_instance;
        let stats = &mut self.metrics.tiers[t];
        stats.in_tier.add(now, 1.0);
        stats.bucket_max_in_instance = stats.bucket_max_in_instance.max(in_instance);
        self.slots[req as usize * self.n_tiers + t] = Slot {
            instance: i,
            enter: now,
            started: now,
            pos: 0,
        };
        self.attempts[req as usize].at = t as u8;
        if serve_now {
            self.serve(now, req, t, i, cal);
        } else {
            let a = &mut self.attempts[req as usize];
            a.waiting = true;
            inst.waiting.push_back((req, a.epoch));
            if inst.live_waiting == 0 {
                inst.queued_since = now;
            }
            inst.live_waiting += 1;
            stats.queued.add(now, 1.0);
        }
        // Past its memory limit the process dies, with everything in it.
        let tier = &self.tiers[t];
        if let Some(limit) = tier.memory_limit {
            if tier.memory_base + tier.memory_per_request * f64::from(in_instance) > limit {
                self.crash(now, t, i, cal);
            }
        }
        true
    }

    /// A thread of instance `i` of tier `t` starts serving `req`.
    fn serve(&mut self, now: Time, req: u32, t: usize, i: u32, cal: &mut Calendar<Event>) {
        let tier = &mut self.tiers[t];
        let inst = &mut tier.instances[i as usize];
        inst.busy += 1;
        let slot = &mut self.slots[req as usize * self.n_tiers + t];
        slot.pos = inst.active.len() as u32;
        inst.active.push(req);
        let mut factor = 1.0 + tier.contention * f64::from(inst.busy);
        if let (true, Some(started)) = (
            tier.cold_factor > 1.0 && tier.cold_warmup_s > 0.0,
            inst.restarted_at,
        ) {
            let since = now.since(started);
            if since < tier.cold_warmup_s {
                factor *= 1.0 + (tier.cold_factor - 1.0) * (1.0 - since / tier.cold_warmup_s);
            }
        }
        let service = tier.service.sample(&mut tier.rng) * factor;
        let request_timeout = tier.request_timeout_s;
        let enter = slot.enter;
        let stats = &mut self.metrics.tiers[t];
        stats.busy.add(now, 1.0);
        if self.metrics.counts(enter) && !self.attempts[req as usize].probe {
            self.metrics.tiers[t].record_wait(Time(now.0 - enter.0));
        }
        self.slots[req as usize * self.n_tiers + t].started = now;
        let a = &mut self.attempts[req as usize];
        a.held |= 1 << t;
        a.waiting = false;
        let epoch = a.epoch;
        let probe = a.probe;
        cal.schedule(now.after(service), Event::Done { req, epoch });
        // A service that ends before the request timeout cannot be cut off by it unless the
        // attempt then holds this thread while later tiers work: that case schedules the
        // timeout when it arises (`Event::Done`), so most requests never leave a stale one.
        if let (Some(rt), false) = (request_timeout, probe)
            && service >= rt
        {
            self.schedule_server_timeout(req, epoch, t, now.after(rt), cal);
        }
    }

    /// Tier `t` abandons the attempt at `at` if it still holds a thread there (request_timeout).
    fn schedule_server_timeout(
        &self,
        req: u32,
        epoch: u32,
        t: usize,
        at: Time,
        cal: &mut Calendar<Event>,
    ) {
        let tier = t as u8;
        cal.schedule_line(
            self.line_server[t],
            at,
            Event::ServerTimeout { req, epoch, tier },
        );
    }

    /// Free the thread `req` holds in tier `t` and give it to the next live waiting attempt.
    fn release(&mut self, now: Time, req: u32, t: usize, cal: &mut Calendar<Event>) {
        let slot = self.slots[req as usize * self.n_tiers + t];
        let tier = &mut self.tiers[t];
        let inst = &mut tier.instances[slot.instance as usize];
        inst.busy -= 1;
        inst.in_instance -= 1;
        if inst.up {
            let pos = slot.pos as usize;
            inst.active.swap_remove(pos);
            if let Some(&moved) = inst.active.get(pos) {
                self.slots[moved as usize * self.n_tiers + t].pos = pos as u32;
            }
        }
        let warmup = self.metrics.warmup();
        let stats = &mut self.metrics.tiers[t];
        stats.busy.add(now, -1.0);
        stats.in_tier.add(now, -1.0);
        stats.visit_time(slot.enter, now, warmup);
        if self.metrics.counts(slot.enter) {
            let stats = &mut self.metrics.tiers[t];
            let in_tier = now.since(slot.enter);
            stats.departures += 1;
            stats.departure_time_s += in_tier;
            // Health-check probes use threads but are not requests the tier served.
            if !self.attempts[req as usize].probe {
                stats.served += 1;
                stats.response_sum_s += in_tier;
            }
        }
        if !self.tiers[t].instances[slot.instance as usize].up {
            return;
        }
        if let Some(next) = self.next_waiting(now, t, slot.instance) {
            self.metrics.tiers[t].queued.add(now, -1.0);
            self.serve(now, next, t, slot.instance, cal);
        }
        self.drop_late(now, cal);
    }

    /// CoDel: turn away (503) the attempts `next_waiting` found had waited too long.
    fn drop_late(&mut self, now: Time, cal: &mut Calendar<Event>) {
        while let Some((req, epoch, t)) = self.late.pop() {
            let a = self.attempts[req as usize];
            if a.epoch != epoch || !a.waiting {
                continue;
            }
            let enter = self.slots[req as usize * self.n_tiers + t as usize].enter;
            if self.metrics.counts(enter) && !a.probe {
                self.metrics.tiers[t as usize].rejected += 1;
            }
            self.finish(now, req, Some(Outcome::Rejected), cal);
        }
    }

    /// Pop the next live attempt from an instance's queue (stale entries are skipped).
    /// Under CoDel, live attempts that waited too long are set aside in `late` (to be turned
    /// away by `drop_late`) and the next one is tried.
    fn next_waiting(&mut self, now: Time, t: usize, i: u32) -> Option<u32> {
        let tier = &mut self.tiers[t];
        let lifo = tier.lifo;
        let codel = tier.codel;
        let inst = &mut tier.instances[i as usize];
        loop {
            let (req, epoch) = if lifo {
                inst.waiting.pop_back()?
            } else {
                inst.waiting.pop_front()?
            };
            let a = &self.attempts[req as usize];
            if a.epoch == epoch && a.waiting {
                if let Some(c) = codel {
                    // A queue that has not emptied for an interval is a standing queue: then
                    // only `target` of waiting is allowed, else a whole interval.
                    let standing = now.since(inst.queued_since) > c.interval_s;
                    let allowed = if standing { c.target_s } else { c.interval_s };
                    let enter = self.slots[req as usize * self.n_tiers + t].enter;
                    if now.since(enter) > allowed {
                        self.late.push((req, epoch, t as u8));
                        continue;
                    }
                }
                inst.live_waiting -= 1;
                return Some(req);
            }
        }
    }

    /// The attempt ends on the server side: its threads are freed (deepest first), it leaves any
    /// queue, and, unless its client already left, `outcome` is recorded and the client reacts.
    fn finish(&mut self, now: Time, req: u32, outcome: Option<Outcome>, cal: &mut Calendar<Event>) {
        let a = self.attempts[req as usize];
        if a.waiting {
            let t = a.at as usize;
            let slot = self.slots[req as usize * self.n_tiers + t];
            let inst = &mut self.tiers[t].instances[slot.instance as usize];
            inst.live_waiting -= 1;
            inst.in_instance -= 1;
            self.attempts[req as usize].waiting = false;
            let warmup = self.metrics.warmup();
            let stats = &mut self.metrics.tiers[t];
            stats.queued.add(now, -1.0);
            stats.in_tier.add(now, -1.0);
            stats.visit_time(slot.enter, now, warmup);
            // It leaves the queue unserved (abandoned, its instance crashed, or cut off by a
            // timeout upstream): a departure, not a request served.
            if self.metrics.counts(slot.enter) {
                let stats = &mut self.metrics.tiers[t];
                stats.departures += 1;
                stats.departure_time_s += now.since(slot.enter);
            }
        }
        let mut held = a.held;
        self.attempts[req as usize].held = 0;
        // The generation changes first, so queue entries and events of this attempt go stale.
        self.attempts[req as usize].epoch = a.epoch.wrapping_add(1);
        while held != 0 {
            let t = 63 - held.leading_zeros() as usize;
            held &= !(1 << t);
            self.release(now, req, t, cal);
        }
        self.attempts[req as usize].live = false;
        self.free_attempts.push(req);
        if a.probe {
            // A probe that dies with its instance is a failed check.
            if outcome == Some(Outcome::Failed) && !a.client_gone {
                let i = self.slots[req as usize * self.n_tiers + a.at as usize].instance;
                self.health_result(a.at as usize, i, false);
            }
            return;
        }
        if a.client_gone {
            if outcome == Some(Outcome::Succeeded) && self.metrics.counts(a.created) {
                self.wasted += 1;
            }
            return;
        }
        if let Some(o) = outcome {
            self.metrics.ended(now, a.created, o);
            self.react(now, a, o, cal);
        }
    }

    /// The client gives up on an attempt the server keeps working on.
    fn client_outcome(&mut self, now: Time, req: u32, outcome: Outcome, cal: &mut Calendar<Event>) {
        let a = self.attempts[req as usize];
        self.metrics.ended(now, a.created, outcome);
        self.react(now, a, outcome, cal);
    }

    /// What the client does after an outcome: read the page, refresh, retry, leave, come back.
    fn react(&mut self, now: Time, a: Attempt, outcome: Outcome, cal: &mut Calendar<Event>) {
        let client = &self.model.sources[a.source as usize].client;
        if a.user != NONE {
            let user = a.user;
            let u = &mut self.users[user as usize];
            if outcome == Outcome::Succeeded {
                u.failures = 0;
                u.pages_left -= 1;
                self.wait_then_page(now, user, PoolKind::Thinking, cal);
                return;
            }
            u.failures += 1;
            let gave_up = client.give_up_after.is_some_and(|n| u.failures >= n);
            if !gave_up && client.refresh > 0.0 && open01(&mut self.rng_client) < client.refresh {
                u.refreshing = true;
                self.wait_then_page(now, user, PoolKind::Refreshing, cal);
                return;
            }
            self.leave(now, user);
            if client.return_probability > 0.0
                && open01(&mut self.rng_client) < client.return_probability
            {
                if self.sources[a.source as usize].returning.active() {
                    self.sources[a.source as usize].returning.count += 1;
                    self.reschedule_pool(now, a.source, PoolKind::Returning, cal);
                } else {
                    let wait = client
                        .return_after
                        .as_ref()
                        .map_or(0.0, |d| d.sample(&mut self.rng_client));
                    cal.schedule(now.after(wait), Event::Return { source: a.source });
                }
            }
        } else if a.call != NONE {
            let call = a.call;
            let retry = client.retry.expect("calls exist only with retries");
            let src = &mut self.sources[a.source as usize];
            if outcome == Outcome::Succeeded {
                if let Some(b) = retry.budget {
                    src.tokens = (src.tokens + b).min(TOKEN_CAP);
                }
                self.free_calls.push(call);
                return;
            }
            let c = &mut self.calls[call as usize];
            let budget_ok = retry.budget.is_none_or(|_| src.tokens >= 1.0);
            if c.attempts < retry.max_attempts && budget_ok {
                if retry.budget.is_some() {
                    src.tokens -= 1.0;
                }
                let delay = backoff_delay(&retry, c, &mut self.rng_client);
                cal.schedule(now.after(delay), Event::Retry { call });
            } else {
                self.free_calls.push(call);
            }
        }
    }

    /// Instance `i` of tier `t` dies: everything in it fails; it restarts later, or stays down
    /// once rapid-fail protection trips.
    fn crash(&mut self, now: Time, t: usize, i: u32, cal: &mut Calendar<Event>) {
        self.take_down(now, t, i, false, cal);
    }

    /// Take instance `i` of tier `t` down: everything in it fails. A crash counts towards
    /// rapid-fail protection; an operator's restart (`deliberate`) does not.
    fn take_down(
        &mut self,
        now: Time,
        t: usize,
        i: u32,
        deliberate: bool,
        cal: &mut Calendar<Event>,
    ) {
        let restart = self.tiers[t].restart;
        let inst = &mut self.tiers[t].instances[i as usize];
        if !inst.up {
            return;
        }
        inst.up = false;
        let active = std::mem::take(&mut inst.active);
        let waiting = std::mem::take(&mut inst.waiting);
        if !deliberate {
            inst.recent_crashes.push_back(now);
        }
        while inst
            .recent_crashes
            .front()
            .is_some_and(|&c| now.since(c) > restart.window_s)
        {
            inst.recent_crashes.pop_front();
        }
        let stop = restart
            .max_crashes
            .is_some_and(|m| inst.recent_crashes.len() as u32 > m);
        if stop {
            inst.stopped = true;
        }
        let stats = &mut self.metrics.tiers[t];
        stats.instances_changed(now, self.tiers[t].threads, -1);
        if self.metrics.counts(now) && !deliberate {
            let stats = &mut self.metrics.tiers[t];
            stats.crashes += 1;
            stats.first_crash.get_or_insert(now);
        }
        for (req, epoch) in waiting {
            let a = self.attempts[req as usize];
            if a.epoch == epoch && a.waiting {
                self.finish(now, req, Some(Outcome::Failed), cal);
            }
        }
        for req in active {
            if self.attempts[req as usize].held & (1 << t) != 0 {
                self.finish(now, req, Some(Outcome::Failed), cal);
            }
        }
        let inst = &mut self.tiers[t].instances[i as usize];
        inst.active.clear();
        if !stop && !deliberate {
            self.schedule_restart(now, t, i, cal);
        }
    }

    /// Instance `i` of tier `t` comes back after the restart time (any earlier restart on the
    /// way is superseded).
    fn schedule_restart(&mut self, now: Time, t: usize, i: u32, cal: &mut Calendar<Event>) {
        let after = self.tiers[t].restart.after_s;
        let inst = &mut self.tiers[t].instances[i as usize];
        inst.restart_epoch = inst.restart_epoch.wrapping_add(1);
        let epoch = inst.restart_epoch;
        cal.schedule(
            now.after(after),
            Event::Restart {
                tier: t as u8,
                instance: i,
                epoch,
            },
        );
    }

    /// A health check of instance `i` of tier `t`: a probe that queues like a request.
    fn probe(&mut self, now: Time, t: usize, i: u32, cal: &mut Calendar<Event>) {
        let Some(hc) = self.tiers[t].health_check else {
            return;
        };
        cal.schedule(
            now.after(hc.interval_s),
            Event::Probe {
                tier: t as u8,
                instance: i,
            },
        );
        if !self.tiers[t].instances[i as usize].up {
            self.health_result(t, i, false);
            return;
        }
        let req = self.new_attempt(now, 0, NONE, NONE, true);
        let epoch = self.attempts[req as usize].epoch;
        if self.admit(now, req, t, i, cal) {
            if self.attempts[req as usize].epoch == epoch {
                cal.schedule_line(
                    self.line_probe[t],
                    now.after(hc.timeout_s),
                    Event::ProbeTimeout { req, epoch },
                );
            }
        } else {
            self.health_result(t, i, false);
        }
    }

    /// A probe's service is complete: a pass unless it already timed out.
    fn probe_answered(&mut self, now: Time, req: u32, cal: &mut Calendar<Event>) {
        let a = self.attempts[req as usize];
        let t = a.at as usize;
        let i = self.slots[req as usize * self.n_tiers + t].instance;
        if !a.client_gone {
            self.health_result(t, i, true);
        }
        self.finish(now, req, None, cal);
    }

    fn health_result(&mut self, t: usize, i: u32, ok: bool) {
        let Some(hc) = self.tiers[t].health_check else {
            return;
        };
        let inst = &mut self.tiers[t].instances[i as usize];
        if ok {
            inst.checks_failed = 0;
            inst.checks_passed += 1;
            if !inst.in_rotation && inst.checks_passed >= hc.healthy_after {
                inst.in_rotation = true;
                self.metrics.tiers[t].in_rotation += 1;
            }
        } else {
            inst.checks_passed = 0;
            inst.checks_failed += 1;
            if inst.in_rotation && inst.checks_failed >= hc.unhealthy_after {
                inst.in_rotation = false;
                self.metrics.tiers[t].in_rotation -= 1;
            }
        }
    }

    /// An operator's action.
    fn operate(&mut self, now: Time, operator: usize, cal: &mut Calendar<Event>) {
        let op = self.model.operators[operator].clone();
        match op.action {
            Action::Restart => {
                let tiers: Vec<usize> = op
                    .tier
                    .map_or_else(|| (0..self.n_tiers).collect(), |t| vec![t]);
                // The whole farm is restarted together: every instance is taken down (its
                // requests fail), stopped ones are released, and all come back at once.
                for t in tiers {
                    for i in 0..self.tiers[t].instances.len() as u32 {
                        self.take_down(now, t, i, true, cal);
                        let inst = &mut self.tiers[t].instances[i as usize];
                        inst.stopped = false;
                        inst.recent_crashes.clear();
                        self.schedule_restart(now, t, i, cal);
                    }
                }
            }
            Action::AddInstances => {
                let t = op.tier.unwrap_or(0);
                for _ in 0..op.instances {
                    let i = self.tiers[t].add_instance(now);
                    let threads = self.tiers[t].threads;
                    let stats = &mut self.metrics.tiers[t];
                    stats.instances_changed(now, threads, 1);
                    stats.in_rotation += 1;
                    if let Some(hc) = self.tiers[t].health_check {
                        cal.schedule(
                            now.after(hc.interval_s),
                            Event::Probe {
                                tier: t as u8,
                                instance: i,
                            },
                        );
                    }
                }
            }
            Action::ShedLoad => {
                // A new action extends the shedding; the first one's end does not cut it short.
                self.shed_fraction = op.fraction;
                let until = now.after(op.duration_s);
                self.shed_until = self.shed_until.max(until);
                cal.schedule(until, Event::ShedEnd);
            }
        }
    }

    fn close_bucket(&mut self, now: Time, cal: &mut Calendar<Event>) {
        let memory: Vec<(f64, f64)> = self
            .tiers
            .iter()
            .map(|t| (t.memory_base, t.memory_per_request))
            .collect();
        let len_s = now.since(self.bucket_start);
        self.metrics.close_bucket(now, self.bucket_start, &memory);
        for (t, (tier, stats)) in self
            .tiers
            .iter_mut()
            .zip(&mut self.metrics.tiers)
            .enumerate()
        {
            stats.bucket_max_in_instance = tier
                .instances
                .iter()
                .map(|i| i.in_instance)
                .max()
                .unwrap_or(0);
            // Autoscaling looks at the bucket's utilisation of the instances that are up.
            if let Some(auto) = tier.autoscale {
                let busy = self.metrics.series.tiers[t]
                    .busy_threads
                    .last()
                    .copied()
                    .unwrap_or(0.0);
                let up = tier.instances.iter().filter(|i| i.up).count() as f64;
                let util = busy / (up.max(1.0) * f64::from(tier.threads));
                let total = tier.instances.len() as u32 + tier.pending;
                let cooled = tier
                    .last_scaled
                    .is_none_or(|l| now.since(l) >= auto.cooldown_s);
                if util > auto.target_utilization
                    && cooled
                    && total < auto.max_instances
                    && len_s > 0.0
                {
                    let want = (up.max(1.0) * util / auto.target_utilization).ceil() as u32;
                    let add = want
                        .saturating_sub(total)
                        .max(1)
                        .min(auto.max_instances - total);
                    for _ in 0..add {
                        cal.schedule(
                            now.after(auto.provision_s),
                            Event::Provisioned { tier: t as u8 },
                        );
                    }
                    tier.pending += add;
                    tier.last_scaled = Some(now);
                }
            }
        }
        self.watch_outage(now, cal);
        self.bucket_start = now;
        if now >= self.horizon {
            self.finished = true;
            self.metrics.finish(now);
            self.count_visits_at_horizon(now);
        } else {
            cal.schedule(
                now.after(self.metrics.bucket().secs()).min(self.horizon),
                Event::Bucket,
            );
        }
    }

    /// The operators' view: the success rate over the SLO window, as of this bucket's end.
    fn watch_outage(&mut self, now: Time, cal: &mut Calendar<Event>) {
        let slo = self.model.slo;
        let rate = self
            .metrics
            .series
            .window_success_rate
            .last()
            .copied()
            .unwrap_or(f64::NAN);
        let down = rate < slo.outage_below;
        if !down {
            self.watch.down_since = None;
            self.watch.next_look.iter_mut().for_each(|a| *a = None);
            return;
        }
        // Down: each operator acts once the outage has lasted `detect`, and again every
        // `delay + detect` while it lasts. The window stands for its centre (as in the outage
        // analysis), so the outage began about half a window ago.
        let since = *self.watch.down_since.get_or_insert(Time(
            now.0.saturating_sub(Time::from_secs(slo.window_s / 2.0).0),
        ));
        for (k, op) in self.model.operators.iter().enumerate() {
            let ready = self.watch.next_look[k].is_none_or(|t| now >= t);
            if ready && now.since(since) >= op.detect_s {
                self.watch.next_look[k] = Some(now.after(op.delay_s + op.detect_s));
                cal.schedule(now.after(op.delay_s), Event::Operate { operator: k as u16 });
            }
        }
    }

    /// End the run at `now`, before the horizon (a guard rail was hit): `now` becomes the
    /// horizon and the last bucket closes there, as it would at the model's horizon.
    pub fn stop_early(&mut self, now: Time, cal: &mut Calendar<Event>) {
        self.horizon = now;
        if now > self.bucket_start {
            self.close_bucket(now, cal);
        } else {
            self.finished = true;
            self.metrics.finish(now);
            self.count_visits_at_horizon(now);
        }
    }

    /// Visits still in progress at the horizon: their time so far, for the area identity.
    fn count_visits_at_horizon(&mut self, now: Time) {
        let warmup = self.metrics.warmup();
        for (k, a) in self.attempts.iter().enumerate() {
            if !a.live {
                continue;
            }
            let mut tiers = a.held;
            if a.waiting {
                tiers |= 1 << a.at;
            }
            while tiers != 0 {
                let t = tiers.trailing_zeros() as usize;
                tiers &= tiers - 1;
                let enter = self.slots[k * self.n_tiers + t].enter;
                let stats = &mut self.metrics.tiers[t];
                stats.visit_time(enter, now, warmup);
                stats.in_tier_at_end += 1;
            }
        }
    }

    /// Attempts still in the system.
    pub fn in_flight(&self) -> usize {
        self.attempts.len() - self.free_attempts.len()
    }
}
