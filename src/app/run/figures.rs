//! The figures `surge run` (and `surge report`) print on the terminal, computed once over the
//! replications so that `commands::run` only words them: every metric of the table with its
//! mean and 95% interval (`metrics::replicated`), each tier's instances over the measured
//! period, and the SLO's figures. Not here: their wording (`commands::run`), `summary.json`'s
//! means (`metrics::run_summary`).

use crate::experiment::RunOutput;
use crate::metrics::replicated::Replicated;
use crate::metrics::summary::TierSummary;
use crate::model::Model;
use crate::stats::mean_ci95;

/// A mean over the replications that have a value, with its 95% half-width (not finite for
/// one value); `None` when none has one.
pub(crate) type MeanCi = Option<(f64, f64)>;

/// The terminal's figures over the replications.
pub(crate) struct RunFigures {
    /// Every metric of the table (`metrics::table`), by key.
    pub(crate) estimates: Replicated,
    /// Per tier of the model: its fewest and most instances over the measured period and their
    /// time-average, each a mean over the replications (`None` when no replication has the tier).
    pub(crate) instances: Vec<[Option<f64>; 3]>,
    /// Per tier: its utilisation in its busiest bucket after the warm-up (busy threads over
    /// the threads of the instances up), a mean over the replications.
    pub(crate) peak_utilisation: Vec<Option<f64>>,
    pub(crate) slo: SloFigures,
}

/// The SLO's figures over the measured period.
pub(crate) struct SloFigures {
    /// Success rate of the requests that ended.
    pub(crate) success_rate: MeanCi,
    /// Share of the SLO windows that met it.
    pub(crate) windows_met_share: MeanCi,
    /// Time out of the SLO, in seconds.
    pub(crate) time_out_s: MeanCi,
    /// Share of the error budget used.
    pub(crate) error_budget_used: MeanCi,
}

impl RunFigures {
    pub(crate) fn of(model: &Model, outs: &[RunOutput]) -> RunFigures {
        let runs: Vec<_> = outs
            .iter()
            .map(|o| o.as_run(model.slo.outage_below))
            .collect();
        let tier_mean = |k: usize, f: fn(&TierSummary) -> f64| {
            let xs: Vec<f64> = (outs.iter())
                .filter_map(|o| o.summary.tiers.get(k).map(f))
                .collect();
            (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
        };
        let instances = (0..model.tiers.len())
            .map(|k| {
                [
                    tier_mean(k, |s| f64::from(s.instances_min)),
                    tier_mean(k, |s| f64::from(s.instances_max)),
                    tier_mean(k, |s| s.instances_mean),
                ]
            })
            .collect();
        let warmup_s = model.scenario.warmup_s;
        let peak_utilisation = (0..model.tiers.len())
            .map(|k| {
                let xs: Vec<f64> = (outs.iter())
                    .filter_map(|o| {
                        let ts = o.series.tiers.get(k)?;
                        ts.peak_bucket_utilization(&o.series.t_s, warmup_s)
                    })
                    .collect();
                (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
            })
            .collect();
        let over = |f: &dyn Fn(&RunOutput) -> Option<f64>| {
            let xs: Vec<f64> = outs.iter().filter_map(f).collect();
            (!xs.is_empty()).then(|| mean_ci95(&xs))
        };
        let slo = SloFigures {
            success_rate: over(&|o| o.summary.slo.success_rate),
            windows_met_share: over(&|o| o.summary.slo.windows_met_share),
            time_out_s: over(&|o| Some(o.summary.slo.time_out_of_slo_s)),
            error_budget_used: over(&|o| o.summary.slo.error_budget_used),
        };
        RunFigures {
            estimates: Replicated::of(&runs),
            instances,
            peak_utilisation,
            slo,
        }
    }
}
