//! Whole files written atomically: to a temporary file in the same folder, synced, then renamed
//! into place, so an interrupted command never leaves a half-written file; its mode is 0666 less
//! the umask, as any file the user makes.
//!
//! Not here: what goes into the files (`output` renders CSV and charts, `metrics::summary` and
//! the experiment documents serialise themselves), the journals appended to as runs end
//! (`store::journal`).

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` atomically: to a temporary file in the same folder (`tempfile`), synced,
/// then renamed over `path` (`persist`); on any failure the temporary file is removed and `path`
/// keeps what it held.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} does not name a file", path.display()))?
        .to_string_lossy();
    let write = || -> Result<()> {
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Readable as any file the user makes (0666 less the umask), as the charts are: a
        // temporary file is otherwise 0600, and the rename keeps it so.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let mut tmp = builder
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

/// Serialise `value` as pretty JSON into `path`, atomically.
pub(crate) fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_the_file_and_leave_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("summary.json");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["summary.json"]);
        // A folder that does not exist: an error naming the file, nothing written.
        let err = write_atomic(&dir.path().join("no/such.json"), b"x").unwrap_err();
        assert!(format!("{err:#}").contains("such.json"), "{err:#}");
    }
}
