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
    pub downtime_s: f64,
    pub episodes: u32,
    /// Each episode as [start_s, end_s).
    pub intervals: Vec<[f64; 2]>,
    /// The moment of recovery, seconds.
    pub recovered_at_s: Option<f64>,
}

/// Analyse a time series. `window_buckets` is the window length in buckets; windows that end
/// before `warmup_s` are ignored.
pub fn detect(series: &TimeSeries, slo: &Slo, warmup_s: f64, duration_s: f64) -> Outage {
    let b = series.bucket_s;
    let k = ((slo.window_s / b).round() as usize).max(1);
    let n = series.len();
    // Centre of the window ending with bucket i (partial at the start: it covers buckets 0..=i).
    let centre = |i: usize| {
        let covered = (i + 1).min(k) as f64;
        (i + 1) as f64 * b - covered * b / 2.0
    };
    let first = super::slo::first_measured(series, warmup_s);
    let down = |i: usize| series.window_success_rate[i] < slo.outage_below;
    let holds = |i: usize| super::slo::window_meets(series, slo, i);
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
    fn never_recovering_is_censored() {
        let mut r = vec![1.0; 10];
        for x in &mut r[4..] {
            *x = 0.2;
        }
        let o = detect(&series(&r), &slo(), 0.0, 600.0);
        assert_eq!(o.recovered, Some(false));
        assert_eq!(o.recovery_time_s, Some(360.0));
        let healthy = detect(&series(&[1.0; 10]), &slo(), 0.0, 600.0);
        assert!(!healthy.crashed && healthy.recovered.is_none() && healthy.episodes == 0);
    }
}
