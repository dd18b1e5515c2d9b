//! What a command prints on standard output, written without panicking: `println!` panics when
//! stdout is a closed pipe (`surge sweep ... | head -1`) or a full device (`> /dev/full`). Here a
//! closed pipe ends the printing quietly (the reader has what it wanted; the command still
//! finishes its files and removes its journal), and any other failure is an error naming
//! standard output, which `main` gives the exit code of an I/O error.
//!
//! Not here: files (`store::atomic::write_atomic`), stderr (messages; `eprintln!` ignores errors).

use anyhow::{Context, Result};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout turned out to be a closed pipe: nothing more is written to it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Write `text` to stdout and flush it.
pub(crate) fn print(text: &str) -> Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        r => r.context("cannot write to standard output"),
    }
}

/// `println!` that returns an error instead of panicking (see the module comment): use it in a
/// function returning `anyhow::Result`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::stdout::print(&format!("{}\n", format_args!($($arg)*)))?
    };
}
pub(crate) use outln;
