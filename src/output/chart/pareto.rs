//! The chart of `surge optimize` (`optimize.png`, `optimize.svg`): every configuration run, its
//! cost per hour across and the share of its runs that held up, holding ones in green and
//! failing ones in red (a marker's size grows with its runs; configurations of the same cost
//! and share drawn as one marker at their cost, marked "×k"), the Pareto front of cost against
//! that share as a step line, the optimum circled and named, its label kept inside the plot
//! (never over the legend).
//!
//! Not here: the search or its document (`experiment::optimize`), the files' names
//! (`output::optimize`).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

use super::legend::{Dash, Glyph, draw_legend, entry};
use super::parts::{draw_frame, draw_marker, draw_no_data, draw_plot, text_size};
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

/// The groups of configurations of the same cost and share (they would overlap exactly): each
/// group's indices in `points`, in the order of their first member. A group is drawn at its
/// cost and share, once, with its size ("×3") where it has more than one: never spread along
/// the cost axis, where it would read as different costs.
fn groups(points: &[ParetoPoint]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let same = |g: &&mut Vec<usize>| {
            let q = &points[g[0]];
            q.cost == p.cost && q.share == p.share
        };
        match out.iter_mut().find(|g| same(g)) {
            Some(g) => g.push(i),
            None => out.push(vec![i]),
        }
    }
    out
}

/// The left end, in plot pixels, of a label `width` wide beside a marker at `px` of radius `r`
/// in a plot `plot_w` wide: to the marker's right where it fits, else to its left, and never
/// past either side of the plot (the legend is to its right).
fn label_left(px: i32, r: i32, width: i32, plot_w: i32) -> i32 {
    const PAD: i32 = 8;
    let right = px + r + 6;
    let x = if right + width <= plot_w - PAD {
        right
    } else {
        px - r - 6 - width
    };
    x.min(plot_w - PAD - width).max(PAD)
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
        let base = plot_area.get_base_pixel();
        for g in groups(self.points) {
            let at = (self.points[g[0]].cost, self.points[g[0]].share);
            let r = (g.iter().map(|&i| marker_radius(self.points[i].runs)).max()).unwrap_or(1);
            for &i in &g {
                let color = if self.points[i].holds { GREEN } else { CRASH };
                draw_marker(&mut chart, at, r, color, false)?;
            }
            if g.len() > 1 {
                let (px, py) = chart.backend_coord(&at);
                plot_area.draw(&Text::new(
                    format!("×{}", g.len()),
                    (px - base.0 + r + 3, py - base.1 - r - 3),
                    style(LEGEND_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Bottom)),
                ))?;
            }
        }
        if let Some((i, name)) = &self.optimum {
            let p = &self.points[*i];
            let r = marker_radius(p.runs) + 7;
            let at = (p.cost, p.share);
            chart.draw_series([Circle::new(at, r, BOUNDARY.stroke_width(3))])?;
            let (px, py) = chart.backend_coord(&at);
            let plot_w = (FIG_W - WIDE_LEGEND_W) as i32;
            let width = text_size(&plot_area, name, LEGEND_SIZE).0 as i32;
            plot_area.draw(&Text::new(
                name.clone(),
                (label_left(px - base.0, r, width, plot_w), py - base.1 + 28),
                style(LEGEND_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
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
                "×k: k configurations",
                Some("of the same cost and share".into()),
            ),
        ];
        draw_legend(&legend_area, &entries, 20)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(cost: f64, share: f64) -> ParetoPoint {
        ParetoPoint {
            cost,
            share,
            runs: 1,
            holds: share > 0.5,
        }
    }

    /// Same-cost configurations stay at their cost: the same cost and share make one group
    /// (one marker, "×k"), the same cost at another share its own, at that cost (issue 29).
    #[test]
    fn configurations_of_the_same_cost_are_one_group_at_their_cost() {
        let p = [
            point(2.0, 1.0),
            point(1.0, 0.0),
            point(2.0, 1.0),
            point(2.0, 0.5),
            point(2.0, 1.0),
        ];
        assert_eq!(groups(&p), [vec![0, 2, 4], vec![1], vec![3]]);
    }

    /// The optimum's label stays inside the plot, clear of the legend at its right.
    #[test]
    fn the_optimums_label_stays_clear_of_the_legend() {
        // Room to its right: beside the marker.
        assert_eq!(label_left(100, 10, 300, 1100), 116);
        // Near the right side: to the marker's left, ending before the plot's edge.
        let x = label_left(1000, 10, 300, 1100);
        assert!(x + 300 <= 1100 - 8, "{x}");
        assert_eq!(x, 1000 - 16 - 300);
        // Too wide for either side: pulled in, never over the legend nor off the left.
        let x = label_left(500, 10, 900, 1100);
        assert!(x + 900 <= 1092 && x >= 8, "{x}");
    }
}
