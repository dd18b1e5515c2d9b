//! What the collector keeps per tier: the levels (busy threads, threads up, queue, in tier)
//! and the cohort counts and times of its visits. Not the time series per tier (`series.rs`).

use crate::engine::Time;
use hdrhistogram::Histogram;

use super::Level;
use crate::metrics::record::Pending;
use crate::stats::histogram::new_histogram;

/// Per-tier measures.
#[derive(Debug, Clone)]
pub struct TierStats {
    pub busy: Level,
    /// Threads of the instances that are up (the capacity utilisation is measured against).
    pub up_threads: Level,
    pub queued: Level,
    /// Requests in the tier: waiting, in service, or holding a thread while later tiers work.
    pub in_tier: Level,
    /// Cohort counts (arrived at the tier after the warm-up).
    pub arrivals: u64,
    /// Of `arrivals`, retries of the tier's caller (`[tier.retry]` of the tier before it).
    pub retries: u64,
    /// Arrivals, and of them retries of its caller, in the current bucket (counted only when
    /// the model has a `[tier.retry]`).
    pub bucket_arrivals: u64,
    pub bucket_retries: u64,
    pub rejected: u64,
    pub served: u64,
    pub response_sum_s: f64,
    /// Every visit that left the tier (served, left the queue unserved, or a probe), cohort, and
    /// the time they spent in it: Little's law's rate and time.
    pub departures: u64,
    pub departure_time_s: f64,
    /// Time spent in the tier inside [warm-up, horizon] by every visit, those still there at the
    /// horizon included: equals the time integral of `in_tier`, whatever the run did.
    pub time_in_tier_s: f64,
    /// Requests in the tier at the horizon.
    pub in_tier_at_end: u64,
    pub started: u64,
    /// Sum of the cohort's queue waits, seconds: complete once the run has finished (it is
    /// summed in nanoseconds, `wait_sum_ns`, and converted once by `Collector::finish`).
    pub wait_sum_s: f64,
    pub(super) wait_sum_ns: f64,
    /// Of the cohort requests that started service, those that waited at all.
    pub waited: u64,
    /// Queue waits of the cohort, nanoseconds (zero waits recorded as 1 ns); complete once the
    /// run has finished (`Collector::finish` adds `wait_pending`).
    pub wait: Histogram<u64>,
    pub(super) wait_pending: Pending,
    pub crashes: u64,
    pub first_crash: Option<Time>,
    pub in_rotation: u32,
    /// Largest number of requests in one instance during the current bucket.
    pub bucket_max_in_instance: u32,
    pub instances_up: u32,
}

impl Default for TierStats {
    fn default() -> Self {
        TierStats {
            busy: Level::default(),
            up_threads: Level::default(),
            queued: Level::default(),
            in_tier: Level::default(),
            arrivals: 0,
            retries: 0,
            bucket_arrivals: 0,
            bucket_retries: 0,
            rejected: 0,
            served: 0,
            response_sum_s: 0.0,
            departures: 0,
            departure_time_s: 0.0,
            time_in_tier_s: 0.0,
            in_tier_at_end: 0,
            started: 0,
            wait_sum_s: 0.0,
            wait_sum_ns: 0.0,
            waited: 0,
            wait: new_histogram(),
            wait_pending: Pending::default(),
            crashes: 0,
            first_crash: None,
            in_rotation: 0,
            bucket_max_in_instance: 0,
            instances_up: 0,
        }
    }
}

impl TierStats {
    /// `delta` instances of `threads` threads each came up (positive) or went down (negative).
    #[inline]
    pub fn instances_changed(&mut self, now: Time, threads: u32, delta: i32) {
        self.instances_up = self.instances_up.saturating_add_signed(delta);
        self.up_threads
            .add(now, f64::from(delta) * f64::from(threads));
    }

    /// A visit that entered at `enter` leaves (or is cut off by the horizon) at `now`.
    #[inline]
    pub fn visit_time(&mut self, enter: Time, now: Time, warmup: Time) {
        if now > warmup {
            self.time_in_tier_s += now.since(enter.max(warmup));
        }
    }

    /// A cohort request waited `wait` before its service started.
    #[inline]
    pub fn record_wait(&mut self, wait: Time) {
        self.started += 1;
        self.wait_sum_ns += wait.nanos_since(Time::ZERO);
        if wait.0 > 0 {
            self.waited += 1;
        }
        self.wait_pending.record(wait.0.max(1), &mut self.wait);
    }
}
