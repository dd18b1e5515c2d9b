//! The crash-point search's journal: its first line (which search it belongs to), its columns,
//! and reading an earlier try's runs back so a search started again does not run them again.
//!
//! Not here: the journal file's format and atomic writes (`store::journal`).

use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::Path;

use super::super::crashpoint::Search;
use super::plan::RunId;
use crate::model::Model;
use crate::model::error::BadInput;
use crate::store::journal::{self, Journal};

/// The columns of a crash-point journal.
pub(super) const JOURNAL_HEADER: [&str; 4] = ["value", "rep", "seed", "outage"];

/// The first line of a search's journal: the runs it holds are those of this model (after
/// `--set`), parameter, seed and seed mode, whatever the range, tolerance or replications.
pub(super) fn journal_marker(s: &Search, base: &Model, seed: u64) -> String {
    let vary = super::super::sweep::Vary {
        key: s.key.to_string(),
        values: Vec::new(),
    };
    format!(
        "surge crashpoint journal: surge_version={} model_hash={}",
        env!("CARGO_PKG_VERSION"),
        super::super::sweep::fingerprint(base, &[vary], 0, seed, s.seeds)
    )
}

/// What the journal's rows must be to count as runs of this search.
pub(super) struct RowCheck<'a> {
    /// The seed replication `rep` at a value must have (`RunId`'s bits and rep).
    pub seed_of: &'a dyn Fn(RunId) -> u64,
    /// Whether this search can ask for the run: its value in the range (whole for counts), its
    /// replication below `--max-runs`. A journal of an earlier search over another range may
    /// hold others: kept in the journal, not read back.
    pub usable: &'a dyn Fn(RunId) -> bool,
}

/// Open the journal at `path`: with `resume`, keep the runs of an earlier try of this search
/// (refusing another search's journal, a row whose value is not a finite number, whose seed is
/// not the one its replication has, or that contradicts another row of the same run); without,
/// start afresh.
pub(super) fn open_journal(
    path: &Path,
    marker: &str,
    resume: bool,
    check: &RowCheck,
) -> Result<(Journal, BTreeMap<RunId, bool>)> {
    let mut kept = journal::Contents {
        marker: marker.to_string(),
        header: None,
        rows: Vec::new(),
    };
    let mut known = BTreeMap::new();
    if resume && let Some(c) = journal::read(path, "crash-point")? {
        if c.marker != marker {
            bail!(BadInput(format!(
                "{} is the journal of another crash-point search ({}) than this command's: \
                 resume with the same model, --set, --vary key, --seed and --seeds, or run \
                 without --resume to start over",
                path.display(),
                c.marker
            )));
        }
        let mut seen: BTreeMap<RunId, bool> = BTreeMap::new();
        for row in &c.rows {
            let (id, outage) = parse_row(row, check).map_err(|why| {
                BadInput(format!(
                    "{}: the crash-point journal's row `{}` is not a run of this search ({why}); \
                     run without --resume to start over",
                    path.display(),
                    row.join(",")
                ))
            })?;
            if seen
                .insert(id, outage)
                .is_some_and(|before| before != outage)
            {
                bail!(BadInput(format!(
                    "{}: the crash-point journal has two rows for the run at {} replication {} \
                     with different outcomes; run without --resume to start over",
                    path.display(),
                    row[0],
                    id.rep
                )));
            }
            if (check.usable)(id) {
                known.insert(id, outage);
            }
            kept.rows.push(row.clone());
        }
        kept.header = c.header;
    }
    Ok((Journal::start(path, marker, &kept)?, known))
}

/// A row (value, rep, seed, outage) read back, or why it is not one.
fn parse_row(row: &[String], check: &RowCheck) -> Result<(RunId, bool), String> {
    let [v, r, seed, y] = row else {
        return Err(format!("{} fields, not value,rep,seed,outage", row.len()));
    };
    let value = v
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("the value `{v}` is not a finite number"))?;
    let rep = r
        .parse::<u32>()
        .map_err(|_| format!("the replication `{r}` is not a whole number"))?;
    let outage = match y.as_str() {
        "0" => false,
        "1" => true,
        _ => return Err(format!("the outage `{y}` is not 0 or 1")),
    };
    let id = RunId::new(value, rep);
    let want = (check.seed_of)(id);
    if seed.parse::<u64>().ok() != Some(want) {
        return Err(format!(
            "replication {rep} at {v} has the seed {want}, not `{seed}`"
        ));
    }
    Ok((id, outage))
}
