//! The chart of `surge optimize` (`optimize.png`, `optimize.svg`): every configuration run, its
//! cost per hour across and the share of its runs that held up, holding ones in green and
//! failing ones in red (a marker's size grows with its runs; configurations of the same cost
//! and share set side by side), the Pareto front of cost against
//! that share as a step line, the optimum circled and named.
//!
//! Not here: the search or its document (`experiment::optimize`), the files' names
//! (`output::optimize`).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

use super::legend::{Dash, Glyph, draw_legend, entry};
use super::parts::{draw_frame, draw_marker, draw_no_data, draw_plot};
use super::scale::{Scale, Y_TICKS, nice_ticks, padded_range};
use super::theme::{
    BLUE, BOUNDARY, CRASH, FIG_H, FIG_W, GREEN, LEGEND_SIZE, PLOT_MARGIN_TOP, TEXT, WIDE_LEGEND_W,
    Y_LABEL_AREA, marker_radius, style,
};
use super::{Figure, write_figure};

/// One configuration run.
pub(crate) struct ParetoPoint {
    pub(crate) cost: f64,
    /// Share of its runs that held, 0..1.
    pub(crate) share: f64,
    pub(crate) runs: u32,
    pub(crate) holds: bool,
}

/// What the chart shows.
pub(crate) struct ParetoChart<'a> {
    pub(crate) title: &'a str,
    pub(crate) points: &'a [ParetoPoint],
    /// Indices in `points` of the front, cheapest first.
    pub(crate) front: &'a [usize],
    /// Index in `points` of the optimum, and its label (what it is and the varied keys' values).
    pub(crate) optimum: Option<(usize, String)>,
    /// What a run must keep ("the SLO", "no outage").
    pub(crate) keep: &'a str,
}

/// Draw the chart to `png` and `svg`.
pub(crate) fn draw_pareto(spec: &ParetoChart, png: &Path, svg: &Path) -> Result<()> {
    write_figure(spec, png, svg)
}

/// Where to draw each point: configurations of the same cost and share (they overlap
/// exactly) are set side by side across, each group centred on its cost, the widest marker's
/// width apart (`per_px`: cost units per pixel).
fn dodged(points: &[ParetoPoint], per_px: f64) -> Vec<(f64, f64)> {
    let same = |a: &ParetoPoint, b: &ParetoPoint| a.cost == b.cost && a.share == b.share;
    (0..points.len())
        .map(|i| {
            let p = &points[i];
            let group: Vec<usize> = (0..points.len()).filter(|&j| same(p, &points[j])).collect();
            let k = group.len();
            let rank = group.iter().position(|&j| j == i).unwrap_or(0);
            let step = 2.0
                * (group.iter().map(|&j| marker_radius(points[j].runs)).max())
                    .map_or(0.0, |r| f64::from(r) + 1.0);
            let offset = (rank as f64 - (k as f64 - 1.0) / 2.0) * step * per_px;
            (p.cost + offset, p.share)
        })
        .collect()
}

impl Figure for ParetoChart<'_> {
    fn size(&self) -> (u32, u32) {
        (FIG_W, FIG_H)
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (plot_area, legend_area) = draw_frame(root, self.title, None, FIG_W)?;
        let (lo, hi) = padded_range(self.points.iter().map(|p| p.cost), 0.05);
        let x = Scale {
            lo,
            hi,
            log: false,
            ticks: nice_ticks(lo, hi, 10),
        };
        let y = Scale {
            lo: -0.04,
            hi: 1.04,
            log: false,
            ticks: nice_ticks(0.0, 1.0, Y_TICKS)
                .into_iter()
                .map(|(v, _)| (v, format!("{}%", (v * 100.0).round())))
                .collect(),
        };
        let y_desc = format!("share of runs that kept {}", self.keep);
        let (mut chart, _, _) = draw_plot(
            &plot_area,
            &x,
            &y,
            PLOT_MARGIN_TOP + 8,
            Y_LABEL_AREA,
            ("cost per hour (as provisioned)", &y_desc),
            true,
        )?;
        if self.points.is_empty() {
            return draw_no_data(&chart, "no configuration was run");
        }
        let front: Vec<(f64, f64)> = (self.front.iter())
            .map(|&i| (self.points[i].cost, self.points[i].share))
            .collect();
        // The front as a step: from each point, across at its share to the next's cost.
        let mut steps = Vec::new();
        for (k, &(c, s)) in front.iter().enumerate() {
            steps.push((c, s));
            if let Some(&(c2, _)) = front.get(k + 1) {
                steps.push((c2, s));
            }
        }
        chart.draw_series(LineSeries::new(steps, BLUE.stroke_width(3)))?;
        // Data units per pixel across, to set same-cost points side by side.
        let per_px = {
            let (a, b) = (
                chart.backend_coord(&(lo, 0.0)),
                chart.backend_coord(&(hi, 0.0)),
            );
            (hi - lo) / f64::from((b.0 - a.0).max(1))
        };
        let at = dodged(self.points, per_px);
        for (p, &xy) in self.points.iter().zip(&at) {
            let color = if p.holds { GREEN } else { CRASH };
            draw_marker(&mut chart, xy, marker_radius(p.runs), color, false)?;
        }
        if let Some((i, name)) = &self.optimum {
            let p = &self.points[*i];
            let r = marker_radius(p.runs) + 7;
            chart.draw_series([Circle::new(at[*i], r, BOUNDARY.stroke_width(3))])?;
            let (px, py) = chart.backend_coord(&at[*i]);
            let base = plot_area.get_base_pixel();
            let right = px - base.0 < (FIG_W - WIDE_LEGEND_W) as i32 / 2;
            let anchor = if right { HPos::Left } else { HPos::Right };
            let dx = if right { r + 6 } else { -r - 6 };
            plot_area.draw(&Text::new(
                name.clone(),
                (px - base.0 + dx, py - base.1 + 28),
                style(LEGEND_SIZE, &TEXT).pos(Pos::new(anchor, VPos::Center)),
            ))?;
        }
        let entries = [
            entry(Glyph::Marker(GREEN, 8), "holds (most runs)", None),
            entry(Glyph::Marker(CRASH, 8), "fails (half or more)", None),
            entry(
                Glyph::Line(BLUE, 3, Dash::Solid),
                "Pareto front",
                Some("no cheaper config holds as often".into()),
            ),
            entry(
                Glyph::Marker(BOUNDARY, 8),
                "optimum (circled)",
                Some("marker size: runs".into()),
            ),
            entry(
                Glyph::Marker(TEXT, 4),
                "same cost and share:",
                Some("set side by side, centred on it".into()),
            ),
        ];
        draw_legend(&legend_area, &entries, 20)?;
        Ok(())
    }
}
