//! `surge sweep`: vary model keys over a grid, replicate each point, and write `points.csv`
//! (one row per point and replication), `sweep.json` (mean and 95% interval of every metric per
//! point) and charts: the key metrics against one varied key, or a heatmap of the outage
//! probability with the crash boundary for two.
//!
//! A sweep also runs in shares across machines: with `--shard I/N` (or inside a Slurm, Kubernetes
//! or AWS Batch job array, see `experiment::shard`) it runs only its points and writes
//! `shard-I-of-N.csv` (rows as in `points.csv`) with `shard-I-of-N.json` (which sweep, which
//! share); `surge merge` checks them and writes the final files through [`write_outputs`], the
//! one writer of a finished sweep. Every finished run is appended to a journal
//! (`output::journal`) as it ends, so Ctrl-C or a kill loses none and `--resume` runs only what is
//! missing; the final files are written atomically and the journal removed.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{human_duration, out_dir};
use crate::cli::SweepArgs;
use crate::experiment::shard::{self, Shard};
use crate::experiment::sweep::{self, Interrupted, Row, Seeds, Vary};
use crate::metrics::summary::aggregate;
use crate::model::error::BadInput;
use crate::output::journal::{self, Journal};
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

/// What makes two runs parts of one sweep: the shards of a sweep share it, and a journal must
/// match it to be resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepId {
    pub surge_version: String,
    /// `experiment::sweep::fingerprint` of the effective model, grid, reps and seed.
    pub model_hash: String,
    pub model: String,
    pub seed: u64,
    pub reps: u32,
    pub vary: Vec<Vary>,
    /// Replication r's seed at each point (shards written before `--seeds` were independent).
    #[serde(default)]
    pub seeds: Seeds,
}

impl SweepId {
    /// The first line of the sweep's journal.
    fn marker(&self) -> String {
        format!(
            "surge sweep journal: surge_version={} model_hash={}",
            self.surge_version, self.model_hash
        )
    }

    fn keys(&self) -> Vec<&str> {
        self.vary.iter().map(|v| v.key.as_str()).collect()
    }
}

/// The file beside a shard's CSV (`shard-0001-of-0004.json`): which sweep, which share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    #[serde(flatten)]
    pub sweep: SweepId,
    /// Points in the whole sweep.
    pub points: usize,
    pub shard: Shard,
    /// The points of this shard (p with p mod count = index).
    pub shard_points: Vec<usize>,
    /// Rows in the CSV (points x reps).
    pub rows: usize,
    /// The CSV, in the same folder.
    pub file: String,
}

/// One finished (point, replication): its record in `points.csv` (point, the varied values,
/// rep, seed, then the metrics).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub point: usize,
    pub rep: u32,
    pub fields: Vec<String>,
}

impl Record {
    /// Read back a record of a sweep varying `keys` keys.
    fn parse(fields: Vec<String>, keys: usize) -> Option<Record> {
        let point = fields.first()?.parse().ok()?;
        let rep = fields.get(keys + 1)?.parse().ok()?;
        Some(Record { point, rep, fields })
    }
}

/// The `points.csv` header: point, the varied keys, rep, seed, the metric names.
fn header(keys: &[&str], names: Vec<String>) -> Vec<String> {
    let mut h = vec!["point".to_string()];
    h.extend(keys.iter().map(|k| k.to_string()));
    h.extend(["rep".to_string(), "seed".to_string()]);
    h.extend(names);
    h
}

/// The header and record of one run.
fn record(keys: &[&str], points: &[Vec<String>], r: &Row) -> (Vec<String>, Record) {
    let m = metrics(&r.summary);
    let mut fields = vec![r.point.to_string()];
    fields.extend(points[r.point].iter().cloned());
    fields.extend([r.rep.to_string(), r.seed.to_string()]);
    fields.extend(m.iter().map(|(_, x)| {
        if x.is_nan() {
            String::new()
        } else {
            sweep::format_number(*x)
        }
    }));
    let names = m.into_iter().map(|(k, _)| k).collect();
    (
        header(keys, names),
        Record {
            point: r.point,
            rep: r.rep,
            fields,
        },
    )
}

/// Read the records of a `points.csv` or shard CSV; `place` names it in errors.
pub fn read_records(bytes: &[u8], keys: usize, place: &str) -> Result<(Vec<String>, Vec<Record>)> {
    let bad = |why: String| BadInput(format!("{place}: {why}"));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut header: Option<Vec<String>> = None;
    let mut records = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("not a CSV of sweep rows: {e}")))?;
        let fields: Vec<String> = rec.iter().map(String::from).collect();
        if header.is_none() {
            header = Some(fields);
            continue;
        }
        records.push(Record::parse(fields, keys).ok_or_else(|| {
            bad(format!(
                "line {}: the point or rep column is not a whole number",
                i + 1
            ))
        })?);
    }
    let header = header.ok_or_else(|| bad("empty: no header".into()))?;
    Ok((header, records))
}

/// `points.csv` (or a shard's CSV): the header and the records as they are.
fn points_csv(header: &[String], records: &[Record]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in records {
        w.write_record(&r.fields)?;
    }
    Ok(w.into_inner()?)
}

/// Write a finished sweep, from one machine or merged from shards: `points.csv`, `sweep.json`
/// and the charts, and the table unless `quiet`. The statistics come from the records as
/// written, so a merged sweep gives the same bytes as one run on one machine.
pub fn write_outputs(
    dir: &Path,
    id: &SweepId,
    header: &[String],
    records: &[Record],
    quiet: bool,
) -> Result<()> {
    let keys = id.keys();
    let points = sweep::grid(&id.vary);
    output::write_atomic(&dir.join("points.csv"), &points_csv(header, records)?)?;
    let per_point = summarise(points.len(), keys.len(), header, records);
    let doc = json!({
        "model": id.model,
        "seed": id.seed,
        "seeds": id.seeds.name(),
        "reps": id.reps,
        "surge_version": id.surge_version,
        "model_hash": id.model_hash,
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
        id.model,
        points.len(),
        id.reps
    );
    draw(&title, &id.vary, &per_point, dir)?;
    if !quiet {
        print!("{}", table(&keys, &points, &per_point));
        println!(
            "outputs: {}/ (points.csv, sweep.json, charts)",
            dir.display()
        );
    }
    Ok(())
}

/// Whether the finished outputs in `path` (`sweep.json` or a shard's `.json`) are this sweep's.
fn already_done(path: &Path, id: &SweepId) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(doc) = serde_json::from_str::<Value>(&text) else {
        return false;
    };
    doc["surge_version"] == id.surge_version.as_str() && doc["model_hash"] == id.model_hash.as_str()
}

pub fn sweep(args: &SweepArgs) -> Result<()> {
    let varies: Vec<Vary> = args
        .vary
        .iter()
        .map(|v| sweep::parse_vary(v, args.points))
        .collect::<Result<_, _>>()?;
    let env = shard::process_env;
    let shard = shard::resolve(args.shard.as_deref(), args.shards, &env)?;
    let (points, models) = sweep::load_points(&args.model, &args.sets, &varies)?;
    // The guard rail of `surge run`, per point: one run of absurd size is refused before any.
    for m in &models {
        crate::experiment::guard::check_run_size(m, args.allow_huge)?;
    }
    let keys: Vec<&str> = varies.iter().map(|v| v.key.as_str()).collect();
    if args.count_points {
        println!("{}", points.len());
        return Ok(());
    }
    if let Some((s, _)) = shard {
        s.check_points(points.len())?;
    }
    let mine = |p: usize| shard.is_none_or(|(s, _)| s.contains(p));
    if args.list_points {
        for (i, p) in points.iter().enumerate().filter(|(i, _)| mine(*i)) {
            let values: Vec<String> = keys
                .iter()
                .zip(p)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            println!("{i} {}", values.join(" "));
        }
        return Ok(());
    }

    let base = &models[0];
    let seed = args.seed.unwrap_or(base.scenario.seed);
    let (jobs, jobs_from) = shard::jobs(args.jobs, &env);
    let id = SweepId {
        surge_version: env!("CARGO_PKG_VERSION").to_string(),
        model_hash: sweep::fingerprint(base, &varies, args.reps, seed, args.seeds),
        model: base.scenario.name.clone(),
        seed,
        reps: args.reps,
        vary: varies.clone(),
        seeds: args.seeds,
    };
    let dir = out_dir(&args.out, base, "sweep");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    let stem = shard.map_or("points".to_string(), |(s, _)| s.stem());
    let journal_path = dir.join(format!("{stem}.partial.csv"));
    let done_path = dir.join(if shard.is_some() {
        format!("{stem}.json")
    } else {
        "sweep.json".to_string()
    });
    let tasks: Vec<(usize, u32)> = (0..points.len())
        .filter(|&p| mine(p))
        .flat_map(|p| (0..args.reps).map(move |r| (p, r)))
        .collect();

    // What an earlier, interrupted try finished.
    let mut kept = journal::Contents {
        marker: id.marker(),
        header: None,
        rows: Vec::new(),
    };
    let mut done: BTreeMap<(usize, u32), Record> = BTreeMap::new();
    if args.resume {
        match journal::read(&journal_path)? {
            Some(c) => {
                done = resumable(&c, &id, &points, &tasks, &journal_path)?;
                kept.header = c.header;
                kept.rows = done.values().map(|r| r.fields.clone()).collect();
            }
            None if already_done(&done_path, &id) => {
                if !args.quiet {
                    eprintln!(
                        "{} is already complete for this sweep (same model hash); nothing to resume",
                        done_path.display()
                    );
                }
                return Ok(());
            }
            None => {
                if !args.quiet {
                    eprintln!(
                        "no journal {} to resume from: running every run",
                        journal_path.display()
                    );
                }
            }
        }
    }
    if !args.resume && !args.quiet {
        if let Ok(Some(old)) = journal::read(&journal_path) {
            eprintln!(
                "starting over: the journal {} of an earlier try ({} runs) is replaced; pass \
                 --resume to keep its runs",
                journal_path.display(),
                old.rows.len()
            );
        }
    }
    let todo: Vec<(usize, u32)> = tasks
        .iter()
        .copied()
        .filter(|t| !done.contains_key(t))
        .collect();
    if !args.quiet {
        let share = shard.map_or(String::new(), |(s, from)| {
            format!(
                ", shard {} of {} (from {}): {} of them",
                s.index,
                s.count,
                from.describe(),
                tasks.len() / args.reps as usize
            )
        });
        eprintln!(
            "sweep: {} points x {} replications{share}, on {jobs} thread{} ({jobs_from})",
            points.len(),
            args.reps,
            if jobs == 1 { "" } else { "s" }
        );
        if args.resume {
            eprintln!(
                "resuming: {} of {} runs already done, running the other {}",
                done.len(),
                tasks.len(),
                todo.len()
            );
        }
    }

    let journal = Arc::new(Mutex::new(Journal::start(
        &journal_path,
        &id.marker(),
        &kept,
    )?));
    let stop = Arc::new(AtomicBool::new(false));
    on_interrupt(stop.clone(), journal.clone())?;
    let bar = ProgressBar::with_draw_target(
        Some(todo.len() as u64),
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
    let rows = sweep::run_tasks(&models, seed, id.seeds, &todo, jobs, &stop, &|row| {
        let (h, rec) = record(&keys, &points, row);
        journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .append(&h, &rec.fields)?;
        bar.inc(1);
        Ok(())
    })?;
    bar.finish_and_clear();
    if rows.len() < todo.len() {
        bail!(Interrupted(format!(
            "interrupted with {} of {} runs done; they are kept in {}: run the same command with \
            --resume to do only the other {}",
            done.len() + rows.len(),
            tasks.len(),
            journal_path.display(),
            todo.len() - rows.len()
        )));
    }

    let mut header = kept.header;
    for row in &rows {
        let (h, rec) = record(&keys, &points, row);
        header.get_or_insert(h);
        done.insert((rec.point, rec.rep), rec);
    }
    let header = header.context("a sweep with no runs")?;
    let records: Vec<Record> = done.into_values().collect();
    match shard {
        None => write_outputs(&dir, &id, &header, &records, args.quiet)?,
        Some((s, _)) => {
            let file = format!("{stem}.csv");
            output::write_atomic(&dir.join(&file), &points_csv(&header, &records)?)?;
            let manifest = ShardManifest {
                sweep: id,
                points: points.len(),
                shard: s,
                shard_points: (0..points.len()).filter(|&p| s.contains(p)).collect(),
                rows: records.len(),
                file,
            };
            output::write_json(&done_path, &serde_json::to_value(&manifest)?)?;
            if !args.quiet {
                println!(
                    "shard {} of {}: {} points x {} replications in {}; once every shard is done, \
                    `surge merge {}` writes points.csv, sweep.json and the charts",
                    s.index,
                    s.count,
                    manifest.shard_points.len(),
                    args.reps,
                    dir.join(&manifest.file).display(),
                    dir.display()
                );
            }
        }
    }
    journal::remove(&journal_path)
}

/// The runs a journal holds, checked against this sweep: same sweep, and only runs of this
/// sweep (or shard) with the values of their point.
fn resumable(
    c: &journal::Contents,
    id: &SweepId,
    points: &[Vec<String>],
    tasks: &[(usize, u32)],
    path: &Path,
) -> Result<BTreeMap<(usize, u32), Record>> {
    if c.marker != id.marker() {
        bail!(BadInput(format!(
            "{} is the journal of another sweep ({}) than this command's (surge_version={} \
            model_hash={}): resume with the same model, --set, --vary, --reps, --seed and surge \
            version, or run without --resume to start over",
            path.display(),
            c.marker
                .strip_prefix("surge sweep journal: ")
                .unwrap_or(&c.marker),
            id.surge_version,
            id.model_hash
        )));
    }
    let wanted: std::collections::BTreeSet<&(usize, u32)> = tasks.iter().collect();
    let keys = id.vary.len();
    let mut done = BTreeMap::new();
    for fields in &c.rows {
        let rec = Record::parse(fields.clone(), keys)
            .filter(|r| {
                wanted.contains(&(r.point, r.rep))
                    && r.fields.get(1..=keys) == Some(&points[r.point][..])
            })
            .ok_or_else(|| {
                BadInput(format!(
                    "{}: the row `{}` is not a run of this sweep{}; run without --resume to start \
                    over",
                    path.display(),
                    fields.join(","),
                    if tasks.len() < points.len() * id.reps as usize {
                        " shard"
                    } else {
                        ""
                    }
                ))
            })?;
        done.entry((rec.point, rec.rep)).or_insert(rec);
    }
    Ok(done)
}

/// Ctrl-C (or SIGTERM, SIGHUP): the first stops new runs and lets those in progress finish; a
/// second stops at once, between two journal rows so none is torn.
fn on_interrupt(stop: Arc<AtomicBool>, journal: Arc<Mutex<Journal>>) -> Result<()> {
    let path = journal
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .path()
        .display()
        .to_string();
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            let _no_torn_row = journal.lock();
            eprintln!(
                "\nstopped; the finished runs are kept in {path}: run the same command with \
                --resume to continue"
            );
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupted: letting the runs in progress finish (Ctrl-C again to stop at once); \
            finished runs are kept in {path}"
        );
    })
    .context("cannot install the Ctrl-C handler")
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

/// Per point: mean and 95% half-width of every metric (flat names), from the records.
fn summarise(points: usize, keys: usize, header: &[String], records: &[Record]) -> Vec<PointStats> {
    let names = header.get(keys + 3..).unwrap_or_default();
    (0..points)
        .map(|p| {
            let runs: Vec<Value> = records
                .iter()
                .filter(|r| r.point == p)
                .map(|r| {
                    let cells = r.fields.get(keys + 3..).unwrap_or_default();
                    let flat: Map<String, Value> = names
                        .iter()
                        .zip(cells)
                        .map(|(k, x)| {
                            let number =
                                x.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
                            (k.clone(), number.map_or(Value::Null, Value::Number))
                        })
                        .collect();
                    Value::Object(flat)
                })
                .collect();
            let (mean, ci) = aggregate(&runs);
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
