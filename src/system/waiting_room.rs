//! The site-wide waiting room in front of the users sources (Cloudflare Waiting Room and
//! Queue-it semantics). A user arriving for a session, or coming back for a page after its place
//! lapsed, is let onto the site at once when a place is free (`active_users`) and the admission
//! rate allows it (`admit_per_minute`, admissions spaced evenly), and nobody waits before it.
//! Otherwise it waits in the room (sending no requests) until its turn (`fifo` or `random`) or
//! until its `patience` runs out, or is turned away at once (`reject`); a user who leaves the
//! room without getting in follows its client's `return`. A user holds its place from
//! admission until its session ends or it has been idle (no request under way) for `session`.
//!
//! Not here: the sessions themselves (`users`), what a client does after a request (`client`),
//! and the counting (`crate::metrics::room`). Trace sources do not pass the room; requests
//! sources pass it with `requests = true`: each of their attempts (a first attempt or a retry)
//! is a visitor of its own, let in, kept waiting (its client's clocks not yet started) or turned
//! away (a rejection its client may retry) as a user would be, holding its place from admission
//! until the attempt ends (`Attempt::roomed`).

use std::collections::VecDeque;

use super::attempts::Attempt;
use super::events::Event;
use super::events::PoolKind;
use super::{NONE, World};
use crate::engine::rng::open01;
use crate::engine::{Calendar, Stream, Time};
use crate::metrics::Outcome;
use crate::metrics::room::{RoomFlow, RoomState, RoomSummary};
use crate::model::{RoomMethod, WaitingRoom};

/// A waiter that is an attempt of a requests source, not a user.
const REQUEST: u32 = u32::MAX - 1;

/// A user waiting in the room.
#[derive(Debug, Clone, Copy)]
struct Waiter {
    /// The user (index in the users arena, where it stays while it waits); `REQUEST` for an
    /// attempt of a requests source, `NONE` for a free entry.
    user: u32,
    /// A request's source and call (`NONE` when its source does not retry).
    source: u16,
    call: u32,
    since: Time,
    /// Bumped at each reuse of the entry: events and queue entries of an earlier waiter are
    /// recognised as stale.
    generation: u32,
    /// Its index in `order` (random method).
    pos: u32,
}

/// A user's place on the site, from admission to the end of its session.
#[derive(Debug, Clone, Copy, Default)]
struct Pass {
    /// Bumped whenever the user's idle clock starts or stops: a lapse event of an earlier idle
    /// spell is stale.
    epoch: u32,
    /// The place is held (false once it lapsed: the user is away).
    held: bool,
}

/// The waiting room during one replication.
pub(super) struct Room {
    active_users: Option<u64>,
    spacing_s: Option<f64>,
    session_s: f64,
    method: RoomMethod,
    /// Users holding a place.
    on_site: u64,
    /// Users waiting in the room.
    waiting: u64,
    /// Users whose place lapsed while they were idle.
    away: u64,
    waiters: Vec<Waiter>,
    free_waiters: Vec<u32>,
    /// Waiters in arrival order, as (waiter, generation); stale entries are skipped (fifo).
    queue: VecDeque<(u32, u32)>,
    /// The waiters, in any order (random).
    order: Vec<u32>,
    passes: Vec<Pass>,
    free_passes: Vec<u32>,
    /// The earliest time the admission rate lets the next user in.
    next_admit: Time,
    /// The calendar slot of the next admission, and the delay line of place lapses.
    admit_slot: usize,
    idle_line: usize,
    rng: Stream,
}

impl Room {
    pub(super) fn new(spec: &WaitingRoom, rng: Stream) -> Room {
        Room {
            active_users: spec.active_users.map(u64::from),
            spacing_s: spec.spacing_s(),
            session_s: spec.session_s,
            method: spec.method,
            on_site: 0,
            waiting: 0,
            away: 0,
            waiters: Vec::new(),
            free_waiters: Vec::new(),
            queue: VecDeque::new(),
            order: Vec::new(),
            passes: Vec::new(),
            free_passes: Vec::new(),
            next_admit: Time::ZERO,
            admit_slot: usize::MAX,
            idle_line: usize::MAX,
            rng,
        }
    }

    /// Its slot and delay line in the calendar (once, before any event).
    pub(super) fn attach(&mut self, cal: &mut Calendar<Event>) {
        self.admit_slot = cal.add_slot();
        self.idle_line = cal.add_line();
    }

    fn place_free(&self) -> bool {
        self.active_users.is_none_or(|n| self.on_site < n)
    }

    fn rate_allows(&self, now: Time) -> bool {
        self.spacing_s.is_none() || now >= self.next_admit
    }

    fn state(&self) -> RoomState {
        RoomState {
            on_site: self.on_site,
            waiting: self.waiting,
            away: self.away,
        }
    }
}

impl World<'_> {
    fn room(&mut self) -> &mut Room {
        self.room
            .as_mut()
            .expect("only called when the model has a room")
    }

    /// The users on the site at t = 0: the first `active_users` of them hold places already
    /// (the admission rate does not apply to them), the others start in the room.
    pub(super) fn room_start_user(&mut self, user: u32, cal: &mut Calendar<Event>) {
        if self.room().place_free() {
            self.room_take_place(Time::ZERO, user);
            self.wait_then_page(Time::ZERO, user, PoolKind::Thinking, cal);
        } else {
            self.room_turn_away_or_wait(Time::ZERO, user, cal);
        }
    }

    /// The measured period starts now: the sessions in each state then.
    pub(super) fn room_start_counting(&mut self, now: Time) {
        if let Some(state) = self.room.as_ref().map(Room::state)
            && let Some(r) = &mut self.metrics.room
        {
            r.start_counting(now, state);
        }
    }

    /// A new session (a new visit, or a user coming back) comes to the site.
    pub(super) fn room_arrive(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        self.count(RoomFlow::Arrived);
        self.room_enter(now, user, cal);
    }

    /// A user is due to ask for a page. True if it holds its place (its idle clock stops);
    /// false if the place lapsed, in which case the user passes the room again.
    pub(super) fn room_check_in(
        &mut self,
        now: Time,
        user: u32,
        cal: &mut Calendar<Event>,
    ) -> bool {
        let p = self.users[user as usize].pass;
        let room = self.room();
        if p != NONE && room.passes[p as usize].held {
            room.passes[p as usize].epoch += 1;
            return true;
        }
        room.away -= 1;
        self.room_enter(now, user, cal);
        false
    }

    /// A user with a place starts being idle (reading, or before a refresh): its place lapses
    /// after `session` unless it asks for a page first.
    pub(super) fn room_idle(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        let p = self.users[user as usize].pass;
        let room = self.room();
        if p == NONE || !room.passes[p as usize].held {
            return;
        }
        let pass = &mut room.passes[p as usize];
        pass.epoch += 1;
        let epoch = pass.epoch;
        cal.schedule_line(
            room.idle_line,
            now.after(room.session_s),
            Event::RoomLapse { pass: p, epoch },
        );
    }

    /// An idle user's place lapses, if that idle spell is still on.
    pub(super) fn room_lapse(&mut self, now: Time, p: u32, epoch: u32, cal: &mut Calendar<Event>) {
        let room = self.room();
        let pass = &mut room.passes[p as usize];
        if pass.epoch != epoch || !pass.held {
            return;
        }
        pass.held = false;
        room.away += 1;
        self.count(RoomFlow::Expired);
        self.room_release(now, cal);
    }

    /// A session ends on the site (all pages read, or given up after errors): its place, if it
    /// still holds one, goes to the next user.
    pub(super) fn room_leave(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        let p = std::mem::replace(&mut self.users[user as usize].pass, NONE);
        self.count(RoomFlow::Left);
        let room = self.room();
        let held = p != NONE && room.passes[p as usize].held;
        if p != NONE {
            let pass = &mut room.passes[p as usize];
            pass.held = false;
            pass.epoch += 1;
            room.free_passes.push(p);
        }
        if held {
            self.room_release(now, cal);
        } else if p != NONE {
            room.away -= 1;
        }
    }

    /// The admission slot fires: let in waiting users while places and the rate allow.
    pub(super) fn room_admit_waiting(&mut self, now: Time, cal: &mut Calendar<Event>) {
        loop {
            let room = self.room();
            if room.waiting == 0 || !room.place_free() {
                return;
            }
            if !room.rate_allows(now) {
                cal.set_slot(room.admit_slot, room.next_admit, Event::RoomAdmit);
                return;
            }
            let w = self.pop_waiter(now);
            if w.user == REQUEST {
                self.room_admit_request(now, w.source, w.call, w.since, cal);
            } else {
                self.room_admit(now, w.user, w.since, cal);
            }
        }
    }

    /// A waiting user's patience runs out, if it is still waiting.
    pub(super) fn room_abandon(
        &mut self,
        now: Time,
        w: u32,
        generation: u32,
        cal: &mut Calendar<Event>,
    ) {
        let room = self.room();
        let waiter = room.waiters[w as usize];
        if waiter.generation != generation || waiter.user == NONE {
            return;
        }
        if room.method == RoomMethod::Random {
            room.order.swap_remove(waiter.pos as usize);
            if let Some(&moved) = room.order.get(waiter.pos as usize) {
                room.waiters[moved as usize].pos = waiter.pos;
            }
        }
        // The queue entry (fifo) is left behind and skipped: its generation no longer matches.
        self.free_waiter(now, w);
        self.count(RoomFlow::Abandoned);
        if waiter.user == REQUEST {
            // Its client gave up waiting: a timeout, which it may retry.
            let a = Attempt::fresh(waiter.since, waiter.source, NONE, waiter.call, false);
            self.turned_away(now, &a, Outcome::TimedOut, cal);
        } else {
            self.room_gone(now, waiter.user, cal);
        }
    }

    /// `waiting_room` for `summary.json`, over the measured period `span_s` long.
    pub(crate) fn room_summary(&self, span_s: f64) -> Option<RoomSummary> {
        let room = self.room.as_ref()?;
        let stats = self.metrics.room.as_ref()?;
        Some(stats.summary(span_s, room.state()))
    }

    /// A user (new, or back after its place lapsed) wants onto the site.
    fn room_enter(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        let room = self.room();
        if room.waiting == 0 && room.place_free() && room.rate_allows(now) {
            self.room_admit(now, user, now, cal);
        } else {
            self.room_turn_away_or_wait(now, user, cal);
        }
    }

    /// A user who cannot get in now: turned away (`reject`), or into the room.
    fn room_turn_away_or_wait(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        if self.room().method == RoomMethod::Reject {
            self.count(RoomFlow::Rejected);
            self.room_gone(now, user, cal);
            return;
        }
        self.room_wait(now, user, 0, NONE, cal);
    }

    /// Into the room: a user, or (`user` = `REQUEST`) an attempt of `source` for `call`.
    fn room_wait(
        &mut self,
        now: Time,
        user: u32,
        source: u16,
        call: u32,
        cal: &mut Calendar<Event>,
    ) {
        let room = self.room();
        let w = match room.free_waiters.pop() {
            Some(w) => w,
            None => {
                room.waiters.push(Waiter {
                    user: NONE,
                    source: 0,
                    call: NONE,
                    since: now,
                    generation: 0,
                    pos: 0,
                });
                (room.waiters.len() - 1) as u32
            }
        };
        let pos = room.order.len() as u32;
        let waiter = &mut room.waiters[w as usize];
        waiter.user = user;
        waiter.source = source;
        waiter.call = call;
        waiter.since = now;
        waiter.pos = pos;
        let generation = waiter.generation;
        match room.method {
            RoomMethod::Random => room.order.push(w),
            _ => room.queue.push_back((w, generation)),
        }
        room.waiting += 1;
        if room.place_free() {
            // Only the rate (or users ahead, admitted at this same instant) holds it back.
            cal.set_slot(room.admit_slot, room.next_admit.max(now), Event::RoomAdmit);
        }
        if let Some(m) = &mut self.metrics.room {
            m.waiting.add(now, 1.0);
        }
        let model = self.model;
        let patience = model
            .waiting_room
            .as_ref()
            .and_then(|r| r.patience.as_ref());
        if let Some(p) = patience {
            let wait = p.sample(&mut self.room().rng);
            cal.schedule(
                now.after(wait),
                Event::RoomAbandon {
                    waiter: w,
                    generation,
                },
            );
        }
    }

    /// Take the next waiting user out of the room: the first (fifo) or any (random).
    fn pop_waiter(&mut self, now: Time) -> Waiter {
        let room = self.room();
        let w = match room.method {
            RoomMethod::Random => {
                let n = room.order.len();
                let i = ((open01(&mut room.rng) * n as f64) as usize).min(n - 1);
                let w = room.order.swap_remove(i);
                if let Some(&moved) = room.order.get(i) {
                    room.waiters[moved as usize].pos = i as u32;
                }
                w
            }
            _ => loop {
                let (w, generation) = room.queue.pop_front().expect("waiting users are queued");
                if room.waiters[w as usize].generation == generation {
                    break w;
                }
            },
        };
        let waiter = room.waiters[w as usize];
        self.free_waiter(now, w);
        waiter
    }

    fn free_waiter(&mut self, now: Time, w: u32) {
        let room = self.room();
        let waiter = &mut room.waiters[w as usize];
        waiter.user = NONE;
        waiter.generation = waiter.generation.wrapping_add(1);
        room.free_waiters.push(w);
        room.waiting -= 1;
        if let Some(m) = &mut self.metrics.room {
            m.waiting.add(now, -1.0);
        }
    }

    /// Let a user who came at `since` onto the site, and send the page it came for.
    fn room_admit(&mut self, now: Time, user: u32, since: Time, cal: &mut Calendar<Event>) {
        let room = self.room();
        if let Some(s) = room.spacing_s {
            room.next_admit = now.after(s);
        }
        if let Some(m) = &mut self.metrics.room {
            m.admitted(now.since(since));
        }
        self.room_take_place(now, user);
        let u = &mut self.users[user as usize];
        let refreshing = std::mem::replace(&mut u.refreshing, false);
        let source = u.source;
        self.offer(now, source, user, NONE, refreshing, cal);
    }

    /// The user holds a place from now.
    fn room_take_place(&mut self, now: Time, user: u32) {
        let room = self
            .room
            .as_mut()
            .expect("only called when the model has a room");
        let p = match self.users[user as usize].pass {
            NONE => {
                let p = room.free_passes.pop().unwrap_or_else(|| {
                    room.passes.push(Pass::default());
                    (room.passes.len() - 1) as u32
                });
                self.users[user as usize].pass = p;
                p
            }
            p => p,
        };
        let room = self.room();
        let pass = &mut room.passes[p as usize];
        pass.held = true;
        pass.epoch += 1;
        room.on_site += 1;
        self.metrics.users.add(now, 1.0);
    }

    /// A place is given up: the next waiting user may take it (at this instant, as an event of
    /// its own, so that a chain of users leaving at once never recurses).
    fn room_release(&mut self, now: Time, cal: &mut Calendar<Event>) {
        let room = self.room();
        room.on_site -= 1;
        if room.waiting > 0 {
            cal.set_slot(room.admit_slot, room.next_admit.max(now), Event::RoomAdmit);
        }
        self.metrics.users.add(now, -1.0);
    }

    /// A user leaves without getting in (turned away, or out of patience): its session ends,
    /// and it may come back later as its client's `return` says.
    fn room_gone(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        let model = self.model;
        let u = self.users[user as usize];
        if u.pass != NONE {
            let room = self.room();
            room.passes[u.pass as usize].epoch += 1;
            room.free_passes.push(u.pass);
            self.users[user as usize].pass = NONE;
        }
        self.free_users.push(user);
        // The page it came for is lost (never sent, unless it was a refresh).
        self.metrics.call_lost_at_door(!u.refreshing);
        // As `client`'s `react` does for a user who leaves after errors.
        let client = &model.sources[u.source as usize].client;
        if client.return_probability > 0.0
            && open01(&mut self.room().rng) < client.return_probability
        {
            if self.sources[u.source as usize].returning.active() {
                self.sources[u.source as usize].returning.count += 1;
                self.reschedule_pool(now, u.source, PoolKind::Returning, cal);
            } else {
                let wait = client
                    .return_after
                    .as_ref()
                    .map_or(0.0, |d| d.sample(&mut self.room().rng));
                self.scheduled_back += 1;
                cal.schedule(now.after(wait), Event::Return { source: u.source });
            }
        }
    }

    /// An attempt of a requests source comes to the room: let in at once when a place is
    /// free, the rate allows and nobody waits; else turned away (`reject`: a rejection its
    /// client may retry) or kept waiting.
    pub(super) fn room_request(
        &mut self,
        now: Time,
        source: u16,
        call: u32,
        cal: &mut Calendar<Event>,
    ) {
        self.count(RoomFlow::Arrived);
        let room = self.room();
        if room.waiting == 0 && room.place_free() && room.rate_allows(now) {
            self.room_admit_request(now, source, call, now, cal);
        } else if room.method == RoomMethod::Reject {
            self.count(RoomFlow::Rejected);
            let a = Attempt::fresh(now, source, NONE, call, false);
            self.turned_away(now, &a, Outcome::Rejected, cal);
        } else {
            self.room_wait(now, REQUEST, source, call, cal);
        }
    }

    /// Let in an attempt of a requests source that came at `since`: it takes a place and is
    /// sent on to the site.
    fn room_admit_request(
        &mut self,
        now: Time,
        source: u16,
        call: u32,
        since: Time,
        cal: &mut Calendar<Event>,
    ) {
        let room = self.room();
        if let Some(s) = room.spacing_s {
            room.next_admit = now.after(s);
        }
        room.on_site += 1;
        if let Some(m) = &mut self.metrics.room {
            m.admitted(now.since(since));
        }
        self.send(now, since, source, NONE, call, true, cal);
    }

    /// An attempt the room let in has ended: its place goes to the next waiter.
    pub(super) fn room_request_left(&mut self, now: Time, cal: &mut Calendar<Event>) {
        self.count(RoomFlow::Left);
        let room = self.room();
        room.on_site -= 1;
        if room.waiting > 0 {
            cal.set_slot(room.admit_slot, room.next_admit.max(now), Event::RoomAdmit);
        }
    }

    fn count(&mut self, what: RoomFlow) {
        if let Some(m) = &mut self.metrics.room {
            m.count(what);
        }
    }
}
