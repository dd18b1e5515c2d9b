//! Tests of the command line: the defaults written once, the flags the searches share and the
//! help of the one that differs.

use super::*;
use clap::Parser;

fn crashpoint_args() -> CrashpointArgs {
    match Cli::try_parse_from(["surge", "crashpoint", "m.toml", "--vary", "k=1..2"]) {
        Ok(Cli {
            command: Some(Command::Crashpoint(a)),
            ..
        }) => a,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_confidence_is_the_one_default() {
    assert_eq!(crashpoint_args().confidence, CONFIDENCE);
}

#[test]
fn the_tolerance_is_the_one_default() {
    assert_eq!(crashpoint_args().tolerance, TOLERANCE);
}

/// `--budget`, `--resume`, `--quiet` and the runs' flags land in the same `SearchArgs` in
/// each search.
#[test]
fn the_searches_share_their_flags() {
    let tail = [
        "m.toml", "--vary", "k=1..2", "--budget", "10m", "--resume", "--quiet",
    ];
    let searches = [
        ("crashpoint", &[][..]),
        ("optimize", &["--keep", "slo"][..]),
        ("sensitivity", &["--jobs", "3"][..]),
    ];
    for (name, extra) in searches {
        let argv = ["surge", name]
            .into_iter()
            .chain(tail)
            .chain(extra.iter().copied());
        let search = match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Some(Command::Crashpoint(a)),
            }) => a.search,
            Ok(Cli {
                command: Some(Command::Optimize(a)),
            }) => a.search,
            Ok(Cli {
                command: Some(Command::Sensitivity(a)),
            }) => a.search,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(search.model, PathBuf::from("m.toml"), "{name}");
        assert_eq!(search.budget, Some(600.0), "{name}");
        assert!(search.resume && search.quiet, "{name}");
        let jobs = (name == "sensitivity").then_some(3);
        assert_eq!(search.runs.jobs, jobs, "{name}");
    }
}

/// `surge sensitivity --budget` says how a budget changes the screening; the other searches
/// say the shared words.
#[test]
fn sensitivity_keeps_its_own_budget_help() {
    use clap::CommandFactory;
    let help = |name: &str| {
        let cli = Cli::command();
        let search = cli.find_subcommand(name).expect("a search");
        let budget = search.get_arguments().find(|a| a.get_id() == "budget");
        budget
            .and_then(|a| a.get_help())
            .expect("--budget")
            .to_string()
    };
    assert!(help("sensitivity").contains("the trajectories then run one after the other"));
    for name in ["crashpoint", "optimize"] {
        assert!(
            help(name).starts_with("Wall-clock time for the search"),
            "{name}"
        );
    }
}
