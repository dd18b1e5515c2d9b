//! Rendering what a command writes: `timeseries.csv`, the sweep's `points.csv`, and charts.
//!
//! Not here: how the files reach the disk (atomically, under the folder's lock: `store`), the
//! report pages (`report`, which draws with these charts).

pub(crate) mod chart;
pub(crate) mod crashpoint;
pub(crate) mod optimize;
pub(crate) mod points;
pub(crate) mod sensitivity;
pub(crate) mod stdout;
pub(crate) mod sweep;

use anyhow::Result;

use crate::metrics::TimeSeries;

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

/// The time series as CSV, columns in the order docs/guide.md lists (a test holds them to it).
pub(crate) fn timeseries_csv(s: &TimeSeries) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(timeseries_header(s))?;
    for i in 0..s.len() {
        w.write_record(timeseries_row(s, i))?;
    }
    Ok(w.into_inner()?)
}

/// The header of `timeseries.csv`: the columns of `s`, its tiers' and policies' included.
fn timeseries_header(s: &TimeSeries) -> Vec<String> {
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
    if s.has_rate_limit {
        header.push("rate_limited".into());
    }
    // Columns of the policies a tier has, only where it has them.
    for t in &s.tiers {
        if !t.concurrency_limit.is_empty() {
            header.push(named(&t.name, "concurrency_limit"));
        }
        if !t.ejected.is_empty() {
            header.push(named(&t.name, "ejected"));
        }
        if !t.arrivals.is_empty() {
            header.push(named(&t.name, "arrivals"));
            header.push(named(&t.name, "retries"));
        }
        if !t.pool_in_use.is_empty() {
            header.push(named(&t.name, "pool_in_use"));
            header.push(named(&t.name, "pool_waiting"));
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
    header
}

/// Row `i` of `timeseries.csv`, in the columns of `timeseries_header`.
fn timeseries_row(s: &TimeSeries, i: usize) -> Vec<String> {
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
    if s.has_rate_limit {
        row.push(cell(s.rate_limited[i]));
    }
    for t in &s.tiers {
        for col in [
            &t.concurrency_limit,
            &t.ejected,
            &t.arrivals,
            &t.retries,
            &t.pool_in_use,
            &t.pool_waiting,
        ] {
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
    row
}
