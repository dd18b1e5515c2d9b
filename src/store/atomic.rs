//! Whole files written atomically: to a temporary file in the same folder, synced, then renamed
//! into place, so an interrupted command never leaves a half-written file; its mode is 0666 less
//! the umask, as any file the user makes. Charts, which plotters writes itself, go the same way
//! through `write_atomically` (drawn onto the temporary path).
//!
//! Not here: what goes into the files (`output` renders CSV and charts, `metrics::summary` and
//! the experiment documents serialise themselves), the journals appended to as runs end
//! (`store::journal`).

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Serialise the document `value` (its own type) as pretty JSON into `path`, atomically, with a
/// final newline. Every object's keys are in alphabetical order whatever the order of the
/// type's fields: the document goes through `serde_json::Value`, whose maps are sorted, as every
/// document surge wrote so far did (the files stay byte-identical).
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let value =
        serde_json::to_value(value).with_context(|| format!("cannot write {}", path.display()))?;
    let mut text = serde_json::to_string_pretty(&value)?;
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

/// Runs `draw` on a temporary path in the same directory as `path` and with the same extension
/// (`.timeline.png.tmp-<pid>-<n>.png`, so that plotters picks the right format from it), then
/// syncs it and renames it over `path`, as [`write_atomic`] does for bytes (the charts: plotters
/// writes its backends' files itself). If `draw` fails (or panics) the temporary file is
/// removed and `path` is left as it was.
pub(crate) fn write_atomically(path: &Path, draw: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let file_name = path
        .file_name()
        .with_context(|| format!("{} does not name a file", path.display()))?
        .to_string_lossy()
        .into_owned();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = format!(".{file_name}.tmp-{}-{n}", std::process::id());
    if let Some(ext) = path.extension() {
        tmp_name.push('.');
        tmp_name.push_str(&ext.to_string_lossy());
    }
    let tmp = TempFile(dir.join(tmp_name));
    draw(&tmp.0).with_context(|| format!("drawing {}", path.display()))?;
    if !tmp.0.is_file() {
        bail!("drawing {} produced no file", path.display());
    }
    std::fs::File::open(&tmp.0)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", tmp.0.display()))?;
    std::fs::rename(&tmp.0, path)
        .with_context(|| format!("renaming {} to {}", tmp.0.display(), path.display()))?;
    std::mem::forget(tmp);
    Ok(())
}

/// Removes the file when dropped (unless forgotten).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod drawn_tests {
    use super::*;

    #[test]
    fn write_atomically_keeps_target_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.png");
        std::fs::write(&target, b"old").unwrap();
        let err = write_atomically(&target, |p| {
            assert_eq!(p.extension().unwrap(), "png");
            std::fs::write(p, b"partial")?;
            bail!("boom")
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        write_atomically(&target, |p| Ok(std::fs::write(p, b"new")?)).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_typed_document_is_written_with_its_keys_in_alphabetical_order() {
        #[derive(serde::Serialize)]
        struct Doc {
            zeta: f64,
            alpha: Vec<u32>,
            nan: f64,
        }
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("doc.json");
        let doc = Doc {
            zeta: 0.1,
            alpha: vec![1, 2],
            nan: f64::NAN,
        };
        write_json(&target, &doc).unwrap();
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "{\n  \"alpha\": [\n    1,\n    2\n  ],\n  \"nan\": null,\n  \"zeta\": 0.1\n}\n"
        );
    }
}
