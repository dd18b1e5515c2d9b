//! A tier's instances and the balancer that spreads requests over them.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp1};

use crate::engine::rng::open01;
use crate::engine::{Stream, Time};
use crate::model::{Balancer, Discipline, Dist, Restart, Tier};

/// One server process: its threads, its queue, its health.
#[derive(Debug, Clone, Default)]
pub(crate) struct Instance {
    pub busy: u32,
    /// Waiting attempts, stamped with their hop (`Attempt::hop_stamp`); entries whose attempt has
    /// moved on are stale and skipped when popped.
    pub waiting: VecDeque<super::stamp::Stamp>,
    /// Waiting attempts that are still live.
    pub live_waiting: u32,
    /// Attempts holding a thread here, kept only where the tier can crash (`TierState::crashes`):
    /// a crash fails them all.
    pub active: Vec<u32>,
    /// Attempts in the instance: waiting, in service or holding a thread for a later tier.
    pub in_instance: u32,
    /// Running (not crashed, not stopped).
    pub up: bool,
    /// Stopped by rapid-fail protection until an operator restarts it.
    pub stopped: bool,
    /// The balancer sends to it (health checks take it out and put it back).
    pub in_rotation: bool,
    pub checks_passed: u32,
    pub checks_failed: u32,
    pub recent_crashes: VecDeque<Time>,
    /// Since when its queue has held a live waiting attempt (CoDel's standing-queue test).
    pub queued_since: Time,
    /// When it last (re)started, for the cold-start slowdown; `None`: warm from the start.
    pub restarted_at: Option<Time>,
    /// Generation of scheduled restarts: a restart event whose generation is not this one is
    /// stale (an operator restarted the instance in the meantime).
    pub restart_epoch: u32,
    /// Ejected by the balancer's outlier detection (`outlier`): out of rotation until it ends.
    pub ejected: bool,
    /// Being scaled in (`scale_in`): out of rotation for good, terminated once drained.
    pub retired: bool,
    /// When it joined the tier, and when it was terminated (for instance-hours).
    pub joined: Time,
    pub gone: Option<Time>,
}

impl Instance {
    fn new(started: Option<Time>) -> Instance {
        Instance {
            up: true,
            in_rotation: true,
            restarted_at: started,
            joined: started.unwrap_or(Time::ZERO),
            ..Default::default()
        }
    }

    /// The balancer may send to it: in rotation and not ejected.
    #[inline]
    pub(crate) fn routable(&self) -> bool {
        self.in_rotation && !self.ejected
    }
}

/// A tier during a run: its model (`spec`, shared, read-only) and what changes as the run goes.
/// The few values derived from the model here are the ones the hot path reads per event, or that
/// `shortcuts` switches off.
pub(crate) struct TierState<'m> {
    /// The tier as the model gives it.
    pub spec: &'m Tier,
    pub instances: Vec<Instance>,
    /// Waiting places per instance (`u32::MAX` when unbounded).
    pub queue: u32,
    pub lifo: bool,
    /// The mean of `spec.service` when it is exponential: `draw_service` then samples it inline,
    /// the same draw as `Dist::sample` without its dispatch.
    pub(super) exponential_mean: Option<f64>,
    /// The stream of `spec.errors` (set by `World::new` when above 0).
    pub rng_errors: Option<Stream>,
    /// An instance can crash (a memory limit): `Instance::active` is kept.
    pub crashes: bool,
    /// No contention and no cold start: a service time is its draw (`slowdown` is 1).
    pub plain_service: bool,
    /// Instances ordered by the autoscaler and not ready yet.
    pub pending: u32,
    pub last_scaled: Option<Time>,
    /// Service times.
    pub rng_service: Stream,
    /// Whether a request visits this tier (`visit` below 1).
    pub rng_visit: Stream,
    /// The balancer's random picks.
    pub rng_balancer: Stream,
    /// Start of the bucket since which utilisation has stayed below `scale_in_below`.
    pub quiet_since: Option<Time>,
    pub limiter: Option<super::concurrency_limit::TierLimiter>,
    /// Its retries of the tier it calls (`[tier.retry]`; set by `World::new`).
    pub(super) retrying: Option<super::hop_retry::TierRetrying>,
    pub outlier: Option<super::outlier::TierOutlier>,
    next: u32,
}

/// A restart slows service down for a while.
fn cold_start(factor: f64, warmup_s: f64) -> bool {
    factor > 1.0 && warmup_s > 0.0
}

impl<'m> TierState<'m> {
    /// A tier at the start of a run; `streams` are its service, visit and balancer streams.
    pub(crate) fn new(t: &'m Tier, streams: [Stream; 3]) -> TierState<'m> {
        let [rng_service, rng_visit, rng_balancer] = streams;
        TierState {
            spec: t,
            // Instances up before the run began are warm: their cold start lies in the past.
            instances: (0..t.instances).map(|_| Instance::new(None)).collect(),
            queue: t.queue.unwrap_or(u32::MAX),
            lifo: t.discipline == Discipline::Lifo,
            exponential_mean: match t.service {
                Dist::Exponential { mean } => Some(mean),
                _ => None,
            },
            rng_errors: None,
            crashes: t.memory_limit.is_some(),
            plain_service: t.contention == 0.0
                && !cold_start(t.restart.cold_factor, t.restart.cold_warmup_s),
            pending: 0,
            last_scaled: None,
            rng_service,
            rng_visit,
            rng_balancer,
            quiet_since: None,
            // The limiter needs its own random stream: `World::new` sets it.
            limiter: None,
            retrying: None,
            outlier: t.outlier_detection.map(super::outlier::TierOutlier::new),
            next: 0,
        }
    }

    /// A new instance joins (autoscaling, an operator): cold, and in rotation at once.
    pub(crate) fn add_instance(&mut self, now: Time) -> u32 {
        self.instances.push(Instance::new(Some(now)));
        (self.instances.len() - 1) as u32
    }

    /// Whether the service just ended is an error (`errors`): a draw only when above 0.
    #[inline]
    pub(crate) fn service_failed(&mut self) -> bool {
        match &mut self.rng_errors {
            Some(rng) => crate::engine::rng::open01(rng) < self.spec.errors,
            None => false,
        }
    }

    /// A service time from the tier's distribution (before any slowdown).
    #[inline]
    pub(crate) fn draw_service(&mut self) -> f64 {
        match self.exponential_mean {
            Some(mean) => {
                let e: f64 = Exp1.sample(&mut self.rng_service);
                e * mean
            }
            None => self.spec.service.sample(&mut self.rng_service),
        }
    }

    /// What a service starting at `now` on instance `i` (its busy threads counted, this one
    /// included) is multiplied by: contention, and the cold start after a restart.
    pub(crate) fn slowdown(&self, now: Time, i: u32) -> f64 {
        let inst = &self.instances[i as usize];
        let mut factor = 1.0 + self.spec.contention * f64::from(inst.busy);
        let Restart {
            cold_factor,
            cold_warmup_s,
            ..
        } = self.spec.restart;
        if let (true, Some(started)) = (cold_start(cold_factor, cold_warmup_s), inst.restarted_at) {
            let since = now.since(started);
            if since < cold_warmup_s {
                factor *= 1.0 + (cold_factor - 1.0) * (1.0 - since / cold_warmup_s);
            }
        }
        factor
    }

    /// Instances not being scaled in (or gone).
    pub(crate) fn live_instances(&self) -> u32 {
        self.instances.iter().filter(|i| !i.retired).count() as u32
    }

    /// The instance the balancer sends the next request to, or `None` if none is in rotation.
    /// Without health checks an instance stays in rotation when it is down: the request sent
    /// there is refused.
    #[inline(always)]
    pub(crate) fn pick(&mut self) -> Option<u32> {
        match self.instances.as_slice() {
            [only] => only.routable().then_some(0),
            _ => self.pick_among_many(),
        }
    }

    /// `pick` when the tier has other than one instance.
    fn pick_among_many(&mut self) -> Option<u32> {
        let rng = &mut self.rng_balancer;
        let n = self.instances.len() as u32;
        match self.spec.balancer {
            Balancer::RoundRobin => {
                for _ in 0..n {
                    // Next in turn, wrapping without a division (this runs per request).
                    let i = if self.next >= n { 0 } else { self.next };
                    self.next = if i + 1 == n { 0 } else { i + 1 };
                    if self.instances[i as usize].routable() {
                        return Some(i);
                    }
                }
                None
            }
            Balancer::Random => {
                let i = (open01(rng) * f64::from(n)) as u32 % n;
                if self.instances[i as usize].routable() {
                    Some(i)
                } else {
                    self.first_in_rotation_after(i)
                }
            }
            Balancer::LeastConnections => {
                // Scan from a rotating start so ties do not always favour instance 0.
                let start = self.next;
                self.next = (self.next + 1) % n;
                let mut best: Option<(u32, u32)> = None;
                for k in 0..n {
                    let i = (start + k) % n;
                    let inst = &self.instances[i as usize];
                    if inst.routable() && best.is_none_or(|(_, load)| inst.in_instance < load) {
                        best = Some((i, inst.in_instance));
                    }
                }
                best.map(|(i, _)| i)
            }
            Balancer::PowerOfTwo => {
                let a = (open01(rng) * f64::from(n)) as u32 % n;
                let mut b = (open01(rng) * f64::from(n - 1)) as u32 % (n - 1);
                if b >= a {
                    b += 1;
                }
                let (ia, ib) = (&self.instances[a as usize], &self.instances[b as usize]);
                match (ia.routable(), ib.routable()) {
                    (true, true) => Some(if ib.in_instance < ia.in_instance {
                        b
                    } else {
                        a
                    }),
                    (true, false) => Some(a),
                    (false, true) => Some(b),
                    (false, false) => self.first_in_rotation_after(a),
                }
            }
        }
    }

    /// The balancer's state after `k` picks with no instance in rotation, without making them:
    /// round robin comes back where it started, least connections moves its starting point by
    /// one per pick, and the random balancers' draws are left out (their stream's position does
    /// not change what is drawn later in distribution).
    pub(super) fn skip_empty_picks(&mut self, k: u64) {
        let n = self.instances.len() as u64;
        if self.spec.balancer == Balancer::LeastConnections && n > 1 {
            self.next = ((u64::from(self.next) + k) % n) as u32;
        }
    }

    #[inline]
    fn first_in_rotation_after(&self, i: u32) -> Option<u32> {
        let n = self.instances.len() as u32;
        (1..n)
            .map(|k| (i + k) % n)
            .find(|&j| self.instances[j as usize].routable())
    }
}
