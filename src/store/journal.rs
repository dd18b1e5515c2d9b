//! The journal of a sweep in progress (`points.partial.csv`, or `shard-0001-of-0004.partial.csv`
//! for a shard; a crash-point search and a comparison keep theirs the same way): a first line
//! naming the sweep (`# surge sweep journal: surge_version=... model_hash=...`), then the CSV
//! header and one row per finished run, appended and flushed to the operating system as each
//! run ends, in whatever order they end. A Ctrl-C or a kill, even a SIGKILL, loses no finished
//! run; `--resume` reads the journal back, ignoring a last row torn by a kill mid-write.
//!
//! This module knows rows as CSV records and nothing of points or metrics; the sweep command
//! decides what they mean. It is the one file that is appended to rather than written
//! atomically, and it is removed once the sweep's final outputs are in place.

use anyhow::{Context, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a journal holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Contents {
    /// The first line, without `# `.
    pub marker: String,
    /// The CSV header, once a row has been written.
    pub header: Option<Vec<String>>,
    /// Whole rows, in the order they were written.
    pub rows: Vec<Vec<String>>,
}

/// A journal open for appending.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    header: Option<Vec<String>>,
}

/// One CSV line (with its newline) for a record.
fn line(record: &[String]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(record)?;
    Ok(w.into_inner()?)
}

impl Journal {
    /// Start the journal at `path` afresh with `marker` and the rows kept from an earlier try
    /// (written atomically, so a torn row of that try is dropped for good), then open it for
    /// appending.
    pub(crate) fn start(path: &Path, marker: &str, kept: &Contents) -> Result<Journal> {
        let mut bytes = format!("# {marker}\n").into_bytes();
        if let Some(h) = &kept.header {
            bytes.extend(line(h)?);
            for r in &kept.rows {
                bytes.extend(line(r)?);
            }
        }
        super::atomic::write_atomic(path, &bytes)?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the journal {}", path.display()))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            header: kept.header.clone(),
        })
    }

    /// Append one finished row (and the header before the first), in one write.
    pub(crate) fn append(&mut self, header: &[String], record: &[String]) -> Result<()> {
        let mut bytes = Vec::new();
        match &self.header {
            None => {
                bytes.extend(line(header)?);
                self.header = Some(header.to_vec());
            }
            Some(h) if h != header => anyhow::bail!(
                "the journal {} has columns {} but this run gives {}",
                self.path.display(),
                h.join(","),
                header.join(",")
            ),
            Some(_) => {}
        }
        bytes.extend(line(record)?);
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.flush())
            .with_context(|| format!("cannot append to the journal {}", self.path.display()))
    }
}

/// Read a journal back; `None` when there is none. Only lines ended by a newline count, so a row
/// torn by a kill mid-write is left out. `kind` names it in errors ("sweep", "crash-point").
pub(crate) fn read(path: &Path, kind: &str) -> Result<Option<Contents>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the journal {}", path.display()));
        }
    };
    let whole = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&bytes[..0], |i| &bytes[..=i]);
    let text = String::from_utf8_lossy(whole);
    let bad = |why: &str| {
        crate::model::error::BadInput(format!(
            "{} is not a {kind} journal ({why}); remove it, or run without --resume to start over",
            path.display()
        ))
    };
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let marker = first
        .strip_prefix("# ")
        .ok_or_else(|| bad("its first line is not `# surge ... journal: ...`"))?
        .to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(rest.as_bytes());
    let mut header = None;
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(&format!("{e}")))?;
        let fields: Vec<String> = rec.iter().map(String::from).collect();
        match &header {
            None => header = Some(fields),
            Some(h) if h.len() != fields.len() => {
                return Err(bad(&format!(
                    "a row has {} fields where the header has {}",
                    fields.len(),
                    h.len()
                ))
                .into());
            }
            Some(_) => rows.push(fields),
        }
    }
    Ok(Some(Contents {
        marker,
        header,
        rows,
    }))
}

/// Remove the journal of a finished sweep (none there is fine).
pub(crate) fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove the journal {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_torn_last_row_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("points.partial.csv");
        assert_eq!(read(&path, "sweep").unwrap(), None);
        let empty = Contents {
            marker: String::new(),
            header: None,
            rows: vec![],
        };
        let mut j = Journal::start(&path, "surge sweep journal: x", &empty).unwrap();
        let h = strings(&["point", "rep", "m"]);
        j.append(&h, &strings(&["0", "0", "1.5"])).unwrap();
        j.append(&h, &strings(&["1", "0", "web,app"])).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"2,0,3.2").unwrap(); // killed mid-row
        drop(f);
        let c = read(&path, "sweep").unwrap().unwrap();
        assert_eq!(c.marker, "surge sweep journal: x");
        assert_eq!(c.header.as_deref(), Some(&h[..]));
        assert_eq!(
            c.rows,
            [strings(&["0", "0", "1.5"]), strings(&["1", "0", "web,app"])]
        );
        // Starting again from what was kept drops the torn row for good.
        let mut j = Journal::start(&path, &c.marker, &c).unwrap();
        j.append(&h, &strings(&["2", "0", "3.25"])).unwrap();
        assert_eq!(read(&path, "sweep").unwrap().unwrap().rows.len(), 3);
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert!(!path.exists());
    }
}
