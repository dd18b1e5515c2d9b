//! What an earlier, interrupted try of a sweep (or shard) left: the runs its journal holds,
//! checked against this sweep before any is kept (`--resume`), or the final files of this very
//! sweep, so that a resumed job array's finished tasks run nothing again.
//!
//! The check of a journal's rows ([`resumable`]) is shared with `surge sensitivity`, whose
//! journal holds rows of the same form.
//!
//! Not here: writing the journal (`app::progress::journal`, `store::journal`) or running the
//! runs that are missing (`super::sweep`).

use anyhow::{Result, bail};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Grid, Names, SweepSettings};
use crate::error::BadInput;
use crate::experiment::sweep::Seeds;
use crate::output::points::Record;
use crate::output::sweep::SweepId;
use crate::store::journal::{self, Contents};

/// The runs done before, by (point, replication).
pub(crate) type Done = BTreeMap<(usize, u32), Record>;

/// The journal to start with (the runs kept) and the runs done: with `--resume`, those of the
/// journal left by an earlier try, else none (saying so when a journal is replaced). `None`: the
/// sweep's final files are already there, nothing to do.
pub(super) fn earlier(
    s: &SweepSettings,
    id: &SweepId,
    grid: &Grid,
    tasks: &[(usize, u32)],
    names: &Names,
) -> Result<Option<(Contents, Done)>> {
    let mut kept = Contents {
        marker: id.marker(),
        header: None,
        rows: Vec::new(),
    };
    let mut done = Done::new();
    if s.resume {
        match journal::read(&names.journal, "sweep")? {
            Some(c) => {
                let shard = tasks.len() < grid.points.len() * s.reps as usize;
                let expected = Expected {
                    marker: id.marker(),
                    what: if shard { "sweep shard" } else { "sweep" }.into(),
                    same: "the same model, --set, --vary, --reps, --seed and surge version",
                    keys: id.vary.len(),
                    seeds: id.seeds,
                    seed: id.seed,
                    points: &grid.points,
                    tasks,
                };
                done = resumable(&c, &expected, &names.journal)?;
                kept.header = c.header;
                kept.rows = done.values().map(Record::fields).collect();
            }
            None if already_done(&names.done, id) => {
                if !s.quiet {
                    s.runs.notes.note(&format!(
                        "{} is already complete for this sweep (same model hash); nothing to resume",
                        names.done.display()
                    ));
                }
                return Ok(None);
            }
            None => {
                if !s.quiet {
                    s.runs.notes.note(&format!(
                        "no journal {} to resume from: running every run",
                        names.journal.display()
                    ));
                }
            }
        }
    }
    if !s.resume
        && !s.quiet
        && let Ok(Some(old)) = journal::read(&names.journal, "sweep")
    {
        s.runs.notes.note(&format!(
            "starting over: the journal {} of an earlier try ({} runs) is replaced; pass \
                 --resume to keep its runs",
            names.journal.display(),
            old.rows.len()
        ));
    }
    Ok(Some((kept, done)))
}

/// Whether the finished outputs in `path` (`sweep.json` or a shard's `.json`) are this sweep's.
fn already_done(path: &Path, id: &SweepId) -> bool {
    /// The two fields that name a sweep, in `sweep.json` or a shard's manifest.
    #[derive(Deserialize)]
    struct Named {
        surge_version: String,
        model_hash: String,
    }
    crate::store::json::read_json::<Named>(path)
        .is_ok_and(|doc| doc.surge_version == id.surge_version && doc.model_hash == id.model_hash)
}

/// What the rows of a journal must be for `--resume` to keep them: of this work (the journal's
/// first line is `marker`), runs asked for (`tasks`), each with its point's values and its
/// replication's seed, every metric a number or empty. A sweep's and a sensitivity
/// screening's journals are read so.
pub(crate) struct Expected<'a> {
    pub(crate) marker: String,
    /// What the work is, in errors: `sweep`, `sweep shard`, `sensitivity screening`.
    pub(crate) what: String,
    /// What must be the same to resume, in errors: "the same model, --set, ...".
    pub(crate) same: &'static str,
    /// The varied keys: the values of a point in a row.
    pub(crate) keys: usize,
    pub(crate) seeds: Seeds,
    pub(crate) seed: u64,
    pub(crate) points: &'a [Vec<String>],
    pub(crate) tasks: &'a [(usize, u32)],
}

/// The runs a journal holds, checked against what is `expected` (see [`Expected`]).
pub(crate) fn resumable(c: &Contents, expected: &Expected, path: &Path) -> Result<Done> {
    let e = expected;
    if c.marker != e.marker {
        let after = |m: &'_ str| m.split_once("journal: ").map_or(m, |(_, x)| x).to_string();
        bail!(BadInput(format!(
            "{} is the journal of another {} ({}) than this command's ({}): resume with {}, \
            or run without --resume to start over",
            path.display(),
            e.what,
            after(&c.marker),
            after(&e.marker),
            e.same
        )));
    }
    let wanted: BTreeSet<&(usize, u32)> = e.tasks.iter().collect();
    let mut done = Done::new();
    for fields in &c.rows {
        let rec = Record::parse(fields, e.keys)
            .filter(|r| {
                wanted.contains(&(r.point, r.rep))
                    && e.points.get(r.point) == Some(&r.values)
                    && r.seed
                        == e.seeds
                            .seed(e.seed, r.point as u64, u64::from(r.rep))
                            .to_string()
                    && r.cells
                        .iter()
                        .all(|x| x.is_empty() || x.parse::<f64>().is_ok_and(|v| !v.is_nan()))
            })
            .ok_or_else(|| {
                BadInput(format!(
                    "{}: the row `{}` is not a run of this {} (its point, values, seed or \
                     metrics); run without --resume to start over",
                    path.display(),
                    fields.join(","),
                    e.what
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
