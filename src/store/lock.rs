//! The output folder of a command: created, checked writable and locked before anything is
//! simulated, so that a folder that cannot be written is found at once rather than after the
//! whole run, and two commands writing to one folder at once do not clobber each other's files.
//!
//! The lock is an advisory `flock` on `.surge.lock` in the folder, held until the command ends
//! (the operating system releases it if the process dies) and the file then removed, so a
//! finished or refused command leaves nothing behind; a command stopped at once by a second
//! Ctrl-C or termination signal removes the lock files it holds before it exits. A command that
//! locked a file another has just removed sees that the name no longer leads to its file and
//! counts the folder as busy.
//! It is not a lock against other programs, nor across machines on file systems without `flock`.

use fs4::{FileExt, TryLockError};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::model::error::BadInput;

/// Name of the lock file inside an output folder.
pub(crate) const LOCK_FILE: &str = ".surge.lock";

/// The held lock on an output folder; released when dropped.
#[derive(Debug)]
pub(crate) struct OutputLock {
    _file: File,
    pub path: PathBuf,
}

/// Create `dir` if needed, check that files can be written in it, and lock it for this command.
pub(crate) fn lock(dir: &Path) -> Result<OutputLock, BadInput> {
    lock_as(dir, LOCK_FILE)
}

/// As [`lock`], with a lock file of its own: the shards of one sweep share a folder (each
/// writes only its own files), so each locks `.<shard stem>.lock` and they run side by side,
/// while two commands running the same shard are still refused.
pub(crate) fn lock_as(dir: &Path, name: &str) -> Result<OutputLock, BadInput> {
    let bad = |why: String| BadInput(format!("the output folder {}: {why}", dir.display()));
    std::fs::create_dir_all(dir).map_err(|e| bad(format!("cannot be created ({e})")))?;
    if !dir.is_dir() {
        return Err(bad("is not a folder".into()));
    }
    let path = dir.join(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| bad(format!("cannot be written ({e})")))?;
    // `fs4`'s `flock` (std's own `File::try_lock` needs Rust 1.89, past the declared MSRV).
    match FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(bad(format!(
                "another surge command is writing to it (it holds {}); wait for it to end or \
                 choose another --out",
                path.display()
            )));
        }
        Err(TryLockError::Error(e)) => return Err(bad(format!("cannot be locked ({e})"))),
    }
    // The lock file may be left from an earlier command in a folder that has since become
    // read-only: create and remove a file to be sure outputs can be written.
    let probe = dir.join(format!(".surge-write-check-{}", std::process::id()));
    File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| bad(format!("cannot be written ({e})")))?;
    if !same_file(&file, &path) {
        return Err(bad(
            "another surge command was writing to it a moment ago; run again".into(),
        ));
    }
    held().push(path.clone());
    Ok(OutputLock { _file: file, path })
}

/// The lock files this process holds, for `remove_held`.
fn held() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove every lock file this process holds: for a command about to exit at once on a second
/// Ctrl-C or termination signal (`app::interrupt`), whose locks would not be dropped.
pub(crate) fn remove_held() {
    for path in held().iter() {
        let _ = std::fs::remove_file(path);
    }
}

/// Whether `path` still names the open `file` (it was not removed and replaced meanwhile).
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, _: &Path) -> bool {
    true
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked, so no other command can hold it under this name.
        let _ = std::fs::remove_file(&self.path);
        let mut held = held();
        if let Some(i) = held.iter().position(|p| *p == self.path) {
            held.swap_remove(i);
        }
    }
}
