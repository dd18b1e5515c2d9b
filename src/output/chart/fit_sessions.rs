//! The two panels fit.png adds for an access log with sessions (`surge fit`): the think times'
//! empirical CDF against the fitted candidates (log time axis), and the share of sessions by
//! pages per session against the geometric of the same mean. Drawn below `fit`'s three panels,
//! with its helpers and look; nothing is drawn where the data show no think time.

use anyhow::Result;
use plotters::prelude::*;

use super::fit::{Area, COLORS, DATA, axes, err, format_s, legend, panel};
use crate::fit::report::Fit;
use crate::fit::sessions_fit::Sessions;

/// Height of one panel, as `fit`'s.
const PANEL_H: u32 = 530;

/// The sessions fitted, where there is a think time to show.
fn shown(fit: &Fit) -> Option<&Sessions> {
    fit.logs
        .sessions
        .as_ref()
        .filter(|s| s.think.is_some() && s.think_sorted.len() >= 10)
}

/// The height the session panels add to fit.png (0: none).
pub(super) fn extra_height(fit: &Fit) -> u32 {
    if shown(fit).is_some() { 2 * PANEL_H } else { 0 }
}

pub(super) fn panels<DB: DrawingBackend>(area: &Area<DB>, fit: &Fit) -> Result<()> {
    let Some(s) = shown(fit) else {
        return Ok(());
    };
    let parts = area.split_evenly((2, 1));
    think_panel(&parts[0], s)?;
    pages_panel(&parts[1], s)?;
    Ok(())
}

fn think_panel<DB: DrawingBackend>(area: &Area<DB>, s: &Sessions) -> Result<()> {
    let t = s.think.as_ref().expect("shown only with a think time");
    let x = &s.think_sorted;
    let n = x.len();
    let lo = x[n / 1000].max(x[0]).max(1e-3) * 0.8;
    let hi = x[(n - 1).min(n - n / 1000)] * 1.25;
    let title = format!(
        "Think time between the starts of consecutive pages ({} gaps), against the fitted candidates",
        t.gaps
    );
    let mut chart = panel(area, title, (lo..hi).log_scale(), 0.0..1.0)?;
    axes(
        &mut chart.configure_mesh(),
        "think time (s, log scale)",
        "share of gaps at or below",
    )
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
        .label(format!("data ({n} gaps)"))
        .legend(|(x, y)| Circle::new((x + 10, y), 4, DATA.filled()));
    for (k, c) in t.candidates.iter().enumerate() {
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
            .label(format!(
                "{} mean {} (AIC {:.0}, KS {:.3})",
                c.dist,
                crate::fit::model_toml::ms(c.mean_s),
                c.aic,
                c.ks
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

fn pages_panel<DB: DrawingBackend>(area: &Area<DB>, s: &Sessions) -> Result<()> {
    let shares = &s.pages.shares;
    let top = shares
        .iter()
        .map(|x| x.data.max(x.geometric))
        .fold(0.0, f64::max)
        * 1.2;
    let title = format!(
        "Pages per session ({} sessions, mean {:.2}): the data against a geometric of that mean (KS {:.3}; the model uses {})",
        s.sessions, s.pages.mean, s.pages.geometric_ks, s.pages.model
    );
    let k = shares.len() as f64;
    let mut chart = panel(area, title, -0.5..k - 0.5, 0.0..top.max(1e-6))?;
    axes(
        &mut chart.configure_mesh(),
        "pages in the session",
        "share of sessions",
    )
    .x_labels(shares.len())
    .x_label_formatter(&|v| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < shares.len() {
            shares[i as usize].pages.clone()
        } else {
            String::new()
        }
    })
    .draw()
    .map_err(err)?;
    let bar = RGBColor(158, 202, 225);
    chart
        .draw_series(shares.iter().enumerate().map(|(i, x)| {
            let c = i as f64;
            Rectangle::new([(c - 0.3, 0.0), (c + 0.3, x.data)], bar.filled())
        }))
        .map_err(err)?
        .label("data")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], bar.filled()));
    let red = COLORS[1];
    chart
        .draw_series(
            shares
                .iter()
                .enumerate()
                .map(|(i, x)| Circle::new((i as f64, x.geometric), 7, red.filled())),
        )
        .map_err(err)?
        .label(format!("geometric, p = {:.3}", s.pages.geometric_p))
        .legend(move |(x, y)| Circle::new((x + 10, y), 6, red.filled()));
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}
