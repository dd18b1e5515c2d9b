//! The hold rule: when a replication run only for a yes/no question (did the site go down, or
//! break its SLO, at the criterion's level: `Until`) can be decided "no" before its horizon,
//! so that a night that holds need not be simulated to its end.
//!
//! At the end of a bucket at time t the answer is "no" (the run stops, `EndedBy::Held`) when
//! all of these hold:
//!
//! 1. **The surge has passed.** For every source, its nominal load (profile x surge, as the
//!    model gives it) reached its highest value over the horizon for the last time at or before
//!    t - `slo.stable`, and will never again, up to the horizon, exceed the least load of
//!    [t - `slo.stable`, t]. A profile that rises again above that, or a model whose load never
//!    falls (no surge), never satisfies it. The load is exact: profile and surge are piecewise
//!    linear, so their product is quadratic between breakpoints, and its extremes are read at
//!    the breakpoints and the vertices (`extremes`).
//! 2. **The site has met the SLO for `slo.stable` since.** Each of the last `slo.stable` /
//!    `scenario.bucket` SLO windows, all past the warm-up, met the SLO (`metrics::slo::meets`:
//!    success rate at least `slo.success_rate`, p95 at most `slo.latency`) at the question's
//!    level: attempts for an outage or an SLO breach, calls or users for theirs. This is the
//!    test the outage analysis uses to call a site recovered.
//! 3. **Nothing pending can break it.** Every instance of every tier is up, not stopped, in
//!    rotation, not ejected and past its cold start, with no more attempts waiting in its
//!    queue than it has threads; no operator action is scheduled and no load is being shed;
//!    and the users and calls waiting to come back (refresh and return pools, retries and
//!    returns scheduled) are no more than at some bucket end of the stable period.
//!
//! Why it suffices, and what it rests on. Condition 1 says the load ahead is never more than
//! the site carried during the stable period; condition 2 that it carried it within the SLO,
//! so far above the outage threshold (`slo.outage_below`); condition 3 that the site now has at
//! least the capacity it had then (every instance up, warm, in rotation), no more backlog than
//! one round of service, no action on its way that changes it, and no more delayed load (users
//! and calls coming back) than it already absorbed. ASSUMPTION: what the site does next depends
//! on the load offered and this state, not on the clock: nothing in the model degrades with time
//! alone. It is a rule of evidence, not a proof: a simulated site is random, and a rare burst at
//! a load it carried could still break it. `tests::the_hold_rule_agrees_with_full_runs` measures
//! it against full runs.
//!
//! Where it does not apply (the run then goes on as before): trace sources (their load is
//! recorded, not a profile), autoscaled tiers (their capacity follows the load), client breakers
//! and throttles (they hide load while open), a waiting room (users queue outside the site), and
//! refresh delays that are not exponential (the users refreshing are then not counted).
//!
//! Not here: the questions themselves and the stop at a "yes" (`observe`).

use super::World;
use super::observe::Until;
use crate::engine::Time;
use crate::model::{Model, Profile, SourceKind, Surge};

/// The rule's state during one run.
#[derive(Debug, Clone)]
pub(super) struct Hold {
    /// The question: which level's windows must meet the SLO.
    until: Until,
    /// Windows in `slo.stable`.
    need: usize,
    /// Per bucket index k (the bucket ending at (k + 1) x bucket): condition 1 holds there.
    passed: Vec<bool>,
    /// Windows in a row, past the warm-up, that met the SLO.
    met: usize,
    /// Users and calls waiting to come back at the last `need` + 1 bucket ends (a ring).
    pending: Vec<u64>,
}

impl Hold {
    /// The rule for `until` on `model`, or `None` where it does not apply (see the module doc).
    pub(super) fn new(model: &Model, until: Until) -> Option<Hold> {
        let applies = (model.sources.iter()).all(|s| {
            s.kind != SourceKind::Trace && s.client.breaker.is_none() && s.client.throttle.is_none()
        }) && model.tiers.iter().all(|t| t.autoscale.is_none())
            && model.waiting_room.is_none();
        if !applies {
            return None;
        }
        let sc = &model.scenario;
        let stable = model.slo.stable_s;
        let need = ((stable / sc.bucket_s).round() as usize).max(1);
        let peaks: Vec<f64> = (model.sources.iter())
            .map(|s| last_peak(&s.profile, &model.surge, sc.duration_s))
            .collect();
        let passed = (0..model.buckets())
            .map(|k| {
                let t = ((k + 1) as f64 * sc.bucket_s).min(sc.duration_s);
                let from = t - stable;
                from >= sc.warmup_s
                    && (model.sources.iter().zip(&peaks)).all(|(s, &peak)| {
                        let during = extremes(&s.profile, &model.surge, from, t).0;
                        let ahead = extremes(&s.profile, &model.surge, t, sc.duration_s).1;
                        from >= peak && ahead <= during * (1.0 + 1e-12)
                    })
            })
            .collect();
        Some(Hold {
            until,
            need,
            passed,
            met: 0,
            pending: vec![0; need + 1],
        })
    }
}

/// The nominal load of a source at `t`, relative to its baseline.
fn load(profile: &Profile, surge: &Surge, t: f64) -> f64 {
    profile.at(t) * surge.factor(t)
}

/// The least and the greatest load of a source over [a, b]: exact, at the breakpoints of the
/// profile and the surge and at the vertex of the quadratic between two of them.
pub(super) fn extremes(profile: &Profile, surge: &Surge, a: f64, b: f64) -> (f64, f64) {
    let mut cuts: Vec<f64> = (profile.points.iter().map(|p| p.0))
        .chain(surge.breakpoints())
        .filter(|&x| x > a && x < b)
        .collect();
    cuts.push(a);
    cuts.push(b);
    cuts.sort_by(f64::total_cmp);
    let f = |t: f64| load(profile, surge, t);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for w in cuts.windows(2) {
        let (x, y) = (w[0], w[1]);
        for v in [f(x), f(y)]
            .into_iter()
            .chain(vertex(profile, surge, x, y).map(f))
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    (lo, hi)
}

/// Where the product of the profile and the surge, both linear on [x, y], has its vertex, if
/// inside. With p = p0 + dp u and s = s0 + ds u (u in [0, 1]), the product's derivative is
/// p0 ds + s0 dp + 2 dp ds u.
fn vertex(profile: &Profile, surge: &Surge, x: f64, y: f64) -> Option<f64> {
    if y <= x {
        return None;
    }
    // Slopes read inside the piece, away from its ends (where either may break).
    let (xa, xb) = (x + (y - x) * 0.25, x + (y - x) * 0.75);
    let dp = (profile.at(xb) - profile.at(xa)) * 2.0;
    let ds = (surge.factor(xb) - surge.factor(xa)) * 2.0;
    let p0 = profile.at(xa) - dp * 0.25;
    let s0 = surge.factor(xa) - ds * 0.25;
    if dp * ds == 0.0 {
        return None;
    }
    let u = -(p0 * ds + s0 * dp) / (2.0 * dp * ds);
    (u > 0.0 && u < 1.0).then_some(x + u * (y - x))
}

/// The last time in [0, `horizon`] at which a source's load is at its highest.
fn last_peak(profile: &Profile, surge: &Surge, horizon: f64) -> f64 {
    let top = extremes(profile, surge, 0.0, horizon).1;
    let at_top = |v: f64| v >= top * (1.0 - 1e-12);
    let mut cuts: Vec<f64> = (profile.points.iter().map(|p| p.0))
        .chain(surge.breakpoints())
        .filter(|&x| x > 0.0 && x < horizon)
        .collect();
    cuts.push(0.0);
    cuts.push(horizon);
    cuts.sort_by(f64::total_cmp);
    for w in cuts.windows(2).rev() {
        let (x, y) = (w[0], w[1]);
        if at_top(load(profile, surge, y)) {
            return y;
        }
        if let Some(v) = vertex(profile, surge, x, y).filter(|&v| at_top(load(profile, surge, v))) {
            return v;
        }
        if at_top(load(profile, surge, x)) {
            return x;
        }
    }
    0.0
}

impl World<'_> {
    /// Turn the hold rule on for `until` (set before `start`), where it applies.
    pub(super) fn hold_when(&mut self, until: Until) {
        let pooled = (self.sources.iter().zip(&self.model.sources))
            .all(|(st, s)| s.client.refresh == 0.0 || st.refreshing.active());
        self.hold = Hold::new(self.model, until).filter(|_| pooled);
    }

    /// The bucket ending at `now` just closed: does the hold rule decide the run "no"?
    pub(super) fn holds_for_good(&mut self, now: Time) -> bool {
        let Some(mut h) = self.hold.take() else {
            return false;
        };
        let decided = self.hold_step(&mut h, now);
        self.hold = Some(h);
        decided
    }

    fn hold_step(&self, h: &mut Hold, now: Time) -> bool {
        let s = &self.metrics.series;
        let n = s.len();
        if n == 0 {
            return false;
        }
        let i = n - 1;
        let first = crate::metrics::slo::first_measured(s, self.model.scenario.warmup_s);
        let rate = match h.until {
            Until::FirstOutage | Until::FirstSloBreach => s.window_success_rate[i],
            Until::FirstCallOutage => s.window_call_success_rate[i],
            Until::FirstUserOutage => s.window_user_success_rate[i],
        };
        let met =
            i >= first && crate::metrics::slo::meets(rate, s.window_p95_s[i], &self.model.slo);
        h.met = if met { h.met + 1 } else { 0 };
        let waiting = self.coming_back();
        let ring = h.pending.len();
        h.pending[i % ring] = waiting;
        // The ring holds the bucket ends of the stable period once `need` windows have met.
        h.met >= h.need
            && h.passed.get(i).copied().unwrap_or(false)
            && waiting <= h.pending.iter().copied().max().unwrap_or(0)
            && self.at_full_strength(now)
    }

    /// Users and calls waiting to come back: the refresh and return pools, and the retries and
    /// returns scheduled one by one.
    fn coming_back(&self) -> u64 {
        let pools: u64 = (self.sources.iter())
            .map(|s| s.refreshing.size() + s.returning.size())
            .sum();
        pools + self.scheduled_back
    }

    /// Every instance up, warm, in rotation and without a backlog; no operator action on its
    /// way and no load being shed.
    fn at_full_strength(&self, now: Time) -> bool {
        let calm = self.shed_fraction == 0.0
            && self.watch.down_since.is_none()
            && self.watch.acting_until <= now;
        calm && self.tiers.iter().all(|t| {
            let cold = t.spec.restart.cold_warmup_s;
            t.instances.iter().all(|i| {
                i.up && !i.stopped
                    && i.in_rotation
                    && !i.ejected
                    && !i.retired
                    && i.live_waiting <= t.spec.threads
                    && i.restarted_at.is_none_or(|r| now.since(r) >= cold)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surge(peak: f64, start: f64, ramp: f64, hold: f64, decay: f64) -> Surge {
        Surge {
            peak,
            start_s: start,
            ramp_s: ramp,
            hold_s: hold,
            decay_s: decay,
        }
    }

    #[test]
    fn the_load_is_read_exactly_between_breakpoints() {
        // The built-in night: profile 1 until 6 h, 0.35 at 10 h, 0.6 at 13 h, 1 at 16 h; surge
        // 12x from 2 h 30 to 5 h, held to 9 h 30, back to 1 at 15 h 30.
        let h = 3600.0;
        let p = Profile {
            points: vec![
                (0.0, 1.0),
                (6. * h, 1.0),
                (10. * h, 0.35),
                (13. * h, 0.6),
                (16. * h, 1.0),
            ],
        };
        let s = surge(12.0, 2.5 * h, 2.5 * h, 4.5 * h, 6.0 * h);
        assert_eq!(last_peak(&p, &s, 16. * h), 6. * h);
        let (lo, hi) = extremes(&p, &s, 6. * h, 7. * h);
        assert!((hi - 12.0).abs() < 1e-12 && (lo - 12.0 * (1.0 - 0.65 / 4.0)).abs() < 1e-12);
        // From 15 h the surge ends (15 h 30) while the profile rises: the product has its
        // vertex inside [13 h, 15 h 30] nowhere (it falls throughout), and rises after.
        let (lo, hi) = extremes(&p, &s, 15.5 * h, 16. * h);
        let at = |t: f64| p.at(t) * s.factor(t);
        assert!((lo - at(15.5 * h)).abs() < 1e-12 && (hi - 1.0).abs() < 1e-12);
        // A product with an interior maximum: rising 1 -> 3 against falling 3 -> 1 over [0, 1]
        // is (1 + 2u)(3 - 2u), highest at u = 0.5 (4), above both ends (3).
        let p = Profile {
            points: vec![(0.0, 1.0), (1.0, 3.0)],
        };
        let s = surge(3.0, 0.0, 0.0, 0.0, 1.0);
        let (lo, hi) = extremes(&p, &s, 0.0, 1.0);
        assert!(
            (hi - 4.0).abs() < 1e-12 && (lo - 3.0).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert!((last_peak(&p, &s, 1.0) - 0.5).abs() < 1e-12);
    }
}
