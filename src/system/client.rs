//! Client-side state between attempts of a requests-source call, and the retry backoff:
//! none, fixed or exponential (capped), with no, full, equal or decorrelated jitter (the
//! variants of the AWS Architecture Blog's "Exponential Backoff and Jitter").

use crate::engine::Stream;
use crate::engine::rng::open01;
use crate::model::{Backoff, Jitter, Retry};

/// A call of a requests source: one logical request and its attempts.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub source: u16,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last delay, for decorrelated jitter.
    pub last_delay_s: f64,
}

/// The wait before the next attempt of `call`, which has made `call.attempts` attempts.
pub fn backoff_delay(retry: &Retry, call: &mut Call, rng: &mut Stream) -> f64 {
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
