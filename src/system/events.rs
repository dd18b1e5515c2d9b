//! The events of the simulated site and their dispatch: what can happen (`Event`) and which part
//! of the world handles each. This file decides nothing itself beyond the generation checks that
//! drop stale events; the handlers live with their concern (users, attempts, crashes and probes,
//! operators, observation, the waiting room).

use super::stamp::{Stamp, TierCall};
use super::{NONE, World};
use crate::engine::{Calendar, Time};
use crate::metrics::Outcome;
use crate::model::RetryOn;

/// The pools of users waiting out an exponential delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoolKind {
    /// Reading a page (think time): then the next page.
    Thinking,
    /// About to press refresh after an error: then the same page again.
    Refreshing,
    /// Gone after errors, coming back later: then a new session.
    Returning,
}

/// Everything that can happen. Small and `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// The next request of an open source arrives.
    Arrival { source: u16 },
    /// The next user session of a users source begins.
    Session { source: u16 },
    /// A user who left after errors comes back: a new session.
    Return { source: u16 },
    /// The target of a closed population changes (`population`).
    Population { source: u16 },
    /// Some member of one of a source's pools is due (see `Pool`).
    Pool { source: u16, pool: PoolKind },
    /// A user asks for the next page (after reading), asks again (refresh), or leaves.
    Page { user: u32 },
    /// An automatic retry of a requests-source call.
    Retry { call: u32 },
    /// An attempt's service at its current tier is complete.
    Done { stamp: Stamp },
    /// The earliest running client clock of a source rings (see `clocks`).
    ClientTimeout { source: u16 },
    /// The client abandons the attempt if it is still waiting for a thread.
    Abandon { stamp: Stamp },
    /// A rejection by a full queue of `tier` reaches the caller (`refused_after` after it was
    /// turned away).
    Refused { stamp: Stamp, tier: u8 },
    /// A tier calls a deeper one again for the attempt, after a backoff (`hop_retry`).
    HopRetry { stamp: Stamp, call: TierCall },
    /// The server stops working on the attempt in `tier` (request_timeout). Its stamp is of
    /// the attempt as a whole (`Attempt::whole_stamp`): a tier retrying a deeper one leaves it standing.
    ServerTimeout { stamp: Stamp, tier: u8 },
    /// An attempt's wait for a connection of `tier`'s pool runs out (`pool`).
    PoolTimeout { stamp: Stamp, tier: u8 },
    /// A crashed (or operator-restarted) instance is up again.
    Restart { tier: u8, instance: u32, epoch: u32 },
    /// The balancer's health check of an instance.
    Probe { tier: u8, instance: u32 },
    /// A health-check probe gets no answer in time.
    ProbeTimeout { stamp: Stamp },
    /// An instance ordered by the autoscaler is ready.
    Provisioned { tier: u8 },
    /// An instance's ejection by outlier detection ends.
    Uneject { tier: u8, instance: u32 },
    /// An operator carries out an action.
    Operate { operator: u16 },
    /// Load shedding ends.
    ShedEnd,
    /// A time-series bucket ends.
    Bucket,
    /// The warm-up ends: summary statistics start.
    Warmup,
    /// The waiting room may let its next users in (`waiting_room`).
    RoomAdmit,
    /// An idle user's place on the site lapses, unless it asked for a page since.
    RoomLapse { pass: u32, epoch: u32 },
    /// A user waiting in the room runs out of patience.
    RoomAbandon { waiter: u32, generation: u32 },
}

impl World<'_> {
    /// Handle one event.
    #[inline]
    pub(crate) fn handle(&mut self, now: Time, ev: Event, cal: &mut Calendar<Event>) {
        // While no instance is in rotation, users' events advance them all as a group (`bulk`).
        if let Event::Arrival { source } | Event::Session { source } | Event::Pool { source, .. } =
            ev
            && self.grouped(source)
        {
            self.advance_group(now, ev, cal);
            return;
        }
        match ev {
            Event::Arrival { source } => {
                self.schedule_next(source, cal);
                let call = if self.model.sources[source as usize].client.retry.is_some() {
                    self.new_call(source)
                } else {
                    NONE
                };
                self.offer(now, source, NONE, call, false, cal);
            }
            Event::Session { source } => {
                self.schedule_next(source, cal);
                self.begin_session(now, source, cal);
            }
            Event::Return { source } => {
                self.scheduled_back -= 1;
                self.begin_session(now, source, cal);
            }
            Event::Population { source } => self.population_changes(now, source, cal),
            Event::Page { user } => self.page_due(now, user, cal),
            Event::Pool { source, pool } => self.pool_fires(now, source, pool, cal),
            Event::Retry { call } => {
                self.scheduled_back -= 1;
                let source = self.calls[call as usize].source;
                self.offer(now, source, NONE, call, true, cal);
            }
            Event::Done { stamp } => self.done(now, stamp, cal),
            Event::ClientTimeout { source } => self.client_clock_rings(now, source, cal),
            Event::Abandon { stamp } => {
                let a = self.attempts[stamp.slot()];
                if !a.ended_since(stamp) && !a.client_gone && a.waiting {
                    self.finish(now, stamp.req, Some(Outcome::TimedOut), cal);
                }
            }
            Event::Refused { stamp, tier } => {
                if !self.attempts[stamp.slot()].moved_on_from(stamp) {
                    let why = RetryOn::Rejected;
                    self.fail(now, stamp.req, tier as usize, why, Outcome::Rejected, cal);
                }
            }
            Event::HopRetry { stamp, call } => self.call_again(now, stamp, call, cal),
            Event::ServerTimeout { stamp, tier } => {
                if self.server_timeout_rings(now, stamp, tier as usize) {
                    let why = RetryOn::TimedOut;
                    self.fail(now, stamp.req, tier as usize, why, Outcome::Failed, cal);
                }
            }
            Event::PoolTimeout { stamp, tier } => self.pool_timed_out(now, stamp, tier, cal),
            Event::Restart {
                tier,
                instance,
                epoch,
            } => self.restarted(now, tier as usize, instance, epoch),
            Event::Probe { tier, instance } => self.probe(now, tier as usize, instance, cal),
            Event::ProbeTimeout { stamp } => self.probe_timed_out(stamp),
            Event::Provisioned { tier } => self.provisioned(now, tier, cal),
            Event::Uneject { tier, instance } => self.uneject(now, tier as usize, instance),
            Event::Operate { operator } => self.operate(now, operator as usize, cal),
            Event::ShedEnd => {
                if now >= self.shed_until {
                    self.shed_fraction = 0.0;
                }
            }
            Event::Bucket => self.close_bucket(now, cal),
            Event::Warmup => {
                self.metrics.start_counting(now);
                self.room_start_counting(now);
                self.pools_start_counting(now);
            }
            Event::RoomAdmit => self.room_admit_waiting(now, cal),
            Event::RoomLapse { pass, epoch } => self.room_lapse(now, pass, epoch, cal),
            Event::RoomAbandon { waiter, generation } => {
                self.room_abandon(now, waiter, generation, cal)
            }
        }
    }

    /// An attempt's service at its tier ends (unless the attempt moved on since): a probe's
    /// answer, a failed service, or on to the next tier.
    #[inline]
    fn done(&mut self, now: Time, stamp: Stamp, cal: &mut Calendar<Event>) {
        let (req, a) = (stamp.req, &self.attempts[stamp.slot()]);
        if a.moved_on_from(stamp) {
            return;
        }
        if a.probe {
            self.probe_answered(now, req, cal);
            return;
        }
        let t = a.at as usize;
        if self.tiers[t].service_failed() {
            self.fail(now, req, t, RetryOn::Error, Outcome::Failed, cal);
            return;
        }
        self.advance(now, req, t + 1, cal);
        // Without request timeouts nothing is ever deferred (`deferred` stays 0).
        if self.shortcuts.request_timeouts {
            self.held_timeouts(now, stamp, 1 << t, cal);
        }
    }

    /// A crashed instance's restart completes (unless superseded or stopped since).
    #[inline]
    fn restarted(&mut self, now: Time, tier: usize, instance: u32, epoch: u32) {
        let inst = &mut self.tiers[tier].instances[instance as usize];
        if inst.restart_epoch == epoch && !inst.up && !inst.stopped {
            inst.up = true;
            inst.restarted_at = Some(now);
            let threads = self.tiers[tier].spec.threads;
            self.metrics.tiers[tier].instances_changed(now, threads, 1);
        }
    }

    /// A health-check probe got no answer in time: the check fails.
    #[inline]
    fn probe_timed_out(&mut self, stamp: Stamp) {
        let a = self.attempts[stamp.slot()];
        if !a.moved_on_from(stamp) && !a.client_gone {
            self.attempts[stamp.slot()].client_gone = true;
            let t = a.at as usize;
            let i = self.slots[stamp.slot() * self.n_tiers + t].instance;
            self.health_result(t, i, false);
        }
    }

    /// A provisioned instance comes up, in rotation, with its health checks scheduled.
    #[inline]
    fn provisioned(&mut self, now: Time, tier: u8, cal: &mut Calendar<Event>) {
        let t = tier as usize;
        let i = self.tiers[t].add_instance(now);
        self.tiers[t].pending -= 1;
        let threads = self.tiers[t].spec.threads;
        let stats = &mut self.metrics.tiers[t];
        stats.instances_changed(now, threads, 1);
        stats.in_rotation += 1;
        if let Some(hc) = self.tiers[t].spec.health_check {
            cal.schedule(now.after(hc.interval_s), Event::Probe { tier, instance: i });
        }
    }
}
