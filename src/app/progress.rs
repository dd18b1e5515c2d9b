//! What a command that runs a model many times shows and keeps as it goes: the progress bar on
//! stderr (hidden when quiet), and the journal its finished runs are appended to, which Ctrl-C or
//! a termination signal flushes (`app::interrupt`) so that `--resume` loses none of them.
//!
//! Not here: what a journal holds and how it is read back (`store::journal`), nor the runs.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::store::journal::{Contents, Journal};

/// A bar of `len` runs drawn on stderr with `template` (hidden when `quiet`).
pub(crate) fn bar(len: u64, quiet: bool, template: &str) -> ProgressBar {
    let target = if quiet {
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
