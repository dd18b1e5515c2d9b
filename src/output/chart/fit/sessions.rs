//! The two panels fit.png adds for an access log with sessions (`surge fit`): the think times'
//! empirical CDF against the fitted candidates (log time axis), and the share of sessions by
//! pages per session against the geometric of the same mean. Drawn below `fit`'s three panels,
//! with its helpers and look; nothing is drawn where the data show no think time.

use anyhow::Result;
use plotters::prelude::*;

use super::{Area, COLORS, Cdf, axes, cdf_against_fits, err, legend, panel};
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
    let title = format!(
        "Think time between the starts of consecutive pages ({} gaps), against the fitted candidates",
        t.gaps
    );
    cdf_against_fits(
        area,
        &Cdf {
            title: &title,
            sorted: &s.think_sorted,
            floor_s: 1e-3,
            x_desc: "think time (s, log scale)",
            y_desc: "share of gaps at or below",
            what: "gaps",
            candidates: &t.candidates,
            label: &|c| {
                format!(
                    "{} mean {} (AIC {:.0}, KS {:.3})",
                    c.dist,
                    crate::fit::toml_text::ms(c.mean_s),
                    c.aic,
                    c.ks
                )
            },
        },
    )
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
