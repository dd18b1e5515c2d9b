//! Client-side state between attempts of a requests-source call, and the retry backoff:
//! none, fixed or exponential (capped), with no, full, equal or decorrelated jitter (the
//! variants of the AWS Architecture Blog's "Exponential Backoff and Jitter"); and what a client
//! does after each outcome of an attempt (read on, refresh, retry, leave, come back later).
//! Not here: the pools users wait in (`users`) or the attempt on the server side (`attempts`).

use crate::engine::Stream;
use crate::engine::rng::open01;
use crate::model::{Backoff, Jitter, Retry};

use super::attempts::Attempt;
use super::events::Event;
use super::events::PoolKind;
use super::{NONE, TOKEN_CAP, World};
use crate::engine::{Calendar, Time};
use crate::metrics::Outcome;

/// A call of a requests source: one logical request and its attempts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    pub source: u16,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last delay, for decorrelated jitter.
    pub last_delay_s: f64,
}

/// The wait before the next attempt of `call`, which has made `call.attempts` attempts.
pub(crate) fn backoff_delay(retry: &Retry, call: &mut Call, rng: &mut Stream) -> f64 {
    let n = call.attempts.max(1);
    let ceiling = match retry.backoff {
        Backoff::None => 0.0,
        Backoff::Fixed => retry.base_s,
        Backoff::Exponential => (retry.base_s * 2f64.powi((n - 1).min(60) as i32)).min(retry.cap_s),
    };
    let d = match retry.jitter {
        Jitter::None => ceiling,
        Jitter::Full => ceiling * open01(rng),
        Jitter::Equal => ceiling / 2.0 + ceiling / 2.0 * open01(rng),
        Jitter::Decorrelated => {
            let prev = if call.last_delay_s > 0.0 {
                call.last_delay_s
            } else {
                retry.base_s
            };
            let hi = (prev * 3.0).max(retry.base_s);
            (retry.base_s + (hi - retry.base_s) * open01(rng)).min(retry.cap_s)
        }
    };
    call.last_delay_s = d;
    d
}

impl World<'_> {
    pub(super) fn new_call(&mut self, source: u16) -> u32 {
        let c = Call {
            source,
            attempts: 0,
            last_delay_s: 0.0,
        };
        match self.free_calls.pop() {
            Some(i) => {
                self.calls[i as usize] = c;
                i
            }
            None => {
                self.calls.push(c);
                (self.calls.len() - 1) as u32
            }
        }
    }

    /// The client gives up on an attempt the server keeps working on.
    pub(super) fn client_outcome(
        &mut self,
        now: Time,
        req: u32,
        outcome: Outcome,
        cal: &mut Calendar<Event>,
    ) {
        let a = self.attempts[req as usize];
        self.metrics.ended(now, a.created, outcome);
        self.react(now, &a, outcome, cal);
    }

    /// What the client does after an outcome: read the page, refresh, retry, leave, come back.
    pub(super) fn react(
        &mut self,
        now: Time,
        a: &Attempt,
        outcome: Outcome,
        cal: &mut Calendar<Event>,
    ) {
        self.client_learns(now, a.source, outcome);
        let client = &self.model.sources[a.source as usize].client;
        if a.user != NONE {
            let user = a.user;
            let u = &mut self.users[user as usize];
            if outcome == Outcome::Succeeded {
                u.failures = 0;
                u.pages_left -= 1;
                if u.pages_left == 0 {
                    self.metrics.sessions(now, 0, 1, 0);
                }
                self.wait_then_page(now, user, PoolKind::Thinking, cal);
                return;
            }
            u.failures += 1;
            let gave_up = client.give_up_after.is_some_and(|n| u.failures >= n);
            let src = &mut self.sources[a.source as usize];
            if !gave_up && client.refresh > 0.0 && open01(&mut src.refreshing.rng) < client.refresh
            {
                u.refreshing = true;
                self.wait_then_page(now, user, PoolKind::Refreshing, cal);
                return;
            }
            // The user gives up: its page, and its session, are lost.
            self.metrics.call_lost(a.created);
            self.metrics.sessions(now, 0, 0, 1);
            if self.sources[a.source as usize].closed.is_some() {
                self.closed_session_ends(now, user, cal);
                return;
            }
            self.leave(now, user, cal);
            if client.return_probability > 0.0
                && open01(&mut self.sources[a.source as usize].returning.rng)
                    < client.return_probability
            {
                if self.sources[a.source as usize].returning.active() {
                    self.sources[a.source as usize].returning.count += 1;
                    self.reschedule_pool(now, a.source, PoolKind::Returning, cal);
                } else {
                    let wait = client.return_after.as_ref().map_or(0.0, |d| {
                        d.sample(&mut self.sources[a.source as usize].returning.rng)
                    });
                    self.scheduled_back += 1;
                    cal.schedule(now.after(wait), Event::Return { source: a.source });
                }
            }
        } else if a.call != NONE {
            let call = a.call;
            let retry = client.retry.expect("calls exist only with retries");
            let src = &mut self.sources[a.source as usize];
            if outcome == Outcome::Succeeded {
                if let Some(b) = retry.budget {
                    src.tokens = (src.tokens + b).min(TOKEN_CAP);
                }
                self.free_calls.push(call);
                return;
            }
            let budget_ok = retry.budget.is_none_or(|_| src.tokens >= 1.0);
            let may_retry = self.calls[call as usize].attempts < retry.max_attempts
                && budget_ok
                && (retry.ratio_budget.is_none() || self.ratio_budget_allows(now, a.source));
            if may_retry {
                if retry.budget.is_some() {
                    self.sources[a.source as usize].tokens -= 1.0;
                }
                let c = &mut self.calls[call as usize];
                let delay =
                    backoff_delay(&retry, c, &mut self.sources[a.source as usize].rng_retry);
                self.scheduled_back += 1;
                cal.schedule(now.after(delay), Event::Retry { call });
            } else {
                self.metrics.call_lost(a.created);
                self.free_calls.push(call);
            }
        } else if outcome != Outcome::Succeeded {
            // A request without retries: the attempt was the call.
            self.metrics.call_lost(a.created);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn retry(backoff: Backoff, jitter: Jitter) -> Retry {
        Retry {
            max_attempts: 10,
            backoff,
            base_s: 1.0,
            cap_s: 8.0,
            jitter,
            budget: None,
            ratio_budget: None,
        }
    }

    #[test]
    fn exponential_doubles_up_to_the_cap() {
        let r = retry(Backoff::Exponential, Jitter::None);
        let mut rng = stream(1, 1);
        let mut c = Call {
            source: 0,
            attempts: 0,
            last_delay_s: 0.0,
        };
        let mut out = vec![];
        for n in 1..=6 {
            c.attempts = n;
            out.push(backoff_delay(&r, &mut c, &mut rng));
        }
        assert_eq!(out, vec![1.0, 2.0, 4.0, 8.0, 8.0, 8.0]);
    }

    #[test]
    fn jitters_stay_in_their_ranges() {
        let mut rng = stream(1, 2);
        for j in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let r = retry(Backoff::Exponential, j);
            let mut c = Call {
                source: 0,
                attempts: 3,
                last_delay_s: 0.0,
            };
            for _ in 0..1000 {
                let d = backoff_delay(&r, &mut c, &mut rng);
                let (lo, hi) = match j {
                    Jitter::Full => (0.0, 4.0),
                    Jitter::Equal => (2.0, 4.0),
                    _ => (1.0, 8.0),
                };
                assert!(d >= lo && d <= hi, "{j:?}: {d}");
            }
        }
        let r = retry(Backoff::Fixed, Jitter::None);
        let mut c = Call {
            source: 0,
            attempts: 5,
            last_delay_s: 0.0,
        };
        assert_eq!(backoff_delay(&r, &mut c, &mut rng), 1.0);
    }
}
