//! The sweep chart: stacked panels sharing the varied parameter as x axis, one per metric, each
//! the mean over replications with its 95% interval; what a mean leaves out is written beside
//! it ("not recovered in 1 of 4") and a mean that is only a lower bound is an upward triangle.
//! Categories (a varied policy) are points, never joined by a line.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{Entry, Glyph, draw_legend, entry};
use super::parts::*;
use super::scale::*;
use super::theme::*;
use super::theme::{BLUE, GREEN};
use super::{Figure, write_figure};

/// One colour per sweep panel, in turn.
const PALETTE: [RGBColor; 6] = [BLUE, ORANGE, GREEN, PURPLE, BROWN, TEAL];
/// Height of one sweep panel, its title included.
const PANEL_H: u32 = 300;

/// One metric against the varied parameter: mean and 95% half-width at each point.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MetricSeries {
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
    /// The quantity is never negative (a time, a count): whiskers and the axis stop at 0.
    pub nonnegative: bool,
}

/// The varied parameter: numeric values, or categories (then `x` is 0..n and `labels` names them).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Axis {
    /// Parameter name, shown as the axis description, e.g. `"tier.web.instances"`.
    pub name: String,
    pub x: Vec<f64>,
    pub labels: Option<Vec<String>>,
}

/// Draws a sweep: stacked panels sharing the x axis, one per metric, each a line with markers and
/// 95% error bars (vertical whiskers with caps). NaN means no value: the point is skipped (and
/// breaks the line); a NaN (or zero) half-width draws no whisker.
///
/// About 1400 px wide and 300 px per panel. Metrics whose values
/// are all in 0..1 and that have no unit and a name like "... probability" / "... rate" get a
/// fixed 0..1 axis. Both files are written atomically.
pub(crate) fn draw_sweep(
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

struct SweepFig<'a> {
    title: &'a str,
    axis: &'a Axis,
    metrics: &'a [MetricSeries],
}

/// The sweep's x scale and the position of each point (NaN: left out).
fn sweep_x(axis: &Axis, plot_w: u32, width: &dyn Fn(&str) -> u32) -> (Scale, Vec<f64>) {
    let xs: Vec<f64> = axis.x.clone();
    let (lo, hi, ticks) = match &axis.labels {
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
            (lo, hi, ticks)
        }
        None => {
            let (lo, hi) = padded_range(xs.iter().copied(), 0.04);
            let ticks = grid_or_nice_ticks(&xs, (lo, hi), plot_w, width, 14, 12);
            (lo, hi, ticks)
        }
    };
    (
        Scale {
            lo,
            hi,
            log: false,
            ticks,
        },
        xs,
    )
}

/// The y scale of one metric panel: fixed 0..1 for probabilities, else from zero (or the lowest
/// value or whisker when negative, none below `floor`) to the top of the highest whisker.
fn metric_y(points: &[(f64, f64, f64)], prob: bool, floor: f64) -> Scale {
    if prob {
        return Scale {
            log: false,
            lo: -0.04,
            hi: 1.04,
            ticks: nice_ticks(0.0, 1.0, 5),
        };
    }
    let has_data = points.iter().any(|p| p.1.is_finite());
    if !has_data {
        return Scale {
            log: false,
            lo: 0.0,
            hi: 1.0,
            ticks: nice_ticks(0.0, 1.0, 5),
        };
    }
    let values = points.iter().flat_map(|&(_, m, c)| {
        let c = if c.is_finite() && c > 0.0 { c } else { 0.0 };
        [m, (m - c).max(floor), m + c]
    });
    let (lo, hi) = if values.clone().all(|v| v == 0.0 || v.is_nan()) {
        (-0.05, 1.05)
    } else {
        padded_range(values.chain(std::iter::once(0.0)), 0.05)
    };
    Scale {
        log: false,
        lo,
        hi,
        ticks: nice_ticks(lo, hi, 5),
    }
}

impl Figure for SweepFig<'_> {
    fn size(&self) -> (u32, u32) {
        let panels = self.metrics.len().max(1) as u32;
        (
            FIG_W,
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
            FIG_W - LEGEND_W - PLOT_MARGIN_RIGHT,
        )?;
        let width = |s: &str| text_size(root, s, TICK_SIZE).0;
        let plot_w = FIG_W - LEGEND_W - Y_LABEL_AREA - PLOT_MARGIN_RIGHT;
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
    let (chart_area, legend_area) = area.split_horizontally(FIG_W - LEGEND_W);
    let (title_area, body) = chart_area.split_vertically(PANEL_TITLE_H);

    let (points, unit) = scaled_points(metric, xs);
    let prob = metric.probability;
    let noted = |i: usize| metric.notes.get(i).is_some_and(|n| !n.is_empty());
    let any_note = points.iter().any(|p| noted(p.3));
    let spans: Vec<(f64, f64, f64)> = points.iter().map(|p| (p.0, p.1, p.2)).collect();
    let floor = if metric.nonnegative {
        0.0
    } else {
        f64::NEG_INFINITY
    };
    let mut y = metric_y(&spans, prob, floor);
    if any_note && !prob {
        // Room at the top for the notes.
        y.hi += 0.3 * (y.hi - y.lo);
    }
    let desc = with_unit(&metric.label, &unit);

    let w = |s: &str| text_size(area, s, PANEL_TITLE_SIZE).0;
    title_area.draw(&Text::new(
        fit_text(
            &desc,
            FIG_W - LEGEND_W - Y_LABEL_AREA - PLOT_MARGIN_RIGHT,
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
    let clip = if prob {
        (0.0, 1.0)
    } else {
        (y.lo.max(floor), y.hi)
    };
    let any = draw_marks(&mut chart, metric, &points, (categories, color), clip)?;
    draw_notes(&chart, area, &metric.notes, &points)?;
    if !any && !any_note {
        draw_no_data(&chart, "no data")?;
        return Ok(());
    }

    let top = (PANEL_TITLE_H + PLOT_MARGIN_TOP) as i32 + 16;
    let any_lower = points
        .iter()
        .any(|p| lower_bound(metric, p.3) && p.1.is_finite());
    let entries = legend_entries(categories, color, any_lower);
    draw_legend(&legend_area, &entries, top)?;
    Ok(())
}

/// A metric's points in display units, sorted by x: (x, mean, half-width, index of the point),
/// and the display unit.
fn scaled_points(metric: &MetricSeries, xs: &[f64]) -> (Vec<(f64, f64, f64, usize)>, String) {
    let max_abs = metric
        .mean
        .iter()
        .zip(metric.ci95.iter().chain(std::iter::repeat(&0.0)))
        .map(|(&m, &c)| m.abs() + if c.is_finite() { c.abs() } else { 0.0 })
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let (div, unit) = display_unit(&metric.unit, max_abs);
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
    (points, unit)
}

/// Whether the metric's value at point `i` is only a lower bound (still down at the end).
fn lower_bound(metric: &MetricSeries, i: usize) -> bool {
    metric.at_least.get(i).copied().unwrap_or(false)
}

/// Line (broken where there is no value; none between categories), whiskers, then markers on
/// top: a triangle pointing up where the mean is only a lower bound. Says whether any mean was
/// drawn.
fn draw_marks<DB: DrawingBackend>(
    chart: &mut Plot<'_, DB>,
    metric: &MetricSeries,
    points: &[(f64, f64, f64, usize)],
    (categories, color): (bool, RGBColor),
    clip: (f64, f64),
) -> Result<bool>
where
    DB::ErrorType: 'static,
{
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
    for &(px, m, c, _) in points {
        if m.is_finite() && c.is_finite() && c > 0.0 {
            draw_whisker(chart, px, (m - c, m + c), clip, color)?;
        }
    }
    let mut any = false;
    for &(px, m, _, i) in points {
        if m.is_finite() {
            any = true;
            let r = if lower_bound(metric, i) { 7 } else { 5 };
            draw_marker(chart, (px, m), r, color, lower_bound(metric, i))?;
        }
    }
    Ok(any)
}

/// The panel's legend: mean, interval, and "at least" where a mean is a lower bound.
fn legend_entries(categories: bool, color: RGBColor, any_lower: bool) -> Vec<Entry> {
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
    if any_lower {
        entries.push(entry(
            Glyph::LowerBound(color),
            "at least",
            Some("still down at the end".to_string()),
        ));
    }
    entries
}

#[cfg(test)]
mod tests;
