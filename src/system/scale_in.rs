//! Scaling in, and what capacity costs. At each bucket end, a tier whose `[tier.autoscale]` has
//! `scale_in_below` and whose utilisation (the autoscaler's: the bucket's mean busy threads over
//! the threads of the instances up) has stayed below it since the start of a bucket at least
//! `scale_in_after` ago, with no instance on order, removes one instance, never going under
//! `min_instances`; the quiet time then starts again. A tier with no instance up is not quiet.
//!
//! The instance removed is the newest one still in service. It leaves the balancer's rotation
//! at once, serves what it holds (draining), and is terminated at the first bucket end where it
//! holds nothing (at once if it holds nothing then). A terminated instance never restarts.
//!
//! Instance-hours: an instance counts from when it joined (t = 0, or when it was ready) until
//! it is terminated, crashed or not (the machine is still paid for), over the measured period
//! [warm-up, horizon]: the exact integral of the tier's instances over that time.
//!
//! Not here: scaling out (`operators`).

use crate::engine::Time;

use super::World;

impl World<'_> {
    /// Scale in where the bucket `[start, now)` allows it, and terminate drained instances.
    pub(super) fn scale_in(&mut self, now: Time, start: Time) {
        for t in 0..self.n_tiers {
            let Some(si) = self.tiers[t].spec.autoscale.and_then(|a| a.scale_in) else {
                continue;
            };
            for i in 0..self.tiers[t].instances.len() {
                let inst = &self.tiers[t].instances[i];
                if inst.retired && inst.gone.is_none() && inst.in_instance == 0 {
                    self.terminate(now, t, i as u32);
                }
            }
            let busy = self.metrics.series.tiers[t]
                .busy_threads
                .last()
                .copied()
                .unwrap_or(0.0);
            let tier = &mut self.tiers[t];
            let up = tier.instances.iter().filter(|i| i.up).count();
            let util = busy / (up.max(1) as f64 * f64::from(tier.spec.threads));
            if up == 0 || util >= si.below || tier.pending > 0 {
                tier.quiet_since = None;
                continue;
            }
            let since = *tier.quiet_since.get_or_insert(start);
            let live = tier.live_instances();
            if now.0 - since.0 < Time::from_secs(si.after_s).0 || live <= si.min_instances {
                continue;
            }
            let Some(victim) = tier.instances.iter().rposition(|i| !i.retired) else {
                continue;
            };
            tier.quiet_since = Some(now);
            self.retire(now, t, victim as u32);
        }
    }

    /// Instance `i` of tier `t` leaves the rotation for good, to be terminated once drained.
    fn retire(&mut self, now: Time, t: usize, i: u32) {
        self.uneject(now, t, i);
        let inst = &mut self.tiers[t].instances[i as usize];
        inst.retired = true;
        if inst.in_rotation {
            inst.in_rotation = false;
            self.metrics.tiers[t].in_rotation -= 1;
        }
        if inst.in_instance == 0 {
            self.terminate(now, t, i);
        }
    }

    /// A retired, drained instance is terminated: down for good.
    fn terminate(&mut self, now: Time, t: usize, i: u32) {
        let threads = self.tiers[t].spec.threads;
        let inst = &mut self.tiers[t].instances[i as usize];
        inst.gone = Some(now);
        inst.stopped = true;
        // Any restart on its way is stale now.
        inst.restart_epoch = inst.restart_epoch.wrapping_add(1);
        if inst.up {
            inst.up = false;
            self.metrics.tiers[t].instances_changed(now, threads, -1);
        }
    }

    /// Instance-hours of tier `t` over [warm-up, horizon].
    pub(crate) fn instance_hours(&self, t: usize) -> f64 {
        let warmup = self.metrics.warmup();
        let horizon = self.horizon;
        let seconds: f64 = self.tiers[t]
            .instances
            .iter()
            .map(|i| {
                let from = i.joined.max(warmup);
                let to = i.gone.unwrap_or(horizon).min(horizon);
                Time(to.0.saturating_sub(from.0)).secs()
            })
            .sum();
        seconds / 3600.0
    }

    /// The fewest and the most instances of tier `t` provisioned at any instant of
    /// [warm-up, horizon] (counted as `instance_hours` counts them: from joining until scaled
    /// in), and their time-average (`instance_hours` over the hours measured).
    pub(crate) fn instance_range(&self, t: usize) -> (u32, u32, f64) {
        let (warmup, horizon) = (self.metrics.warmup(), self.horizon);
        let present =
            |i: &super::tier::Instance, at: Time| i.joined <= at && i.gone.is_none_or(|g| g > at);
        let instances = &self.tiers[t].instances;
        let mut n = instances.iter().filter(|i| present(i, warmup)).count() as i64;
        // Changes inside the span, a leaving before a joining at the same instant.
        let mut changes: Vec<(Time, i64)> = Vec::new();
        for i in instances {
            if i.joined > warmup && i.joined <= horizon {
                changes.push((i.joined, 1));
            }
            if let Some(g) = i.gone.filter(|g| *g > warmup && *g <= horizon) {
                changes.push((g, -1));
            }
        }
        changes.sort();
        let (mut lo, mut hi) = (n, n);
        for (_, d) in changes {
            n += d;
            lo = lo.min(n);
            hi = hi.max(n);
        }
        let hours = Time(horizon.0.saturating_sub(warmup.0)).secs() / 3600.0;
        let mean = if hours > 0.0 {
            self.instance_hours(t) / hours
        } else {
            n as f64
        };
        (lo.max(0) as u32, hi.max(0) as u32, mean)
    }

    /// Ejections by tier `t`'s outlier detection since the warm-up, when it has one.
    pub(crate) fn ejections(&self, t: usize) -> Option<u64> {
        self.tiers[t].outlier.as_ref().map(|o| o.ejections)
    }

    /// Attempts tier `t`'s concurrency limit turned away since the warm-up, when it has one.
    pub(crate) fn limited(&self, t: usize) -> Option<u64> {
        self.tiers[t].limiter.as_ref().map(|l| l.limited)
    }
}
