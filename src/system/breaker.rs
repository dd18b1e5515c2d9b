//! A client's circuit breaker, as Hystrix and resilience4j define it: closed, it lets every
//! attempt through and counts outcomes over a sliding window; once the window holds at least
//! `min_requests` outcomes and `failure_rate` of them are failures (rejected, timed out or
//! failed) it opens; open, it fails attempts at the client at once (short-circuited) for
//! `open_for`; then, half-open, it lets `half_open_requests` trial attempts through and closes
//! (with an empty window) if their failure share is below `failure_rate`, else opens again.
//! As in resilience4j, outcomes that arrive while half-open count toward the trial whichever
//! attempt they belong to, and outcomes that arrive while open are not counted.
//! Not here: what a short-circuited client does next (`client`), the model keys (`model`).

use super::window::SecondsWindow;
use crate::engine::Time;
use crate::model::Breaker;

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum State {
    Closed,
    /// Failing attempts at the client until `until`.
    Open {
        until: Time,
    },
    /// Trial attempts let through, and the outcomes counted since it became half-open.
    HalfOpen {
        permitted: u32,
        outcomes: u32,
        failures: u32,
    },
}

/// One breaker (per source).
#[derive(Debug, Clone)]
pub(crate) struct CircuitBreaker {
    spec: Breaker,
    pub state: State,
    /// Outcomes (0) and failures (1) per second, while closed.
    window: SecondsWindow,
    /// Times it opened.
    pub opened: u64,
}

impl CircuitBreaker {
    pub(crate) fn new(spec: Breaker) -> CircuitBreaker {
        CircuitBreaker {
            spec,
            state: State::Closed,
            window: SecondsWindow::new(spec.window_s),
            opened: 0,
        }
    }

    /// May an attempt go to the site now? False: it is short-circuited.
    #[inline]
    pub(crate) fn permit(&mut self, now: Time) -> bool {
        match &mut self.state {
            State::Closed => true,
            State::Open { until } => {
                if now < *until {
                    return false;
                }
                self.state = State::HalfOpen {
                    permitted: 1,
                    outcomes: 0,
                    failures: 0,
                };
                true
            }
            State::HalfOpen { permitted, .. } => {
                if *permitted < self.spec.half_open_requests {
                    *permitted += 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// An attempt that was permitted did not go out after all (throttled): give back its trial
    /// place, as resilience4j's `releasePermission`.
    #[inline]
    pub(crate) fn release(&mut self) {
        if let State::HalfOpen { permitted, .. } = &mut self.state {
            *permitted = permitted.saturating_sub(1);
        }
    }

    /// The outcome of an attempt that reached the site arrives.
    #[inline]
    pub(crate) fn record(&mut self, now: Time, failed: bool) {
        let spec = self.spec;
        match &mut self.state {
            State::Closed => {
                self.window.add(now, 0, 1);
                if failed {
                    self.window.add(now, 1, 1);
                }
                let [n, f] = self.window.sums(now);
                if n >= u64::from(spec.min_requests) && f as f64 >= spec.failure_rate * n as f64 {
                    self.open(now);
                }
            }
            State::Open { .. } => {}
            State::HalfOpen {
                outcomes, failures, ..
            } => {
                *outcomes += 1;
                *failures += u32::from(failed);
                if *outcomes >= spec.half_open_requests {
                    if f64::from(*failures) >= spec.failure_rate * f64::from(*outcomes) {
                        self.open(now);
                    } else {
                        self.window.clear();
                        self.state = State::Closed;
                    }
                }
            }
        }
    }

    fn open(&mut self, now: Time) {
        self.opened += 1;
        self.state = State::Open {
            until: now.after(self.spec.open_for_s),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Breaker {
        Breaker {
            window_s: 10,
            min_requests: 20,
            failure_rate: 0.5,
            open_for_s: 5.0,
            half_open_requests: 1,
        }
    }

    #[test]
    fn opens_when_failures_reach_half_of_the_sliding_window() {
        // 5 outcomes a second: successes for a minute, then failures from t = 60 s. The window
        // (10 s) holds 50 outcomes; failures reach half of them after 5 s of failing.
        let mut b = CircuitBreaker::new(spec());
        let mut t = 0.0;
        while t < 60.0 {
            assert!(b.permit(Time::from_secs(t)));
            b.record(Time::from_secs(t), false);
            t += 0.2;
        }
        let mut opened_at = None;
        while t < 78.0 {
            let now = Time::from_secs(t);
            if b.permit(now) {
                b.record(now, true);
            } else if opened_at.is_none() {
                opened_at = Some(t);
            }
            t += 0.2;
        }
        let at = opened_at.expect("the breaker opened");
        assert!((64.5..=66.0).contains(&at), "opened at {at}");
        // Opened at about 65 s, then each trial fails and opens it again (about 70 s and 75 s;
        // the next trial, near 80 s, is past the loop).
        assert_eq!(b.opened, 3);
    }

    #[test]
    fn needs_min_requests_before_opening() {
        let mut b = CircuitBreaker::new(spec());
        for i in 0..19 {
            let now = Time::from_secs(f64::from(i) * 0.1);
            assert!(b.permit(now));
            b.record(now, true);
        }
        assert_eq!(b.state, State::Closed);
        b.record(Time::from_secs(2.0), true);
        assert!(matches!(b.state, State::Open { .. }));
    }

    #[test]
    fn half_open_lets_trials_through_then_closes_or_reopens() {
        let mut b = CircuitBreaker::new(Breaker {
            half_open_requests: 2,
            ..spec()
        });
        for i in 0..20 {
            b.record(Time::from_secs(f64::from(i) * 0.01), true);
        }
        let opened = Time::from_secs(0.19);
        assert_eq!(
            b.state,
            State::Open {
                until: opened.after(5.0)
            }
        );
        assert!(!b.permit(Time::from_secs(5.0)));
        let t = Time::from_secs(5.2);
        assert!(b.permit(t));
        assert!(b.permit(t));
        assert!(!b.permit(t), "only two trials");
        b.release();
        assert!(b.permit(t), "a released trial place is given again");
        // One of two trials fails: a failure share of 0.5 opens it again.
        b.record(t, true);
        b.record(t, false);
        assert!(matches!(b.state, State::Open { .. }));
        let t = Time::from_secs(10.3);
        assert!(b.permit(t) && b.permit(t));
        b.record(t, false);
        b.record(t, false);
        assert_eq!(b.state, State::Closed);
        // The window starts empty after closing.
        for _ in 0..19 {
            b.record(t, true);
        }
        assert_eq!(b.state, State::Closed);
    }
}
