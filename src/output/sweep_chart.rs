//! Charts of parameter sweeps, for capacity planners: how the outcome of a scenario changes when
//! one or two model parameters are varied, and where the site crashes.
//!
//! * [`draw_sweep`]: stacked panels sharing the varied parameter as x axis, one per metric, each
//!   the mean over replications (line with markers) with 95% confidence whiskers.
//! * [`draw_heatmap`]: two varied parameters; the outage probability as a white→red heatmap with
//!   a colour bar, and the crash boundary (outage probability 0.5) as a thick dark contour.
//! * [`draw_crashpoint`]: the tries of a crash-point search with their Wilson intervals, the
//!   crash point with its 95% interval, the p10 / p90 points and the 0.5 level.
//!
//! The look follows [`super::chart`]: the embedded DejaVu Sans
//! ([`super::chart::register_embedded_font`]), the same colours and font sizes, and a legend
//! column to the right of the plots. Each chart is written as a PNG and as an SVG of the same
//! layout, each atomically ([`super::chart::write_atomically`]). Odd data (empty vectors, NaN, a
//! single point, equal values, ragged lengths) draws a sparse or empty chart; it never panics.
//!
//! Values in seconds are shown in minutes when the largest exceeds 2 minutes and in hours when it
//! exceeds 2 hours, with the unit in the axis description (`"recovery time (h)"`).

use std::ops::Range;
use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{
    AXIS, BLUE, BROWN, DESC_SIZE, GREEN, GRID, LEGEND_SIZE, ORANGE, PANEL_TITLE_SIZE, PURPLE, TEXT,
    TEXT_DIM, TICK_SIZE, TITLE_SIZE, decimals_for, lin_map, nice_step, register_embedded_font,
    style, trim_float, write_atomically,
};

/// One metric against the varied parameter: mean and 95% half-width at each point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricSeries {
    /// What is measured, e.g. `"recovery time"`.
    pub label: String,
    /// Unit of `mean` and `ci95`, e.g. `"s"`, `"req/s"`; empty for none. Seconds (and
    /// milliseconds) are shown in larger units when the values are large.
    pub unit: String,
    /// Mean over replications at each point of the varied parameter; NaN for no value.
    pub mean: Vec<f64>,
    /// Half-width of the 95% confidence interval of `mean`; NaN (or 0) for no whisker.
    pub ci95: Vec<f64>,
    /// The values are probabilities or shares: drawn on a fixed 0..1 axis.
    pub probability: bool,
    /// What the mean at each point leaves out, written beside it (empty: nothing), e.g.
    /// "not recovered in 1 of 4".
    pub notes: Vec<String>,
    /// The mean at each point is only a lower bound (drawn as "≥", an upward triangle).
    pub at_least: Vec<bool>,
}

/// The varied parameter: numeric values, or categories (then `x` is 0..n and `labels` names them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Axis {
    /// Parameter name, shown as the axis description, e.g. `"tier.web.instances"`.
    pub name: String,
    pub x: Vec<f64>,
    pub labels: Option<Vec<String>>,
}

/// One tried value of a crash-point search: `outages` of `reps` replications had an outage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrashTry {
    pub value: f64,
    pub reps: u32,
    pub outages: u32,
}

// ---------------------------------------------------------------------------------------------
// Look (the same as `chart.rs`)
// ---------------------------------------------------------------------------------------------

const WIDTH: u32 = 1400;
/// Height of the heatmap and crash-point charts.
const FIG_H: u32 = 960;
const TITLE_H: u32 = 64;
const BOTTOM_PAD: u32 = 12;
/// Legend column of the sweep panels.
const LEGEND_W: u32 = 250;
/// Legend column (and colour bar) of the heatmap and crash-point charts.
const WIDE_LEGEND_W: u32 = 300;
const Y_LABEL_AREA: u32 = 104;
/// Widest y label area (long category names on the heatmap's y axis).
const MAX_Y_LABEL_AREA: u32 = 330;
const X_LABEL_AREA: u32 = 34;
const X_DESC_EXTRA: u32 = 34;
/// Horizontal centre of the (rotated) y axis description, pixels from the left edge.
const Y_DESC_X: i32 = 18;
/// Height of one sweep panel, its title included.
const PANEL_H: u32 = 300;
const PANEL_TITLE_H: u32 = 32;
const PLOT_MARGIN_TOP: u32 = 4;
const PLOT_MARGIN_RIGHT: u32 = 18;
/// Space above the heatmap.
const HEAT_MARGIN_TOP: u32 = 16;
/// Band above the crash-point plot holding the labels of its vertical lines (two rows).
const LINE_LABEL_BAND: u32 = 64;
/// Half-width of the whisker caps, pixels.
const CAP: i32 = 7;

const NOTE_SIZE: f64 = 16.0;

const TEAL: RGBColor = RGBColor(23, 150, 165);
const CRASH: RGBColor = RGBColor(178, 24, 43);
/// Crash boundary on the heatmap.
const BOUNDARY: RGBColor = RGBColor(20, 20, 45);
/// Heatmap cells without a value.
const NO_DATA: RGBColor = RGBColor(190, 190, 190);
/// p10 / p90 lines of the crash-point chart.
const QUANTILE: RGBColor = RGBColor(117, 80, 160);
/// The fitted logistic curve of the crash-point chart.
const CURVE: RGBColor = RGBColor(60, 60, 60);
/// One colour per sweep panel, in turn.
const PALETTE: [RGBColor; 6] = [BLUE, ORANGE, GREEN, PURPLE, BROWN, TEAL];

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// Draws a sweep: stacked panels sharing the x axis, one per metric, each a line with markers and
/// 95% error bars (vertical whiskers with caps). NaN means no value: the point is skipped (and
/// breaks the line); a NaN (or zero) half-width draws no whisker.
///
/// About 1400 px wide and 300 px per panel. Metrics whose values
/// are all in 0..1 and that have no unit and a name like "... probability" / "... rate" get a
/// fixed 0..1 axis. Both files are written atomically.
pub fn draw_sweep(
    title: &str,
    axis: &Axis,
    metrics: &[MetricSeries],
    png: &Path,
    svg: &Path,
) -> Result<()> {
    write_figure(
        &SweepFig {
            title,
            axis,
            metrics,
        },
        png,
        svg,
    )
}

/// Draws two varied parameters: a heatmap of outage probability `z[iy][ix]` (0..1, colour scale
/// white→red with a labelled colour bar), cells centred on the grid values, the crash boundary
/// (probability 0.5) as a thick dark line (marching squares with linear interpolation along the
/// grid edges, reaching the plot's border), NaN cells grey.
///
/// About 1400 x 960 px (plot about 1000 x 800). Numeric axes whose values are finite and
/// distinct place the cells at their values (edges half-way between neighbours); category axes,
/// or values with NaN or duplicates, give every cell the same width. Cells wide enough show their
/// value. Missing rows or columns of `z` count as NaN. Both files are written atomically.
pub fn draw_heatmap(
    title: &str,
    x: &Axis,
    y: &Axis,
    z: &[Vec<f64>],
    png: &Path,
    svg: &Path,
) -> Result<()> {
    write_figure(&HeatFig { title, x, y, z }, png, svg)
}

/// What [`draw_crashpoint`] draws.
pub struct CrashChart<'a> {
    pub title: &'a str,
    pub parameter: &'a str,
    /// Every value tried, with all its replications: the markers.
    pub points: &'a [CrashTry],
    /// Each batch of replications in the order it was run: the table of tries.
    pub in_order: &'a [CrashTry],
    pub crash_point: Option<f64>,
    /// The crash point's interval, and its name: "95% interval" for a confidence interval,
    /// "bracket" for the span between all-or-nothing values.
    pub interval: Option<(f64, f64)>,
    pub interval_name: String,
    pub p10: Option<f64>,
    pub p90: Option<f64>,
    /// The fitted outage probability against the parameter, drawn as a curve.
    pub curve: Option<&'a dyn Fn(f64) -> f64>,
}

/// Draws a crash-point search: outage probability (0..1) against the parameter, each tried value
/// a marker with a 95% Wilson interval whisker; the fitted curve; a vertical line at the crash
/// point with a shaded band for its interval (named as `interval_name` says), dashed lines at
/// p10 and p90, a horizontal dotted line at 0.5, and the table of the tries in the order run.
///
/// About 1400 x 960 px. Each marker's area grows with its replications and, where there is
/// room, it is labelled `outages/reps`. Tries with no replications or a non-finite value are
/// left out of the plot (not of the table). Both files are written atomically.
pub fn draw_crashpoint(c: &CrashChart, png: &Path, svg: &Path) -> Result<()> {
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
    let interval = c
        .interval
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (a.min(b), a.max(b)));
    write_figure(
        &CrashFig {
            title: c.title,
            parameter: c.parameter,
            tries: c.points,
            in_order: c.in_order,
            crash_point: finite(c.crash_point),
            ci95: interval,
            interval_name: &c.interval_name,
            p10: finite(c.p10),
            p90: finite(c.p90),
            curve: c.curve,
        },
        png,
        svg,
    )
}

// ---------------------------------------------------------------------------------------------
// Figures and files
// ---------------------------------------------------------------------------------------------

/// A chart that can be drawn on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Draws `fig` to `png` and to `svg`, each atomically.
fn write_figure(fig: &impl Figure, png: &Path, svg: &Path) -> Result<()> {
    register_embedded_font();
    let size = fig.size();
    write_atomically(png, |p| {
        let root = BitMapBackend::new(p, size).into_drawing_area();
        fig.render(&root)?;
        root.present()?;
        Ok(())
    })?;
    write_atomically(svg, |p| {
        let root = SVGBackend::new(p, size).into_drawing_area();
        fig.render(&root)?;
        root.present()?;
        Ok(())
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Numbers, units and text
// ---------------------------------------------------------------------------------------------

/// Divisor and unit to show values in `unit` whose largest magnitude is `max_abs`: seconds
/// (or milliseconds) above 2 hours are shown in hours, above 2 minutes in minutes, and
/// milliseconds from 2 s in seconds. Other units are kept.
fn display_unit(unit: &str, max_abs: f64) -> (f64, String) {
    let secs_per_unit = match unit {
        "s" => 1.0,
        "ms" => 1e-3,
        _ => return (1.0, unit.to_string()),
    };
    let max_s = max_abs * secs_per_unit;
    if !max_s.is_finite() {
        (1.0, unit.to_string())
    } else if max_s > 7200.0 {
        (3600.0 / secs_per_unit, "h".to_string())
    } else if max_s > 120.0 {
        (60.0 / secs_per_unit, "min".to_string())
    } else if unit == "ms" && max_s >= 2.0 {
        (1e3, "s".to_string())
    } else {
        (1.0, unit.to_string())
    }
}

/// `"label (unit)"`, or the label alone without a unit.
fn with_unit(label: &str, unit: &str) -> String {
    if unit.is_empty() {
        label.to_string()
    } else {
        format!("{label} ({unit})")
    }
}

/// `v` with about four significant digits, `k` / `M` for thousands / millions.
fn fmt_num(v: f64) -> String {
    fmt_sig(v, 4)
}

/// `v` with about `sig` significant digits, `k` / `M` for thousands / millions.
fn fmt_sig(v: f64, sig: i32) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    if a >= 1e9 {
        return sci(v, 3);
    }
    let (x, suffix) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let ax = x.abs();
    let decimals = if ax < 1e-9 {
        0
    } else {
        (sig - 1 - ax.log10().floor() as i32).clamp(0, 9) as usize
    };
    let s = trim_float(x, decimals);
    if s == "-0" || s == "0" {
        return "0".to_string();
    }
    format!("{s}{suffix}")
}

/// `v` in scientific notation with at most `digits` digits after the point: `"2.5e11"`.
fn sci(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exp}")
        }
        _ => s,
    }
}

/// Size of `text` in pixels at font size `size` (estimated from its length if the font fails).
fn text_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
) -> (u32, u32) {
    area.estimate_text_size(text, &style(size, &TEXT))
        .unwrap_or_else(|_| {
            (
                (text.chars().count() as f64 * size * 0.6) as u32,
                size as u32,
            )
        })
}

/// `text`, cut short with "…" so that `width(text) <= max_w`.
fn fit_text(text: &str, max_w: u32, width: &dyn Fn(&str) -> u32) -> String {
    if width(text) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    for n in (1..chars.len()).rev() {
        let cut: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if width(&cut) <= max_w {
            return cut;
        }
    }
    "…".to_string()
}

// ---------------------------------------------------------------------------------------------
// Scales
// ---------------------------------------------------------------------------------------------

/// Linear axis with given ticks and labels. Values outside the range are clamped to its edges.
#[derive(Clone)]
struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
}

impl Ranged for Scale {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        lin_map(*value, self.lo, self.hi, limit)
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
fn padded_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
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
fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<(f64, String)> {
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
    let (unit, suffix) = if max_abs >= 1e7 {
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
fn thin_ticks(
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
fn grid_or_nice_ticks(
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
fn category_label_width(px_per: f64) -> u32 {
    let room = px_per - 12.0;
    if room >= 48.0 { room as u32 } else { 120 }
}

/// Category ticks at `positions`, names cut to `max_w` pixels, thinned so that none overlap.
fn category_ticks(
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

// ---------------------------------------------------------------------------------------------
// Shared drawing pieces
// ---------------------------------------------------------------------------------------------

/// The chart title at the left of `area` (aligned with the plots), and a dim note right-aligned
/// at `right_x` when both fit.
fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    note: Option<&str>,
    right_x: u32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let centre = (TITLE_H / 2) as i32;
    let left = Y_LABEL_AREA;
    let title_w = |s: &str| text_size(area, s, TITLE_SIZE).0;
    let title = fit_text(title, WIDTH - left - 20, &title_w);
    let used = title_w(&title);
    area.draw(&Text::new(
        title,
        (left as i32, centre),
        style(TITLE_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    if let Some(note) = note {
        let note_w = text_size(area, note, TICK_SIZE).0;
        if left + used + 40 + note_w <= right_x {
            area.draw(&Text::new(
                note.to_string(),
                (right_x as i32, centre),
                style(TICK_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
    }
    Ok(())
}

/// The y axis description, rotated, centred on the plot's rows (`rows`, backend pixels), at the
/// left edge of `area`.
fn draw_y_desc<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    rows: &Range<i32>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let cy = (rows.start + rows.end) / 2 - area.get_base_pixel().1;
    area.draw(&Text::new(
        text.to_string(),
        (Y_DESC_X, cy),
        style(DESC_SIZE, &TEXT)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// "no data" in the middle of a chart's plotting area.
fn draw_no_data<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    text: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let plot = chart.plotting_area().strip_coord_spec();
    let (pw, ph) = plot.dim_in_pixel();
    plot.draw(&Text::new(
        text.to_string(),
        ((pw / 2) as i32, (ph / 2) as i32),
        style(DESC_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// The mesh (grid lines unless `grid` is false, ticks, labels, x description) in the common style.
fn draw_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    x_desc: Option<&str>,
    grid: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(200)
        .y_labels(200)
        .x_label_style(style(TICK_SIZE, &TEXT))
        .y_label_style(style(TICK_SIZE, &TEXT))
        .axis_desc_style(style(DESC_SIZE, &TEXT))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS);
    if !grid {
        mesh.disable_mesh();
    }
    if let Some(desc) = x_desc {
        mesh.x_desc(desc);
    }
    mesh.draw()?;
    Ok(())
}

/// A vertical whisker from `lo` to `hi` at `x` (already clipped to `clip`), with caps at the ends
/// that were not clipped.
fn draw_whisker<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    x: f64,
    (lo, hi): (f64, f64),
    clip: (f64, f64),
    color: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if !(x.is_finite() && lo.is_finite() && hi.is_finite() && hi > lo) {
        return Ok(());
    }
    let (a, b) = (lo.max(clip.0), hi.min(clip.1));
    if a >= b {
        return Ok(());
    }
    let line = color.stroke_width(2);
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x, a), (x, b)],
        line,
    )))?;
    for (end, clipped) in [(lo, lo < clip.0), (hi, hi > clip.1)] {
        if !clipped {
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, end)) + PathElement::new(vec![(-CAP, 0), (CAP, 0)], line),
            ))?;
        }
    }
    Ok(())
}

/// A filled marker with a white ring, so that it stands out from lines and whiskers.
fn draw_marker<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    p: (f64, f64),
    r: i32,
    color: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart.draw_series([
        Circle::new(p, r + 2, WHITE.filled()),
        Circle::new(p, r, color.filled()),
    ])?;
    Ok(())
}

/// An upward triangle: the value is at least this.
fn draw_lower_bound<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    p: (f64, f64),
    r: i32,
    color: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart.draw_series([
        TriangleMarker::new(p, r + 3, WHITE.filled()),
        TriangleMarker::new(p, r, color.filled()),
    ])?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// What a legend entry shows.
enum Glyph {
    /// Line with a marker on it.
    LineMarker(RGBColor),
    /// Vertical whisker with caps.
    Whisker(RGBColor),
    Line(RGBColor, u32, Dash),
    /// Filled box with a border.
    Band(RGBAColor, RGBColor),
    Marker(RGBColor, i32),
    /// The triangle of a lower bound.
    LowerBound(RGBColor),
    Swatch(RGBColor),
    /// The heatmap's crash boundary: a thick dark line with a white halo.
    Boundary,
}

struct Entry {
    glyph: Glyph,
    text: String,
    /// A second, dim line under the text.
    sub: Option<String>,
}

fn entry(glyph: Glyph, text: &str, sub: Option<String>) -> Entry {
    Entry {
        glyph,
        text: text.to_string(),
        sub,
    }
}

/// Draws the entries in a column from `top` (pixels in `area`); returns the y below the last.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    top: i32,
) -> Result<i32>
where
    DB::ErrorType: 'static,
{
    let (gx0, gx1) = (8, 44);
    let gm = (gx0 + gx1) / 2;
    let (area_w, _) = area.dim_in_pixel();
    let max_w = area_w.saturating_sub(gx1 as u32 + 16);
    let mut cy = top;
    for e in entries {
        match e.glyph {
            Glyph::LineMarker(c) => {
                area.draw(&PathElement::new(
                    vec![(gx0, cy), (gx1, cy)],
                    c.stroke_width(2),
                ))?;
                area.draw(&Circle::new((gm, cy), 7, WHITE.filled()))?;
                area.draw(&Circle::new((gm, cy), 5, c.filled()))?;
            }
            Glyph::Whisker(c) => {
                let s = c.stroke_width(2);
                area.draw(&PathElement::new(vec![(gm, cy - 11), (gm, cy + 11)], s))?;
                area.draw(&PathElement::new(
                    vec![(gm - CAP, cy - 11), (gm + CAP, cy - 11)],
                    s,
                ))?;
                area.draw(&PathElement::new(
                    vec![(gm - CAP, cy + 11), (gm + CAP, cy + 11)],
                    s,
                ))?;
            }
            Glyph::Line(c, w, dash) => {
                let pts = vec![(gx0, cy), (gx1, cy)];
                match dash {
                    Dash::Solid => area.draw(&PathElement::new(pts, c.stroke_width(w)))?,
                    Dash::Dashed => {
                        area.draw(&DashedPathElement::new(pts, 8, 5, c.stroke_width(w)))?
                    }
                    Dash::Dotted => {
                        area.draw(&DashedPathElement::new(pts, 3, 4, c.stroke_width(w)))?
                    }
                }
            }
            Glyph::Band(fill, border) => {
                let corners = [(gx0, cy - 9), (gx1, cy + 9)];
                area.draw(&Rectangle::new(corners, fill.filled()))?;
                area.draw(&Rectangle::new(corners, border.stroke_width(1)))?;
            }
            Glyph::Marker(c, r) => {
                area.draw(&Circle::new((gm, cy), r + 2, WHITE.filled()))?;
                area.draw(&Circle::new((gm, cy), r, c.filled()))?;
            }
            Glyph::LowerBound(c) => {
                area.draw(&TriangleMarker::new((gm, cy), 10, WHITE.filled()))?;
                area.draw(&TriangleMarker::new((gm, cy), 7, c.filled()))?;
            }
            Glyph::Swatch(c) => {
                let corners = [(gx0 + 6, cy - 10), (gx1 - 6, cy + 10)];
                area.draw(&Rectangle::new(corners, c.filled()))?;
                area.draw(&Rectangle::new(corners, AXIS.stroke_width(1)))?;
            }
            Glyph::Boundary => {
                let pts = vec![(gx0, cy), (gx1, cy)];
                area.draw(&PathElement::new(pts.clone(), WHITE.stroke_width(9)))?;
                area.draw(&PathElement::new(pts, BOUNDARY.stroke_width(5)))?;
            }
        }
        let w = |s: &str| text_size(area, s, LEGEND_SIZE).0;
        area.draw(&Text::new(
            fit_text(&e.text, max_w, &w),
            (gx1 + 10, cy),
            style(LEGEND_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        if let Some(sub) = &e.sub {
            cy += 22;
            let w = |s: &str| text_size(area, s, NOTE_SIZE).0;
            area.draw(&Text::new(
                fit_text(sub, max_w, &w),
                (gx1 + 10, cy),
                style(NOTE_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        cy += 34;
    }
    Ok(cy)
}

// ---------------------------------------------------------------------------------------------
// Sweep
// ---------------------------------------------------------------------------------------------

struct SweepFig<'a> {
    title: &'a str,
    axis: &'a Axis,
    metrics: &'a [MetricSeries],
}

/// The sweep's x scale and the position of each point (NaN: left out).
fn sweep_x(axis: &Axis, plot_w: u32, width: &dyn Fn(&str) -> u32) -> (Scale, Vec<f64>) {
    let xs: Vec<f64> = axis.x.clone();
    match &axis.labels {
        Some(labels) => {
            let finite = || xs.iter().copied().filter(|v| v.is_finite());
            let last = labels.len().max(1) as f64 - 1.0;
            let lo = finite().fold(0.0_f64, f64::min) - 0.5;
            let hi = finite().fold(last, f64::max) + 0.5;
            let (lo, hi) = if (hi - lo).is_finite() {
                (lo, hi)
            } else {
                (-0.5, last + 0.5)
            };
            let px_per = f64::from(plot_w) / (hi - lo);
            let max_w = category_label_width(px_per);
            let names: Vec<(f64, String)> = labels
                .iter()
                .enumerate()
                .map(|(i, n)| (i as f64, n.clone()))
                .collect();
            let ticks = category_ticks(&names, (lo, hi), plot_w, max_w, width, width);
            (Scale { lo, hi, ticks }, xs)
        }
        None => {
            let (lo, hi) = padded_range(xs.iter().copied(), 0.04);
            let ticks = grid_or_nice_ticks(&xs, (lo, hi), plot_w, width, 14, 12);
            (Scale { lo, hi, ticks }, xs)
        }
    }
}

/// The y scale of one metric panel: fixed 0..1 for probabilities, else from zero (or the lowest
/// value when negative) to the top of the highest whisker.
fn metric_y(points: &[(f64, f64, f64)], prob: bool) -> Scale {
    if prob {
        return Scale {
            lo: -0.04,
            hi: 1.04,
            ticks: nice_ticks(0.0, 1.0, 5),
        };
    }
    let has_data = points.iter().any(|p| p.1.is_finite());
    if !has_data {
        return Scale {
            lo: 0.0,
            hi: 1.0,
            ticks: nice_ticks(0.0, 1.0, 5),
        };
    }
    let values = points.iter().flat_map(|&(_, m, c)| {
        let c = if c.is_finite() && c > 0.0 { c } else { 0.0 };
        [m, m - c, m + c]
    });
    let (lo, hi) = if values.clone().all(|v| v == 0.0 || v.is_nan()) {
        (-0.05, 1.05)
    } else {
        padded_range(values.chain(std::iter::once(0.0)), 0.05)
    };
    Scale {
        lo,
        hi,
        ticks: nice_ticks(lo, hi, 5),
    }
}

impl Figure for SweepFig<'_> {
    fn size(&self) -> (u32, u32) {
        let panels = self.metrics.len().max(1) as u32;
        (
            WIDTH,
            TITLE_H + panels * PANEL_H + X_DESC_EXTRA + BOTTOM_PAD,
        )
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (title_area, mut rest) = root.split_vertically(TITLE_H);
        draw_title(
            &title_area,
            self.title,
            Some("mean of replications · whiskers: 95% interval"),
            WIDTH - LEGEND_W - PLOT_MARGIN_RIGHT,
        )?;
        let width = |s: &str| text_size(root, s, TICK_SIZE).0;
        let plot_w = WIDTH - LEGEND_W - Y_LABEL_AREA - PLOT_MARGIN_RIGHT;
        let (x, xs) = sweep_x(self.axis, plot_w, &width);
        let categories = self.axis.labels.is_some();
        let x_desc = if self.axis.name.is_empty() {
            "parameter"
        } else {
            self.axis.name.as_str()
        };
        if self.metrics.is_empty() {
            let (area, _) = rest.split_vertically(PANEL_H + X_DESC_EXTRA);
            let none = MetricSeries {
                label: "no metrics".to_string(),
                ..MetricSeries::default()
            };
            return draw_sweep_panel(&area, &none, (&x, &xs, categories), BLUE, Some(x_desc));
        }
        let last = self.metrics.len() - 1;
        for (i, m) in self.metrics.iter().enumerate() {
            let h = PANEL_H + if i == last { X_DESC_EXTRA } else { 0 };
            let (area, below) = rest.split_vertically(h);
            let color = PALETTE[i % PALETTE.len()];
            draw_sweep_panel(
                &area,
                m,
                (&x, &xs, categories),
                color,
                (i == last).then_some(x_desc),
            )?;
            rest = below;
        }
        Ok(())
    }
}

fn draw_sweep_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    metric: &MetricSeries,
    (x, xs, categories): (&Scale, &[f64], bool),
    color: RGBColor,
    x_desc: Option<&str>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (chart_area, legend_area) = area.split_horizontally(WIDTH - LEGEND_W);
    let (title_area, body) = chart_area.split_vertically(PANEL_TITLE_H);

    let max_abs = metric
        .mean
        .iter()
        .zip(metric.ci95.iter().chain(std::iter::repeat(&0.0)))
        .map(|(&m, &c)| m.abs() + if c.is_finite() { c.abs() } else { 0.0 })
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let (div, unit) = display_unit(&metric.unit, max_abs);
    // (x, mean, half-width, index of the point)
    let mut points: Vec<(f64, f64, f64, usize)> = xs
        .iter()
        .enumerate()
        .filter(|(_, x)| x.is_finite())
        .map(|(i, &x)| {
            let m = metric.mean.get(i).copied().unwrap_or(f64::NAN) / div;
            let c = metric.ci95.get(i).copied().unwrap_or(f64::NAN) / div;
            (x, m, c, i)
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let prob = metric.probability;
    let noted = |i: usize| metric.notes.get(i).is_some_and(|n| !n.is_empty());
    let any_note = points.iter().any(|p| noted(p.3));
    let spans: Vec<(f64, f64, f64)> = points.iter().map(|p| (p.0, p.1, p.2)).collect();
    let mut y = metric_y(&spans, prob);
    if any_note && !prob {
        // Room at the top for the notes.
        y.hi += 0.3 * (y.hi - y.lo);
    }
    let desc = with_unit(&metric.label, &unit);

    let w = |s: &str| text_size(area, s, PANEL_TITLE_SIZE).0;
    title_area.draw(&Text::new(
        fit_text(
            &desc,
            WIDTH - LEGEND_W - Y_LABEL_AREA - PLOT_MARGIN_RIGHT,
            &w,
        ),
        (Y_LABEL_AREA as i32, (PANEL_TITLE_H / 2 + 2) as i32),
        style(PANEL_TITLE_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;

    let x_area = X_LABEL_AREA + if x_desc.is_some() { X_DESC_EXTRA } else { 0 };
    let mut chart = ChartBuilder::on(&body)
        .margin_top(PLOT_MARGIN_TOP)
        .margin_right(PLOT_MARGIN_RIGHT)
        .x_label_area_size(x_area)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x.clone(), y.clone())?;
    draw_mesh(&mut chart, x_desc, true)?;

    // The y description: "label (unit)" when it fits along the plot, else the unit alone.
    let (_, rows) = chart.plotting_area().get_pixel_range();
    let room = (rows.end - rows.start - 8).max(0) as u32;
    let dw = |s: &str| text_size(area, s, DESC_SIZE).0;
    let y_desc = if dw(&desc) <= room || unit.is_empty() {
        fit_text(&desc, room, &dw)
    } else {
        fit_text(&unit, room, &dw)
    };
    draw_y_desc(&chart_area, &y_desc, &rows)?;

    // Line (broken where there is no value; none between categories), whiskers, then markers
    // on top: a triangle pointing up where the mean is only a lower bound.
    if !categories {
        for seg in points.split(|p| !p.1.is_finite()) {
            if seg.len() >= 2 {
                chart.draw_series(LineSeries::new(
                    seg.iter().map(|p| (p.0, p.1)),
                    color.stroke_width(2),
                ))?;
            }
        }
    }
    let clip = if prob { (0.0, 1.0) } else { (y.lo, y.hi) };
    for &(px, m, c, _) in &points {
        if m.is_finite() && c.is_finite() && c > 0.0 {
            draw_whisker(&mut chart, px, (m - c, m + c), clip, color)?;
        }
    }
    let lower_bound = |i: usize| metric.at_least.get(i).copied().unwrap_or(false);
    let mut any = false;
    for &(px, m, _, i) in &points {
        if m.is_finite() {
            any = true;
            if lower_bound(i) {
                draw_lower_bound(&mut chart, (px, m), 7, color)?;
            } else {
                draw_marker(&mut chart, (px, m), 5, color)?;
            }
        }
    }
    draw_notes(&chart, area, metric, &points)?;
    if !any && !any_note {
        draw_no_data(&chart, "no data")?;
        return Ok(());
    }

    let top = (PANEL_TITLE_H + PLOT_MARGIN_TOP) as i32 + 16;
    let mut entries = vec![
        entry(
            if categories {
                Glyph::Marker(color, 5)
            } else {
                Glyph::LineMarker(color)
            },
            "mean",
            None,
        ),
        entry(Glyph::Whisker(color), "95% interval", None),
    ];
    if points.iter().any(|p| lower_bound(p.3) && p.1.is_finite()) {
        entries.push(entry(
            Glyph::LowerBound(color),
            "at least",
            Some("still down at the end".to_string()),
        ));
    }
    draw_legend(&legend_area, &entries, top)?;
    Ok(())
}

/// The notes of a metric's points, in the band at the top of the plot: each centred above its
/// point, a row lower when it would overlap an earlier one, left out when no row is free.
fn draw_notes<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    area: &DrawingArea<DB, Shift>,
    metric: &MetricSeries,
    points: &[(f64, f64, f64, usize)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (cols, rows) = chart.plotting_area().get_pixel_range();
    let mut placed: Vec<PxBox> = Vec::new();
    for &(px, _, _, i) in points {
        let Some(text) = metric.notes.get(i).filter(|n| !n.is_empty()) else {
            continue;
        };
        let (tw, th) = text_size(area, text, NOTE_SIZE);
        let (w, h) = (tw as i32 + 8, th as i32 + 4);
        let cx = chart.backend_coord(&(px, 0.0)).0;
        let x0 = (cx - w / 2).clamp(cols.start, (cols.end - w).max(cols.start));
        let spot = (0..3)
            .map(|row| {
                let y0 = rows.start + 4 + row * (h + 2);
                PxBox {
                    x0,
                    y0,
                    x1: x0 + w,
                    y1: y0 + h,
                }
            })
            .find(|b| placed.iter().all(|o| !o.overlaps(b)));
        if let Some(b) = spot {
            let base = area.get_base_pixel();
            area.draw(&Text::new(
                text.clone(),
                (b.x0 + 4 - base.0, (b.y0 + b.y1) / 2 - base.1),
                style(NOTE_SIZE, &CRASH).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            placed.push(b);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Heatmap
// ---------------------------------------------------------------------------------------------

struct HeatFig<'a> {
    title: &'a str,
    x: &'a Axis,
    y: &'a Axis,
    z: &'a [Vec<f64>],
}

/// One axis of the heatmap grid.
struct Grid {
    n: usize,
    /// Whether the cells sit at the parameter values (else at 0, 1, 2, ...).
    numeric: bool,
    /// Position of each grid point (cell centre).
    pos: Vec<f64>,
    /// Extent of each cell.
    cells: Vec<(f64, f64)>,
    /// Indices in increasing position.
    order: Vec<usize>,
    lo: f64,
    hi: f64,
    /// Name of each grid point.
    names: Vec<String>,
}

impl Grid {
    fn new(axis: &Axis) -> Grid {
        let n = if axis.x.is_empty() {
            axis.labels.as_ref().map_or(0, Vec::len)
        } else {
            axis.x.len()
        };
        let xs: Vec<f64> = (0..n)
            .map(|i| axis.x.get(i).copied().unwrap_or(f64::NAN))
            .collect();
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let numeric = axis.labels.is_none()
            && n > 0
            && xs.iter().all(|v| v.is_finite())
            && sorted.windows(2).all(|w| w[1] > w[0])
            && (sorted[n - 1] - sorted[0]).is_finite();
        let pos: Vec<f64> = if numeric {
            xs.clone()
        } else {
            (0..n).map(|i| i as f64).collect()
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| pos[a].total_cmp(&pos[b]));
        let mut cells = vec![(0.0, 0.0); n];
        for (k, &i) in order.iter().enumerate() {
            let v = pos[i];
            let prev = k.checked_sub(1).map(|j| pos[order[j]]);
            let next = order.get(k + 1).map(|&j| pos[j]);
            let lone = if numeric && v != 0.0 {
                v.abs() * 0.1
            } else {
                0.5
            };
            let left = prev.map(|p| (v - p) / 2.0);
            let right = next.map(|q| (q - v) / 2.0);
            let half_l = left.or(right).unwrap_or(lone);
            let half_r = right.or(left).unwrap_or(lone);
            cells[i] = (v - half_l, v + half_r);
        }
        let (lo, hi) = match (order.first(), order.last()) {
            (Some(&a), Some(&b)) => (cells[a].0, cells[b].1),
            _ => (-0.5, 0.5),
        };
        let names = (0..n)
            .map(|i| {
                let label = axis.labels.as_ref().and_then(|l| l.get(i));
                match label {
                    Some(l) => l.clone(),
                    None => fmt_num(xs[i]),
                }
            })
            .collect();
        Grid {
            n,
            numeric,
            pos,
            cells,
            order,
            lo,
            hi,
            names,
        }
    }

    fn ticks(
        &self,
        len_px: u32,
        max_w: u32,
        width: &dyn Fn(&str) -> u32,
        extent: &dyn Fn(&str) -> u32,
    ) -> Vec<(f64, String)> {
        if self.numeric {
            let gap = 12;
            grid_or_nice_ticks(&self.pos, (self.lo, self.hi), len_px, extent, gap, 10)
        } else {
            let names: Vec<(f64, String)> =
                self.pos.iter().copied().zip(self.names.clone()).collect();
            category_ticks(&names, (self.lo, self.hi), len_px, max_w, width, extent)
        }
    }
}

/// White → red for outage probabilities 0..1 (values outside are clamped), grey for NaN.
fn heat_color(p: f64) -> RGBColor {
    if p.is_nan() {
        return NO_DATA;
    }
    const STOPS: [(f64, (f64, f64, f64)); 5] = [
        (0.0, (255.0, 255.0, 255.0)),
        (0.2, (254.0, 224.0, 210.0)),
        (0.45, (252.0, 146.0, 114.0)),
        (0.75, (222.0, 45.0, 38.0)),
        (1.0, (165.0, 15.0, 21.0)),
    ];
    let p = p.clamp(0.0, 1.0);
    for w in STOPS.windows(2) {
        let ((a, ca), (b, cb)) = (w[0], w[1]);
        if p <= b {
            let t = (p - a) / (b - a);
            let mix = |x: f64, y: f64| (x + t * (y - x)).round() as u8;
            return RGBColor(mix(ca.0, cb.0), mix(ca.1, cb.1), mix(ca.2, cb.2));
        }
    }
    let c = STOPS[4].1;
    RGBColor(c.0 as u8, c.1 as u8, c.2 as u8)
}

/// The crash boundary on a grid of cells: the cell edges between a cell whose value is `level`
/// or more and a neighbour whose value is below (a cell without a value has no edge), joined
/// into polylines. `xs[i]` and `ys[j]` are the extents of the columns and rows in increasing
/// order and `v(i, j)` the value of the cell in column i and row j. The line follows the cells
/// and never crosses one: no cell is drawn on the failing side unless at least half its runs
/// failed.
fn cell_boundary(
    xs: &[(f64, f64)],
    ys: &[(f64, f64)],
    v: &dyn Fn(usize, usize) -> f64,
    level: f64,
) -> Vec<Vec<(f64, f64)>> {
    let differ = |a: f64, b: f64| !a.is_nan() && !b.is_nan() && (a >= level) != (b >= level);
    let mut segs: Vec<[(f64, f64); 2]> = Vec::new();
    for j in 0..ys.len() {
        for i in 0..xs.len() {
            if i + 1 < xs.len() && differ(v(i, j), v(i + 1, j)) {
                let x = xs[i].1;
                segs.push([(x, ys[j].0), (x, ys[j].1)]);
            }
            if j + 1 < ys.len() && differ(v(i, j), v(i, j + 1)) {
                let y = ys[j].1;
                segs.push([(xs[i].0, y), (xs[i].1, y)]);
            }
        }
    }
    // Join segments end to end (corners are shared exactly: both come from the same extents).
    let key = |p: (f64, f64)| (p.0.to_bits(), p.1.to_bits());
    let mut used = vec![false; segs.len()];
    let mut lines = Vec::new();
    for k in 0..segs.len() {
        if used[k] {
            continue;
        }
        used[k] = true;
        let mut line = vec![segs[k][0], segs[k][1]];
        for forward in [true, false] {
            loop {
                let end = if forward { line[line.len() - 1] } else { line[0] };
                let next = (0..segs.len()).find(|&m| {
                    !used[m] && (key(segs[m][0]) == key(end) || key(segs[m][1]) == key(end))
                });
                let Some(m) = next else { break };
                used[m] = true;
                let far = if key(segs[m][0]) == key(end) {
                    segs[m][1]
                } else {
                    segs[m][0]
                };
                if forward {
                    line.push(far);
                } else {
                    line.insert(0, far);
                }
            }
        }
        lines.push(line);
    }
    lines
}

impl HeatFig<'_> {
    fn z(&self, ix: usize, iy: usize) -> f64 {
        self.z
            .get(iy)
            .and_then(|row| row.get(ix))
            .copied()
            .unwrap_or(f64::NAN)
    }

    /// The crash boundary: the cell edges between cells whose outage probability is 0.5 or
    /// more and those below ([`cell_boundary`]).
    fn boundary(&self, gx: &Grid, gy: &Grid) -> Vec<Vec<(f64, f64)>> {
        let xs: Vec<(f64, f64)> = gx.order.iter().map(|&i| gx.cells[i]).collect();
        let ys: Vec<(f64, f64)> = gy.order.iter().map(|&j| gy.cells[j]).collect();
        cell_boundary(&xs, &ys, &|i, j| self.z(gx.order[i], gy.order[j]), 0.5)
    }
}

impl Figure for HeatFig<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, FIG_H)
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (title_area, rest) = root.split_vertically(TITLE_H);
        draw_title(&title_area, self.title, None, WIDTH - WIDE_LEGEND_W)?;
        let (body, _) = rest.split_vertically(FIG_H - TITLE_H - BOTTOM_PAD);
        let (plot_area, legend_area) = body.split_horizontally(WIDTH - WIDE_LEGEND_W);

        let gx = Grid::new(self.x);
        let gy = Grid::new(self.y);
        let width = |s: &str| text_size(root, s, TICK_SIZE).0;
        let label_h = text_size(root, "0.9", TICK_SIZE).1;
        let height = move |_: &str| label_h;
        let plot_h = FIG_H - TITLE_H - BOTTOM_PAD - HEAT_MARGIN_TOP - X_LABEL_AREA - X_DESC_EXTRA;
        let y_ticks = gy.ticks(plot_h, MAX_Y_LABEL_AREA - 64, &width, &height);
        let widest = y_ticks.iter().map(|t| width(&t.1)).max().unwrap_or(0);
        let y_area = (widest + 64).clamp(Y_LABEL_AREA, MAX_Y_LABEL_AREA);
        let plot_w = WIDTH - WIDE_LEGEND_W - y_area - PLOT_MARGIN_RIGHT;
        let px_per_cell = f64::from(plot_w) / gx.n.max(1) as f64;
        let x_max_w = category_label_width(px_per_cell);
        let x_ticks = gx.ticks(plot_w, x_max_w, &width, &width);
        let xs = Scale {
            lo: gx.lo,
            hi: gx.hi,
            ticks: x_ticks,
        };
        let ys = Scale {
            lo: gy.lo,
            hi: gy.hi,
            ticks: y_ticks,
        };

        let x_desc = if self.x.name.is_empty() {
            "parameter"
        } else {
            &self.x.name
        };
        let mut chart = ChartBuilder::on(&plot_area)
            .margin_top(HEAT_MARGIN_TOP)
            .margin_right(PLOT_MARGIN_RIGHT)
            .x_label_area_size(X_LABEL_AREA + X_DESC_EXTRA)
            .y_label_area_size(y_area)
            .build_cartesian_2d(xs.clone(), ys.clone())?;
        draw_mesh(&mut chart, Some(x_desc), false)?;
        let (cols, rows) = chart.plotting_area().get_pixel_range();
        draw_y_desc(&plot_area, &self.y.name, &rows)?;

        // Cells.
        let mut any_nan = false;
        let mut any_value = false;
        for iy in 0..gy.n {
            for ix in 0..gx.n {
                let p = self.z(ix, iy);
                any_nan |= p.is_nan();
                any_value |= !p.is_nan();
                let (x0, x1) = gx.cells[ix];
                let (y0, y1) = gy.cells[iy];
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (x1, y1)],
                    heat_color(p).filled(),
                )))?;
            }
        }
        if gx.n == 0 || gy.n == 0 || !any_value {
            draw_no_data(&chart, "no data")?;
        }
        root.draw(&Rectangle::new(
            [(cols.start, rows.start), (cols.end - 1, rows.end - 1)],
            AXIS.stroke_width(1),
        ))?;

        // Crash boundary: a dark line with a white halo, over the cells; thinner on fine grids.
        let plot_px = (cols.end - cols.start, rows.end - rows.start);
        let smallest = |g: &Grid, len: i32| {
            let span = g.hi - g.lo;
            g.cells
                .iter()
                .map(|&(a, b)| (b - a) / span * f64::from(len))
                .filter(|v| v.is_finite())
                .fold(f64::INFINITY, f64::min)
        };
        let cell_min = smallest(&gx, plot_px.0).min(smallest(&gy, plot_px.1));
        let line_w = if cell_min.is_finite() {
            (cell_min / 8.0).clamp(2.0, 5.0) as u32
        } else {
            5
        };
        let lines = self.boundary(&gx, &gy);
        for line in &lines {
            chart.draw_series(std::iter::once(PathElement::new(
                line.clone(),
                WHITE.stroke_width(line_w + 4),
            )))?;
        }
        for line in &lines {
            chart.draw_series(std::iter::once(PathElement::new(
                line.clone(),
                BOUNDARY.stroke_width(line_w),
            )))?;
        }

        // Cell values, where the cells are big enough.
        let cell_px = |lo: f64, hi: f64, span: f64, len: i32| {
            if span > 0.0 {
                (hi - lo) / span * f64::from(len)
            } else {
                0.0
            }
        };
        let big_enough = (0..gx.n).all(|ix| {
            let (a, b) = gx.cells[ix];
            cell_px(a, b, gx.hi - gx.lo, plot_px.0) >= 56.0
        }) && (0..gy.n).all(|iy| {
            let (a, b) = gy.cells[iy];
            cell_px(a, b, gy.hi - gy.lo, plot_px.1) >= 30.0
        });
        if big_enough && any_value {
            for iy in 0..gy.n {
                for ix in 0..gx.n {
                    let p = self.z(ix, iy);
                    let (text, color) = if p.is_nan() {
                        ("n/a".to_string(), TEXT_DIM)
                    } else if p > 0.62 {
                        (format!("{p:.2}"), WHITE)
                    } else {
                        (format!("{p:.2}"), TEXT)
                    };
                    // On a patch of the cell's colour, so that the boundary passes under it.
                    let (cx, cy) = chart.backend_coord(&(gx.pos[ix], gy.pos[iy]));
                    let (tw, th) = text_size(root, &text, NOTE_SIZE);
                    let (hw, hh) = (tw as i32 / 2 + 5, th as i32 / 2 + 3);
                    root.draw(&Rectangle::new(
                        [(cx - hw, cy - hh), (cx + hw, cy + hh)],
                        heat_color(p).filled(),
                    ))?;
                    root.draw(&Text::new(
                        text,
                        (cx, cy),
                        style(NOTE_SIZE, &color).pos(Pos::new(HPos::Center, VPos::Center)),
                    ))?;
                }
            }
        }

        // Colour bar and legend.
        let bar_top = HEAT_MARGIN_TOP as i32 + 40;
        legend_area.draw(&Text::new(
            "outage probability",
            (8, HEAT_MARGIN_TOP as i32 + 12),
            style(LEGEND_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        let bar_h = 360;
        let (bx0, bx1) = (14, 48);
        let bar_bottom = bar_top + bar_h;
        for k in 0..bar_h {
            let p = (f64::from(k) + 0.5) / f64::from(bar_h);
            let yk = bar_bottom - k;
            legend_area.draw(&Rectangle::new(
                [(bx0, yk - 1), (bx1, yk)],
                heat_color(p).filled(),
            ))?;
        }
        legend_area.draw(&Rectangle::new(
            [(bx0, bar_top), (bx1, bar_bottom)],
            AXIS.stroke_width(1),
        ))?;
        for i in 0..=4 {
            let p = f64::from(i) / 4.0;
            let yp = bar_bottom - (p * f64::from(bar_h)).round() as i32;
            legend_area.draw(&PathElement::new(
                vec![(bx1, yp), (bx1 + 6, yp)],
                AXIS.stroke_width(1),
            ))?;
            legend_area.draw(&Text::new(
                trim_float(p, 2),
                (bx1 + 10, yp),
                style(TICK_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let mid = bar_bottom - bar_h / 2;
        legend_area.draw(&PathElement::new(
            vec![(bx0 - 4, mid), (bx1 + 4, mid)],
            WHITE.stroke_width(7),
        ))?;
        legend_area.draw(&PathElement::new(
            vec![(bx0 - 4, mid), (bx1 + 4, mid)],
            BOUNDARY.stroke_width(4),
        ))?;
        legend_area.draw(&Text::new(
            "crash",
            (bx1 + 54, mid),
            style(NOTE_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;

        let mut entries = vec![entry(
            Glyph::Boundary,
            "crash boundary",
            Some(if lines.is_empty() {
                "(not crossed in this grid)".to_string()
            } else {
                "outage probability = 0.5".to_string()
            }),
        )];
        if any_nan {
            entries.push(entry(Glyph::Swatch(NO_DATA), "no data", None));
        }
        draw_legend(&legend_area, &entries, bar_bottom + 48)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Crash point
// ---------------------------------------------------------------------------------------------

struct CrashFig<'a> {
    title: &'a str,
    parameter: &'a str,
    tries: &'a [CrashTry],
    in_order: &'a [CrashTry],
    crash_point: Option<f64>,
    ci95: Option<(f64, f64)>,
    interval_name: &'a str,
    p10: Option<f64>,
    p90: Option<f64>,
    curve: Option<&'a dyn Fn(f64) -> f64>,
}

use crate::stats::wilson;

/// Marker radius for a try with `reps` replications (area grows with the replications).
fn marker_radius(reps: u32) -> i32 {
    (3.0 + 1.4 * f64::from(reps).sqrt())
        .clamp(5.0, 15.0)
        .round() as i32
}

/// A pixel box (backend coordinates).
#[derive(Clone, Copy)]
struct PxBox {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl PxBox {
    fn overlaps(&self, o: &PxBox) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// A label for a vertical line at pixel column `x`: its box size, and whether it belongs on the
/// line's right.
struct LineLabel {
    x: i32,
    w: i32,
    h: i32,
    right: bool,
}

/// Places the labels of vertical lines in the band above the plot whose bottom is `bottom`:
/// each beside its line (right or left) in the first or second row, or left out. Boxes stay
/// within `cols` and do not overlap, and a line drawn up to its label does not cross another
/// label. Picks the placement leaving out fewest labels, then with fewest labels in the second
/// row or on the unusual side. Only the first three labels are placed.
fn place_line_labels(labels: &[LineLabel], cols: &Range<i32>, bottom: i32) -> Vec<Option<PxBox>> {
    let n = labels.len().min(3);
    let spot = |l: &LineLabel, option: usize| -> Option<PxBox> {
        if option >= 4 {
            return None;
        }
        let row = (option / 2) as i32;
        let right = (option % 2 == 0) == l.right;
        let y1 = bottom - row * (l.h + 4);
        let x0 = if right { l.x + 3 } else { l.x - 3 - l.w };
        Some(PxBox {
            x0,
            y0: y1 - l.h,
            x1: x0 + l.w,
            y1,
        })
    };
    let mut best: Option<(u32, Vec<Option<PxBox>>)> = None;
    for combo in 0..5usize.pow(n as u32) {
        let options: Vec<usize> = (0..n).map(|i| combo / 5usize.pow(i as u32) % 5).collect();
        let boxes: Vec<Option<PxBox>> = (0..n).map(|i| spot(&labels[i], options[i])).collect();
        let inside = boxes
            .iter()
            .flatten()
            .all(|b| b.x0 >= cols.start && b.x1 <= cols.end);
        let apart = (0..n).all(|i| {
            (0..n).all(|j| {
                let (Some(a), Some(b)) = (boxes[i], boxes[j]) else {
                    return true;
                };
                // Boxes apart, and line i (from its box down to the plot) clear of box j.
                let x = labels[i].x;
                let line_hits_b = b.x0 - 2 <= x && x <= b.x1 + 2 && a.y0 < b.y1;
                i == j || !(a.overlaps(&b) || line_hits_b)
            })
        });
        if !(inside && apart) {
            continue;
        }
        let cost: u32 = options
            .iter()
            .map(|&o| match o {
                4 => 1000,
                o => 10 * (o / 2) as u32 + (o % 2) as u32,
            })
            .sum();
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, boxes));
        }
    }
    let mut boxes = best.map(|b| b.1).unwrap_or_default();
    boxes.resize(labels.len(), None);
    boxes
}

/// The tries in the order they were made, as a table in the legend column from `top`: number,
/// value and `outages/reps`. Rows that do not fit are summed up in a last row.
fn draw_try_table<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tries: &[CrashTry],
    top: i32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if tries.is_empty() {
        return Ok(());
    }
    let (_, area_h) = area.dim_in_pixel();
    let row_h = 22;
    let left = Pos::new(HPos::Left, VPos::Center);
    let right = Pos::new(HPos::Right, VPos::Center);
    area.draw(&Text::new(
        "tries, in order",
        (8, top),
        style(LEGEND_SIZE, &TEXT).pos(left),
    ))?;
    let mut y = top + 26;
    let heads = [
        ("#", 36, right),
        ("value", 140, right),
        ("outages / reps", 160, left),
    ];
    for (text, x, pos) in heads {
        area.draw(&Text::new(
            text,
            (x, y),
            style(NOTE_SIZE, &TEXT_DIM).pos(pos),
        ))?;
    }
    let fits = ((area_h as i32 - 8 - y) / row_h).max(0) as usize;
    let shown = if tries.len() <= fits {
        tries.len()
    } else {
        fits.saturating_sub(1)
    };
    for (i, t) in tries.iter().take(shown).enumerate() {
        y += row_h;
        let k = t.outages.min(t.reps);
        let pct = 100.0 * f64::from(k) / f64::from(t.reps.max(1));
        let pct = match k {
            0 => "0%".to_string(),
            k if k == t.reps => "100%".to_string(),
            _ if pct < 1.0 => "<1%".to_string(),
            _ if pct > 99.0 => ">99%".to_string(),
            _ => format!("{pct:.0}%"),
        };
        let share = if t.reps > 0 {
            format!("{k}/{}  ({pct})", t.reps)
        } else {
            "no replications".to_string()
        };
        let cells = [
            (format!("{}", i + 1), 36, right),
            (fmt_sig(t.value, 6), 140, right),
            (share, 160, left),
        ];
        for (text, x, pos) in cells {
            area.draw(&Text::new(text, (x, y), style(NOTE_SIZE, &TEXT).pos(pos)))?;
        }
    }
    if shown < tries.len() {
        y += row_h;
        area.draw(&Text::new(
            format!("… and {} more", tries.len() - shown),
            (8, y),
            style(NOTE_SIZE, &TEXT_DIM).pos(left),
        ))?;
    }
    Ok(())
}

impl Figure for CrashFig<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, FIG_H)
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (title_area, rest) = root.split_vertically(TITLE_H);
        let note = match (self.crash_point, self.ci95) {
            (Some(c), Some((a, b))) => format!(
                "crash point {} ({} {} – {})",
                fmt_num(c),
                self.interval_name,
                fmt_num(a),
                fmt_num(b)
            ),
            (Some(c), None) => format!("crash point {}", fmt_num(c)),
            (None, _) => "no crash point found".to_string(),
        };
        draw_title(
            &title_area,
            self.title,
            Some(&note),
            WIDTH - WIDE_LEGEND_W - PLOT_MARGIN_RIGHT,
        )?;
        let (body, _) = rest.split_vertically(FIG_H - TITLE_H - BOTTOM_PAD);
        let (plot_area, legend_area) = body.split_horizontally(WIDTH - WIDE_LEGEND_W);

        let tries: Vec<(CrashTry, (f64, f64, f64))> = self
            .tries
            .iter()
            .filter(|t| t.value.is_finite())
            .filter_map(|t| wilson(t.outages, t.reps).map(|w| (*t, w)))
            .collect();
        let values = tries
            .iter()
            .map(|t| t.0.value)
            .chain(self.crash_point)
            .chain(self.ci95.into_iter().flat_map(|(a, b)| [a, b]))
            .chain(self.p10)
            .chain(self.p90);
        let (lo, hi) = padded_range(values, 0.05);
        let width = |s: &str| text_size(root, s, TICK_SIZE).0;
        let plot_w = WIDTH - WIDE_LEGEND_W - Y_LABEL_AREA - PLOT_MARGIN_RIGHT;
        let x = Scale {
            lo,
            hi,
            ticks: thin_ticks(nice_ticks(lo, hi, 10), (lo, hi), plot_w, &width, 14),
        };
        let y = Scale {
            lo: -0.04,
            hi: 1.04,
            ticks: nice_ticks(0.0, 1.0, 10),
        };
        let x_desc = if self.parameter.is_empty() {
            "parameter"
        } else {
            self.parameter
        };
        let mut chart = ChartBuilder::on(&plot_area)
            .margin_top(LINE_LABEL_BAND)
            .margin_right(PLOT_MARGIN_RIGHT)
            .x_label_area_size(X_LABEL_AREA + X_DESC_EXTRA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(x.clone(), y.clone())?;
        draw_mesh(&mut chart, Some(x_desc), true)?;
        let (cols, rows) = chart.plotting_area().get_pixel_range();
        draw_y_desc(&plot_area, "outage probability", &rows)?;

        // Interval band, quantile lines, the 0.5 level and the crash point, under the data.
        let band = CRASH.mix(0.13);
        if let Some((a, b)) = self.ci95 {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, y.lo), (b, y.hi)],
                band.filled(),
            )))?;
        }
        chart.draw_series(DashedLineSeries::new(
            vec![(x.lo, 0.5), (x.hi, 0.5)],
            3,
            5,
            TEXT_DIM.stroke_width(2),
        ))?;
        for q in [self.p10, self.p90].into_iter().flatten() {
            chart.draw_series(DashedLineSeries::new(
                vec![(q, y.lo), (q, y.hi)],
                10,
                6,
                QUANTILE.stroke_width(2),
            ))?;
        }
        if let Some(c) = self.crash_point {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(c, y.lo), (c, y.hi)],
                CRASH.stroke_width(3),
            )))?;
        }

        // Labels of the vertical lines, in the band above the plot, each joined to its line.
        let mut line_labels: Vec<(f64, String, RGBColor)> = Vec::new();
        if let Some(c) = self.crash_point {
            line_labels.push((c, format!("crash point {}", fmt_num(c)), CRASH));
        }
        if let Some(q) = self.p90 {
            line_labels.push((q, format!("p90 {}", fmt_num(q)), QUANTILE));
        }
        if let Some(q) = self.p10 {
            line_labels.push((q, format!("p10 {}", fmt_num(q)), QUANTILE));
        }
        let specs: Vec<LineLabel> = line_labels
            .iter()
            .map(|(v, text, _)| {
                let (tw, th) = text_size(root, text, NOTE_SIZE);
                LineLabel {
                    x: chart.backend_coord(&(*v, y.hi)).0,
                    w: tw as i32 + 12,
                    h: th as i32 + 8,
                    right: self.crash_point.is_none_or(|c| *v >= c),
                }
            })
            .collect();
        let boxes = place_line_labels(&specs, &cols, rows.start - 6);
        for ((_, text, color), (spec, b)) in line_labels.iter().zip(specs.iter().zip(&boxes)) {
            let Some(b) = b else { continue };
            root.draw(&PathElement::new(
                vec![(spec.x, b.y0), (spec.x, rows.start)],
                color.stroke_width(2),
            ))?;
            let corners = [(b.x0, b.y0), (b.x1, b.y1)];
            root.draw(&Rectangle::new(corners, WHITE.filled()))?;
            root.draw(&Rectangle::new(corners, color.stroke_width(1)))?;
            root.draw(&Text::new(
                text.clone(),
                (b.x0 + 6, (b.y0 + b.y1) / 2),
                style(NOTE_SIZE, color).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }

        // The fitted curve, under the tries.
        if let Some(f) = self.curve {
            let n = 240;
            let pts: Vec<(f64, f64)> = (0..=n)
                .map(|i| {
                    let v = x.lo + (x.hi - x.lo) * f64::from(i) / f64::from(n);
                    (v, f(v))
                })
                .filter(|p| p.1.is_finite())
                .collect();
            chart.draw_series(LineSeries::new(pts, CURVE.stroke_width(2)))?;
        }

        // Tries: Wilson whiskers, then markers sized by replications, then `outages/reps` labels.
        for (t, (_, a, b)) in &tries {
            draw_whisker(&mut chart, t.value, (*a, *b), (0.0, 1.0), BLUE)?;
        }
        let mut obstacles: Vec<PxBox> = Vec::new();
        for (t, (_, a, b)) in &tries {
            let (wx, wy0) = chart.backend_coord(&(t.value, *b));
            let (_, wy1) = chart.backend_coord(&(t.value, *a));
            obstacles.push(PxBox {
                x0: wx - CAP - 1,
                y0: wy0 - 1,
                x1: wx + CAP + 1,
                y1: wy1 + 1,
            });
        }
        for v in [self.crash_point, self.p10, self.p90].into_iter().flatten() {
            let lx = chart.backend_coord(&(v, y.hi)).0;
            obstacles.push(PxBox {
                x0: lx - 2,
                y0: rows.start,
                x1: lx + 2,
                y1: rows.end,
            });
        }
        let half = chart.backend_coord(&(x.lo, 0.5)).1;
        obstacles.push(PxBox {
            x0: cols.start,
            y0: half - 1,
            x1: cols.end,
            y1: half + 1,
        });
        for (t, (p, _, _)) in &tries {
            let r = marker_radius(t.reps);
            draw_marker(&mut chart, (t.value, *p), r, BLUE)?;
            let (cx, cy) = chart.backend_coord(&(t.value, *p));
            obstacles.push(PxBox {
                x0: cx - r - 2,
                y0: cy - r - 2,
                x1: cx + r + 2,
                y1: cy + r + 2,
            });
        }
        let mut labels: Vec<PxBox> = Vec::new();
        for (t, (p, _, _)) in &tries {
            let text = format!("{}/{}", t.outages.min(t.reps), t.reps);
            let (tw, th) = text_size(root, &text, NOTE_SIZE);
            let (w, h) = (tw as i32 + 4, th as i32 + 2);
            let r = marker_radius(t.reps);
            let (cx, cy) = chart.backend_coord(&(t.value, *p));
            let candidates = [
                (cx + r + 5, cy - h / 2),
                (cx - r - 5 - w, cy - h / 2),
                (cx - w / 2, cy - r - 6 - h),
                (cx - w / 2, cy + r + 6),
                (cx + r + 3, cy - r - h),
                (cx - r - 3 - w, cy - r - h),
                (cx + r + 3, cy + r),
                (cx - r - 3 - w, cy + r),
            ];
            let fits = |b: &PxBox| {
                b.x0 >= cols.start
                    && b.x1 <= cols.end
                    && b.y0 >= rows.start
                    && b.y1 <= rows.end
                    && obstacles.iter().chain(&labels).all(|o| !o.overlaps(b))
            };
            let spot = candidates
                .iter()
                .map(|&(x0, y0)| PxBox {
                    x0,
                    y0,
                    x1: x0 + w,
                    y1: y0 + h,
                })
                .find(fits);
            if let Some(b) = spot {
                root.draw(&Text::new(
                    text,
                    (b.x0 + 2, (b.y0 + b.y1) / 2),
                    style(NOTE_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
                labels.push(b);
            }
        }
        if tries.is_empty() {
            draw_no_data(&chart, "no tries")?;
        }

        // Legend.
        let mut entries = vec![
            entry(
                Glyph::Marker(BLUE, 7),
                "tried value",
                Some("size ∝ replications".to_string()),
            ),
            entry(
                Glyph::Whisker(BLUE),
                "95% Wilson interval",
                Some("label: outages / replications".to_string()),
            ),
        ];
        if let Some(c) = self.crash_point {
            entries.push(entry(
                Glyph::Line(CRASH, 3, Dash::Solid),
                &format!("crash point {}", fmt_num(c)),
                Some("outage probability 0.5".to_string()),
            ));
        }
        if let Some((a, b)) = self.ci95 {
            entries.push(entry(
                Glyph::Band(band, RGBColor(216, 140, 148)),
                &format!("crash point {}", self.interval_name),
                Some(format!("{} – {}", fmt_num(a), fmt_num(b))),
            ));
        }
        if self.curve.is_some() {
            entries.push(entry(
                Glyph::Line(CURVE, 2, Dash::Solid),
                "logistic fit",
                Some("outage probability".to_string()),
            ));
        }
        for (name, q, share) in [("p10", self.p10, "0.1"), ("p90", self.p90, "0.9")] {
            if let Some(q) = q {
                entries.push(entry(
                    Glyph::Line(QUANTILE, 2, Dash::Dashed),
                    &format!("{name} {}", fmt_num(q)),
                    Some(format!("outage probability {share}")),
                ));
            }
        }
        entries.push(entry(
            Glyph::Line(TEXT_DIM, 2, Dash::Dotted),
            "outage probability 0.5",
            None,
        ));
        let below = draw_legend(&legend_area, &entries, rows.start - TITLE_H as i32 + 12)?;
        draw_try_table(&legend_area, self.in_order, below + 6)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn size_of(p: &Path) -> u64 {
        std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
    }

    /// Copies `png` (and the SVG next to it) to `$SURGE_SWEEP_SAMPLES/<name>.png` when set.
    fn keep_sample(png: &Path, svg: &Path, name: &str) {
        if let Some(dir) = std::env::var_os("SURGE_SWEEP_SAMPLES") {
            let dir = PathBuf::from(dir);
            std::fs::copy(png, dir.join(format!("{name}.png"))).unwrap();
            std::fs::copy(svg, dir.join(format!("{name}.svg"))).unwrap();
        }
    }

    fn logistic(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// 10 points of `tier.web.instances` 4..22: outages vanish around 11.
    fn sample_sweep() -> (Axis, Vec<MetricSeries>) {
        let x: Vec<f64> = (0..10).map(|i| 4.0 + 2.0 * f64::from(i)).collect();
        let p: Vec<f64> = x.iter().map(|&v| logistic((11.3 - v) * 1.1)).collect();
        let p_ci: Vec<f64> = p
            .iter()
            .map(|&p| 1.96 * (p * (1.0 - p) / 40.0).sqrt())
            .collect();
        let rec: Vec<f64> = x
            .iter()
            .map(|&v| (9.0 * 3600.0 * (1.0 - (v - 4.0) / 12.0)).max(0.0))
            .collect();
        let rec_ci: Vec<f64> = rec.iter().map(|&r| 0.12 * r).collect();
        let lat: Vec<f64> = x
            .iter()
            .map(|&v| 0.25 + 30.0 * logistic((10.0 - v) * 0.9))
            .collect();
        let lat_ci: Vec<f64> = lat.iter().map(|&l| 0.15 * l).collect();
        let axis = Axis {
            name: "tier.web.instances".to_string(),
            x,
            labels: None,
        };
        let metrics = vec![
            MetricSeries {
                label: "outage probability".to_string(),
                unit: String::new(),
                probability: true,
                mean: p,
                ci95: p_ci,
                ..MetricSeries::default()
            },
            MetricSeries {
                label: "recovery time".to_string(),
                unit: "s".to_string(),
                mean: rec,
                ci95: rec_ci,
                notes: vec!["not recovered in 1 of 4".to_string()],
                ..MetricSeries::default()
            },
            MetricSeries {
                label: "p95 latency".to_string(),
                unit: "s".to_string(),
                mean: lat,
                ci95: lat_ci,
                ..MetricSeries::default()
            },
        ];
        (axis, metrics)
    }

    #[test]
    fn draws_sample_sweep() {
        let (axis, metrics) = sample_sweep();
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = (dir.path().join("sweep.png"), dir.path().join("sweep.svg"));
        draw_sweep(
            "ircc-2016 — sweep of web instances",
            &axis,
            &metrics,
            &png,
            &svg,
        )
        .unwrap();
        assert!(size_of(&png) > 30_000, "png is {} bytes", size_of(&png));
        assert!(size_of(&svg) > 20_000, "svg is {} bytes", size_of(&svg));
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("recovery time (h)"), "seconds shown in hours");
        assert!(text.contains("p95 latency (s)"));
        assert!(text.contains("outage probability"));
        assert!(text.contains("tier.web.instances"));
        // No temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        keep_sample(&png, &svg, "sample-sweep");
    }

    /// 6 x 5 grid of web instances against the surge peak.
    fn sample_heatmap() -> (Axis, Axis, Vec<Vec<f64>>) {
        let x = Axis {
            name: "tier.web.instances".to_string(),
            x: vec![4.0, 8.0, 12.0, 16.0, 20.0, 24.0],
            labels: None,
        };
        let y = Axis {
            name: "surge.peak (users)".to_string(),
            x: vec![20_000.0, 30_000.0, 40_000.0, 50_000.0, 60_000.0],
            labels: None,
        };
        let z =
            y.x.iter()
                .map(|&peak| {
                    x.x.iter()
                        .map(|&n| logistic((peak / 3000.0 - n) * 0.9))
                        .collect()
                })
                .collect();
        (x, y, z)
    }

    #[test]
    fn draws_sample_heatmap() {
        let (x, y, mut z) = sample_heatmap();
        z[4][0] = f64::NAN;
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = (dir.path().join("heat.png"), dir.path().join("heat.svg"));
        draw_heatmap(
            "ircc-2016 — outages by instances and peak",
            &x,
            &y,
            &z,
            &png,
            &svg,
        )
        .unwrap();
        assert!(size_of(&png) > 30_000, "png is {} bytes", size_of(&png));
        assert!(size_of(&svg) > 20_000, "svg is {} bytes", size_of(&svg));
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("outage probability"));
        assert!(text.contains("crash boundary"));
        assert!(text.contains("no data"));
        assert!(text.contains("surge.peak (users)"));
        keep_sample(&png, &svg, "sample-heatmap");
    }

    fn sample_tries() -> Vec<CrashTry> {
        let t = |value, reps, outages| CrashTry {
            value,
            reps,
            outages,
        };
        vec![
            t(4.0, 10, 10),
            t(22.0, 10, 0),
            t(13.0, 20, 3),
            t(8.5, 20, 19),
            t(10.75, 30, 19),
            t(11.875, 30, 10),
            t(11.3, 40, 21),
            t(11.6, 40, 15),
        ]
    }

    #[test]
    fn draws_sample_crashpoint() {
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = (dir.path().join("crash.png"), dir.path().join("crash.svg"));
        let tries = sample_tries();
        let curve = |x: f64| 1.0 / (1.0 + (-(x - 11.3) * -2.0).exp());
        let chart = CrashChart {
            title: "ircc-2016 — crash point of web instances",
            parameter: "tier.web.instances",
            points: &tries,
            in_order: &tries,
            crash_point: Some(11.3),
            interval: Some((10.9, 11.75)),
            interval_name: "95% interval".to_string(),
            p10: Some(12.6),
            p90: Some(10.1),
            curve: Some(&curve),
        };
        draw_crashpoint(&chart, &png, &svg).unwrap();
        assert!(size_of(&png) > 30_000, "png is {} bytes", size_of(&png));
        assert!(size_of(&svg) > 20_000, "svg is {} bytes", size_of(&svg));
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("crash point 11.3"));
        assert!(text.contains("crash point 95% interval"));
        assert!(text.contains("logistic fit"));
        assert!(!text.contains("CI"), "a 95% interval is not called a CI here");
        assert!(text.contains("outage probability"));
        assert!(text.contains("tier.web.instances"));
        keep_sample(&png, &svg, "sample-crashpoint");
    }

    #[test]
    fn degenerate_sweeps_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        let mut draw = |axis: &Axis, metrics: &[MetricSeries]| {
            n += 1;
            let png = dir.path().join(format!("s{n}.png"));
            let svg = dir.path().join(format!("s{n}.svg"));
            draw_sweep("degenerate", axis, metrics, &png, &svg).unwrap();
            keep_sample(&png, &svg, &format!("degenerate-sweep-{n}"));
            assert!(size_of(&png) > 1000 && size_of(&svg) > 1000);
        };
        let metric = |mean: Vec<f64>, ci95: Vec<f64>| MetricSeries {
            label: "m".to_string(),
            unit: "s".to_string(),
            mean,
            ci95,
            ..MetricSeries::default()
        };
        let nan = f64::NAN;
        draw(&Axis::default(), &[]);
        draw(&Axis::default(), &[metric(vec![], vec![])]);
        let one = Axis {
            name: "x".to_string(),
            x: vec![3.0],
            labels: None,
        };
        draw(&one, &[metric(vec![5.0], vec![1.0])]);
        draw(&one, &[metric(vec![nan], vec![nan])]);
        let equal = Axis {
            name: "x".to_string(),
            x: vec![2.0, 2.0, 2.0],
            labels: None,
        };
        draw(&equal, &[metric(vec![0.0, 0.0, 0.0], vec![0.0, nan, -1.0])]);
        let odd = Axis {
            name: String::new(),
            x: vec![nan, 1.0, f64::INFINITY, -4.0, 1e12],
            labels: None,
        };
        draw(
            &odd,
            &[
                metric(vec![1.0, nan, 3.0], vec![nan; 7]),
                metric(vec![-5.0, 1e300, f64::INFINITY, -1e-300, 0.0, 9.0], vec![]),
            ],
        );
        // Probabilities exactly 0 and 1 with whiskers past the ends.
        let p = MetricSeries {
            label: "outage probability".to_string(),
            unit: String::new(),
            probability: true,
            mean: vec![1.0, 1.0, 0.0, 0.0],
            ci95: vec![0.3, 0.0, 0.2, nan],
            ..MetricSeries::default()
        };
        let four = Axis {
            name: "x".to_string(),
            x: vec![1.0, 2.0, 3.0, 4.0],
            labels: None,
        };
        draw(&four, std::slice::from_ref(&p));
        // Categories, with more labels than points and very long names.
        let cats = Axis {
            name: "retry.policy".to_string(),
            x: vec![0.0, 1.0, 2.0],
            labels: Some(vec![
                "none".to_string(),
                "exponential backoff with full jitter and a budget".to_string(),
                "fixed 1 s".to_string(),
                "unused".to_string(),
            ]),
        };
        draw(
            &cats,
            &[p.clone(), metric(vec![1.0, 2.0, 3.0], vec![0.1; 3])],
        );
        let many = Axis {
            name: "x".to_string(),
            x: (0..300).map(f64::from).collect(),
            labels: Some((0..300).map(|i| format!("category number {i}")).collect()),
        };
        draw(&many, &[p]);
    }

    #[test]
    fn sweep_shows_category_names() {
        let dir = tempfile::tempdir().unwrap();
        let axis = Axis {
            name: "retry.policy".to_string(),
            x: vec![0.0, 1.0, 2.0],
            labels: Some(vec!["none".into(), "exponential".into(), "jittered".into()]),
        };
        let m = MetricSeries {
            label: "goodput".to_string(),
            unit: "req/s".to_string(),
            mean: vec![1200.0, 15_000.0, 16_500.0],
            ci95: vec![100.0, 800.0, 900.0],
            ..MetricSeries::default()
        };
        let (png, svg) = (dir.path().join("c.png"), dir.path().join("c.svg"));
        draw_sweep("retry policies", &axis, std::slice::from_ref(&m), &png, &svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        for name in ["none", "exponential", "jittered", "goodput (req/s)"] {
            assert!(text.contains(name), "{name} missing");
        }
        // Categories are not joined by a line (the same values on a numeric axis are).
        let lines = |svg: &str| {
            svg.split("<polyline")
                .skip(1)
                .filter(|el| {
                    let points = el.split("points=\"").nth(1).unwrap_or("");
                    let points = points.split('"').next().unwrap_or("");
                    points.split_whitespace().count() > 2
                })
                .count()
        };
        assert_eq!(lines(&text), 0, "a line joins the categories");
        let numeric = Axis {
            labels: None,
            ..axis
        };
        draw_sweep("retry policies", &numeric, &[m], &png, &svg).unwrap();
        assert!(lines(&std::fs::read_to_string(&svg).unwrap()) > 0);
    }

    #[test]
    fn degenerate_heatmaps_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        let mut draw = |x: &Axis, y: &Axis, z: &[Vec<f64>]| {
            n += 1;
            let png = dir.path().join(format!("h{n}.png"));
            let svg = dir.path().join(format!("h{n}.svg"));
            draw_heatmap("degenerate", x, y, z, &png, &svg).unwrap();
            keep_sample(&png, &svg, &format!("degenerate-heatmap-{n}"));
            assert!(size_of(&png) > 1000 && size_of(&svg) > 1000);
        };
        let axis = |x: Vec<f64>| Axis {
            name: "a".to_string(),
            x,
            labels: None,
        };
        let nan = f64::NAN;
        draw(&Axis::default(), &Axis::default(), &[]);
        draw(&axis(vec![1.0]), &axis(vec![2.0]), &[vec![0.7]]);
        draw(&axis(vec![1.0]), &axis(vec![0.0]), &[]);
        draw(
            &axis(vec![1.0, 2.0]),
            &axis(vec![1.0, 2.0]),
            &[vec![nan, nan], vec![nan, nan]],
        );
        // All 0, all 1, exactly 0 / 1 split, exactly 0.5 everywhere.
        let (x, y, _) = sample_heatmap();
        for v in [0.0, 1.0, 0.5] {
            draw(&x, &y, &vec![vec![v; 6]; 5]);
        }
        let split: Vec<Vec<f64>> = (0..5)
            .map(|iy| (0..6).map(|ix| if ix > iy { 0.0 } else { 1.0 }).collect())
            .collect();
        draw(&x, &y, &split);
        // Equal and NaN grid values, unsorted values, ragged z, values outside 0..1.
        draw(
            &axis(vec![3.0, 3.0, nan]),
            &axis(vec![5.0, 1.0, 3.0]),
            &[vec![0.2, 0.9], vec![2.0, -1.0, 0.6, 0.7], vec![]],
        );
        // Categories on both axes, long names, saddles.
        let cats = |names: &[&str]| Axis {
            name: "policy".to_string(),
            x: (0..names.len()).map(|i| i as f64).collect(),
            labels: Some(names.iter().map(|s| s.to_string()).collect()),
        };
        draw(
            &cats(&["none", "exponential backoff with jitter", "fixed"]),
            &cats(&[
                "a very long category name indeed, longer than the room",
                "b",
            ]),
            &[vec![0.0, 1.0, 0.0], vec![1.0, 0.0, 1.0]],
        );
        // A large grid: no cell values, thinned ticks.
        let big: Vec<f64> = (0..80).map(f64::from).collect();
        let zz: Vec<Vec<f64>> = (0..80)
            .map(|j| (0..80).map(|i| f64::from((i * j) % 7) / 6.0).collect())
            .collect();
        draw(&axis(big.clone()), &axis(big), &zz);
    }

    #[test]
    fn degenerate_crashpoints_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = 0;
        let mut draw = |tries: &[CrashTry],
                        c: Option<f64>,
                        ci: Option<(f64, f64)>,
                        p10: Option<f64>,
                        p90: Option<f64>| {
            n += 1;
            let png = dir.path().join(format!("c{n}.png"));
            let svg = dir.path().join(format!("c{n}.svg"));
            let chart = CrashChart {
                title: "degenerate",
                parameter: "",
                points: tries,
                in_order: tries,
                crash_point: c,
                interval: ci,
                interval_name: "bracket".to_string(),
                p10,
                p90,
                curve: None,
            };
            draw_crashpoint(&chart, &png, &svg).unwrap();
            keep_sample(&png, &svg, &format!("degenerate-crashpoint-{n}"));
            assert!(size_of(&png) > 1000 && size_of(&svg) > 1000);
        };
        let t = |value, reps, outages| CrashTry {
            value,
            reps,
            outages,
        };
        draw(&[], None, None, None, None);
        draw(&[], Some(5.0), Some((6.0, 4.0)), Some(f64::NAN), None);
        draw(&[t(3.0, 0, 0)], None, None, None, None);
        draw(
            &[t(3.0, 5, 9), t(3.0, 5, 0), t(3.0, 1, 1)],
            Some(3.0),
            None,
            None,
            None,
        );
        draw(
            &[
                t(f64::NAN, 5, 1),
                t(f64::INFINITY, 5, 1),
                t(1e300, 2, 1),
                t(-1e300, 2, 1),
            ],
            Some(f64::INFINITY),
            Some((f64::NAN, 1.0)),
            Some(1.0),
            Some(1.0),
        );
        // Many crowded tries.
        let many: Vec<CrashTry> = (0..200)
            .map(|i| t(10.0 + f64::from(i) * 0.001, 1000, i * 5))
            .collect();
        draw(
            &many,
            Some(10.1),
            Some((10.05, 10.15)),
            Some(10.2),
            Some(10.0),
        );
    }

    #[test]
    fn units_scale_with_the_values() {
        assert_eq!(display_unit("s", 9.0 * 3600.0), (3600.0, "h".to_string()));
        assert_eq!(display_unit("s", 7200.0), (60.0, "min".to_string()));
        assert_eq!(display_unit("s", 600.0), (60.0, "min".to_string()));
        assert_eq!(display_unit("s", 120.0), (1.0, "s".to_string()));
        assert_eq!(display_unit("s", f64::NAN), (1.0, "s".to_string()));
        assert_eq!(display_unit("ms", 450.0), (1.0, "ms".to_string()));
        assert_eq!(display_unit("ms", 5000.0), (1000.0, "s".to_string()));
        assert_eq!(display_unit("ms", 3e5), (60_000.0, "min".to_string()));
        assert_eq!(display_unit("req/s", 1e9), (1.0, "req/s".to_string()));
        assert_eq!(with_unit("recovery time", "h"), "recovery time (h)");
        assert_eq!(with_unit("outage probability", ""), "outage probability");
    }

    #[test]
    fn numbers_and_ticks() {
        assert_eq!(fmt_num(11.3), "11.3");
        assert_eq!(fmt_num(4.0), "4");
        assert_eq!(fmt_num(40_000.0), "40k");
        assert_eq!(fmt_num(-0.0), "0");
        assert_eq!(fmt_num(0.05), "0.05");
        assert_eq!(fmt_num(f64::NAN), "n/a");
        let labels: Vec<String> = nice_ticks(0.0, 1.0, 5).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        let labels: Vec<String> = nice_ticks(0.0, 60_000.0, 6)
            .into_iter()
            .map(|t| t.1)
            .collect();
        assert_eq!(labels[1], "10k");
        let labels: Vec<String> = nice_ticks(0.0, 1e12, 5).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0", "2e11", "4e11", "6e11", "8e11", "1e12"]);
        assert_eq!(fmt_num(2.5e11), "2.5e11");
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        assert!(nice_ticks(0.0, f64::INFINITY, 5).is_empty());
    }

    #[test]
    fn the_boundary_follows_the_cells() {
        let cells = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)];
        // Failing cells (1) in the bottom right corner of a 3 x 3 grid.
        let v = [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]];
        let at = |i: usize, j: usize| v[j][i];
        let lines = cell_boundary(&cells, &cells, &at, 0.5);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        // A staircase along cell edges: every step is horizontal or vertical, and on a grid line.
        for w in line.windows(2) {
            assert!(w[0].0 == w[1].0 || w[0].1 == w[1].1, "{line:?}");
        }
        for p in line {
            assert!(p.0.fract() == 0.0 && p.1.fract() == 0.0, "{line:?}");
        }
        let mut ends = [line[0], line[line.len() - 1]];
        ends.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(ends, [(1.0, 0.0), (3.0, 2.0)], "{line:?}");
        assert_eq!(line.len(), 5, "{line:?}");
        // No failing cell, or cells without values: no boundary.
        assert!(cell_boundary(&cells, &cells, &|_, _| 0.2, 0.5).is_empty());
        assert!(cell_boundary(&cells, &cells, &|i, _| if i == 0 { f64::NAN } else { 1.0 }, 0.5).is_empty());
    }

    #[test]
    fn heatmap_grid_cells() {
        let g = Grid::new(&Axis {
            name: "x".to_string(),
            x: vec![8.0, 4.0, 16.0],
            labels: None,
        });
        assert!(g.numeric);
        assert_eq!(g.cells, vec![(6.0, 12.0), (2.0, 6.0), (12.0, 20.0)]);
        assert_eq!((g.lo, g.hi), (2.0, 20.0));
        let g = Grid::new(&Axis {
            name: "x".to_string(),
            x: vec![1.0, 1.0],
            labels: None,
        });
        assert!(!g.numeric);
        assert_eq!(g.cells, vec![(-0.5, 0.5), (0.5, 1.5)]);
    }
}
