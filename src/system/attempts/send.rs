//! Sending an attempt on to the site once its client and the edge let it through (`offer`),
//! or once the waiting room lets a requests-source attempt in (`roomed`): load shedding, the
//! first tier's door, the tiers, and the client's clocks. Not here: the gates before it
//! (`offer`), what happens in the tiers (`attempts`).

use super::Attempt;
use crate::engine::rng::open01;
use crate::engine::{Calendar, Time};
use crate::metrics::Outcome;
use crate::system::World;
use crate::system::events::Event;

impl World<'_> {
    /// Send an attempt that arrived at `created` on to the site (`offer` once the client and the
    /// edge let it through; the waiting room when it lets a request in, `roomed`).
    #[allow(clippy::too_many_arguments)]
    pub(in crate::system) fn send(
        &mut self,
        now: Time,
        created: Time,
        source: u16,
        user: u32,
        call: u32,
        roomed: bool,
        cal: &mut Calendar<Event>,
    ) {
        let a = || Attempt {
            roomed,
            ..Attempt::fresh(created, source, user, call, false)
        };
        if self.shed_fraction > 0.0
            && open01(&mut self.sources[source as usize].rng_shed) < self.shed_fraction
        {
            self.turned_away(now, &a(), Outcome::Rejected, cal);
            return;
        }
        if self.first_tier_closed() {
            self.refused_at_door(now, &a(), cal);
            return;
        }
        let req = self.new_attempt(created, source, user, call, false);
        self.attempts[req as usize].roomed = roomed;
        let whole = self.attempts[req as usize].whole_stamp(req);
        self.advance(now, req, 0, cal);
        let client = &self.model.sources[source as usize].client;
        // The client's clocks start now, but only an attempt still open needs them: one turned
        // away at once (a full queue, no instance) would leave a stale timeout behind.
        if (client.timeout_s.is_none() && client.patience.is_none())
            || self.attempts[req as usize].ended_since(whole)
        {
            return;
        }
        if let Some(t) = client.timeout_s {
            self.start_client_clock(source, now.after(t), whole, cal);
        }
        if let Some(p) = &client.patience {
            let wait = p.sample(&mut self.sources[source as usize].rng_patience);
            cal.schedule(now.after(wait), Event::Abandon { stamp: whole });
        }
    }
}

impl World<'_> {
    /// Every request visits the first tier and none of its instances is in rotation: the
    /// balancer has nowhere to send the next one.
    #[inline]
    fn first_tier_closed(&self) -> bool {
        #[cfg(test)]
        if self.one_by_one {
            return false;
        }
        let tier = &self.tiers[0];
        let closed = tier.spec.visit >= 1.0 && self.metrics.tiers[0].in_rotation == 0;
        debug_assert!(
            !closed || !tier.instances.iter().any(|i| i.routable()),
            "the rotation count of the first tier is out of step with its instances"
        );
        closed
    }

    /// An attempt refused at once by the first tier's balancer, with no instance in rotation:
    /// the same counts, draws and reaction as `advance` then `enter` then `finish`, without an
    /// attempt in the arena. (The balancer still picks, so that its state and random stream
    /// move as they would; round robin with nothing in rotation comes back where it started.)
    fn refused_at_door(&mut self, now: Time, a: &Attempt, cal: &mut Calendar<Event>) {
        if self.metrics.counts(now) {
            let stats = &mut self.metrics.tiers[0];
            stats.arrivals += 1;
            stats.rejected += 1;
        }
        let tier = &mut self.tiers[0];
        if tier.spec.balancer != crate::model::Balancer::RoundRobin {
            let picked = tier.pick();
            debug_assert!(picked.is_none());
        }
        self.turned_away(now, a, Outcome::Rejected, cal);
    }
}
