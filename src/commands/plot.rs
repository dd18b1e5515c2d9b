//! `surge plot DIR`: redraw the charts of a finished sweep, crash-point search or comparison
//! from its data files (`sweep.json`, `crashpoint.json`, `compare.json`), or of a run from
//! `timeseries.csv` and `summary.json`, without simulating again, and rewrite the folder's
//! report (with the `--assert` checks kept in `checks.json`). On a `surge report` folder it does
//! so in each step's folder (`run/`, `crashpoint/`, `compare/`); the report of the whole is not
//! rewritten (its budget and steps are not kept).

use anyhow::{Context, Result, bail};
use std::path::Path;

use crate::cli::PlotArgs;
use crate::experiment::crashpoint::CrashPoint;
use crate::experiment::sweep::Vary;
use crate::metrics::room::RoomSeries;
use crate::metrics::run_summary::RunSummary;
use crate::metrics::{Summary, TierSeries, TimeSeries};
use crate::model::error::BadInput;
use crate::model::units::parse_clock;
use crate::output::chart;
use crate::output::points::SweepDoc;
use crate::output::stdout::outln;
use crate::store::json::{Documented, read_json};

pub fn plot(args: &PlotArgs) -> Result<()> {
    let dir = &args.dir;
    let _lock = match dir.is_dir() {
        true => Some(crate::store::lock::lock(dir)?),
        false => None,
    };
    if let Some(what) = redraw(dir)? {
        outln!("redrew {what} in {}", dir.display());
        rewrite_report(dir)?;
        outln!("rewrote report.html and report.md in {}", dir.display());
        return Ok(());
    }
    // A `surge report` folder: each step's folder in turn.
    let mut any = false;
    for sub in REPORT_STEPS {
        let sub = dir.join(sub);
        if !sub.is_dir() {
            continue;
        }
        let _lock = crate::store::lock::lock(&sub)?;
        if let Some(what) = redraw(&sub)? {
            rewrite_report(&sub)?;
            outln!(
                "redrew {what} in {} and rewrote its report.html and report.md",
                sub.display()
            );
            any = true;
        }
    }
    if !any {
        bail!(BadInput(format!(
            "{} holds no sweep.json, crashpoint.json, compare.json or timeseries.csv (nor a \
             report's run/, crashpoint/ or compare/ holding them): nothing to plot",
            dir.display()
        )));
    }
    outln!(
        "left {} as it was: the report of the whole (its budget and steps are not kept in the \
         data files) embeds the charts drawn then; run surge report again to rebuild it",
        dir.join("report.html").display()
    );
    Ok(())
}

/// The step folders of a `surge report` folder.
const REPORT_STEPS: [&str; 3] = ["run", "crashpoint", "compare"];

/// Redraw the charts of `dir` from its data files; what was redrawn, or `None` when it holds none.
fn redraw(dir: &Path) -> Result<Option<&'static str>> {
    Ok(if dir.join("sweep.json").exists() {
        sweep_from(dir)?;
        Some("the sweep charts")
    } else if dir.join("crashpoint.json").exists() {
        crashpoint_from(dir)?;
        Some("the crash-point chart")
    } else if dir.join("compare.json").exists() {
        compare_from(dir)?;
        Some(
            "the comparison chart (compare.png, compare.svg) from compare.json: its outage strips \
             and key metrics; compare.json keeps no time series, so the success-rate curves are \
             left out and the time axis is in time since the start",
        )
    } else if dir.join("timeseries.csv").exists() {
        timeline_from(dir)?;
        Some("the timeline")
    } else {
        None
    })
}

/// The report of the folder again, from its data files, the charts just drawn and the checks
/// kept in `checks.json`. The model text is not among the data files: it is kept from the
/// report.md written by the command, if any.
fn rewrite_report(dir: &Path) -> Result<()> {
    use crate::report;
    let model_text = std::fs::read_to_string(dir.join("report.md"))
        .ok()
        .and_then(|md| report::markdown::model_text_of(&md));
    let checks = report::assert::read_checks(dir)?;
    let page = if dir.join("sweep.json").exists() {
        report::sweep::build(&report::sweep::SweepFolder::read(dir)?)
    } else if dir.join("crashpoint.json").exists() {
        report::crashpoint::build(
            &report::crashpoint::CrashFolder::read(dir)?,
            model_text.as_deref(),
        )
    } else if dir.join("compare.json").exists() {
        let mut page = report::compare::build(&report::compare::CompareFolder::read(dir)?);
        page.checks = checks;
        page
    } else {
        report::run::build(
            &report::run::RunFolder::read(dir)?,
            model_text.as_deref(),
            checks,
        )
    };
    report::write(dir, &page)
}

/// The comparison chart from `compare.json`: the SLO's threshold and window from the baseline's
/// first replication.
fn compare_from(dir: &Path) -> Result<()> {
    let cmp: crate::experiment::compare::Comparison = read_json(&dir.join("compare.json"))?;
    let slo = cmp
        .variants
        .first()
        .and_then(|v| v.replications.first())
        .map(|s| s.slo.clone());
    chart::draw_compare(
        &chart::CompareChart {
            comparison: &cmp,
            start_clock_s: None,
            outage_below: slo.as_ref().and_then(|s| s.outage_below).unwrap_or(0.5),
            window_s: slo.as_ref().and_then(|s| s.window_s).unwrap_or(300.0),
        },
        &dir.join("compare.png"),
        &dir.join("compare.svg"),
    )
}

fn sweep_from(dir: &Path) -> Result<()> {
    let doc: SweepDoc = read_json(&dir.join("sweep.json"))?;
    let varies: Vec<Vary> = doc
        .parameters
        .iter()
        .map(|k| {
            let mut values: Vec<String> = Vec::new();
            for p in &doc.points {
                if let Some(v) = p.values.get(k).map(|v| v.text()) {
                    if !values.contains(&v) {
                        values.push(v);
                    }
                }
            }
            Vary {
                key: k.clone(),
                values,
            }
        })
        .collect();
    let title = format!(
        "{} — {} points x {} replications",
        doc.model,
        doc.points.len(),
        doc.reps
    );
    crate::output::sweep::draw(&title, &varies, &doc.points, doc.criterion, dir)
}

fn crashpoint_from(dir: &Path) -> Result<()> {
    let cp: CrashPoint = read_json(&dir.join("crashpoint.json"))?;
    let title = format!("crash point in {}", cp.parameter);
    crate::output::crashpoint::draw(&title, &cp, dir)
}

/// The header, the columns and the first `clock` cell of a `timeseries.csv`.
type Columns = (Vec<String>, Vec<Vec<f64>>, Option<String>);

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
    Ok((header, cols, first_clock))
}

fn timeline_from(dir: &Path) -> Result<()> {
    let (header, cols, first_clock) = read_columns(&dir.join("timeseries.csv"))?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .map(|i| cols[i].clone())
            .unwrap_or_default()
    };
    let t_s = col("t_s");
    let bucket_s = if t_s.len() > 1 { t_s[1] - t_s[0] } else { 60.0 };
    let start_clock_s = first_clock
        .and_then(|c| parse_clock(&c).ok())
        .map(|c| c - t_s.first().copied().unwrap_or(0.0));
    // What the timeline needs of one run's `summary.json` (absent or unreadable, or the means
    // over replications: drawn without it).
    let one: Option<Summary> = match read_json::<Documented<RunSummary>>(&dir.join("summary.json"))
    {
        Ok(Documented {
            doc: RunSummary::One(s),
            ..
        }) => Some(*s),
        _ => None,
    };
    let summary = one.clone().unwrap_or_default();
    let mut tiers: Vec<TierSeries> = Vec::new();
    for h in &header {
        if let Some(name) = h.strip_suffix(".busy_threads") {
            let threads = summary
                .tiers
                .iter()
                .find(|t| t.name == name)
                .map_or(f64::NAN, |t| f64::from(t.threads));
            tiers.push(TierSeries {
                name: name.to_string(),
                threads_per_instance: threads,
                instances_up: col(&format!("{name}.instances_up")),
                in_rotation: col(&format!("{name}.in_rotation")),
                busy_threads: col(h),
                queued: col(&format!("{name}.queued")),
                memory_max_bytes: col(&format!("{name}.memory_max_bytes")),
                concurrency_limit: col(&format!("{name}.concurrency_limit")),
                ejected: col(&format!("{name}.ejected")),
            });
        }
    }
    let series = TimeSeries {
        bucket_s,
        start_clock_s,
        users: col("users"),
        offered: col("offered"),
        first_attempts: col("first_attempts"),
        retries: col("retries"),
        succeeded: col("succeeded"),
        rejected: col("rejected"),
        timed_out: col("timed_out"),
        failed: col("failed"),
        has_breaker: header.iter().any(|h| h == "short_circuited"),
        has_throttle: header.iter().any(|h| h == "throttled"),
        short_circuited: col("short_circuited"),
        throttled: col("throttled"),
        p50_s: col("p50_s"),
        p95_s: col("p95_s"),
        p99_s: col("p99_s"),
        window_success_rate: col("window_success_rate"),
        window_p95_s: col("window_p95_s"),
        calls_lost: col("calls_lost"),
        window_call_success_rate: col("window_call_success_rate"),
        has_users: header.iter().any(|h| h == "sessions_completed"),
        sessions_completed: col("sessions_completed"),
        sessions_lost: col("sessions_lost"),
        window_user_success_rate: col("window_user_success_rate"),
        tiers,
        room: header
            .iter()
            .any(|h| h == "room.waiting")
            .then(|| RoomSeries {
                waiting: col("room.waiting"),
                admitted: col("room.admitted"),
                abandoned: col("room.abandoned"),
                rejected: col("room.rejected"),
            }),
        t_s,
    };
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
        instance_crashes: summary
            .tiers
            .iter()
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
        slo_lines: summary
            .slo
            .target_success_rate
            .zip(summary.slo.outage_below),
    };
    chart::draw_timeline(&t, &dir.join("timeline.png"), &dir.join("timeline.svg"))
}
