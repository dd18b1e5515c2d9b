//! One file per command: each resolves its arguments into the settings of `app` (the service
//! layer, which does the work and returns a typed outcome) and prints what a planner needs to
//! see. Not here: the work itself, which is `app`'s (`commands/bench.rs` keeps only the branch
//! that runs in a benchmark's child process and measures one workload, `bench::child`).

pub mod bench;
pub mod check;
mod check_closed;
pub mod compare;
pub mod crashpoint;
pub mod fit;
pub(crate) mod fit_logs;
pub(crate) mod levels;
pub mod merge;
pub mod new;
pub mod optimize;
pub mod plot;
pub mod report;
pub mod run;
pub mod sensitivity;
pub mod sweep;

pub use crate::fmt::{human_count, human_duration};

/// Notes that print each line on stderr as it comes, as the commands show the service
/// layer's notes (`app::notes`).
pub(crate) use crate::cli::stderr_notes;

/// The settings every search shares (crashpoint, optimize, sensitivity), from its flags: the
/// model with its `--set`s, the runs' flags, `--budget`, `--resume` and `--quiet`.
pub(crate) fn search_settings(args: &crate::cli::SearchArgs) -> crate::app::SearchSettings {
    crate::app::SearchSettings {
        source: crate::app::ModelSource::new(Some(&args.model), &args.runs.overrides.list()),
        budget: args.budget,
        resume: args.resume,
        runs: (&args.runs).into(),
        quiet: args.quiet,
    }
}
