//! The chart of a crash-point search: the outage probability of each value tried (markers sized
//! by replications, with Wilson intervals), the fitted logistic curve, the crash point with its
//! interval (a 95% interval of the fit, or the bracket between all-or-nothing values, named as
//! such), p10 and p90, and the tries in the order they were run (that table is drawn by
//! `crash_table`). It is not the search itself (`experiment::crashpoint`) nor its report.

use std::ops::Range;
use std::path::Path;

mod crash_table;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{Dash, Entry, Glyph, draw_legend, entry};
use super::parts::*;
use super::scale::*;
use super::theme::BLUE;
use super::theme::*;
use super::{Figure, write_figure};
use crate::stats::wilson;
use crash_table::draw_try_table;

/// Band above the crash-point plot holding the labels of its vertical lines (two rows).
const LINE_LABEL_BAND: u32 = 64;
/// p10 / p90 lines of the crash-point chart.
const QUANTILE: RGBColor = RGBColor(117, 80, 160);
/// The fitted logistic curve of the crash-point chart.
const CURVE: RGBColor = RGBColor(60, 60, 60);

/// One tried value of a crash-point search: `outages` of `reps` replications had an outage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CrashTry {
    pub value: f64,
    pub reps: u32,
    pub outages: u32,
}

/// What [`draw_crashpoint`] draws.
pub(crate) struct CrashChart<'a> {
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
    /// What the search looked for, in words: the point ("crash point", "SLO-breaking point"),
    /// the failures ("outages", "SLO breaches") and their probability.
    pub words: Words<'a>,
}

/// The words of a crash-point chart for what counts as a failure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Words<'a> {
    pub point: &'a str,
    pub failures: &'a str,
    pub probability: &'a str,
}

/// Draws a crash-point search: outage probability (0..1) against the parameter, each tried value
/// a marker with a 95% Wilson interval whisker; the fitted curve; a vertical line at the crash
/// point with a shaded band for its interval (named as `interval_name` says), dashed lines at
/// p10 and p90, a horizontal dotted line at 0.5, and the table of the tries in the order run.
///
/// About 1400 x 960 px. Each marker's area grows with its replications and, where there is
/// room, it is labelled `outages/reps`. Tries with no replications or a non-finite value are
/// left out of the plot (not of the table). Both files are written atomically.
pub(crate) fn draw_crashpoint(c: &CrashChart, png: &Path, svg: &Path) -> Result<()> {
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
            words: c.words,
        },
        png,
        svg,
    )
}

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
    words: Words<'a>,
}

impl CrashFig<'_> {
    /// The crash point in words: "between 10 and 11" for a bracket of two adjacent whole
    /// values (its midpoint, 10.5, is no count), else the value.
    fn point_text(&self, c: f64) -> String {
        match self.ci95 {
            Some((a, b))
                if self.interval_name == "bracket"
                    && a.fract() == 0.0
                    && b.fract() == 0.0
                    && (b - a).abs() == 1.0 =>
            {
                format!("between {} and {}", fmt_num(a), fmt_num(b))
            }
            _ => fmt_num(c),
        }
    }
}

/// A tried value drawn on the chart: the try and its Wilson `(p, lo, hi)`.
type Drawn = (CrashTry, (f64, f64, f64));

impl Figure for CrashFig<'_> {
    fn size(&self) -> (u32, u32) {
        (FIG_W, FIG_H)
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (plot_area, legend_area) = draw_frame(
            root,
            self.title,
            Some(&self.note()),
            FIG_W - WIDE_LEGEND_W - PLOT_MARGIN_RIGHT,
        )?;
        let tries: Vec<Drawn> = self
            .tries
            .iter()
            .filter(|t| t.value.is_finite())
            .filter_map(|t| wilson(t.outages, t.reps).map(|w| (*t, w)))
            .collect();
        let (x, y) = self.scales(root, &tries);
        let x_desc = if self.parameter.is_empty() {
            "parameter"
        } else {
            self.parameter
        };
        let (mut chart, cols, rows) = draw_plot(
            &plot_area,
            &x,
            &y,
            LINE_LABEL_BAND,
            Y_LABEL_AREA,
            (x_desc, self.words.probability),
            true,
        )?;
        self.draw_guides(&mut chart, &x, &y)?;
        self.draw_line_labels(root, &chart, &y, &cols, &rows)?;
        self.draw_curve(&mut chart, &x)?;
        for (t, (_, a, b)) in &tries {
            draw_whisker(&mut chart, t.value, (*a, *b), (0.0, 1.0), BLUE)?;
        }
        let obstacles = self.obstacles(&chart, &tries, (&x, &y), (&cols, &rows));
        self.draw_tries(root, &mut chart, &tries, obstacles, (&cols, &rows))?;
        if tries.is_empty() {
            draw_no_data(&chart, "no tries")?;
        }
        let below = draw_legend(
            &legend_area,
            &self.legend_entries(),
            rows.start - TITLE_H as i32 + 12,
        )?;
        draw_try_table(&legend_area, self.in_order, below + 6, self.words.failures)?;
        Ok(())
    }
}

/// The band of the crash point's interval.
fn band_color() -> RGBAColor {
    CRASH.mix(0.13)
}

impl CrashFig<'_> {
    /// The line under the title: the crash point with its interval, or that none was found.
    fn note(&self) -> String {
        match (self.crash_point, self.ci95) {
            (Some(c), Some((a, b))) => format!(
                "{} {} ({} {} – {})",
                self.words.point,
                self.point_text(c),
                self.interval_name,
                fmt_num(a),
                fmt_num(b)
            ),
            (Some(c), None) => format!("{} {}", self.words.point, fmt_num(c)),
            (None, _) => format!("no {} found", self.words.point),
        }
    }

    /// The x scale over the tries, the crash point, its interval and the quantiles; the y scale
    /// of a probability.
    fn scales<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        tries: &[Drawn],
    ) -> (Scale, Scale) {
        let values = tries
            .iter()
            .map(|t| t.0.value)
            .chain(self.crash_point)
            .chain(self.ci95.into_iter().flat_map(|(a, b)| [a, b]))
            .chain(self.p10)
            .chain(self.p90);
        let (lo, hi) = padded_range(values, 0.05);
        let width = |s: &str| text_size(root, s, TICK_SIZE).0;
        let plot_w = FIG_W - WIDE_LEGEND_W - Y_LABEL_AREA - PLOT_MARGIN_RIGHT;
        let x = Scale {
            log: false,
            lo,
            hi,
            ticks: thin_ticks(nice_ticks(lo, hi, 10), (lo, hi), plot_w, &width, 14),
        };
        let y = Scale {
            log: false,
            lo: -0.04,
            hi: 1.04,
            ticks: nice_ticks(0.0, 1.0, 10),
        };
        (x, y)
    }

    /// Interval band, quantile lines, the 0.5 level and the crash point, under the data.
    fn draw_guides<DB: DrawingBackend>(
        &self,
        chart: &mut Plot<'_, DB>,
        x: &Scale,
        y: &Scale,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        if let Some((a, b)) = self.ci95 {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, y.lo), (b, y.hi)],
                band_color().filled(),
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
        Ok(())
    }

    /// Labels of the vertical lines, in the band above the plot, each joined to its line.
    fn draw_line_labels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &Plot<'_, DB>,
        y: &Scale,
        cols: &Range<i32>,
        rows: &Range<i32>,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let mut line_labels: Vec<(f64, String, RGBColor)> = Vec::new();
        if let Some(c) = self.crash_point {
            line_labels.push((
                c,
                format!("{} {}", self.words.point, self.point_text(c)),
                CRASH,
            ));
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
        let boxes = place_line_labels(&specs, cols, rows.start - 6);
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
        Ok(())
    }

    /// The fitted curve, under the tries.
    fn draw_curve<DB: DrawingBackend>(&self, chart: &mut Plot<'_, DB>, x: &Scale) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
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
        Ok(())
    }

    /// What a try's label must not cover: the whiskers, the vertical lines, the 0.5 level and
    /// the markers.
    fn obstacles<DB: DrawingBackend>(
        &self,
        chart: &Plot<'_, DB>,
        tries: &[Drawn],
        (x, y): (&Scale, &Scale),
        (cols, rows): (&Range<i32>, &Range<i32>),
    ) -> Vec<PxBox> {
        let mut obstacles: Vec<PxBox> = Vec::new();
        for (t, (_, a, b)) in tries {
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
        for (t, (p, _, _)) in tries {
            let r = marker_radius(t.reps);
            let (cx, cy) = chart.backend_coord(&(t.value, *p));
            obstacles.push(PxBox {
                x0: cx - r - 2,
                y0: cy - r - 2,
                x1: cx + r + 2,
                y1: cy + r + 2,
            });
        }
        obstacles
    }

    /// Tries: markers sized by replications, then `outages/reps` labels where they fit.
    fn draw_tries<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &mut Plot<'_, DB>,
        tries: &[Drawn],
        obstacles: Vec<PxBox>,
        (cols, rows): (&Range<i32>, &Range<i32>),
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        for (t, (p, _, _)) in tries {
            draw_marker(chart, (t.value, *p), marker_radius(t.reps), BLUE, false)?;
        }
        let mut labels: Vec<PxBox> = Vec::new();
        for (t, (p, _, _)) in tries {
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
        Ok(())
    }

    /// The legend's entries: tries, intervals, the crash point, the curve, quantiles, 0.5.
    fn legend_entries(&self) -> Vec<Entry> {
        let mut entries = vec![
            entry(
                Glyph::Marker(BLUE, 7),
                "tried value",
                Some("size ∝ replications".to_string()),
            ),
            entry(
                Glyph::Whisker(BLUE),
                "95% Wilson interval",
                Some(format!("label: {} / replications", self.words.failures)),
            ),
        ];
        if let Some(c) = self.crash_point {
            entries.push(entry(
                Glyph::Line(CRASH, 3, Dash::Solid),
                &format!("{} {}", self.words.point, self.point_text(c)),
                Some(format!("{} 0.5", self.words.probability)),
            ));
        }
        if let Some((a, b)) = self.ci95 {
            entries.push(entry(
                Glyph::Band(band_color(), RGBColor(216, 140, 148)),
                &format!("{} {}", self.words.point, self.interval_name),
                Some(format!("{} – {}", fmt_num(a), fmt_num(b))),
            ));
        }
        if self.curve.is_some() {
            entries.push(entry(
                Glyph::Line(CURVE, 2, Dash::Solid),
                "logistic fit",
                Some(self.words.probability.to_string()),
            ));
        }
        for (name, q, share) in [("p10", self.p10, "0.1"), ("p90", self.p90, "0.9")] {
            if let Some(q) = q {
                entries.push(entry(
                    Glyph::Line(QUANTILE, 2, Dash::Dashed),
                    &format!("{name} {}", fmt_num(q)),
                    Some(format!("{} {share}", self.words.probability)),
                ));
            }
        }
        entries.push(entry(
            Glyph::Line(TEXT_DIM, 2, Dash::Dotted),
            &format!("{} 0.5", self.words.probability),
            None,
        ));
        entries
    }
}

#[cfg(test)]
mod tests;
