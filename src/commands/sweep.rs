//! `surge sweep`: the flags resolved into `app::sweep::SweepSettings`, the sweep run by
//! `app::sweep::sweep` (the grid, shards, journal, `--resume`, the question before 1,000 runs),
//! and what the planner reads printed from its outcome: the table of the points, or where a
//! shard's files are and how to merge them. `--count-points` and `--list-points` only print the
//! grid (`app::sweep::Grid`) and run nothing.
//!
//! Not here: the work itself (`app::sweep`), nor the files' formats (`output::sweep`).

use anyhow::Result;

use crate::app::sweep::{Ending, Grid, SweepSettings};
use crate::app::{ManyRuns, ModelSource};
use crate::cli::SweepArgs;
use crate::output::stdout::{self, outln};

/// The sweep the flags ask for.
pub(crate) fn settings(args: &SweepArgs) -> SweepSettings {
    SweepSettings {
        source: ModelSource::new(Some(&args.model), &args.runs.overrides.list()),
        vary: args.vary.clone(),
        points: args.points,
        reps: args.reps,
        seeds: args.seeds,
        runs: ManyRuns::from(&args.runs),
        criterion: args.failure.criterion,
        until: args.until.map(Into::into),
        shard: args.shard.clone(),
        shards: args.shards,
        resume: args.resume,
        yes: args.yes,
        quiet: args.quiet,
    }
}

pub fn sweep(args: &SweepArgs) -> Result<()> {
    let s = settings(args);
    if args.count_points || args.list_points {
        return points(&s, args.count_points);
    }
    let outcome = crate::app::sweep::sweep(&s)?;
    if s.quiet {
        return Ok(());
    }
    match &outcome.ending {
        Ending::Declined | Ending::AlreadyComplete => Ok(()),
        Ending::Finished(files) => stdout::print(&crate::output::sweep::said(
            &files.id, &files.doc, &files.dir,
        )),
        Ending::Shard(m) => stdout::print(&format!(
            "shard {} of {}: {} points x {} replications in {}; once every shard is done, \
            `surge merge {}` writes points.csv, sweep.json and the charts\n",
            m.shard.index,
            m.shard.count,
            m.shard_points.len(),
            m.sweep.reps,
            outcome.dir.join(&m.file).display(),
            outcome.dir.display()
        )),
    }
}

/// `--count-points`: the number of points in the grid; `--list-points`: the points this process
/// would run (its shard's), one a line with its index and values.
fn points(s: &SweepSettings, count: bool) -> Result<()> {
    let grid = Grid::load(s, false)?;
    if count {
        outln!("{}", grid.points.len());
        return Ok(());
    }
    let keys = grid.keys();
    for i in grid.mine_points()? {
        let values: Vec<String> = (keys.iter().zip(&grid.points[i]))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        outln!("{i} {}", values.join(" "));
    }
    Ok(())
}
