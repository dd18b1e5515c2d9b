//! The files of `surge sensitivity`: `sensitivity.json` (the typed result with the provenance
//! beside it), `sensitivity.csv` (the ranked table: one row per key, each metric's mu*, mu and
//! sigma) and the tornado chart (`tornado.png`, `tornado.svg`). Each file is written
//! atomically.
//!
//! Not here: the screening (`experiment::sensitivity`), the runs (`app::sensitivity`), the
//! chart's drawing (`chart::tornado`).

use anyhow::Result;
use std::path::Path;

use crate::experiment::sensitivity::SensitivityDoc;
use crate::fmt::format_number;
use crate::store::provenance::Provenance;

/// The header of `sensitivity.csv`: rank, key, range, score, then mu*, mu and sigma of each
/// metric (`<metric>.mu_star` ...), then the effects and runs behind each key.
pub(crate) fn csv_header(doc: &SensitivityDoc) -> Vec<String> {
    let mut h: Vec<String> = ["rank", "key", "lo", "hi", "score"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for o in &doc.outcomes {
        for part in ["mu_star", "mu", "sigma"] {
            h.push(format!("{}.{part}", o.key));
        }
    }
    h.extend(["effects".to_string(), "runs".to_string()]);
    h
}

/// `sensitivity.csv`: the ranked table (numbers with at most 9 decimals; an empty cell where a
/// metric had no value at the ends of a step).
pub(crate) fn csv(doc: &SensitivityDoc) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(csv_header(doc))?;
    let num = |x: Option<f64>| x.map_or(String::new(), |v| format_number(round9(v)));
    for k in &doc.ranking {
        let mut row = vec![
            k.rank.to_string(),
            super::csv_text(&k.factor.key).into_owned(),
            format_number(k.factor.lo),
            format_number(k.factor.hi),
            format_number(round9(k.score)),
        ];
        for e in &k.metrics {
            row.extend([num(e.mu_star), num(e.mu), num(e.sigma)]);
        }
        let effects = k.metrics.iter().map(|e| e.effects).max().unwrap_or(0);
        row.extend([effects.to_string(), k.runs.to_string()]);
        w.write_record(row)?;
    }
    Ok(w.into_inner()?)
}

fn round9(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// Write `sensitivity.json`, `sensitivity.csv` and the tornado chart into `dir`.
pub(crate) fn write(
    dir: &Path,
    doc: &SensitivityDoc,
    provenance: Option<Provenance>,
) -> Result<()> {
    let documented = crate::store::json::Documented { doc, provenance };
    crate::store::atomic::write_json(&dir.join("sensitivity.json"), &documented)?;
    crate::store::atomic::write_atomic(&dir.join("sensitivity.csv"), &csv(doc)?)?;
    draw(dir, doc)
}

/// The tornado chart of `doc` in `dir`.
pub(crate) fn draw(dir: &Path, doc: &SensitivityDoc) -> Result<()> {
    super::chart::draw_tornado(doc, &dir.join("tornado.png"), &dir.join("tornado.svg"))
}
