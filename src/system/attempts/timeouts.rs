//! Servers' request timeouts for attempts: the timeout a tier's thread rings when a service
//! outlasts it, and those deferred while an attempt that still holds threads at earlier tiers
//! moves on (scheduled only when they may still find the thread held). Not the clients'
//! timeouts (`client.rs`) nor what happens when one rings (`events.rs`).

use crate::engine::{Calendar, Time};
use crate::system::World;
use crate::system::events::Event;
use crate::system::stamp::Stamp;

impl World<'_> {
    /// Tier `t` abandons the attempt at `at` if it still holds a thread there (request_timeout);
    /// `whole` stamps the attempt as a whole (`Attempt::whole_stamp`).
    pub(in crate::system) fn schedule_server_timeout(
        &self,
        whole: Stamp,
        t: usize,
        at: Time,
        cal: &mut Calendar<Event>,
    ) {
        let tier = t as u8;
        let ev = Event::ServerTimeout { stamp: whole, tier };
        cal.schedule_line(self.line_server[t], at, ev);
    }

    /// Does tier `t`'s request timeout of the attempt `whole` stamps ring now? Only while the
    /// attempt lives, holds a thread there, and has held it for the whole timeout: a tier
    /// entered again after a retry of its caller (`hop_retry`) started a new clock.
    pub(in crate::system) fn server_timeout_rings(
        &self,
        now: Time,
        whole: Stamp,
        t: usize,
    ) -> bool {
        let a = &self.attempts[whole.slot()];
        if a.ended_since(whole) || a.held & (1 << t) == 0 {
            return false;
        }
        let rt = self.tiers[t].spec.request_timeout_s.unwrap_or(0.0);
        now >= self.slots[whole.slot() * self.n_tiers + t]
            .started
            .after(rt)
    }

    /// A tier retries its callee (`hop_retry`): the request timeouts of the tiers the attempt
    /// still holds, deferred while a later service was known to end first, are scheduled now,
    /// as nothing deeper is under way. (One already scheduled may be scheduled twice: the second
    /// finds the attempt gone or its thread given back, `server_timeout_rings`.)
    pub(in crate::system) fn undefer_timeouts(&mut self, req: u32, cal: &mut Calendar<Event>) {
        let b = self.attempts[req as usize];
        let mut held = b.held;
        let base = req as usize * self.n_tiers;
        let whole = b.whole_stamp(req);
        while held != 0 {
            let t = held.trailing_zeros() as usize;
            held &= held - 1;
            if let Some(rt) = self.tiers[t].spec.request_timeout_s {
                let at = self.slots[base + t].started.after(rt);
                self.schedule_server_timeout(whole, t, at, cal);
            }
        }
        self.attempts[req as usize].deferred = 0;
    }

    /// The attempt `hop` stamps has moved on from tier `t` (`ended` is bit t) to
    /// later tiers, or has ended. Where it still holds a thread, that tier's request timeout
    /// (which `serve` left out, as the service there ended first) now matters, but only if the
    /// attempt may still hold the thread when it rings: it waits in a queue (no known end), or
    /// its service at the tier it is in now ends at or after that time. Otherwise the timeout
    /// is deferred to the end of that service, where this is asked again: its event would be
    /// stale when popped (the thread is given back first), so most attempts that visit a later
    /// tier never leave one in the event set.
    pub(in crate::system) fn held_timeouts(
        &mut self,
        now: Time,
        hop: Stamp,
        ended: u64,
        cal: &mut Calendar<Event>,
    ) {
        let (req, b) = (hop.req, self.attempts[hop.slot()]);
        if b.moved_on_from(hop) {
            return;
        }
        let mut pending = (b.deferred | ended) & b.held;
        let mut deferred = 0;
        let base = req as usize * self.n_tiers;
        let whole = b.whole_stamp(req);
        let until = if b.waiting {
            Time(u64::MAX)
        } else {
            self.slots[base + b.at as usize].done
        };
        while pending != 0 {
            let t = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            let Some(rt) = self.tiers[t].spec.request_timeout_s else {
                continue;
            };
            let at = self.slots[base + t].started.after(rt);
            if until < at {
                deferred |= 1 << t;
            } else if now < at {
                self.schedule_server_timeout(whole, t, at, cal);
            }
        }
        self.attempts[req as usize].deferred = deferred;
    }
}
