//! The journal of `surge optimize` (`optimize.partial.csv`): one row per finished run
//! (configuration, its values, replication, seed, failed), appended as each run ends; `--resume`
//! reads an earlier try's rows back so they are not run again.
//!
//! Not here: the journal file's format and atomic writes (`store::journal`).

use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::Path;

use crate::error::BadInput;
use crate::store::journal::{self, Journal};

/// Runs read back: (point, replication) -> failed.
pub(super) type Known = BTreeMap<(usize, u32), bool>;

/// The columns of the journal.
pub(super) const HEADER: [&str; 5] = ["point", "values", "rep", "seed", "failed"];

/// The values of a configuration as one journal field.
pub(super) fn joined(values: &[String]) -> String {
    values.join(";")
}

/// Open the journal at `path`: with `resume`, the runs of an earlier try of this search (its
/// first line must be `marker`; each row's values and seed must be those its point and
/// replication have here: `values_of`, `seed_of`); without, start afresh.
pub(super) fn open(
    path: &Path,
    marker: &str,
    resume: bool,
    values_of: &dyn Fn(usize) -> Option<String>,
    seed_of: &dyn Fn(u32) -> u64,
) -> Result<(Journal, Known)> {
    let mut kept = journal::Contents {
        marker: marker.to_string(),
        header: None,
        rows: Vec::new(),
    };
    let mut known = BTreeMap::new();
    if resume && let Some(c) = journal::read(path, "optimize")? {
        if c.marker != marker {
            bail!(BadInput(format!(
                "{} is the journal of another optimization ({}) than this command's: resume \
                 with the same model, --set, --surge, --vary, --keep and --seed, or run without \
                 --resume to start over",
                path.display(),
                c.marker
            )));
        }
        for row in &c.rows {
            let (p, rep, failed) = parse(row, values_of, seed_of).map_err(|why| {
                BadInput(format!(
                    "{}: the row `{}` is not a run of this optimization ({why}); run without \
                     --resume to start over",
                    path.display(),
                    row.join(",")
                ))
            })?;
            if known.insert((p, rep), failed).is_some_and(|b| b != failed) {
                bail!(BadInput(format!(
                    "{}: two rows for configuration {p} replication {rep} disagree; run without \
                     --resume to start over",
                    path.display()
                )));
            }
        }
        kept = c;
    }
    Ok((Journal::start(path, marker, &kept)?, known))
}

/// A row read back: (point, replication, failed), or why it is not one.
fn parse(
    row: &[String],
    values_of: &dyn Fn(usize) -> Option<String>,
    seed_of: &dyn Fn(u32) -> u64,
) -> Result<(usize, u32, bool), String> {
    let [p, values, rep, seed, failed] = row else {
        return Err(format!("{} fields, not {}", row.len(), HEADER.join(",")));
    };
    let p: usize = p.parse().map_err(|_| format!("`{p}` is not a point"))?;
    if values_of(p).as_deref() != Some(values.as_str()) {
        return Err(format!(
            "point {p} does not have the values `{values}` here"
        ));
    }
    let rep: u32 = rep
        .parse()
        .map_err(|_| format!("`{rep}` is not a replication"))?;
    if seed.parse::<u64>().ok() != Some(seed_of(rep)) {
        return Err(format!(
            "replication {rep} has the seed {}, not `{seed}`",
            seed_of(rep)
        ));
    }
    let failed = match failed.as_str() {
        "0" => false,
        "1" => true,
        _ => return Err(format!("`{failed}` is not 0 or 1")),
    };
    Ok((p, rep, failed))
}
