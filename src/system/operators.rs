//! People and policies acting on the site: the operators who notice an outage (as they would,
//! from the SLO window at each bucket's end) and restart, add instances or shed load, and the
//! autoscaler. Not here: how an outage is defined for the summary (`crate::metrics::outage`).

use super::World;
use crate::engine::{Calendar, Time};
use crate::model::Action;

use super::events::Event;

/// Online view of the outage, as the operators see it at bucket ends.
#[derive(Debug, Clone, Default)]
pub(super) struct Watch {
    pub(super) down_since: Option<Time>,
    /// Per operator: not before this time may it act again (it acted, and gives its action one
    /// detection period to work before it looks again).
    pub(super) next_look: Vec<Option<Time>>,
    /// The last time an operator action scheduled so far takes place.
    pub(super) acting_until: Time,
}

impl World<'_> {
    /// An operator's action.
    pub(super) fn operate(&mut self, now: Time, operator: usize, cal: &mut Calendar<Event>) {
        let op = self.model.operators[operator].clone();
        match op.action {
            Action::Restart => {
                let tiers: Vec<usize> = op
                    .tier
                    .map_or_else(|| (0..self.n_tiers).collect(), |t| vec![t]);
                // What is down (crashed, or stopped by rapid-fail protection) is restarted, all
                // together: each comes back after its restart time from now (superseding a
                // restart already on its way) with a clean crash history, as a pool started
                // by hand does. Instances that are up keep serving.
                for t in tiers {
                    for i in 0..self.tiers[t].instances.len() as u32 {
                        let inst = &mut self.tiers[t].instances[i as usize];
                        if inst.up || inst.gone.is_some() {
                            continue;
                        }
                        inst.recent_crashes.clear();
                        inst.stopped = false;
                        self.schedule_restart(now, t, i, cal);
                    }
                }
            }
            Action::AddInstances => {
                let t = op.tier.unwrap_or(0);
                for _ in 0..op.instances {
                    let i = self.tiers[t].add_instance(now);
                    let threads = self.tiers[t].spec.threads;
                    let stats = &mut self.metrics.tiers[t];
                    stats.instances_changed(now, threads, 1);
                    stats.in_rotation += 1;
                    if let Some(hc) = self.tiers[t].spec.health_check {
                        cal.schedule(
                            now.after(hc.interval_s),
                            Event::Probe {
                                tier: t as u8,
                                instance: i,
                            },
                        );
                    }
                }
            }
            Action::ShedLoad => {
                // A new action extends the shedding; the first one's end does not cut it short.
                self.shed_fraction = op.fraction;
                let until = now.after(op.duration_s);
                self.shed_until = self.shed_until.max(until);
                cal.schedule(until, Event::ShedEnd);
            }
        }
    }

    /// The operators' view: the success rate over the SLO window, as of this bucket's end.
    pub(super) fn watch_outage(&mut self, now: Time, cal: &mut Calendar<Event>) {
        let slo = self.model.slo;
        let rate = self
            .metrics
            .series
            .window_success_rate
            .last()
            .copied()
            .unwrap_or(f64::NAN);
        let down = rate < slo.outage_below;
        if !down {
            self.watch.down_since = None;
            self.watch.next_look.iter_mut().for_each(|a| *a = None);
            return;
        }
        // Down: each operator acts once the outage has lasted `detect`, and again every
        // `delay + detect` while it lasts. The window stands for its centre (as in the outage
        // analysis), so the outage began about half a window ago.
        let since = *self.watch.down_since.get_or_insert(Time(
            now.0.saturating_sub(Time::from_secs(slo.window_s / 2.0).0),
        ));
        for (k, op) in self.model.operators.iter().enumerate() {
            let ready = self.watch.next_look[k].is_none_or(|t| now >= t);
            if ready && now.since(since) >= op.detect_s {
                self.watch.next_look[k] = Some(now.after(op.delay_s + op.detect_s));
                let at = now.after(op.delay_s);
                self.watch.acting_until = self.watch.acting_until.max(at);
                cal.schedule(at, Event::Operate { operator: k as u16 });
            }
        }
    }

    /// Autoscaling looks at the bucket's utilisation of the instances that are up, tier by
    /// tier, and orders instances (ready after the provisioning delay) above its target.
    pub(super) fn autoscale(&mut self, now: Time, len_s: f64, cal: &mut Calendar<Event>) {
        for (t, tier) in self.tiers.iter_mut().enumerate() {
            let Some(auto) = tier.spec.autoscale else {
                continue;
            };
            let busy = self.metrics.series.tiers[t]
                .busy_threads
                .last()
                .copied()
                .unwrap_or(0.0);
            let up = tier.instances.iter().filter(|i| i.up).count() as f64;
            let util = busy / (up.max(1.0) * f64::from(tier.spec.threads));
            let total = tier.live_instances() + tier.pending;
            let cooled = tier
                .last_scaled
                .is_none_or(|l| now.since(l) >= auto.cooldown_s);
            if util > auto.target_utilization && cooled && total < auto.max_instances && len_s > 0.0
            {
                let want = (up.max(1.0) * util / auto.target_utilization).ceil() as u32;
                let add = want
                    .saturating_sub(total)
                    .max(1)
                    .min(auto.max_instances - total);
                for _ in 0..add {
                    cal.schedule(
                        now.after(auto.provision_s),
                        Event::Provisioned { tier: t as u8 },
                    );
                }
                tier.pending += add;
                tier.last_scaled = Some(now);
                tier.quiet_since = None;
            }
        }
    }
}
