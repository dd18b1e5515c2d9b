//! `surge report MODEL`: the planner's one command (`app::report`): a run, its crash point and
//! its variants within `--budget`, and one report of the whole. This file resolves the flags and
//! prints each step's result and where the report is.

use anyhow::Result;

use super::human_duration;
use crate::app::report::{Done, ReportSettings};
use crate::app::{self, ModelSource};
use crate::cli::ReportArgs;
use crate::output::stdout::outln;

pub fn report(args: &ReportArgs) -> Result<()> {
    // What each step's own command would have said, as each ends.
    let tell = |done: Done| match done {
        Done::Run(o) if !args.quiet => super::run::tell(o),
        Done::Run(_) => Ok(()),
        Done::Crash(s, o) => super::crashpoint::print(s, o),
        Done::Compare(s, o) => super::compare::print(s, o),
    };
    let done = app::report::report(&ReportSettings {
        source: ModelSource::new(args.model.as_deref(), &args.overrides.list()),
        vary: args.vary.clone(),
        sensitivity: args.sensitivity.clone(),
        criterion: args.failure.criterion,
        budget_s: args.budget,
        seed: args.seed,
        jobs: args.jobs,
        out: args.out.clone(),
        asserts: args.checks.asserts.clone(),
        resume: args.resume,
        quiet: args.quiet,
        on_done: Some(&tell),
        notes: super::stderr_notes(),
    })?;
    if !args.quiet {
        for s in &done.steps {
            outln!("{}: {}", s.name, s.result);
        }
        outln!(
            "report: {} (and report.md), in {} of a {} budget",
            done.dir.join("report.html").display(),
            human_duration(done.took_s),
            human_duration(args.budget)
        );
    }
    super::run::say_verdict(&done.checks)
}
