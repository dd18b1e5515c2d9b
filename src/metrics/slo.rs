//! The service-level objective of a run, measured: the success rate over the measured period,
//! the share of SLO windows that met both the success rate and the latency target, the time out
//! of SLO, and the error budget used. Also the criterion by which `sweep` and `crashpoint` call a
//! run failed: an outage (the success rate fell below `slo.outage_below`), or any break of the
//! SLO at all (whether a run's summary failed by it is `Criterion::failed`, in
//! `metrics::summary`).
//!
//! Windows are those of the outage analysis (`metrics::outage`): one per bucket, the SLO window
//! ending with it, from the first bucket that ends after the warm-up. A window in which nothing
//! ended (no success rate, no latency) breaks nothing.

use serde::{Deserialize, Serialize};

use super::series::TimeSeries;
use crate::model::Slo;

/// The SLO figures of one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SloSummary {
    /// Requests that succeeded over those that ended (succeeded, rejected, timed out or failed)
    /// in the measured period; `None` when none ended.
    pub success_rate: Option<f64>,
    /// Share of SLO windows meeting both the success-rate and the latency target.
    pub windows_met_share: Option<f64>,
    /// Time covered by windows that broke the SLO, seconds (each window stands for its bucket).
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub time_out_of_slo_s: f64,
    /// Requests that did not succeed over those the success target allows to fail
    /// ((1 - target) x ended): 1 means the budget is spent exactly. `None` when nothing ended or
    /// the target is 100%.
    pub error_budget_used: Option<f64>,
    /// Some window broke the SLO.
    pub broken: bool,
    /// The targets measured against (the model's `[slo]`), so a reader of `summary.json` (and
    /// `surge plot`) knows them without the model. Absent from a summary of an earlier surge.
    #[serde(default)]
    pub target_success_rate: Option<f64>,
    #[serde(default)]
    pub target_latency_s: Option<f64>,
    #[serde(default)]
    pub window_s: Option<f64>,
    #[serde(default)]
    pub outage_below: Option<f64>,
    /// How long the SLO must hold to call the site recovered (`slo.stable`), seconds.
    #[serde(default)]
    pub stable_s: Option<f64>,
}

/// Whether the SLO window ending with bucket `i` meets both targets.
pub(crate) fn window_meets(series: &TimeSeries, slo: &Slo, i: usize) -> bool {
    meets(series.window_success_rate[i], series.window_p95_s[i], slo)
}

/// Whether a window with success rate `r` and p95 latency `p95` meets both targets (NaN: no
/// value, which breaks nothing).
pub(crate) fn meets(r: f64, p95: f64, slo: &Slo) -> bool {
    (r.is_nan() || r >= slo.success_rate) && (p95.is_nan() || p95 <= slo.latency_s)
}

/// The first bucket whose window counts: the first that ends after the warm-up.
pub(crate) fn first_measured(series: &TimeSeries, warmup_s: f64) -> usize {
    let n = series.len();
    (0..n)
        .find(|&i| (i + 1) as f64 * series.bucket_s > warmup_s + 1e-9)
        .unwrap_or(n)
}

/// Measure the SLO of a run over [warmup_s, until_s), of whose measured requests `succeeded` of
/// `ended` succeeded (`summary::RequestCounts`).
pub(crate) fn measure(
    series: &TimeSeries,
    slo: &Slo,
    (succeeded, ended): (u64, u64),
    warmup_s: f64,
    until_s: f64,
) -> SloSummary {
    let b = series.bucket_s;
    let mut windows = 0_u64;
    let mut met = 0_u64;
    let mut out_s = 0.0;
    for i in first_measured(series, warmup_s)..series.len() {
        let start = (i as f64 * b).max(warmup_s);
        let end = ((i + 1) as f64 * b).min(until_s);
        if end <= start {
            continue;
        }
        windows += 1;
        if window_meets(series, slo, i) {
            met += 1;
        } else {
            out_s += end - start;
        }
    }
    let not_ok = ended - succeeded;
    let allowed = (1.0 - slo.success_rate) * ended as f64;
    SloSummary {
        success_rate: (ended > 0).then(|| succeeded as f64 / ended as f64),
        windows_met_share: (windows > 0).then(|| met as f64 / windows as f64),
        time_out_of_slo_s: out_s,
        error_budget_used: (ended > 0 && allowed > 0.0).then(|| not_ok as f64 / allowed),
        broken: met < windows,
        target_success_rate: Some(slo.success_rate),
        target_latency_s: Some(slo.latency_s),
        window_s: Some(slo.window_s),
        outage_below: Some(slo.outage_below),
        stable_s: Some(slo.stable_s),
    }
}

/// When a run counts as failed, for `sweep` and `crashpoint`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    /// An outage: the success rate over an SLO window fell below `slo.outage_below`.
    #[default]
    Outage,
    /// Any break of the SLO: some window below the success-rate target or above the latency
    /// target.
    Slo,
    /// An outage by calls: the share of the calls that ended in an SLO window (a request with
    /// its retries, a page with its refreshes) that succeeded fell below `slo.outage_below`.
    #[serde(rename = "call-outage")]
    CallOutage,
    /// An outage by users: the share of the sessions that ended in an SLO window that got every
    /// page fell below `slo.outage_below` (a model with a users source only).
    #[serde(rename = "user-outage")]
    UserOutage,
}

impl Criterion {
    /// The name `--criterion` takes.
    pub fn name(self) -> &'static str {
        match self {
            Criterion::Outage => "outage",
            Criterion::Slo => "slo",
            Criterion::CallOutage => "call-outage",
            Criterion::UserOutage => "user-outage",
        }
    }

    /// The level the criterion reads: requests (attempts), calls or users.
    pub fn level(self) -> &'static str {
        match self {
            Criterion::Outage | Criterion::Slo => "requests",
            Criterion::CallOutage => "calls",
            Criterion::UserOutage => "users",
        }
    }

    /// Refuse `user-outage` for a model without a users source (it has no sessions to count).
    pub fn check(self, model: &crate::model::Model) -> Result<(), crate::error::BadInput> {
        let users = (model.sources.iter()).any(|s| s.kind == crate::model::SourceKind::Users);
        if self == Criterion::UserOutage && !users {
            return Err(crate::error::BadInput(
                "--criterion user-outage: the model has no users source, so no sessions to \
                 count; use outage (requests) or call-outage (calls)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The criterion as `--criterion` or `crashpoint.json` names it, or as the metric it reads
    /// (`outage.crashed`, as `crashpoint.json` wrote it before).
    pub fn parse(s: &str) -> Option<Criterion> {
        [
            Criterion::Outage,
            Criterion::Slo,
            Criterion::CallOutage,
            Criterion::UserOutage,
        ]
        .into_iter()
        .find(|c| c.name() == s || c.metric() == s)
    }

    /// The per-run 0/1 metric (as `sweep` flattens a summary) that this criterion reads.
    pub fn metric(self) -> &'static str {
        match self {
            Criterion::Outage => "outage.crashed",
            Criterion::Slo => "slo.broken",
            Criterion::CallOutage => "calls.outage.crashed",
            Criterion::UserOutage => "sessions.outage.crashed",
        }
    }

    /// What the share of failed runs is called on charts and tables.
    pub fn probability_label(self) -> &'static str {
        match self {
            Criterion::Outage => "outage probability",
            Criterion::Slo => "probability of breaking the SLO",
            Criterion::CallOutage => "outage probability (by calls)",
            Criterion::UserOutage => "outage probability (by users)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo() -> Slo {
        Slo {
            success_rate: 0.9,
            latency_s: 1.0,
            window_s: 60.0,
            outage_below: 0.5,
            stable_s: 60.0,
        }
    }

    #[test]
    fn windows_out_of_slo_and_the_error_budget() {
        let n = 10;
        let mut s = TimeSeries {
            bucket_s: 60.0,
            t_s: (0..n).map(|i| i as f64 * 60.0).collect(),
            window_success_rate: vec![0.95; n],
            window_p95_s: vec![0.5; n],
            ..Default::default()
        };
        s.window_success_rate[3] = 0.8; // success rate broken
        s.window_p95_s[6] = 1.5; // latency broken
        s.window_success_rate[8] = f64::NAN; // nothing ended: breaks nothing
        // 940 succeeded; 40 rejected, 15 timed out and 5 failed: 1,000 ended.
        let r = (940, 1000);
        // Warm-up of 1 min: the first window does not count; 9 windows, 2 broken.
        let m = measure(&s, &slo(), r, 60.0, 600.0);
        assert_eq!(m.windows_met_share, Some(7.0 / 9.0));
        assert_eq!(m.time_out_of_slo_s, 120.0);
        assert_eq!(m.success_rate, Some(0.94));
        // 60 lost of 1,000 ended, against 100 allowed by a 90% target.
        assert!((m.error_budget_used.unwrap() - 0.6).abs() < 1e-12);
        assert!(m.broken);
        // A run stopped at 7.5 min counts half of its last bucket.
        let partial = measure(&s, &slo(), r, 60.0, 390.0);
        assert_eq!(partial.time_out_of_slo_s, 90.0);
    }
}
