//! The queue's size from the data, where they can tell it: open arrivals with requests turned
//! away (429/502/503/504, no connection) and a thread count that is not an assumption
//! (`--threads` or a knee). The requests in progress of each 10 s window (Little's law: the sum
//! of its response times over 10 s) grow with the queue's places: M/M/N/K, at the window's
//! offered rate and the service mean of the windows that turned none away, holds on average
//! fewer when K is smaller. K is the smallest whose model holds, over the windows that turned
//! requests away, as many in progress as the data (pooled, so one window's noise does not
//! decide it). The data tell it when that K also turns away as many as they did (within a
//! factor of 2): refusals that come with a full queue. Otherwise (503s at random, say, or a
//! queue that never filled for long) the queue stays an ASSUMPTION.
//!
//! Not exact for a service that is not exponential (M/M/N/K), nor for windows whose queue was
//! still filling; said as fitted, with how many were turned away in the data and the model.

use serde::{Deserialize, Serialize};

use super::collect::{Grid, WINDOW_S, Window};
use super::spread;

/// Most places tried (a larger queue is not told from none at the data's load).
const MAX_K: u32 = 10_000;

/// The queue fitted to the data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct QueueFit {
    /// Waiting places (the model's `queue`): K less the threads.
    pub places: u32,
    /// Requests turned away in the windows fitted: in the data, and by M/M/N/K there.
    pub turned_away_data: u64,
    pub turned_away_model: f64,
    /// The service mean the fit used (of the windows that turned none away), seconds.
    pub service_mean_s: f64,
}

impl QueueFit {
    /// Why, in words (model.toml's comment and the terminal's line).
    pub(crate) fn why(&self) -> String {
        format!(
            "fitted: M/M/N/K with that many waiting places holds as many requests in progress (Little's law) as the data in the 10 s windows that turned requests away, and turns away {:.0} there against {} in the data",
            self.turned_away_model, self.turned_away_data
        )
    }
}

/// M/M/`c`/`k` at offered load `a` (threads busy on average without a bound): the probability
/// that an arrival is turned away, and the mean number in the system.
fn mmck(c: u32, k: u32, a: f64) -> (f64, f64) {
    // p_n / p_0 state by state, scaled down when large
    let (mut p, mut sum, mut l, mut last) = (1.0_f64, 1.0_f64, 0.0_f64, 1.0_f64);
    for n in 1..=k {
        p *= a / f64::from(n.min(c));
        sum += p;
        l += f64::from(n) * p;
        last = p;
        if sum > 1e200 {
            p /= sum;
            l /= sum;
            last /= sum;
            sum = 1.0;
        }
    }
    (last / sum, l / sum)
}

/// The queue's places, where the data tell them (see the module's doc).
pub(crate) fn fit(windows: &Grid<Window>, threads: u32) -> Option<QueueFit> {
    let cells = &windows.cells;
    let x = |w: &Window| f64::from(w.requests) / WINDOW_S as f64;
    // the service mean of the windows that turned none away and were below 90% busy
    let (mut sum, mut n) = (0.0, 0.0);
    for w in cells.iter().filter(|w| w.refused == 0 && w.timed_ok > 0) {
        let m = w.sum_time_ok / f64::from(w.timed_ok);
        let s = spread::service_mean(threads, x(w), m, 1.0, 1.0);
        if x(w) * s < 0.9 * f64::from(threads) {
            sum += s * f64::from(w.timed_ok);
            n += f64::from(w.timed_ok);
        }
    }
    let s = (n >= 30.0).then_some(sum / n)?;
    let full: Vec<&Window> = cells.iter().filter(|w| w.refused > 0).collect();
    let data_l: f64 = full.iter().map(|w| w.sum_time_all / WINDOW_S as f64).sum();
    let turned_away: u64 = full.iter().map(|w| u64::from(w.refused)).sum();
    if turned_away < 10 || data_l <= f64::from(threads) * full.len() as f64 * 0.5 {
        return None;
    }
    let model = |k: u32| -> (f64, f64) {
        full.iter().fold((0.0, 0.0), |(b, l), w| {
            let (pb, lk) = mmck(threads, k, x(w) * s);
            (b + pb * f64::from(w.requests), l + lk)
        })
    };
    // smallest K whose model holds as many in progress (L grows with K)
    let (mut lo, mut hi) = (threads, threads);
    while model(hi).1 < data_l {
        if hi >= MAX_K {
            return None;
        }
        lo = hi;
        hi = (hi * 2).min(MAX_K);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if model(mid).1 < data_l {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let k = if (model(lo).1 - data_l).abs() < (model(hi).1 - data_l).abs() {
        lo
    } else {
        hi
    };
    let (b, _) = model(k);
    let seen = turned_away as f64;
    (b >= 0.5 * seen && b <= 2.0 * seen).then(|| QueueFit {
        places: k - threads,
        turned_away_data: turned_away,
        turned_away_model: b,
        service_mean_s: s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmck_matches_mm1k_in_closed_form() {
        // M/M/1/3 at a = 0.5: p_n = (1 - a) a^n / (1 - a^4)
        let (b, l) = mmck(1, 3, 0.5);
        let p0 = 0.5 / (1.0 - 0.0625);
        assert!((b - p0 * 0.125).abs() < 1e-12, "{b}");
        assert!(
            (l - p0 * (0.5 + 2.0 * 0.25 + 3.0 * 0.125)).abs() < 1e-12,
            "{l}"
        );
    }
}
