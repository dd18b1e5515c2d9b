//! Client-side adaptive throttling, the Google SRE book's formula ("Handling Overload"): over a
//! sliding window, a client rejects a new attempt locally with probability
//! max(0, (requests - k x accepts) / (requests + 1)). As in gRPC's adaptive throttler, a request
//! is counted when it is settled: throttled at once, or when its outcome arrives (an accept if
//! it succeeded). So a site that answers everything is never throttled, and one that accepts
//! nothing is throttled with a probability that tends to 1.
//! Not here: the random draw (the caller's stream) or what the client does next (`client`).

use super::window::SecondsWindow;
use crate::engine::Time;
use crate::model::Throttle;

/// One throttle (per source).
#[derive(Debug, Clone)]
pub(crate) struct AdaptiveThrottle {
    k: f64,
    /// Requests (0) and accepts (1) per second.
    window: SecondsWindow,
}

impl AdaptiveThrottle {
    pub(crate) fn new(spec: Throttle) -> AdaptiveThrottle {
        AdaptiveThrottle {
            k: spec.k,
            window: SecondsWindow::new(spec.window_s),
        }
    }

    /// The probability that an attempt sent now is rejected locally.
    #[inline]
    pub(crate) fn reject_probability(&mut self, now: Time) -> f64 {
        let [requests, accepts] = self.window.sums(now);
        let r = requests as f64;
        ((r - self.k * accepts as f64) / (r + 1.0)).max(0.0)
    }

    /// A request is settled now: throttled, or answered (`accepted` if it succeeded).
    #[inline]
    pub(crate) fn settled(&mut self, now: Time, accepted: bool) {
        self.window.add(now, 0, 1);
        if accepted {
            self.window.add(now, 1, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_sre_formula() {
        let mut t = AdaptiveThrottle::new(Throttle {
            window_s: 120,
            k: 2.0,
        });
        let now = Time::from_secs(1.0);
        assert_eq!(t.reject_probability(now), 0.0);
        // 100 requests, 30 accepted: (100 - 60) / 101.
        for i in 0..100 {
            t.settled(now, i < 30);
        }
        assert!((t.reject_probability(now) - 40.0 / 101.0).abs() < 1e-12);
        // 50 more, all accepted: 150 - 2 x 80 < 0.
        for _ in 0..50 {
            t.settled(now, true);
        }
        assert_eq!(t.reject_probability(now), 0.0);
        // Two minutes later it has all left the window.
        assert_eq!(t.reject_probability(Time::from_secs(121.0)), 0.0);
    }
}
