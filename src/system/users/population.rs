//! A closed population: a users source (`population = "closed"`) whose users are a fixed pool,
//! as a load generator's threads or virtual users, held at the target round(`users` x
//! profile(t) x surge(t)). Each user loops: a think, then one page request, and so on. A user
//! whose session ends (all its pages read, or given up after errors) is replaced at once by a
//! new user who starts with a think (the new session is drawn when that think ends: the same
//! thing, since nothing tells the two apart meanwhile). When the target rises, the new users
//! join at that instant, each starting with a think; when it falls, the users above it leave at
//! the end of a think (or of a refresh delay), before their next request: any users, the first
//! whose wait ends, not the most recent. So the population equals the target at every instant
//! after a rise, and comes down to it within about a think time after a fall.
//!
//! The target is followed exactly: between two breakpoints of the profile and the surge both
//! factors are linear, so the target before rounding is a quadratic in time, and its next
//! crossing of a half-integer is a root of it (`Target::next_change`); the source's arrival
//! slot holds that instant (`Event::Population`). Thinking users wait in the source's pools
//! exactly as an open source's do (one event per pool when think times are exponential).
//!
//! Not here: the checks of the key (`crate::model`); a closed source has no arrivals, no
//! returning users and no waiting room (all refused when the model is read), and is never
//! advanced as a group (`bulk`).

use super::{User, whole_pages};
use crate::engine::{Calendar, Time};
use crate::model::{Profile, Source, Surge};
use crate::system::events::{Event, PoolKind};
use crate::system::{NONE, World};

/// A closed source's population.
#[derive(Debug, Clone)]
pub(in crate::system) struct Closed {
    /// Users the source should hold now.
    pub(in crate::system) target: u64,
    /// Users of the source on the site now (reading, waiting for a page, about to refresh),
    /// those above the target included until they leave. Never below the target.
    pub(in crate::system) present: u64,
    /// The target's next change: exactly when (seconds), and to what.
    next: Option<(f64, u64)>,
    curve: Target,
}

impl Closed {
    pub(in crate::system) fn new(s: &Source, surge: &Surge) -> Closed {
        let curve = Target::new(s.baseline, &s.profile, surge);
        Closed {
            target: curve.count(0.0),
            present: 0,
            next: None,
            curve,
        }
    }
}

/// The target round(`users` x profile(t) x surge(t)) over time.
#[derive(Debug, Clone)]
pub(in crate::system) struct Target {
    users: f64,
    profile: Profile,
    surge: Surge,
    /// Where either factor may change its slope or jump, in order.
    cuts: Vec<f64>,
}

impl Target {
    pub(in crate::system) fn new(users: f64, profile: &Profile, surge: &Surge) -> Target {
        let mut cuts: Vec<f64> = profile.points.iter().map(|p| p.0).collect();
        cuts.extend(surge.breakpoints().iter().filter(|x| x.is_finite()));
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        Target {
            users,
            profile: profile.clone(),
            surge: *surge,
            cuts,
        }
    }

    /// The target before rounding at `t`.
    fn value(&self, t: f64) -> f64 {
        self.users * self.profile.at(t) * self.surge.factor(t)
    }

    /// The target at `t`: the nearest whole number of users (a half rounds up).
    pub(in crate::system) fn count(&self, t: f64) -> u64 {
        self.value(t).round() as u64
    }

    /// The first change of the target after `t` (where it is `k`) and before `horizon`: when,
    /// and the new target. Within a piece between two cuts the value is the quadratic
    /// `users` x (p + p' x)(s + s' x) of x = time - t; the target goes up where it crosses
    /// k + 1/2 upwards and down where it crosses k - 1/2 downwards (a crossing the other way is
    /// the one just made, found again through rounding); at a cut it may jump.
    pub(in crate::system) fn next_change(
        &self,
        mut t: f64,
        k: u64,
        horizon: f64,
    ) -> Option<(f64, u64)> {
        while t < horizon {
            let end = (self.cuts.get(self.cuts.partition_point(|c| *c <= t)))
                .map_or(f64::INFINITY, |c| *c);
            let (p, dp) = (self.profile.at(t), profile_slope(&self.profile, t));
            let (s, ds) = (self.surge.factor(t), surge_slope(&self.surge, t));
            let (a, b, c) = (
                self.users * dp * ds,
                self.users * (p * ds + dp * s),
                self.users * p * s,
            );
            let kf = k as f64;
            let mut first: Option<(f64, u64)> = None;
            for (level, up) in [(kf + 0.5, true), (kf - 0.5, false)] {
                if !up && k == 0 {
                    continue;
                }
                for x in roots(a, b, c - level) {
                    let slope = 2.0 * a * x + b;
                    let right_way = if up { slope > 0.0 } else { slope < 0.0 };
                    if x > 0.0 && t + x < end && right_way && first.is_none_or(|f| x < f.0) {
                        first = Some((x, if up { k + 1 } else { k - 1 }));
                    }
                }
            }
            if let Some((x, to)) = first {
                return (t + x < horizon).then_some((t + x, to));
            }
            if end >= horizon {
                return None;
            }
            let at_end = self.count(end);
            if at_end != k {
                return Some((end, at_end));
            }
            t = end;
        }
        None
    }
}

/// The real roots of a x^2 + b x + c (none, one or two; a linear one when a = 0), computed
/// without cancellation.
fn roots(a: f64, b: f64, c: f64) -> impl Iterator<Item = f64> {
    let (mut r1, mut r2) = (f64::NAN, f64::NAN);
    if a == 0.0 {
        if b != 0.0 {
            r1 = -c / b;
        }
    } else {
        let disc = b * b - 4.0 * a * c;
        if disc >= 0.0 {
            let q = -0.5 * (b + b.signum() * disc.sqrt());
            r1 = q / a;
            if q != 0.0 {
                r2 = c / q;
            }
        }
    }
    [r1, r2].into_iter().filter(|x| x.is_finite())
}

/// The profile's slope just after `t` (0 where it is flat or jumps).
fn profile_slope(p: &Profile, t: f64) -> f64 {
    (p.points.windows(2))
        .find(|w| w[0].0 <= t && t < w[1].0)
        .map_or(0.0, |w| (w[1].1 - w[0].1) / (w[1].0 - w[0].0))
}

/// The surge's slope just after `t` (0 where it is flat or jumps).
fn surge_slope(s: &Surge, t: f64) -> f64 {
    let [t1, t2, t3, t4] = s.breakpoints();
    if t1 <= t && t < t2 {
        (s.peak - 1.0) / s.ramp_s
    } else if t3 <= t && t < t4 {
        (1.0 - s.peak) / s.decay_s
    } else {
        0.0
    }
}

impl World<'_> {
    /// A closed source at t = 0: its users (placed on the site by `start`, each starting with a
    /// think) counted, and the target's first change scheduled.
    pub(in crate::system) fn start_closed(
        &mut self,
        source: u16,
        users: u64,
        cal: &mut Calendar<Event>,
    ) {
        let horizon = self.horizon.secs();
        let slot = self.arrival_slot[source as usize];
        let c = self.closed(source);
        c.present = users;
        c.next = c.curve.next_change(0.0, c.target, horizon);
        if let Some((at, _)) = c.next {
            cal.set_slot(slot, Time::from_secs(at), Event::Population { source });
        }
    }

    /// The target of a closed source changes: new users join at once (each starting with a
    /// think); when it falls, the users above it leave as their thinks end (`closed_page_due`).
    pub(in crate::system) fn population_changes(
        &mut self,
        now: Time,
        source: u16,
        cal: &mut Calendar<Event>,
    ) {
        let horizon = self.horizon.secs();
        let slot = self.arrival_slot[source as usize];
        let c = self.closed(source);
        let Some((at, to)) = c.next else { return };
        c.target = to;
        c.next = c.curve.next_change(at, to, horizon);
        let joining = to.saturating_sub(c.present);
        c.present += joining;
        match c.next {
            Some((at, _)) => cal.set_slot(slot, Time::from_secs(at), Event::Population { source }),
            None => cal.clear_slot(slot),
        }
        if joining > 0 {
            self.metrics.users.add(now, joining as f64);
        }
        for _ in 0..joining {
            // A new user whose session is drawn when its think ends (`closed_page_due`).
            let user = self.place_user(User::arriving(source, 0));
            self.wait_then_page(now, user, PoolKind::Thinking, cal);
        }
    }

    /// A user of a closed source is due to ask for a page: it leaves if the source holds more
    /// users than its target (false), else it asks, a new session if its own has ended (true).
    pub(in crate::system) fn closed_page_due(&mut self, now: Time, user: u32) -> bool {
        let source = self.users[user as usize].source;
        let c = self.closed(source);
        if c.present > c.target {
            c.present -= 1;
            self.metrics.users.add(now, -1.0);
            self.free_users.push(user);
            return false;
        }
        if self.users[user as usize].pages_left == 0 {
            let src = &mut self.sources[source as usize];
            let pages = (src.pages.as_ref()).map_or(1.0, |d| d.sample(&mut src.rng_sessions));
            let pages_left = whole_pages(pages, &mut src.rng_sessions);
            self.users[user as usize] = User::arriving(source, pages_left);
            self.metrics.sessions(now, 1, 0, 0);
        }
        true
    }

    /// A user of a closed source ends its session after errors: it is replaced at once by a
    /// new user who starts with a think.
    pub(in crate::system) fn closed_session_ends(
        &mut self,
        now: Time,
        user: u32,
        cal: &mut Calendar<Event>,
    ) {
        let u = &mut self.users[user as usize];
        debug_assert!(u.pass == NONE, "a closed population has no waiting room");
        *u = User::arriving(u.source, 0);
        self.wait_then_page(now, user, PoolKind::Thinking, cal);
    }

    fn closed(&mut self, source: u16) -> &mut Closed {
        (self.sources[source as usize].closed.as_mut()).expect("a closed source")
    }
}

#[cfg(test)]
mod tests;
