//! The crash-point search's journal: its first line (which search it belongs to), its columns,
//! and reading an earlier try's runs back so a search started again does not run them again.
//!
//! Not here: the journal file's format and atomic writes (`crate::output::journal`).

use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::Path;

use super::super::crashpoint::Search;
use super::plan::RunId;
use crate::model::Model;
use crate::model::error::BadInput;
use crate::output::journal::{self, Journal};

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

/// Open the journal at `path`: with `resume`, keep the runs of an earlier try of this search
/// (refusing another search's journal); without, start afresh.
pub(super) fn open_journal(
    path: &Path,
    marker: &str,
    resume: bool,
) -> Result<(Journal, BTreeMap<RunId, bool>)> {
    let mut kept = journal::Contents {
        marker: marker.to_string(),
        header: None,
        rows: Vec::new(),
    };
    let mut known = BTreeMap::new();
    if resume && let Some(c) = journal::read(path)? {
        if c.marker != marker {
            bail!(BadInput(format!(
                "{} is the journal of another crash-point search ({}) than this command's: \
                 resume with the same model, --set, --vary key, --seed and --seeds, or run \
                 without --resume to start over",
                path.display(),
                c.marker
            )));
        }
        for row in &c.rows {
            let parsed = match row.as_slice() {
                [v, r, _, y] => {
                    v.parse::<f64>()
                        .ok()
                        .zip(r.parse::<u32>().ok())
                        .zip(match y.as_str() {
                            "0" => Some(false),
                            "1" => Some(true),
                            _ => None,
                        })
                }
                _ => None,
            };
            let ((v, r), y) = parsed.ok_or_else(|| {
                BadInput(format!(
                    "{}: the row `{}` is not a run (value,rep,seed,outage); run without \
                     --resume to start over",
                    path.display(),
                    row.join(",")
                ))
            })?;
            known.insert(RunId::new(v, r), y);
            kept.rows.push(row.clone());
        }
        kept.header = c.header;
    }
    Ok((Journal::start(path, marker, &kept)?, known))
}
