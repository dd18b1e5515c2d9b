//! A sliding window of two counts over the last whole seconds of simulated time, as a ring of
//! per-second buckets (resilience4j's time-based window works the same way): adding to it and
//! reading its sums cost no allocation, only clearing the seconds that passed. The client
//! policies (`breaker`, `throttle`, `retry_budget`) count in it. Not a general time series.

use crate::engine::Time;

const NANOS_PER_S: u64 = 1_000_000_000;

/// Two counts per second over the last `len` seconds (the current second included).
#[derive(Debug, Clone)]
pub(crate) struct SecondsWindow {
    buckets: Vec<[u64; 2]>,
    sums: [u64; 2],
    /// The second the newest bucket holds.
    second: u64,
}

impl SecondsWindow {
    /// A window over `len` seconds (at least 1).
    pub(crate) fn new(len: u32) -> SecondsWindow {
        SecondsWindow {
            buckets: vec![[0, 0]; len.max(1) as usize],
            sums: [0, 0],
            second: 0,
        }
    }

    /// Slide the window so that its newest bucket is the second holding `now`.
    #[inline]
    fn slide(&mut self, now: Time) {
        let s = now.0 / NANOS_PER_S;
        if s <= self.second {
            return;
        }
        let n = self.buckets.len() as u64;
        if s - self.second >= n {
            self.buckets.iter_mut().for_each(|b| *b = [0, 0]);
            self.sums = [0, 0];
        } else {
            for k in self.second + 1..=s {
                let b = &mut self.buckets[(k % n) as usize];
                self.sums[0] -= b[0];
                self.sums[1] -= b[1];
                *b = [0, 0];
            }
        }
        self.second = s;
    }

    /// Count `n` of kind `which` (0 or 1) at `now` (never earlier than the last call).
    #[inline]
    pub(crate) fn add(&mut self, now: Time, which: usize, n: u64) {
        self.slide(now);
        let len = self.buckets.len() as u64;
        self.buckets[(self.second % len) as usize][which] += n;
        self.sums[which] += n;
    }

    /// Both counts over the window ending at `now`.
    #[inline]
    pub(crate) fn sums(&mut self, now: Time) -> [u64; 2] {
        self.slide(now);
        self.sums
    }

    /// Forget everything counted so far.
    pub(crate) fn clear(&mut self) {
        self.buckets.iter_mut().for_each(|b| *b = [0, 0]);
        self.sums = [0, 0];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_leave_the_window_after_its_length() {
        let mut w = SecondsWindow::new(3);
        let t = Time::from_secs;
        w.add(t(0.5), 0, 1);
        w.add(t(1.2), 0, 2);
        w.add(t(2.9), 1, 5);
        assert_eq!(w.sums(t(2.99)), [3, 5]);
        // At 3.0 the second [0, 1) leaves.
        assert_eq!(w.sums(t(3.0)), [2, 5]);
        assert_eq!(w.sums(t(4.0)), [0, 5]);
        assert_eq!(w.sums(t(5.5)), [0, 0]);
        w.add(t(100.0), 0, 7);
        assert_eq!(w.sums(t(100.5)), [7, 0]);
        w.clear();
        assert_eq!(w.sums(t(100.5)), [0, 0]);
    }
}
