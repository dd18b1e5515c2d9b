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
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{human_duration, out_dir};
use crate::cli::SweepArgs;
use crate::experiment::guard::Limits;
use crate::experiment::shard::{self, Shard};
use crate::experiment::sweep::{self, Interrupted, Row, Vary};
use crate::metrics::slo::Criterion;
use crate::metrics::table::{self, Column, Run};
use crate::model::error::BadInput;
use crate::output::journal::{self, Journal};
use crate::output::points::{self, GridValue, Header, OutageCounts, PointStats, Record, SweepDoc};
use crate::output::{self, chart};

/// Metrics drawn against the varied key, in panel order.
const KEY_METRICS: &[&str] = &[
    table::OUTAGE_CRASHED,
    table::RECOVERY_TIME,
    table::DOWNTIME,
    table::REQUESTS_LOST,
    table::LATENCY_P95,
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
    /// The `--set` overrides applied to every point.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// When a run counts as failed on the charts and in the table.
    #[serde(default)]
    pub criterion: Criterion,
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

/// The header and record of one run.
fn record(keys: &[&str], points: &[Vec<String>], r: &Row) -> (Header, Record) {
    let columns = Column::of(&r.summary);
    (
        Header::new(keys, &columns),
        Record::of_run(
            r.point,
            &points[r.point],
            r.rep,
            r.seed,
            &Run {
                summary: &r.summary,
                down_at_end: r.down_at_end,
            },
            &columns,
        ),
    )
}

/// Write a finished sweep, from one machine or merged from shards: `points.csv`, `sweep.json`
/// and the charts, and the table unless `quiet`. The statistics come from the records as
/// written, so a merged sweep gives the same bytes as one run on one machine.
pub fn write_outputs(
    dir: &Path,
    id: &SweepId,
    header: &Header,
    records: &[Record],
    quiet: bool,
) -> Result<()> {
    let keys = id.keys();
    let grid = sweep::grid(&id.vary);
    output::write_atomic(
        &dir.join("points.csv"),
        &points::write_csv(header, records)?,
    )?;
    let per_point = points::summarise(&grid, header, records);
    let doc = SweepDoc {
        model: id.model.clone(),
        model_hash: id.model_hash.clone(),
        parameters: keys.iter().map(|k| k.to_string()).collect(),
        points: per_point,
        reps: id.reps,
        seed: id.seed,
        overrides: id.overrides.clone(),
        criterion: id.criterion,
        surge_version: id.surge_version.clone(),
    };
    output::write_json(&dir.join("sweep.json"), &serde_json::to_value(&doc)?)?;
    let title = format!(
        "{} — {} points x {} replications",
        id.model,
        grid.len(),
        id.reps
    );
    draw(&title, &id.vary, &doc.points, id.criterion, dir)?;
    let folder = crate::report::sweep::SweepFolder::read(dir)?;
    crate::report::write(dir, &crate::report::sweep::build(&folder))?;
    if !quiet {
        print!("{}", table(&keys, &grid, &doc.points, id.criterion));
        println!(
            "outputs: {}/ (points.csv, sweep.json, charts, report.html, report.md)",
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
    /// The two fields that name a sweep, in `sweep.json` or a shard's manifest.
    #[derive(Deserialize)]
    struct Named {
        surge_version: String,
        model_hash: String,
    }
    let Ok(doc) = serde_json::from_str::<Named>(&text) else {
        return false;
    };
    doc.surge_version == id.surge_version && doc.model_hash == id.model_hash
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
        // Runs stopped at their first outage are not those of a full sweep: not one journal.
        model_hash: sweep::fingerprint(base, &varies, args.reps, seed)
            + &args
                .until
                .map_or(String::new(), |u| format!("-until-{u:?}")),
        model: base.scenario.name.clone(),
        seed,
        reps: args.reps,
        vary: varies.clone(),
        overrides: args.sets.clone(),
        criterion: args.criterion,
    };
    let mine_models: Vec<&crate::model::Model> = (0..points.len())
        .filter(|&p| mine(p))
        .map(|p| &models[p])
        .collect();
    if !super::confirm::confirm_sweep(&mine_models, args.reps, jobs, args.yes, args.quiet)? {
        return Ok(());
    }
    let dir = out_dir(&args.out, base, "sweep");
    let stem = shard.map_or("points".to_string(), |(s, _)| s.stem());
    let _lock = match shard {
        Some(_) => output::lock::lock_as(&dir, &format!(".{stem}.lock"))?,
        None => output::lock::lock(&dir)?,
    };
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
                kept.rows = done.values().map(Record::fields).collect();
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
    let limits = Limits {
        until: args.until.map(Into::into),
        ..Limits::default()
    };
    let rows = sweep::run_tasks(&models, seed, &todo, jobs, &limits, &stop, &|row| {
        let (h, rec) = record(&keys, &points, row);
        journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .append(&h.fields(), &rec.fields())?;
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

    let mut header = match &kept.header {
        Some(h) => Some(Header::parse(h, keys.len()).with_context(|| {
            format!(
                "the journal {} has a header that is not a sweep's",
                journal_path.display()
            )
        })?),
        None => None,
    };
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
            output::write_atomic(&dir.join(&file), &points::write_csv(&header, &records)?)?;
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
        let rec = Record::parse(fields, keys)
            .filter(|r| {
                wanted.contains(&(r.point, r.rep)) && points.get(r.point) == Some(&r.values)
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

fn axis(v: &Vary) -> chart::Axis {
    let nums: Option<Vec<f64>> = v
        .values
        .iter()
        .map(|x| match GridValue::of(x) {
            GridValue::Number(n) => Some(n),
            GridValue::Text(_) => None,
        })
        .collect();
    match nums {
        Some(x) => chart::Axis {
            name: v.key.clone(),
            x,
            labels: None,
        },
        None => chart::Axis {
            name: v.key.clone(),
            x: (0..v.values.len()).map(|i| i as f64).collect(),
            labels: Some(v.values.clone()),
        },
    }
}

/// What the replications of a point leave out of a metric's mean, or make a lower bound, said
/// on the chart and in the terminal: "not recovered in 1 of 4", "at least: 2 of 4 still down
/// at the end".
fn caveat(key: &str, o: &OutageCounts) -> Option<String> {
    match key {
        table::RECOVERY_TIME if o.not_recovered > 0 => Some(format!(
            "not recovered in {} of {}",
            o.not_recovered, o.runs
        )),
        table::DOWNTIME if o.still_down_at_end > 0 => Some(format!(
            "at least: {} of {} still down at the end",
            o.still_down_at_end, o.runs
        )),
        _ => None,
    }
}

/// The sweep's charts (also used by `surge plot`).
pub fn draw(
    title: &str,
    varies: &[Vary],
    per_point: &[PointStats],
    criterion: Criterion,
    dir: &Path,
) -> Result<()> {
    match varies {
        [one] => {
            let series: Vec<chart::MetricSeries> = KEY_METRICS
                .iter()
                .filter_map(|k| table::metric(k))
                .map(|m| {
                    // The failure share is that of the criterion the sweep was run with.
                    let (key, label) = if m.key == table::OUTAGE_CRASHED {
                        (criterion.metric(), criterion.probability_label())
                    } else {
                        (m.key, m.label)
                    };
                    (m, key, label)
                })
                .map(|(m, key, label)| chart::MetricSeries {
                    label: label.to_string(),
                    unit: m.unit.to_string(),
                    probability: m.probability,
                    mean: per_point.iter().map(|p| p.mean(key)).collect(),
                    ci95: per_point.iter().map(|p| p.ci95(key)).collect(),
                    notes: per_point
                        .iter()
                        .map(|p| caveat(m.key, &p.outage).unwrap_or_default())
                        .collect(),
                    at_least: per_point
                        .iter()
                        .map(|p| m.key == table::DOWNTIME && p.outage.still_down_at_end > 0)
                        .collect(),
                })
                .collect();
            chart::draw_sweep(
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
                        .map(|ix| per_point[ix * ny + iy].mean(criterion.metric()))
                        .collect()
                })
                .collect();
            chart::draw_heatmap(
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

/// The table printed after a sweep: the outage probability, the recovery time of the runs that
/// recovered (and how many did not), the downtime ("≥" when an outage was still on at the end)
/// and the p95 latency.
fn table(
    keys: &[&str],
    points: &[Vec<String>],
    per_point: &[PointStats],
    criterion: Criterion,
) -> String {
    let cell = |x: f64, f: &dyn Fn(f64) -> String| {
        if x.is_finite() { f(x) } else { "-".into() }
    };
    let mut s = format!("{:<6}", "point");
    for k in keys {
        s.push_str(&format!("{k:>22}"));
    }
    s.push_str(&format!(
        "{:>12}  {:<36}{:>14}{:>14}\n",
        match criterion {
            Criterion::Outage => "P(outage)",
            Criterion::Slo => "P(SLO broken)",
        },
        "recovery (runs that recovered)",
        "downtime",
        "p95"
    ));
    for (i, (p, st)) in points.iter().zip(per_point).enumerate() {
        s.push_str(&format!("{i:<6}"));
        for v in p {
            s.push_str(&format!("{v:>22}"));
        }
        let outage = cell(st.mean(criterion.metric()), &|x| format!("{x:.2}"));
        let mut rec = cell(st.mean(table::RECOVERY_TIME), &human_duration);
        if let Some(c) = caveat(table::RECOVERY_TIME, &st.outage) {
            rec = format!("{rec}; {c}");
        }
        let mut down = cell(st.mean(table::DOWNTIME), &human_duration);
        if st.outage.still_down_at_end > 0 {
            down = format!("≥ {down}");
        }
        let p95 = cell(st.mean(table::LATENCY_P95), &human_duration);
        s.push_str(&format!("{outage:>12}  {rec:<36}{down:>14}{p95:>14}\n"));
    }
    if per_point.iter().any(|p| p.outage.still_down_at_end > 0) {
        s.push_str(
            "≥: at least; some runs were still down at the end, so their downtime is cut by the \
             horizon\n",
        );
    }
    s
}
