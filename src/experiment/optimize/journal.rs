//! The journal of `surge optimize` (`optimize.partial.csv`): one row per finished run
//! (configuration, its values, replication, seed, failed, and the SLO figures of a run that
//! held: time out of SLO, success rates at attempt and call level, whether it stopped early),
//! appended as each run ends; `--resume` reads an earlier try's rows back so they are not run
//! again, their SLO figures with them (a resumed search tells the optimum's as a whole one does).
//!
//! Not here: the journal file's format and atomic writes (`store::journal`).

use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::Path;

use super::RunSlo;
use crate::error::BadInput;
use crate::store::journal::{self, Journal};

/// Runs read back: (point, replication) -> failed.
pub(super) type Known = BTreeMap<(usize, u32), bool>;

/// The SLO figures of the runs that held: (point, replication) -> figures.
pub(super) type Figures = BTreeMap<(usize, u32), RunSlo>;

/// The columns of the journal (the last four empty for a run that failed).
pub(super) const HEADER: [&str; 9] = [
    "point",
    "values",
    "rep",
    "seed",
    "failed",
    "time_out_of_slo_s",
    "success_rate",
    "call_success_rate",
    "partial",
];

/// The journal row of a run: `p`'s `values`, replication, seed, whether it failed, and the SLO
/// figures of one that held (numbers written so that they read back exactly).
pub(super) fn row(
    p: usize,
    values: &[String],
    (rep, seed): (u32, u64),
    failed: bool,
    slo: Option<&RunSlo>,
) -> [String; 9] {
    let num = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:?}"));
    [
        p.to_string(),
        joined(values),
        rep.to_string(),
        seed.to_string(),
        u8::from(failed).to_string(),
        slo.map_or(String::new(), |f| format!("{:?}", f.time_out_of_slo_s)),
        num(slo.and_then(|f| f.success_rate)),
        num(slo.and_then(|f| f.call_success_rate)),
        slo.map_or(String::new(), |f| u8::from(f.partial).to_string()),
    ]
}

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
) -> Result<(Journal, Known, Figures)> {
    let mut kept = journal::Contents {
        marker: marker.to_string(),
        header: None,
        rows: Vec::new(),
    };
    let mut known = BTreeMap::new();
    let mut figures = Figures::new();
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
            let (p, rep, failed, slo) = parse(row, values_of, seed_of).map_err(|why| {
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
            figures.extend(slo.map(|f| ((p, rep), f)));
        }
        kept = c;
    }
    Ok((Journal::start(path, marker, &kept)?, known, figures))
}

/// A row read back: (point, replication, failed, SLO figures of a run that held), or why it
/// is not one.
fn parse(
    row: &[String],
    values_of: &dyn Fn(usize) -> Option<String>,
    seed_of: &dyn Fn(u32) -> u64,
) -> Result<(usize, u32, bool, Option<RunSlo>), String> {
    let [p, values, rep, seed, failed, out, ok, calls, partial] = row else {
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
    Ok((p, rep, failed, slo_of([out, ok, calls, partial])?))
}

/// The SLO figures of a row (none where its four fields are empty: a run that failed).
fn slo_of([out, ok, calls, partial]: [&String; 4]) -> Result<Option<RunSlo>, String> {
    if [out, ok, calls, partial].iter().all(|f| f.is_empty()) {
        return Ok(None);
    }
    let num = |f: &String| -> Result<Option<f64>, String> {
        (!f.is_empty())
            .then(|| f.parse().map_err(|_| format!("`{f}` is not a number")))
            .transpose()
    };
    Ok(Some(RunSlo {
        time_out_of_slo_s: num(out)?.ok_or("no time out of SLO")?,
        success_rate: num(ok)?,
        call_success_rate: num(calls)?,
        partial: match partial.as_str() {
            "0" => false,
            "1" => true,
            _ => return Err(format!("`{partial}` is not 0 or 1")),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's SLO figures read back from its journal row are the ones written, to the last
    /// bit, so a resumed search tells the optimum's figures as a whole one does (issue 29).
    #[test]
    fn a_runs_slo_figures_come_back_from_its_row() {
        let values = ["2".to_string(), "8".to_string()];
        let values_of = |p: usize| (p == 3).then(|| joined(&values));
        let seed_of = |rep: u32| 100 + u64::from(rep);
        let slo = RunSlo {
            time_out_of_slo_s: 1234.5678901234567,
            success_rate: Some(0.1 + 0.2),
            call_success_rate: None,
            partial: true,
        };
        let held = row(3, &values, (1, 101), false, Some(&slo));
        assert_eq!(held.len(), HEADER.len());
        assert_eq!(
            parse(&held, &values_of, &seed_of),
            Ok((3, 1, false, Some(slo)))
        );
        let failed = row(3, &values, (0, 100), true, None);
        assert_eq!(failed[5..], ["", "", "", ""]);
        assert_eq!(parse(&failed, &values_of, &seed_of), Ok((3, 0, true, None)));
        let mut bad = held.clone();
        bad[6] = "most".into();
        assert!(parse(&bad, &values_of, &seed_of).is_err());
        // A row of the old five columns is not one of this journal's.
        assert!(parse(&held[..5], &values_of, &seed_of).is_err());
    }
}
