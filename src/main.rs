//! The `surge` binary: parse the command line (`surge::cli`), run the command (`surge::commands`),
//! and turn an error into a one-paragraph message and an exit code (`surge::api::Error`, the
//! same words a program embedding surge gets): 2 for bad input (a model error or `BadInput`),
//! 130 for a command interrupted by Ctrl-C or a termination signal, 74 for a file that could not
//! be read or written (a full disk), 1 otherwise (a failed `--assert`).

use clap::Parser;

use surge::cli::{Cli, Command, RunArgs};
use surge::commands;

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
        Some(Command::Sensitivity(a)) => commands::sensitivity::sensitivity(&a),
        Some(Command::New(a)) => commands::new::new(&a),
    };
    std::process::exit(match result {
        Ok(()) => 0,
        Err(e) => {
            let e = surge::api::Error::from(e);
            eprintln!("error: {}", e.message);
            e.kind.exit_code()
        }
    });
}
