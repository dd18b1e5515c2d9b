//! `surge sweep`: vary model keys over a grid, replicate each point, and write `points.csv`
//! (one row per point and replication), `sweep.json` (mean and 95% interval of every metric per
//! point) and charts: the key metrics against one varied key, or a heatmap of the outage
//! probability with the crash boundary for two.
//!
//! A sweep also runs in shares across machines: with `--shard I/N` (or inside a Slurm, Kubernetes
//! or AWS Batch job array, see `experiment::shard`) it runs only its points and writes
//! `shard-I-of-N.csv` (rows as in `points.csv`) with `shard-I-of-N.json` (which sweep, which
//! share); `surge merge` checks them and both write the final files through
//! `output::sweep::write_outputs`, the one writer of a finished sweep. Every finished run is
//! appended to a journal (`store::journal`) as it ends, so Ctrl-C (`app::interrupt`) or a
//! kill loses none and `--resume` runs only what is missing; the final files are written
//! atomically and the journal removed.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::out_dir;
use crate::cli::SweepArgs;
use crate::experiment::guard::Limits;
use crate::experiment::shard;
use crate::experiment::sweep::{self, Interrupted, Row, Vary};
use crate::metrics::table::{Column, Run};
use crate::model::error::BadInput;
use crate::output;
use crate::output::points::{self, Header, Record};
use crate::output::stdout::outln;
use crate::output::sweep::{ShardManifest, SweepId, write_outputs};
use crate::store::journal::{self, Journal};

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
    // Too many runs is refused before a model is made for each point (100,000 points took
    // 600 MB and half a minute to load before the count of runs was checked).
    let count = sweep::grid_size(&varies)?;
    if !args.count_points && !args.list_points && count <= sweep::MAX_POINTS {
        let mine = (0..count).filter(|&p| shard.is_none_or(|(s, _)| s.contains(p)));
        sweep::check_runs(mine.count(), args.reps)?;
    }
    let (points, models) = sweep::load_points(&args.model, &args.runs.sets, &varies)?;
    // The guard rail of `surge run`, per point: one run of absurd size is refused before any.
    for m in &models {
        crate::experiment::guard::check_run_size(m, args.runs.allow_huge)?;
    }
    args.failure.criterion.check(&models[0])?;
    let keys: Vec<&str> = varies.iter().map(|v| v.key.as_str()).collect();
    if args.count_points {
        outln!("{}", points.len());
        return Ok(());
    }
    if let Some((s, _)) = shard {
        s.check_points(points.len())?;
    }
    let mine = |p: usize| shard.is_none_or(|(s, _)| s.contains(p));
    let mine_count = (0..points.len()).filter(|&p| mine(p)).count();
    if args.list_points {
        for (i, p) in points.iter().enumerate().filter(|(i, _)| mine(*i)) {
            let values: Vec<String> = keys
                .iter()
                .zip(p)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            outln!("{i} {}", values.join(" "));
        }
        return Ok(());
    }

    sweep::check_runs(mine_count, args.reps)?;
    let base = &models[0];
    let seed = args.runs.seed.unwrap_or(base.scenario.seed);
    let (jobs, jobs_from) = shard::jobs(args.runs.jobs, &env);
    let id = SweepId {
        surge_version: env!("CARGO_PKG_VERSION").to_string(),
        // Runs stopped at their first outage are not those of a full sweep: not one journal.
        model_hash: sweep::fingerprint(base, &varies, args.reps, seed, args.seeds)
            + &args
                .until
                .map_or(String::new(), |u| format!("-until-{u:?}")),
        model: base.scenario.name.clone(),
        seed,
        reps: args.reps,
        vary: varies.clone(),
        seeds: args.seeds,
        overrides: args.runs.sets.clone(),
        criterion: args.failure.criterion,
    };
    let mine_models: Vec<&crate::model::Model> = (0..points.len())
        .filter(|&p| mine(p))
        .map(|p| &models[p])
        .collect();
    if !super::confirm::confirm_sweep(&mine_models, args.reps, jobs, args.yes, args.quiet)? {
        return Ok(());
    }
    let dir = out_dir(&args.runs.out, base, "sweep");
    let stem = shard.map_or("points".to_string(), |(s, _)| s.stem());
    let _lock = match shard {
        Some(_) => crate::store::lock::lock_as(&dir, &format!(".{stem}.lock"))?,
        None => crate::store::lock::lock(&dir)?,
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
        match journal::read(&journal_path, "sweep")? {
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
        if let Ok(Some(old)) = journal::read(&journal_path, "sweep") {
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
    crate::app::interrupt::watch(
        format!(
            "the finished runs are kept in {}: run the same command with --resume to continue",
            journal_path.display()
        ),
        Some(journal.clone()),
    )?;
    let stop = crate::app::interrupt::stop_flag();
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
    let rows = sweep::run_tasks(
        &models,
        seed,
        id.seeds,
        &todo,
        jobs,
        &limits,
        stop,
        &|row| {
            let (h, rec) = record(&keys, &points, row);
            journal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(&h.fields(), &rec.fields())?;
            bar.inc(1);
            Ok(())
        },
    )?;
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
    let said = match shard {
        None => {
            let said = write_outputs(&dir, &id, &header, &records, args.quiet)?;
            let folder = crate::report::sweep::SweepFolder::read(&dir)?;
            crate::report::write(&dir, &crate::report::sweep::build(&folder))?;
            said
        }
        Some((s, _)) => {
            let file = format!("{stem}.csv");
            crate::store::atomic::write_atomic(
                &dir.join(&file),
                &points::write_csv(&header, &records)?,
            )?;
            let manifest = ShardManifest {
                sweep: id,
                points: points.len(),
                shard: s,
                shard_points: (0..points.len()).filter(|&p| s.contains(p)).collect(),
                rows: records.len(),
                file,
            };
            crate::store::atomic::write_json(&done_path, &serde_json::to_value(&manifest)?)?;
            if args.quiet {
                String::new()
            } else {
                format!(
                    "shard {} of {}: {} points x {} replications in {}; once every shard is done, \
                    `surge merge {}` writes points.csv, sweep.json and the charts\n",
                    s.index,
                    s.count,
                    manifest.shard_points.len(),
                    args.reps,
                    dir.join(&manifest.file).display(),
                    dir.display()
                )
            }
        }
    };
    // The journal goes before anything is printed: a closed or full stdout then loses only
    // the table, never leaves a journal beside the final files.
    journal::remove(&journal_path)?;
    output::stdout::print(&said)
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
    let mut done: BTreeMap<(usize, u32), Record> = BTreeMap::new();
    let shard = if tasks.len() < points.len() * id.reps as usize {
        " shard"
    } else {
        ""
    };
    for fields in &c.rows {
        // A run of this sweep: its (point, rep) asked for, its point's values, the seed that
        // replication has, and every metric a number or empty.
        let rec = Record::parse(fields, keys)
            .filter(|r| {
                wanted.contains(&(r.point, r.rep))
                    && points.get(r.point) == Some(&r.values)
                    && r.seed
                        == id
                            .seeds
                            .seed(id.seed, r.point as u64, u64::from(r.rep))
                            .to_string()
                    && r.cells
                        .iter()
                        .all(|x| x.is_empty() || x.parse::<f64>().is_ok_and(|v| !v.is_nan()))
            })
            .ok_or_else(|| {
                BadInput(format!(
                    "{}: the row `{}` is not a run of this sweep{shard} (its point, values, seed \
                     or metrics); run without --resume to start over",
                    path.display(),
                    fields.join(","),
                ))
            })?;
        match done.get(&(rec.point, rec.rep)) {
            Some(before) if *before != rec => bail!(BadInput(format!(
                "{}: two different rows for point {} replication {}; run without --resume to \
                 start over",
                path.display(),
                rec.point,
                rec.rep
            ))),
            Some(_) => {}
            None => {
                done.insert((rec.point, rec.rep), rec);
            }
        }
    }
    Ok(done)
}
