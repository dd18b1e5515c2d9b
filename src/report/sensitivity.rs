//! The report of a sensitivity screening (`surge sensitivity`, and its section in `surge
//! report`): the answer (the key that moves the outcome most, and the keys that move nothing),
//! the ranked table with each metric's mu*, direction and sigma in the metric's unit, the
//! tornado chart, and what the method can and cannot see. The words of each cell
//! ([`effect_words`], [`metric_heading`]) are also what the terminal prints.
//!
//! Not here: the screening (`experiment::sensitivity`), the files (`output::sensitivity`).

use std::path::Path;

use super::{Block, Chart, Report, Section, Table};
use crate::experiment::sensitivity::{Effect, Outcome, SensitivityDoc};
use crate::store::provenance::Provenance;

/// A metric's heading: its label, the unit its effects are written in and its level.
pub(crate) fn metric_heading(o: &Outcome) -> String {
    format!("{} ({}; {} level)", o.label, o.unit_words(), o.level)
}

/// One cell: mu*, the direction (from mu) and sigma: "17 min, lowers it (σ 4 min)"; "0: none
/// measured in this design" for exactly 0 (not "no effect": another key may cap this one, and
/// few trajectories see few combinations: [`zero_words`]); "no value" when no step had a value
/// at both ends.
pub(crate) fn effect_words(e: &Effect, o: &Outcome) -> String {
    let Some(size) = e.mu_star else {
        return "no value".into();
    };
    if size == 0.0 {
        return "0: none measured in this design".into();
    }
    let mu = e.mu.unwrap_or(0.0);
    let way = if mu.abs() < size / 2.0 {
        "both ways"
    } else if mu > 0.0 {
        "raises it"
    } else {
        "lowers it"
    };
    let sigma = e
        .sigma
        .map_or(String::new(), |s| format!(" (σ {})", o.amount(s)));
    format!("{}, {way}{sigma}", o.amount(size))
}

/// Why an effect measured 0 is not "no effect": another key may cap this one over the ranges
/// screened, and the design saw few combinations of the other keys. `None` when no effect was 0.
pub(crate) fn zero_words(doc: &SensitivityDoc) -> Option<String> {
    let any = (doc.ranking.iter()).any(|k| k.metrics.iter().any(|e| e.mu_star == Some(0.0)));
    any.then(|| {
        format!(
            "an effect of 0 means none was measured in this design, not that the key has none: \
             another key may cap it over the ranges screened (a tier's threads behind a \
             connection pool or a smaller tier in front never fill), and {} see few \
             combinations of the other keys; screen it again with the capping key at a higher \
             value (--set) or with more --trajectories",
            doc.trajectories_words()
        )
    })
}

/// What the budget left out, when it was reached: how many trajectories of how many the
/// effects rest on, and how to go on.
pub(crate) fn budget_words(doc: &SensitivityDoc) -> Option<String> {
    doc.budget_reached.then(|| {
        let sigma = if doc.trajectories_done < 2 {
            "; with one effect per key there is no σ (spread) yet"
        } else {
            ""
        };
        format!(
            "budget reached: {} of {} trajectories finished, the effects below rest on those \
             ({} runs){sigma}; run the same command with --resume to go on with the other {}",
            doc.trajectories_done,
            doc.trajectories,
            doc.runs,
            doc.trajectories - doc.trajectories_done
        )
    })
}

/// The answer in sentences: the strongest key on each metric, and the keys with no effect.
fn answer(doc: &SensitivityDoc) -> Vec<String> {
    let mut out: Vec<String> = budget_words(doc).into_iter().collect();
    if let Some(top) = doc.ranking.first().filter(|k| k.score > 0.0) {
        let on: Vec<String> = (doc.outcomes.iter().zip(&top.metrics))
            .filter(|(o, e)| {
                let m = doc.outcomes.iter().position(|x| x == *o).unwrap_or(0);
                e.mu_star.is_some_and(|v| v > 0.0)
                    && doc
                        .ranking
                        .iter()
                        .all(|k| k.metrics[m].mu_star <= e.mu_star)
            })
            .map(|(o, e)| format!("{} ({})", o.label, effect_words(e, o)))
            .collect();
        out.push(format!(
            "{} moves the outcome most, over {}: the largest effect on {}.",
            top.factor.key,
            top.factor.range_words(),
            on.join(", ")
        ));
    }
    let idle: Vec<&str> = (doc.ranking.iter())
        .filter(|k| k.score == 0.0)
        .map(|k| k.factor.key.as_str())
        .collect();
    if !idle.is_empty() {
        out.push(format!(
            "No effect measured in this design on any metric screened, on the same random \
             numbers: {}. {}.",
            idle.join(", "),
            zero_words(doc).map_or(String::new(), |w| capitalised(&w))
        ));
    }
    out
}

/// `w` with its first letter upper case.
fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// The ranked table: rank, key, range, then one column per metric.
pub(crate) fn table(doc: &SensitivityDoc) -> Table {
    let mut header = vec!["rank".to_string(), "key (range screened)".to_string()];
    header.extend(doc.outcomes.iter().map(metric_heading));
    let rows = (doc.ranking.iter())
        .map(|k| {
            let mut row = vec![
                k.rank.to_string(),
                format!("{} ({})", k.factor.key, k.factor.range_words()),
            ];
            row.extend((k.metrics.iter().zip(&doc.outcomes)).map(|(e, o)| effect_words(e, o)));
            row
        })
        .collect();
    Table {
        caption: "Keys ranked by their largest effect (mu*, over the key's whole range)".into(),
        header,
        rows,
        note: Some(method_note(doc)),
    }
}

/// What the numbers are, how they were made and what the method cannot see.
pub(crate) fn method_note(doc: &SensitivityDoc) -> String {
    format!(
        "{}: {} on a {}-level grid, {} of each point on the same seeds \
         (common random numbers), {} runs. mu* is the mean size of the elementary effects (the \
         change of the metric when one key moves two levels, scaled to its whole range), the \
         direction is the sign of their mean, sigma their spread: a large sigma means the key's \
         effect depends on the other keys (interaction) or on where in its range it is (not \
         linear). It is a screening: it ranks keys, it does not predict the metric; a key \
         outside the ranges screened is held at the model's value. Rank: the largest of a \
         key's mu* as a share of the largest on that metric. {}.",
        doc.method,
        doc.trajectories_words(),
        doc.levels,
        doc.reps_words(),
        doc.runs,
        doc.reference
    )
}

/// The report of the screening in `dir`.
pub(crate) fn build(
    doc: &SensitivityDoc,
    dir: &Path,
    model_text: Option<&str>,
    provenance: Option<&Provenance>,
) -> Report {
    let mut sections = vec![Section {
        heading: "Ranking".into(),
        blocks: vec![Block::Table(table(doc))],
    }];
    let caption = "Tornado chart: each key's mu* per metric, pointing the way raising it moves it";
    sections.push(Section {
        heading: "Chart".into(),
        blocks: vec![match Chart::from_dir(dir, "tornado", caption) {
            Some(c) => Block::Chart(c),
            None => Block::Text("tornado.svg is missing from the folder.".into()),
        }],
    });
    sections.extend(super::model_and_provenance(
        model_text,
        provenance,
        Some(doc.seed),
    ));
    Report {
        title: format!("{}: surge sensitivity", doc.model),
        subtitle: format!(
            "which of {} keys move the outcome most (Morris screening)",
            doc.factors.len()
        ),
        answer: answer(doc),
        checks: Vec::new(),
        sections,
    }
}
