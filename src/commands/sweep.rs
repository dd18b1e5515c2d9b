//! `surge sweep`: vary model keys over a grid, replicate each point, and write `points.csv`
//! (one row per point and replication), `sweep.json` (mean and 95% interval of every metric per
//! point) and charts: the key metrics against one varied key, or a heatmap of the outage
//! probability with the crash boundary for two.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value, json};
use std::path::Path;

use super::{human_duration, out_dir};
use crate::cli::SweepArgs;
use crate::experiment::sweep::{self, Row, Vary};
use crate::metrics::summary::aggregate;
use crate::output::{self, sweep_chart};

/// Per point: mean and 95% half-width of every metric, by flat metric name.
pub type PointStats = (Map<String, Value>, Map<String, Value>);

/// Metrics drawn against the varied key: (metric, label, unit).
const KEY_METRICS: &[(&str, &str, &str)] = &[
    ("outage.crashed", "outage probability", ""),
    ("outage.recovery_time_s", "recovery time", "s"),
    ("outage.downtime_s", "downtime", "s"),
    (
        "requests.lost",
        "requests lost (rejected, timed out, failed)",
        "requests",
    ),
    ("latency_s.p95", "p95 latency", "s"),
];

pub fn sweep(args: &SweepArgs) -> Result<()> {
    let varies: Vec<Vary> = args
        .vary
        .iter()
        .map(|v| sweep::parse_vary(v, args.points))
        .collect::<Result<_, _>>()?;
    let (points, models) = sweep::load_points(&args.model, &args.sets, &varies)?;
    let base = &models[0];
    let seed = args.seed.unwrap_or(base.scenario.seed);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let dir = out_dir(&args.out, base, "sweep");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;

    let total = points.len() as u64 * u64::from(args.reps);
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if args.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "sweep [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let rows = sweep::run_points(&models, seed, args.reps, jobs, &|| bar.inc(1))?;
    bar.finish_and_clear();

    let keys: Vec<&str> = varies.iter().map(|v| v.key.as_str()).collect();
    output::write_atomic(&dir.join("points.csv"), &points_csv(&keys, &points, &rows)?)?;
    let per_point = summarise(&points, &rows, args.reps);
    let doc = json!({
        "model": base.scenario.name,
        "seed": seed,
        "reps": args.reps,
        "parameters": keys,
        "points": points
            .iter()
            .zip(&per_point)
            .enumerate()
            .map(|(i, (p, (mean, ci)))| {
                let values: Map<String, Value> = keys.iter().zip(p).map(|(k, v)| (k.to_string(), typed(v))).collect();
                json!({ "point": i, "values": values, "mean": mean, "ci95": ci })
            })
            .collect::<Vec<_>>(),
    });
    output::write_json(&dir.join("sweep.json"), &doc)?;
    let title = format!(
        "{} — {} points x {} replications",
        base.scenario.name,
        points.len(),
        args.reps
    );
    draw(&title, &varies, &per_point, &dir)?;
    if !args.quiet {
        print!("{}", table(&keys, &points, &per_point));
        println!(
            "outputs: {}/ (points.csv, sweep.json, charts)",
            dir.display()
        );
    }
    Ok(())
}

/// A grid value as JSON: a number when it is one.
fn typed(v: &str) -> Value {
    v.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::String(v.to_string()), Value::Number)
}

/// Metrics of one run, with `requests.lost` added.
fn metrics(summary: &Value) -> Vec<(String, f64)> {
    let mut m = sweep::flatten(summary);
    let get = |k: &str| summary["requests"][k].as_f64().unwrap_or(0.0);
    m.push((
        "requests.lost".into(),
        get("rejected") + get("timed_out") + get("failed"),
    ));
    m
}

fn points_csv(keys: &[&str], points: &[Vec<String>], rows: &[Row]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let names: Vec<String> = rows
        .first()
        .map(|r| metrics(&r.summary).into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default();
    let mut header = vec!["point".to_string()];
    header.extend(keys.iter().map(|k| k.to_string()));
    header.extend(["rep".to_string(), "seed".to_string()]);
    header.extend(names.iter().cloned());
    w.write_record(&header)?;
    for r in rows {
        let mut rec = vec![r.point.to_string()];
        rec.extend(points[r.point].iter().cloned());
        rec.extend([r.rep.to_string(), r.seed.to_string()]);
        rec.extend(metrics(&r.summary).into_iter().map(|(_, x)| {
            if x.is_nan() {
                String::new()
            } else {
                sweep::format_number(x)
            }
        }));
        w.write_record(&rec)?;
    }
    Ok(w.into_inner()?)
}

/// Per point: mean and 95% half-width of every metric (flat names).
fn summarise(
    points: &[Vec<String>],
    rows: &[Row],
    reps: u32,
) -> Vec<(Map<String, Value>, Map<String, Value>)> {
    (0..points.len())
        .map(|p| {
            let mut with_lost: Vec<Value> = Vec::with_capacity(reps as usize);
            for r in rows.iter().filter(|r| r.point == p) {
                let flat: Map<String, Value> = metrics(&r.summary)
                    .into_iter()
                    .map(|(k, x)| {
                        (
                            k,
                            serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
                        )
                    })
                    .collect();
                with_lost.push(Value::Object(flat));
            }
            let (mean, ci) = aggregate(&with_lost);
            (
                mean.as_object().cloned().unwrap_or_default(),
                ci.as_object().cloned().unwrap_or_default(),
            )
        })
        .collect()
}

fn axis(v: &Vary) -> sweep_chart::Axis {
    let nums: Option<Vec<f64>> = v.values.iter().map(|x| x.parse::<f64>().ok()).collect();
    match nums {
        Some(x) => sweep_chart::Axis {
            name: v.key.clone(),
            x,
            labels: None,
        },
        None => sweep_chart::Axis {
            name: v.key.clone(),
            x: (0..v.values.len()).map(|i| i as f64).collect(),
            labels: Some(v.values.clone()),
        },
    }
}

/// The sweep's charts (also used by `surge plot`).
pub fn draw(title: &str, varies: &[Vary], per_point: &[PointStats], dir: &Path) -> Result<()> {
    let get =
        |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    match varies {
        [one] => {
            let series: Vec<sweep_chart::MetricSeries> = KEY_METRICS
                .iter()
                .map(|(k, label, unit)| sweep_chart::MetricSeries {
                    label: label.to_string(),
                    unit: unit.to_string(),
                    mean: per_point.iter().map(|(m, _)| get(m, k)).collect(),
                    ci95: per_point.iter().map(|(_, c)| get(c, k)).collect(),
                })
                .collect();
            sweep_chart::draw_sweep(
                title,
                &axis(one),
                &series,
                &dir.join("sweep.png"),
                &dir.join("sweep.svg"),
            )
        }
        [x, y] => {
            let (nx, ny) = (x.values.len(), y.values.len());
            // Points run with the first key slowest: point = ix * ny + iy.
            let z: Vec<Vec<f64>> = (0..ny)
                .map(|iy| {
                    (0..nx)
                        .map(|ix| get(&per_point[ix * ny + iy].0, "outage.crashed"))
                        .collect()
                })
                .collect();
            sweep_chart::draw_heatmap(
                title,
                &axis(x),
                &axis(y),
                &z,
                &dir.join("heatmap.png"),
                &dir.join("heatmap.svg"),
            )
        }
        _ => Ok(()),
    }
}

/// The table printed after a sweep.
fn table(keys: &[&str], points: &[Vec<String>], per_point: &[PointStats]) -> String {
    let get = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_f64);
    let mut s = format!("{:<6}", "point");
    for k in keys {
        s.push_str(&format!("{k:>22}"));
    }
    s.push_str(&format!(
        "{:>12}{:>18}{:>14}\n",
        "P(outage)", "recovery", "p95"
    ));
    for (i, (p, (m, _))) in points.iter().zip(per_point).enumerate() {
        s.push_str(&format!("{i:<6}"));
        for v in p {
            s.push_str(&format!("{v:>22}"));
        }
        let outage = get(m, "outage.crashed").map_or("-".into(), |x| format!("{:.2}", x));
        let rec = get(m, "outage.recovery_time_s").map_or("-".into(), human_duration);
        let p95 = get(m, "latency_s.p95").map_or("-".into(), human_duration);
        s.push_str(&format!("{outage:>12}{rec:>18}{p95:>14}\n"));
    }
    s
}
