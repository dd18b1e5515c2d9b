//! Retries at every hop (`[tier.retry]`): a tier that called the next one and got a failure
//! back (the callee turned the call away, answered with an error, or was cut off by its request
//! timeout) calls it again after a backoff, up to `max_attempts` attempts per call, while its
//! own thread stays held (a synchronous call: the thread waits for the answer, the backoffs
//! included). The caller's own request timeout and its client's timeout keep running. When the
//! caller gives up, the failure goes on up to its own caller, which may retry in turn: the whole
//! sub-chain again, each tier with a fresh count. So three retrying hops of three attempts each
//! can put up to 27 attempts on the deepest service for one call.
//!
//! The attempt stays one object in the arena. A retry makes the events of the part it leaves
//! (the deeper tiers' services, queue places, refusals, pool waits, retries) stale by moving the
//! attempt's `epoch`; those of the attempt as a whole carry its `born` (see `Attempt`, and
//! `Stamp`, which the events carry).
//!
//! Counted at the tier called: every arrival (`arrivals`), and of them those that are a retry
//! of its caller (`retries`), in the summary and per bucket. Not here: the client's retries of a
//! whole call (`client`), the keys (`crate::model::tier_retry`).

use super::World;
use super::attempts::Attempt;
use super::client::{Call, backoff_delay};
use super::events::Event;
use super::retry_budget::RatioBudget;
use super::stamp::{Stamp, TierCall};
use crate::engine::{Calendar, Stream, Time};
use crate::metrics::Outcome;
use crate::model::RetryOn;

/// What a tier that retries its callee keeps during a run.
#[derive(Debug, Clone)]
pub(super) struct TierRetrying {
    /// The backoff's jitter.
    rng: Stream,
    /// The ratio budget, one for the whole tier (its instances together), when the model sets
    /// one.
    budget: Option<RatioBudget>,
}

impl TierRetrying {
    pub(super) fn new(retry: &crate::model::TierRetry, rng: Stream) -> TierRetrying {
        TierRetrying {
            rng,
            budget: retry.retry.ratio_budget.map(RatioBudget::new),
        }
    }
}

impl World<'_> {
    /// Attempt `req` failed at tier `d` (`why`, ending it with `outcome`): the deepest tier it
    /// holds a thread in above `d` (its caller there) retries, if its policy says so; otherwise
    /// the attempt ends.
    pub(super) fn fail(
        &mut self,
        now: Time,
        req: u32,
        d: usize,
        why: RetryOn,
        outcome: Outcome,
        cal: &mut Calendar<Event>,
    ) {
        let retrying = if self.shortcuts.hop_retries {
            self.retrying_caller(now, req, d, why)
        } else {
            None
        };
        match retrying {
            Some(call) => self.retry_from(now, req, call, outcome, cal),
            None => self.finish(now, req, Some(outcome), cal),
        }
    }

    /// The call that is made again after `req`'s failure `why` at tier `d`: by the caller of
    /// `d` if it may. A caller that gives up (no policy for `why`, its attempts spent, its
    /// budget empty) fails in turn, and its own caller may retry, and so on up the chain; none
    /// when every caller gives up.
    fn retrying_caller(&mut self, now: Time, req: u32, d: usize, why: RetryOn) -> Option<TierCall> {
        let a = self.attempts[req as usize];
        if a.probe {
            return None;
        }
        let mut failed = d;
        loop {
            let callers = a.held & ((1u64 << failed) - 1);
            if callers == 0 {
                return None;
            }
            let c = 63 - callers.leading_zeros() as usize;
            if self.may_retry(now, req, c, why) {
                // The tier `c` called: the first it reached after `c` (`d` or one it holds
                // before `d`).
                let deeper = (a.held | 1 << d) & !((1u64 << (c + 1)) - 1);
                let callee = deeper.trailing_zeros() as u8;
                let caller = c as u8;
                return Some(TierCall { caller, callee });
            }
            failed = c;
        }
    }

    /// Tier `c` retries its callee for `req` after a failure `why`: its policy, its attempts
    /// left and its budget (which takes the retry when it allows it).
    fn may_retry(&mut self, now: Time, req: u32, c: usize, why: RetryOn) -> bool {
        let Some(policy) = self.model.tiers[c].retry else {
            return false;
        };
        let retries = self.slots[req as usize * self.n_tiers + c].retries;
        if !policy.retries(why) || retries + 1 >= policy.retry.max_attempts {
            return false;
        }
        let state = self.tiers[c]
            .retrying
            .as_mut()
            .expect("a tier that retries");
        state.budget.as_mut().is_none_or(|b| b.withdraw(now))
    }

    /// The caller of `call` retries: what `req` holds deeper is let go, and the call is made
    /// again after the backoff.
    fn retry_from(
        &mut self,
        now: Time,
        req: u32,
        call: TierCall,
        outcome: Outcome,
        cal: &mut Calendar<Event>,
    ) {
        let a = self.attempts[req as usize];
        let c = call.caller as usize;
        let policy = self.model.tiers[c].retry.expect("a tier that retries");
        let slot = req as usize * self.n_tiers + c;
        let retries = self.slots[slot].retries;
        self.slots[slot].retries = retries + 1;
        let mut client_call = Call {
            source: a.source,
            attempts: retries + 1,
            last_delay_s: 0.0,
        };
        let state = self.tiers[c]
            .retrying
            .as_mut()
            .expect("a tier that retries");
        let delay = backoff_delay(&policy.retry, &mut client_call, &mut state.rng);
        self.let_go_below(now, req, &a, c, outcome, cal);
        let stamp = self.attempts[req as usize].hop_stamp(req);
        cal.schedule(now.after(delay), Event::HopRetry { stamp, call });
    }

    /// Attempt `req` (`a`, as it is now) gives back all it holds deeper than tier `c` (threads,
    /// its queue place, connections, its place in a pool's line), as `finish` does for the whole
    /// attempt; the tiers it leaves hear of `outcome` (limiters, outlier detection). Its events
    /// there go stale; it waits at `c`, holding its thread there.
    fn let_go_below(
        &mut self,
        now: Time,
        req: u32,
        a: &Attempt,
        c: usize,
        outcome: Outcome,
        cal: &mut Calendar<Event>,
    ) {
        let kept = (1u64 << (c + 1)) - 1;
        if self.shortcuts.tier_policies {
            let below = Attempt {
                held: a.held & !kept,
                ..*a
            };
            self.report_end(now, req, &below, Some(outcome), cal);
        }
        if a.waiting {
            self.leave_queue(now, req, a.at as usize);
        }
        let b = &mut self.attempts[req as usize];
        b.waiting = false;
        b.held = a.held & kept;
        b.pool_waiting = false;
        // Tier c's own connection goes back too: its retry takes one again.
        b.pooled = a.pooled & (kept >> 1);
        b.at = c as u8;
        b.epoch = a.epoch.wrapping_add(1);
        let mut below = a.held & !kept;
        while below != 0 {
            let t = 63 - below.leading_zeros() as usize;
            below &= !(1 << t);
            self.release(now, req, false, t, cal);
        }
        if a.pool_waiting {
            self.leave_pool_line(now, req, a.at as usize);
        }
        let connections = a.pooled & !(kept >> 1);
        if connections != 0 {
            self.release_connections(now, req, connections, cal);
        }
        if self.shortcuts.request_timeouts {
            self.undefer_timeouts(req, cal);
        }
    }

    /// The backoff is over: the call is made again (through the caller's pool if it has one),
    /// unless the attempt ended or moved on meanwhile.
    pub(super) fn call_again(
        &mut self,
        now: Time,
        hop: Stamp,
        call: TierCall,
        cal: &mut Calendar<Event>,
    ) {
        let (req, a) = (hop.req, &mut self.attempts[hop.slot()]);
        if a.moved_on_from(hop) {
            return;
        }
        a.retrying = true;
        let (caller, callee) = (call.caller as usize, call.callee as usize);
        if self.pools[caller].is_some() {
            self.call_through_pool(now, req, caller, callee, cal);
        } else {
            self.enter(now, req, callee, cal);
        }
    }

    /// Attempt `req` arrives at tier `t`: a retry of its caller is counted as one.
    #[inline]
    pub(super) fn arrives_at(&mut self, now: Time, req: u32, t: usize) {
        let a = &mut self.attempts[req as usize];
        let retry = a.retrying;
        a.retrying = false;
        let counted = self.metrics.counts(now);
        let stats = &mut self.metrics.tiers[t];
        if retry {
            stats.bucket_retries += 1;
            if counted {
                stats.retries += 1;
            }
        }
        let stats = &mut self.metrics.tiers[t];
        stats.bucket_arrivals += 1;
    }

    /// Tier `caller` calls the next tier for the first time in this visit: its ratio budget,
    /// if any, takes the deposit.
    #[inline]
    pub(super) fn first_call(&mut self, now: Time, caller: usize) {
        if let Some(b) = (self.tiers[caller].retrying.as_mut()).and_then(|r| r.budget.as_mut()) {
            b.deposit(now);
        }
    }
}
