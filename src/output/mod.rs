//! Files a command writes: `summary.json`, `timeseries.csv`, and charts. Every file is written
//! under a temporary name in the same folder and renamed into place, so an interrupted command
//! never leaves a half-written file; its mode is 0666 less the umask, as any file the user makes.

pub mod chart;
pub mod journal;
pub mod lock;
pub mod points;
pub mod provenance;
pub(crate) mod stdout;
pub mod sweep;

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

use crate::metrics::TimeSeries;

/// Write `bytes` to `path` atomically: to a temporary file in the same folder (`tempfile`), synced,
/// then renamed over `path` (`persist`); on any failure the temporary file is removed and `path`
/// keeps what it held.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
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
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// A text cell a spreadsheet opens as text: one that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (which a spreadsheet would run as a formula) and is not a number gets a `'`
/// before it, as OWASP advises and spreadsheets expect (they show the text without it).
/// `csv_untext` reads it back.
pub(crate) fn csv_text(s: &str) -> std::borrow::Cow<'_, str> {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && s.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The text of a cell `csv_text` wrote.
pub(crate) fn csv_untext(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

fn cell(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.6}")
    }
}

/// The time series as CSV, columns in the order README.md lists (a test holds them to it).
pub fn timeseries_csv(s: &TimeSeries) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "t_s",
        "clock",
        "users",
        "offered",
        "first_attempts",
        "retries",
        "succeeded",
        "rejected",
        "timed_out",
        "failed",
        "p50_s",
        "p95_s",
        "p99_s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Tier names head columns: written as text a spreadsheet will not run (`csv_text`).
    let named = |name: &str, c: &str| csv_text(&format!("{name}.{c}")).into_owned();
    for t in &s.tiers {
        for c in ["instances_up", "busy_threads", "queued", "memory_max_bytes"] {
            header.push(named(&t.name, c));
        }
    }
    header.push("window_success_rate".into());
    header.push("window_p95_s".into());
    for t in &s.tiers {
        header.push(named(&t.name, "in_rotation"));
    }
    if s.room.is_some() {
        for c in ["waiting", "admitted", "abandoned", "rejected"] {
            header.push(format!("room.{c}"));
        }
    }
    if s.has_breaker {
        header.push("short_circuited".into());
    }
    if s.has_throttle {
        header.push("throttled".into());
    }
    // Columns of the policies a tier has, only where it has them.
    for t in &s.tiers {
        if !t.concurrency_limit.is_empty() {
            header.push(named(&t.name, "concurrency_limit"));
        }
        if !t.ejected.is_empty() {
            header.push(named(&t.name, "ejected"));
        }
    }
    // The call level, then the user level (with a users source), last.
    header.push("calls_lost".into());
    header.push("window_call_success_rate".into());
    if s.has_users {
        for c in [
            "sessions_completed",
            "sessions_lost",
            "window_user_success_rate",
        ] {
            header.push(c.into());
        }
    }
    w.write_record(&header)?;
    for i in 0..s.len() {
        let mut row = vec![
            cell(s.t_s[i]),
            chart::clock_label(s.t_s[i], s.start_clock_s),
        ];
        for col in [
            &s.users,
            &s.offered,
            &s.first_attempts,
            &s.retries,
            &s.succeeded,
            &s.rejected,
            &s.timed_out,
            &s.failed,
            &s.p50_s,
            &s.p95_s,
            &s.p99_s,
        ] {
            row.push(cell(col[i]));
        }
        for t in &s.tiers {
            for col in [
                &t.instances_up,
                &t.busy_threads,
                &t.queued,
                &t.memory_max_bytes,
            ] {
                row.push(cell(col[i]));
            }
        }
        row.push(cell(s.window_success_rate[i]));
        row.push(cell(s.window_p95_s[i]));
        for t in &s.tiers {
            row.push(cell(t.in_rotation[i]));
        }
        if let Some(r) = &s.room {
            for col in [&r.waiting, &r.admitted, &r.abandoned, &r.rejected] {
                row.push(cell(col[i]));
            }
        }
        if s.has_breaker {
            row.push(cell(s.short_circuited[i]));
        }
        if s.has_throttle {
            row.push(cell(s.throttled[i]));
        }
        for t in &s.tiers {
            for col in [&t.concurrency_limit, &t.ejected] {
                if !col.is_empty() {
                    row.push(cell(col[i]));
                }
            }
        }
        row.push(cell(s.calls_lost[i]));
        row.push(cell(s.window_call_success_rate[i]));
        if s.has_users {
            for col in [
                &s.sessions_completed,
                &s.sessions_lost,
                &s.window_user_success_rate,
            ] {
                row.push(cell(col[i]));
            }
        }
        w.write_record(&row)?;
    }
    Ok(w.into_inner()?)
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
