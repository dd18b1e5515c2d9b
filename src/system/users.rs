//! Users and their sessions: sources that start sessions or send open requests, the users'
//! pages, think times and refreshes, and the pools that hold users waiting out an exponential
//! delay as one event per pool. What happens to a request once sent is `attempts`' business;
//! how a client reacts to an outcome is `client`'s.

use super::arrivals::Arrivals;
use super::streams::{self, SourceUse};
use super::{NONE, TOKEN_CAP, World};
use crate::engine::rng::open01;
use crate::engine::{Calendar, Stream, Time};
use crate::model::{Dist, Model, Population, SourceKind};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::events::{Event, PoolKind};

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

impl User {
    /// A user at the start of a session of `pages_left` pages.
    pub(super) fn arriving(source: u16, pages_left: u32) -> User {
        User {
            source,
            pages_left,
            failures: 0,
            refreshing: false,
            pass: NONE,
        }
    }
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
    /// A closed population's state (`population`); `None` for an open source.
    pub(super) closed: Option<population::Closed>,
}

impl SourceState {
    /// Source `i` of `model` at the start of a run seeded with `seed`.
    pub(super) fn new(model: &Model, i: usize, seed: u64) -> SourceState {
        let s = &model.sources[i];
        let per_s = match s.kind {
            SourceKind::Requests | SourceKind::Trace => s.baseline,
            // Sessions begin at users / E[session length] (Little's law).
            SourceKind::Users => s.baseline / model.session_length_s(s),
        };
        let rng = |purpose: SourceUse| streams::source(seed, i, purpose);
        let pool = |d, purpose, kind| Pool::for_dist(d, rng(purpose), i as u16, kind);
        SourceState {
            kind: s.kind,
            arrivals: match &s.trace {
                Some(trace) => Arrivals::replay(trace),
                None => Arrivals::new(per_s, &s.profile, &model.surge),
            },
            rng_arrivals: rng(SourceUse::Arrivals),
            rng_sessions: rng(SourceUse::Sessions),
            rng_patience: rng(SourceUse::Patience),
            rng_retry: rng(SourceUse::Retry),
            rng_shed: rng(SourceUse::Shed),
            pages: s.pages.clone(),
            think: s.think.clone(),
            tokens: TOKEN_CAP,
            thinking: pool(s.think.as_ref(), SourceUse::Think, PoolKind::Thinking),
            refreshing: pool(
                s.client.refresh_after.as_ref(),
                SourceUse::Refresh,
                PoolKind::Refreshing,
            ),
            returning: pool(
                s.client.return_after.as_ref(),
                SourceUse::Return,
                PoolKind::Returning,
            ),
            closed: (s.population == Population::Closed)
                .then(|| population::Closed::new(s, &model.surge)),
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

/// Users waiting for an exponential delay, held as one pool instead of one event each: with N
/// members of mean delay m, the next one leaves at rate N / m and is any member with equal
/// chance, exactly as if each had its own exponential clock (memorylessness). The pool's one
/// pending event lives in a calendar slot, so nothing stale is left behind. This keeps hundreds
/// of thousands of reading users out of the event heap.
///
/// Departures by thinning: the pool's event is a *candidate* of a Poisson process at the rate
/// B / m of a bound B >= N, and the candidate is a departure with probability N / B (a place
/// drawn uniformly in [0, B) falls below N), when the member at that place leaves (so it is a
/// uniform pick). Since N
/// may only rise above B at an insertion, where B is raised and the candidate drawn afresh
/// (memoryless), the departures have the rate N / m at every instant, exactly. B keeps a slack
/// over N (`slack`), so most insertions and departures leave the pending candidate as it is:
/// no reschedule per change of size, and about one candidate in 250 is thrown away.
///
/// Members are kept by *class* where their state is one of a few (`Classes`): the users of a
/// pool differ only by their pages left and failures in a row, so a pool of 200,000 readers is
/// a table of counts that stays in cache, and a uniform pick is a walk over the counts. The
/// others (a user with a place in a waiting room, or with many pages left) are kept one by one.
#[derive(Debug, Clone)]
pub(super) struct Pool {
    /// The stream of this pool's purpose: departures, picks, and the delays and decisions of
    /// its kind when they are not exponential.
    pub(super) rng: Stream,
    /// Mean delay, seconds; 0 when the delay is not exponential (members get their own events).
    pub(super) mean_s: f64,
    /// The source whose users wait here, and whether they are refreshing (the pool's kind).
    source: u16,
    refreshing: bool,
    /// Members by class.
    classes: Classes,
    /// Members that fit no class, in no particular order.
    others: Vec<User>,
    /// Members without identity (returning users are only a count).
    pub(super) count: u64,
    /// The calendar slot of the pool's next candidate, once it has had members.
    pub(super) slot: Option<usize>,
    /// A candidate is pending in the slot, drawn at the rate `bound` / `mean_s`.
    pending: bool,
    /// The bound B on the size that the pending candidate's rate was drawn with; `mean_s / B`.
    bound: u64,
    scale_s: f64,
    /// The pending candidate's place, uniform in [0, `bound`): a departure when it is below
    /// the size at the candidate's time, then the place of the member who leaves.
    place: u64,
    /// A member is leaving right now: draw the next candidate once the event is handled, not
    /// at each change within it.
    firing: bool,
}

/// Classes of members: pages left (0 to `PAGES - 1`) x failures in a row (0 to `FAILURES - 1`).
const PAGES: u32 = 64;
const FAILURES: u32 = 4;
const CLASSES: usize = (PAGES * FAILURES) as usize;
/// Counts are summed by blocks of `BLOCK` classes, so a pick walks blocks, then one block.
const BLOCK: usize = 16;

/// Members counted by class: which class, not which user, is all a departure needs to know.
#[derive(Debug, Clone)]
struct Classes {
    total: u64,
    count: [u32; CLASSES],
    block: [u32; CLASSES / BLOCK],
}

impl Classes {
    fn new() -> Classes {
        Classes {
            total: 0,
            count: [0; CLASSES],
            block: [0; CLASSES / BLOCK],
        }
    }

    #[inline]
    fn add(&mut self, class: usize) {
        self.total += 1;
        self.count[class] += 1;
        self.block[class / BLOCK] += 1;
    }

    /// Remove the member at place `r` (< `total`) in class order; its class.
    #[inline]
    fn take(&mut self, mut r: u64) -> usize {
        let mut b = 0;
        while r >= u64::from(self.block[b]) {
            r -= u64::from(self.block[b]);
            b += 1;
        }
        let mut c = b * BLOCK;
        while r >= u64::from(self.count[c]) {
            r -= u64::from(self.count[c]);
            c += 1;
        }
        self.total -= 1;
        self.count[c] -= 1;
        self.block[b] -= 1;
        c
    }
}

impl Pool {
    pub(super) fn for_dist(d: Option<&Dist>, rng: Stream, source: u16, kind: PoolKind) -> Pool {
        Pool {
            rng,
            // Only exponential delays can be pooled.
            mean_s: match d {
                Some(Dist::Exponential { mean }) => *mean,
                _ => 0.0,
            },
            source,
            refreshing: kind == PoolKind::Refreshing,
            classes: Classes::new(),
            others: Vec::new(),
            count: 0,
            slot: None,
            pending: false,
            bound: 0,
            scale_s: 0.0,
            place: 0,
            firing: false,
        }
    }

    pub(super) fn active(&self) -> bool {
        self.mean_s > 0.0
    }

    pub(super) fn size(&self) -> u64 {
        self.classes.total + self.others.len() as u64 + self.count
    }

    /// A user joins (in no order: departures pick uniformly).
    #[inline]
    pub(super) fn insert(&mut self, u: User) {
        let plain = u.pass == NONE && u.refreshing == self.refreshing && u.source == self.source;
        if plain && u.pages_left < PAGES && u.failures < FAILURES {
            self.classes
                .add((u.failures * PAGES + u.pages_left) as usize);
        } else {
            self.others.push(u);
        }
    }

    /// The pending candidate fires: is it a departure (its place falls among the members)?
    /// If so, `leave` takes the member; in any case `next_candidate` follows.
    #[inline]
    pub(super) fn fires(&mut self) -> bool {
        self.pending = false;
        self.place < self.size()
    }

    /// The member at the fired candidate's place leaves: by class first, then the others, then
    /// those without identity (`None`: a returning user).
    #[inline]
    pub(super) fn leave(&mut self) -> Option<User> {
        self.leave_at(self.place)
    }

    /// The member at place `r` (< size) leaves.
    #[inline]
    fn leave_at(&mut self, r: u64) -> Option<User> {
        if r < self.classes.total {
            let c = self.classes.take(r) as u32;
            Some(User {
                source: self.source,
                pages_left: c % PAGES,
                failures: c / PAGES,
                refreshing: self.refreshing,
                pass: NONE,
            })
        } else if let Some(i) = (r - self.classes.total).checked_sub(self.others.len() as u64) {
            debug_assert!(i < self.count);
            self.count -= 1;
            None
        } else {
            Some(self.others.swap_remove((r - self.classes.total) as usize))
        }
    }

    /// Users join (`insert` each); `users` is left empty.
    pub(super) fn insert_batch(&mut self, users: &mut Vec<User>) {
        for u in users.drain(..) {
            self.insert(u);
        }
    }

    /// A member picked uniformly leaves (one draw), if the pool has any: by class, one of the
    /// others, or one without identity (`Some(None)`: a returning user).
    pub(super) fn take_uniform(&mut self) -> Option<Option<User>> {
        let n = self.size();
        (n > 0).then(|| {
            let r = self.rng.random_range(0..n);
            self.leave_at(r)
        })
    }

    /// Forget the pending candidate: the next `reschedule_pool` draws a fresh one from its time
    /// (as after the pool's members were advanced to then without it).
    pub(super) fn drop_pending(&mut self) {
        self.pending = false;
    }

    /// After a candidate: the next one, the bound kept while it still fits the size within
    /// twice its slack; none while the pool is empty.
    #[inline]
    fn next_candidate(&mut self, now: Time, cal: &mut Calendar<Event>, kind: PoolKind) {
        let n = self.size();
        if n == 0 {
            if let Some(slot) = self.slot {
                cal.clear_slot(slot);
            }
            return;
        }
        if n > self.bound || self.bound > n + 2 * slack(n) {
            self.set_bound(n);
        }
        self.draw_candidate(now, cal, kind);
    }

    /// The pool may have grown: a fresh candidate when the bound no longer covers its size.
    #[inline]
    fn grew(&mut self, now: Time, cal: &mut Calendar<Event>, kind: PoolKind) {
        let n = self.size();
        if self.firing || (self.pending && n <= self.bound) {
            return;
        }
        if n == 0 {
            self.pending = false;
            let slot = *self.slot.get_or_insert_with(|| cal.add_slot());
            cal.clear_slot(slot);
            return;
        }
        self.set_bound(n);
        self.draw_candidate(now, cal, kind);
    }

    /// A new candidate from `now` at the rate of the bound (drawn afresh: memoryless).
    fn draw_candidate(&mut self, now: Time, cal: &mut Calendar<Event>, kind: PoolKind) {
        let slot = *self.slot.get_or_insert_with(|| cal.add_slot());
        let e: f64 = Exp1.sample(&mut self.rng);
        self.place = self.rng.random_range(0..self.bound);
        self.pending = true;
        // The member this candidate would take, when kept one by one: into cache ahead.
        if let Some(i) = self.place.checked_sub(self.classes.total) {
            prefetch(&self.others, i as usize);
        }
        cal.set_slot(
            slot,
            now.after(e * self.scale_s),
            Event::Pool {
                source: self.source,
                pool: kind,
            },
        );
    }

    /// Set the bound to the size plus its slack.
    fn set_bound(&mut self, n: u64) {
        self.bound = n + slack(n);
        self.scale_s = self.mean_s / self.bound as f64;
    }
}

/// The bound's margin over a size of `n`: about 0.4% (none below 256 members). The bound stays
/// within twice that of the size, so at most one candidate in 128 is thrown away (one in 250 or
/// so on average), and the bound moves only when the size has drifted by hundreds.
#[inline]
fn slack(n: u64) -> u64 {
    n / 256
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
        let mut u = self.users[user as usize];
        if self.sources[u.source as usize].closed.is_some() {
            if !self.closed_page_due(now, user) {
                return;
            }
            u = self.users[user as usize];
        }
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
            pool.insert(self.users[user as usize]);
            self.free_users.push(user);
            self.reschedule_pool(now, source, kind, cal);
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

    /// A pool has grown: a fresh candidate when the bound no longer covers its size (see
    /// `Pool`); nothing while a member is leaving, as `pool_fires` draws the next candidate then.
    #[inline]
    pub(super) fn reschedule_pool(
        &mut self,
        now: Time,
        source: u16,
        kind: PoolKind,
        cal: &mut Calendar<Event>,
    ) {
        self.sources[source as usize]
            .pool(kind)
            .grew(now, cal, kind);
    }

    /// The pool's candidate fires: a departure with probability size / bound (see `Pool`), then
    /// the next candidate.
    pub(super) fn pool_fires(
        &mut self,
        now: Time,
        source: u16,
        kind: PoolKind,
        cal: &mut Calendar<Event>,
    ) {
        let p = self.sources[source as usize].pool(kind);
        if p.fires() {
            p.firing = true;
            match p.leave() {
                Some(u) => {
                    let user = self.place_user(u);
                    self.page_due(now, user, cal);
                }
                None => self.begin_session(now, source, cal),
            }
            self.sources[source as usize].pool(kind).firing = false;
        }
        self.sources[source as usize]
            .pool(kind)
            .next_candidate(now, cal, kind);
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
        self.metrics.sessions(now, 1, 0, 0);
        if self.room.is_some() {
            self.room_arrive(now, user, cal);
            return;
        }
        self.metrics.users.add(now, 1.0);
        self.offer(now, source, user, NONE, false, cal);
    }

    pub(super) fn new_user(&mut self, source: u16, pages: f64) -> u32 {
        let pages_left = whole_pages(pages, &mut self.sources[source as usize].rng_sessions);
        self.place_user(User::arriving(source, pages_left))
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

mod population;

#[cfg(test)]
mod tests;
