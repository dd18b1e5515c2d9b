//! Where the clients' overload policies meet the simulated site: each source's circuit breaker
//! (`breaker`), adaptive throttle (`throttle`) and ratio retry budget (`retry_budget`), the gate
//! an attempt passes before it is sent (breaker first, then throttle), and the outcomes they
//! learn from. Not here: the policies' own rules (their files), retries and backoff (`client`).

use super::World;
use super::breaker::CircuitBreaker;
use super::retry_budget::RatioBudget;
use super::throttle::AdaptiveThrottle;
use crate::engine::rng::open01;
use crate::engine::{Stream, Time};
use crate::metrics::Outcome;
use crate::model::Source;

/// The policies of one source's clients (each absent unless the model sets it).
pub(super) struct ClientPolicies {
    breaker: Option<CircuitBreaker>,
    throttle: Option<(AdaptiveThrottle, Stream)>,
    ratio_budget: Option<RatioBudget>,
}

impl ClientPolicies {
    pub(super) fn new(source: &Source, index: usize, seed: u64) -> ClientPolicies {
        let c = &source.client;
        ClientPolicies {
            breaker: c.breaker.map(CircuitBreaker::new),
            throttle: c.throttle.map(|t| {
                (
                    AdaptiveThrottle::new(t),
                    super::streams::throttle(seed, index),
                )
            }),
            ratio_budget: c.retry.and_then(|r| r.ratio_budget).map(RatioBudget::new),
        }
    }
}

impl World<'_> {
    /// An attempt of `source` is about to be sent: `Some(outcome)` if its client fails it at
    /// once (short-circuited by an open breaker, or throttled).
    #[inline]
    pub(super) fn client_gate(&mut self, now: Time, source: u16) -> Option<Outcome> {
        let p = &mut self.policies[source as usize];
        if let Some(b) = &mut p.breaker
            && !b.permit(now)
        {
            return Some(Outcome::ShortCircuited);
        }
        if let Some((t, rng)) = &mut p.throttle {
            let reject = t.reject_probability(now);
            if reject > 0.0 && open01(rng) < reject {
                t.settled(now, false);
                if let Some(b) = &mut p.breaker {
                    b.release();
                }
                return Some(Outcome::Throttled);
            }
        }
        None
    }

    /// The outcome of an attempt of `source` reaches its client.
    #[inline]
    pub(super) fn client_learns(&mut self, now: Time, source: u16, outcome: Outcome) {
        if matches!(outcome, Outcome::ShortCircuited | Outcome::Throttled) {
            return;
        }
        let p = &mut self.policies[source as usize];
        let ok = outcome == Outcome::Succeeded;
        if let Some(b) = &mut p.breaker {
            b.record(now, !ok);
        }
        if let Some((t, _)) = &mut p.throttle {
            t.settled(now, ok);
        }
    }

    /// A call of `source` sends its first attempt.
    #[inline]
    pub(super) fn retry_deposit(&mut self, now: Time, source: u16) {
        if let Some(b) = &mut self.policies[source as usize].ratio_budget {
            b.deposit(now);
        }
    }

    /// May a call of `source` retry now under its ratio budget (true without one)? If so, the
    /// retry is counted.
    #[inline]
    pub(super) fn ratio_budget_allows(&mut self, now: Time, source: u16) -> bool {
        match &mut self.policies[source as usize].ratio_budget {
            Some(b) => b.withdraw(now),
            None => true,
        }
    }
}
