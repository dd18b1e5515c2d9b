//! Pieces every chart draws the same way: titles, axis descriptions, the mesh, whiskers,
//! markers, labels placed clear of each other, and numbers and units written for people. The
//! legend's entries and column are in `legend`.

use std::ops::Range;

use anyhow::Result;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(super) use super::labels::{fit_text, fmt_num, fmt_sig};
use super::scale::Scale;
use super::theme::*;

/// Divisor and unit to show values in `unit` whose largest magnitude is `max_abs`: seconds
/// (or milliseconds) above 2 hours are shown in hours, above 2 minutes in minutes, and
/// milliseconds from 2 s in seconds. Other units are kept.
pub(super) fn display_unit(unit: &str, max_abs: f64) -> (f64, String) {
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
pub(super) fn with_unit(label: &str, unit: &str) -> String {
    if unit.is_empty() {
        label.to_string()
    } else {
        format!("{label} ({unit})")
    }
}

/// Size of `text` in pixels at font size `size` (estimated from its length if the font fails).
pub(super) fn text_size<DB: DrawingBackend>(
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

/// The chart title at the left of `area` (aligned with the plots), and a dim note right-aligned
/// at `right_x` when both fit.
pub(super) fn draw_title<DB: DrawingBackend>(
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
    let title = fit_text(title, FIG_W - left - 20, &title_w);
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

/// The page of a figure with one plot and a legend column (heatmap, crash point): white, the
/// title band, then the body split into the plot's area and the legend's; returns both.
pub(super) fn draw_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    note: Option<&str>,
    note_right_x: u32,
) -> Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>)>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (title_area, rest) = root.split_vertically(TITLE_H);
    draw_title(&title_area, title, note, note_right_x)?;
    let (body, _) = rest.split_vertically(FIG_H - TITLE_H - BOTTOM_PAD);
    Ok(body.split_horizontally(FIG_W - WIDE_LEGEND_W))
}

/// A chart on two ticked axes.
pub(super) type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Scale, Scale>>;

/// The chart of a plot area on `x` and `y`: room for the tick labels and the x description
/// below (`y_area` wide on the left), the mesh (`grid` lines or none) and the rotated y
/// description; returns it with its plotting area's pixel columns and rows.
pub(super) fn draw_plot<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Scale,
    y: &Scale,
    margin_top: u32,
    y_area: u32,
    (x_desc, y_desc): (&str, &str),
    grid: bool,
) -> Result<(Plot<'a, DB>, Range<i32>, Range<i32>)>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(margin_top)
        .margin_right(PLOT_MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA + X_DESC_EXTRA)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x.clone(), y.clone())?;
    draw_mesh(&mut chart, Some(x_desc), grid)?;
    let (cols, rows) = chart.plotting_area().get_pixel_range();
    draw_y_desc(area, y_desc, &rows)?;
    Ok((chart, cols, rows))
}

/// The y axis description, rotated, centred on the plot's rows (`rows`, backend pixels), at the
/// left edge of `area`.
pub(super) fn draw_y_desc<DB: DrawingBackend>(
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
pub(super) fn draw_no_data<DB: DrawingBackend>(
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

/// A mesh in the common style (tick labels, grid, axis), `x_labels` and `y_labels` ticks at
/// most, for the caller to describe and draw.
pub(super) fn themed_mesh<'a, 'b, DB: DrawingBackend>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<Scale, Scale>>,
    x_labels: usize,
    y_labels: usize,
) -> MeshStyle<'a, 'b, Scale, Scale, DB> {
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(x_labels)
        .y_labels(y_labels)
        .x_label_style(style(TICK_SIZE, &TEXT))
        .y_label_style(style(TICK_SIZE, &TEXT))
        .axis_desc_style(style(DESC_SIZE, &TEXT))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS);
    mesh
}

/// The mesh (grid lines unless `grid` is false, ticks, labels, x description) in the common style.
pub(super) fn draw_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    x_desc: Option<&str>,
    grid: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut mesh = themed_mesh(chart, 200, 200);
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
pub(super) fn draw_whisker<DB: DrawingBackend>(
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

/// A filled marker with a white ring, so that it stands out from lines and whiskers: a dot, or
/// an upward triangle where the value is at least this (`lower_bound`).
pub(super) fn draw_marker<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    p: (f64, f64),
    r: i32,
    color: RGBColor,
    lower_bound: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if lower_bound {
        chart.draw_series([
            TriangleMarker::new(p, r + 3, WHITE.filled()),
            TriangleMarker::new(p, r, color.filled()),
        ])?;
    } else {
        chart.draw_series([
            Circle::new(p, r + 2, WHITE.filled()),
            Circle::new(p, r, color.filled()),
        ])?;
    }
    Ok(())
}

/// The notes of a panel's points (`notes[i]` for the point of index i; empty: none), in the band at the top of the plot: each centred above its
/// point, a row lower when it would overlap an earlier one, left out when no row is free.
pub(super) fn draw_notes<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    area: &DrawingArea<DB, Shift>,
    notes: &[String],
    points: &[(f64, f64, f64, usize)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (cols, rows) = chart.plotting_area().get_pixel_range();
    let mut placed: Vec<PxBox> = Vec::new();
    for &(px, _, _, i) in points {
        let Some(text) = notes.get(i).filter(|n| !n.is_empty()) else {
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

/// A pixel box (backend coordinates).
#[derive(Clone, Copy)]
pub(super) struct PxBox {
    pub(super) x0: i32,
    pub(super) y0: i32,
    pub(super) x1: i32,
    pub(super) y1: i32,
}

impl PxBox {
    pub(super) fn overlaps(&self, o: &PxBox) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// A label for a vertical line at pixel column `x`: its box size, and whether it belongs on the
/// line's right.
pub(super) struct LineLabel {
    pub(super) x: i32,
    pub(super) w: i32,
    pub(super) h: i32,
    pub(super) right: bool,
}

/// Places the labels of vertical lines in the band above the plot whose bottom is `bottom`:
/// each beside its line (right or left) in the first or second row, or left out. Boxes stay
/// within `cols` and do not overlap, and a line drawn up to its label does not cross another
/// label. Picks the placement leaving out fewest labels, then with fewest labels in the second
/// row or on the unusual side. Only the first three labels are placed.
pub(super) fn place_line_labels(
    labels: &[LineLabel],
    cols: &Range<i32>,
    bottom: i32,
) -> Vec<Option<PxBox>> {
    let n = labels.len().min(3);
    let spot = |l: &LineLabel, option: usize| -> Option<PxBox> {
        if option >= 4 {
            return None;
        }
        let row = (option / 2) as i32;
        let right = option.is_multiple_of(2) == l.right;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::chart::scale::*;

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
}
