//! A run's timeline drawn again from its folder: `timeseries.csv` read back into the time series
//! the run drew (the columns by name; a column a run of another shape lacks is empty), with what
//! the chart needs of `summary.json` (the outages, the first crash of each tier, the SLO lines)
//! when it holds one run's summary.
//!
//! Not here: writing the CSV (`output::timeseries_csv`), nor drawing the chart
//! (`output::chart::draw_timeline`).

use anyhow::{Context, Result};
use std::path::Path;

use crate::error::BadInput;
use crate::metrics::room::RoomSeries;
use crate::metrics::run_summary::RunSummary;
use crate::metrics::{Summary, TierSeries, TimeSeries};
use crate::model::units::parse_clock;
use crate::output::chart;
use crate::store::json::{Documented, read_json};

/// The header, the columns and the first `clock` cell of a `timeseries.csv`.
struct Columns {
    header: Vec<String>,
    cols: Vec<Vec<f64>>,
    first_clock: Option<String>,
}

impl Columns {
    /// The column named `name`, empty when the file has none.
    fn col(&self, name: &str) -> Vec<f64> {
        (self.header.iter())
            .position(|h| h == name)
            .map(|i| self.cols[i].clone())
            .unwrap_or_default()
    }

    fn has(&self, name: &str) -> bool {
        self.header.iter().any(|h| h == name)
    }
}

/// The columns of the time series at `path`: bad input when it is not one, or cut short.
fn read_columns(path: &Path) -> Result<Columns> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bad = |why: String| BadInput(format!("{}: {why}; run the command again", path.display()));
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        return Err(bad("truncated (its last line has no end)".into()).into());
    }
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| bad(format!("not a time series: {e}")))?
        .iter()
        .map(|h| crate::output::csv_untext(h).to_string())
        .collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    let mut first_clock = None;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(format!("not a time series: {e}")))?;
        for (i, cell) in rec.iter().enumerate() {
            if header[i] == "clock" {
                first_clock.get_or_insert_with(|| cell.to_string());
            }
            cols[i].push(cell.parse().unwrap_or(f64::NAN));
        }
    }
    Ok(Columns {
        header,
        cols,
        first_clock,
    })
}

/// One run's summary from `summary.json` (absent or unreadable, or the means over
/// replications: `None`, and the timeline is drawn without it).
fn one_summary(dir: &Path) -> Option<Summary> {
    match read_json::<Documented<RunSummary>>(&dir.join("summary.json")) {
        Ok(Documented {
            doc: RunSummary::One(s),
            ..
        }) => Some(*s),
        _ => None,
    }
}

/// Each tier's series, from its `<tier>.busy_threads` column and the others of its name; its
/// threads per instance from the summary (NaN without one).
fn tier_series(c: &Columns, summary: &Summary) -> Vec<TierSeries> {
    let mut tiers = Vec::new();
    for h in &c.header {
        let Some(name) = h.strip_suffix(".busy_threads") else {
            continue;
        };
        let tier = summary.tiers.iter().find(|t| t.name == name);
        let threads = tier.map_or(f64::NAN, |t| f64::from(t.threads));
        let of = |what: &str| c.col(&format!("{name}.{what}"));
        tiers.push(TierSeries {
            name: name.to_string(),
            threads_per_instance: threads,
            instances_up: of("instances_up"),
            in_rotation: of("in_rotation"),
            busy_threads: c.col(h),
            queued: of("queued"),
            memory_max_bytes: of("memory_max_bytes"),
            concurrency_limit: of("concurrency_limit"),
            ejected: of("ejected"),
            arrivals: of("arrivals"),
            retries: of("retries"),
            pool_in_use: of("pool_in_use"),
            pool_waiting: of("pool_waiting"),
            pool_connections: (tier.and_then(|t| t.pool_connections)).map_or(0.0, f64::from),
        });
    }
    tiers
}

/// The time series the run drew, from its columns.
fn time_series(c: &Columns, summary: &Summary) -> TimeSeries {
    let t_s = c.col("t_s");
    let bucket_s = if t_s.len() > 1 { t_s[1] - t_s[0] } else { 60.0 };
    let start_clock_s = (c.first_clock.as_deref())
        .and_then(|clock| parse_clock(clock).ok())
        .map(|clock| clock - t_s.first().copied().unwrap_or(0.0));
    TimeSeries {
        bucket_s,
        start_clock_s,
        users: c.col("users"),
        offered: c.col("offered"),
        first_attempts: c.col("first_attempts"),
        retries: c.col("retries"),
        succeeded: c.col("succeeded"),
        rejected: c.col("rejected"),
        timed_out: c.col("timed_out"),
        failed: c.col("failed"),
        has_breaker: c.has("short_circuited"),
        has_throttle: c.has("throttled"),
        short_circuited: c.col("short_circuited"),
        throttled: c.col("throttled"),
        has_rate_limit: c.has("rate_limited"),
        rate_limited: c.col("rate_limited"),
        p50_s: c.col("p50_s"),
        p95_s: c.col("p95_s"),
        p99_s: c.col("p99_s"),
        window_success_rate: c.col("window_success_rate"),
        window_p95_s: c.col("window_p95_s"),
        calls_lost: c.col("calls_lost"),
        window_call_success_rate: c.col("window_call_success_rate"),
        has_users: c.has("sessions_completed"),
        sessions_completed: c.col("sessions_completed"),
        sessions_lost: c.col("sessions_lost"),
        window_user_success_rate: c.col("window_user_success_rate"),
        tiers: tier_series(c, summary),
        room: c.has("room.waiting").then(|| RoomSeries {
            waiting: c.col("room.waiting"),
            admitted: c.col("room.admitted"),
            abandoned: c.col("room.abandoned"),
            rejected: c.col("room.rejected"),
        }),
        t_s,
    }
}

/// Draw `timeline.png` and `timeline.svg` of the run in `dir` again.
pub(super) fn draw_from(dir: &Path) -> Result<()> {
    let columns = read_columns(&dir.join("timeseries.csv"))?;
    let one = one_summary(dir);
    let summary = one.clone().unwrap_or_default();
    let series = time_series(&columns, &summary);
    let o = &summary.outage;
    let outages: Vec<(f64, f64)> = o.intervals.iter().map(|i| (i[0], i[1])).collect();
    let title = format!(
        "{} — seed {}",
        one.as_ref().map_or("run", |s| s.model.as_str()),
        one.as_ref().map_or("?".to_string(), |s| s.seed.to_string())
    );
    let t = chart::Timeline {
        title: &title,
        series: &series,
        outages: &outages,
        crash_time_s: o.crash_time_s,
        recovered_at_s: o.recovered_at_s,
        calls_stayed_up: o.crashed && !summary.calls.outage.crashed,
        instance_crashes: (summary.tiers.iter())
            .filter_map(|t| {
                Some(chart::InstanceCrash {
                    tier: t.name.clone(),
                    t_s: t.first_crash_s?,
                    crashes: t.crashes,
                })
            })
            .collect(),
        // The targets recorded in summary.json (absent from a summary of an earlier surge:
        // drawn without them).
        slo_lines: (summary.slo.target_success_rate).zip(summary.slo.outage_below),
    };
    chart::draw_timeline(&t, &dir.join("timeline.png"), &dir.join("timeline.svg"))
}
