//! The heatmap of a sweep over two parameters: the outage probability of each point as a
//! white→red cell, with a colour bar, and the crash boundary along the cell edges between points
//! where at least half the runs had an outage and points where fewer did.

use std::ops::Range;
use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::contour::cell_boundary;
use super::legend::{Glyph, draw_legend, entry};
use super::parts::*;
use super::scale::*;
use super::sweep::Axis;
use super::theme::*;
use super::{Figure, write_figure};

/// Space above the heatmap.
const HEAT_MARGIN_TOP: u32 = 16;
/// Widest y label area (long category names on the heatmap's y axis).
const MAX_Y_LABEL_AREA: u32 = 330;
/// Heatmap cells without a value.
const NO_DATA: RGBColor = RGBColor(190, 190, 190);

/// Draws two varied parameters: a heatmap of outage probability `z[iy][ix]` (0..1, colour scale
/// white→red with a labelled colour bar), cells centred on the grid values, the crash boundary
/// (probability 0.5) as a thick dark line (marching squares with linear interpolation along the
/// grid edges, reaching the plot's border), NaN cells grey.
///
/// About 1400 x 960 px (plot about 1000 x 800). Numeric axes whose values are finite and
/// distinct place the cells at their values (edges half-way between neighbours); category axes,
/// or values with NaN or duplicates, give every cell the same width. Cells wide enough show their
/// value. Missing rows or columns of `z` count as NaN. Both files are written atomically.
pub(crate) fn draw_heatmap(
    title: &str,
    x: &Axis,
    y: &Axis,
    z: &[Vec<f64>],
    png: &Path,
    svg: &Path,
) -> Result<()> {
    write_figure(&HeatFig { title, x, y, z }, png, svg)
}

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
        (FIG_W, FIG_H)
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (plot_area, legend_area) = draw_frame(root, self.title, None, FIG_W - WIDE_LEGEND_W)?;
        let gx = Grid::new(self.x);
        let gy = Grid::new(self.y);
        let (xs, ys, y_area) = self.scales(root, &gx, &gy);
        let x_desc = if self.x.name.is_empty() {
            "parameter"
        } else {
            &self.x.name
        };
        let (mut chart, cols, rows) = draw_plot(
            &plot_area,
            &xs,
            &ys,
            HEAT_MARGIN_TOP,
            y_area,
            (x_desc, &self.y.name),
            false,
        )?;
        let (any_nan, any_value) = self.draw_cells(root, &mut chart, (&gx, &gy), (&cols, &rows))?;
        let plot_px = (cols.end - cols.start, rows.end - rows.start);
        let lines = self.draw_boundary(&mut chart, (&gx, &gy), plot_px)?;
        if any_value {
            self.draw_values(root, &chart, (&gx, &gy), plot_px)?;
        }
        let bar_bottom = draw_colour_bar(&legend_area)?;
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

impl HeatFig<'_> {
    /// The category scales of the two keys, and the width of the y tick labels' area.
    fn scales<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        gx: &Grid,
        gy: &Grid,
    ) -> (Scale, Scale, u32) {
        let width = |s: &str| text_size(root, s, TICK_SIZE).0;
        let label_h = text_size(root, "0.9", TICK_SIZE).1;
        let height = move |_: &str| label_h;
        let plot_h = FIG_H - TITLE_H - BOTTOM_PAD - HEAT_MARGIN_TOP - X_LABEL_AREA - X_DESC_EXTRA;
        let y_ticks = gy.ticks(plot_h, MAX_Y_LABEL_AREA - 64, &width, &height);
        let widest = y_ticks.iter().map(|t| width(&t.1)).max().unwrap_or(0);
        let y_area = (widest + 64).clamp(Y_LABEL_AREA, MAX_Y_LABEL_AREA);
        let plot_w = FIG_W - WIDE_LEGEND_W - y_area - PLOT_MARGIN_RIGHT;
        let px_per_cell = f64::from(plot_w) / gx.n.max(1) as f64;
        let x_max_w = category_label_width(px_per_cell);
        let x_ticks = gx.ticks(plot_w, x_max_w, &width, &width);
        let xs = Scale {
            log: false,
            lo: gx.lo,
            hi: gx.hi,
            ticks: x_ticks,
        };
        let ys = Scale {
            log: false,
            lo: gy.lo,
            hi: gy.hi,
            ticks: y_ticks,
        };

        (xs, ys, y_area)
    }

    /// The cells, coloured by outage probability, and the plot's frame; says whether any cell
    /// has no data and whether any has a value.
    fn draw_cells<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &mut Plot<'_, DB>,
        (gx, gy): (&Grid, &Grid),
        (cols, rows): (&Range<i32>, &Range<i32>),
    ) -> Result<(bool, bool)>
    where
        DB::ErrorType: 'static,
    {
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
            draw_no_data(chart, "no data")?;
        }
        root.draw(&Rectangle::new(
            [(cols.start, rows.start), (cols.end - 1, rows.end - 1)],
            AXIS.stroke_width(1),
        ))?;

        Ok((any_nan, any_value))
    }

    /// The crash boundary: a dark line with a white halo, over the cells; thinner on fine
    /// grids. Returns its lines (none where the grid does not cross 0.5).
    fn draw_boundary<DB: DrawingBackend>(
        &self,
        chart: &mut Plot<'_, DB>,
        (gx, gy): (&Grid, &Grid),
        plot_px: (i32, i32),
    ) -> Result<Vec<Vec<(f64, f64)>>>
    where
        DB::ErrorType: 'static,
    {
        let smallest = |g: &Grid, len: i32| {
            let span = g.hi - g.lo;
            g.cells
                .iter()
                .map(|&(a, b)| (b - a) / span * f64::from(len))
                .filter(|v| v.is_finite())
                .fold(f64::INFINITY, f64::min)
        };
        let cell_min = smallest(gx, plot_px.0).min(smallest(gy, plot_px.1));
        let line_w = if cell_min.is_finite() {
            (cell_min / 8.0).clamp(2.0, 5.0) as u32
        } else {
            5
        };
        let lines = self.boundary(gx, gy);
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

        Ok(lines)
    }

    /// Cell values, where the cells are big enough, each on a patch of its cell's colour so
    /// that the boundary passes under it.
    fn draw_values<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &Plot<'_, DB>,
        (gx, gy): (&Grid, &Grid),
        plot_px: (i32, i32),
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
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
        if big_enough {
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

        Ok(())
    }
}

/// The colour bar of outage probability, with the crash level marked; returns its bottom.
fn draw_colour_bar<DB: DrawingBackend>(legend_area: &DrawingArea<DB, Shift>) -> Result<i32>
where
    DB::ErrorType: 'static,
{
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

    Ok(bar_bottom)
}

#[cfg(test)]
mod tests;
