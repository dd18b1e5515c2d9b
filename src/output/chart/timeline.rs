//! The timeline of one run (or of the mean over replications), for capacity planners.
//!
//! [`draw_timeline`] draws stacked panels that share one time axis: concurrent users (only where
//! a source has users), offered load, request outcomes per second, latency percentiles, the
//! window success rate, and two panels per tier on their own scales (busy threads with the
//! thread capacity; queued requests). Outage episodes are shaded in every panel; the start of the
//! outage (the site failing its SLO, whether or not anything crashed), its recovery, and the
//! first crash of an instance in each tier are marked with labelled vertical lines.

use std::path::Path;

use anyhow::{Result, bail};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::panels::{Curve, Layout, Panel, WIDTH, bucket_len};
use super::parts::Plot;
use super::parts::themed_mesh;
use super::scale::{TimeAxis, YAxis, elapsed_label, lin_map};
use super::theme::RED;
use super::theme::*;
use crate::metrics::series::TimeSeries;
use crate::store::atomic::write_atomically;

const EVENT_SIZE: f64 = 16.0;
const OUTAGE: RGBAColor = RGBAColor(214, 39, 40, 0.13);
const RECOVERED: RGBColor = RGBColor(27, 120, 55);
/// Instance crashes: apart from the outage (an outage needs no crash, a crash no outage).
const INSTANCE_CRASH: RGBColor = RGBColor(166, 86, 40);
const MAX_X_TICKS: usize = super::scale::MAX_X_TICKS;
const Y_TICKS: usize = super::scale::Y_TICKS;

/// What [`draw_timeline`] draws: the series plus the episode markers of the run.
pub(crate) struct Timeline<'a> {
    /// Chart title, e.g. `"ircc-2016 — seed 2016"`.
    pub title: &'a str,
    pub series: &'a TimeSeries,
    /// Outage episodes `[start_s, end_s)` in simulated seconds; shaded in every panel.
    pub outages: &'a [(f64, f64)],
    /// Start of the first outage, simulated seconds (labelled "outage": a site can fail its SLO
    /// by plain overload, without any instance crashing).
    pub crash_time_s: Option<f64>,
    /// Moment of recovery, simulated seconds.
    pub recovered_at_s: Option<f64>,
    /// The outages shaded are measured on requests (attempts, each retry one: the SLO's
    /// level); true when the calls (what clients asked for) had no outage of their own, which
    /// the labels then say, as the terminal's "outage by calls" line does.
    pub calls_stayed_up: bool,
    /// The first instance crash of each tier that had one.
    pub instance_crashes: Vec<InstanceCrash>,
    /// The SLO's success-rate target and the outage threshold, drawn as levels on the panel of
    /// the window success rate.
    pub slo_lines: Option<(f64, f64)>,
}

/// The first crash of an instance in a tier (out of memory, or a failure the model injects).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InstanceCrash {
    pub tier: String,
    pub t_s: f64,
    /// Instance crashes in the tier over the whole run.
    pub crashes: u64,
}

/// The first instance crash of each tier of a run that had one.
pub(crate) fn first_crashes(tiers: &[crate::metrics::summary::TierSummary]) -> Vec<InstanceCrash> {
    tiers
        .iter()
        .filter_map(|t| {
            Some(InstanceCrash {
                tier: t.name.clone(),
                t_s: t.first_crash_s?,
                crashes: t.crashes,
            })
        })
        .collect()
}

/// Draws the timeline of `t` to `png` and to `svg` (same layout, about 1600 x 1800 px; taller
/// when there are many tiers). Each file is written atomically.
pub(crate) fn draw_timeline(t: &Timeline, png: &Path, svg: &Path) -> Result<()> {
    if !font_registered() {
        bail!("could not load the embedded chart font");
    }
    let layout = Layout::new(t);
    let size = (WIDTH, layout.height);
    super::write_png(png, size, |root| render(root, t, &layout))?;
    write_atomically(svg, |p| {
        let root = SVGBackend::new(p, size).into_drawing_area();
        render(&root, t, &layout)?;
        root.present()?;
        Ok(())
    })?;
    Ok(())
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

    let crashes = t.instance_crashes.iter().map(|c| {
        let times = if c.crashes > 1 {
            format!(" (of {})", c.crashes)
        } else {
            String::new()
        };
        Some(Event {
            t: c.t_s,
            label: format!(
                "first {} instance crash {}{times}",
                c.tier,
                layout.x.event_label(c.t_s)
            ),
            color: INSTANCE_CRASH,
        })
    });
    let events: Vec<Event> = [
        t.crash_time_s.map(|s| Event {
            t: s,
            label: format!(
                "outage by requests{} {}",
                if t.calls_stayed_up {
                    " (calls stayed up)"
                } else {
                    ""
                },
                layout.x.event_label(s)
            ),
            color: CRASH,
        }),
        t.recovered_at_s.map(|s| Event {
            t: s,
            label: format!("recovered {}", layout.x.event_label(s)),
            color: RECOVERED,
        }),
    ]
    .into_iter()
    .chain(crashes)
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
        let lx = lin_map(e.t, x.lo, x.hi, (0, plot_w));
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

enum Key {
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
        .build_cartesian_2d(ctx.x.scale(), y.scale())?;

    let mut mesh = themed_mesh(&mut chart, 4 * MAX_X_TICKS, 4 * Y_TICKS);
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

    let any_data = draw_curves(&mut chart, &panel.curves)?;
    let plot = chart.plotting_area().strip_coord_spec();
    let (pw, ph) = plot.dim_in_pixel();
    if !any_data {
        plot.draw(&Text::new(
            "no data",
            ((pw / 2) as i32, (ph / 2) as i32),
            style(DESC_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }

    draw_events(&mut chart, &plot, ctx.events, &labels, &y)?;
    draw_panel_legend(&legend_area, panel, ctx)
}

/// The panel's curves, each split at its missing points (a lone point is a dot); says whether
/// anything was drawn.
fn draw_curves<DB: DrawingBackend>(chart: &mut Plot<'_, DB>, curves: &[Curve]) -> Result<bool>
where
    DB::ErrorType: 'static,
{
    let mut any_data = false;
    for c in curves {
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

    Ok(any_data)
}

/// Crash / recovery markers: a vertical line each, and the boxed labels placed above.
fn draw_events<DB: DrawingBackend>(
    chart: &mut Plot<'_, DB>,
    plot: &DrawingArea<DB, Shift>,
    events: &[Event],
    labels: &[LabelBox],
    y: &YAxis,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    for e in events {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(e.t, y.lo), (e.t, y.hi)],
            e.color.stroke_width(2),
        )))?;
    }
    for l in labels {
        let corners = [(l.x0, l.y0), (l.x0 + l.w, l.y0 + l.h)];
        plot.draw(&Rectangle::new(corners, WHITE.mix(0.9).filled()))?;
        plot.draw(&Rectangle::new(corners, l.color.stroke_width(1)))?;
        plot.draw(&Text::new(
            l.text.clone(),
            (l.x0 + 6, l.y0 + l.h / 2),
            style(EVENT_SIZE, &l.color).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }

    Ok(())
}

/// The panel's legend, in its own column to the right of the plot.
fn draw_panel_legend<DB: DrawingBackend>(
    legend_area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    ctx: &PanelCtx,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut entries: Vec<(&str, Key)> = panel
        .curves
        .iter()
        .map(|c| (c.label.as_str(), Key::Line(c.color, c.width, c.dashed)))
        .collect();
    if !ctx.outages.is_empty() {
        entries.push(("outage by requests", Key::Area));
    }
    let row_h = 26;
    let top = (PANEL_TITLE_H + PLOT_MARGIN_TOP) as i32 + 14;
    let (gx0, gx1) = (8, 44);
    for (i, (label, glyph)) in entries.iter().enumerate() {
        let cy = top + i as i32 * row_h;
        match *glyph {
            Key::Line(color, width, false) => legend_area.draw(&PathElement::new(
                vec![(gx0, cy), (gx1, cy)],
                color.stroke_width(width + 1),
            ))?,
            Key::Line(color, width, true) => legend_area.draw(&DashedPathElement::new(
                vec![(gx0, cy), (gx1, cy)],
                8,
                6,
                color.stroke_width(width + 1),
            ))?,
            Key::Area => {
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
mod tests;
