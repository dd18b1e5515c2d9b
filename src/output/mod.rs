//! Files a command writes: `summary.json`, `timeseries.csv`, and charts. Every file is written
//! under a temporary name in the same folder and renamed into place, so an interrupted command
//! never leaves a half-written file.

pub mod chart;
pub mod journal;
pub mod lock;
pub mod provenance;
pub mod sweep_chart;

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

use crate::metrics::TimeSeries;

/// Write `bytes` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    chart::write_atomically(path, |tmp| {
        let mut f = std::fs::File::create(tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    })
    .with_context(|| format!("cannot write {}", path.display()))
}

/// Serialise `value` as pretty JSON into `path`, atomically.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
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

/// The time series as CSV, columns as in DESIGN.md section 4 (then extra columns).
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
    for t in &s.tiers {
        for c in ["instances_up", "busy_threads", "queued", "memory_max_bytes"] {
            header.push(format!("{}.{c}", t.name));
        }
    }
    header.push("window_success_rate".into());
    header.push("window_p95_s".into());
    for t in &s.tiers {
        header.push(format!("{}.in_rotation", t.name));
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
        w.write_record(&row)?;
    }
    Ok(w.into_inner()?)
}
