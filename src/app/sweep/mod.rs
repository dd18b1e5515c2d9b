//! The work of `surge sweep` and `surge merge`: vary model keys over a grid, replicate each point,
//! and write `points.csv` (one row per point and replication), `sweep.json` (mean and 95%
//! interval of every metric per point), the charts and the folder's report.
//!
//! A sweep also runs in shares across machines: with a shard (`--shard I/N`, or a Slurm,
//! Kubernetes or AWS Batch job array, see `experiment::shard`) it runs only its points and writes
//! `shard-I-of-N.csv` (rows as in `points.csv`) with `shard-I-of-N.json` (which sweep, which
//! share); [`merge`] checks them and both write the final files through
//! `output::sweep::write_outputs`, the one writer of a finished sweep ([`write_finished`]). Every
//! finished run is appended to a journal (`store::journal`) as it ends, so Ctrl-C
//! (`app::interrupt`) or a kill loses none and `--resume` runs only what is missing
//! (`resume`); the final files are written atomically and the journal removed. A sweep of 1,000
//! runs or more is announced, and asked about on a terminal (`confirm`).
//!
//! Not here: the flags (`cli`), `--list-points` and `--count-points` and the table printed at
//! the end (`commands/sweep.rs`, from [`Grid`] and [`SweepOutcome`]); running the points
//! (`experiment::sweep`), and the files' formats (`output::points`, `output::sweep`).

pub(crate) mod confirm;
mod merge;
pub(crate) mod resume;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

use super::{ManyRuns, ModelSource, out_dir};
use crate::error::BadInput;
use crate::experiment::guard::{self, Limits, Until};
use crate::experiment::shard::{self, Shard, ShardSource};
use crate::experiment::sweep::{self, Interrupted, Row, Seeds, Vary};
use crate::metrics::slo::Criterion;
use crate::metrics::table::{Column, Run};
use crate::model::Model;
use crate::output::points::{self, Header, Record, SweepDoc};
use crate::output::sweep::{ShardManifest, SweepId};
use crate::store::journal;

pub(crate) use merge::{MergeSettings, merge};

/// Values of a range given without a step (`--points`).
pub(crate) const POINTS: usize = 10;
/// Replications per point (`--reps`).
pub(crate) const REPS: u32 = 10;

/// A sweep, as the flags ask for it.
#[derive(Debug, Clone)]
pub(crate) struct SweepSettings {
    pub(crate) source: ModelSource,
    /// `--vary K=SPEC`: a key path and its values, one per varied key.
    pub(crate) vary: Vec<String>,
    /// Values of a range given without a step.
    pub(crate) points: usize,
    pub(crate) reps: u32,
    pub(crate) seeds: Seeds,
    pub(crate) runs: ManyRuns,
    pub(crate) criterion: Criterion,
    /// Stop each run at its first outage or SLO breach.
    pub(crate) until: Option<Until>,
    /// `--shard I/N` and `--shards N`; without `--shard`, a job array's variables name it.
    pub(crate) shard: Option<String>,
    pub(crate) shards: Option<u32>,
    pub(crate) resume: bool,
    /// Start a sweep of 1,000 runs or more without asking.
    pub(crate) yes: bool,
    /// No progress bar and no lines on stderr.
    pub(crate) quiet: bool,
}

/// What a sweep did, in its output folder `dir`.
#[derive(Debug)]
pub(crate) struct SweepOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) ending: Ending,
}

/// How a sweep ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// Asked on a terminal, the user said no: nothing ran, nothing was written.
    Declined,
    /// `--resume` found the final files of this very sweep (or shard): nothing ran.
    AlreadyComplete,
    /// The whole sweep: its files written.
    Finished(SweepFiles),
    /// One shard: its CSV and this manifest written, for `surge merge`.
    Shard(ShardManifest),
}

/// A finished sweep's files in `dir` (`points.csv`, `sweep.json`, the charts, the report): the
/// sweep and its `sweep.json`.
#[derive(Debug)]
pub(crate) struct SweepFiles {
    pub(crate) dir: PathBuf,
    pub(crate) id: SweepId,
    pub(crate) doc: SweepDoc,
}

/// A sweep's points, each point's model, and the shard of them this process runs.
pub(crate) struct Grid {
    pub(crate) varies: Vec<Vary>,
    pub(crate) points: Vec<Vec<String>>,
    pub(crate) models: Vec<Model>,
    pub(crate) shard: Option<(Shard, ShardSource)>,
}

impl Grid {
    /// Read `--vary`, find the shard and load every point's model, checked (its size, the
    /// criterion). With `to_run`, too many runs are refused before a model is made for each
    /// point (100,000 points took 600 MB and half a minute to load before the count of runs was
    /// checked); listing or counting the points does not run them.
    pub(crate) fn load(s: &SweepSettings, to_run: bool) -> Result<Grid> {
        let varies: Vec<Vary> = s
            .vary
            .iter()
            .map(|v| sweep::parse_vary(v, s.points))
            .collect::<Result<_, _>>()?;
        let shard = shard::resolve(s.shard.as_deref(), s.shards, &shard::process_env)?;
        let count = sweep::grid_size(&varies)?;
        if to_run && count <= sweep::MAX_POINTS {
            let mine = (0..count).filter(|&p| shard.is_none_or(|(s, _)| s.contains(p)));
            sweep::check_runs(mine.count(), s.reps)?;
        }
        let (points, models) =
            sweep::load_points(s.source.file.as_deref(), &s.source.sets, &varies)?;
        // The guard rail of `surge run`, per point: one run of absurd size is refused before any.
        for m in &models {
            guard::check_run_size(m, s.runs.allow_huge)?;
        }
        s.criterion.check(&models[0])?;
        Ok(Grid {
            varies,
            points,
            models,
            shard,
        })
    }

    /// The varied keys, in `--vary` order.
    pub(crate) fn keys(&self) -> Vec<&str> {
        self.varies.iter().map(|v| v.key.as_str()).collect()
    }

    /// Whether this process runs point `p`.
    pub(crate) fn mine(&self, p: usize) -> bool {
        self.shard.is_none_or(|(s, _)| s.contains(p))
    }

    /// The indices of the points this process runs, once its shard is checked against the grid
    /// (no shard without a point).
    pub(crate) fn mine_points(&self) -> Result<Vec<usize>, BadInput> {
        if let Some((s, _)) = self.shard {
            s.check_points(self.points.len())?;
        }
        Ok((0..self.points.len()).filter(|&p| self.mine(p)).collect())
    }

    /// The file names of this sweep (or shard) in its folder.
    fn names(&self, dir: &Path) -> Names {
        let stem = self.shard.map_or("points".to_string(), |(s, _)| s.stem());
        Names {
            journal: dir.join(format!("{stem}.partial.csv")),
            done: dir.join(match self.shard {
                Some(_) => format!("{stem}.json"),
                None => "sweep.json".to_string(),
            }),
            stem,
        }
    }
}

/// A sweep's (or shard's) files: `points` or `shard-I-of-N`, its journal, and the file whose
/// presence says it is done (`sweep.json`, or the shard's manifest).
struct Names {
    stem: String,
    journal: PathBuf,
    done: PathBuf,
}

/// Run a sweep (or this process's shard of it) and write its files.
pub(crate) fn sweep(s: &SweepSettings) -> Result<SweepOutcome> {
    let grid = Grid::load(s, true)?;
    let mine = grid.mine_points()?;
    sweep::check_runs(mine.len(), s.reps)?;
    let base = &grid.models[0];
    let seed = s.runs.seed.unwrap_or(base.scenario.seed);
    let (jobs, jobs_from) =
        shard::jobs(s.runs.jobs, &shard::process_env, &|n| s.runs.notes.note(n));
    let id = sweep_id(s, &grid, seed);
    let dir = out_dir(&s.runs.out, base, "sweep");
    let mine_models: Vec<&Model> = mine.iter().map(|&p| &grid.models[p]).collect();
    if !confirm::confirm_sweep(&mine_models, s.reps, jobs, s.yes, s.quiet)? {
        return Ok(SweepOutcome {
            dir,
            ending: Ending::Declined,
        });
    }
    let names = grid.names(&dir);
    let _lock = match grid.shard {
        Some(_) => crate::store::lock::lock_as(&dir, &format!(".{}.lock", names.stem))?,
        None => crate::store::lock::lock(&dir)?,
    };
    let tasks: Vec<(usize, u32)> = (mine.iter())
        .flat_map(|&p| (0..s.reps).map(move |r| (p, r)))
        .collect();
    let Some((kept, mut done)) = resume::earlier(s, &id, &grid, &tasks, &names)? else {
        return Ok(SweepOutcome {
            dir,
            ending: Ending::AlreadyComplete,
        });
    };
    let todo: Vec<(usize, u32)> = (tasks.iter().copied())
        .filter(|t| !done.contains_key(t))
        .collect();
    if !s.quiet {
        announce(s, &grid, (jobs, jobs_from), &tasks, done.len(), todo.len());
    }
    let rows = run(s, &grid, &id, &names, &kept, &todo, jobs)?;
    if rows.len() < todo.len() {
        bail!(Interrupted(format!(
            "interrupted with {} of {} runs done; they are kept in {}: run the same command with \
            --resume to do only the other {}",
            done.len() + rows.len(),
            tasks.len(),
            names.journal.display(),
            todo.len() - rows.len()
        )));
    }
    let keys = grid.keys();
    let mut header = match &kept.header {
        Some(h) => Some(Header::parse(h, keys.len()).with_context(|| {
            format!(
                "the journal {} has a header that is not a sweep's",
                names.journal.display()
            )
        })?),
        None => None,
    };
    for row in &rows {
        let (h, rec) = record(&keys, &grid.points, row);
        header.get_or_insert(h);
        done.insert((rec.point, rec.rep), rec);
    }
    let header = header.context("a sweep with no runs")?;
    let records: Vec<Record> = done.into_values().collect();
    let ending = write(&grid, id, &dir, &names, &header, &records)?;
    // The journal goes before the caller prints anything: a closed or full stdout then loses
    // only the table, never leaves a journal beside the final files.
    journal::remove(&names.journal)?;
    Ok(SweepOutcome { dir, ending })
}

/// What names this sweep: its shards share it, and a journal must match it to be resumed.
fn sweep_id(s: &SweepSettings, grid: &Grid, seed: u64) -> SweepId {
    let base = &grid.models[0];
    SweepId {
        surge_version: env!("CARGO_PKG_VERSION").to_string(),
        // Runs stopped at their first outage are not those of a full sweep: not one journal.
        model_hash: sweep::fingerprint(base, &grid.varies, s.reps, seed, s.seeds)
            + &s.until
                .map_or(String::new(), |u| format!("-until-{}", until_name(u))),
        model: base.scenario.name.clone(),
        seed,
        reps: s.reps,
        vary: grid.varies.clone(),
        seeds: s.seeds,
        overrides: s.source.sets.clone(),
        criterion: s.criterion,
    }
}

/// `--until`'s value as the model hash has named it since `--until` came (`-until-Outage`): the
/// flag's name for it, not `Until`'s, so that journals and shards of an earlier surge match.
fn until_name(u: Until) -> &'static str {
    match u {
        Until::FirstOutage => "Outage",
        Until::FirstSloBreach => "Slo",
        Until::FirstCallOutage => "CallOutage",
        Until::FirstUserOutage => "UserOutage",
    }
}

/// The line on stderr before the runs: how many, on how many threads, and what `--resume` kept.
fn announce(
    s: &SweepSettings,
    grid: &Grid,
    (jobs, jobs_from): (usize, &str),
    tasks: &[(usize, u32)],
    done: usize,
    todo: usize,
) {
    let share = grid.shard.map_or(String::new(), |(sh, from)| {
        format!(
            ", shard {} of {} (from {}): {} of them",
            sh.index,
            sh.count,
            from.describe(),
            tasks.len() / s.reps as usize
        )
    });
    s.runs.notes.note(&format!(
        "sweep: {} points x {} replications{share}, on {jobs} thread{} ({jobs_from})",
        grid.points.len(),
        s.reps,
        if jobs == 1 { "" } else { "s" }
    ));
    if s.resume {
        s.runs.notes.note(&format!(
            "resuming: {done} of {} runs already done, running the other {todo}",
            tasks.len(),
        ));
    }
}

/// Run `todo` on `jobs` threads, each finished run appended to the journal (started with the
/// runs `kept`) as it ends, under a progress bar. Fewer rows than `todo`: a signal stopped it.
fn run(
    s: &SweepSettings,
    grid: &Grid,
    id: &SweepId,
    names: &Names,
    kept: &journal::Contents,
    todo: &[(usize, u32)],
    jobs: usize,
) -> Result<Vec<Row>> {
    let journal = super::progress::journal(&names.journal, &id.marker(), kept)?;
    let bar = super::progress::bar(
        todo.len() as u64,
        s.quiet,
        "sweep [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
    );
    let limits = Limits {
        until: s.until,
        ..Limits::default()
    };
    let keys = grid.keys();
    let rows = sweep::run_tasks(
        &grid.models,
        id.seed,
        id.seeds,
        todo,
        jobs,
        &limits,
        super::interrupt::stop_flag(),
        &|row| {
            let (h, rec) = record(&keys, &grid.points, row);
            journal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(&h.fields(), &rec.fields())?;
            bar.inc(1);
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    Ok(rows)
}

/// Write the final files: the whole sweep's, or a shard's CSV and manifest.
fn write(
    grid: &Grid,
    id: SweepId,
    dir: &Path,
    names: &Names,
    header: &Header,
    records: &[Record],
) -> Result<Ending> {
    let Some((s, _)) = grid.shard else {
        return Ok(Ending::Finished(write_finished(dir, id, header, records)?));
    };
    let file = format!("{}.csv", names.stem);
    crate::store::atomic::write_atomic(&dir.join(&file), &points::write_csv(header, records)?)?;
    let points = grid.points.len();
    let manifest = ShardManifest {
        sweep: id,
        points,
        shard: s,
        shard_points: (0..points).filter(|&p| s.contains(p)).collect(),
        rows: records.len(),
        file,
    };
    crate::store::atomic::write_json(&names.done, &manifest)?;
    Ok(Ending::Shard(manifest))
}

/// Write a finished sweep, run on one machine or merged from shards: `points.csv`, `sweep.json`
/// and the charts (`output::sweep::write_outputs`), then the folder's report.
fn write_finished(
    dir: &Path,
    id: SweepId,
    header: &Header,
    records: &[Record],
) -> Result<SweepFiles> {
    let doc = crate::output::sweep::write_outputs(dir, &id, header, records)?;
    let folder = crate::report::sweep::SweepFolder::read(dir)?;
    crate::report::write(dir, &crate::report::sweep::build(&folder))?;
    Ok(SweepFiles {
        dir: dir.to_path_buf(),
        id,
        doc,
    })
}

/// The header and record of one run (a row of `points.csv` and of the journal).
pub(crate) fn record(keys: &[&str], points: &[Vec<String>], r: &Row) -> (Header, Record) {
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
