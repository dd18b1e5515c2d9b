//! What a command that runs a model many times shows and keeps as it goes: the progress bar on
//! stderr (hidden when quiet), and the journal its finished runs are appended to, which Ctrl-C or
//! a termination signal flushes (`app::interrupt`) so that `--resume` loses none of them.
//!
//! Embedded in another program (`api`, see `interrupt::embed`), every bar is hidden and the last
//! one made is kept so that the host can read how far it got ([`observed`]) and show it its own
//! way.
//!
//! Not here: what a journal holds and how it is read back (`store::journal`), nor the runs.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::store::journal::{Contents, Journal};

/// The bar of the work in progress, embedded, and what it counts.
static OBSERVED: Mutex<Option<(ProgressBar, &'static str)>> = Mutex::new(None);

/// Embedded, keep `bar` as the one the host reads; it counts `unit` (runs, replications,
/// simulated seconds).
pub(crate) fn observe(bar: &ProgressBar, unit: &'static str) {
    if super::interrupt::embedded() {
        *OBSERVED.lock().unwrap_or_else(|e| e.into_inner()) = Some((bar.clone(), unit));
    }
}

/// How far the observed bar got: done, of how many, counting what. Forgotten by [`forget`].
pub(crate) fn observed() -> Option<(u64, u64, &'static str)> {
    let held = OBSERVED.lock().unwrap_or_else(|e| e.into_inner());
    let (bar, unit) = held.as_ref()?;
    Some((bar.position(), bar.length().unwrap_or(0), unit))
}

/// Forget the observed bar (a host's call begins).
pub(crate) fn forget() {
    *OBSERVED.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// A bar of `len` runs drawn on stderr with `template` (hidden when `quiet`).
pub(crate) fn bar(len: u64, quiet: bool, template: &str) -> ProgressBar {
    let target = if quiet || super::interrupt::embedded() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    observe(&bar, "runs");
    bar
}

/// The journal at `path`, started with `marker` and the runs `kept` from an earlier try, which a
/// signal flushes before saying that the finished runs are kept there for `--resume`.
pub(crate) fn journal(path: &Path, marker: &str, kept: &Contents) -> Result<Arc<Mutex<Journal>>> {
    let journal = Arc::new(Mutex::new(Journal::start(path, marker, kept)?));
    super::interrupt::watch(
        format!(
            "the finished runs are kept in {}: run the same command with --resume to continue",
            path.display()
        ),
        Some(journal.clone()),
    )?;
    Ok(journal)
}
