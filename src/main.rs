//! The `surge` binary: parse the command line (`surge::cli`), run the command (`surge::commands`),
//! and turn an error into a one-paragraph message and an exit code: 2 for bad input (a model
//! error or `BadInput`), 130 for a command interrupted by Ctrl-C or a termination signal, 74 for
//! a file that could not be read or written (a full disk), 1 otherwise (a failed `--assert`).

use clap::Parser;

use surge::cli::{Cli, Command, RunArgs};
use surge::commands;
use surge::error::BadInput;
use surge::experiment::sweep::Interrupted;
use surge::model::ModelError;

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        None => commands::run::run(&RunArgs {
            reps: 1,
            ..RunArgs::default()
        }),
        Some(Command::Run(a)) => commands::run::run(&a),
        Some(Command::Check(a)) => commands::check::check(&a),
        Some(Command::Sweep(a)) => commands::sweep::sweep(&a),
        Some(Command::Crashpoint(a)) => commands::crashpoint::crashpoint(&a),
        Some(Command::Optimize(a)) => commands::optimize::optimize(&a),
        Some(Command::Plot(a)) => commands::plot::plot(&a),
        Some(Command::Bench(a)) => commands::bench::bench(&a),
        Some(Command::Merge(a)) => commands::merge::merge(&a),
        Some(Command::Fit(a)) => commands::fit::fit(&a),
        Some(Command::Report(a)) => commands::report::report(&a),
        Some(Command::Compare(a)) => commands::compare::compare(&a),
    };
    std::process::exit(match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            exit_code(&e)
        }
    });
}

/// The error and its causes in one paragraph.
fn message(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

/// Exit code of a file that could not be read or written (a full disk, a folder gone):
/// `EX_IOERR` of sysexits.h, distinct from 1, the code of a failed `--assert`.
const IO_ERROR: i32 = 74;

fn exit_code(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<Interrupted>().is_some() {
        130
    } else if e.downcast_ref::<ModelError>().is_some() || e.downcast_ref::<BadInput>().is_some() {
        2
    } else if e
        .chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some())
    {
        IO_ERROR
    } else {
        1
    }
}
