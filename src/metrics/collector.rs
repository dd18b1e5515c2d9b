//! The streaming collector the simulated system reports to: request outcomes, latencies and the
//! levels (busy threads, queue, users) whose time averages the summary and time series need.
//!
//! Two views are kept at once. Per bucket, by the time things happen (the time series and the
//! outage detection). For the summary, by cohort: a request counts if it was offered at or after
//! the warm-up, so every counted request ends in exactly one outcome or is still in flight.

use crate::engine::Time;
use crate::engine::time::NANOS_PER_S;
use hdrhistogram::Histogram;
use std::collections::VecDeque;

use crate::stats::histogram::{new_histogram, quantile_s};

use super::attempts::AttemptCounts;
pub(crate) use super::level::Level;
use super::record::Pending;
use super::room::{RoomSeries, RoomStats};
use super::series::{TierSeries, TimeSeries};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Queue full, instance down or load shed.
    Rejected,
    /// The client gave up waiting.
    TimedOut,
    /// The server failed it (crash, server timeout).
    Failed,
    /// The client's circuit breaker was open: failed at the client, never sent.
    ShortCircuited,
    /// The client's adaptive throttle rejected it locally, never sent.
    Throttled,
}

/// Request counts: the attempts, the outcomes only some clients have, and the calls and
/// sessions that ended.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Attempts offered and their outcomes (what `summary.json` writes under `requests`).
    pub attempts: AttemptCounts,
    pub short_circuited: u64,
    pub throttled: u64,
    /// Of `rejected`, the 429s of the edge rate limits (per bucket; the summary's total is the
    /// world's). Not an outcome of its own: `ended` counts them as rejected.
    pub rate_limited: u64,
    /// Calls that ended without success: the client gave up on a request and its retries, or
    /// on a page and its refreshes (every attempt failed), or a user the waiting room turned
    /// away (or who left it) never got the page it came for. A call that succeeded is an
    /// attempt that succeeded, so `succeeded` counts those.
    pub calls_lost: u64,
    /// Of `calls_lost`, pages asked for at the waiting room's door and never sent (a new page:
    /// not a refresh of one already sent), so not among `first_attempts`.
    pub calls_unsent: u64,
    /// Sessions that ended: every page served, or lost (given up after errors, turned away by
    /// the waiting room or out of patience in it). Per bucket, for the user-level window; the
    /// summary's session counts are `Collector::sessions`.
    pub sessions_completed: u64,
    pub sessions_lost: u64,
}

/// Sessions of the users sources (counted when they happen, at or after the warm-up).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sessions {
    /// Sessions begun: new visits and users coming back.
    pub arrived: u64,
    /// Sessions whose every page succeeded (counted at the last page's success).
    pub completed: u64,
    /// Sessions that ended after a failed page: the user gave up (no refresh, or
    /// `give_up_after` failures in a row).
    pub gave_up: u64,
}

impl Counts {
    fn add_outcome(&mut self, o: Outcome) {
        match o {
            Outcome::Succeeded => self.attempts.succeeded += 1,
            Outcome::Rejected => self.attempts.rejected += 1,
            Outcome::TimedOut => self.attempts.timed_out += 1,
            Outcome::Failed => self.attempts.failed += 1,
            Outcome::ShortCircuited => self.short_circuited += 1,
            Outcome::Throttled => self.throttled += 1,
        }
    }

    pub fn ended(&self) -> u64 {
        self.attempts.succeeded + self.attempts.lost() + self.short_circuited + self.throttled
    }
}

/// Collects everything one replication measures.
pub struct Collector {
    bucket: Time,
    warmup: Time,
    window_buckets: usize,
    now_bucket: Counts,
    /// Latencies of the successes that ended in the current bucket (those in `bucket_pending`
    /// are added when the bucket closes).
    bucket_hist: Histogram<u64>,
    bucket_pending: Pending,
    /// Those of them offered before the warm-up (left out of `latency`), kept only when the
    /// bucket can end after the warm-up.
    pre_warmup_hist: Histogram<u64>,
    /// The last `window_buckets` buckets' counts and histograms, for the sliding SLO window.
    window_ring: VecDeque<(Counts, Histogram<u64>)>,
    window_hist: Histogram<u64>,
    window_counts: Counts,
    pub totals: Counts,
    /// Latencies of the cohort's successes, complete up to the last bucket closed (each success
    /// is recorded once, in its bucket's histogram, which is added here when the bucket closes).
    pub latency: Histogram<u64>,
    /// Sum of the cohort's latencies, seconds: complete once the run has finished (summed in
    /// nanoseconds, `latency_sum_ns`, and converted once by `finish`).
    pub latency_sum_s: f64,
    latency_sum_ns: f64,
    pub users: Level,
    /// The users sources' sessions (see [`Sessions`]).
    pub sessions: Sessions,
    pub tiers: Vec<TierStats>,
    pub series: TimeSeries,
    /// The waiting room's measures, when the model has one (`with_room`).
    pub room: Option<RoomStats>,
}

impl Collector {
    /// `tiers` gives each tier's name, threads per instance and instance count.
    pub fn new(
        bucket_s: f64,
        warmup_s: f64,
        window_s: f64,
        start_clock_s: Option<f64>,
        tiers: &[(String, u32, u32)],
    ) -> Collector {
        let window_buckets = ((window_s / bucket_s).round() as usize).max(1);
        let series = TimeSeries {
            bucket_s,
            start_clock_s,
            tiers: tiers
                .iter()
                .map(|(name, threads, _)| TierSeries {
                    name: name.clone(),
                    threads_per_instance: f64::from(*threads),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let mut c = Collector {
            bucket: Time::from_secs(bucket_s),
            warmup: Time::from_secs(warmup_s),
            window_buckets,
            now_bucket: Counts::default(),
            bucket_hist: new_histogram(),
            bucket_pending: Pending::default(),
            pre_warmup_hist: new_histogram(),
            window_ring: VecDeque::with_capacity(window_buckets.min(4096)),
            window_hist: new_histogram(),
            window_counts: Counts::default(),
            totals: Counts::default(),
            latency: new_histogram(),
            latency_sum_s: 0.0,
            latency_sum_ns: 0.0,
            users: Level::default(),
            sessions: Sessions::default(),
            tiers: tiers
                .iter()
                .map(|(_, threads, n)| {
                    let mut t = TierStats {
                        instances_up: *n,
                        in_rotation: *n,
                        ..Default::default()
                    };
                    t.up_threads
                        .add(Time::ZERO, f64::from(*n) * f64::from(*threads));
                    t
                })
                .collect(),
            series,
            room: None,
        };
        if warmup_s <= 0.0 {
            c.start_counting(Time::ZERO);
        }
        c
    }

    /// Measure a waiting room too (before the first bucket closes).
    pub fn with_room(&mut self) {
        self.room = Some(RoomStats::default());
        self.series.room = Some(RoomSeries::default());
    }

    /// Bucket length.
    pub fn bucket(&self) -> Time {
        self.bucket
    }

    pub fn warmup(&self) -> Time {
        self.warmup
    }

    #[inline]
    pub fn counts(&self, offered_at: Time) -> bool {
        offered_at >= self.warmup
    }

    /// The warm-up ends: summary statistics start here.
    pub fn start_counting(&mut self, now: Time) {
        self.users.start_counting(now);
        for t in &mut self.tiers {
            t.up_threads.start_counting(now);
            t.busy.start_counting(now);
            t.queued.start_counting(now);
            t.in_tier.start_counting(now);
        }
    }

    /// An attempt is offered (a first attempt, or a retry or refresh).
    #[inline]
    pub fn offered(&mut self, now: Time, retry: bool) {
        self.now_bucket.attempts.offer(retry);
        if now >= self.warmup {
            self.totals.attempts.offer(retry);
        }
    }

    /// `first` first attempts and `retries` repeats offered and refused at once, all at times
    /// in the bucket of `now` and on the same side of the warm-up: the counts of as many
    /// `offered` then `ended(.., Rejected)`, in one step; `lost` of them end their call (their
    /// client gives up on it).
    pub fn refused_many(&mut self, now: Time, first: u64, retries: u64, lost: u64) {
        self.now_bucket.attempts.refuse(first, retries);
        self.now_bucket.calls_lost += lost;
        if now >= self.warmup {
            self.totals.attempts.refuse(first, retries);
            self.totals.calls_lost += lost;
        }
    }

    /// An attempt offered at `offered_at` ends now.
    #[inline]
    pub fn ended(&mut self, now: Time, offered_at: Time, outcome: Outcome) {
        self.now_bucket.add_outcome(outcome);
        let counted = offered_at >= self.warmup;
        if counted {
            self.totals.add_outcome(outcome);
        }
        if outcome == Outcome::Succeeded {
            let latency_ns = now.0.saturating_sub(offered_at.0).max(1);
            // One record per success: the cohort's histogram is the sum of the buckets' (see
            // `close_bucket`), less the successes offered before the warm-up.
            self.bucket_pending
                .record(latency_ns, &mut self.bucket_hist);
            if counted {
                self.latency_sum_ns += Time(latency_ns).nanos_since(Time::ZERO);
            } else if now.0.saturating_add(self.bucket.0) > self.warmup.0 {
                self.pre_warmup_hist.saturating_record(latency_ns);
            }
        }
    }

    /// An attempt is refused at the edge by a rate limit now (its `Rejected` outcome is
    /// recorded by `ended`): one counter of the bucket.
    #[inline]
    pub fn rate_limited(&mut self, _now: Time) {
        self.now_bucket.rate_limited += 1;
    }

    /// A call whose last attempt was offered at `offered_at` ends without success: its client
    /// gives up (no retry or refresh left, or none wanted). Two counters, no allocation.
    #[inline]
    pub fn call_lost(&mut self, offered_at: Time) {
        self.now_bucket.calls_lost += 1;
        if offered_at >= self.warmup {
            self.totals.calls_lost += 1;
        }
    }

    /// A user at the waiting room's door leaves without getting in (turned away, or out of
    /// patience): the page it came for is a lost call; `fresh` when that page was never sent
    /// (not a refresh), so it was not counted among the first attempts either. Counted in the
    /// totals when the room's own counts are (`RoomStats::counting`), so the two agree.
    pub fn call_lost_at_door(&mut self, fresh: bool) {
        let counted = self.room.as_ref().is_some_and(RoomStats::counting);
        let (b, t) = (&mut self.now_bucket, &mut self.totals);
        b.calls_lost += 1;
        b.calls_unsent += u64::from(fresh);
        b.sessions_lost += 1;
        if counted {
            t.calls_lost += 1;
            t.calls_unsent += u64::from(fresh);
        }
    }

    /// Sessions begun, completed and given up at `now` (the group advance settles several at
    /// once, all on one side of the warm-up).
    #[inline]
    pub fn sessions(&mut self, now: Time, arrived: u64, completed: u64, gave_up: u64) {
        let b = &mut self.now_bucket;
        b.sessions_completed += completed;
        b.sessions_lost += gave_up;
        if now >= self.warmup {
            let s = &mut self.sessions;
            s.arrived += arrived;
            s.completed += completed;
            s.gave_up += gave_up;
        }
    }

    /// Add the current bucket's successes to the cohort's latencies (those offered before the
    /// warm-up left out), when the bucket, ending at `now`, reaches past the warm-up.
    fn flush_latencies(&mut self, now: Time) {
        if now > self.warmup {
            self.latency
                .add(&self.bucket_hist)
                .expect("histograms share their settings");
            if !self.pre_warmup_hist.is_empty() {
                self.latency
                    .subtract(&self.pre_warmup_hist)
                    .expect("successes offered before the warm-up are in their bucket's");
            }
        }
        self.pre_warmup_hist.reset();
    }

    /// Close the bucket that ends at `now` and append its row to the series.
    pub fn close_bucket(&mut self, now: Time, bucket_start: Time, memory: &[(f64, f64)]) {
        self.bucket_pending.flush(&mut self.bucket_hist);
        let len_s = now.since(bucket_start).max(1e-12);
        let s = &mut self.series;
        s.t_s.push(bucket_start.secs());
        s.users.push(self.users.close_bucket(now, len_s));
        let c = self.now_bucket;
        s.offered.push(c.attempts.offered as f64);
        s.first_attempts.push(c.attempts.first_attempts as f64);
        s.retries.push(c.attempts.retries as f64);
        s.succeeded.push(c.attempts.succeeded as f64);
        s.rejected.push(c.attempts.rejected as f64);
        s.timed_out.push(c.attempts.timed_out as f64);
        s.failed.push(c.attempts.failed as f64);
        s.short_circuited.push(c.short_circuited as f64);
        s.throttled.push(c.throttled as f64);
        s.rate_limited.push(c.rate_limited as f64);
        s.calls_lost.push(c.calls_lost as f64);
        s.sessions_completed.push(c.sessions_completed as f64);
        s.sessions_lost.push(c.sessions_lost as f64);
        s.p50_s.push(quantile_s(&self.bucket_hist, 0.50));
        s.p95_s.push(quantile_s(&self.bucket_hist, 0.95));
        s.p99_s.push(quantile_s(&self.bucket_hist, 0.99));

        // Slide the SLO window: drop the oldest bucket once it is full, add this one.
        if self.window_ring.len() == self.window_buckets {
            let (old_c, old_h) = self
                .window_ring
                .pop_front()
                .expect("a full window has buckets");
            let w = &mut self.window_counts;
            w.attempts.offered -= old_c.attempts.offered;
            w.attempts.succeeded -= old_c.attempts.succeeded;
            w.attempts.rejected -= old_c.attempts.rejected;
            w.attempts.timed_out -= old_c.attempts.timed_out;
            w.attempts.failed -= old_c.attempts.failed;
            w.short_circuited -= old_c.short_circuited;
            w.throttled -= old_c.throttled;
            w.calls_lost -= old_c.calls_lost;
            w.sessions_completed -= old_c.sessions_completed;
            w.sessions_lost -= old_c.sessions_lost;
            self.window_hist
                .subtract(&old_h)
                .expect("a bucket is part of its window");
            let mut recycled = old_h;
            recycled.reset();
            recycled
                .add(&self.bucket_hist)
                .expect("histograms share their settings");
            self.window_ring.push_back((c, recycled));
        } else {
            let mut h = new_histogram();
            h.add(&self.bucket_hist)
                .expect("histograms share their settings");
            self.window_ring.push_back((c, h));
        }
        self.window_hist
            .add(&self.bucket_hist)
            .expect("histograms share their settings");
        let w = &mut self.window_counts;
        w.attempts.offered += c.attempts.offered;
        w.attempts.succeeded += c.attempts.succeeded;
        w.attempts.rejected += c.attempts.rejected;
        w.attempts.timed_out += c.attempts.timed_out;
        w.attempts.failed += c.attempts.failed;
        w.short_circuited += c.short_circuited;
        w.throttled += c.throttled;
        w.calls_lost += c.calls_lost;
        w.sessions_completed += c.sessions_completed;
        w.sessions_lost += c.sessions_lost;
        let ended = w.ended();
        let rate = if ended > 0 {
            w.attempts.succeeded as f64 / ended as f64
        } else if w.attempts.offered > 0 {
            0.0 // work offered and nothing came back: down
        } else {
            f64::NAN // nothing offered: no verdict
        };
        s.window_success_rate.push(rate);
        // Calls: each success ends one; a call lost ended when its client gave up.
        let calls_ended = w.attempts.succeeded + w.calls_lost;
        s.window_call_success_rate.push(if calls_ended > 0 {
            w.attempts.succeeded as f64 / calls_ended as f64
        } else if w.attempts.offered > 0 || w.calls_lost > 0 {
            0.0
        } else {
            f64::NAN
        });
        let sessions_ended = w.sessions_completed + w.sessions_lost;
        s.window_user_success_rate.push(if sessions_ended > 0 {
            w.sessions_completed as f64 / sessions_ended as f64
        } else {
            f64::NAN
        });
        s.window_p95_s.push(quantile_s(&self.window_hist, 0.95));

        for ((stats, ts), (base, per_req)) in self.tiers.iter_mut().zip(&mut s.tiers).zip(memory) {
            ts.busy_threads.push(stats.busy.close_bucket(now, len_s));
            ts.queued.push(stats.queued.close_bucket(now, len_s));
            stats.in_tier.close_bucket(now, len_s);
            ts.instances_up.push(f64::from(stats.instances_up));
            ts.in_rotation.push(f64::from(stats.in_rotation));
            ts.memory_max_bytes
                .push(base + per_req * f64::from(stats.bucket_max_in_instance));
        }
        if let (Some(r), Some(rs)) = (&mut self.room, &mut s.room) {
            r.close_bucket(now, len_s, rs);
        }
        self.flush_latencies(now);
        self.now_bucket = Counts::default();
        self.bucket_hist.reset();
    }

    /// Bring the time averages up to the horizon.
    pub fn finish(&mut self, now: Time) {
        // Successes since the last bucket closed (none unless the run stopped on a bucket's end).
        self.bucket_pending.flush(&mut self.bucket_hist);
        self.flush_latencies(now);
        self.bucket_hist.reset();
        self.users.add(now, 0.0);
        if let Some(r) = &mut self.room {
            r.waiting.add(now, 0.0);
        }
        self.latency_sum_s = self.latency_sum_ns / NANOS_PER_S;
        for t in &mut self.tiers {
            t.wait_pending.flush(&mut t.wait);
            t.wait_sum_s = t.wait_sum_ns / NANOS_PER_S;
            t.up_threads.add(now, 0.0);
            t.busy.add(now, 0.0);
            t.queued.add(now, 0.0);
            t.in_tier.add(now, 0.0);
        }
    }
}

mod tier_stats;
pub(crate) use tier_stats::TierStats;

#[cfg(test)]
mod tests;
