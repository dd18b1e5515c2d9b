//! Crashes, restarts and health checks: an instance dies (past its memory limit) with everything
//! in it, comes back after its restart time unless rapid-fail protection stops
//! it, and the balancer's probes take instances out of rotation and put them back. Not here:
//! why an instance is over its memory limit (`attempts`), or when operators act (`operators`).

use super::{NONE, World};
use crate::engine::{Calendar, Time};
use crate::metrics::Outcome;
use crate::model::RetryOn;

use super::events::Event;

impl World<'_> {
    /// Instance `i` of tier `t` dies: everything in it fails; it restarts later, or stays down
    /// once rapid-fail protection trips (too many crashes within its window).
    pub(super) fn crash(&mut self, now: Time, t: usize, i: u32, cal: &mut Calendar<Event>) {
        let restart = self.tiers[t].spec.restart;
        let inst = &mut self.tiers[t].instances[i as usize];
        if !inst.up {
            return;
        }
        inst.up = false;
        let active = std::mem::take(&mut inst.active);
        let waiting = std::mem::take(&mut inst.waiting);
        inst.recent_crashes.push_back(now);
        while inst
            .recent_crashes
            .front()
            .is_some_and(|&c| now.since(c) > restart.window_s)
        {
            inst.recent_crashes.pop_front();
        }
        let stop = restart
            .max_crashes
            .is_some_and(|m| inst.recent_crashes.len() as u32 > m);
        if stop {
            inst.stopped = true;
        }
        let stats = &mut self.metrics.tiers[t];
        stats.instances_changed(now, self.tiers[t].spec.threads, -1);
        if self.metrics.counts(now) {
            let stats = &mut self.metrics.tiers[t];
            stats.crashes += 1;
            stats.first_crash.get_or_insert(now);
        }
        for stamp in waiting {
            let a = self.attempts[stamp.slot()];
            if !a.moved_on_from(stamp) && a.waiting {
                self.fail(now, stamp.req, t, RetryOn::Error, Outcome::Failed, cal);
            }
        }
        for req in active {
            if self.attempts[req as usize].held & (1 << t) != 0 {
                self.fail(now, req, t, RetryOn::Error, Outcome::Failed, cal);
            }
        }
        let inst = &mut self.tiers[t].instances[i as usize];
        inst.active.clear();
        if !stop {
            self.schedule_restart(now, t, i, cal);
        }
    }

    /// Instance `i` of tier `t` comes back after the restart time (any earlier restart on the
    /// way is superseded).
    pub(super) fn schedule_restart(
        &mut self,
        now: Time,
        t: usize,
        i: u32,
        cal: &mut Calendar<Event>,
    ) {
        let after = self.tiers[t].spec.restart.after_s;
        let inst = &mut self.tiers[t].instances[i as usize];
        inst.restart_epoch = inst.restart_epoch.wrapping_add(1);
        let epoch = inst.restart_epoch;
        cal.schedule(
            now.after(after),
            Event::Restart {
                tier: t as u8,
                instance: i,
                epoch,
            },
        );
    }

    /// A health check of instance `i` of tier `t`: a probe that queues like a request.
    pub(super) fn probe(&mut self, now: Time, t: usize, i: u32, cal: &mut Calendar<Event>) {
        let Some(hc) = self.tiers[t].spec.health_check else {
            return;
        };
        // An instance being scaled in is no longer checked.
        if self.tiers[t].instances[i as usize].retired {
            return;
        }
        cal.schedule(
            now.after(hc.interval_s),
            Event::Probe {
                tier: t as u8,
                instance: i,
            },
        );
        if !self.tiers[t].instances[i as usize].up {
            self.health_result(t, i, false);
            return;
        }
        let req = self.new_attempt(now, 0, NONE, NONE, true);
        let stamp = self.attempts[req as usize].hop_stamp(req);
        if self.admit(now, req, t, i, cal) {
            if !self.attempts[req as usize].moved_on_from(stamp) {
                cal.schedule_line(
                    self.line_probe[t],
                    now.after(hc.timeout_s),
                    Event::ProbeTimeout { stamp },
                );
            }
        } else {
            self.health_result(t, i, false);
        }
    }

    /// A probe's service is complete: a pass unless it already timed out.
    pub(super) fn probe_answered(&mut self, now: Time, req: u32, cal: &mut Calendar<Event>) {
        let a = self.attempts[req as usize];
        let t = a.at as usize;
        let i = self.slots[req as usize * self.n_tiers + t].instance;
        if !a.client_gone {
            self.health_result(t, i, true);
        }
        self.finish(now, req, None, cal);
    }

    pub(super) fn health_result(&mut self, t: usize, i: u32, ok: bool) {
        let Some(hc) = self.tiers[t].spec.health_check else {
            return;
        };
        let inst = &mut self.tiers[t].instances[i as usize];
        if inst.retired {
            return;
        }
        // An ejected instance is out of the rotation count already (`outlier`).
        let counted = u32::from(!inst.ejected);
        if ok {
            inst.checks_failed = 0;
            inst.checks_passed += 1;
            if !inst.in_rotation && inst.checks_passed >= hc.healthy_after {
                inst.in_rotation = true;
                self.metrics.tiers[t].in_rotation += counted;
            }
        } else {
            inst.checks_passed = 0;
            inst.checks_failed += 1;
            if inst.in_rotation && inst.checks_failed >= hc.unhealthy_after {
                inst.in_rotation = false;
                self.metrics.tiers[t].in_rotation -= counted;
            }
        }
    }
}
