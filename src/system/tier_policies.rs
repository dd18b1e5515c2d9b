//! Where an attempt meets its tiers' policies: at admission to an instance (the concurrency
//! limit may turn it away; a refusal is a 5xx for outlier detection) and when it ends (each
//! instance it held or waited in takes the outcome: a limiter's sample, an outlier count).
//! The policies themselves are `concurrency_limit` and `outlier`.

use crate::engine::{Calendar, Time};
use crate::metrics::Outcome;

use super::World;
use super::attempts::Attempt;
use super::events::Event;

impl World<'_> {
    /// Does a policy of tier `t` turn an attempt away at instance `i`? If so it is counted as
    /// limited; `admit` then refuses it (503).
    pub(super) fn limit_refuses(&mut self, now: Time, t: usize, i: u32) -> bool {
        if !self.over_limit(t, i) {
            return false;
        }
        self.count_limited(now, t);
        true
    }

    /// At a bucket end: the time-series columns of the policies the tiers have (and, with
    /// retries at a hop, every tier's arrivals and retries).
    pub(super) fn record_policies(&mut self) {
        for t in 0..self.n_tiers {
            if let Some(limit) = self.tier_limit(t) {
                self.metrics.series.tiers[t].concurrency_limit.push(limit);
            }
            if let Some(ejected) = self.tier_ejected(t) {
                self.metrics.series.tiers[t].ejected.push(ejected);
            }
            if self.shortcuts.hop_retries {
                let stats = &mut self.metrics.tiers[t];
                let (arrivals, retries) = (stats.bucket_arrivals, stats.bucket_retries);
                (stats.bucket_arrivals, stats.bucket_retries) = (0, 0);
                let series = &mut self.metrics.series.tiers[t];
                series.arrivals.push(arrivals as f64);
                series.retries.push(retries as f64);
            }
        }
    }

    /// Attempt `a` (`req`) ends with `outcome`: every instance it is in hears of it.
    pub(super) fn report_end(
        &mut self,
        now: Time,
        req: u32,
        a: &Attempt,
        outcome: Option<Outcome>,
        cal: &mut Calendar<Event>,
    ) {
        let (Some(outcome), false) = (outcome, a.probe) else {
            return;
        };
        let mut tiers = a.occupied();
        while tiers != 0 {
            let t = tiers.trailing_zeros() as usize;
            tiers &= tiers - 1;
            let tier = &self.tiers[t];
            if tier.limiter.is_none() && tier.outlier.is_none() {
                continue;
            }
            let slot = self.slots[req as usize * self.n_tiers + t];
            let rtt_s = now.since(slot.enter);
            self.limit_release(req, t, slot.instance, rtt_s, outcome);
            match outcome {
                Outcome::Succeeded => self.instance_result(now, t, slot.instance, true, cal),
                Outcome::Rejected | Outcome::Failed => {
                    self.instance_result(now, t, slot.instance, false, cal)
                }
                // Never sent (short-circuited, throttled) or left by its client.
                Outcome::TimedOut | Outcome::ShortCircuited | Outcome::Throttled => {}
            }
        }
    }
}
