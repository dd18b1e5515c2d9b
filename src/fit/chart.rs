//! fit.png and fit.svg: how well the fitted model matches the data, in three panels: the
//! empirical CDF of the times fitted against each candidate's CDF (log time axis), requests per
//! second per bucket with the profile the model replays, and mean response time against
//! concurrency with the fitted contention line and the knee.
//!
//! Theme constants are copied from the run charts (`output::chart`) to keep the look.

use std::path::Path;

use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::report::Fit;

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const W: u32 = 1400;
const H: u32 = 1650;
const TEXT: RGBColor = RGBColor(30, 30, 30);
const TEXT_DIM: RGBColor = RGBColor(90, 90, 90);
const GRID: RGBColor = RGBColor(225, 225, 225);
const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];
const DATA: RGBColor = RGBColor(30, 30, 30);

fn font() {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
}

/// Draw the chart into `png` and `svg` (each written under a temporary name, then renamed).
pub fn draw(fit: &Fit, title: &str, png: &Path, svg: &Path) -> Result<()> {
    font();
    for (path, is_png) in [(png, true), (svg, false)] {
        // plotters tells the image format by the extension, so the temporary name keeps it.
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("fit");
        let ext = if is_png { "png" } else { "svg" };
        let tmp = path.with_file_name(format!(".{stem}.{}.tmp.{ext}", std::process::id()));
        let r = if is_png {
            let root = BitMapBackend::new(&tmp, (W, H)).into_drawing_area();
            panels(&root, fit, title)
                .and_then(|()| root.present().map_err(|e| anyhow::anyhow!("{e}")))
        } else {
            let root = SVGBackend::new(&tmp, (W, H)).into_drawing_area();
            panels(&root, fit, title)
                .and_then(|()| root.present().map_err(|e| anyhow::anyhow!("{e}")))
        };
        if let Err(e) = r {
            let _ = std::fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("cannot draw {}", path.display()));
        }
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

type Area<'a, DB> = DrawingArea<DB, Shift>;

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

fn panels<DB: DrawingBackend>(root: &Area<DB>, fit: &Fit, title: &str) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let (head, body) = root.split_vertically(60);
    head.draw_text(title, &(FONT, 28).into_font().color(&TEXT), (30, 18))
        .map_err(err)?;
    let parts = body.split_evenly((3, 1));
    cdf_panel(&parts[0], fit)?;
    arrivals_panel(&parts[1], fit)?;
    contention_panel(&parts[2], fit)?;
    Ok(())
}

fn note<DB: DrawingBackend>(area: &Area<DB>, title: &str, text: &str) -> Result<()> {
    area.draw_text(title, &(FONT, 22).into_font().color(&TEXT), (30, 10))
        .map_err(err)?;
    area.draw_text(text, &(FONT, 18).into_font().color(&TEXT_DIM), (30, 60))
        .map_err(err)?;
    Ok(())
}

fn cdf_panel<DB: DrawingBackend>(area: &Area<DB>, fit: &Fit) -> Result<()> {
    let title = "Service time: empirical CDF against the fitted candidates (lowest AIC first)";
    let Some(s) = fit.service.as_ref().filter(|s| s.sorted.len() >= 10) else {
        return note(
            area,
            title,
            "fewer than 10 successful responses with a time: nothing fitted",
        );
    };
    let x = &s.sorted;
    let n = x.len();
    let lo = x[n / 1000].max(x[0]).max(1e-9) * 0.8;
    let hi = x[(n - 1).min(n - n / 1000)] * 1.25;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22).into_font().color(&TEXT))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(GRID)
        .bold_line_style(GRID)
        .x_desc("time (s, log scale)")
        .y_desc("share of responses at or below")
        .label_style((FONT, 16).into_font().color(&TEXT))
        .axis_desc_style((FONT, 18).into_font().color(&TEXT))
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
        .label(format!("data ({n} responses)"))
        .legend(|(x, y)| Circle::new((x + 10, y), 4, DATA.filled()));
    for (k, c) in s.candidates.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let pts: Vec<(f64, f64)> = (0..=300)
            .map(|i| {
                let v = lo * (hi / lo).powf(i as f64 / 300.0);
                (v, c.fitted.cdf(v))
            })
            .collect();
        let width = if k == 0 { 3 } else { 1 };
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(width)))
            .map_err(err)?
            .label(format!("{} (AIC {:.0}, KS {:.3})", c.dist, c.aic, c.ks))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .label_font((FONT, 16).into_font().color(&TEXT))
        .draw()
        .map_err(err)?;
    Ok(())
}

fn format_s(v: f64) -> String {
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
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "Arrivals: requests per second in each {} s bucket, and the model's rate x profile",
                a.bucket_s
            ),
            (FONT, 22).into_font().color(&TEXT),
        )
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..end.max(1e-9), 0.0..top.max(1e-9))
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(GRID)
        .bold_line_style(GRID)
        .x_desc(if minutes {
            "minutes since the first request"
        } else {
            "hours since the first request"
        })
        .y_desc("requests per second")
        .label_style((FONT, 16).into_font().color(&TEXT))
        .axis_desc_style((FONT, 18).into_font().color(&TEXT))
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
            "data (peak {:.2}/s, median {:.2}/s: a {:.2}x surge)",
            a.peak_rate_per_s, a.median_rate_per_s, a.surge_in_data
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
        .label(format!(
            "model: rate {:.2}/s x profile ({} knots)",
            a.baseline_rate_per_s,
            a.profile.len()
        ))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(3)));
    chart
        .draw_series(
            a.profile
                .iter()
                .map(|&(t, f)| Circle::new((t / unit, f * a.baseline_rate_per_s), 5, red.filled())),
        )
        .map_err(err)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .label_font((FONT, 16).into_font().color(&TEXT))
        .draw()
        .map_err(err)?;
    Ok(())
}

fn contention_panel<DB: DrawingBackend>(area: &Area<DB>, fit: &Fit) -> Result<()> {
    let title = "Response time against concurrency (10 s windows pooled by concurrency)";
    let Some(c) = fit.contention.as_ref().filter(|c| !c.points.is_empty()) else {
        return note(
            area,
            title,
            "too few 10 s windows with responses to show concurrency",
        );
    };
    let nmax = c.points.iter().map(|p| p.n).fold(0.0, f64::max) * 1.1;
    let tmax = c
        .points
        .iter()
        .map(|p| p.mean_s * 1000.0)
        .fold(0.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22).into_font().color(&TEXT))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..nmax.max(1.0), 0.0..tmax.max(1e-6))
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(GRID)
        .bold_line_style(GRID)
        .x_desc("concurrency n: requests in progress, counting the one arriving")
        .y_desc("mean response time (ms)")
        .label_style((FONT, 16).into_font().color(&TEXT))
        .axis_desc_style((FONT, 18).into_font().color(&TEXT))
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
        let curve: Vec<(f64, f64)> = (0..=300)
            .map(|i| {
                let n = nmax * i as f64 / 300.0;
                let t = match (c.knee, x_max) {
                    (Some(kn), Some(x)) if n > kn => n / x,
                    _ => s * (1.0 + k * n),
                };
                (n, t * 1000.0)
            })
            .collect();
        let label = match c.knee {
            Some(kn) => format!(
                "fit: {:.1} ms x (1 + {k:.4} n) up to the knee at n = {kn:.0}, then n / {:.1} per s",
                s * 1000.0,
                x_max.unwrap_or(f64::NAN)
            ),
            None => format!(
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
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .label_font((FONT, 16).into_font().color(&TEXT))
        .draw()
        .map_err(err)?;
    Ok(())
}
