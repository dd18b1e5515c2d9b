//! The surge the data already hold, measured so that `--bucket` does not change it: the busiest
//! window of a fixed length (sliding in whole seconds) over the median rate of the disjoint
//! windows of that length, with the standard error of the busiest window's count and the factor
//! that chance alone would show on a flat rate over as many windows. Both start from Poisson
//! counts and are scaled by the dispersion the data show: real traffic comes in clumps (a page
//! and its assets, a session's pages), so its window counts vary more than Poisson ones (18x
//! the mean off-peak on a day of sessions), and the Poisson error alone would be far too small.
//! The dispersion is the variance of the disjoint window counts over their median, the variance
//! taken from the median of the squared differences of neighbouring windows, so that neither
//! the surge nor a slow daily swing inflates it; never below 1 (Poisson).
//!
//! The window is the shortest of 10 s, 30 s, 1 min, 5 min, 15 min and 1 h that holds at least
//! [`MIN_COUNT`] requests at the data's mean rate (so that one window's Poisson noise is at most
//! 10%), as long as the data hold at least [`MIN_WINDOWS`] of it (else the longest that they
//! hold that many times). Busiest buckets over the median bucket would depend on the bucket:
//! short buckets read noise as surge (11x on a log whose real surge is 5x), long ones flatten it.
//!
//! It reads the requests per second; the buckets and profile are `arrivals`'.

use serde::{Deserialize, Serialize};

use super::collect::Grid;

/// Window lengths tried, seconds.
const WINDOWS: [u32; 6] = [10, 30, 60, 300, 900, 3600];
/// Requests a window should hold at the mean rate.
pub(crate) const MIN_COUNT: f64 = 100.0;
/// Fewest disjoint windows in the data.
pub(crate) const MIN_WINDOWS: f64 = 10.0;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Surge {
    /// The busiest window's rate over the base.
    pub factor: f64,
    /// Its standard error (the noise of the busiest window's count: Poisson, times the
    /// square root of `dispersion`).
    pub se: f64,
    /// The variance of the window counts over their mean, as the data show it (1: Poisson).
    #[serde(default = "poisson")]
    pub dispersion: f64,
    /// The window's length, seconds.
    pub window_s: f64,
    /// Requests a second in the busiest window (sliding in whole seconds).
    pub peak_rate_per_s: f64,
    /// Seconds from the first arrival's second to the start of the busiest window.
    pub peak_at_s: f64,
    /// The base: the median rate of the disjoint windows wholly inside the data.
    pub base_rate_per_s: f64,
    /// Disjoint windows the base is the median of.
    pub windows: usize,
    /// The factor that Poisson noise alone would give the busiest of that many windows on a
    /// flat rate at the base (1 + sqrt(2 ln windows) x sqrt(dispersion / base count)).
    pub chance_factor: f64,
}

fn poisson() -> f64 {
    1.0
}

impl Surge {
    /// "a 4.80x surge (busiest 5 min over the median 5 min, +- 0.21; chance alone would show 1.35x)".
    pub(crate) fn phrase(&self) -> String {
        let w = crate::fmt::exact_duration(self.window_s);
        let clumps = if self.dispersion > 1.05 {
            format!(
                "; the window counts vary {:.1}x as much as Poisson ones (requests come in clumps: pages, assets, sessions), and both figures allow for it",
                self.dispersion
            )
        } else {
            String::new()
        };
        format!(
            "a {:.2}x surge (busiest {w} window over the median {w}, +- {:.2} s.e.; on a flat rate chance alone would show {:.2}x{clumps})",
            self.factor, self.se, self.chance_factor
        )
    }
}

/// What the terminal, model.toml and the report say of the surge: its phrase, or why none.
pub(crate) fn said(s: Option<&Surge>) -> String {
    match s {
        Some(s) => format!("the data hold {}", s.phrase()),
        None => format!(
            "the data are too short to measure a surge (fewer than {MIN_WINDOWS:.0} windows of {} s)",
            WINDOWS[0]
        ),
    }
}

/// The window length for `span_s` seconds of data at `mean_rate` requests a second, or None
/// when the data hold fewer than [`MIN_WINDOWS`] of the shortest.
fn window_for(span_s: f64, mean_rate: f64) -> Option<u32> {
    let fits = |w: &&u32| span_s / f64::from(**w) >= MIN_WINDOWS;
    WINDOWS
        .iter()
        .find(|w| mean_rate * f64::from(**w) >= MIN_COUNT && fits(w))
        .or_else(|| WINDOWS.iter().rev().find(fits))
        .copied()
}

/// The surge of the requests per second in `per_second` over the whole seconds from
/// `first_s`'s to `last_s`'s; None when the data are shorter than ten windows of 10 s.
pub(crate) fn measure(per_second: &Grid<u32>, first_s: f64, last_s: f64) -> Option<Surge> {
    let origin = first_s.floor() as i64;
    let span = (last_s.floor() as i64 - origin + 1).max(1) as usize;
    let count = |k: usize| -> u64 {
        let i = origin + k as i64 - per_second.origin;
        usize::try_from(i)
            .ok()
            .and_then(|i| per_second.cells.get(i))
            .map_or(0, |&c| u64::from(c))
    };
    let total: u64 = (0..span).map(count).sum();
    let w = window_for(span as f64, total as f64 / span as f64)? as usize;
    // sliding: the busiest window of w whole seconds inside the span
    let mut sum: u64 = (0..w).map(count).sum();
    let (mut peak, mut peak_at) = (sum, 0);
    for s in 1..=span - w {
        sum = sum + count(s + w - 1) - count(s - 1);
        if sum > peak {
            (peak, peak_at) = (sum, s);
        }
    }
    let in_order: Vec<u64> = (0..span / w)
        .map(|k| (k * w..(k + 1) * w).map(count).sum())
        .collect();
    let mut disjoint = in_order.clone();
    disjoint.sort_unstable();
    let n = disjoint.len();
    let median = if n % 2 == 1 {
        disjoint[n / 2] as f64
    } else {
        0.5 * (disjoint[n / 2 - 1] + disjoint[n / 2]) as f64
    };
    let base = if median > 0.0 {
        median
    } else {
        total as f64 * w as f64 / span as f64
    };
    let factor = peak as f64 / base;
    let d = dispersion(&in_order, base);
    Some(Surge {
        factor,
        se: factor * (d / peak.max(1) as f64).sqrt(),
        dispersion: d,
        window_s: w as f64,
        peak_rate_per_s: peak as f64 / w as f64,
        peak_at_s: peak_at as f64,
        base_rate_per_s: base / w as f64,
        windows: n,
        chance_factor: 1.0 + (2.0 * (n as f64).ln()).sqrt() * (d / base).sqrt(),
    })
}

/// The variance of the window counts `in_order` over `base` (their median), at least 1: the
/// variance from the median of the squared differences of neighbours (a difference of two
/// normal counts has twice their variance, and its square over that a chi-square of one degree,
/// whose median is 0.455), which the few windows at the edges of a surge do not move.
fn dispersion(in_order: &[u64], base: f64) -> f64 {
    let mut sq: Vec<f64> = in_order
        .windows(2)
        .map(|p| (p[1] as f64 - p[0] as f64).powi(2))
        .collect();
    if sq.len() < 3 || base <= 0.0 {
        return 1.0;
    }
    sq.sort_by(f64::total_cmp);
    let median = sq[sq.len() / 2];
    (median / (2.0 * 0.4549) / base).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_holds_a_hundred_requests_and_ten_fit_in_the_data() {
        assert_eq!(window_for(86_400.0, 50.0), Some(10));
        assert_eq!(window_for(86_400.0, 0.5), Some(300));
        assert_eq!(window_for(86_400.0, 0.001), Some(3600));
        // an hour at 0.1/s: 15 min would hold 90, but only 4 fit; 5 min is the longest with 10
        assert_eq!(window_for(3600.0, 0.1), Some(300));
        assert_eq!(window_for(99.0, 100.0), None);
    }

    #[test]
    fn a_step_surge_is_measured_over_the_window() {
        let mut g = Grid::<u32>::default();
        // 2 hours at 2/s with 10 minutes at 8/s from t = 3000 s
        for s in 0..7200 {
            let c = if (3000..3600).contains(&s) { 8 } else { 2 };
            *g.cell(1000 + s, 10_000).unwrap() = c;
        }
        let m = measure(&g, 1000.5, 8199.5).unwrap();
        assert_eq!(m.window_s, 60.0);
        assert_eq!(m.factor, 4.0);
        assert_eq!(m.peak_rate_per_s, 8.0);
        assert_eq!(m.base_rate_per_s, 2.0);
        assert_eq!(m.peak_at_s, 3000.0);
        assert_eq!(m.windows, 120);
        assert!((m.se - 4.0 / 480f64.sqrt()).abs() < 1e-12);
        assert_eq!(m.dispersion, 1.0);
        assert!(m.phrase().starts_with(
            "a 4.00x surge (busiest 1 min window over the median 1 min, +- 0.18 s.e.;"
        ));
    }

    #[test]
    fn clumped_counts_widen_the_error_and_the_chance() {
        // 2 hours of 1 min windows alternating 100 and 140 with a 480 minute in place of a 100
        // (the median is 140; neighbours 40 apart: 1600 / 2 / 0.4549 / 140 = 12.6x Poisson)
        let mut g = Grid::<u32>::default();
        for s in 0..7200 {
            let minute = s / 60;
            let per_min: i64 = if minute == 60 {
                480
            } else if minute % 2 == 0 {
                100
            } else {
                140
            };
            let count = per_min / 60 + i64::from(s % 60 < per_min % 60);
            *g.cell(s, 10_000).unwrap() = count as u32;
        }
        let m = measure(&g, 0.5, 7199.5).unwrap();
        assert_eq!(m.window_s, 60.0);
        let d = 1600.0 / (2.0 * 0.4549) / 140.0;
        assert!((m.dispersion - d).abs() < 1e-9, "{}", m.dispersion);
        assert!((m.se - m.factor * (d / 480.0).sqrt()).abs() < 1e-12);
        let n = m.windows as f64;
        assert!(
            (m.chance_factor - (1.0 + (2.0 * n.ln()).sqrt() * (d / 140.0).sqrt())).abs() < 1e-12
        );
        assert!(
            m.phrase().contains("vary 12.6x as much as Poisson ones"),
            "{}",
            m.phrase()
        );
    }
}
