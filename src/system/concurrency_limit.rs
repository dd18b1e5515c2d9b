//! Adaptive concurrency limits at a tier (`[tier.concurrency_limit]`), as Netflix's
//! concurrency-limits library defines them: each instance of the tier runs its own limiter in
//! front of its threads and queue. An attempt arriving when the instance already holds `limit`
//! attempts (waiting, in service, or holding a thread while later tiers work) is turned away at
//! once (503). Every attempt let in is a sample when it leaves the instance: its round-trip time
//! there (admission to the end of the attempt), the in-flight count when it was let in (itself
//! included, as the library's `AbstractLimiter` counts), and whether it was a drop (the attempt
//! failed or was refused further on). An attempt its client abandoned while it waited is ignored
//! (the library's `onIgnore`), and so is a probe (health checks bypass the limiter).
//!
//! The three algorithms, each as the library's class of the same name computes it:
//! - AIMD (`AIMDLimit`): on a drop or a round trip over `timeout`, limit = floor(limit x
//!   backoff_ratio); else, when in-flight x 2 >= limit, limit + 1; kept within [min, max].
//! - Gradient2 (`Gradient2Limit`): short RTT = the last sample, long RTT = an exponential average
//!   over 600 samples (a plain mean over the first 10); when long/short > 2 the long average is
//!   cut by 10%; unless in-flight < limit / 2, gradient = clamp(long / short, 0.5, 1), estimate =
//!   estimate x (1 - smoothing) + (estimate x gradient + 4) x smoothing, kept within [min, max].
//! - Vegas (`VegasLimit`): the no-load RTT is the smallest seen, re-probed (set to the current
//!   sample) every jitter x 30 x limit samples, jitter uniform in [0.5, 1); queue = ceil(limit x
//!   (1 - rtt_noload / rtt)); with l = max(1, floor(log10 limit)): a drop takes l off; otherwise,
//!   unless in-flight x 2 < limit, queue <= l adds 6 l, queue < 3 l adds l, queue > 6 l takes l
//!   off; the new value is kept within [min, max] and smoothed as Gradient2's.
//!
//! Not here: where the hooks sit in an attempt's path (`attempts`), the model keys
//! (`crate::model::tier_policies`).

use crate::engine::rng::open01;
use crate::engine::{Stream, Time};
use crate::metrics::Outcome;
use crate::model::{ConcurrencyLimit, LimitAlgorithm};

use super::World;

/// Gradient2's long-RTT average: window and warm-up in samples, and the queue it allows.
const LONG_WINDOW: f64 = 600.0;
const LONG_WARMUP: u32 = 10;
const GRADIENT2_QUEUE: f64 = 4.0;
/// Vegas probes its no-load RTT every jitter x this x limit samples.
const VEGAS_PROBE_MULTIPLIER: f64 = 30.0;

/// One instance's limiter.
#[derive(Debug, Clone)]
pub(crate) struct Limiter {
    cfg: ConcurrencyLimit,
    /// The limit as a real number (Gradient2 and Vegas keep fractions; AIMD whole numbers).
    estimate: f64,
    /// Attempts let in and not yet gone.
    pub inflight: u32,
    /// Gradient2's long-RTT average and the samples in it so far.
    long_rtt: f64,
    long_count: u32,
    /// Vegas' no-load RTT (0: none yet), samples since the last probe, and the probe's jitter.
    rtt_noload: f64,
    probe_count: u32,
    probe_jitter: f64,
}

impl Limiter {
    pub(crate) fn new(cfg: ConcurrencyLimit, rng: &mut Stream) -> Limiter {
        Limiter {
            cfg,
            estimate: f64::from(cfg.initial),
            inflight: 0,
            long_rtt: 0.0,
            long_count: 0,
            rtt_noload: 0.0,
            probe_count: 0,
            // Only Vegas draws, so the other algorithms leave the stream untouched.
            probe_jitter: if cfg.algorithm == LimitAlgorithm::Vegas {
                0.5 + 0.5 * open01(rng)
            } else {
                0.0
            },
        }
    }

    /// The limit now: attempts the instance may hold.
    pub(crate) fn limit(&self) -> u32 {
        self.estimate as u32
    }

    /// One sample: `rtt_s` seconds in the instance, `inflight` when it was let in, a drop or not.
    pub(crate) fn sample(&mut self, rtt_s: f64, inflight: u32, drop: bool, rng: &mut Stream) {
        match self.cfg.algorithm {
            LimitAlgorithm::Aimd => self.aimd(rtt_s, inflight, drop),
            LimitAlgorithm::Gradient2 => self.gradient2(rtt_s, inflight),
            LimitAlgorithm::Vegas => self.vegas(rtt_s, inflight, drop, rng),
        }
    }

    fn clamp(&self, x: f64) -> f64 {
        x.clamp(f64::from(self.cfg.min), f64::from(self.cfg.max))
    }

    fn aimd(&mut self, rtt_s: f64, inflight: u32, drop: bool) {
        let limit = self.limit();
        let next = if drop || rtt_s > self.cfg.timeout_s {
            (f64::from(limit) * self.cfg.backoff_ratio).floor()
        } else if u64::from(inflight) * 2 >= u64::from(limit) {
            f64::from(limit) + 1.0
        } else {
            return;
        };
        self.estimate = self.clamp(next);
    }

    fn gradient2(&mut self, rtt_s: f64, inflight: u32) {
        let short = rtt_s;
        if self.long_count < LONG_WARMUP {
            self.long_count += 1;
            self.long_rtt += (rtt_s - self.long_rtt) / f64::from(self.long_count);
        } else {
            let f = 2.0 / (LONG_WINDOW + 1.0);
            self.long_rtt = self.long_rtt * (1.0 - f) + rtt_s * f;
        }
        let long = self.long_rtt;
        // Latency back to normal after a long overload: let the long average catch up faster.
        if long / short > 2.0 {
            self.long_rtt *= 0.9;
        }
        // Do not grow while the instance is not using half its limit.
        if f64::from(inflight) < self.estimate / 2.0 {
            return;
        }
        let gradient = (long / short).clamp(0.5, 1.0);
        let target = self.estimate * gradient + GRADIENT2_QUEUE;
        let s = self.cfg.smoothing;
        self.estimate = self.clamp(self.estimate * (1.0 - s) + target * s);
    }

    fn vegas(&mut self, rtt_s: f64, inflight: u32, drop: bool, rng: &mut Stream) {
        // The library requires rtt > 0; an attempt that left the instance the instant it came
        // (it crashed the instance on arrival) measured nothing.
        if rtt_s <= 0.0 {
            return;
        }
        self.probe_count += 1;
        if self.probe_jitter * VEGAS_PROBE_MULTIPLIER * self.estimate <= f64::from(self.probe_count)
        {
            self.probe_jitter = 0.5 + 0.5 * open01(rng);
            self.probe_count = 0;
            self.rtt_noload = rtt_s;
            return;
        }
        if self.rtt_noload == 0.0 || rtt_s < self.rtt_noload {
            self.rtt_noload = rtt_s;
            return;
        }
        let queue = (self.estimate * (1.0 - self.rtt_noload / rtt_s)).ceil();
        let l = log10_root(self.limit());
        let next = if drop {
            self.estimate - l
        } else if f64::from(inflight) * 2.0 < self.estimate {
            return;
        } else if queue <= l {
            self.estimate + 6.0 * l
        } else if queue < 3.0 * l {
            self.estimate + l
        } else if queue > 6.0 * l {
            self.estimate - l
        } else {
            return;
        };
        let s = self.cfg.smoothing;
        self.estimate = (1.0 - s) * self.estimate + s * self.clamp(next);
    }
}

/// The library's `Log10RootFunction`: max(1, floor(log10 n)) below 1000, floor(sqrt n) above.
fn log10_root(n: u32) -> f64 {
    if n < 1000 {
        f64::from(n).log10().floor().max(1.0)
    } else {
        f64::from(n).sqrt().floor()
    }
}

/// A tier's limiters, one per instance (made as instances first receive traffic), and the
/// in-flight count each attempt was let in with.
pub(crate) struct TierLimiter {
    cfg: ConcurrencyLimit,
    instances: Vec<Limiter>,
    inflight_at: Vec<u32>,
    rng: Stream,
    /// Attempts turned away by a limit since the warm-up.
    pub limited: u64,
}

impl TierLimiter {
    pub(crate) fn new(cfg: ConcurrencyLimit, rng: Stream) -> TierLimiter {
        TierLimiter {
            cfg,
            instances: Vec::new(),
            inflight_at: Vec::new(),
            rng,
            limited: 0,
        }
    }

    pub(crate) fn instance(&mut self, i: u32) -> &mut Limiter {
        while self.instances.len() <= i as usize {
            let l = Limiter::new(self.cfg, &mut self.rng);
            self.instances.push(l);
        }
        &mut self.instances[i as usize]
    }

    /// The limit of instance `i` (the initial limit before its first attempt).
    pub(crate) fn limit_of(&self, i: usize) -> u32 {
        self.instances
            .get(i)
            .map_or(self.cfg.initial, Limiter::limit)
    }
}

impl World<'_> {
    /// Is instance `i` of tier `t` at its concurrency limit (the next attempt is turned away)?
    pub(super) fn over_limit(&mut self, t: usize, i: u32) -> bool {
        self.tiers[t].limiter.as_mut().is_some_and(|l| {
            let inst = l.instance(i);
            inst.inflight >= inst.limit()
        })
    }

    /// Count an attempt turned away by a limit.
    pub(super) fn count_limited(&mut self, now: Time, t: usize) {
        if self.metrics.counts(now)
            && let Some(l) = self.tiers[t].limiter.as_mut()
        {
            l.limited += 1;
        }
    }

    /// The limiter of instance `i` of tier `t` lets `req` in.
    pub(super) fn limit_acquire(&mut self, req: u32, t: usize, i: u32) {
        if let Some(l) = self.tiers[t].limiter.as_mut() {
            let inst = l.instance(i);
            inst.inflight += 1;
            let at = inst.inflight;
            if l.inflight_at.len() <= req as usize {
                l.inflight_at.resize(req as usize + 1, 0);
            }
            l.inflight_at[req as usize] = at;
        }
    }

    /// `req` leaves instance `i` of tier `t` after `rtt_s` with `outcome`: the limiter's sample.
    pub(super) fn limit_release(
        &mut self,
        req: u32,
        t: usize,
        i: u32,
        rtt_s: f64,
        outcome: Outcome,
    ) {
        if let Some(l) = self.tiers[t].limiter.as_mut() {
            let at = l.inflight_at[req as usize];
            let TierLimiter { instances, rng, .. } = l;
            let inst = &mut instances[i as usize];
            inst.inflight -= 1;
            match outcome {
                // Abandoned by its client (ignored), or failed at the client before it was sent.
                Outcome::TimedOut | Outcome::ShortCircuited | Outcome::Throttled => {}
                Outcome::Succeeded => inst.sample(rtt_s, at, false, rng),
                Outcome::Rejected | Outcome::Failed => inst.sample(rtt_s, at, true, rng),
            }
        }
    }

    /// The tier's concurrency limit at a bucket end: the limits of its instances that are up
    /// and not being scaled in, summed.
    pub(super) fn tier_limit(&self, t: usize) -> Option<f64> {
        let tier = &self.tiers[t];
        let l = tier.limiter.as_ref()?;
        Some(
            tier.instances
                .iter()
                .enumerate()
                .filter(|(_, inst)| inst.up && !inst.retired)
                .map(|(i, _)| f64::from(l.limit_of(i)))
                .sum(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn cfg(algorithm: LimitAlgorithm) -> ConcurrencyLimit {
        let vegas = algorithm == LimitAlgorithm::Vegas;
        ConcurrencyLimit {
            algorithm,
            initial: 20,
            min: if vegas { 1 } else { 20 },
            max: if vegas { 1000 } else { 200 },
            backoff_ratio: 0.9,
            timeout_s: 5.0,
            smoothing: if vegas { 1.0 } else { 0.2 },
        }
    }

    #[test]
    fn aimd_adds_one_when_busy_and_backs_off_on_drops_and_slow_responses() {
        let mut rng = stream(1, 1);
        let mut l = Limiter::new(cfg(LimitAlgorithm::Aimd), &mut rng);
        // In-flight under half the limit: no change.
        l.sample(0.1, 9, false, &mut rng);
        assert_eq!(l.limit(), 20);
        for k in 0..30 {
            l.sample(0.1, 10 + k, false, &mut rng);
        }
        assert_eq!(l.limit(), 50);
        l.sample(0.1, 50, true, &mut rng);
        assert_eq!(l.limit(), 45);
        l.sample(5.01, 50, false, &mut rng);
        assert_eq!(l.limit(), 40); // floor(40.5)
        // Never under the minimum, never over the maximum.
        for _ in 0..100 {
            l.sample(0.1, 1, true, &mut rng);
        }
        assert_eq!(l.limit(), 20);
        for _ in 0..1000 {
            l.sample(0.1, 1000, false, &mut rng);
        }
        assert_eq!(l.limit(), 200);
    }

    #[test]
    fn gradient2_follows_its_formula() {
        let mut rng = stream(1, 2);
        let mut l = Limiter::new(cfg(LimitAlgorithm::Gradient2), &mut rng);
        // Steady RTT: gradient 1, the estimate moves 20% of the way to limit + 4.
        l.sample(0.1, 20, false, &mut rng);
        assert!((l.estimate - 20.8).abs() < 1e-12, "{}", l.estimate);
        // A slower sample: the long average is the mean of the two samples so far (0.15), the
        // short one the last (0.2), so the gradient is 0.75.
        l.sample(0.2, 20, false, &mut rng);
        let expected = 0.8 * 20.8 + 0.2 * (20.8 * 0.75 + 4.0);
        assert!((l.estimate - expected).abs() < 1e-12, "{}", l.estimate);
        // Not growing while in-flight is under half the limit.
        let before = l.estimate;
        l.sample(0.1, 5, false, &mut rng);
        assert_eq!(l.estimate, before);
    }

    #[test]
    fn vegas_grows_without_queueing_and_shrinks_on_drops() {
        let mut rng = stream(1, 3);
        let mut l = Limiter::new(cfg(LimitAlgorithm::Vegas), &mut rng);
        l.sample(0.1, 20, false, &mut rng); // first sample: the no-load RTT
        assert_eq!(l.limit(), 20);
        // Same RTT: no queue, grows by 6 x log10(20) = 6.
        l.sample(0.1, 20, false, &mut rng);
        assert_eq!(l.limit(), 26);
        // A drop: takes log10(26) = 1 off.
        l.sample(0.1, 20, true, &mut rng);
        assert_eq!(l.limit(), 25);
        // RTT three times the no-load: queue = ceil(25 x 2/3) = 17 > 6: takes 1 off.
        l.sample(0.3, 25, false, &mut rng);
        assert_eq!(l.limit(), 24);
        assert_eq!(log10_root(999), 2.0);
        assert_eq!(log10_root(5), 1.0);
        assert_eq!(log10_root(1600), 40.0);
    }
}
