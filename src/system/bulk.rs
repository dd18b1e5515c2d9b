//! Users refused at once, advanced as a group. While the first tier has no instance in rotation
//! every request is refused the moment it is sent, and nothing a user does can change that: only
//! an event that is not a user's (a health-check probe or its answer, a restart, an operator's
//! action, a bucket's end, an attempt still in flight) can put an instance back. So when a
//! user's event fires in that state, every user of every source that qualifies is advanced at
//! once up to the next such event, `end`, without the event set:
//!
//! - a pool of n members with exponential delays of mean m loses Binomial(n, 1 - e^(-Δ/m))
//!   of them in the Δ until `end` (each member's delay is memoryless), a uniform subset (picked
//!   one by one, `Pool::take_uniform`), each due at a time drawn from the exponential
//!   truncated to [0, Δ); the returning pool likewise, from its count;
//! - sessions and open requests arrive from their source's arrival process until `end`;
//! - each due user does exactly what the one-by-one path does with a refused page (`react`): a
//!   refresh due before `end` is handled in the window, a later one joins its pool at a uniform
//!   place; a return due before `end` is a session in the window, a later one joins the count;
//! - every pool then gets a fresh pending departure from `end`.
//!
//! The counts are the same sums as one by one (a window lies inside one bucket and on one side
//! of the warm-up, since both end at events); the users level is settled at `end` from its
//! changes' times (`Level::add_settled`), in time order only when a new peak is possible. Not
//! here, and not grouped: a source whose refused requests need state of their own (retries, a
//! breaker or throttle or an edge rate limit, a refresh or return delay that is not
//! exponential), a model with a waiting room or a site-wide rate limit or whose first tier is
//! not visited by every request, and load shedding while it
//! is on; their events stay one by one and bound the windows of the others.

use super::World;
use super::events::Event;
use super::events::PoolKind;
use super::users::{Pool, SourceState, User, whole_pages};
use crate::engine::rng::open01;
use crate::engine::{Calendar, Time};
use crate::model::{Model, SourceKind};
use rand_distr::{Binomial, Distribution, Exp1};

/// The group advance's state: which sources qualify, and reused work space.
#[derive(Debug, Default)]
pub(super) struct Group {
    /// The model allows it at all (tests may turn it off, to compare).
    pub(super) on: bool,
    /// Per source: its refused requests need no state of their own.
    source_ok: Vec<bool>,
    /// Users due within the window, in no particular order.
    due: Vec<Due>,
    /// Changes of the users level within the window: (time, +1 or -1).
    changes: Vec<(Time, f64)>,
    /// Per source: users going back to its refresh pool past the window, placed at its end
    /// (`Pool::insert_batch`).
    back: Vec<Vec<User>>,
    /// The calendar slots of the qualifying sources (their arrivals and pools).
    skip: Vec<usize>,
    /// Requests refused through the group advance.
    pub(super) refused: u64,
}

/// A user due within the window: one who was waiting (`Some`), or a session to begin (`None`).
#[derive(Debug, Clone, Copy)]
struct Due {
    at: Time,
    source: u16,
    user: Option<User>,
}

impl Group {
    pub(super) fn new(model: &Model, sources: &[SourceState]) -> Group {
        let source_ok: Vec<bool> = (model.sources.iter().zip(sources))
            .map(|(s, state)| {
                let c = &s.client;
                // A closed population's users keep their own events (`population`).
                let plain = c.breaker.is_none()
                    && c.throttle.is_none()
                    && s.rate_limit.is_none()
                    && state.closed.is_none();
                plain
                    && match s.kind {
                        SourceKind::Users => {
                            let may_refresh =
                                c.refresh > 0.0 && c.give_up_after.is_none_or(|n| n > 1);
                            (!may_refresh || state.refreshing.active())
                                && (c.return_probability <= 0.0 || state.returning.active())
                        }
                        SourceKind::Requests | SourceKind::Trace => c.retry.is_none(),
                    }
            })
            .collect();
        let entry = model.tiers.first().is_some_and(|t| t.visit >= 1.0);
        Group {
            on: entry
                && model.waiting_room.is_none()
                && model.rate_limit.is_none()
                && source_ok.iter().any(|&ok| ok),
            back: vec![Vec::new(); sources.len()],
            source_ok,
            ..Group::default()
        }
    }
}

/// A user who joins pool `p` at `at`: the time its delay ends, if that is before `end` (it is
/// due again within the window); `None` when it stays in the pool past the window.
fn due_in_window(p: &mut Pool, at: Time, end: Time) -> Option<Time> {
    let delay: f64 = Exp1.sample(&mut p.rng);
    let due = at.after(delay * p.mean_s);
    (due < end).then_some(due)
}

const KINDS: [PoolKind; 3] = [
    PoolKind::Thinking,
    PoolKind::Refreshing,
    PoolKind::Returning,
];

impl World<'_> {
    /// Is an event of `source` to be handled by advancing the group (`advance_group`)?
    #[inline]
    pub(super) fn grouped(&self, source: u16) -> bool {
        #[cfg(test)]
        if self.one_by_one {
            return false;
        }
        self.group.on
            && self.metrics.tiers[0].in_rotation == 0
            && self.shed_fraction == 0.0
            && self.group.source_ok[source as usize]
    }

    /// `ev` (an arrival, a session or a pool departure of a qualifying source) fires at `t0`
    /// with no instance of the first tier in rotation: advance every qualifying source's users
    /// to the next event that is not theirs (see the module's notes).
    pub(super) fn advance_group(&mut self, t0: Time, ev: Event, cal: &mut Calendar<Event>) {
        let mut g = std::mem::take(&mut self.group);
        let end = self.window_end(&mut g, t0, cal);
        let fired_arrival = self.fired(&mut g, t0, ev);
        let open_requests = self.arrivals_until(&mut g, (t0, end), fired_arrival, cal);
        self.departures_until(&mut g, t0, end);
        let tally = self.react_all(&mut g, end, open_requests);
        self.settle(&mut g, (t0, end), &tally);
        self.reschedule_pools(&mut g, end, cal);
        self.group = g;
    }

    /// The window's end: the next event that is not a qualifying source's (or the horizon).
    fn window_end(&mut self, g: &mut Group, t0: Time, cal: &Calendar<Event>) -> Time {
        g.due.clear();
        g.changes.clear();
        g.skip.clear();
        for (i, _) in g.source_ok.iter().enumerate().filter(|(_, ok)| **ok) {
            g.skip.push(self.arrival_slot[i]);
            let s = &mut self.sources[i];
            g.skip.extend(KINDS.iter().filter_map(|&k| s.pool(k).slot));
        }
        cal.earliest_except(&g.skip)
            .map_or(self.horizon, |t| t.min(self.horizon))
            .max(t0)
    }

    /// The event that fired: the source of an arrival or session (whose arrivals are then
    /// drawn from `t0`), or a pool's departure, due at `t0`.
    fn fired(&mut self, g: &mut Group, t0: Time, ev: Event) -> Option<u16> {
        let mut fired_arrival = None;
        match ev {
            Event::Arrival { source } | Event::Session { source } => fired_arrival = Some(source),
            Event::Pool { source, pool } => {
                // A candidate of the pool (see `Pool`): a departure, or thrown away.
                let p = self.sources[source as usize].pool(pool);
                if p.fires() {
                    let user = p.leave();
                    g.due.push(Due {
                        at: t0,
                        source,
                        user,
                    });
                }
            }
            _ => unreachable!("only users' events are grouped"),
        }

        fired_arrival
    }

    /// Arrivals until `end`: sessions are due users; open requests are only counted (returned).
    fn arrivals_until(
        &mut self,
        g: &mut Group,
        (t0, end): (Time, Time),
        fired_arrival: Option<u16>,
        cal: &mut Calendar<Event>,
    ) -> u64 {
        let mut open_requests = 0u64;
        let horizon = self.horizon.secs();
        for (i, _) in g.source_ok.iter().enumerate().filter(|(_, ok)| **ok) {
            let source = i as u16;
            let slot = self.arrival_slot[i];
            let src = &mut self.sources[i];
            let users = src.kind == SourceKind::Users;
            let draw = |src: &mut SourceState| {
                (src.arrivals.next(&mut src.rng_arrivals, horizon)).map(Time::from_secs)
            };
            let (mut next, mut moved) = if fired_arrival == Some(source) {
                (Some(t0), true)
            } else {
                (cal.slot_time(slot), false)
            };
            while let Some(at) = next.filter(|&at| at < end) {
                if users {
                    g.due.push(Due {
                        at,
                        source,
                        user: None,
                    });
                } else {
                    open_requests += 1;
                }
                next = draw(src);
                moved = true;
            }
            if moved {
                match next {
                    Some(at) => {
                        let ev = if users {
                            Event::Session { source }
                        } else {
                            Event::Arrival { source }
                        };
                        cal.set_slot(slot, at, ev);
                    }
                    None => cal.clear_slot(slot),
                }
            }
        }

        open_requests
    }

    /// Departures from the pools before `end`: Binomial counts, uniform members, truncated
    /// exponential times.
    fn departures_until(&mut self, g: &mut Group, t0: Time, end: Time) {
        let span_s = end.since(t0);
        let last = Time(end.0.saturating_sub(1)).max(t0);
        for (i, _) in g.source_ok.iter().enumerate().filter(|(_, ok)| **ok) {
            let src = &mut self.sources[i];
            for kind in KINDS {
                let p = src.pool(kind);
                p.drop_pending();
                let n = p.size();
                if !p.active() || n == 0 || span_s <= 0.0 {
                    continue;
                }
                let m = p.mean_s;
                let q = -(-span_s / m).exp_m1();
                let d = Binomial::new(n, q).map_or(0, |b| b.sample(&mut p.rng));
                for _ in 0..d {
                    // Exponential truncated to [0, span): inverse of its distribution function.
                    let x = -m * (-(open01(&mut p.rng) * q)).ln_1p();
                    let at = t0.after(x).min(last);
                    let user = p.take_uniform().flatten();
                    g.due.push(Due {
                        at,
                        source: i as u16,
                        user,
                    });
                }
            }
        }
    }

    /// Each due user, as the one-by-one path would handle it. Every open request refused is
    /// a lost call (their sources have no retries).
    fn react_all(&mut self, g: &mut Group, end: Time, open_requests: u64) -> Tally {
        let (mut first, mut repeats) = (open_requests, 0u64);
        let (mut lost, mut arrived, mut gave_ups) = (open_requests, 0u64, 0u64);
        while let Some(d) = g.due.pop() {
            let i = d.source as usize;
            let src = &mut self.sources[i];
            let client = &self.model.sources[i].client;
            let mut u = match d.user {
                Some(u) => u,
                None => {
                    let pages =
                        (src.pages.as_ref()).map_or(1.0, |p| p.sample(&mut src.rng_sessions));
                    g.changes.push((d.at, 1.0));
                    arrived += 1;
                    User::arriving(d.source, whole_pages(pages, &mut src.rng_sessions))
                }
            };
            if u.pages_left == 0 {
                g.changes.push((d.at, -1.0));
                continue;
            }
            // Its page is sent and refused at once; then the client reacts.
            if u.refreshing {
                repeats += 1;
            } else {
                first += 1;
            }
            u.failures += 1;
            let gave_up = client.give_up_after.is_some_and(|n| u.failures >= n);
            if !gave_up && client.refresh > 0.0 && open01(&mut src.refreshing.rng) < client.refresh
            {
                u.refreshing = true;
                match due_in_window(&mut src.refreshing, d.at, end) {
                    Some(at) => g.due.push(Due {
                        at,
                        source: d.source,
                        user: Some(u),
                    }),
                    None => g.back[i].push(u),
                }
                continue;
            }
            // It gives up: its page and its session are lost.
            g.changes.push((d.at, -1.0));
            lost += 1;
            gave_ups += 1;
            if client.return_probability > 0.0
                && open01(&mut src.returning.rng) < client.return_probability
            {
                match due_in_window(&mut src.returning, d.at, end) {
                    Some(at) => g.due.push(Due {
                        at,
                        source: d.source,
                        user: None,
                    }),
                    None => src.returning.count += 1,
                }
            }
        }

        Tally {
            first,
            repeats,
            lost,
            arrived,
            gave_ups,
        }
    }

    /// Settle the counts and the users level at `end`.
    fn settle(&mut self, g: &mut Group, (t0, end): (Time, Time), tally: &Tally) {
        let Tally {
            first,
            repeats,
            lost,
            arrived,
            gave_ups,
        } = *tally;
        let n = first + repeats;
        self.metrics.sessions(t0, arrived, 0, gave_ups);
        if n > 0 {
            self.metrics.refused_many(t0, first, repeats, lost);
            if self.metrics.counts(t0) {
                let stats = &mut self.metrics.tiers[0];
                stats.arrivals += n;
                stats.rejected += n;
            }
            self.tiers[0].skip_empty_picks(n);
            g.refused += n;
        }
        if !g.changes.is_empty() {
            let level = &mut self.metrics.users;
            let (mut sum, mut weighted_ns, mut ups) = (0.0, 0.0, 0.0);
            for &(at, delta) in &g.changes {
                sum += delta;
                weighted_ns += delta * end.nanos_since(at);
                ups += delta.max(0.0);
            }
            let mut peak = level.value;
            if level.counting() && level.value + ups > level.peak {
                // A new peak is possible: find it in time order.
                g.changes.sort_unstable_by_key(|c| c.0);
                let mut v = level.value;
                for &(_, delta) in &g.changes {
                    v += delta;
                    peak = peak.max(v);
                }
            }
            level.add_settled(end, sum, weighted_ns, peak);
        }
    }

    /// Every pool's next departure, fresh from `end` (memoryless), once the users going back
    /// to it have their places.
    fn reschedule_pools(&mut self, g: &mut Group, end: Time, cal: &mut Calendar<Event>) {
        for (i, _) in g.source_ok.iter().enumerate().filter(|(_, ok)| **ok) {
            self.sources[i].refreshing.insert_batch(&mut g.back[i]);
            for kind in KINDS {
                let p = self.sources[i].pool(kind);
                if p.active() && (p.size() > 0 || p.slot.is_some()) {
                    self.reschedule_pool(end, i as u16, kind, cal);
                }
            }
        }
    }
}

/// What the users of a window did: requests sent first and again, calls lost, sessions begun
/// and given up.
#[derive(Debug, Clone, Copy)]
struct Tally {
    first: u64,
    repeats: u64,
    lost: u64,
    arrived: u64,
    gave_ups: u64,
}

#[cfg(test)]
mod tests;
