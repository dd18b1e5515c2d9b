//! `surge plot DIR`: redraw the charts of a finished run, sweep, crash-point search,
//! comparison or sensitivity screening from its data files and rewrite its report, or do so in each step of a
//! `surge report` folder (`app::plot` does the work); this file says what was done.

use anyhow::Result;

use crate::app::plot::{Charts, PlotSettings, plot as redraw};
use crate::cli::PlotArgs;
use crate::output::stdout::outln;

pub fn plot(args: &PlotArgs) -> Result<()> {
    let outcome = redraw(&PlotSettings {
        dir: args.dir.clone(),
    })?;
    let Some(whole) = &outcome.left_as_it_was else {
        for r in &outcome.redrawn {
            outln!("redrew {} in {}", what(r.charts), r.dir.display());
            outln!("rewrote report.html and report.md in {}", r.dir.display());
        }
        return Ok(());
    };
    for r in &outcome.redrawn {
        outln!(
            "redrew {} in {} and rewrote its report.html and report.md",
            what(r.charts),
            r.dir.display()
        );
    }
    outln!(
        "left {} as it was: the report of the whole (its budget and steps are not kept in the \
         data files) embeds the charts drawn then; run surge report again to rebuild it",
        whole.display()
    );
    Ok(())
}

/// What was redrawn, in words.
fn what(charts: Charts) -> &'static str {
    match charts {
        Charts::Sweep => "the sweep charts",
        Charts::CrashPoint => "the crash-point chart",
        Charts::Compare => {
            "the comparison chart (compare.png, compare.svg) from compare.json: its outage strips \
             and key metrics; compare.json keeps no time series, so the success-rate curves are \
             left out and the time axis is in time since the start"
        }
        Charts::Timeline => "the timeline",
        Charts::Tornado => "the tornado chart (tornado.png, tornado.svg) from sensitivity.json",
    }
}
