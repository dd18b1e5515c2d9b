//! Per-bucket time series of one run (or the mean over replications): what `timeseries.csv`
//! holds and what the timeline chart draws. Plain columns, one value per bucket.

/// The per-tier columns of the time series.
#[derive(Debug, Clone, Default)]
pub struct TierSeries {
    /// Tier name, as in the model.
    pub name: String,
    /// Worker threads per instance (constant), to draw capacity lines.
    pub threads_per_instance: f64,
    /// Instances up (not crashed or stopped) at the end of the bucket.
    pub instances_up: Vec<f64>,
    /// Instances the balancer sends to (up or not: without health checks it cannot tell).
    pub in_rotation: Vec<f64>,
    /// Time-averaged busy threads over the bucket, summed over the tier's instances.
    pub busy_threads: Vec<f64>,
    /// Time-averaged waiting requests over the bucket, summed over the tier's instances.
    pub queued: Vec<f64>,
    /// Largest memory use of any one instance during the bucket, bytes.
    pub memory_max_bytes: Vec<f64>,
    /// The concurrency limits of the instances up at the bucket's end, summed (empty without
    /// `[tier.concurrency_limit]`).
    pub concurrency_limit: Vec<f64>,
    /// Instances ejected by outlier detection at the bucket's end (empty without
    /// `[tier.outlier_detection]`).
    pub ejected: Vec<f64>,
    /// Attempts that arrived at the tier in the bucket, and of them retries of its caller
    /// (`[tier.retry]` of the tier before it): counts per bucket, on every tier when the model
    /// has a `[tier.retry]` (empty otherwise).
    pub arrivals: Vec<f64>,
    pub retries: Vec<f64>,
    /// Connections of the tier's pool (`[tier.pool]`, to the tier it calls) in use, and
    /// requests waiting for one, time-averaged over the bucket, all instances together (empty
    /// without a pool).
    pub pool_in_use: Vec<f64>,
    pub pool_waiting: Vec<f64>,
    /// Connections per instance of the pool (0 without one), to draw its size.
    pub pool_connections: f64,
}

impl TierSeries {
    /// The utilisation of the busiest bucket that starts at or after `from_s` (of those whose
    /// start times are `t_s`): its time-averaged busy threads over the threads of the instances
    /// up at its end, at most 1; `None` without such a bucket.
    pub fn peak_bucket_utilization(&self, t_s: &[f64], from_s: f64) -> Option<f64> {
        (t_s.iter().zip(&self.busy_threads).zip(&self.instances_up))
            .filter(|((t, _), _)| **t + 1e-9 >= from_s)
            .filter_map(|((_, busy), up)| {
                let threads = up * self.threads_per_instance;
                (threads > 0.0).then(|| (busy / threads).min(1.0))
            })
            .reduce(f64::max)
    }
}

/// The whole time series: every `Vec` has one entry per bucket.
#[derive(Debug, Clone, Default)]
pub struct TimeSeries {
    /// Bucket length, seconds.
    pub bucket_s: f64,
    /// Clock time of t = 0 in seconds after midnight (`scenario.start`), when set.
    pub start_clock_s: Option<f64>,
    /// Start of each bucket, seconds of simulated time.
    pub t_s: Vec<f64>,
    /// Time-averaged concurrent users on the site.
    pub users: Vec<f64>,
    /// Attempts offered in the bucket (first attempts plus retries and refreshes): counts per
    /// bucket, divide by `bucket_s` for a rate. Same for the five columns below.
    pub offered: Vec<f64>,
    pub first_attempts: Vec<f64>,
    pub retries: Vec<f64>,
    pub succeeded: Vec<f64>,
    pub rejected: Vec<f64>,
    pub timed_out: Vec<f64>,
    pub failed: Vec<f64>,
    /// Attempts failed at the client by an open circuit breaker, and rejected locally by the
    /// client's adaptive throttle (counts per bucket; written only when the model has a breaker,
    /// a throttle: `has_breaker`, `has_throttle`).
    pub short_circuited: Vec<f64>,
    pub throttled: Vec<f64>,
    /// Of `rejected`, the 429s of the edge rate limits (counts per bucket; written only when
    /// the model has a rate limit: `has_rate_limit`).
    pub rate_limited: Vec<f64>,
    pub has_breaker: bool,
    pub has_throttle: bool,
    pub has_rate_limit: bool,
    /// Calls that ended without success in the bucket (counts): a request whose retries all
    /// failed, a page whose refreshes all failed (the user left), or a user the waiting room
    /// turned away or who left it. A call that succeeded is an attempt that succeeded
    /// (`succeeded`).
    pub calls_lost: Vec<f64>,
    /// Sessions that ended in the bucket with every page served, and lost (given up after
    /// errors, turned away by the waiting room or out of patience in it): counts, written only
    /// with a users source (`has_users`).
    pub sessions_completed: Vec<f64>,
    pub sessions_lost: Vec<f64>,
    pub has_users: bool,
    /// Latency percentiles of the requests that succeeded in the bucket, seconds (NaN if none).
    pub p50_s: Vec<f64>,
    pub p95_s: Vec<f64>,
    pub p99_s: Vec<f64>,
    /// Success rate over the SLO window ending with this bucket (NaN if nothing ended in it).
    pub window_success_rate: Vec<f64>,
    /// Calls that succeeded over the calls that ended (succeeded or lost) in the SLO window
    /// ending with this bucket (NaN if nothing happened in it): the call-level outage reads it.
    pub window_call_success_rate: Vec<f64>,
    /// Sessions completed over the sessions that ended in the SLO window ending with this
    /// bucket (NaN if none ended): the user-level outage reads it.
    pub window_user_success_rate: Vec<f64>,
    /// p95 latency of successes over the SLO window ending with this bucket, seconds.
    pub window_p95_s: Vec<f64>,
    pub tiers: Vec<TierSeries>,
    /// The waiting room's columns, when the model has a room.
    pub room: Option<super::room::RoomSeries>,
}

impl TimeSeries {
    /// Number of buckets.
    pub fn len(&self) -> usize {
        self.t_s.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t_s.is_empty()
    }
}
