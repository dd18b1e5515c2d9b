//! What an earlier, interrupted try of a sweep (or shard) left: the runs its journal holds,
//! checked against this sweep before any is kept (`--resume`), or the final files of this very
//! sweep, so that a resumed job array's finished tasks run nothing again.
//!
//! Not here: writing the journal (`app::progress::journal`, `store::journal`) or running the
//! runs that are missing (`super::sweep`).

use anyhow::{Result, bail};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Grid, Names, SweepSettings};
use crate::error::BadInput;
use crate::output::points::Record;
use crate::output::sweep::SweepId;
use crate::store::journal::{self, Contents};

/// The runs done before, by (point, replication).
pub(super) type Done = BTreeMap<(usize, u32), Record>;

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
                done = resumable(&c, id, &grid.points, tasks, &names.journal)?;
                kept.header = c.header;
                kept.rows = done.values().map(Record::fields).collect();
            }
            None if already_done(&names.done, id) => {
                if !s.quiet {
                    eprintln!(
                        "{} is already complete for this sweep (same model hash); nothing to resume",
                        names.done.display()
                    );
                }
                return Ok(None);
            }
            None => {
                if !s.quiet {
                    eprintln!(
                        "no journal {} to resume from: running every run",
                        names.journal.display()
                    );
                }
            }
        }
    }
    if !s.resume && !s.quiet {
        if let Ok(Some(old)) = journal::read(&names.journal, "sweep") {
            eprintln!(
                "starting over: the journal {} of an earlier try ({} runs) is replaced; pass \
                 --resume to keep its runs",
                names.journal.display(),
                old.rows.len()
            );
        }
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

/// The runs a journal holds, checked against this sweep: same sweep, and only runs of this
/// sweep (or shard) with the values of their point.
fn resumable(
    c: &Contents,
    id: &SweepId,
    points: &[Vec<String>],
    tasks: &[(usize, u32)],
    path: &Path,
) -> Result<Done> {
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
    let wanted: BTreeSet<&(usize, u32)> = tasks.iter().collect();
    let keys = id.vary.len();
    let mut done = Done::new();
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
