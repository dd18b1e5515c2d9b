//! The facade a program embedding surge calls (the Python package `python/` is the one there
//! is): each function takes a command's arguments as the command line writes them after its
//! name (`["models/mmck.toml", "--reps", "3"]`), runs the same `app::` service function the
//! command runs, and returns the command's typed documents (`summary.json`, `sweep.json`,
//! `crashpoint.json`, `compare.json`, `fit.json`, `surge check`'s prediction) as one JSON text,
//! with the CSV a planner reads (`timeseries.csv`, `points.csv`, `compare.csv`) beside them. An
//! error comes back as the command line would word it ([`Error`], with the file and line of a
//! model error). The host owns the signals and the progress display: [`begin`] marks the process
//! as embedded (no Ctrl-C handler is installed, no bar is drawn), [`progress`] says how far the
//! work in progress got, and [`request_stop`] stops it as a first Ctrl-C would.
//!
//! Not here: threads, the GIL, Python exceptions and DataFrames (`python/src/lib.rs` and the
//! `surge` Python package); nor any computation: every figure comes from the layers below, as
//! the command line gets it. The arguments are read by the command line's own parser (`cli`),
//! so every flag, default and message is the command's.

use clap::Parser;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::app::{self, interrupt, progress};
use crate::cli::{Cli, Command};
use crate::experiment::sweep::Interrupted;
use crate::model::{ModelError, Place};

/// A failed call, as the command line reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// The message the command line prints after `error: `.
    pub message: String,
    /// For a model error: the file, the 1-based line and column when known, the key path.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub key: Option<String>,
}

/// What kind of failure, as the command line's exit code tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Input to fix: a model error or a bad flag (exit code 2).
    BadInput,
    /// Stopped by a signal, or by [`request_stop`] (exit code 130).
    Interrupted,
    /// A file that could not be read or written (exit code 74).
    Io,
    /// Anything else, a failed `--assert` among them (exit code 1).
    Failed,
}

impl ErrorKind {
    /// The command line's exit code.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::BadInput => 2,
            ErrorKind::Interrupted => 130,
            ErrorKind::Io => 74,
            ErrorKind::Failed => 1,
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Error {
        let message = e
            .chain()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        let model = e.downcast_ref::<ModelError>();
        let kind = if e.downcast_ref::<Interrupted>().is_some() {
            ErrorKind::Interrupted
        } else if model.is_some() || e.downcast_ref::<crate::error::BadInput>().is_some() {
            ErrorKind::BadInput
        } else if e
            .chain()
            .any(|c| c.downcast_ref::<std::io::Error>().is_some())
        {
            ErrorKind::Io
        } else {
            ErrorKind::Failed
        };
        let (line, column) = match model.map(|m| &m.place) {
            Some(Place::File { line, column }) => (Some(*line), Some(*column)),
            _ => (None, None),
        };
        Error {
            kind,
            message,
            file: model.map(|m| m.file.clone()),
            line,
            column,
            key: model.and_then(|m| m.key.clone()),
        }
    }
}

/// Mark the process as embedded and start a call afresh: no Ctrl-C handler, no bar drawn, an
/// earlier [`request_stop`] and the last call's progress forgotten.
pub fn begin() {
    interrupt::embed();
    progress::forget();
    interrupt::clear();
}

/// Stop the call in progress as a first Ctrl-C does: no new run starts.
pub fn request_stop() {
    interrupt::request_stop();
}

/// How far the call in progress got: done, of how many, and what it counts ("runs",
/// "replications", "simulated seconds"); `None` before its work starts.
pub fn progress() -> Option<(u64, u64, &'static str)> {
    progress::observed()
}

/// The built-in model's text (`models/ircc-2016.toml`), and the name errors give it.
pub fn builtin() -> (&'static str, &'static str) {
    (crate::model::BUILTIN_TEXT, crate::model::BUILTIN_NAME)
}

/// The model at `path` (the built-in one for `None`) with the `--set` overrides `sets`, loaded
/// and checked: its effective text.
pub fn model_text(path: Option<&Path>, sets: &[String]) -> Result<String, Error> {
    app::ModelSource::new(path, sets)
        .load_with_text()
        .map(|(_, text)| text)
        .map_err(|e| anyhow::Error::from(e).into())
}

/// The command `name` with `args`, read by the command line's parser, and its arguments as
/// `pick` takes them out of the command.
fn parse<A>(name: &str, args: &[String], pick: fn(Command) -> Option<A>) -> Result<A, Error> {
    let argv = ["surge", name].into_iter().map(String::from);
    let cli = Cli::try_parse_from(argv.chain(args.iter().cloned())).map_err(|e| Error {
        kind: ErrorKind::BadInput,
        message: e
            .render()
            .to_string()
            .trim()
            .trim_start_matches("error: ")
            .into(),
        file: None,
        line: None,
        column: None,
        key: None,
    })?;
    cli.command.and_then(pick).ok_or_else(|| {
        anyhow::anyhow!("the arguments did not make a `surge {name}` command").into()
    })
}

fn json<T: Serialize>(doc: &T) -> Result<String, Error> {
    serde_json::to_string(doc).map_err(|e| anyhow::Error::from(e).into())
}

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(e)
            .context(format!("cannot read {}", path.display()))
            .into()
    })
}

/// `surge check ARGS`: what it prints (`text`), and its figures typed: the offered load, each
/// tier's, the exact prediction where the model is a textbook queue, the estimated events.
pub fn check(args: &[String]) -> Result<String, Error> {
    let a = parse("check", args, |c| match c {
        Command::Check(a) => Some(a),
        _ => None,
    })?;
    let settings = app::check::CheckSettings {
        source: app::ModelSource::new(a.model.as_deref(), &a.overrides.list()),
    };
    let o = app::check::check(&settings)?;
    let prediction = match &o.prediction {
        app::check::Prediction::Exact { queue, figures } => Some(PredictionDoc {
            queue,
            figures: figures.iter().map(|f| (f.name, f.value)).collect(),
        }),
        app::check::Prediction::None(_) => None,
    };
    json(&CheckDoc {
        model: &o.model.scenario.name,
        text: crate::commands::check::text(&o),
        offered_rps: [o.offered.base, o.offered.peak],
        tiers: (o.model.tiers.iter().zip(&o.tiers))
            .map(|(t, l)| TierDoc {
                name: &t.name,
                threads: l.threads,
                base_erlangs: l.base,
                peak_erlangs: l.peak,
                peak_utilisation: l.peak_utilisation(),
            })
            .collect(),
        prediction,
        events: o.events,
        warnings: &o.warnings,
    })
}

#[derive(Serialize)]
struct CheckDoc<'a> {
    model: &'a str,
    text: String,
    /// Requests per second offered to the first tier: baseline, surge peak.
    offered_rps: [f64; 2],
    tiers: Vec<TierDoc<'a>>,
    prediction: Option<PredictionDoc<'a>>,
    events: f64,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct TierDoc<'a> {
    name: &'a str,
    threads: f64,
    base_erlangs: f64,
    peak_erlangs: f64,
    peak_utilisation: f64,
}

#[derive(Serialize)]
struct PredictionDoc<'a> {
    queue: &'a app::check::Queue,
    figures: BTreeMap<&'static str, Option<f64>>,
}

/// `surge run ARGS`: `summary.json` (`summary`, `provenance`), every replication's summary, and
/// `timeseries.csv` as text; `dir` is the folder it wrote.
pub fn run(args: &[String]) -> Result<String, Error> {
    let a = parse("run", args, |c| match c {
        Command::Run(a) => Some(a),
        _ => None,
    })?;
    let settings = crate::commands::run::settings(&a);
    let done = app::run::run(&settings)?;
    let series = crate::experiment::mean_series(&done.outs);
    let csv = crate::output::timeseries_csv(&series)?;
    json(&RunDoc {
        dir: &done.dir,
        summary: &done.summary,
        provenance: settings.source.provenance().map_err(anyhow::Error::from)?,
        replications: done.outs.iter().map(|o| &o.summary).collect(),
        timeseries_csv: String::from_utf8_lossy(&csv).into_owned(),
    })
}

#[derive(Serialize)]
struct RunDoc<'a> {
    dir: &'a Path,
    summary: &'a crate::metrics::run_summary::RunSummary,
    provenance: crate::store::provenance::Provenance,
    replications: Vec<&'a crate::metrics::Summary>,
    timeseries_csv: String,
}

/// `surge sweep ARGS`: `sweep.json` (`sweep`) and `points.csv` as text (`points_csv`), from the
/// folder it wrote (`dir`). A shard's or a declined sweep is an error here.
pub fn sweep(args: &[String]) -> Result<String, Error> {
    let a = parse("sweep", args, |c| match c {
        Command::Sweep(a) => Some(a),
        _ => None,
    })?;
    let done = app::sweep::sweep(&crate::commands::sweep::settings(&a))?;
    let app::sweep::Ending::Finished(files) = &done.ending else {
        return Err(anyhow::anyhow!(
            "the sweep in {} did not run to its end here (declined, already complete, or a \
             shard): use the command line for these",
            done.dir.display()
        )
        .into());
    };
    json(&SweepDoc {
        dir: &files.dir,
        sweep: &files.doc,
        points_csv: read_text(&files.dir.join("points.csv"))?,
    })
}

#[derive(Serialize)]
struct SweepDoc<'a> {
    dir: &'a Path,
    sweep: &'a crate::output::points::SweepDoc,
    points_csv: String,
}

/// `surge crashpoint ARGS`: `crashpoint.json` (`crashpoint`), and the folder it wrote (`dir`).
pub fn crashpoint(args: &[String]) -> Result<String, Error> {
    let a = parse("crashpoint", args, |c| match c {
        Command::Crashpoint(a) => Some(a),
        _ => None,
    })?;
    let done = app::crashpoint::crashpoint(&crate::commands::crashpoint::settings(&a))?;
    json(&CrashDoc {
        dir: &done.dir,
        crashpoint: &done.cp,
    })
}

#[derive(Serialize)]
struct CrashDoc<'a> {
    dir: &'a Path,
    crashpoint: &'a crate::experiment::crashpoint::CrashPoint,
}

/// `surge compare ARGS`: `compare.json` (`comparison`: each variant's metrics, key figures and
/// paired differences from the baseline) and `compare.csv` as text, from the folder it wrote.
/// A failed `--assert` is an error, as on the command line.
pub fn compare(args: &[String]) -> Result<String, Error> {
    let a = parse("compare", args, |c| match c {
        Command::Compare(a) => Some(a),
        _ => None,
    })?;
    let done = app::compare::compare(&crate::commands::compare::settings(&a))?;
    if let (_, Some(failed)) = crate::report::assert::verdict(&done.checks) {
        return Err(anyhow::Error::from(failed).into());
    }
    json(&CompareDoc {
        dir: &done.dir,
        comparison: &done.comparison,
        compare_csv: read_text(&done.dir.join("compare.csv"))?,
    })
}

#[derive(Serialize)]
struct CompareDoc<'a> {
    dir: &'a Path,
    comparison: &'a crate::experiment::compare::Comparison,
    compare_csv: String,
}

/// `surge fit FILES ARGS`: `fit.json` (`fit`), the fitted model's file (`model`), its chart
/// (`figure`), and why the round trip could not run, when it could not.
pub fn fit(args: &[String]) -> Result<String, Error> {
    let a = parse("fit", args, |c| match c {
        Command::Fit(a) => Some(a),
        _ => None,
    })?;
    let done = app::fit::fit(&crate::commands::fit::settings(&a)?)?;
    json(&FitDoc {
        model: done.dir.join("model.toml"),
        figure: done.dir.join("fit.png"),
        dir: &done.dir,
        fit: &done.fit,
        round_trip_error: done.round_trip_error.as_deref(),
    })
}

#[derive(Serialize)]
struct FitDoc<'a> {
    dir: &'a Path,
    model: PathBuf,
    figure: PathBuf,
    fit: &'a crate::fit::report::Fit,
    round_trip_error: Option<&'a str>,
}
