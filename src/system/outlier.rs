//! Outlier detection by the balancer in front of a tier (`[tier.outlier_detection]`), as Envoy's
//! consecutive-5xx detector does it:
//! - Every attempt that ends is a response of each instance it went through: a success resets
//!   the instance's count of consecutive errors; a 5xx (the attempt was refused: instance down,
//!   queue full, concurrency limit; or it failed: crash, request timeout; or it failed further on
//!   and the error came back through the instance) adds one. An attempt its client abandoned
//!   while it waited is neither. Health-check probes are not counted (Envoy's active and passive
//!   checks are separate).
//! - When the count reaches `consecutive_5xx` it goes back to 0 and the instance is ejected
//!   (taken out of the balancer's rotation), unless that would eject more than
//!   `max_ejection_percent` of the tier's instances: Envoy ejects only when (ejected + 1) / n is
//!   at most that share, or, with `always_eject_one_host`, when none is ejected. So with the
//!   default 10%, a tier of fewer than 10 instances ejects none unless that key is set.
//! - An ejected instance comes back after `base_ejection` x the number of times it has been
//!   ejected, at most max(`max_ejection`, `base_ejection`). Each full `interval` it then spends
//!   in rotation takes one off that number. Envoy returns ejected hosts at its interval sweeps;
//!   here the return is at the exact time, so an ejection lasts exactly what its keys say.
//!
//! Not here: health checks (`crashes`), the balancer's choice among instances (`tier`).

use crate::engine::{Calendar, Time};
use crate::model::OutlierDetection;

use super::World;
use super::events::Event;

/// One instance's record.
#[derive(Debug, Clone, Copy, Default)]
struct Host {
    consecutive: u32,
    /// Ejections counted for the ejection time (decays while in rotation).
    multiplier: u32,
    unejected_at: Option<Time>,
}

/// A tier's outlier detector.
pub(crate) struct TierOutlier {
    cfg: OutlierDetection,
    hosts: Vec<Host>,
    /// Instances ejected now.
    pub ejected: u32,
    /// Ejections since the warm-up.
    pub ejections: u64,
}

impl TierOutlier {
    pub(crate) fn new(cfg: OutlierDetection) -> TierOutlier {
        TierOutlier {
            cfg,
            hosts: Vec::new(),
            ejected: 0,
            ejections: 0,
        }
    }

    fn host(&mut self, i: u32) -> &mut Host {
        if self.hosts.len() <= i as usize {
            self.hosts.resize(i as usize + 1, Host::default());
        }
        &mut self.hosts[i as usize]
    }

    /// Envoy's rule: eject if (ejected + 1) / n <= max_ejection_percent, or if none is ejected
    /// and `always_eject_one_host` is set.
    fn may_eject(&self, n: u32) -> bool {
        u64::from(self.ejected + 1) * 100 <= u64::from(self.cfg.max_ejection_percent) * u64::from(n)
            || (self.cfg.always_eject_one_host && self.ejected == 0)
    }

    /// How long the `multiplier`-th ejection lasts, seconds.
    fn ejection_s(&self, multiplier: u32) -> f64 {
        (self.cfg.base_ejection_s * f64::from(multiplier)).min(self.cfg.max_ejection_s)
    }
}

impl World<'_> {
    /// Instance `i` of tier `t` answered an attempt: `ok` a success, else a 5xx.
    pub(super) fn instance_result(
        &mut self,
        now: Time,
        t: usize,
        i: u32,
        ok: bool,
        cal: &mut Calendar<Event>,
    ) {
        let tier = &mut self.tiers[t];
        let Some(o) = tier.outlier.as_mut() else {
            return;
        };
        let threshold = o.cfg.consecutive_5xx;
        let host = o.host(i);
        if ok {
            host.consecutive = 0;
            return;
        }
        host.consecutive += 1;
        if host.consecutive < threshold {
            return;
        }
        host.consecutive = 0;
        let inst = &tier.instances[i as usize];
        if inst.ejected || inst.retired {
            return;
        }
        let n = tier.instances.iter().filter(|x| !x.retired).count() as u32;
        if !o.may_eject(n) {
            return;
        }
        let interval = o.cfg.interval_s;
        let host = o.host(i);
        if let Some(back) = host.unejected_at {
            let quiet = (now.since(back) / interval).floor() as u32;
            host.multiplier = host.multiplier.saturating_sub(quiet);
        }
        host.multiplier += 1;
        let m = host.multiplier;
        let for_s = o.ejection_s(m);
        o.ejected += 1;
        if self.metrics.counts(now) {
            o.ejections += 1;
        }
        let inst = &mut tier.instances[i as usize];
        inst.ejected = true;
        if inst.in_rotation {
            self.metrics.tiers[t].in_rotation -= 1;
        }
        cal.schedule(
            now.after(for_s),
            Event::Uneject {
                tier: t as u8,
                instance: i,
            },
        );
    }

    /// The ejection of instance `i` of tier `t` ends (or is cancelled: the instance is being
    /// scaled in). Nothing happens if it is not ejected.
    pub(super) fn uneject(&mut self, now: Time, t: usize, i: u32) {
        let tier = &mut self.tiers[t];
        let (Some(o), true) = (tier.outlier.as_mut(), tier.instances[i as usize].ejected) else {
            return;
        };
        o.ejected -= 1;
        o.host(i).unejected_at = Some(now);
        let inst = &mut tier.instances[i as usize];
        inst.ejected = false;
        if inst.in_rotation {
            self.metrics.tiers[t].in_rotation += 1;
        }
    }

    /// Instances of tier `t` ejected now, when it has outlier detection.
    pub(super) fn tier_ejected(&self, t: usize) -> Option<f64> {
        self.tiers[t].outlier.as_ref().map(|o| f64::from(o.ejected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(pct: u32, always: bool) -> TierOutlier {
        TierOutlier::new(OutlierDetection {
            consecutive_5xx: 5,
            base_ejection_s: 30.0,
            max_ejection_s: 300.0,
            max_ejection_percent: pct,
            always_eject_one_host: always,
            interval_s: 10.0,
        })
    }

    #[test]
    fn ejects_within_the_share_envoy_allows() {
        let mut o = detector(10, false);
        // 10% of 9 instances is less than one: none (Envoy without always_eject_one_host).
        assert!(!o.may_eject(9));
        assert!(o.may_eject(10));
        o.ejected = 1;
        assert!(!o.may_eject(19));
        assert!(o.may_eject(20));
        let mut one = detector(10, true);
        assert!(one.may_eject(3));
        one.ejected = 1;
        assert!(!one.may_eject(3));
    }

    #[test]
    fn ejection_time_grows_with_the_ejections_up_to_the_cap() {
        let o = detector(10, false);
        assert_eq!(o.ejection_s(1), 30.0);
        assert_eq!(o.ejection_s(3), 90.0);
        assert_eq!(o.ejection_s(11), 300.0);
    }
}
