//! Connection pools between tiers (`[tier.pool]`): each instance of a calling tier holds at most
//! `connections` connections to the next tier a request visits. A request whose service at the
//! caller has ended takes a free connection and goes on, or waits for one, first come first
//! served, still holding its thread at the caller; if none frees within the pool's `timeout`,
//! the request fails (counted in the caller's `pool_timeouts`). A connection is held until the
//! request ends (the deeper tiers answer through it), then handed to the oldest live waiter.
//! So the callee never holds more than (caller instances x connections) requests from the
//! caller: scaling the caller out multiplies what it can put on the callee.
//!
//! Not here: the model's keys (`crate::model::pool`), the tier's threads and queues (`attempts`).
//! Waiting entries are removed lazily (the attempt's generation, as in a tier's queue); a
//! connection freed while another hand-over is under way is queued in `handoffs` and handed
//! out by the outer loop, so hand-overs never recurse.

use std::collections::VecDeque;

use super::World;
use super::events::Event;
use super::stamp::Stamp;
use crate::engine::{Calendar, Time};
use crate::metrics::Outcome;
use crate::metrics::level::Level;
use crate::model::Pool;
use crate::model::RetryOn;

/// What a tier's pools measured since the warm-up (`World::pool_measures`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolMeasures {
    pub(crate) connections: u32,
    pub(crate) asked: u64,
    pub(crate) waited: u64,
    pub(crate) mean_in_use: f64,
    pub(crate) mean_waiting: f64,
    pub(crate) full_s: f64,
}

/// One instance's connections to the callee.
#[derive(Debug, Clone, Default)]
struct InstancePool {
    in_use: u32,
    /// Waiting attempts as (attempt, generation); stale entries are skipped when popped.
    waiting: VecDeque<Stamp>,
    live_waiting: u32,
}

/// A calling tier's pools, one per instance, and what they measured since the warm-up.
#[derive(Debug, Clone)]
pub(super) struct TierPool {
    spec: Pool,
    instances: Vec<InstancePool>,
    /// Connections in use, all instances together.
    in_use: u32,
    /// Most connections in use at once, all instances together (whole run).
    pub(super) peak_in_use: u32,
    /// Cohort attempts whose wait for a connection ran out.
    pub(super) timeouts: u64,
    /// Cohort attempts that got a connection, and their waits for it, seconds.
    acquired: u64,
    wait_sum_s: f64,
    /// Cohort attempts that asked for a connection.
    pub(super) asked: u64,
    /// Cohort attempts that had to wait for a connection (got one later, timed out, or ended
    /// while waiting).
    pub(super) waited: u64,
    /// Connections in use, requests waiting for one, and instance pools with every connection
    /// in use, all instances together, over time (per bucket and since the warm-up).
    pub(super) used: Level,
    pub(super) waiting: Level,
    pub(super) full: Level,
}

impl TierPool {
    pub(super) fn new(spec: Pool, instances: u32) -> TierPool {
        TierPool {
            spec,
            instances: vec![InstancePool::default(); instances as usize],
            in_use: 0,
            peak_in_use: 0,
            timeouts: 0,
            acquired: 0,
            wait_sum_s: 0.0,
            asked: 0,
            waited: 0,
            used: Level::default(),
            waiting: Level::default(),
            full: Level::default(),
        }
    }

    /// Connections per instance.
    pub(super) fn connections(&self) -> u32 {
        self.spec.connections
    }

    /// Instance `i` lends (`delta` 1) or gets back (-1) a connection at `now`.
    fn lend(&mut self, now: Time, i: u32, delta: i32) {
        let cap = self.spec.connections;
        let p = self.instance(i);
        let was_full = p.in_use >= cap;
        p.in_use = p.in_use.saturating_add_signed(delta);
        debug_assert!(p.in_use <= cap, "a pool lent more than its connections");
        let is_full = p.in_use >= cap;
        self.in_use = self.in_use.saturating_add_signed(delta);
        self.peak_in_use = self.peak_in_use.max(self.in_use);
        self.used.add(now, f64::from(delta));
        if was_full != is_full {
            self.full.add(now, if is_full { 1.0 } else { -1.0 });
        }
    }

    /// Summary statistics start at the warm-up's end.
    pub(super) fn start_counting(&mut self, now: Time) {
        self.used.start_counting(now);
        self.waiting.start_counting(now);
        self.full.start_counting(now);
    }

    /// Bring the levels up to `now` (the horizon).
    pub(super) fn finish(&mut self, now: Time) {
        self.used.add(now, 0.0);
        self.waiting.add(now, 0.0);
        self.full.add(now, 0.0);
    }

    /// The pool of instance `i` (instances added since the start get theirs here).
    fn instance(&mut self, i: u32) -> &mut InstancePool {
        let i = i as usize;
        if i >= self.instances.len() {
            self.instances.resize_with(i + 1, InstancePool::default);
        }
        &mut self.instances[i]
    }

    /// Take a connection of instance `i` (one is free).
    fn take(&mut self, now: Time, i: u32) {
        self.lend(now, i, 1);
    }

    /// Mean wait for a connection of the cohort attempts that got one, seconds.
    pub(super) fn mean_wait_s(&self) -> Option<f64> {
        (self.acquired > 0).then(|| self.wait_sum_s / self.acquired as f64)
    }
}

impl World<'_> {
    /// `req`, done at tier `caller`, calls tier `callee`: through a free connection of its
    /// instance's pool at once, or after waiting for one (with the pool's timeout).
    pub(super) fn call_through_pool(
        &mut self,
        now: Time,
        req: u32,
        caller: usize,
        callee: usize,
        cal: &mut Calendar<Event>,
    ) {
        let i = self.slots[req as usize * self.n_tiers + caller].instance;
        let counted = self.metrics.counts(self.attempts[req as usize].created);
        let pool = self.pools[caller].as_mut().expect("a tier with a pool");
        pool.asked += u64::from(counted);
        let (cap, timeout_s) = (pool.spec.connections, pool.spec.timeout_s);
        let p = pool.instance(i);
        if p.in_use < cap && p.live_waiting == 0 {
            self.grant(now, req, caller, i, now);
            self.enter(now, req, callee, cal);
            return;
        }
        let a = &mut self.attempts[req as usize];
        a.pool_waiting = true;
        a.callee = callee as u8;
        let stamp = a.hop_stamp(req);
        p.waiting.push_back(stamp);
        p.live_waiting += 1;
        pool.waiting.add(now, 1.0);
        pool.waited += u64::from(counted);
        let tier = caller as u8;
        cal.schedule(now.after(timeout_s), Event::PoolTimeout { stamp, tier });
    }

    /// `req` gets a connection of instance `i` of tier `caller`, having waited since `since`.
    fn grant(&mut self, now: Time, req: u32, caller: usize, i: u32, since: Time) {
        let counted = self.metrics.counts(self.attempts[req as usize].created);
        let pool = self.pools[caller].as_mut().expect("a tier with a pool");
        pool.take(now, i);
        if counted {
            pool.acquired += 1;
            pool.wait_sum_s += now.since(since);
        }
        let a = &mut self.attempts[req as usize];
        a.pool_waiting = false;
        a.pooled |= 1 << caller;
    }

    /// The wait for a connection of `req` at tier `tier` ran out (unless it got one or ended).
    pub(super) fn pool_timed_out(
        &mut self,
        now: Time,
        hop: Stamp,
        tier: u8,
        cal: &mut Calendar<Event>,
    ) {
        let (req, a) = (hop.req, self.attempts[hop.slot()]);
        if a.moved_on_from(hop) || !a.pool_waiting || a.at != tier {
            return;
        }
        if self.metrics.counts(a.created) {
            let pool = self.pools[tier as usize]
                .as_mut()
                .expect("a tier with a pool");
            pool.timeouts += 1;
        }
        let callee = a.callee as usize;
        self.fail(now, req, callee, RetryOn::TimedOut, Outcome::Failed, cal);
    }

    /// `req` ends while waiting for a connection of its tier's pool: it leaves the line.
    pub(super) fn leave_pool_line(&mut self, now: Time, req: u32, tier: usize) {
        let i = self.slots[req as usize * self.n_tiers + tier].instance;
        let pool = self.pools[tier].as_mut().expect("a tier with a pool");
        pool.instance(i).live_waiting -= 1;
        pool.waiting.add(now, -1.0);
    }

    /// `req` ends holding connections (bit t of `pooled` for tier t's pool): each goes back to
    /// its pool and on to the oldest live waiter there, who then calls its callee.
    pub(super) fn release_connections(
        &mut self,
        now: Time,
        req: u32,
        mut pooled: u64,
        cal: &mut Calendar<Event>,
    ) {
        while pooled != 0 {
            let t = pooled.trailing_zeros() as usize;
            pooled &= !(1 << t);
            let i = self.slots[req as usize * self.n_tiers + t].instance;
            let pool = self.pools[t].as_mut().expect("a tier with a pool");
            pool.lend(now, i, -1);
            self.handoffs.push((t as u8, i));
        }
        if self.handing_off {
            // A hand-over lower in the stack hands these connections out.
            return;
        }
        self.handing_off = true;
        while let Some((t, i)) = self.handoffs.pop() {
            while let Some(next) = self.next_pool_waiter(now, t as usize, i) {
                // Its wait began when its service at the caller ended.
                let since = self.slots[next as usize * self.n_tiers + t as usize].done;
                self.grant(now, next, t as usize, i, since);
                let callee = self.attempts[next as usize].callee as usize;
                self.enter(now, next, callee, cal);
            }
        }
        self.handing_off = false;
    }

    /// The oldest live waiter of instance `i`'s pool at tier `t`, if a connection is free.
    fn next_pool_waiter(&mut self, now: Time, t: usize, i: u32) -> Option<u32> {
        let pool = self.pools[t].as_mut().expect("a tier with a pool");
        let cap = pool.spec.connections;
        let p = pool.instance(i);
        if p.in_use >= cap {
            return None;
        }
        while let Some(stamp) = p.waiting.pop_front() {
            let a = &self.attempts[stamp.slot()];
            if !a.moved_on_from(stamp) && a.pool_waiting && a.at as usize == t {
                p.live_waiting -= 1;
                pool.waiting.add(now, -1.0);
                return Some(stamp.req);
            }
        }
        None
    }

    /// Attempts tier `t`'s pool let wait past its timeout since the warm-up, when it has one.
    pub(crate) fn pool_timeouts(&self, t: usize) -> Option<u64> {
        self.pools[t].as_ref().map(|p| p.timeouts)
    }

    /// Most connections tier `t`'s pools lent at once, all instances together.
    pub(crate) fn pool_peak_connections(&self, t: usize) -> Option<u32> {
        self.pools[t].as_ref().map(|p| p.peak_in_use)
    }

    /// Mean wait for a connection of tier `t`'s pools, seconds.
    pub(crate) fn pool_mean_wait_s(&self, t: usize) -> Option<f64> {
        self.pools[t].as_ref().and_then(TierPool::mean_wait_s)
    }

    /// The warm-up ends: the pools' levels start counting.
    pub(super) fn pools_start_counting(&mut self, now: Time) {
        for p in self.pools.iter_mut().flatten() {
            p.start_counting(now);
        }
    }

    /// The run ends at `now`: the pools' levels are brought up to it.
    pub(super) fn pools_finish(&mut self, now: Time) {
        for p in self.pools.iter_mut().flatten() {
            p.finish(now);
        }
    }

    /// At a bucket's end (`len_s` long): each pool's time-averaged connections in use and
    /// requests waiting for one over the bucket, all instances together.
    pub(super) fn record_pools(&mut self, now: Time, len_s: f64) {
        for (t, pool) in self.pools.iter_mut().enumerate() {
            let Some(p) = pool else { continue };
            let series = &mut self.metrics.series.tiers[t];
            series.pool_connections = f64::from(p.connections());
            series.pool_in_use.push(p.used.close_bucket(now, len_s));
            series.pool_waiting.push(p.waiting.close_bucket(now, len_s));
            p.full.close_bucket(now, len_s);
        }
    }

    /// Tier `t`'s pool measures since the warm-up over `span_s` seconds, when it has one:
    /// connections per instance, requests that asked for one and that waited for one, the mean connections in use and
    /// the mean requests waiting (all instances together), and the instance pools' time with
    /// every connection in use, seconds (summed over the instances).
    pub(crate) fn pool_measures(&self, t: usize, span_s: f64) -> Option<PoolMeasures> {
        self.pools[t].as_ref().map(|p| PoolMeasures {
            connections: p.connections(),
            asked: p.asked,
            waited: p.waited,
            mean_in_use: p.used.mean(span_s),
            mean_waiting: p.waiting.mean(span_s),
            full_s: p.full.mean(span_s) * span_s,
        })
    }

    /// Whether some tier has a connection pool.
    pub(crate) fn has_pools(&self) -> bool {
        self.pools.iter().any(Option::is_some)
    }
}
