//! Timeline chart of one run (or of the mean over replications), for capacity planners.
//!
//! [`draw_timeline`] draws stacked panels that share one time axis: concurrent users, offered
//! load, request outcomes per second, latency percentiles and one panel per tier (busy threads,
//! queued requests, thread capacity). Outage episodes are shaded in every panel and the crash and
//! recovery moments are marked with labelled vertical lines. The same layout is written as a PNG
//! and as an SVG, each atomically (see [`write_atomically`]).
//!
//! The font (DejaVu Sans) is embedded in the binary and registered with plotters under the
//! family name `sans-serif` ([`register_embedded_font`]), so no system fonts are needed at run
//! time. SVG files name the family `sans-serif`; viewers render them with their own sans font.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::metrics::series::TimeSeries;

/// What [`draw_timeline`] draws: the series plus the episode markers of the run.
pub struct Timeline<'a> {
    /// Chart title, e.g. `"ircc-2016 — seed 2016"`.
    pub title: &'a str,
    pub series: &'a TimeSeries,
    /// Outage episodes `[start_s, end_s)` in simulated seconds; shaded in every panel.
    pub outages: &'a [(f64, f64)],
    /// Moment of the crash, simulated seconds.
    pub crash_time_s: Option<f64>,
    /// Moment of recovery, simulated seconds.
    pub recovered_at_s: Option<f64>,
    /// The SLO's success-rate target and the outage threshold, drawn as levels on the panel of
    /// the window success rate.
    pub slo_lines: Option<(f64, f64)>,
}

/// Font family name the embedded font is registered under (plotters' default family).
const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

const WIDTH: u32 = 1600;
const MIN_HEIGHT: u32 = 1800;
/// Height of the band holding the chart title.
const TITLE_H: u32 = 64;
const BOTTOM_PAD: u32 = 12;
/// Width of the legend column to the right of every panel.
const LEGEND_W: u32 = 250;
/// Room for the y tick labels and the y axis description, the same in every panel so that the
/// plots line up on the shared time axis.
const Y_LABEL_AREA: u32 = 104;
const X_LABEL_AREA: u32 = 34;
/// Horizontal centre of the (rotated) y axis description, pixels from the panel's left edge.
const Y_DESC_X: i32 = 18;
/// Extra room under the bottom panel for the x axis description.
const X_DESC_EXTRA: u32 = 34;
const PANEL_TITLE_H: u32 = 32;
const PLOT_MARGIN_TOP: u32 = 4;
const PLOT_MARGIN_RIGHT: u32 = 18;
/// Smallest height of a full-weight panel, pixels; the image grows when many tiers need it.
const MIN_PANEL_UNIT: f64 = 250.0;
const MAX_X_TICKS: usize = 12;
const Y_TICKS: usize = 6;

pub(super) const TITLE_SIZE: f64 = 28.0;
pub(super) const PANEL_TITLE_SIZE: f64 = 22.0;
pub(super) const TICK_SIZE: f64 = 17.0;
pub(super) const DESC_SIZE: f64 = 18.0;
pub(super) const LEGEND_SIZE: f64 = 18.0;
const EVENT_SIZE: f64 = 16.0;

pub(super) const TEXT: RGBColor = RGBColor(30, 30, 30);
pub(super) const TEXT_DIM: RGBColor = RGBColor(90, 90, 90);
pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(super) const AXIS: RGBColor = RGBColor(120, 120, 120);
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(super) const BROWN: RGBColor = RGBColor(140, 86, 75);
pub(super) const GREEN: RGBColor = RGBColor(44, 160, 44);
pub(super) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(super) const PURPLE: RGBColor = RGBColor(148, 103, 189);
const RED: RGBColor = RGBColor(214, 39, 40);
const P50: RGBColor = RGBColor(107, 174, 214);
const P95: RGBColor = RGBColor(33, 113, 181);
const P99: RGBColor = RGBColor(8, 48, 107);
const CAPACITY: RGBColor = RGBColor(40, 40, 40);
const OUTAGE: RGBAColor = RGBAColor(214, 39, 40, 0.13);
const CRASH: RGBColor = RGBColor(178, 24, 43);
const RECOVERED: RGBColor = RGBColor(27, 120, 55);

/// Registers the embedded DejaVu Sans with plotters under the family `sans-serif`. Idempotent and
/// thread-safe; the draw functions call it themselves.
pub fn register_embedded_font() {
    font_registered();
}

/// Registers the font once and says whether that worked.
fn font_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok())
}

/// Tick / marker label for simulated time `t_s`.
///
/// With a clock start (seconds after midnight) it is the wall-clock time, `"23:00"`, wrapping past
/// midnight (`"08:30"`), with seconds only when they are not zero (`"23:00:30"`). Without one it
/// is the elapsed time: `"0"`, `"90s"`, `"45m"`, `"4h"`, `"4h30m"`.
pub fn clock_label(t_s: f64, start_clock_s: Option<f64>) -> String {
    match start_clock_s {
        Some(start) => clock_of_day(t_s + start),
        None => elapsed_label(t_s),
    }
}

fn clock_of_day(abs_s: f64) -> String {
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

fn elapsed_label(t_s: f64) -> String {
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

/// Runs `draw` on a temporary path in the same directory as `path` and with the same extension
/// (`.timeline.png.tmp-<pid>-<n>.png`, so that plotters picks the right format from it), then
/// renames the temporary file over `path`. If `draw` fails (or panics) the temporary file is
/// removed and `path` is left as it was.
pub fn write_atomically(path: &Path, draw: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let file_name = path
        .file_name()
        .with_context(|| format!("{} does not name a file", path.display()))?
        .to_string_lossy()
        .into_owned();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = format!(".{file_name}.tmp-{}-{n}", std::process::id());
    if let Some(ext) = path.extension() {
        tmp_name.push('.');
        tmp_name.push_str(&ext.to_string_lossy());
    }
    let tmp = TempFile(dir.join(tmp_name));
    draw(&tmp.0).with_context(|| format!("drawing {}", path.display()))?;
    if !tmp.0.is_file() {
        bail!("drawing {} produced no file", path.display());
    }
    std::fs::rename(&tmp.0, path)
        .with_context(|| format!("renaming {} to {}", tmp.0.display(), path.display()))?;
    std::mem::forget(tmp);
    Ok(())
}

/// Removes the file when dropped (unless forgotten).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Draws the timeline of `t` to `png` and to `svg` (same layout, about 1600 x 1800 px; taller
/// when there are many tiers). Each file is written atomically.
pub fn draw_timeline(t: &Timeline, png: &Path, svg: &Path) -> Result<()> {
    if !font_registered() {
        bail!("could not load the embedded chart font");
    }
    let layout = Layout::new(t);
    let size = (WIDTH, layout.height);
    write_atomically(png, |p| {
        let root = BitMapBackend::new(p, size).into_drawing_area();
        render(&root, t, &layout)?;
        root.present()?;
        Ok(())
    })?;
    write_atomically(svg, |p| {
        let root = SVGBackend::new(p, size).into_drawing_area();
        render(&root, t, &layout)?;
        root.present()?;
        Ok(())
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Layout and panel contents
// ---------------------------------------------------------------------------------------------

/// One line of a panel. Non-finite `y` values break the line.
struct Curve {
    label: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    width: u32,
    dashed: bool,
}

struct Panel {
    title: String,
    y_desc: &'static str,
    curves: Vec<Curve>,
    /// Use a log scale when the data spans a wide range.
    log_if_wide: bool,
    /// Relative height.
    weight: f64,
}

struct Layout {
    height: u32,
    x: TimeAxis,
    panels: Vec<Panel>,
    heights: Vec<u32>,
}

impl Layout {
    fn new(t: &Timeline) -> Layout {
        let ts = t.series;
        let bucket = bucket_len(ts);
        let x = TimeAxis::new(time_range(t, bucket), ts.start_clock_s);
        let panels = build_panels(ts, bucket, t.slo_lines);
        let total_w: f64 = panels.iter().map(|p| p.weight).sum();
        let fixed = TITLE_H + BOTTOM_PAD + X_DESC_EXTRA;
        let height = MIN_HEIGHT.max(fixed + (total_w * MIN_PANEL_UNIT).ceil() as u32);
        let unit = f64::from(height - fixed) / total_w;
        let mut heights: Vec<u32> = panels
            .iter()
            .map(|p| (p.weight * unit).floor() as u32)
            .collect();
        // The bottom panel gets the leftover pixels and the room for the x axis description.
        let used: u32 = heights.iter().sum();
        if let Some(last) = heights.last_mut() {
            *last += height - TITLE_H - BOTTOM_PAD - used;
        }
        Layout {
            height,
            x,
            panels,
            heights,
        }
    }
}

fn bucket_len(ts: &TimeSeries) -> f64 {
    if ts.bucket_s.is_finite() && ts.bucket_s > 0.0 {
        return ts.bucket_s;
    }
    if let [a, b, ..] = ts.t_s[..] {
        let d = b - a;
        if d.is_finite() && d > 0.0 {
            return d;
        }
    }
    1.0
}

/// Time range shown: the buckets, or (without data) the markers.
fn time_range(t: &Timeline, bucket: f64) -> (f64, f64) {
    let finite = || t.series.t_s.iter().copied().filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi.is_finite() {
        return (lo, hi + bucket);
    }
    let markers = t
        .outages
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .chain(t.crash_time_s)
        .chain(t.recovered_at_s)
        .filter(|v| v.is_finite());
    let end = markers.fold(0.0_f64, f64::max);
    (0.0, if end > 0.0 { end * 1.05 } else { 3600.0 })
}

/// Points of one column at the bucket midpoints, divided by `div`.
fn column(ts: &TimeSeries, col: &[f64], bucket: f64, div: f64) -> Vec<(f64, f64)> {
    ts.t_s
        .iter()
        .zip(col)
        .map(|(&t, &v)| (t + bucket / 2.0, v / div))
        .collect()
}

/// Step line of a per-bucket value held over each whole bucket.
fn steps(ts: &TimeSeries, col: impl Iterator<Item = f64>, bucket: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for (&t, v) in ts.t_s.iter().zip(col) {
        out.push((t, v));
        out.push((t + bucket, v));
    }
    out
}

fn curve(label: &str, points: Vec<(f64, f64)>, color: RGBColor) -> Curve {
    Curve {
        label: label.to_string(),
        points,
        color,
        width: 2,
        dashed: false,
    }
}

fn build_panels(ts: &TimeSeries, bucket: f64, slo_lines: Option<(f64, f64)>) -> Vec<Panel> {
    let rate = |col: &[f64]| column(ts, col, bucket, bucket);
    let level = |col: &[f64]| column(ts, col, bucket, 1.0);
    let mut retries = curve("retries", rate(&ts.retries), BROWN);
    retries.dashed = true;
    let mut panels = vec![
        Panel {
            title: "Traffic: concurrent users".to_string(),
            y_desc: "users",
            curves: vec![curve("concurrent users", level(&ts.users), BLUE)],
            log_if_wide: false,
            weight: 0.75,
        },
        Panel {
            title: "Offered load: attempts per second (first attempts + retries)".to_string(),
            y_desc: "req/s",
            curves: vec![curve("offered", rate(&ts.offered), BLUE), retries],
            log_if_wide: false,
            weight: 0.75,
        },
        Panel {
            title: "Outcomes per second".to_string(),
            y_desc: "req/s",
            curves: vec![
                curve("succeeded", rate(&ts.succeeded), GREEN),
                curve("rejected", rate(&ts.rejected), ORANGE),
                curve("timed out", rate(&ts.timed_out), PURPLE),
                curve("failed", rate(&ts.failed), RED),
            ],
            log_if_wide: false,
            weight: 1.0,
        },
        Panel {
            title: "Latency of successful requests".to_string(),
            y_desc: "latency (s)",
            curves: vec![
                curve("p50", level(&ts.p50_s), P50),
                curve("p95", level(&ts.p95_s), P95),
                curve("p99", level(&ts.p99_s), P99),
            ],
            log_if_wide: true,
            weight: 1.0,
        },
    ];
    // The success rate the SLO and the outage analysis judge, with their levels.
    let mut success = vec![curve(
        "window success rate",
        level(&ts.window_success_rate),
        GREEN,
    )];
    if let (Some((target, outage)), Some(&t0), Some(&t1)) =
        (slo_lines, ts.t_s.first(), ts.t_s.last())
    {
        for (label, y, color) in [("SLO target", target, BLUE), ("outage below", outage, RED)] {
            let mut c = curve(
                &format!("{label} ({:.1}%)", 100.0 * y),
                vec![(t0, y), (t1 + bucket, y)],
                color,
            );
            c.dashed = true;
            success.push(c);
        }
    }
    panels.push(Panel {
        title: "Success rate over the SLO window ending with each bucket".to_string(),
        y_desc: "success rate",
        curves: success,
        log_if_wide: false,
        weight: 0.75,
    });
    for tier in &ts.tiers {
        let capacity = tier
            .instances_up
            .iter()
            .map(|&n| n * tier.threads_per_instance);
        let mut cap = curve("thread capacity", steps(ts, capacity, bucket), CAPACITY);
        cap.dashed = true;
        panels.push(Panel {
            title: format!("tier {}", tier.name),
            y_desc: "threads / requests",
            curves: vec![
                curve("busy threads", level(&tier.busy_threads), BLUE),
                curve("queued requests", level(&tier.queued), ORANGE),
                cap,
            ],
            log_if_wide: false,
            weight: 1.0,
        });
    }
    panels
}

// ---------------------------------------------------------------------------------------------
// Axes
// ---------------------------------------------------------------------------------------------

pub(super) fn lin_map(v: f64, lo: f64, hi: f64, limit: (i32, i32)) -> i32 {
    let f = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
    let f = if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) };
    limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
}

/// Simulated-time axis with ticks on round clock (or elapsed) times. Values outside the range
/// are clamped to its edges.
#[derive(Clone)]
struct TimeAxis {
    lo: f64,
    hi: f64,
    start_clock_s: Option<f64>,
    ticks: Vec<f64>,
    /// Add "+Nd" to clock labels (the range spans more than a day).
    days: bool,
}

impl TimeAxis {
    fn new((lo, hi): (f64, f64), start_clock_s: Option<f64>) -> TimeAxis {
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

    fn contains(&self, t: f64) -> bool {
        t >= self.lo && t <= self.hi
    }

    /// Day number of `t` after the clock start's midnight, when days must be told apart.
    fn day(&self, t: f64) -> Option<i64> {
        match self.start_clock_s {
            Some(start) if self.days => Some(((t + start) / 86400.0).floor() as i64),
            _ => None,
        }
    }

    /// Tick label: [`clock_label`], plus "+Nd" on the first tick of each later day when the
    /// range spans more than a day.
    fn label(&self, t: f64) -> String {
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
    fn event_label(&self, t: f64) -> String {
        let base = clock_label(t, self.start_clock_s);
        match self.day(t) {
            Some(day) if day >= 1 => format!("{base} +{day}d"),
            _ => base,
        }
    }
}

impl Ranged for TimeAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        lin_map(*value, self.lo, self.hi, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for TimeAxis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

/// Value axis, linear from zero or logarithmic, with its own ticks and labels. Values outside the
/// range are clamped to its edges.
#[derive(Clone)]
struct YAxis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    /// Linear axes: digits after the point, and the unit labels are divided by (1, 1e3, 1e6).
    decimals: usize,
    unit: f64,
}

impl YAxis {
    /// Axis for the finite values of `curves`, at least `[0, 1]`, leaving the top `keep_free`
    /// fraction of the height above the data.
    fn for_curves(curves: &[Curve], log_if_wide: bool, keep_free: f64) -> YAxis {
        let values = || {
            curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.1))
                .filter(|v| v.is_finite())
        };
        let max = values().fold(0.0_f64, f64::max);
        let min_pos = values().filter(|&v| v > 0.0).fold(f64::INFINITY, f64::min);
        let stretch = 1.0 / (1.0 - keep_free.clamp(0.0, 0.9));
        if log_if_wide && min_pos.is_finite() && max / min_pos >= 20.0 {
            let lo = min_pos / 1.5;
            let top = max * 1.3;
            YAxis::log(lo, lo * (top / lo).powf(stretch))
        } else {
            YAxis::linear(max * 1.05 * stretch)
        }
    }

    fn linear(top: f64) -> YAxis {
        let top = if top.is_finite() && top > 0.0 {
            top
        } else {
            1.0
        };
        let step = nice_step(top / Y_TICKS as f64);
        let n = (top / step * (1.0 + 1e-9)).floor() as usize;
        let hi = top;
        let ticks = (0..=n).map(|i| i as f64 * step).collect();
        let unit = if hi >= 1e7 {
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

    fn log(lo: f64, hi: f64) -> YAxis {
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

    fn label(&self, v: f64) -> String {
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

impl Ranged for YAxis {
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
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for YAxis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
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

/// `v` with at most `decimals` digits after the point, trailing zeros removed.
pub(super) fn trim_float(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

pub(super) fn style<'a>(size: f64, color: &'a RGBColor) -> TextStyle<'a> {
    TextStyle::from((FONT, size).into_font()).color(color)
}

fn render<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Timeline,
    layout: &Layout,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (title_area, mut rest) = root.split_vertically(TITLE_H);
    let centre = (TITLE_H / 2) as i32;
    title_area.draw(&Text::new(
        t.title.to_string(),
        (Y_LABEL_AREA as i32, centre),
        style(TITLE_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    if !t.series.is_empty() {
        let note = format!(
            "{} buckets · rates per second",
            elapsed_label(bucket_len(t.series))
        );
        title_area.draw(&Text::new(
            note,
            ((WIDTH - LEGEND_W - PLOT_MARGIN_RIGHT) as i32, centre),
            style(TICK_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }

    let events: Vec<Event> = [
        t.crash_time_s.map(|s| Event {
            t: s,
            label: format!("crash {}", layout.x.event_label(s)),
            color: CRASH,
        }),
        t.recovered_at_s.map(|s| Event {
            t: s,
            label: format!("recovered {}", layout.x.event_label(s)),
            color: RECOVERED,
        }),
    ]
    .into_iter()
    .flatten()
    .filter(|e| e.t.is_finite() && layout.x.contains(e.t))
    .collect();
    let outages: Vec<(f64, f64)> = t
        .outages
        .iter()
        .filter(|(a, b)| a.is_finite() && b.is_finite() && b > a)
        .filter(|(a, b)| *b > layout.x.lo && *a < layout.x.hi)
        .map(|&(a, b)| (a.max(layout.x.lo), b.min(layout.x.hi)))
        .collect();
    let x_desc = if t.series.start_clock_s.is_some() {
        "time (clock)"
    } else {
        "time since start"
    };

    let last = layout.panels.len().saturating_sub(1);
    for (i, (panel, &h)) in layout.panels.iter().zip(&layout.heights).enumerate() {
        let (area, below) = rest.split_vertically(h);
        let ctx = PanelCtx {
            x: &layout.x,
            outages: &outages,
            events: &events,
            x_desc: (i == last).then_some(x_desc),
        };
        draw_panel(&area, panel, &ctx)?;
        rest = below;
    }
    Ok(())
}

struct Event {
    t: f64,
    label: String,
    color: RGBColor,
}

/// A marker label's box, pixels relative to the plot's top left corner.
struct LabelBox {
    x0: i32,
    y0: i32,
    w: i32,
    h: i32,
    text: String,
    color: RGBColor,
}

/// Puts each marker label at the top of the plot, to the right of its line where it fits (else to
/// the left), a row lower when it would overlap an earlier label.
fn place_event_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    events: &[Event],
    x: &TimeAxis,
    plot_w: u32,
) -> Result<Vec<LabelBox>>
where
    DB::ErrorType: 'static,
{
    let plot_w = plot_w as i32;
    let mut placed: Vec<LabelBox> = Vec::new();
    for e in events {
        let (tw, th) = area.estimate_text_size(&e.label, &style(EVENT_SIZE, &e.color))?;
        let (w, h) = (tw as i32 + 12, th as i32 + 8);
        let lx = x.map(&e.t, (0, plot_w));
        let x0 = if lx + 4 + w <= plot_w {
            lx + 4
        } else {
            (lx - 4 - w).max(0)
        };
        let mut y0 = 5;
        while placed
            .iter()
            .any(|b| x0 < b.x0 + b.w && b.x0 < x0 + w && y0 < b.y0 + b.h && b.y0 < y0 + h)
        {
            y0 += h + 4;
        }
        placed.push(LabelBox {
            x0,
            y0,
            w,
            h,
            text: e.label.clone(),
            color: e.color,
        });
    }
    Ok(placed)
}

struct PanelCtx<'a> {
    x: &'a TimeAxis,
    outages: &'a [(f64, f64)],
    events: &'a [Event],
    /// Set for the bottom panel only.
    x_desc: Option<&'a str>,
}

enum Glyph {
    Line(RGBColor, u32, bool),
    Area,
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    ctx: &PanelCtx,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (chart_area, legend_area) = area.split_horizontally(WIDTH - LEGEND_W);
    let (title_area, body) = chart_area.split_vertically(PANEL_TITLE_H);
    title_area.draw(&Text::new(
        panel.title.clone(),
        (Y_LABEL_AREA as i32, (PANEL_TITLE_H / 2 + 2) as i32),
        style(PANEL_TITLE_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;

    let x_area = X_LABEL_AREA
        + if ctx.x_desc.is_some() {
            X_DESC_EXTRA
        } else {
            0
        };
    let (body_w, body_h) = body.dim_in_pixel();
    let plot_w = body_w
        .saturating_sub(Y_LABEL_AREA + PLOT_MARGIN_RIGHT)
        .max(1);
    let plot_h = body_h.saturating_sub(PLOT_MARGIN_TOP + x_area).max(1);
    // Marker labels go in a band at the top of the plot; the y range keeps that band free of
    // data so that the labels never hide a line.
    let labels = place_event_labels(&body, ctx.events, ctx.x, plot_w)?;
    let band = labels.iter().map(|l| l.y0 + l.h + 4).max().unwrap_or(0);
    let keep_free = (f64::from(band) / f64::from(plot_h)).min(0.5);
    let y = YAxis::for_curves(&panel.curves, panel.log_if_wide, keep_free);
    let mut chart = ChartBuilder::on(&body)
        .margin_top(PLOT_MARGIN_TOP)
        .margin_right(PLOT_MARGIN_RIGHT)
        .x_label_area_size(x_area)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(ctx.x.clone(), y.clone())?;

    let mut mesh = chart.configure_mesh();
    mesh.x_labels(4 * MAX_X_TICKS)
        .y_labels(4 * Y_TICKS)
        .x_label_style(style(TICK_SIZE, &TEXT))
        .y_label_style(style(TICK_SIZE, &TEXT))
        .axis_desc_style(style(DESC_SIZE, &TEXT))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS);
    if let Some(desc) = ctx.x_desc {
        mesh.x_desc(desc);
    }
    mesh.draw()?;

    // The y axis description, drawn here rather than by the mesh so that it sits at a known
    // place in the label area (centred on the plot height).
    let (_, plot_rows) = chart.plotting_area().get_pixel_range();
    let cy = (plot_rows.start + plot_rows.end) / 2 - chart_area.get_base_pixel().1;
    chart_area.draw(&Text::new(
        panel.y_desc,
        (Y_DESC_X, cy),
        style(DESC_SIZE, &TEXT)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;

    chart.draw_series(
        ctx.outages
            .iter()
            .map(|&(a, b)| Rectangle::new([(a, y.lo), (b, y.hi)], OUTAGE.filled())),
    )?;

    let mut any_data = false;
    for c in &panel.curves {
        let line_style = c.color.stroke_width(c.width);
        for seg in c.points.split(|p| !(p.0.is_finite() && p.1.is_finite())) {
            match seg {
                [] => {}
                [p] => {
                    any_data = true;
                    chart.draw_series(std::iter::once(Circle::new(*p, 2, c.color.filled())))?;
                }
                _ if c.dashed => {
                    any_data = true;
                    chart.draw_series(DashedLineSeries::new(
                        seg.iter().copied(),
                        8,
                        6,
                        line_style,
                    ))?;
                }
                _ => {
                    any_data = true;
                    chart.draw_series(LineSeries::new(seg.iter().copied(), line_style))?;
                }
            }
        }
    }

    let plot = chart.plotting_area().strip_coord_spec();
    let (pw, ph) = plot.dim_in_pixel();
    if !any_data {
        plot.draw(&Text::new(
            "no data",
            ((pw / 2) as i32, (ph / 2) as i32),
            style(DESC_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }

    // Crash / recovery markers: a vertical line and its boxed label.
    for e in ctx.events {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(e.t, y.lo), (e.t, y.hi)],
            e.color.stroke_width(2),
        )))?;
    }
    for l in &labels {
        let corners = [(l.x0, l.y0), (l.x0 + l.w, l.y0 + l.h)];
        plot.draw(&Rectangle::new(corners, WHITE.mix(0.9).filled()))?;
        plot.draw(&Rectangle::new(corners, l.color.stroke_width(1)))?;
        plot.draw(&Text::new(
            l.text.clone(),
            (l.x0 + 6, l.y0 + l.h / 2),
            style(EVENT_SIZE, &l.color).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }

    // Legend, in its own column to the right of the plot.
    let mut entries: Vec<(&str, Glyph)> = panel
        .curves
        .iter()
        .map(|c| (c.label.as_str(), Glyph::Line(c.color, c.width, c.dashed)))
        .collect();
    if !ctx.outages.is_empty() {
        entries.push(("outage", Glyph::Area));
    }
    let row_h = 26;
    let top = (PANEL_TITLE_H + PLOT_MARGIN_TOP) as i32 + 14;
    let (gx0, gx1) = (8, 44);
    for (i, (label, glyph)) in entries.iter().enumerate() {
        let cy = top + i as i32 * row_h;
        match *glyph {
            Glyph::Line(color, width, false) => legend_area.draw(&PathElement::new(
                vec![(gx0, cy), (gx1, cy)],
                color.stroke_width(width + 1),
            ))?,
            Glyph::Line(color, width, true) => legend_area.draw(&DashedPathElement::new(
                vec![(gx0, cy), (gx1, cy)],
                8,
                6,
                color.stroke_width(width + 1),
            ))?,
            Glyph::Area => {
                legend_area.draw(&Rectangle::new(
                    [(gx0, cy - 8), (gx1, cy + 8)],
                    OUTAGE.filled(),
                ))?;
                legend_area.draw(&Rectangle::new(
                    [(gx0, cy - 8), (gx1, cy + 8)],
                    RED.mix(0.5).stroke_width(1),
                ))?;
            }
        }
        legend_area.draw(&Text::new(
            label.to_string(),
            (gx1 + 10, cy),
            style(LEGEND_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::series::TierSeries;

    /// 16 h of 1-minute buckets from 18:00: a surge peaking around 23:00, an outage from 5 h to
    /// 14 h (crash at 5 h, recovered at 14 h), two tiers, and NaN latencies while nothing succeeds.
    fn synthetic() -> TimeSeries {
        let bucket = 60.0;
        let n = 16 * 60;
        let mut ts = TimeSeries {
            bucket_s: bucket,
            start_clock_s: Some(18.0 * 3600.0),
            ..TimeSeries::default()
        };
        let mut web = TierSeries {
            name: "web".to_string(),
            threads_per_instance: 200.0,
            ..TierSeries::default()
        };
        let mut db = TierSeries {
            name: "db".to_string(),
            threads_per_instance: 50.0,
            ..TierSeries::default()
        };
        for i in 0..n {
            let t = i as f64 * bucket;
            let h = t / 3600.0;
            let surge = (-((h - 5.0) / 2.0).powi(2)).exp();
            let users = 3000.0 + 40000.0 * surge;
            let outage = (5.0..14.0).contains(&h);
            let dead = (6.0..9.0).contains(&h);
            let first = users * 0.02 * bucket;
            let retries = if outage { first * 0.8 } else { first * 0.02 };
            let offered = first + retries;
            let (ok, rej, tout, fail) = if dead {
                (0.0, offered * 0.5, offered * 0.3, offered * 0.2)
            } else if outage {
                (offered * 0.3, offered * 0.4, offered * 0.2, offered * 0.1)
            } else {
                (offered * 0.99, 0.0, offered * 0.005, offered * 0.005)
            };
            ts.t_s.push(t);
            ts.users.push(users);
            ts.offered.push(offered);
            ts.first_attempts.push(first);
            ts.retries.push(retries);
            ts.succeeded.push(ok);
            ts.rejected.push(rej);
            ts.timed_out.push(tout);
            ts.failed.push(fail);
            let base = if outage { 4.0 } else { 0.08 + 0.3 * surge };
            let lat = |m: f64| if dead { f64::NAN } else { base * m };
            ts.p50_s.push(lat(1.0));
            ts.p95_s.push(lat(3.0));
            ts.p99_s.push(lat(6.0));
            ts.window_success_rate
                .push(if dead { f64::NAN } else { 0.9 });
            ts.window_p95_s.push(lat(3.0));
            let web_up = if dead {
                0.0
            } else if outage {
                2.0
            } else {
                4.0
            };
            web.instances_up.push(web_up);
            web.busy_threads
                .push((users * 0.02).min(web_up * 200.0) * if outage { 1.0 } else { 0.9 });
            web.queued.push(if outage && !dead { 1500.0 } else { 0.0 });
            web.memory_max_bytes.push(1e9);
            db.instances_up.push(2.0);
            db.busy_threads.push((users * 0.002).min(100.0));
            db.queued.push(if outage { 30.0 } else { 0.0 });
            db.memory_max_bytes.push(2e9);
        }
        ts.tiers = vec![web, db];
        ts
    }

    fn size_of(p: &Path) -> u64 {
        std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
    }

    #[test]
    fn draws_synthetic_timeline() {
        let ts = synthetic();
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("timeline.png");
        let svg = dir.path().join("timeline.svg");
        let t = Timeline {
            title: "synthetic surge — seed 1",
            series: &ts,
            outages: &[(5.0 * 3600.0, 14.0 * 3600.0)],
            crash_time_s: Some(5.0 * 3600.0),
            recovered_at_s: Some(14.0 * 3600.0),
            slo_lines: None,
        };
        draw_timeline(&t, &png, &svg).unwrap();
        assert!(size_of(&png) > 50_000, "png is {} bytes", size_of(&png));
        assert!(size_of(&svg) > 50_000, "svg is {} bytes", size_of(&svg));
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(svg_text.contains("crash 23:00"));
        assert!(svg_text.contains("recovered 08:00"));
        assert!(svg_text.contains("tier web"));
        // No temporary files left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // For eyeballing: SURGE_CHART_SAMPLE=/some/dir/sample-timeline.png cargo test keeps a
        // copy of the PNG there and of the SVG next to it.
        if let Some(keep) = std::env::var_os("SURGE_CHART_SAMPLE") {
            let keep = PathBuf::from(keep);
            std::fs::copy(&png, &keep).unwrap();
            std::fs::copy(&svg, keep.with_extension("svg")).unwrap();
        }
    }

    #[test]
    fn draws_degenerate_series_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        // Empty, elapsed time.
        let empty = TimeSeries::default();
        let t = Timeline {
            title: "empty",
            series: &empty,
            outages: &[],
            crash_time_s: None,
            recovered_at_s: None,
            slo_lines: None,
        };
        draw_timeline(&t, &dir.path().join("a.png"), &dir.path().join("a.svg")).unwrap();

        // All-zero and all-NaN columns, ragged lengths, markers out of range, no bucket length.
        let mut ts = TimeSeries {
            t_s: (0..50).map(|i| f64::from(i) * 10.0).collect(),
            users: vec![0.0; 50],
            offered: vec![0.0; 50],
            succeeded: vec![0.0; 20],
            p50_s: vec![f64::NAN; 50],
            p95_s: vec![f64::NAN; 50],
            p99_s: vec![f64::INFINITY; 50],
            ..TimeSeries::default()
        };
        ts.tiers.push(TierSeries {
            name: "only".to_string(),
            threads_per_instance: f64::NAN,
            instances_up: vec![1.0; 50],
            ..TierSeries::default()
        });
        let t = Timeline {
            title: "degenerate",
            series: &ts,
            outages: &[(-100.0, 50.0), (400.0, 1e9), (f64::NAN, 3.0), (30.0, 10.0)],
            crash_time_s: Some(-5.0),
            recovered_at_s: Some(f64::NAN),
            slo_lines: None,
        };
        draw_timeline(&t, &dir.path().join("b.png"), &dir.path().join("b.svg")).unwrap();
        assert!(size_of(&dir.path().join("b.png")) > 1000);
    }

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
        let log = YAxis::log(0.05, 50.0);
        let labels: Vec<String> = log.ticks.iter().map(|&v| log.label(v)).collect();
        assert_eq!(labels, ["0.1", "1", "10"]);
    }

    #[test]
    fn write_atomically_keeps_target_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.png");
        std::fs::write(&target, b"old").unwrap();
        let err = write_atomically(&target, |p| {
            assert_eq!(p.extension().unwrap(), "png");
            std::fs::write(p, b"partial")?;
            bail!("boom")
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        write_atomically(&target, |p| Ok(std::fs::write(p, b"new")?)).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
