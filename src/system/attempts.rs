//! Server-side work for one request attempt: the client sends it, the balancer of each tier it
//! visits picks an instance, it takes a thread or a queue place (or is turned away), holds its
//! threads while later tiers work, and ends (served, refused, cut off, or with its instance).
//! Not here: what the client then does (`client`), crashes and health checks (`crashes`).

use super::{NONE, World};
use crate::engine::rng::open01;
use crate::engine::{Calendar, Time};
use crate::metrics::Outcome;
use crate::model::RetryOn;

use super::events::Event;
use super::stamp::Stamp;

mod send;
mod timeouts;

/// Server-side work for one request attempt (or one health-check probe).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Attempt {
    pub(super) created: Time,
    pub(super) user: u32,
    pub(super) call: u32,
    pub(super) source: u16,
    pub(super) epoch: u32,
    /// Tiers where the attempt holds a thread (bit t for tier t).
    pub(super) held: u64,
    /// The tier it is in now (waiting there, or in service).
    pub(super) at: u8,
    pub(super) waiting: bool,
    /// The client has already given up (its outcome is recorded); the server may still work.
    pub(super) client_gone: bool,
    pub(super) probe: bool,
    /// In use (not on the free list).
    pub(super) live: bool,
    /// Tiers where it holds a thread whose request timeout is not scheduled yet (bit t for
    /// tier t): its service at a later tier ends before that timeout could ring (see
    /// `Event::Done`).
    pub(super) deferred: u64,
    /// Waiting for a connection of the pool of the tier it is at (`pool`), to call `callee`.
    pub(super) pool_waiting: bool,
    pub(super) callee: u8,
    /// Tiers whose pool lent it a connection (bit t for tier t), held until it ends.
    pub(super) pooled: u64,
    /// A requests-source attempt the waiting room let in: it holds a place until it ends.
    pub(super) roomed: bool,
    /// Its generation when it was sent: `epoch` also moves when a tier retries its callee
    /// (`hop_retry`), which makes the deeper tiers' events stale; the events of the attempt as
    /// a whole (its client's clocks, the request timeouts of the tiers it holds) carry `born`.
    pub(super) born: u32,
    /// Sent again by its caller tier (`hop_retry`): its next arrival at a tier is a retry.
    pub(super) retrying: bool,
}

impl Attempt {
    /// A new attempt created at `now`, in no tier and holding nothing.
    pub(super) fn fresh(now: Time, source: u16, user: u32, call: u32, probe: bool) -> Self {
        Attempt {
            created: now,
            user,
            call,
            source,
            probe,
            live: true,
            ..Attempt::default()
        }
    }

    /// Its stamp as `req` on the hop it is on now (see `Stamp`).
    #[inline]
    pub(super) fn hop_stamp(&self, req: u32) -> Stamp {
        Stamp::new(req, self.epoch)
    }

    /// Its stamp as `req` as a whole, whatever hop it is on (see `Stamp`).
    #[inline]
    pub(super) fn whole_stamp(&self, req: u32) -> Stamp {
        Stamp::new(req, self.born)
    }

    /// `hop` (a `hop_stamp` of this slot) is stale: served, retried by its caller, or ended since.
    #[inline]
    pub(super) fn moved_on_from(&self, hop: Stamp) -> bool {
        self.epoch != hop.epoch
    }

    /// `whole` (a `whole_stamp` of this slot) is stale: the attempt has ended since.
    #[inline]
    pub(super) fn ended_since(&self, whole: Stamp) -> bool {
        !(self.live && self.born == whole.epoch)
    }

    /// The tiers it is in (bit t for tier t): those where it holds a thread, and the one where
    /// it waits.
    pub(super) fn occupied(&self) -> u64 {
        if self.waiting {
            self.held | 1 << self.at
        } else {
            self.held
        }
    }
}

/// Where an attempt sits in one tier.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Slot {
    pub(super) instance: u32,
    pub(super) enter: Time,
    /// When its service began (for the request timeout).
    pub(super) started: Time,
    /// When its service ends, once it has begun.
    pub(super) done: Time,
    /// Index in the instance's list of attempts holding a thread.
    pub(super) pos: u32,
    /// Retries this tier has made of its current call to the tier it calls (`hop_retry`).
    pub(super) retries: u32,
}

impl World<'_> {
    #[inline]
    pub(super) fn new_attempt(
        &mut self,
        now: Time,
        source: u16,
        user: u32,
        call: u32,
        probe: bool,
    ) -> u32 {
        match self.free_attempts.pop() {
            Some(i) => {
                let place = &mut self.attempts[i as usize];
                // The generation carries over: events of its last use stay stale.
                *place = Attempt {
                    epoch: place.epoch,
                    born: place.epoch,
                    ..Attempt::fresh(now, source, user, call, probe)
                };
                i
            }
            None => {
                self.attempts
                    .push(Attempt::fresh(now, source, user, call, probe));
                self.slots
                    .resize(self.attempts.len() * self.n_tiers, Slot::default());
                (self.attempts.len() - 1) as u32
            }
        }
    }

    /// A client sends an attempt: a user's page (or its refresh), or a call (or its retry).
    ///
    /// An attempt that never reaches a server (failed by the client's breaker or throttle, shed
    /// at the door, or refused at once because the first tier has no instance in rotation) takes
    /// no place in the attempts arena: its outcome is recorded and its client reacts at once,
    /// exactly as `finish` would for an attempt that holds nothing.
    pub(super) fn offer(
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
        // What it is until it gets a place in the arena (made only if it is turned away).
        let a = || Attempt::fresh(now, source, user, call, false);
        self.metrics.offered(now, retry);
        if call != NONE && !retry {
            self.retry_deposit(now, source);
        }
        // The client's breaker and throttle may fail it before it is sent.
        if self.shortcuts.client_policies
            && let Some(o) = self.client_gate(now, source)
        {
            self.turned_away(now, &a(), o, cal);
            return;
        }
        // The edge rate limits answer 429 when their buckets are empty.
        if self.edge.any && !self.edge_admits(now, source) {
            self.turned_away(now, &a(), Outcome::Rejected, cal);
            return;
        }
        // A requests-source attempt behind the waiting room waits there for a place.
        if self.room_requests
            && user == NONE
            && self.model.sources[source as usize].kind == crate::model::SourceKind::Requests
        {
            self.room_request(now, source, call, cal);
            return;
        }
        self.send(now, now, source, user, call, false, cal);
    }

    /// An attempt ends before reaching a server: its outcome is recorded and its client
    /// reacts (what `finish` does for an attempt that holds nothing).
    pub(super) fn turned_away(
        &mut self,
        now: Time,
        a: &Attempt,
        outcome: Outcome,
        cal: &mut Calendar<Event>,
    ) {
        if a.roomed {
            self.room_request_left(now, cal);
        }
        self.metrics.ended(now, a.created, outcome);
        self.react(now, a, outcome, cal);
    }

    /// Send an attempt on to the next tier it visits at or after `from`, or complete it.
    #[inline(always)]
    pub(super) fn advance(&mut self, now: Time, req: u32, from: usize, cal: &mut Calendar<Event>) {
        for t in from..self.n_tiers {
            let visit = self.tiers[t].spec.visit;
            if visit >= 1.0 || open01(&mut self.tiers[t].rng_visit) < visit {
                if from > 0 && self.shortcuts.hop_retries {
                    self.first_call(now, from - 1);
                }
                // The tier it leaves calls this one through its pool, if it has one.
                if from > 0 && self.pools[from - 1].is_some() {
                    self.call_through_pool(now, req, from - 1, t, cal);
                } else {
                    self.enter(now, req, t, cal);
                }
                return;
            }
        }
        self.finish(now, req, Some(Outcome::Succeeded), cal);
    }

    /// An attempt arrives at tier `t`: the balancer picks an instance, then a thread, a queue
    /// place, or rejection.
    #[inline(always)]
    pub(super) fn enter(&mut self, now: Time, req: u32, t: usize, cal: &mut Calendar<Event>) {
        let counted = self.metrics.counts(now);
        if counted {
            self.metrics.tiers[t].arrivals += 1;
        }
        if self.shortcuts.hop_retries {
            self.arrives_at(now, req, t);
        }
        let picked = self.tiers[t].pick();
        match picked {
            Some(i) if self.tiers[t].instances[i as usize].up => {
                self.admit(now, req, t, i, cal);
            }
            _ => {
                // No instance in rotation, or the balancer chose one that is down.
                if counted {
                    self.metrics.tiers[t].rejected += 1;
                }
                if let Some(i) = picked {
                    self.instance_result(now, t, i, false, cal);
                }
                self.fail(now, req, t, RetryOn::Rejected, Outcome::Rejected, cal);
            }
        }
    }

    /// Put an attempt into instance `i` of tier `t`: a thread, a queue place, or rejection.
    /// Returns false if it was turned away.
    #[inline]
    pub(super) fn admit(
        &mut self,
        now: Time,
        req: u32,
        t: usize,
        i: u32,
        cal: &mut Calendar<Event>,
    ) -> bool {
        let probe = self.attempts[req as usize].probe;
        // A policy (the concurrency limit) may turn it away at once (503).
        let limited = !probe && self.shortcuts.tier_policies && self.limit_refuses(now, t, i);
        let tier = &self.tiers[t];
        let inst = &tier.instances[i as usize];
        let serve_now = inst.busy < tier.spec.threads;
        if limited || (!serve_now && inst.live_waiting >= tier.queue) {
            if self.metrics.counts(now) && !probe {
                self.metrics.tiers[t].rejected += 1;
            }
            if !probe {
                self.instance_result(now, t, i, false, cal);
            }
            match self.tiers[t].spec.refused_after_s {
                // The client learns of a full queue later (a proxy's connect timeout on a full
                // backlog): until then the attempt is live, holds what it held upstream and can
                // time out.
                Some(d) if !probe && !limited => {
                    let stamp = self.attempts[req as usize].hop_stamp(req);
                    let tier = t as u8;
                    cal.schedule(now.after(d), Event::Refused { stamp, tier });
                }
                _ => self.fail(now, req, t, RetryOn::Rejected, Outcome::Rejected, cal),
            }
            return false;
        }
        if !probe && self.shortcuts.tier_policies {
            self.limit_acquire(req, t, i);
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
            done: now,
            pos: 0,
            retries: 0,
        };
        self.attempts[req as usize].at = t as u8;
        if serve_now {
            self.serve(now, req, t, i, cal);
        } else {
            let a = &mut self.attempts[req as usize];
            a.waiting = true;
            inst.waiting.push_back(a.hop_stamp(req));
            if inst.live_waiting == 0 {
                inst.queued_since = now;
            }
            inst.live_waiting += 1;
            stats.queued.add(now, 1.0);
        }
        // Past its memory limit the process dies, with everything in it.
        let spec = self.tiers[t].spec;
        if let Some(limit) = spec.memory_limit
            && spec.memory_base + spec.memory_per_request * f64::from(in_instance) > limit
        {
            self.crash(now, t, i, cal);
        }
        true
    }

    /// A thread of instance `i` of tier `t` starts serving `req`.
    pub(super) fn serve(
        &mut self,
        now: Time,
        req: u32,
        t: usize,
        i: u32,
        cal: &mut Calendar<Event>,
    ) {
        let tier = &mut self.tiers[t];
        let inst = &mut tier.instances[i as usize];
        inst.busy += 1;
        let pos = inst.active.len() as u32;
        if tier.crashes {
            inst.active.push(req);
        }
        let draw = tier.draw_service();
        // Without contention or a cold start the factor is exactly 1 (and x 1 changes nothing).
        let service = if tier.plain_service {
            draw
        } else {
            draw * tier.slowdown(now, i)
        };
        let request_timeout = tier.spec.request_timeout_s;
        let a = &mut self.attempts[req as usize];
        a.held |= 1 << t;
        a.waiting = false;
        let (hop, whole, probe) = (a.hop_stamp(req), a.whole_stamp(req), a.probe);
        let done = now.after(service);
        let slot = &mut self.slots[req as usize * self.n_tiers + t];
        slot.pos = pos;
        slot.started = now;
        slot.done = done;
        let enter = slot.enter;
        let counted = self.metrics.counts(enter) && !probe;
        let stats = &mut self.metrics.tiers[t];
        stats.busy.add(now, 1.0);
        if counted {
            stats.record_wait(Time(now.0 - enter.0));
        }
        cal.schedule(done, Event::Done { stamp: hop });
        // A service that ends before the request timeout cannot be cut off by it unless the
        // attempt then holds this thread while later tiers work: that case schedules the
        // timeout when it arises (`Event::Done`), so most requests never leave a stale one.
        if let (Some(rt), false) = (request_timeout, probe)
            && service >= rt
        {
            self.schedule_server_timeout(whole, t, now.after(rt), cal);
        }
    }

    /// An attempt that entered tier `t` at `enter` leaves it at `now`, from a thread (`busy`)
    /// or from the queue: the tier's counts and times. If the visit counts (it entered after
    /// the warm-up), its length in seconds.
    #[inline(always)]
    fn leave_tier(&mut self, now: Time, t: usize, enter: Time, busy: bool) -> Option<f64> {
        let warmup = self.metrics.warmup();
        let stats = &mut self.metrics.tiers[t];
        if busy {
            stats.busy.add(now, -1.0);
        } else {
            stats.queued.add(now, -1.0);
        }
        stats.in_tier.add(now, -1.0);
        // `Collector::counts`: the visit counts if it entered at or after the warm-up.
        if enter < warmup {
            stats.visit_time(enter, now, warmup);
            return None;
        }
        // All of the visit lies after the warm-up: one span for the three sums (the same value
        // `visit_time` would add).
        let span_s = now.since(enter);
        if now > warmup {
            stats.time_in_tier_s += span_s;
        }
        stats.departures += 1;
        stats.departure_time_s += span_s;
        Some(span_s)
    }

    /// `req` leaves the queue of tier `t` unserved (abandoned, its instance crashed, cut off by
    /// a timeout upstream, or its caller retries): a departure, not a request served.
    pub(super) fn leave_queue(&mut self, now: Time, req: u32, t: usize) {
        let slot = self.slots[req as usize * self.n_tiers + t];
        let inst = &mut self.tiers[t].instances[slot.instance as usize];
        inst.live_waiting -= 1;
        inst.in_instance -= 1;
        self.leave_tier(now, t, slot.enter, false);
    }

    /// Free the thread `req` (a health-check probe if `probe`) holds in tier `t` and give it to
    /// the next live waiting attempt.
    pub(super) fn release(
        &mut self,
        now: Time,
        req: u32,
        probe: bool,
        t: usize,
        cal: &mut Calendar<Event>,
    ) {
        let Slot {
            instance,
            enter,
            pos,
            ..
        } = self.slots[req as usize * self.n_tiers + t];
        let tier = &mut self.tiers[t];
        let inst = &mut tier.instances[instance as usize];
        inst.busy -= 1;
        inst.in_instance -= 1;
        let up = inst.up;
        if up && tier.crashes {
            let pos = pos as usize;
            inst.active.swap_remove(pos);
            if let Some(&moved) = inst.active.get(pos) {
                self.slots[moved as usize * self.n_tiers + t].pos = pos as u32;
            }
        }
        // Health-check probes use threads but are not requests the tier served.
        if let Some(span_s) = self.leave_tier(now, t, enter, true)
            && !probe
        {
            let stats = &mut self.metrics.tiers[t];
            stats.served += 1;
            stats.response_sum_s += span_s;
        }
        if !up {
            return;
        }
        if let Some(next) = self.next_waiting(now, t, instance) {
            self.metrics.tiers[t].queued.add(now, -1.0);
            self.serve(now, next, t, instance, cal);
        }
        if !self.late.is_empty() {
            self.drop_late(now, cal);
        }
    }

    /// CoDel: turn away (503) the attempts `next_waiting` found had waited too long.
    pub(super) fn drop_late(&mut self, now: Time, cal: &mut Calendar<Event>) {
        while let Some((stamp, t)) = self.late.pop() {
            let (req, a) = (stamp.req, self.attempts[stamp.slot()]);
            if a.moved_on_from(stamp) || !a.waiting {
                continue;
            }
            let enter = self.slots[req as usize * self.n_tiers + t as usize].enter;
            if self.metrics.counts(enter) && !a.probe {
                self.metrics.tiers[t as usize].rejected += 1;
            }
            self.fail(
                now,
                req,
                t as usize,
                RetryOn::Rejected,
                Outcome::Rejected,
                cal,
            );
        }
    }

    /// Pop the next live attempt from an instance's queue (stale entries are skipped).
    /// Under CoDel, live attempts that waited too long are set aside in `late` (to be turned
    /// away by `drop_late`) and the next one is tried.
    pub(super) fn next_waiting(&mut self, now: Time, t: usize, i: u32) -> Option<u32> {
        let tier = &mut self.tiers[t];
        let lifo = tier.lifo;
        let codel = tier.spec.codel;
        let inst = &mut tier.instances[i as usize];
        loop {
            let stamp = if lifo {
                inst.waiting.pop_back()?
            } else {
                inst.waiting.pop_front()?
            };
            let (req, a) = (stamp.req, &self.attempts[stamp.slot()]);
            if !a.moved_on_from(stamp) && a.waiting {
                if let Some(c) = codel {
                    // A queue that has not emptied for an interval is a standing queue: then
                    // only `target` of waiting is allowed, else a whole interval.
                    let standing = now.since(inst.queued_since) > c.interval_s;
                    let allowed = if standing { c.target_s } else { c.interval_s };
                    let enter = self.slots[req as usize * self.n_tiers + t].enter;
                    if now.since(enter) > allowed {
                        self.late.push((stamp, t as u8));
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
    pub(super) fn finish(
        &mut self,
        now: Time,
        req: u32,
        outcome: Option<Outcome>,
        cal: &mut Calendar<Event>,
    ) {
        let a = self.attempts[req as usize];
        if self.shortcuts.tier_policies {
            self.report_end(now, req, &a, outcome, cal);
        }
        if a.waiting {
            self.leave_queue(now, req, a.at as usize);
        }
        let b = &mut self.attempts[req as usize];
        b.waiting = false;
        b.held = 0;
        b.pool_waiting = false;
        b.pooled = 0;
        // The generation changes first, so queue entries and events of this attempt go stale.
        b.epoch = a.epoch.wrapping_add(1);
        b.live = false;
        let mut held = a.held;
        while held != 0 {
            let t = 63 - held.leading_zeros() as usize;
            held &= !(1 << t);
            self.release(now, req, a.probe, t, cal);
        }
        if a.pool_waiting {
            self.leave_pool_line(now, req, a.at as usize);
        }
        if a.pooled != 0 {
            self.release_connections(now, req, a.pooled, cal);
        }
        if a.roomed {
            self.room_request_left(now, cal);
        }
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
            // An attempt of neither a user nor a call, with no client policy to learn from it,
            // leaves its client nothing to do.
            if a.user != NONE || a.call != NONE || self.shortcuts.client_policies {
                self.react(now, &a, o, cal);
            } else if o != Outcome::Succeeded {
                // A request without retries: the attempt was the call (as `react` counts it).
                self.metrics.call_lost(a.created);
            }
        }
    }
}
