//! The command line: clap definitions of DESIGN.md section 1, and the dispatch that turns an
//! error into a one-paragraph message and an exit code (2 for bad input, 1 otherwise).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::commands;
use crate::model::ModelError;

#[derive(Debug, Parser)]
#[command(
    name = "surge",
    version,
    about = "Discrete-event capacity simulator for web services under traffic surges."
)]
#[command(
    long_about = "Discrete-event capacity simulator for web services under traffic surges.\n\n\
With no command, runs the built-in model of the IRCC website on US election night 2016 and writes its outputs."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a model (the built-in IRCC model when none is given) and write its outputs.
    Run(RunArgs),
    /// Check a model and print offered load, utilisation and exact queueing predictions.
    Check(CheckArgs),
}

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Model file (TOML); the built-in models/ircc-2016.toml when left out.
    pub model: Option<PathBuf>,
    /// Override a model value by key path, e.g. --set surge.peak=6 --set tier.web.instances=12.
    #[arg(long = "set", value_name = "K=V")]
    pub sets: Vec<String>,
    /// Random seed (default: scenario.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replications: means and 95% confidence intervals over this many independent runs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub reps: u32,
    /// Output folder (default: outputs/<model name>/run/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar and no summary on the terminal.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Model file (TOML).
    pub model: Option<PathBuf>,
    #[arg(long = "set", value_name = "K=V")]
    pub sets: Vec<String>,
}

/// Input the user must fix (exit code 2), as opposed to a failure of the machine (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Parse the command line, run the command, and return the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        None => commands::run::run(&RunArgs {
            reps: 1,
            ..RunArgs::default()
        }),
        Some(Command::Run(a)) => commands::run::run(&a),
        Some(Command::Check(a)) => commands::check::check(&a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            let bad_input =
                e.downcast_ref::<ModelError>().is_some() || e.downcast_ref::<BadInput>().is_some();
            let msg = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("error: {msg}");
            if bad_input { 2 } else { 1 }
        }
    }
}
