//! A level: a quantity that changes at events (busy threads, queue length, users, the waiting
//! room), integrated over time per bucket and since the warm-up, with its peak.
//!
//! Not here: which levels a run keeps (`metrics::collector`, `metrics::room`).

use crate::engine::Time;
use crate::engine::time::NANOS_PER_S;

/// A quantity that changes at events, integrated over time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Level {
    pub value: f64,
    last: Time,
    /// Integral over the current bucket, in value x nanoseconds (no division per change).
    bucket_area: f64,
    /// Integral since the warm-up ended, in value x nanoseconds.
    total_area: f64,
    counting: bool,
    /// Largest value seen since the warm-up.
    pub peak: f64,
}

impl Level {
    #[inline]
    fn advance(&mut self, now: Time) {
        let a = self.value * now.nanos_since(self.last);
        self.bucket_area += a;
        if self.counting {
            self.total_area += a;
        }
        self.last = now;
    }

    #[inline]
    pub fn add(&mut self, now: Time, delta: f64) {
        self.advance(now);
        self.value += delta;
        if self.counting && self.value > self.peak {
            self.peak = self.value;
        }
    }

    /// Changes made at times in [the last update, `end`], applied at once in any order:
    /// `sum` their total, `weighted_ns` the sum of each change x (`end` - its time) in
    /// nanoseconds, and `peak` the largest value reached among them (the caller finds it, in
    /// time order, when it could exceed the peak so far). The same areas and peak as adding
    /// them one by one, then `add(end, 0.0)`.
    pub fn add_settled(&mut self, end: Time, sum: f64, weighted_ns: f64, peak: f64) {
        self.advance(end);
        self.bucket_area += weighted_ns;
        if self.counting {
            self.total_area += weighted_ns;
            self.peak = self.peak.max(peak);
        }
        self.value += sum;
    }

    /// Summary statistics have started (its peak is tracked).
    pub fn counting(&self) -> bool {
        self.counting
    }

    /// Close the bucket ending at `now`: its time average.
    pub(crate) fn close_bucket(&mut self, now: Time, length_s: f64) -> f64 {
        self.advance(now);
        let avg = self.bucket_area / NANOS_PER_S / length_s;
        self.bucket_area = 0.0;
        avg
    }

    pub(crate) fn start_counting(&mut self, now: Time) {
        self.advance(now);
        self.counting = true;
        self.total_area = 0.0;
        self.peak = self.value;
    }

    /// Time average since the warm-up.
    pub fn mean(&self, span_s: f64) -> f64 {
        if span_s > 0.0 {
            self.total_area / NANOS_PER_S / span_s
        } else {
            0.0
        }
    }
}
