//! Outage and recovery detection from the SLO (the rules are written out in docs/model.md).
//!
//! The success rate and p95 latency are measured over a sliding window of `slo.window` that
//! advances one bucket at a time. A window whose success rate is below `slo.outage_below` is
//! down. A window stands for the bucket at its centre, so a sharp outage from A to B is found as
//! exactly [A, B) rather than shifted by half a window. An episode is a maximal run of down
//! windows; the site has recovered at the start of the first stretch, after the first episode,
//! over which the full SLO (success rate and latency) holds without a break for `slo.stable`.

use crate::model::Slo;
use serde::{Deserialize, Serialize};

use super::series::TimeSeries;

/// What the outage analysis found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Outage {
    pub crashed: bool,
    pub crash_time_s: Option<f64>,
    /// `None` when there was no crash.
    pub recovered: Option<bool>,
    /// Time from crash to recovery; when not recovered, the censored lower bound (horizon - crash).
    pub recovery_time_s: Option<f64>,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub downtime_s: f64,
    pub episodes: u32,
    /// Each episode as [start_s, end_s).
    pub intervals: Vec<[f64; 2]>,
    /// The moment of recovery, seconds.
    pub recovered_at_s: Option<f64>,
    /// The last episode was still on when the run ended (its last SLO window was down): the
    /// downtime is cut by the horizon, a lower bound. False without an episode, and for an
    /// outage that was over by the end even when recovery was not confirmed.
    #[serde(default)]
    pub down_at_end: bool,
    /// For an outage over by the end but not recovered: how long the full SLO had held, without
    /// a break, when the run ended (shorter than `slo.stable`, or recovery would have been
    /// confirmed), seconds. `null` otherwise.
    #[serde(default)]
    pub held_at_end_s: Option<f64>,
}

/// How the replications of one sweep point or one compared variant ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct OutageCounts {
    /// Replications run.
    pub runs: u32,
    /// Replications with an outage.
    pub with_outage: u32,
    /// Of those, the ones that recovered before the end, and the ones that did not.
    pub recovered: u32,
    pub not_recovered: u32,
    /// Replications whose outage was still on at the end: their downtime is a lower bound.
    pub still_down_at_end: u32,
}

/// Analyse a time series at the attempt level (`window_success_rate`); windows that end before
/// `warmup_s` are ignored.
pub(crate) fn detect(series: &TimeSeries, slo: &Slo, warmup_s: f64, duration_s: f64) -> Outage {
    detect_in(
        series,
        &series.window_success_rate,
        slo,
        warmup_s,
        duration_s,
    )
}

/// The analysis over `rates`, one window success rate per bucket: at the call level
/// (`window_call_success_rate`: calls that succeeded over the calls that ended, a call being a
/// request and its retries or a page and its refreshes), a window is down when fewer than
/// `slo.outage_below` of its calls succeeded, and the site has recovered once the call success
/// rate meets `slo.success_rate` (and the p95 latency its target) for `slo.stable`; at the user
/// level (`window_user_success_rate`), the same with sessions that got every page over the
/// sessions that ended, those turned away or out of patience at the waiting room among the lost.
pub(crate) fn detect_in(
    series: &TimeSeries,
    rates: &[f64],
    slo: &Slo,
    warmup_s: f64,
    duration_s: f64,
) -> Outage {
    let b = series.bucket_s;
    let n = series.len().min(rates.len());
    let k = ((slo.window_s / b).round() as usize).max(1);
    // Centre of the window ending with bucket i (partial at the start: it covers buckets 0..=i).
    let centre = |i: usize| {
        let covered = (i + 1).min(k) as f64;
        (i + 1) as f64 * b - covered * b / 2.0
    };
    let first = super::slo::first_measured(series, warmup_s);
    let down = |i: usize| rates[i] < slo.outage_below;
    let holds = |i: usize| super::slo::meets(rates[i], series.window_p95_s[i], slo);
    let mut out = Outage::default();
    let mut i = first;
    while i < n {
        if down(i) {
            let start = i;
            while i < n && down(i) {
                i += 1;
            }
            let s = (centre(start) - b / 2.0).max(0.0);
            let e = (centre(i - 1) + b / 2.0).min(duration_s);
            out.intervals.push([s, e]);
            out.downtime_s += e - s;
        } else {
            i += 1;
        }
    }
    out.episodes = out.intervals.len() as u32;
    out.crashed = out.episodes > 0;
    if let Some(first_episode) = out.intervals.first() {
        let crash = first_episode[0];
        out.crash_time_s = Some(crash);
        let need = ((slo.stable_s / b).round() as usize).max(1);
        // Windows whose centre lies after the end of the first episode.
        let mut run_start = None;
        let mut found = None;
        for j in first..n {
            if centre(j) < first_episode[1] {
                continue;
            }
            if holds(j) {
                let s = *run_start.get_or_insert(j);
                if j + 1 - s >= need {
                    found = Some(s);
                    break;
                }
            } else {
                run_start = None;
            }
        }
        match found {
            Some(s) => {
                let at = (centre(s) - b / 2.0).max(crash);
                out.recovered = Some(true);
                out.recovered_at_s = Some(at);
                out.recovery_time_s = Some(at - crash);
            }
            None => {
                out.recovered = Some(false);
                out.recovery_time_s = Some(duration_s - crash);
                out.down_at_end = n > first && down(n - 1);
                if !out.down_at_end {
                    // The stretch of windows meeting the SLO that reaches the end.
                    let start = (first..n)
                        .rev()
                        .take_while(|&j| holds(j) && centre(j) >= first_episode[1])
                        .last();
                    out.held_at_end_s = Some(start.map_or(0.0, |s| {
                        (duration_s - (centre(s) - b / 2.0).max(crash)).max(0.0)
                    }));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(rates: &[f64]) -> TimeSeries {
        TimeSeries {
            bucket_s: 60.0,
            t_s: (0..rates.len()).map(|i| i as f64 * 60.0).collect(),
            window_success_rate: rates.to_vec(),
            window_p95_s: vec![0.1; rates.len()],
            ..Default::default()
        }
    }

    fn slo() -> Slo {
        Slo {
            success_rate: 0.99,
            latency_s: 2.0,
            window_s: 60.0,
            outage_below: 0.5,
            stable_s: 180.0,
        }
    }

    #[test]
    fn a_sharp_outage_is_found_where_it_is() {
        let mut r = vec![1.0; 20];
        for x in &mut r[5..9] {
            *x = 0.0;
        }
        let o = detect(&series(&r), &slo(), 0.0, 1200.0);
        assert!(o.crashed);
        assert_eq!(o.intervals, vec![[300.0, 540.0]]);
        assert_eq!(o.downtime_s, 240.0);
        assert_eq!(o.recovered, Some(true));
        assert_eq!(o.recovery_time_s, Some(240.0));
    }

    #[test]
    fn flapping_counts_episodes_and_delays_recovery() {
        let mut r = vec![1.0; 20];
        for i in [5, 6, 8, 12] {
            r[i] = 0.1;
        }
        let o = detect(&series(&r), &slo(), 0.0, 1200.0);
        assert_eq!(o.episodes, 3);
        // Up at 7 (one bucket) and 9..11 (three buckets, enough): recovered at 9 minutes.
        assert_eq!(o.recovered_at_s, Some(540.0));
    }

    #[test]
    fn an_outage_over_before_the_end_is_not_still_on() {
        // Down from 4 to 6 min, then the SLO holds for the last 4 min of a 10-min run, short of
        // a `stable` of 5 min: the outage is over, its recovery not confirmed.
        let mut r = vec![1.0; 10];
        for x in &mut r[4..6] {
            *x = 0.2;
        }
        let slo = Slo {
            stable_s: 300.0,
            ..slo()
        };
        let o = detect(&series(&r), &slo, 0.0, 600.0);
        assert_eq!(o.recovered, Some(false));
        assert!(!o.down_at_end);
        assert_eq!(o.intervals, vec![[240.0, 360.0]]);
        assert_eq!(o.held_at_end_s, Some(240.0));
        // Still down in the last window: on at the end, nothing held.
        r[9] = 0.1;
        let o = detect(&series(&r), &slo, 0.0, 600.0);
        assert!(o.down_at_end);
        assert_eq!(o.held_at_end_s, None);
    }

    #[test]
    fn never_recovering_is_censored() {
        let mut r = vec![1.0; 10];
        for x in &mut r[4..] {
            *x = 0.2;
        }
        let o = detect(&series(&r), &slo(), 0.0, 600.0);
        assert_eq!(o.recovered, Some(false));
        assert_eq!(o.recovery_time_s, Some(360.0));
        assert!(o.down_at_end && o.held_at_end_s.is_none());
        let healthy = detect(&series(&[1.0; 10]), &slo(), 0.0, 600.0);
        assert!(!healthy.crashed && healthy.recovered.is_none() && healthy.episodes == 0);
    }
}
