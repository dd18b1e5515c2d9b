//! The ratio retry budget of Finagle and Linkerd (`budget_kind = "ratio"`): every call's first
//! attempt deposits, and a retry is allowed only while the retries of the last `ttl` stay within
//! `ratio` x the requests of the last `ttl` plus a reserve of `min_per_s` x `ttl`. So in any
//! `ttl` window (whole seconds) retries <= ratio x requests + min_per_s x ttl, exactly.
//! Not here: the token bucket (`client`), the backoff before a retry (`client`).

use super::window::SecondsWindow;
use crate::engine::Time;
use crate::model::RetryRatio;

/// One ratio budget (per source).
#[derive(Debug, Clone)]
pub(crate) struct RatioBudget {
    spec: RetryRatio,
    /// Requests (0) and retries (1) per second.
    window: SecondsWindow,
}

impl RatioBudget {
    pub(crate) fn new(spec: RetryRatio) -> RatioBudget {
        RatioBudget {
            spec,
            window: SecondsWindow::new(spec.ttl_s),
        }
    }

    /// A call's first attempt is sent.
    #[inline]
    pub(crate) fn deposit(&mut self, now: Time) {
        self.window.add(now, 0, 1);
    }

    /// May a call retry now? If so, the retry is counted.
    #[inline]
    pub(crate) fn withdraw(&mut self, now: Time) -> bool {
        let [requests, retries] = self.window.sums(now);
        let allowed =
            self.spec.ratio * requests as f64 + self.spec.min_per_s * f64::from(self.spec.ttl_s);
        if (retries + 1) as f64 <= allowed + 1e-9 {
            self.window.add(now, 1, 1);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stay_within_ratio_and_reserve() {
        let mut b = RatioBudget::new(RetryRatio {
            ratio: 0.2,
            ttl_s: 10,
            min_per_s: 1.0,
        });
        let now = Time::from_secs(3.5);
        for _ in 0..100 {
            b.deposit(now);
        }
        // 0.2 x 100 + 1 x 10 = 30 retries, then none.
        let allowed = (0..50).filter(|_| b.withdraw(now)).count();
        assert_eq!(allowed, 30);
        // Ten seconds on, the deposits and retries have left the window: the reserve remains.
        let later = Time::from_secs(13.0);
        assert_eq!((0..50).filter(|_| b.withdraw(later)).count(), 10);
    }
}
