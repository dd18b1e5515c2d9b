//! Observation: closing each time-series bucket (and the actions that look at it), ending the
//! run at the horizon or at a bound, and counting the visits still in progress then. The
//! measures themselves are kept by `crate::metrics::Collector`; this file only feeds it.
//!
//! A run may also end as soon as the answer to a yes/no question is known (`Until`): at the end
//! of the first SLO window, past the warm-up, that is down (or breaks the SLO). The outage
//! analysis (`crate::metrics::outage`) reads the same windows with the same tests, so a run
//! stopped there has crashed (or broken the SLO) exactly when the full run would have.

use super::World;
use crate::engine::{Calendar, Time};
use crate::metrics::slo::Criterion;

use super::events::Event;

/// A question whose answer ends a run as soon as it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Did the site go down? Yes at the first completed SLO window whose success rate is below
    /// `slo.outage_below` (an outage, as `crate::metrics::outage` defines it).
    FirstOutage,
    /// Did the site break its SLO? Yes at the first completed window with a success rate below
    /// `slo.success_rate` or a p95 latency above `slo.latency`.
    FirstSloBreach,
    /// Did the site go down by calls? Yes at the first completed window whose call success
    /// rate is below `slo.outage_below` (`crate::metrics::outage::detect_in`).
    FirstCallOutage,
    /// Did it go down by users? Yes at the first completed window whose share of sessions that
    /// got every page is below `slo.outage_below` (`crate::metrics::outage::detect_in`).
    FirstUserOutage,
}

impl Until {
    /// The question that stops a run as soon as it fails by `criterion`.
    pub(crate) fn first_failure(criterion: Criterion) -> Until {
        match criterion {
            Criterion::Outage => Until::FirstOutage,
            Criterion::Slo => Until::FirstSloBreach,
            Criterion::CallOutage => Until::FirstCallOutage,
            Criterion::UserOutage => Until::FirstUserOutage,
        }
    }
}

impl World<'_> {
    /// The bucket ending at `now` closes: its row of the time series, then the autoscaler and
    /// the operators look at it, and the next bucket is scheduled (or the run ends).
    pub(super) fn close_bucket(&mut self, now: Time, cal: &mut Calendar<Event>) {
        let memory: Vec<(f64, f64)> = self
            .tiers
            .iter()
            .map(|t| (t.spec.memory_base, t.spec.memory_per_request))
            .collect();
        let len_s = now.since(self.bucket_start);
        self.metrics.close_bucket(now, self.bucket_start, &memory);
        for (tier, stats) in self.tiers.iter().zip(&mut self.metrics.tiers) {
            stats.bucket_max_in_instance = tier
                .instances
                .iter()
                .map(|i| i.in_instance)
                .max()
                .unwrap_or(0);
        }
        self.record_policies();
        self.record_pools(now, len_s);
        self.autoscale(now, len_s, cal);
        self.scale_in(now, self.bucket_start);
        self.watch_outage(now, cal);
        self.bucket_start = now;
        if now < self.horizon && self.until.is_some_and(|u| self.answered(u)) {
            // The answer cannot change: this bucket's end becomes the horizon.
            self.horizon = now;
            self.answered_at = Some(now);
            self.answered_yes = true;
        } else if now < self.horizon && self.holds_for_good(now) {
            // The hold rule answers no (`hold`): the run ends here too.
            self.horizon = now;
            self.answered_at = Some(now);
        }
        if now >= self.horizon {
            self.finished = true;
            self.metrics.finish(now);
            self.pools_finish(now);
            self.count_visits_at_horizon(now);
        } else {
            cal.schedule_first(
                now.after(self.metrics.bucket().secs()).min(self.horizon),
                Event::Bucket,
            );
        }
    }

    /// Does the window that ends with the bucket just closed answer `until` with yes? Windows
    /// that end within the warm-up say nothing, as in the outage analysis.
    fn answered(&self, until: Until) -> bool {
        let s = &self.metrics.series;
        let n = s.len();
        if n == 0 || n as f64 * s.bucket_s <= self.model.scenario.warmup_s + 1e-9 {
            return false;
        }
        let slo = &self.model.slo;
        let rate = s.window_success_rate[n - 1];
        match until {
            Until::FirstOutage => rate < slo.outage_below,
            Until::FirstCallOutage => s.window_call_success_rate[n - 1] < slo.outage_below,
            Until::FirstUserOutage => s.window_user_success_rate[n - 1] < slo.outage_below,
            Until::FirstSloBreach => {
                let p95 = s.window_p95_s[n - 1];
                let holds = (rate.is_nan() || rate >= slo.success_rate)
                    && (p95.is_nan() || p95 <= slo.latency_s);
                !holds
            }
        }
    }

    /// End the run at `now`, before the horizon (a guard rail was hit): `now` becomes the
    /// horizon and the last bucket closes there, as it would at the model's horizon.
    pub(crate) fn stop_early(&mut self, now: Time, cal: &mut Calendar<Event>) {
        self.horizon = now;
        if now > self.bucket_start {
            self.close_bucket(now, cal);
        } else {
            self.finished = true;
            self.metrics.finish(now);
            self.pools_finish(now);
            self.count_visits_at_horizon(now);
        }
    }

    /// Visits still in progress at the horizon: their time so far, for the area identity.
    pub(super) fn count_visits_at_horizon(&mut self, now: Time) {
        let warmup = self.metrics.warmup();
        for (k, a) in self.attempts.iter().enumerate() {
            if !a.live {
                continue;
            }
            let mut tiers = a.occupied();
            while tiers != 0 {
                let t = tiers.trailing_zeros() as usize;
                tiers &= tiers - 1;
                let enter = self.slots[k * self.n_tiers + t].enter;
                let stats = &mut self.metrics.tiers[t];
                stats.visit_time(enter, now, warmup);
                stats.in_tier_at_end += 1;
            }
        }
    }
}
