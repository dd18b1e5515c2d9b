//! The edge rate limiter during a run: a token bucket per limited source and one for the
//! whole site (`model::rate_limit`), asked before an attempt is sent to the first tier. The
//! bucket is kept as (tokens, when last refilled) and refilled lazily at each ask, so it costs
//! nothing between attempts and needs no event; it starts full. An attempt refused by either
//! bucket is a 429 at the edge: `Rejected`, counted in `rate_limited` as well. Not here: what
//! the client does next (`client`), and the client-side policies (`client_policies`).

use super::World;
use crate::engine::Time;
use crate::model::RateLimit;

/// One token bucket.
#[derive(Debug, Clone, Copy)]
pub(super) struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    refilled: Time,
}

impl TokenBucket {
    pub(super) fn new(limit: RateLimit) -> TokenBucket {
        TokenBucket {
            rate: limit.rate,
            burst: f64::from(limit.burst),
            tokens: f64::from(limit.burst),
            refilled: Time::ZERO,
        }
    }

    /// Refill up to `now`; is a whole token there?
    #[inline]
    fn has_token(&mut self, now: Time) -> bool {
        let dt = now.secs() - self.refilled.secs();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.refilled = now;
        self.tokens >= 1.0
    }
}

/// The buckets of a run.
#[derive(Debug, Default)]
pub(super) struct EdgeLimits {
    /// Per source, its own bucket.
    per_source: Vec<Option<TokenBucket>>,
    /// The site's bucket, for every source together.
    global: Option<TokenBucket>,
    /// Some bucket exists (the request path skips the gate otherwise).
    pub(super) any: bool,
    /// Attempts refused at the edge after the warm-up.
    pub(super) rate_limited: u64,
}

impl EdgeLimits {
    pub(super) fn new(model: &crate::model::Model) -> EdgeLimits {
        let per_source: Vec<Option<TokenBucket>> = (model.sources.iter())
            .map(|s| s.rate_limit.map(TokenBucket::new))
            .collect();
        let global = model.rate_limit.map(TokenBucket::new);
        EdgeLimits {
            any: global.is_some() || per_source.iter().any(Option::is_some),
            per_source,
            global,
            rate_limited: 0,
        }
    }

    /// May an attempt of `source` pass now? If so, it takes a token from each bucket it
    /// passes (its source's, then the site's); a refused attempt takes none.
    #[inline]
    fn admit(&mut self, now: Time, source: u16) -> bool {
        let own = &mut self.per_source[source as usize];
        let own_ok = own.as_mut().is_none_or(|b| b.has_token(now));
        let site_ok = own_ok && self.global.as_mut().is_none_or(|b| b.has_token(now));
        if !site_ok {
            return false;
        }
        if let Some(b) = own {
            b.tokens -= 1.0;
        }
        if let Some(b) = &mut self.global {
            b.tokens -= 1.0;
        }
        true
    }
}

impl World<'_> {
    /// Attempts refused at the edge after the warm-up (`None`: the model has no rate limit).
    pub(crate) fn rate_limited(&self) -> Option<u64> {
        self.edge.any.then_some(self.edge.rate_limited)
    }

    /// The edge rate limits let an attempt of `source` through now (`false`: a 429, counted).
    #[inline]
    pub(super) fn edge_admits(&mut self, now: Time, source: u16) -> bool {
        if self.edge.admit(now, source) {
            return true;
        }
        self.metrics.rate_limited(now);
        if self.metrics.counts(now) {
            self.edge.rate_limited += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_lets_through_its_burst_then_its_rate() {
        let mut b = TokenBucket::new(RateLimit {
            rate: 2.0,
            burst: 3,
        });
        let mut passed = 0;
        // 100 asks a second for 10 s: 3 at once, then 2 a second.
        for k in 0..1000 {
            if b.has_token(Time::from_secs(k as f64 * 0.01)) {
                b.tokens -= 1.0;
                passed += 1;
            }
        }
        // Tokens by 9.99 s: 3 + 2 x 9.99 = 22.98, so 22 whole ones taken.
        assert_eq!(passed, 22);
    }
}
