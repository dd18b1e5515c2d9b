//! The comparison chart (`compare.png` / `.svg`): the success rate over a sliding SLO window
//! against clock time, one line per variant (means over the replications); the outages of every
//! replication of every variant, one row per variant; and horizontal bars of the key metrics
//! (downtime, recovery time, users lost where a source has users, calls lost, requests lost,
//! p95 latency, instance-hours where the runs have them) per variant, with 95% interval whiskers. Variants are categories: bars, never lines
//! joining them. A mean that is only a lower bound ends in a "≥" mark; a recovery time that
//! leaves out runs not recovered says how many.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{Dash, Glyph, draw_legend, entry};
use super::parts::{
    Plot, display_unit, draw_mesh, draw_title, draw_y_desc, fit_text, text_size, with_unit,
};
use super::scale::{MAX_X_TICKS, Scale, TimeAxis, nice_ticks};
use super::theme::*;
use super::{Figure, write_figure};
use crate::experiment::compare::{Comparison, KeyStat, VariantResult};
use crate::metrics::table;

/// What the comparison chart shows.
pub(crate) struct CompareChart<'a> {
    pub comparison: &'a Comparison,
    /// Clock time of t = 0 (`scenario.start`), for a clock-time axis.
    pub start_clock_s: Option<f64>,
    /// The SLO's outage threshold and window, drawn and named.
    pub outage_below: f64,
    pub window_s: f64,
}

/// Draws the comparison chart to `png` and `svg`.
pub(crate) fn draw_compare(c: &CompareChart, png: &Path, svg: &Path) -> Result<()> {
    write_figure(c, png, svg)
}

/// Room for the variant names left of every plot, so the plots line up.
const LABEL_W: u32 = 250;
const RATE_H: u32 = 460;
const GAP: u32 = 16;
/// The line of the baseline; the variants take the palette in order.
const BASELINE: RGBColor = RGBColor(40, 40, 40);
const PALETTE: [RGBColor; 9] = [
    super::theme::BLUE,
    ORANGE,
    super::theme::GREEN,
    PURPLE,
    BROWN,
    TEAL,
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
];
const DOWN: RGBAColor = RGBAColor(214, 39, 40, 0.85);

fn color(i: usize) -> RGBColor {
    if i == 0 {
        BASELINE
    } else {
        PALETTE[(i - 1) % PALETTE.len()]
    }
}

/// The key metrics drawn as bars: the four named, then each tier's instance-hours, then the
/// cost of each priced tier, and their total when there are several.
fn bar_keys(v: &VariantResult) -> Vec<&KeyStat> {
    let mut keys: Vec<&KeyStat> = [
        table::DOWNTIME,
        table::RECOVERY_TIME,
        table::USERS_LOST,
        table::CALLS_LOST,
        table::REQUESTS_LOST,
        table::LATENCY_P95,
    ]
    .iter()
    .filter_map(|k| v.stat(k))
    .collect();
    let tier = |field: &str| {
        let end = format!(".{field}");
        v.key
            .iter()
            .filter(move |k| k.key.starts_with("tiers.") && k.key.ends_with(&end))
    };
    keys.extend(tier(table::INSTANCE_HOURS));
    keys.extend(tier(table::COST));
    // The total only adds to a tier's own cost when several tiers have a price.
    if tier(table::COST).count() > 1 {
        keys.extend(v.stat(table::COST));
    }
    keys
}

impl CompareChart<'_> {
    fn variants(&self) -> &[VariantResult] {
        &self.comparison.variants
    }

    fn strip_row_h(&self) -> u32 {
        (8 + 5 * self.comparison.reps).clamp(22, 44)
    }

    fn strips_h(&self) -> u32 {
        PANEL_TITLE_H + self.variants().len() as u32 * self.strip_row_h() + X_LABEL_AREA + 8
    }

    fn bar_h(&self) -> u32 {
        PANEL_TITLE_H + self.variants().len() as u32 * 34 + X_LABEL_AREA + X_DESC_EXTRA + 12
    }

    fn bar_rows(&self) -> u32 {
        let n = self.variants().first().map_or(0, |v| bar_keys(v).len()) as u32;
        n.div_ceil(2)
    }

    /// The time axis: the whole horizon of the runs.
    fn time_axis(&self) -> TimeAxis {
        let hi = self
            .variants()
            .iter()
            .filter_map(|v| v.replications.first())
            .map(|s| s.sim_time_s)
            .fold(0.0, f64::max);
        TimeAxis::new((0.0, hi), self.start_clock_s)
    }
}

impl Figure for CompareChart<'_> {
    fn size(&self) -> (u32, u32) {
        let h = TITLE_H
            + RATE_H
            + GAP
            + self.strips_h()
            + GAP
            + self.bar_rows() * (self.bar_h() + GAP)
            + BOTTOM_PAD;
        (FIG_W, h)
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let c = self.comparison;
        let (title, rest) = root.split_vertically(TITLE_H);
        draw_title(
            &title,
            &format!(
                "{}: {} variants, {} replications each on the same seeds",
                c.model,
                c.variants.len(),
                if c.auto {
                    format!("2 to {}", c.reps)
                } else {
                    c.reps.to_string()
                }
            ),
            Some("means · whiskers: 95% intervals"),
            FIG_W - PLOT_MARGIN_RIGHT,
        )?;
        let x = self.time_axis();
        let (rate, rest) = rest.split_vertically(RATE_H);
        let rate_title = format!(
            "success rate over a {} window (mean over the replications)",
            crate::fmt::human_duration(self.window_s)
        );
        self.draw_rates(&panel(&rate, &rate_title)?, &x)?;
        let (_, rest) = rest.split_vertically(GAP);
        let (strips, mut rest) = rest.split_vertically(self.strips_h());
        let strips_title = format!(
            "outages: success rate below {:.0}% (each line one replication, seeds shared)",
            100.0 * self.outage_below
        );
        self.draw_strips(&panel(&strips, &strips_title)?, &x)?;
        let Some(first) = self.variants().first() else {
            return Ok(());
        };
        let keys: Vec<String> = bar_keys(first).iter().map(|k| k.key.clone()).collect();
        for pair in keys.chunks(2) {
            let (_, below) = rest.split_vertically(GAP);
            let (row, below) = below.split_vertically(self.bar_h());
            let (left, right) = row.split_horizontally(FIG_W / 2);
            self.draw_bars(&left, &pair[0])?;
            if let Some(k) = pair.get(1) {
                self.draw_bars(&right, k)?;
            }
            rest = below;
        }
        Ok(())
    }
}

impl CompareChart<'_> {
    /// Success rate over the SLO window, one line per variant, against clock time.
    fn draw_rates<DB: DrawingBackend>(&self, parts: &Panel<DB>, x: &TimeAxis) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let [plot, body, legend] = parts;
        let ticks: Vec<(f64, String)> = (0..=5)
            .map(|i| (f64::from(i) / 5.0, format!("{}%", i * 20)))
            .collect();
        let y = Scale {
            lo: 0.0,
            hi: 1.0,
            log: false,
            ticks,
        };
        let mut chart = chart_on(
            body,
            (x.scale(), y),
            PLOT_MARGIN_RIGHT,
            X_LABEL_AREA + X_DESC_EXTRA,
        )?;
        let x_desc = if self.start_clock_s.is_some() {
            "time (clock)"
        } else {
            "time since start"
        };
        draw_mesh(&mut chart, Some(x_desc), true)?;
        let (_, rows) = chart.plotting_area().get_pixel_range();
        draw_y_desc(plot, "success rate", &rows)?;
        let threshold = vec![(x.lo, self.outage_below), (x.hi, self.outage_below)];
        chart.draw_series(std::iter::once(DashedPathElement::new(
            threshold,
            8,
            6,
            CRASH.stroke_width(2),
        )))?;
        let mut entries = Vec::new();
        for (i, v) in self.variants().iter().enumerate() {
            let s = &v.series;
            let b = s.bucket_s;
            let k = ((self.window_s / b).round() as usize).max(1);
            // A window stands for the bucket at its centre (as the outage analysis reads it).
            let pts: Vec<(f64, f64)> = s
                .window_success_rate
                .iter()
                .enumerate()
                .map(|(j, r)| ((j + 1) as f64 * b - (j + 1).min(k) as f64 * b / 2.0, *r))
                .collect();
            let width = if i == 0 { 3 } else { 2 };
            for seg in pts.split(|p| !p.1.is_finite()) {
                if seg.len() > 1 {
                    chart.draw_series(LineSeries::new(
                        seg.iter().copied(),
                        color(i).stroke_width(width),
                    ))?;
                }
            }
            entries.push(entry(
                Glyph::Line(color(i), width, Dash::Solid),
                &v.name,
                None,
            ));
        }
        if (self.variants().iter()).all(|v| v.series.window_success_rate.is_empty()) {
            // Redrawn by `surge plot` from compare.json, which keeps no time series.
            chart.plotting_area().draw(&Text::new(
                "no time series: compare.json does not keep them (run surge compare again to draw these curves)",
                ((x.lo + x.hi) / 2.0, 0.75),
                style(DESC_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        entries.push(entry(
            Glyph::Line(CRASH, 2, Dash::Dashed),
            &format!("down below {:.0}%", 100.0 * self.outage_below),
            None,
        ));
        draw_legend(legend, &entries, (PANEL_TITLE_H + 20) as i32)?;
        Ok(())
    }

    /// Each replication's outages, one row per variant (a thin line per replication).
    fn draw_strips<DB: DrawingBackend>(&self, parts: &Panel<DB>, x: &TimeAxis) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let [_, body, legend] = parts;
        let n = self.variants().len();
        let y = self.category_axis(body);
        let mut chart = chart_on(body, (x.scale(), y), PLOT_MARGIN_RIGHT, X_LABEL_AREA)?;
        draw_mesh(&mut chart, None, false)?;
        let reps = self.comparison.reps.max(1) as f64;
        for (i, v) in self.variants().iter().enumerate() {
            let row = row_of(i, n);
            let (top, bottom) = (row + 0.4, row - 0.4);
            let h = (top - bottom) / reps;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x.lo, bottom), (x.hi, top)],
                color(i).mix(0.06).filled(),
            )))?;
            for (r, s) in v.replications.iter().enumerate() {
                let y1 = top - r as f64 * h;
                let y0 = y1 - h * 0.75;
                chart.draw_series(
                    s.outage
                        .intervals
                        .iter()
                        .map(|iv| Rectangle::new([(iv[0], y0), (iv[1], y1)], DOWN.filled())),
                )?;
            }
        }
        let entries = [entry(
            Glyph::Swatch(RGBColor(214, 39, 40)),
            "down",
            Some("one line per replication".into()),
        )];
        draw_legend(legend, &entries, (PANEL_TITLE_H + 20) as i32)?;
        Ok(())
    }

    /// The variants as categories on a y axis, the baseline at the top.
    fn category_axis<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Scale {
        let n = self.variants().len();
        let w = |s: &str| text_size(area, s, TICK_SIZE).0;
        Scale {
            lo: -0.5,
            hi: n as f64 - 0.5,
            log: false,
            ticks: self
                .variants()
                .iter()
                .enumerate()
                .map(|(i, v)| (row_of(i, n), fit_text(&v.name, LABEL_W - 24, &w)))
                .collect(),
        }
    }

    /// One key metric: a bar per variant (its mean) with the 95% interval as a whisker.
    fn draw_bars<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, key: &str) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let stats: Vec<Option<&KeyStat>> = self.variants().iter().map(|v| v.stat(key)).collect();
        let Some(first) = stats.iter().flatten().next() else {
            return Ok(());
        };
        let top = stats
            .iter()
            .flatten()
            .filter_map(|k| k.estimate)
            .map(|e| e.mean + e.ci95.unwrap_or(0.0))
            .fold(0.0_f64, f64::max);
        let (div, unit) = display_unit(&first.unit, top);
        let hi = if top > 0.0 { top / div * 1.12 } else { 1.0 };
        let (title, body) = area.split_vertically(PANEL_TITLE_H);
        let per = if ["requests", "calls", "users"].contains(&first.unit.as_str()) {
            " per replication"
        } else {
            ""
        };
        let name = if key == table::RECOVERY_TIME {
            "recovery time (recovered runs)".to_string()
        } else if key == table::REQUESTS_LOST {
            // The full label (what counts as lost) is the axis description below; a title as
            // long would run into the panel beside it.
            "requests lost per replication".to_string()
        } else if key == table::CALLS_LOST {
            "calls lost per replication".to_string()
        } else if key == table::USERS_LOST {
            "users lost per replication".to_string()
        } else {
            format!("{}{per}", first.label)
        };
        panel_title(&title, &name)?;
        let y = self.category_axis(&body);
        let x = Scale {
            lo: 0.0,
            hi,
            log: false,
            ticks: nice_ticks(0.0, hi, 5.min(MAX_X_TICKS)),
        };
        let mut chart = chart_on(
            &body,
            (x, y),
            PLOT_MARGIN_RIGHT + 60,
            X_LABEL_AREA + X_DESC_EXTRA,
        )?;
        // A unit the label already says ("requests lost", "web: instance-hours") is not repeated.
        let desc = with_unit(
            &first.label,
            if ["requests", "instance-hours"].contains(&unit.as_str()) {
                ""
            } else {
                &unit
            },
        );
        draw_mesh(&mut chart, Some(&desc), true)?;
        let n = stats.len();
        for (i, k) in stats.iter().enumerate() {
            let row = row_of(i, n);
            let Some(k) = k else { continue };
            let Some(e) = k.estimate else {
                let why = if key == table::RECOVERY_TIME && k.censored == 0 {
                    "no outage"
                } else if key == table::RECOVERY_TIME {
                    "none recovered"
                } else {
                    "no value"
                };
                note(&mut chart, (0.0, row), why, TEXT_DIM)?;
                continue;
            };
            let m = e.mean / div;
            if e.mean == 0.0 && !k.lower_bound {
                note(&mut chart, (0.0, row), "0", TEXT_DIM)?;
                continue;
            }
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, row - 0.3), (m, row + 0.3)],
                color(i).mix(0.75).filled(),
            )))?;
            if let Some((a, b)) = e.interval() {
                let (a, b) = ((a / div).max(0.0), (b / div).min(hi));
                let s = TEXT.stroke_width(2);
                chart.draw_series([
                    PathElement::new(vec![(a, row), (b, row)], s),
                    PathElement::new(vec![(a, row - 0.18), (a, row + 0.18)], s),
                    PathElement::new(vec![(b, row - 0.18), (b, row + 0.18)], s),
                ])?;
            }
            let end = e.interval().map_or(m, |(_, b)| (b / div).min(hi)).max(m);
            if k.lower_bound {
                note(&mut chart, (end, row), "≥ (still down at the end)", CRASH)?;
            } else if key == table::RECOVERY_TIME && k.censored > 0 {
                let t = format!("{} not recovered", k.censored);
                note(&mut chart, (end, row), &t, CRASH)?;
            }
        }
        Ok(())
    }
}

/// Row of variant `i` of `n` on a category axis: the first at the top.
fn row_of(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

/// A chart on `body` (the panel under its title) with the `LABEL_W` column on its left for the
/// variants' names or the y ticks, and `x_label_area` pixels below for the x ticks and description.
fn chart_on<'a, DB: DrawingBackend>(
    body: &'a DrawingArea<DB, Shift>,
    (x, y): (Scale, Scale),
    margin_right: u32,
    x_label_area: u32,
) -> Result<Plot<'a, DB>>
where
    DB::ErrorType: 'static,
{
    Ok(ChartBuilder::on(body)
        .margin_top(PLOT_MARGIN_TOP)
        .margin_right(margin_right)
        .x_label_area_size(x_label_area)
        .y_label_area_size(LABEL_W)
        .build_cartesian_2d(x, y)?)
}

/// A panel's areas: the plot (left of the legend's column) with its title drawn on top, the
/// body of the plot under the title, and the legend's column.
type Panel<DB> = [DrawingArea<DB, Shift>; 3];

/// A panel titled `text`, split into its areas (`Panel`).
fn panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str) -> Result<Panel<DB>>
where
    DB::ErrorType: 'static,
{
    let (plot, legend) = area.split_horizontally(FIG_W - LEGEND_W);
    let (title, body) = plot.split_vertically(PANEL_TITLE_H);
    panel_title(&title, text)?;
    Ok([plot, body, legend])
}

fn panel_title<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.draw(&Text::new(
        text.to_string(),
        (LABEL_W as i32, (PANEL_TITLE_H / 2 + 2) as i32),
        style(PANEL_TITLE_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    Ok(())
}

/// A small note just right of `p` in the plot.
fn note<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Scale, Scale>>,
    p: (f64, f64),
    text: &str,
    color: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart.draw_series(std::iter::once(
        EmptyElement::at(p)
            + Text::new(
                text.to_string(),
                (6, 0),
                style(NOTE_SIZE, &color).pos(Pos::new(HPos::Left, VPos::Center)),
            ),
    ))?;
    Ok(())
}
