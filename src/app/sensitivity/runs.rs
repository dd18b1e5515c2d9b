//! The runs of a screening, journaled as a sweep's are: every finished (point, replication) is
//! appended to `sensitivity.partial.csv` in the output folder as it ends, a row of the form of
//! `points.csv` (point, the keys' values, rep, seed, metrics), so Ctrl-C or a kill loses none and
//! `--resume` runs only what is missing (its rows checked by the sweep's own check,
//! `app::sweep::resume::resumable`). With `--budget` the trajectories run one after the other,
//! and none starts past the budget (the first always runs): the screening rests on the
//! trajectories finished and the journal is kept for `--resume` to go on. The effects are
//! computed from the cells as journaled, so a resumed screening gives the same bytes as one run
//! at once.
//!
//! Not here: the design and the effects (`experiment::sensitivity`), the files written at the
//! end (`super`), the journal's format (`store::journal`).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::SensitivitySettings;
use crate::app::sweep::record;
use crate::app::sweep::resume::{Done, Expected, resumable};
use crate::experiment::guard::Limits;
use crate::experiment::sensitivity::{self as screening, Outcome, PointMeans, Step};
use crate::experiment::sweep::{self, Interrupted, Seeds, Vary};
use crate::model::Model;
use crate::output::points::{Header, Record};
use crate::store::journal::{self, Contents};

/// The journal's file name in the output folder.
pub(crate) const JOURNAL: &str = "sensitivity.partial.csv";

/// The points to run and what names them.
pub(super) struct Points<'a> {
    /// The keys screened, in `--vary` order.
    pub(super) keys: Vec<String>,
    /// Each point's values as `--set` takes them.
    pub(super) values: Vec<Vec<String>>,
    pub(super) models: &'a [Model],
    pub(super) seed: u64,
    /// The points of trajectories `0..=t` are the first `ends[t]` (the design places them in
    /// the order it visits them).
    pub(super) ends: Vec<usize>,
}

impl Points<'_> {
    /// The first line of the journal: the surge version and the fingerprint of the model, the
    /// keys' values at every point, the replications and the seed.
    fn marker(&self, base: &Model, reps: u32) -> String {
        let columns: Vec<Vary> = (self.keys.iter().enumerate())
            .map(|(i, k)| Vary {
                key: k.clone(),
                values: self.values.iter().map(|v| v[i].clone()).collect(),
            })
            .collect();
        format!(
            "surge sensitivity journal: surge_version={} model_hash={}",
            env!("CARGO_PKG_VERSION"),
            sweep::fingerprint(base, &columns, reps, self.seed, Seeds::Common)
        )
    }
}

/// The points of trajectories `0..=t`: `ends[t]`, from the design's steps.
pub(super) fn trajectory_ends(steps: &[Step], trajectories: u32) -> Vec<usize> {
    let mut end = 0;
    (0..trajectories)
        .map(|t| {
            for s in steps.iter().filter(|s| s.trajectory == t) {
                end = end.max(s.from + 1).max(s.to + 1);
            }
            end
        })
        .collect()
}

/// What the runs gave: the rows of every run done (this try's and the journal's), their
/// header, and whether the budget stopped them.
pub(super) struct Ran {
    pub(super) header: Header,
    pub(super) done: Done,
    pub(super) budget_reached: bool,
    pub(super) journal: PathBuf,
}

/// Run the points' replications not done before (see the module's comment).
pub(super) fn run(
    s: &SensitivitySettings,
    pts: &Points,
    base: &Model,
    dir: &Path,
    started: Instant,
) -> Result<Ran> {
    let path = dir.join(JOURNAL);
    let marker = pts.marker(base, s.reps);
    let n = pts.values.len();
    let tasks: Vec<(usize, u32)> = (0..n)
        .flat_map(|p| (0..s.reps).map(move |r| (p, r)))
        .collect();
    let (kept, mut done) = earlier(s, pts, &marker, &tasks, &path)?;
    let todo = tasks.len() - done.len();
    if s.search.resume && !s.search.quiet {
        s.search.runs.notes.note(&format!(
            "resuming: {} of {} runs already done, running the other {todo}",
            done.len(),
            tasks.len()
        ));
    }
    let journal = crate::app::progress::journal(&path, &marker, &kept)?;
    let bar = crate::app::progress::bar(
        todo as u64,
        s.search.quiet,
        "sensitivity [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
    );
    let jobs = crate::experiment::shard::jobs(
        s.search.runs.jobs,
        &crate::experiment::shard::process_env,
        &|n| s.search.runs.notes.note(n),
    )
    .0;
    let deadline = s.search.deadline(started);
    // With a budget, one trajectory at a time; without, every point at once.
    let batches: Vec<(usize, usize)> = match deadline {
        Some(_) => (pts.ends.iter().enumerate())
            .map(|(t, &end)| (if t == 0 { 0 } else { pts.ends[t - 1] }, end))
            .collect(),
        None => vec![(0, n)],
    };
    let mut header = match kept.header.as_deref() {
        Some(h) => Some(parse_header(h, pts, &path)?),
        None => None,
    };
    let mut budget_reached = false;
    for (t, &(from, to)) in batches.iter().enumerate() {
        let todo: Vec<(usize, u32)> = (tasks.iter().copied())
            .filter(|&(p, r)| (from..to).contains(&p) && !done.contains_key(&(p, r)))
            .collect();
        if todo.is_empty() {
            continue;
        }
        if t > 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            budget_reached = true;
            break;
        }
        let keys: Vec<&str> = pts.keys.iter().map(String::as_str).collect();
        let rows = sweep::run_tasks(
            pts.models,
            pts.seed,
            Seeds::Common,
            &todo,
            jobs,
            &Limits::default(),
            crate::app::interrupt::stop_flag(),
            &|row| {
                let (h, rec) = record(&keys, &pts.values, row);
                (journal.lock().unwrap_or_else(|e| e.into_inner()))
                    .append(&h.fields(), &rec.fields())?;
                bar.inc(1);
                Ok(())
            },
        )?;
        for row in &rows {
            let (h, rec) = record(&keys, &pts.values, row);
            header.get_or_insert(h);
            done.insert((rec.point, rec.rep), rec);
        }
        if rows.len() < todo.len() {
            bar.finish_and_clear();
            bail!(Interrupted(interrupted_words(
                s,
                done.len(),
                tasks.len(),
                &path
            )));
        }
    }
    bar.finish_and_clear();
    let header = header.context("a screening with no runs")?;
    Ok(Ran {
        header,
        done,
        budget_reached,
        journal: path,
    })
}

/// The header of the journal, checked: `point`, the keys screened, `rep`, `seed`, metrics.
fn parse_header(fields: &[String], pts: &Points, path: &Path) -> Result<Header> {
    Header::parse(fields, pts.keys.len())
        .filter(|h| h.keys == pts.keys)
        .with_context(|| {
            format!(
                "the journal {} has a header that is not this screening's",
                path.display()
            )
        })
}

/// The journal to start with and the runs done: with `--resume`, those of the journal left by
/// an earlier try (checked), else none (saying so when a journal is replaced).
fn earlier(
    s: &SensitivitySettings,
    pts: &Points,
    marker: &str,
    tasks: &[(usize, u32)],
    path: &Path,
) -> Result<(Contents, Done)> {
    let mut kept = Contents {
        marker: marker.to_string(),
        header: None,
        rows: Vec::new(),
    };
    let old = journal::read(path, "sensitivity")?;
    match old {
        Some(c) if s.search.resume => {
            let expected = Expected {
                marker: marker.to_string(),
                what: "sensitivity screening".into(),
                same: "the same model, --set, --vary, --trajectories, --levels, --reps, --seed \
                       and surge version",
                keys: pts.keys.len(),
                seeds: Seeds::Common,
                seed: pts.seed,
                points: &pts.values,
                tasks,
            };
            let done = resumable(&c, &expected, path)?;
            kept.header = c.header;
            kept.rows = done.values().map(Record::fields).collect();
            Ok((kept, done))
        }
        None if s.search.resume && !s.search.quiet => {
            s.search.runs.notes.note(&format!(
                "no journal {} to resume from: running every run",
                path.display()
            ));
            Ok((kept, Done::new()))
        }
        Some(c) if !s.search.quiet => {
            s.search.runs.notes.note(&format!(
                "starting over: the journal {} of an earlier try ({} runs) is replaced; {}",
                path.display(),
                c.rows.len(),
                if s.journal_resumes {
                    "pass --resume to keep its runs"
                } else {
                    "the report's screening always starts over"
                }
            ));
            Ok((kept, Done::new()))
        }
        _ => Ok((kept, Done::new())),
    }
}

/// What an interrupted screening says of the `done` of `all` runs its journal `path` keeps:
/// how to go on where `--resume` takes them back, and that the next try starts over where it
/// does not (`surge report`).
pub(super) fn interrupted_words(
    s: &SensitivitySettings,
    done: usize,
    all: usize,
    path: &Path,
) -> String {
    if s.journal_resumes {
        format!(
            "interrupted with {done} of {all} runs done; they are kept in {}: run the same \
             command with --resume to do only the other {}",
            path.display(),
            all - done
        )
    } else {
        format!(
            "interrupted in the sensitivity screening with {done} of {all} runs done; the \
             report's --resume does not take them back: its screening starts over (the \
             trajectories that fit depend on the budget left), while the run, the crash-point \
             search and the comparison resume from their journals"
        )
    }
}

/// Trajectories whose runs are all done, from the first.
pub(super) fn trajectories_done(ends: &[usize], reps: u32, done: &Done) -> u32 {
    ends.iter()
        .take_while(|&&end| (0..end).all(|p| (0..reps).all(|r| done.contains_key(&(p, r)))))
        .count() as u32
}

/// The mean of each metric at each of the first `n` points, from the rows' cells as journaled
/// (replications in order; an empty cell has no value).
pub(super) fn point_means(
    values: &[Vec<f64>],
    n: usize,
    reps: u32,
    header: &Header,
    outcomes: &[Outcome],
    done: &Done,
) -> Vec<PointMeans> {
    let columns: Vec<Option<usize>> = (outcomes.iter())
        .map(|o| header.metrics.iter().position(|m| *m == o.key))
        .collect();
    (0..n)
        .map(|p| PointMeans {
            values: values[p].clone(),
            means: (columns.iter())
                .map(|c| {
                    screening::mean_of((0..reps).map(|r| {
                        let cell = done.get(&(p, r))?.cells.get((*c)?)?;
                        cell.parse::<f64>().ok()
                    }))
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_screening_whose_journal_resumes_offers_resume() {
        let mut s = SensitivitySettings {
            search: crate::app::SearchSettings {
                source: crate::app::ModelSource::default(),
                budget: None,
                resume: false,
                runs: crate::app::ManyRuns::default(),
                quiet: true,
            },
            vary: Vec::new(),
            trajectories: 2,
            levels: 4,
            reps: 2,
            journal_resumes: true,
        };
        let path = Path::new("out/sensitivity/runs.csv");
        let own = interrupted_words(&s, 7, 24, path);
        assert_eq!(
            own,
            "interrupted with 7 of 24 runs done; they are kept in out/sensitivity/runs.csv: run \
             the same command with --resume to do only the other 17"
        );
        // In `surge report` the screening starts over whatever its --resume: no such hint.
        s.journal_resumes = false;
        let report = interrupted_words(&s, 7, 24, path);
        assert!(report.contains("7 of 24 runs done"), "{report}");
        assert!(report.contains("does not take them back: its screening starts over"));
        assert!(!report.contains("--resume to do only"), "{report}");
    }
}
