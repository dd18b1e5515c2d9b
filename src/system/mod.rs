//! The simulated site: traffic sources (open request streams and user sessions), the tiers a
//! request walks through in order (a thread held in each while later tiers work), the instances
//! of each tier with their threads and bounded queues, and the balancer in front of them.
//!
//! `World` owns all entity state in arenas indexed by `u32` (requests, users) and reports to a
//! `metrics::Collector`; the engine's `Calendar` orders its events. Nothing here allocates per
//! event once the arenas and queues have grown to the run's high-water mark.

pub mod arrivals;
pub mod tier;

use crate::engine::rng::{open01, stream};
use crate::engine::{Calendar, Stream, Time};
use crate::metrics::{Collector, Outcome};
use crate::model::{Dist, Model, SourceKind};
use arrivals::Arrivals;
use tier::TierState;

/// Everything that can happen. Small and `Copy`: 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The next request of an open source arrives.
    Arrival { source: u16 },
    /// The next user session of a users source begins.
    Session { source: u16 },
    /// A user has finished reading (thinking) and asks for the next page, or leaves.
    Page { user: u32 },
    /// A request's service at a tier is complete.
    Done { req: u32, tier: u8 },
    /// A time-series bucket ends.
    Bucket,
    /// The warm-up ends: summary statistics start.
    Warmup,
}

const NO_USER: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Request {
    created: Time,
    user: u32,
    /// Tiers where the request holds a thread (bit t for tier t).
    held: u64,
}

/// Where a request sits in one tier.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    instance: u32,
    enter: Time,
}

#[derive(Debug, Clone, Copy)]
struct User {
    pages_left: u32,
    source: u16,
}

struct SourceState {
    kind: SourceKind,
    arrivals: Arrivals,
    rng: Stream,
    pages: Option<Dist>,
    think: Option<Dist>,
}

/// The simulated site during one replication.
pub struct World<'m> {
    model: &'m Model,
    horizon: Time,
    sources: Vec<SourceState>,
    tiers: Vec<TierState>,
    n_tiers: usize,
    requests: Vec<Request>,
    slots: Vec<Slot>,
    free_requests: Vec<u32>,
    users: Vec<User>,
    free_users: Vec<u32>,
    rng_route: Stream,
    rng_users: Stream,
    bucket_start: Time,
    finished: bool,
    pub metrics: Collector,
}

/// Random stream ids: sources 0.., tiers 1000.., routing and users fixed.
const STREAM_ROUTE: u64 = 900;
const STREAM_USERS: u64 = 901;
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
                    SourceKind::Requests => s.baseline,
                    // Sessions begin at users / E[session length] (Little's law).
                    SourceKind::Users => s.baseline / model.session_length_s(s),
                };
                SourceState {
                    kind: s.kind,
                    arrivals: Arrivals::new(per_s, &s.profile, &model.surge),
                    rng: stream(seed, i as u64),
                    pages: s.pages.clone(),
                    think: s.think.clone(),
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
            requests: Vec::new(),
            slots: Vec::new(),
            free_requests: Vec::new(),
            users: Vec::new(),
            free_users: Vec::new(),
            rng_route: stream(seed, STREAM_ROUTE),
            rng_users: stream(seed, STREAM_USERS),
            bucket_start: Time::ZERO,
            finished: false,
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
        let horizon = self.horizon.secs();
        for i in 0..self.sources.len() {
            let src = &mut self.sources[i];
            if let Some(t) = src.arrivals.next(&mut src.rng, horizon) {
                let ev = match src.kind {
                    SourceKind::Requests => Event::Arrival { source: i as u16 },
                    SourceKind::Users => Event::Session { source: i as u16 },
                };
                cal.schedule(Time::from_secs(t), ev);
            }
            if src.kind == SourceKind::Users {
                let s = &self.model.sources[i];
                let n =
                    (s.baseline * s.profile.at(0.0) * self.model.surge.factor(0.0)).round() as u64;
                for _ in 0..n {
                    let pages = self.sources[i]
                        .pages
                        .as_ref()
                        .map_or(1.0, |d| d.sample(&mut self.rng_users));
                    let think = self.sources[i]
                        .think
                        .as_ref()
                        .map_or(0.0, |d| d.sample(&mut self.rng_users));
                    let user = self.new_user(i as u16, pages);
                    self.metrics.users.add(Time::ZERO, 1.0);
                    cal.schedule(Time::from_secs(think), Event::Page { user });
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
                let req = self.new_request(now, NO_USER);
                self.metrics.offered(now, false);
                self.advance(now, req, 0, cal);
                self.schedule_next(source, cal);
            }
            Event::Session { source } => {
                let src = &mut self.sources[source as usize];
                let pages = src.pages.as_ref().map_or(1.0, |d| d.sample(&mut src.rng));
                let user = self.new_user(source, pages);
                self.metrics.users.add(now, 1.0);
                self.page(now, user, cal);
                self.schedule_next(source, cal);
            }
            Event::Page { user } => {
                if self.users[user as usize].pages_left == 0 {
                    self.leave(now, user);
                } else {
                    self.page(now, user, cal);
                }
            }
            Event::Done { req, tier } => self.advance(now, req, tier as usize + 1, cal),
            Event::Bucket => self.close_bucket(now, cal),
            Event::Warmup => self.metrics.start_counting(now),
        }
    }

    fn schedule_next(&mut self, source: u16, cal: &mut Calendar<Event>) {
        let horizon = self.horizon.secs();
        let src = &mut self.sources[source as usize];
        if let Some(t) = src.arrivals.next(&mut src.rng, horizon) {
            let ev = match src.kind {
                SourceKind::Requests => Event::Arrival { source },
                SourceKind::Users => Event::Session { source },
            };
            cal.schedule(Time::from_secs(t), ev);
        }
    }

    fn new_user(&mut self, source: u16, pages: f64) -> u32 {
        let u = User {
            pages_left: pages.max(1.0) as u32,
            source,
        };
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

    fn leave(&mut self, now: Time, user: u32) {
        self.metrics.users.add(now, -1.0);
        self.free_users.push(user);
    }

    /// A user asks for a page: one request.
    fn page(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        let req = self.new_request(now, user);
        self.metrics.offered(now, false);
        self.advance(now, req, 0, cal);
    }

    fn new_request(&mut self, now: Time, user: u32) -> u32 {
        let r = Request {
            created: now,
            user,
            held: 0,
        };
        match self.free_requests.pop() {
            Some(i) => {
                self.requests[i as usize] = r;
                i
            }
            None => {
                self.requests.push(r);
                self.slots
                    .resize(self.requests.len() * self.n_tiers, Slot::default());
                (self.requests.len() - 1) as u32
            }
        }
    }

    /// Send a request on to the next tier it visits at or after `from`, or complete it.
    fn advance(&mut self, now: Time, req: u32, from: usize, cal: &mut Calendar<Event>) {
        for t in from..self.n_tiers {
            let visit = self.tiers[t].visit;
            if visit >= 1.0 || open01(&mut self.rng_route) < visit {
                self.enter(now, req, t, cal);
                return;
            }
        }
        self.end(now, req, Outcome::Succeeded, cal);
    }

    /// A request arrives at tier `t`: balancer, then a thread, a queue place, or rejection.
    fn enter(&mut self, now: Time, req: u32, t: usize, cal: &mut Calendar<Event>) {
        let counted = self.metrics.counts(now);
        if counted {
            self.metrics.tiers[t].arrivals += 1;
        }
        let tier = &mut self.tiers[t];
        let Some(i) = tier.pick(&mut self.rng_route) else {
            if counted {
                self.metrics.tiers[t].rejected += 1;
            }
            self.end(now, req, Outcome::Rejected, cal);
            return;
        };
        let inst = &mut tier.instances[i as usize];
        let stats = &mut self.metrics.tiers[t];
        if inst.busy < tier.threads {
            inst.in_instance += 1;
            stats.in_tier.add(now, 1.0);
            stats.bucket_max_in_instance = stats.bucket_max_in_instance.max(inst.in_instance);
            self.slots[req as usize * self.n_tiers + t] = Slot {
                instance: i,
                enter: now,
            };
            self.serve(now, req, t, i, cal);
        } else if (inst.waiting.len() as u32) < tier.queue {
            inst.in_instance += 1;
            inst.waiting.push_back(req);
            stats.in_tier.add(now, 1.0);
            stats.queued.add(now, 1.0);
            stats.bucket_max_in_instance = stats.bucket_max_in_instance.max(inst.in_instance);
            self.slots[req as usize * self.n_tiers + t] = Slot {
                instance: i,
                enter: now,
            };
        } else {
            if counted {
                stats.rejected += 1;
            }
            self.end(now, req, Outcome::Rejected, cal);
        }
    }

    /// A thread of instance `i` of tier `t` starts serving `req`.
    fn serve(&mut self, now: Time, req: u32, t: usize, i: u32, cal: &mut Calendar<Event>) {
        let tier = &mut self.tiers[t];
        let inst = &mut tier.instances[i as usize];
        inst.busy += 1;
        let factor = 1.0 + tier.contention * f64::from(inst.busy);
        let service = tier.service.sample(&mut tier.rng) * factor;
        let stats = &mut self.metrics.tiers[t];
        stats.busy.add(now, 1.0);
        let enter = self.slots[req as usize * self.n_tiers + t].enter;
        if self.metrics.counts(enter) {
            self.metrics.tiers[t].record_wait(Time(now.0 - enter.0));
        }
        self.requests[req as usize].held |= 1 << t;
        cal.schedule(now.after(service), Event::Done { req, tier: t as u8 });
    }

    /// Free the thread `req` holds in tier `t` and give it to the next waiting request.
    fn release(&mut self, now: Time, req: u32, t: usize, cal: &mut Calendar<Event>) {
        let slot = self.slots[req as usize * self.n_tiers + t];
        let tier = &mut self.tiers[t];
        let inst = &mut tier.instances[slot.instance as usize];
        inst.busy -= 1;
        inst.in_instance -= 1;
        let next = if tier.lifo {
            inst.waiting.pop_back()
        } else {
            inst.waiting.pop_front()
        };
        let stats = &mut self.metrics.tiers[t];
        stats.busy.add(now, -1.0);
        stats.in_tier.add(now, -1.0);
        if self.metrics.counts(slot.enter) {
            let stats = &mut self.metrics.tiers[t];
            stats.served += 1;
            stats.response_sum_s += now.since(slot.enter);
        }
        if let Some(next) = next {
            self.metrics.tiers[t].queued.add(now, -1.0);
            self.serve(now, next, t, slot.instance, cal);
        }
    }

    /// The request ends with `outcome`: its threads are freed, deepest first, and its user
    /// (if any) reads the page or leaves.
    fn end(&mut self, now: Time, req: u32, outcome: Outcome, cal: &mut Calendar<Event>) {
        let r = self.requests[req as usize];
        let mut held = r.held;
        while held != 0 {
            let t = 63 - held.leading_zeros() as usize;
            held &= !(1 << t);
            self.release(now, req, t, cal);
        }
        self.metrics.ended(now, r.created, outcome);
        self.free_requests.push(req);
        if r.user != NO_USER {
            let user = r.user;
            if outcome == Outcome::Succeeded {
                let u = &mut self.users[user as usize];
                u.pages_left -= 1;
                let think = self.sources[u.source as usize].think.as_ref();
                let think = think.map_or(0.0, |d| d.sample(&mut self.rng_users));
                cal.schedule(now.after(think), Event::Page { user });
            } else {
                // Without client behaviour (refresh, retry), a user who sees an error leaves.
                self.leave(now, user);
            }
        }
    }

    fn close_bucket(&mut self, now: Time, cal: &mut Calendar<Event>) {
        let memory: Vec<(f64, f64)> = self
            .tiers
            .iter()
            .map(|t| (t.memory_base, t.memory_per_request))
            .collect();
        self.metrics.close_bucket(now, self.bucket_start, &memory);
        for (tier, stats) in self.tiers.iter().zip(&mut self.metrics.tiers) {
            stats.bucket_max_in_instance = tier
                .instances
                .iter()
                .map(|i| i.in_instance)
                .max()
                .unwrap_or(0);
        }
        self.bucket_start = now;
        if now >= self.horizon {
            self.finished = true;
            self.metrics.finish(now);
        } else {
            cal.schedule(
                now.after(self.metrics.bucket().secs()).min(self.horizon),
                Event::Bucket,
            );
        }
    }

    /// Requests still in the system.
    pub fn in_flight(&self) -> usize {
        self.requests.len() - self.free_requests.len()
    }
}
