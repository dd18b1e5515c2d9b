//! Users and their sessions: sources that start sessions or send open requests, the users'
//! pages, think times and refreshes, and the pools that hold users waiting out an exponential
//! delay as one event per pool. What happens to a request once sent is `attempts`' business;
//! how a client reacts to an outcome is `client`'s.

use super::arrivals::Arrivals;
use super::{NONE, TOKEN_CAP, World};
use crate::engine::rng::{open01, substream};
use crate::engine::{Calendar, Stream, Time};
use crate::model::{Dist, Model, SourceKind};
use rand_distr::{Distribution, Exp1};

use super::events::Event;

/// A user's session state. It lives in the users arena while the user has a request in flight
/// or an event of its own, and moves by value into a pool while it waits there, so the arena
/// stays as small as the users in flight (and in cache) however many users read.
#[derive(Debug, Clone, Copy)]
pub(super) struct User {
    pub(super) source: u16,
    pub(super) pages_left: u32,
    pub(super) failures: u32,
    /// The next page request repeats a failed one.
    pub(super) refreshing: bool,
    /// Its place on the site when there is a waiting room (`waiting_room`), else `NONE`.
    pub(super) pass: u32,
}

pub(super) struct SourceState {
    pub(super) kind: SourceKind,
    pub(super) arrivals: Arrivals,
    /// Arrival times (of requests, or of sessions).
    pub(super) rng_arrivals: Stream,
    /// Session lengths (pages per visit).
    pub(super) rng_sessions: Stream,
    /// Patience: how long a client waits for a thread before abandoning.
    pub(super) rng_patience: Stream,
    /// Retry backoff jitter.
    pub(super) rng_retry: Stream,
    /// Which requests load shedding turns away.
    pub(super) rng_shed: Stream,
    pub(super) pages: Option<Dist>,
    pub(super) think: Option<Dist>,
    /// Retry tokens (when the client has a retry budget).
    pub(super) tokens: f64,
    /// Users reading a page (its stream: think times).
    pub(super) thinking: Pool,
    /// Users about to refresh (its stream: whether to refresh, and when).
    pub(super) refreshing: Pool,
    /// Users who will come back (its stream: whether to come back, and when).
    pub(super) returning: Pool,
}

/// Purposes of a source's random streams: stream (SOURCE, source index, purpose).
const SOURCE: u64 = 1;
const ARRIVALS: u64 = 1;
const SESSIONS: u64 = 2;
const THINK: u64 = 3;
const REFRESH: u64 = 4;
const RETURN: u64 = 5;
const PATIENCE: u64 = 6;
const RETRY: u64 = 7;
const SHED: u64 = 8;

impl SourceState {
    /// Source `i` of `model` at the start of a run seeded with `seed`.
    pub(super) fn new(model: &Model, i: usize, seed: u64) -> SourceState {
        let s = &model.sources[i];
        let per_s = match s.kind {
            SourceKind::Requests | SourceKind::Trace => s.baseline,
            // Sessions begin at users / E[session length] (Little's law).
            SourceKind::Users => s.baseline / model.session_length_s(s),
        };
        let rng = |purpose: u64| substream(seed, &[SOURCE, i as u64, purpose]);
        SourceState {
            kind: s.kind,
            arrivals: match &s.trace {
                Some(trace) => Arrivals::replay(trace),
                None => Arrivals::new(per_s, &s.profile, &model.surge),
            },
            rng_arrivals: rng(ARRIVALS),
            rng_sessions: rng(SESSIONS),
            rng_patience: rng(PATIENCE),
            rng_retry: rng(RETRY),
            rng_shed: rng(SHED),
            pages: s.pages.clone(),
            think: s.think.clone(),
            tokens: TOKEN_CAP,
            thinking: Pool::for_dist(s.think.as_ref(), rng(THINK)),
            refreshing: Pool::for_dist(s.client.refresh_after.as_ref(), rng(REFRESH)),
            returning: Pool::for_dist(s.client.return_after.as_ref(), rng(RETURN)),
        }
    }
}

impl SourceState {
    pub(super) fn pool(&mut self, kind: PoolKind) -> &mut Pool {
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
/// members of mean delay m, the next one leaves at rate N / m and is any member with equal
/// chance, exactly as if each had its own exponential clock (memorylessness). The pool's one
/// pending event lives in a calendar slot, so nothing stale is left behind. This keeps hundreds
/// of thousands of reading users out of the event heap.
///
/// One exponential draw per departure (the next reaction method of Gibson and Bruck, as
/// modified by Anderson): the next departure comes when the rate, integrated from the last one,
/// reaches a unit exponential drawn then. When N changes, the part of that draw not yet used
/// up (`left`) carries over at the new rate instead of a new draw; the time of the departure is
/// then exactly as likely as with a fresh draw, since the rate changes only at events that do
/// not depend on this draw.
#[derive(Debug, Clone)]
pub(super) struct Pool {
    /// The stream of this pool's purpose: departures, places, and the delays and decisions of
    /// its kind when they are not exponential.
    pub(super) rng: Stream,
    /// Mean delay, seconds; 0 when the delay is not exponential (members get their own events).
    pub(super) mean_s: f64,
    pub(super) members: Vec<User>,
    /// Members without identity (returning users are only a count).
    pub(super) count: u64,
    /// The calendar slot of the pool's next departure, once it has had members.
    pub(super) slot: Option<usize>,
    /// The uniform draw that places the next newcomer, drawn one insertion ahead so the place
    /// can be fetched into cache before it is needed (it is independent of everything in
    /// between, so the place is still uniform).
    pub(super) next_place: f64,
    /// A member is leaving right now: set the next departure once the event is handled, not
    /// at each change within it (the member often comes straight back to the same pool).
    pub(super) firing: bool,
    /// The unit exponential of the pending departure not yet used up at `since`; `None` when no
    /// departure is pending (the pool was empty, or its departure has just fired).
    pub(super) left: Option<f64>,
    /// When `left` was last brought up to date, and the rate (members / mean) from then on.
    pub(super) since: Time,
    pub(super) rate: f64,
}

impl Pool {
    pub(super) fn for_dist(d: Option<&Dist>, rng: Stream) -> Pool {
        Pool {
            rng,
            // Only exponential delays can be pooled.
            mean_s: match d {
                Some(Dist::Exponential { mean }) => *mean,
                _ => 0.0,
            },
            members: Vec::new(),
            count: 0,
            slot: None,
            next_place: 0.0,
            firing: false,
            left: None,
            since: Time::ZERO,
            rate: 0.0,
        }
    }

    pub(super) fn active(&self) -> bool {
        self.mean_s > 0.0
    }

    pub(super) fn size(&self) -> u64 {
        self.members.len() as u64 + self.count
    }

    /// A user joins at a uniform place among the members (see `World::wait_then_page`).
    #[inline]
    pub(super) fn insert(&mut self, u: User) {
        let n = self.members.len();
        let j = ((self.next_place * (n + 1) as f64) as usize).min(n);
        if j == n {
            self.members.push(u);
        } else {
            let displaced = std::mem::replace(&mut self.members[j], u);
            self.members.push(displaced);
        }
        self.next_place = open01(&mut self.rng);
        prefetch(&self.members, (self.next_place * (n + 2) as f64) as usize);
    }
}

impl Pool {
    /// Users join one after another, each at a uniform place among the members, as `insert`
    /// would put them (the order of their arrivals does not matter: each takes a uniform place
    /// among those there); `users` is left empty. The places are drawn a few users ahead and
    /// fetched into cache together, so the misses of a large pool overlap.
    pub(super) fn insert_batch(&mut self, users: &mut Vec<User>) {
        const AHEAD: usize = 16;
        let mut places = [0usize; AHEAD];
        for chunk in users.chunks(AHEAD) {
            let n = self.members.len();
            for (k, j) in places.iter_mut().enumerate().take(chunk.len()) {
                *j = ((open01(&mut self.rng) * (n + k + 1) as f64) as usize).min(n + k);
                prefetch(&self.members, *j);
            }
            for (&u, &j) in chunk.iter().zip(&places) {
                if j == self.members.len() {
                    self.members.push(u);
                } else {
                    let displaced = std::mem::replace(&mut self.members[j], u);
                    self.members.push(displaced);
                }
            }
        }
        users.clear();
    }
}

/// A session's length in whole pages, at least one: a fractional draw `pages` rounds up with
/// the probability of its fraction, so the mean number of pages is the distribution's.
#[inline]
pub(super) fn whole_pages(pages: f64, rng: &mut Stream) -> u32 {
    let whole = pages.floor() + f64::from(u8::from(open01(rng) < pages.fract()));
    whole.max(1.0) as u32
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

impl World<'_> {
    /// A user is due to ask for a page: the next one, a refresh, or none (it leaves).
    pub(super) fn page_due(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        let u = self.users[user as usize];
        if u.pages_left == 0 {
            self.leave(now, user, cal);
        } else {
            if self.room.is_some() && !self.room_check_in(now, user, cal) {
                return;
            }
            self.users[user as usize].refreshing = false;
            self.offer(now, u.source, user, NONE, u.refreshing, cal);
        }
    }

    /// A user starts waiting (reading, or before a refresh): in its source's pool, or with its
    /// own event when the delay is not exponential.
    pub(super) fn wait_then_page(
        &mut self,
        now: Time,
        user: u32,
        kind: PoolKind,
        cal: &mut Calendar<Event>,
    ) {
        if self.room.is_some() {
            self.room_idle(now, user, cal);
        }
        let source = self.users[user as usize].source;
        let src = &mut self.sources[source as usize];
        let pool = src.pool(kind);
        if pool.active() {
            // Inside-out Fisher-Yates: the newcomer takes a uniform place among the n + 1 and
            // the member there moves to the end, so the order stays a uniform permutation and
            // the member at the end is a uniform pick. (The random access here is a store the
            // processor need not wait for; a random pick at departure would be a load it must.)
            pool.insert(self.users[user as usize]);
            self.free_users.push(user);
            if !pool.firing {
                self.reschedule_pool(now, source, kind, cal);
            }
        } else {
            let wait = match kind {
                PoolKind::Thinking => src
                    .think
                    .as_ref()
                    .map_or(0.0, |d| d.sample(&mut src.thinking.rng)),
                _ => {
                    let c = &self.model.sources[source as usize].client;
                    c.refresh_after
                        .as_ref()
                        .map_or(0.0, |d| d.sample(&mut src.refreshing.rng))
                }
            };
            cal.schedule(now.after(wait), Event::Page { user });
        }
    }

    /// A pool changed size, or its departure has just fired: its next departure, in the pool's
    /// calendar slot (which replaces the departure planned before). The unit exponential still
    /// left of the pending departure carries over at the new rate; only a pool with none pending
    /// draws a new one.
    pub(super) fn reschedule_pool(
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
            pool.left = None;
            cal.clear_slot(slot);
            return;
        }
        let left = match pool.left {
            Some(left) => (left - pool.rate * now.since(pool.since)).max(0.0),
            None => Exp1.sample(&mut pool.rng),
        };
        pool.left = Some(left);
        pool.since = now;
        pool.rate = n as f64 / pool.mean_s;
        cal.set_slot(
            slot,
            now.after(left / pool.rate),
            Event::Pool { source, pool: kind },
        );
    }

    pub(super) fn schedule_next(&mut self, source: u16, cal: &mut Calendar<Event>) {
        let horizon = self.horizon.secs();
        let src = &mut self.sources[source as usize];
        if let Some(t) = src.arrivals.next(&mut src.rng_arrivals, horizon) {
            let ev = match src.kind {
                SourceKind::Requests | SourceKind::Trace => Event::Arrival { source },
                SourceKind::Users => Event::Session { source },
            };
            cal.set_slot(self.arrival_slot[source as usize], Time::from_secs(t), ev);
        }
    }

    pub(super) fn begin_session(&mut self, now: Time, source: u16, cal: &mut Calendar<Event>) {
        let src = &mut self.sources[source as usize];
        let pages = (src.pages.as_ref()).map_or(1.0, |d| d.sample(&mut src.rng_sessions));
        let user = self.new_user(source, pages);
        if self.room.is_some() {
            self.room_arrive(now, user, cal);
            return;
        }
        self.metrics.users.add(now, 1.0);
        self.offer(now, source, user, NONE, false, cal);
    }

    pub(super) fn new_user(&mut self, source: u16, pages: f64) -> u32 {
        let pages_left = whole_pages(pages, &mut self.sources[source as usize].rng_sessions);
        self.place_user(User {
            source,
            pages_left,
            failures: 0,
            refreshing: false,
            pass: NONE,
        })
    }

    /// Put a user into the arena (the most recently freed place first: likely in cache).
    pub(super) fn place_user(&mut self, u: User) -> u32 {
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

    pub(super) fn leave(&mut self, now: Time, user: u32, cal: &mut Calendar<Event>) {
        if self.room.is_some() {
            self.room_leave(now, user, cal);
        } else {
            self.metrics.users.add(now, -1.0);
        }
        self.free_users.push(user);
    }
}
