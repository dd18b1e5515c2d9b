//! Axes: the one ticked axis type every chart plots on ([`Scale`]), and how its ticks are
//! chosen: round numbers, grid values, categories, clock times (the timeline), values from zero
//! or on a log scale (the timeline's panels).

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

pub(super) use super::labels::trim_float;
use super::labels::{fit_text, fmt_num, sci};

/// At most this many ticks on a time axis, and about this many on a value axis.
pub(super) const MAX_X_TICKS: usize = 12;
pub(super) const Y_TICKS: usize = 6;

/// The one axis type of every chart: a range, linear or logarithmic, with given ticks and their
/// labels. Values outside the range are clamped to its edges.
#[derive(Clone)]
pub(super) struct Scale {
    pub(super) lo: f64,
    pub(super) hi: f64,
    /// Logarithmic (values at or below zero are drawn at the bottom).
    pub(super) log: bool,
    pub(super) ticks: Vec<(f64, String)>,
}

impl Ranged for Scale {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        if self.log {
            let v = if *value > 0.0 { *value } else { self.lo };
            lin_map(v.ln(), self.lo.ln(), self.hi.ln(), limit)
        } else {
            lin_map(*value, self.lo, self.hi, limit)
        }
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.iter().map(|t| t.0).collect()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Scale {
    fn format_ext(&self, value: &f64) -> String {
        self.ticks
            .iter()
            .find(|t| t.0 == *value)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }
}

/// The range of the finite `values` (a unit around a single value, `0..1` without any), widened
/// by `pad` of its span on both sides.
pub(super) fn padded_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi - lo <= 1e-12 * lo.abs().max(hi.abs()) {
        let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - half, hi + half);
    }
    let span = hi - lo;
    (lo - pad * span, hi + pad * span)
}

/// Round ticks inside `lo..=hi`, at most about `max_ticks`, labelled with a common `k` / `M`.
pub(super) fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo && (hi - lo).is_finite()) {
        return Vec::new();
    }
    let max_ticks = max_ticks.max(1);
    let step = nice_step((hi - lo) / max_ticks as f64);
    let first = (lo / step - 1e-9).ceil();
    let mut values = Vec::new();
    for k in 0..=2 * max_ticks + 2 {
        let t = (first + k as f64) * step;
        if t > hi + 1e-9 * (hi - lo) {
            break;
        }
        values.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
    }
    let max_abs = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if max_abs >= 1e9 || (max_abs > 0.0 && max_abs < 1e-3) {
        let digits = decimals_for(step / 10f64.powf(max_abs.log10().floor())).min(4);
        return values
            .into_iter()
            .map(|v| {
                (
                    v,
                    if v == 0.0 {
                        "0".to_string()
                    } else {
                        sci(v, digits)
                    },
                )
            })
            .collect();
    }
    // Millions from a million on: "8M", never "8000k".
    let (unit, suffix) = if max_abs >= 1e6 {
        (1e6, "M")
    } else if max_abs >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let decimals = decimals_for(step / unit);
    values
        .into_iter()
        .map(|v| {
            let label = if v == 0.0 {
                "0".to_string()
            } else {
                format!("{}{suffix}", trim_float(v / unit, decimals))
            };
            (v, label)
        })
        .collect()
}

/// Keeps, from low to high, the ticks whose labels (`extent` pixels long along an axis `len_px`
/// long) keep `gap` pixels from the last kept one.
pub(super) fn thin_ticks(
    mut ticks: Vec<(f64, String)>,
    (lo, hi): (f64, f64),
    len_px: u32,
    extent: &dyn Fn(&str) -> u32,
    gap: i32,
) -> Vec<(f64, String)> {
    ticks.retain(|t| t.0.is_finite() && t.0 >= lo && t.0 <= hi);
    ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let len = i32::try_from(len_px).unwrap_or(i32::MAX);
    let mut kept = Vec::new();
    let mut last_end = i32::MIN;
    for (v, label) in ticks {
        let c = lin_map(v, lo, hi, (0, len));
        let half = i32::try_from(extent(&label) / 2).unwrap_or(i32::MAX / 4);
        if c - half >= last_end.saturating_add(gap) {
            last_end = c + half;
            kept.push((v, label));
        }
    }
    kept
}

/// Ticks for a numeric parameter axis: the grid values themselves when there are few and their
/// labels fit, else round numbers.
pub(super) fn grid_or_nice_ticks(
    values: &[f64],
    range: (f64, f64),
    len_px: u32,
    extent: &dyn Fn(&str) -> u32,
    gap: i32,
    max_nice: usize,
) -> Vec<(f64, String)> {
    let mut vals: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    vals.sort_by(f64::total_cmp);
    vals.dedup();
    if !vals.is_empty() && vals.len() <= 30 {
        let ticks: Vec<(f64, String)> = vals.iter().map(|&v| (v, fmt_num(v))).collect();
        let distinct = ticks.windows(2).all(|w| w[0].1 != w[1].1);
        let n = ticks.len();
        let kept = thin_ticks(ticks, range, len_px, extent, gap);
        if distinct && kept.len() == n {
            return kept;
        }
    }
    thin_ticks(
        nice_ticks(range.0, range.1, max_nice),
        range,
        len_px,
        extent,
        gap,
    )
}

/// Widest category label along an x axis with `px_per` pixels per category: all labels, cut to
/// their room, when that leaves some text; else longer labels, of which only some are shown.
pub(super) fn category_label_width(px_per: f64) -> u32 {
    let room = px_per - 12.0;
    if room >= 48.0 { room as u32 } else { 120 }
}

/// Category ticks at `positions`, names cut to `max_w` pixels, thinned so that none overlap.
pub(super) fn category_ticks(
    names: &[(f64, String)],
    range: (f64, f64),
    len_px: u32,
    max_w: u32,
    width: &dyn Fn(&str) -> u32,
    extent: &dyn Fn(&str) -> u32,
) -> Vec<(f64, String)> {
    let ticks = names
        .iter()
        .map(|(p, n)| (*p, fit_text(n, max_w, width)))
        .collect();
    thin_ticks(ticks, range, len_px, extent, 10)
}

/// Where `v` of `lo..hi` falls between the pixels `limit` (clamped to the ends).
pub(super) fn lin_map(v: f64, lo: f64, hi: f64, limit: (i32, i32)) -> i32 {
    let f = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
    let f = if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) };
    limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
}

/// Simulated-time axis with ticks on round clock (or elapsed) times. Values outside the range
/// are clamped to its edges.
#[derive(Clone)]
pub(super) struct TimeAxis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) start_clock_s: Option<f64>,
    pub(super) ticks: Vec<f64>,
    /// Add "+Nd" to clock labels (the range spans more than a day).
    pub(super) days: bool,
}

impl TimeAxis {
    pub(super) fn new((lo, hi): (f64, f64), start_clock_s: Option<f64>) -> TimeAxis {
        let (lo, hi) = if (hi - lo).is_finite() {
            (lo, hi)
        } else {
            (0.0, 3600.0)
        };
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let span = hi - lo;
        const STEPS: [f64; 19] = [
            1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
            7200.0, 10800.0, 14400.0, 21600.0, 43200.0, 86400.0,
        ];
        let max_ticks = MAX_X_TICKS as f64;
        let step = STEPS
            .iter()
            .copied()
            .find(|s| span / s <= max_ticks)
            .unwrap_or_else(|| (span / max_ticks / 86400.0).ceil() * 86400.0);
        let offset = start_clock_s.filter(|s| s.is_finite()).unwrap_or(0.0);
        let mut ticks = Vec::new();
        let mut k = ((lo + offset) / step).ceil();
        loop {
            let t = k * step - offset;
            if t > hi + 1e-9 * span || ticks.len() > 4 * MAX_X_TICKS {
                break;
            }
            ticks.push(t);
            k += 1.0;
        }
        TimeAxis {
            lo,
            hi,
            start_clock_s,
            ticks,
            days: span > 86400.0,
        }
    }

    /// The axis to plot on, its ticks labelled.
    pub(super) fn scale(&self) -> Scale {
        Scale {
            lo: self.lo,
            hi: self.hi,
            log: false,
            ticks: self.ticks.iter().map(|&t| (t, self.label(t))).collect(),
        }
    }

    pub(super) fn contains(&self, t: f64) -> bool {
        t >= self.lo && t <= self.hi
    }

    /// Day number of `t` after the clock start's midnight, when days must be told apart.
    pub(super) fn day(&self, t: f64) -> Option<i64> {
        match self.start_clock_s {
            Some(start) if self.days => Some(((t + start) / 86400.0).floor() as i64),
            _ => None,
        }
    }

    /// Tick label: [`clock_label`], plus "+Nd" on the first tick of each later day when the
    /// range spans more than a day.
    pub(super) fn label(&self, t: f64) -> String {
        let base = clock_label(t, self.start_clock_s);
        let Some(day) = self.day(t) else {
            return base;
        };
        let prev = self.ticks.iter().rev().find(|&&p| p < t - 1e-6);
        let first_of_day = prev.is_none_or(|&p| self.day(p) != Some(day));
        if day >= 1 && first_of_day {
            format!("{base} +{day}d")
        } else {
            base
        }
    }

    /// Marker label: [`clock_label`], plus "+Nd" past the first midnight when the range spans
    /// more than a day.
    pub(super) fn event_label(&self, t: f64) -> String {
        let base = clock_label(t, self.start_clock_s);
        match self.day(t) {
            Some(day) if day >= 1 => format!("{base} +{day}d"),
            _ => base,
        }
    }
}

/// Value axis, linear from zero or logarithmic, with its own ticks and labels. Values outside the
/// range are clamped to its edges.
#[derive(Clone)]
pub(super) struct YAxis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) log: bool,
    pub(super) ticks: Vec<f64>,
    /// Linear axes: digits after the point, and the unit labels are divided by (1, 1e3, 1e6).
    pub(super) decimals: usize,
    pub(super) unit: f64,
}

impl YAxis {
    pub(super) fn linear(top: f64) -> YAxis {
        let top = if top.is_finite() && top > 0.0 {
            top
        } else {
            1.0
        };
        let step = nice_step(top / Y_TICKS as f64);
        let n = (top / step * (1.0 + 1e-9)).floor() as usize;
        let hi = top;
        let ticks = (0..=n).map(|i| i as f64 * step).collect();
        let unit = if hi >= 1e6 {
            1e6
        } else if hi >= 1e4 {
            1e3
        } else {
            1.0
        };
        YAxis {
            lo: 0.0,
            hi,
            log: false,
            ticks,
            decimals: decimals_for(step / unit),
            unit,
        }
    }

    pub(super) fn log(lo: f64, hi: f64) -> YAxis {
        let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        let decades = (d0..=d1).map(|d| 10f64.powi(d));
        let inside = |v: &f64| *v >= lo && *v <= hi;
        let mut ticks: Vec<f64> = decades.clone().filter(inside).collect();
        if ticks.len() < 3 {
            ticks = decades
                .flat_map(|d| [d, 2.0 * d, 5.0 * d])
                .filter(inside)
                .collect();
        }
        YAxis {
            lo,
            hi,
            log: true,
            ticks,
            decimals: 0,
            unit: 1.0,
        }
    }

    /// The axis to plot on, its ticks labelled.
    pub(super) fn scale(&self) -> Scale {
        Scale {
            lo: self.lo,
            hi: self.hi,
            log: self.log,
            ticks: self.ticks.iter().map(|&t| (t, self.label(t))).collect(),
        }
    }

    pub(super) fn label(&self, v: f64) -> String {
        if self.log {
            if v >= 1e4 {
                format!("{}k", trim_float(v / 1e3, 0))
            } else {
                let decimals = if v < 1.0 {
                    (-v.log10()).ceil().max(0.0) as usize + 1
                } else {
                    0
                };
                trim_float(v, decimals)
            }
        } else {
            let suffix = match self.unit {
                u if u >= 1e6 => "M",
                u if u >= 1e3 => "k",
                _ => "",
            };
            if v == 0.0 {
                "0".to_string()
            } else {
                format!("{}{suffix}", trim_float(v / self.unit, self.decimals))
            }
        }
    }
}

/// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// Digits after the point needed to print multiples of `step` exactly.
pub(super) fn decimals_for(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6)
}

/// Tick / marker label for simulated time `t_s`.
///
/// With a clock start (seconds after midnight) it is the wall-clock time, `"23:00"`, wrapping past
/// midnight (`"08:30"`), with seconds only when they are not zero (`"23:00:30"`). Without one it
/// is the elapsed time: `"0"`, `"90s"`, `"45m"`, `"4h"`, `"4h30m"`.
pub(crate) fn clock_label(t_s: f64, start_clock_s: Option<f64>) -> String {
    match start_clock_s {
        Some(start) => clock_of_day(t_s + start),
        None => elapsed_label(t_s),
    }
}

pub(super) fn clock_of_day(abs_s: f64) -> String {
    if !abs_s.is_finite() {
        return "?".to_string();
    }
    let secs = (abs_s.round() as i64).rem_euclid(86_400);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

pub(super) fn elapsed_label(t_s: f64) -> String {
    if !t_s.is_finite() {
        return "?".to_string();
    }
    let total = t_s.round() as i64;
    let sign = if total < 0 { "-" } else { "" };
    let s = total.abs();
    if s == 0 {
        return "0".to_string();
    }
    if s < 120 && s % 60 != 0 {
        return format!("{sign}{s}s");
    }
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    let mut out = sign.to_string();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 {
        out.push_str(&format!("{sec}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_labels() {
        let start = Some(18.0 * 3600.0);
        assert_eq!(clock_label(0.0, start), "18:00");
        assert_eq!(clock_label(5.0 * 3600.0, start), "23:00");
        assert_eq!(clock_label(14.5 * 3600.0, start), "08:30");
        assert_eq!(clock_label(30.0, start), "18:00:30");
        assert_eq!(clock_label(0.0, None), "0");
        assert_eq!(clock_label(90.0, None), "90s");
        assert_eq!(clock_label(45.0 * 60.0, None), "45m");
        assert_eq!(clock_label(4.0 * 3600.0, None), "4h");
        assert_eq!(clock_label(4.5 * 3600.0, None), "4h30m");
    }

    #[test]
    fn time_ticks_land_on_round_clock_times() {
        let axis = TimeAxis::new((0.0, 16.0 * 3600.0), Some(18.5 * 3600.0));
        let labels: Vec<String> = axis.ticks.iter().map(|&t| axis.label(t)).collect();
        assert_eq!(labels.first().map(String::as_str), Some("20:00"));
        assert!(labels.iter().all(|l| l.ends_with(":00")), "{labels:?}");
        assert!(labels.len() <= MAX_X_TICKS, "{labels:?}");

        // Longer than a day: the first tick of each later day says which day it is.
        let axis = TimeAxis::new((0.0, 72.0 * 3600.0), Some(22.5 * 3600.0));
        let labels: Vec<String> = axis.ticks.iter().map(|&t| axis.label(t)).collect();
        assert_eq!(labels[..3], ["00:00 +1d", "06:00", "12:00"], "{labels:?}");
        assert!(labels.contains(&"00:00 +2d".to_string()), "{labels:?}");
        assert_eq!(axis.event_label(71.5 * 3600.0), "22:00 +3d");
    }

    #[test]
    fn y_axis_ranges() {
        let flat = YAxis::linear(0.0);
        assert_eq!((flat.lo, flat.hi), (0.0, 1.0));
        let big = YAxis::linear(43_000.0);
        assert_eq!(big.label(big.ticks[1]), "10k");
        // Millions of requests: "5M", not "5000k".
        let m = YAxis::linear(8.5e6);
        let labels: Vec<String> = m.ticks.iter().map(|&t| m.label(t)).collect();
        assert_eq!(labels, ["0", "2M", "4M", "6M", "8M"]);
        let labels: Vec<String> = nice_ticks(0.0, 8.4e6, 4).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0", "2.5M", "5M", "7.5M"]);
        let log = YAxis::log(0.05, 50.0);
        let labels: Vec<String> = log.ticks.iter().map(|&v| log.label(v)).collect();
        assert_eq!(labels, ["0.1", "1", "10"]);
    }
}
