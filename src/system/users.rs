//! Users and their sessions: sources that start sessions or send open requests, the users'
//! pages, think times and refreshes, and the pools that hold users waiting out an exponential
//! delay as one event per pool. What happens to a request once sent is `attempts`' business;
//! how a client reacts to an outcome is `client`'s.

use super::arrivals::Arrivals;
use super::{NONE, World};
use crate::engine::rng::open01;
use crate::engine::{Calendar, Stream, Time};
use crate::model::{Dist, SourceKind};
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
    pub(super) rng: Stream,
    pub(super) pages: Option<Dist>,
    pub(super) think: Option<Dist>,
    /// Retry tokens (when the client has a retry budget).
    pub(super) tokens: f64,
    /// Users reading a page, when think times are exponential.
    pub(super) thinking: Pool,
    /// Users about to refresh, when the refresh delay is exponential.
    pub(super) refreshing: Pool,
    /// Users who will come back, when the return delay is exponential.
    pub(super) returning: Pool,
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
/// members of mean delay m, the next one leaves after Exp(N / m) and is any member with equal
/// chance, exactly as if each had its own exponential clock (memorylessness). The pool's one
/// pending event lives in a calendar slot and is redrawn in place whenever N changes, so
/// nothing stale is left behind. This keeps hundreds of thousands of reading users out of the
/// event heap.
#[derive(Debug, Clone, Default)]
pub(super) struct Pool {
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
    /// A member is leaving right now: redraw the next departure once the event is handled, not
    /// at each change within it (the member often comes straight back to the same pool).
    pub(super) firing: bool,
}

impl Pool {
    pub(super) fn for_dist(d: Option<&Dist>) -> Pool {
        match d {
            Some(Dist::Exponential { mean }) => Pool {
                mean_s: *mean,
                ..Pool::default()
            },
            _ => Pool::default(),
        }
    }

    pub(super) fn active(&self) -> bool {
        self.mean_s > 0.0
    }

    pub(super) fn size(&self) -> u64 {
        self.members.len() as u64 + self.count
    }
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
            cal.clear_slot(slot);
            return;
        }
        let e: f64 = Exp1.sample(&mut self.rng_users);
        let wait = e * pool.mean_s / n as f64;
        cal.set_slot(slot, now.after(wait), Event::Pool { source, pool: kind });
    }

    pub(super) fn schedule_next(&mut self, source: u16, cal: &mut Calendar<Event>) {
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

    pub(super) fn begin_session(&mut self, now: Time, source: u16, cal: &mut Calendar<Event>) {
        let src = &mut self.sources[source as usize];
        let pages = src.pages.as_ref().map_or(1.0, |d| d.sample(&mut src.rng));
        let user = self.new_user(source, pages);
        if self.room.is_some() {
            self.room_arrive(now, user, cal);
            return;
        }
        self.metrics.users.add(now, 1.0);
        self.offer(now, source, user, NONE, false, cal);
    }

    pub(super) fn new_user(&mut self, source: u16, pages: f64) -> u32 {
        // Whole pages: a fractional draw rounds up with the probability of its fraction, so the
        // mean number of pages is the distribution's.
        let whole =
            pages.floor() + f64::from(u8::from(open01(&mut self.rng_users) < pages.fract()));
        self.place_user(User {
            source,
            pages_left: whole.max(1.0) as u32,
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
