//! `surge plot DIR`: redraw the charts of a finished sweep or crash-point search from its data
//! files (`sweep.json`, `crashpoint.json`), or of a run from `timeseries.csv` and
//! `summary.json`, without simulating again.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::Path;

use crate::cli::PlotArgs;
use crate::experiment::sweep::Vary;
use crate::metrics::{TierSeries, TimeSeries};
use crate::model::error::BadInput;
use crate::model::units::parse_clock;
use crate::output::{chart, sweep_chart};

pub fn plot(args: &PlotArgs) -> Result<()> {
    let dir = &args.dir;
    let _lock = match dir.is_dir() {
        true => Some(crate::output::lock::lock(dir)?),
        false => None,
    };
    if dir.join("sweep.json").exists() {
        sweep_from(dir)?;
        println!("redrew the sweep charts in {}", dir.display());
    } else if dir.join("crashpoint.json").exists() {
        crashpoint_from(dir)?;
        println!("redrew the crash-point chart in {}", dir.display());
    } else if dir.join("timeseries.csv").exists() {
        timeline_from(dir)?;
        println!("redrew the timeline in {}", dir.display());
    } else {
        bail!(BadInput(format!(
            "{} holds no sweep.json, crashpoint.json or timeseries.csv: nothing to plot",
            dir.display()
        )));
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| BadInput(format!("{}: not valid JSON: {e}", path.display())).into())
}

fn sweep_from(dir: &Path) -> Result<()> {
    let doc = read_json(&dir.join("sweep.json"))?;
    let keys: Vec<String> = doc["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    let points = doc["points"].as_array().cloned().unwrap_or_default();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => crate::experiment::sweep::format_number(n.as_f64().unwrap_or(f64::NAN)),
        other => other.to_string(),
    };
    let varies: Vec<Vary> = keys
        .iter()
        .map(|k| {
            let mut values: Vec<String> = Vec::new();
            for p in &points {
                let v = text(&p["values"][k]);
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            Vary {
                key: k.clone(),
                values,
            }
        })
        .collect();
    let per_point: Vec<super::sweep::PointStats> = points
        .iter()
        .map(|p| {
            (
                p["mean"].as_object().cloned().unwrap_or_default(),
                p["ci95"].as_object().cloned().unwrap_or_default(),
            )
        })
        .collect();
    let title = format!(
        "{} — {} points x {} replications",
        doc["model"].as_str().unwrap_or("model"),
        points.len(),
        doc["reps"].as_u64().unwrap_or(0)
    );
    let criterion = serde_json::from_value(doc["criterion"].clone()).unwrap_or_default();
    super::sweep::draw(&title, &varies, &per_point, criterion, dir)
}

fn crashpoint_from(dir: &Path) -> Result<()> {
    let cp = read_json(&dir.join("crashpoint.json"))?;
    let tries: Vec<sweep_chart::CrashTry> = cp["points"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| sweep_chart::CrashTry {
            value: t["value"].as_f64().unwrap_or(f64::NAN),
            reps: t["reps"].as_u64().unwrap_or(0) as u32,
            outages: t["outages"].as_u64().unwrap_or(0) as u32,
        })
        .collect();
    let ci = cp["ci95"]
        .as_array()
        .and_then(|c| Some((c.first()?.as_f64()?, c.get(1)?.as_f64()?)));
    let parameter = cp["parameter"].as_str().unwrap_or("parameter");
    sweep_chart::draw_crashpoint(
        &format!("crash point in {parameter}"),
        parameter,
        &tries,
        cp["crash_point"].as_f64(),
        ci,
        cp["p10"].as_f64(),
        cp["p90"].as_f64(),
        &dir.join("crashpoint.png"),
        &dir.join("crashpoint.svg"),
    )
}

fn timeline_from(dir: &Path) -> Result<()> {
    let path = dir.join("timeseries.csv");
    let mut rdr =
        csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let header: Vec<String> = rdr.headers()?.iter().map(String::from).collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    let mut first_clock = None;
    for rec in rdr.records() {
        let rec = rec?;
        for (i, cell) in rec.iter().enumerate() {
            if header[i] == "clock" {
                first_clock.get_or_insert_with(|| cell.to_string());
            }
            cols[i].push(cell.parse().unwrap_or(f64::NAN));
        }
    }
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
    let mut tiers: Vec<TierSeries> = Vec::new();
    for h in &header {
        if let Some(name) = h.strip_suffix(".busy_threads") {
            let summary = read_json(&dir.join("summary.json")).ok();
            let threads = summary
                .as_ref()
                .and_then(|s| s["tiers"].as_array().cloned())
                .and_then(|ts| ts.into_iter().find(|t| t["name"] == name))
                .and_then(|t| t["threads"].as_f64())
                .unwrap_or(f64::NAN);
            tiers.push(TierSeries {
                name: name.to_string(),
                threads_per_instance: threads,
                instances_up: col(&format!("{name}.instances_up")),
                in_rotation: col(&format!("{name}.in_rotation")),
                busy_threads: col(h),
                queued: col(&format!("{name}.queued")),
                memory_max_bytes: col(&format!("{name}.memory_max_bytes")),
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
        p50_s: col("p50_s"),
        p95_s: col("p95_s"),
        p99_s: col("p99_s"),
        window_success_rate: col("window_success_rate"),
        window_p95_s: col("window_p95_s"),
        tiers,
        t_s,
    };
    let summary = read_json(&dir.join("summary.json")).unwrap_or(Value::Null);
    let o = &summary["outage"];
    let outages: Vec<(f64, f64)> = o["intervals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| Some((i.get(0)?.as_f64()?, i.get(1)?.as_f64()?)))
        .collect();
    let title = format!(
        "{} — seed {}",
        summary["model"].as_str().unwrap_or("run"),
        summary["seed"]
    );
    let t = chart::Timeline {
        title: &title,
        series: &series,
        outages: &outages,
        crash_time_s: o["crash_time_s"].as_f64(),
        recovered_at_s: o["recovered_at_s"].as_f64(),
        slo_lines: None,
    };
    chart::draw_timeline(&t, &dir.join("timeline.png"), &dir.join("timeline.svg"))
}
