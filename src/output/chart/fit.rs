//! fit.png and fit.svg (`surge fit`): how well the fitted model matches the data, in three
//! panels: the empirical CDF of the times fitted against each candidate's CDF (log time axis),
//! requests per second per bucket with the profile the model replays, and mean response time
//! against concurrency with the fitted curve (contention, the wait for the fitted threads where
//! there are some) and the knee; for an access log with sessions, two more (`fit::sessions`).
//! On the shared look (`theme`); plotters' own axes (one of them
//! logarithmic) rather than `scale`.

mod sessions;

use std::path::Path;

use anyhow::Result;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;

use super::theme::{
    BLUE, DESC_SIZE, FIG_W, GREEN, GRID, NOTE_SIZE, PANEL_TITLE_SIZE, PURPLE, RED, TEXT, TEXT_DIM,
    TITLE_SIZE, style,
};
use super::{Figure, write_figure};
use crate::fit::concurrency;
use crate::fit::dists::Candidate;
use crate::fit::report::Fit;

const H: u32 = 1650;
pub(super) const COLORS: [RGBColor; 4] = [BLUE, RED, GREEN, PURPLE];
pub(super) const DATA: RGBColor = TEXT;

struct FitChart<'a> {
    fit: &'a Fit,
    title: &'a str,
}

impl Figure for FitChart<'_> {
    fn size(&self) -> (u32, u32) {
        let body: u32 = heights(self.fit).iter().sum();
        (FIG_W, 60 + body + sessions::extra_height(self.fit))
    }
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        panels(root, self.fit, self.title)
    }
}

/// Draw the chart into `png` and `svg`, each atomically.
pub(crate) fn draw_fit(fit: &Fit, title: &str, png: &Path, svg: &Path) -> Result<()> {
    write_figure(&FitChart { fit, title }, png, svg)
}

pub(super) type Area<'a, DB> = DrawingArea<DB, Shift>;

pub(super) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// A panel's chart on plotters' own axes.
pub(super) type Panel<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// A panel's chart: its title above, room for the tick labels.
pub(super) fn panel<'a, DB: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
    area: &'a Area<DB>,
    title: impl AsRef<str>,
    x: X,
    y: Y,
) -> Result<Panel<'a, DB, X::CoordDescType, Y::CoordDescType>> {
    ChartBuilder::on(area)
        .caption(title.as_ref(), style(PANEL_TITLE_SIZE, &TEXT))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// The grid, the tick labels and the axis descriptions, in the chart look.
pub(super) fn axes<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    x_desc: &str,
    y_desc: &str,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
    DB: DrawingBackend,
{
    mesh.light_line_style(GRID)
        .bold_line_style(GRID)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(style(NOTE_SIZE, &TEXT))
        .axis_desc_style(style(DESC_SIZE, &TEXT))
}

/// The series' legend, boxed, at `at`.
pub(super) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .label_font(style(NOTE_SIZE, &TEXT))
        .draw()
        .map_err(err)
}

fn panels<DB: DrawingBackend>(root: &Area<DB>, fit: &Fit, title: &str) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let (head, body) = root.split_vertically(60);
    head.draw_text(title, &style(TITLE_SIZE, &TEXT), (30, 18))
        .map_err(err)?;
    let extra = sessions::extra_height(fit);
    let [service_h, arrivals_h, contention_h] = heights(fit);
    let (body, sessions) = body.split_vertically(service_h + arrivals_h + contention_h);
    if extra > 0 {
        sessions::panels(&sessions, fit)?;
    }
    let (service, rest) = body.split_vertically(service_h);
    let (arrivals, contention) = rest.split_vertically(arrivals_h);
    cdf_panel(&service, fit)?;
    arrivals_panel(&arrivals, fit)?;
    contention_panel(&contention, fit)?;
    Ok(())
}

/// Height of a panel that only says why it has nothing to draw.
const NOTE_H: u32 = 110;

/// The heights of the service, arrivals and contention panels: a third of the chart each, a
/// strip for a panel with nothing to draw (a log without response times has neither service
/// nor contention).
fn heights(fit: &Fit) -> [u32; 3] {
    let full = (H - 60) / 3;
    let service = fit.service.as_ref().is_some_and(|s| s.sorted.len() >= 10);
    let contention = fit
        .contention
        .as_ref()
        .is_some_and(|c| !c.points.is_empty());
    [
        if service { full } else { NOTE_H },
        full,
        if contention { full } else { NOTE_H },
    ]
}

pub(super) fn note<DB: DrawingBackend>(area: &Area<DB>, title: &str, text: &str) -> Result<()> {
    area.draw_text(title, &style(PANEL_TITLE_SIZE, &TEXT), (30, 10))
        .map_err(err)?;
    area.draw_text(text, &style(DESC_SIZE, &TEXT_DIM), (30, 60))
        .map_err(err)?;
    Ok(())
}

fn cdf_panel<DB: DrawingBackend>(area: &Area<DB>, fit: &Fit) -> Result<()> {
    let title = "Service time: empirical CDF against the fitted candidates (lowest AIC first)";
    let Some(s) = fit.service.as_ref().filter(|s| s.sorted.len() >= 10) else {
        let why = match &fit.logs.service_given {
            Some(g) if g.from == "assumption" => format!(
                "no response times in the data: the model's service {} is an ASSUMPTION",
                g.spec.spec
            ),
            Some(g) => format!(
                "no response times in the data: the model's service is --service {}",
                g.spec.spec
            ),
            None => "fewer than 10 successful responses with a time: nothing fitted".into(),
        };
        return note(area, title, &why);
    };
    cdf_against_fits(
        area,
        &Cdf {
            title,
            sorted: &s.sorted,
            floor_s: 1e-9,
            x_desc: "time (s, log scale)",
            y_desc: "share of responses at or below",
            what: "responses",
            candidates: &s.candidates,
            label: &|c| format!("{} (AIC {:.0}, KS {:.3})", c.dist, c.aic, c.ks),
        },
    )
}

/// An empirical CDF drawn against fitted candidates' CDFs: what it shows and how it is labelled.
pub(super) struct Cdf<'a> {
    pub(super) title: &'a str,
    /// The data, sorted (at least 10).
    pub(super) sorted: &'a [f64],
    /// The least the log time axis may start at.
    pub(super) floor_s: f64,
    pub(super) x_desc: &'a str,
    pub(super) y_desc: &'a str,
    /// What the data are, for the legend: "responses", "gaps".
    pub(super) what: &'a str,
    /// Best first: drawn thicker.
    pub(super) candidates: &'a [Candidate],
    /// A candidate's legend entry.
    pub(super) label: &'a dyn Fn(&Candidate) -> String,
}

/// The panel of an empirical CDF (at most about 600 points, log time axis trimmed to the
/// middle 99.8%) against each fitted candidate's CDF, the best drawn thicker.
pub(super) fn cdf_against_fits<DB: DrawingBackend>(area: &Area<DB>, c: &Cdf) -> Result<()> {
    let x = c.sorted;
    let n = x.len();
    let lo = x[n / 1000].max(x[0]).max(c.floor_s) * 0.8;
    let hi = x[(n - 1).min(n - n / 1000)] * 1.25;
    let mut chart = panel(area, c.title, (lo..hi).log_scale(), 0.0..1.0)?;
    axes(&mut chart.configure_mesh(), c.x_desc, c.y_desc)
        .x_label_formatter(&|v| format_s(*v))
        .draw()
        .map_err(err)?;
    let step = (n / 600).max(1);
    let emp: Vec<(f64, f64)> = (0..n)
        .step_by(step)
        .chain(std::iter::once(n - 1))
        .map(|i| (x[i], (i + 1) as f64 / n as f64))
        .filter(|(v, _)| *v >= lo && *v <= hi)
        .collect();
    chart
        .draw_series(emp.iter().map(|&p| Circle::new(p, 2, DATA.filled())))
        .map_err(err)?
        .label(format!("data ({n} {})", c.what))
        .legend(|(x, y)| Circle::new((x + 10, y), 4, DATA.filled()));
    for (k, cand) in c.candidates.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let pts: Vec<(f64, f64)> = (0..=300)
            .map(|i| {
                let v = lo * (hi / lo).powf(i as f64 / 300.0);
                (v, cand.fitted.cdf(v))
            })
            .collect();
        let width = if k == 0 { 3 } else { 1 };
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(width)))
            .map_err(err)?
            .label((c.label)(cand))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

pub(super) fn format_s(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        let t = format!("{v:.6}");
        t.trim_end_matches('0').to_string()
    }
}

fn arrivals_panel<DB: DrawingBackend>(area: &Area<DB>, fit: &Fit) -> Result<()> {
    let a = &fit.arrivals;
    let minutes = a.span_s <= 4.0 * 3600.0;
    let unit = if minutes { 60.0 } else { 3600.0 };
    let end = a.span_s / unit;
    let peak = (0..a.counts.len()).map(|i| a.rate(i)).fold(0.0, f64::max);
    let top = peak.max(
        a.profile
            .iter()
            .map(|k| k.1 * a.baseline_rate_per_s)
            .fold(0.0, f64::max),
    ) * 1.15;
    let mut chart = panel(
        area,
        format!(
            "Arrivals: requests per second in each {} s bucket, and the model's rate x profile",
            a.bucket_s
        ),
        0.0..end.max(1e-9),
        0.0..top.max(1e-9),
    )?;
    axes(
        &mut chart.configure_mesh(),
        if minutes {
            "minutes since the first request"
        } else {
            "hours since the first request"
        },
        "requests per second",
    )
    .draw()
    .map_err(err)?;
    let bar = RGBColor(158, 202, 225);
    chart
        .draw_series((0..a.counts.len()).map(|i| {
            let x0 = i as f64 * a.bucket_s / unit;
            let x1 = x0 + a.covered(i) / unit;
            Rectangle::new([(x0, 0.0), (x1, a.rate(i))], bar.filled())
        }))
        .map_err(err)?
        .label(format!(
            "data (peak {:.2}/s, median {:.2}/s per bucket; {:.2}x surge over {})",
            a.peak_rate_per_s,
            a.median_rate_per_s,
            a.surge_in_data,
            a.surge
                .as_ref()
                .map_or("too short a span".into(), |s| format!(
                    "{} windows",
                    crate::fmt::exact_duration(s.window_s)
                ))
        ))
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], bar.filled()));
    let red = COLORS[1];
    let line: Vec<(f64, f64)> = (0..=400)
        .map(|i| {
            let t = a.span_s * i as f64 / 400.0;
            (t / unit, a.profile_rate(t))
        })
        .collect();
    chart
        .draw_series(LineSeries::new(line, red.stroke_width(3)))
        .map_err(err)?
        .label(match &fit.closed {
            // a closed test's model has no rate: its users make the requests
            Some(c) => format!(
                "requests/s smoothed ({}); the model: {} users (VUs) x profile, thinking {:.2} s",
                crate::fmt::counted(a.profile.len() as u64, "knot", "knots"),
                c.users,
                c.think_mean_s
            ),
            None => format!(
                "model: rate {:.2}/s x profile ({})",
                a.baseline_rate_per_s,
                crate::fmt::counted(a.profile.len() as u64, "knot", "knots")
            ),
        })
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(3)));
    chart
        .draw_series(
            a.profile
                .iter()
                .map(|&(t, f)| Circle::new((t / unit, f * a.baseline_rate_per_s), 5, red.filled())),
        )
        .map_err(err)?;
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

fn contention_panel<DB: DrawingBackend>(area: &Area<DB>, fit: &Fit) -> Result<()> {
    let title = "Response time against requests in progress (10 s windows pooled by load)";
    let Some(c) = fit.contention.as_ref().filter(|c| !c.points.is_empty()) else {
        let why = if fit.service.is_none() {
            "no response times in the data: no concurrency to show"
        } else {
            "too few 10 s windows with responses to show concurrency"
        };
        return note(area, title, why);
    };
    let nmax = c.points.iter().map(|p| p.n).fold(0.0, f64::max) * 1.1;
    let tmax = c
        .points
        .iter()
        .map(|p| p.mean_s * 1000.0)
        .fold(0.0, f64::max)
        * 1.2;
    let mut chart = panel(area, title, 0.0..nmax.max(1.0), 0.0..tmax.max(1e-6))?;
    axes(
        &mut chart.configure_mesh(),
        "concurrency n: requests in progress, counting the one arriving",
        "mean response time (ms)",
    )
    .draw()
    .map_err(err)?;
    chart
        .draw_series(
            c.points
                .iter()
                .map(|p| Circle::new((p.n, p.mean_s * 1000.0), 5, DATA.filled())),
        )
        .map_err(err)?
        .label("data: mean of successful responses")
        .legend(|(x, y)| Circle::new((x + 10, y), 5, DATA.filled()));
    if let (Some(k), Some(s)) = (c.coefficient, c.base_service_s) {
        let blue = COLORS[0];
        let x_max = c.knee_throughput_per_s;
        let curve: Vec<(f64, f64)> = match (c.threads_fitted, x_max) {
            // The fitted queue: at x arrivals a second, service S = s (1 + k (1 + x S)) and the
            // M/M/N wait, at n = 1 + x W; saturated beyond (n / X_max).
            (Some(threads), Some(xm)) => {
                let mut pts: Vec<(f64, f64)> = (0..300)
                    .filter_map(|i| {
                        let x = xm * i as f64 / 300.0;
                        let served = s * (1.0 + k) / (1.0 - s * k * x);
                        let w = served + concurrency::mmn_wait(threads, x, served);
                        let n = 1.0 + x * w;
                        (w.is_finite() && served > 0.0 && n <= nmax).then_some((n, w * 1000.0))
                    })
                    .collect();
                let from = pts.last().map_or(1.0, |p| p.0);
                pts.extend((0..=100).map(|i| {
                    let n = from + (nmax - from) * i as f64 / 100.0;
                    (n, n / xm * 1000.0)
                }));
                pts
            }
            _ => (0..=300)
                .map(|i| {
                    let n = nmax * i as f64 / 300.0;
                    let t = match (c.knee, x_max) {
                        (Some(kn), Some(x)) if n > kn => n / x,
                        _ => s * (1.0 + k * n),
                    };
                    (n, t * 1000.0)
                })
                .collect(),
        };
        let label = match (c.knee, c.threads_fitted) {
            (Some(_), Some(threads)) => format!(
                "fit: service {:.1} ms x (1 + {k:.4} n) and the wait for {threads} threads \
                 (M/M/{threads}), up to {:.1} per s, then n / {:.1} per s",
                s * 1000.0,
                x_max.unwrap_or(f64::NAN),
                x_max.unwrap_or(f64::NAN)
            ),
            (Some(kn), None) => format!(
                "fit: {:.1} ms x (1 + {k:.4} n) up to the knee at n = {kn:.0}, then n / {:.1} per s",
                s * 1000.0,
                x_max.unwrap_or(f64::NAN)
            ),
            (None, _) => format!(
                "fit: {:.1} ms x (1 + {k:.4} n) (+- {:.4}){}",
                s * 1000.0,
                c.coefficient_se.unwrap_or(f64::NAN),
                if c.significant {
                    ""
                } else {
                    ", not distinguishable from 0"
                }
            ),
        };
        chart
            .draw_series(LineSeries::new(curve, blue.stroke_width(3)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(3))
            });
        if let Some(kn) = c.knee {
            let red = COLORS[1];
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(kn, 0.0), (kn, tmax)],
                    red.stroke_width(2),
                )))
                .map_err(err)?
                .label(format!("knee: throughput stops growing at n = {kn:.0}"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(2))
                });
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}
