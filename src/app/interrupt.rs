//! Ctrl-C, SIGTERM and SIGHUP for the commands that do many runs (`sweep`, `compare`,
//! `crashpoint`, `report`, `run --reps N`): one handler for the process, installed once. The first signal asks
//! the command to stop: no new run starts, the runs in progress finish and are journaled, and
//! the command ends with `Interrupted` (exit code 130) saying how to resume. A second signal stops
//! at once, between two journal rows so that none is torn, with the output folders' lock files
//! removed (`store::lock`), so that nothing is left that the next command would trip on.
//!
//! Embedded in another program (`api`, the Python package), no handler is installed: the host
//! owns its signals and sets the stop flag itself ([`request_stop`]), clearing it before the
//! next call ([`clear`]).
//!
//! Not here: what each command journals and how it resumes (its own module).

use anyhow::{Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::experiment::runner::Stop;
use crate::store::journal::Journal;

/// Set by the first signal: start no new run.
static STOP: Stop = Stop::new();

/// What the handler says and guards for the command now running.
struct Watch {
    /// "the finished runs are kept in X: run the same command with --resume to continue".
    resume: String,
    /// The journal appended to, locked before a hard exit so no row is torn.
    journal: Option<Arc<Mutex<Journal>>>,
}

static WATCH: Mutex<Option<Watch>> = Mutex::new(None);
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// Set once a host embeds surge (`api`): no signal handler is installed, no bar drawn.
static EMBEDDED: AtomicBool = AtomicBool::new(false);

/// Mark the process as a host's (see the module's comment).
pub(crate) fn embed() {
    EMBEDDED.store(true, Ordering::SeqCst);
}

/// Whether a host embeds surge.
pub(crate) fn embedded() -> bool {
    EMBEDDED.load(Ordering::SeqCst)
}

/// The flag the run loops read: set once a signal asked to stop.
pub(crate) fn stop_flag() -> &'static Stop {
    &STOP
}

/// Whether a signal asked to stop.
pub(crate) fn stopping() -> bool {
    STOP.is_set()
}

/// [`watch`] for a search journaled in `journal`: an interrupt keeps its finished runs there,
/// for `--resume`.
pub(crate) fn watch_journal(journal: &std::path::Path) -> Result<()> {
    watch(
        format!(
            "the finished runs are kept in {}: run the same command with --resume to continue",
            journal.display()
        ),
        None,
    )
}

/// Install the handler (once per process) and say what the command keeps: `resume` ends both
/// messages, `journal` is locked before a hard exit.
pub(crate) fn watch(resume: String, journal: Option<Arc<Mutex<Journal>>>) -> Result<()> {
    *WATCH.lock().unwrap_or_else(|e| e.into_inner()) = Some(Watch { resume, journal });
    if embedded() {
        return Ok(());
    }
    INSTALLED
        .get_or_init(|| ctrlc::set_handler(on_signal).map_err(|e| e.to_string()))
        .clone()
        .map_err(anyhow::Error::msg)
        .context("cannot install the Ctrl-C handler")
}

/// Ask the runs to stop as the first Ctrl-C does (the host's own signal handling, embedded):
/// no new run starts.
pub(crate) fn request_stop() {
    STOP.set();
}

/// Forget an earlier stop, before the host's next call (embedded only: the command line stops
/// once per process).
pub(crate) fn clear() {
    STOP.clear();
}

fn on_signal() {
    let watch = WATCH.lock().unwrap_or_else(|e| e.into_inner());
    let resume = watch.as_ref().map_or("", |w| w.resume.as_str());
    if STOP.set() {
        let _no_torn_row = watch
            .as_ref()
            .and_then(|w| w.journal.as_ref())
            .map(|j| j.lock());
        crate::store::lock::remove_held();
        eprintln!("\nstopped; {resume}");
        std::process::exit(130);
    }
    eprintln!(
        "\ninterrupted: letting the runs in progress finish (Ctrl-C again to stop at once); \
         {resume}"
    );
}
