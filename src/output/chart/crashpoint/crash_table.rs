//! The table of a crash-point search's tries in the order they were run (number, value,
//! `failures / reps` with the share), drawn in the legend column of the crash-point chart under
//! its legend. It is not the plot of the tries (markers, Wilson whiskers, labels: `crashpoint`),
//! nor the terminal report of a search.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::CrashTry;
use crate::output::chart::parts::fmt_sig;
use crate::output::chart::theme::*;

/// The tries in the order they were made, as a table in the legend column from `top`: number,
/// value and `outages/reps`. Rows that do not fit are summed up in a last row.
pub(super) fn draw_try_table<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tries: &[CrashTry],
    top: i32,
    failures: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    if tries.is_empty() {
        return Ok(());
    }
    let (_, area_h) = area.dim_in_pixel();
    let row_h = 22;
    let left = Pos::new(HPos::Left, VPos::Center);
    let right = Pos::new(HPos::Right, VPos::Center);
    area.draw(&Text::new(
        "tries, in order",
        (8, top),
        style(LEGEND_SIZE, &TEXT).pos(left),
    ))?;
    let mut y = top + 26;
    let heads = [
        ("#", 36, right),
        ("value", 140, right),
        (&format!("{failures} / reps") as &str, 160, left),
    ];
    for (text, x, pos) in heads {
        area.draw(&Text::new(
            text,
            (x, y),
            style(NOTE_SIZE, &TEXT_DIM).pos(pos),
        ))?;
    }
    let fits = ((area_h as i32 - 8 - y) / row_h).max(0) as usize;
    let shown = if tries.len() <= fits {
        tries.len()
    } else {
        fits.saturating_sub(1)
    };
    for (i, t) in tries.iter().take(shown).enumerate() {
        y += row_h;
        let k = t.outages.min(t.reps);
        let pct = 100.0 * f64::from(k) / f64::from(t.reps.max(1));
        let pct = match k {
            0 => "0%".to_string(),
            k if k == t.reps => "100%".to_string(),
            _ if pct < 1.0 => "<1%".to_string(),
            _ if pct > 99.0 => ">99%".to_string(),
            _ => format!("{pct:.0}%"),
        };
        let share = if t.reps > 0 {
            format!("{k}/{}  ({pct})", t.reps)
        } else {
            "no replications".to_string()
        };
        let cells = [
            (format!("{}", i + 1), 36, right),
            (fmt_sig(t.value, 6), 140, right),
            (share, 160, left),
        ];
        for (text, x, pos) in cells {
            area.draw(&Text::new(text, (x, y), style(NOTE_SIZE, &TEXT).pos(pos)))?;
        }
    }
    if shown < tries.len() {
        y += row_h;
        area.draw(&Text::new(
            format!("… and {} more", tries.len() - shown),
            (8, y),
            style(NOTE_SIZE, &TEXT_DIM).pos(left),
        ))?;
    }
    Ok(())
}
