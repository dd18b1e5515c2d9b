//! The report of the whole `surge report`: the answers first (the run's, the variants', the
//! crash point's), then what was done within the budget, the run, the comparison and the
//! search (each section from its own folder's report), and the model and provenance once.
//!
//! Not here: the sections themselves (`report::run`, `report::crashpoint`, `report::compare`),
//! nor running the steps (`app::report`).

use super::Step;
use crate::fmt::human_duration;
use crate::model::Model;
use crate::report::{self, Block, Report, Section, Table};
use crate::store::provenance::Provenance;

/// The report of the whole: the answers first, then what was done, the run, the comparison, the
/// search, and the model and provenance once.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compose(
    model: &Model,
    model_text: &str,
    provenance: Option<Provenance>,
    seed: Option<u64>,
    budget_s: f64,
    took_s: f64,
    run: Report,
    crash: Option<Report>,
    compare: Option<Report>,
    sensitivity: Option<Report>,
    steps: &[Step],
) -> Report {
    let mut answer = run.answer.clone();
    match &compare {
        Some(c) => answer.extend(c.answer.iter().cloned()),
        None => {
            if let Some(s) = steps.iter().find(|s| s.name.contains("variants")) {
                answer.push(format!("Variants: {}.", s.result));
            }
        }
    }
    match &crash {
        Some(c) => answer.extend(c.answer.iter().take(1).cloned()),
        None => {
            if let Some(s) = steps.iter().find(|s| s.name.starts_with("crash point")) {
                answer.push(format!("Crash point: {}.", s.result));
            }
        }
    }
    match &sensitivity {
        Some(c) => answer.extend(c.answer.iter().take(1).cloned()),
        None => {
            if let Some(s) = steps.iter().find(|s| s.name.starts_with("sensitivity")) {
                answer.push(format!("Sensitivity: {}.", s.result));
            }
        }
    }
    let keep = |r: Report, sub: &str, label: &str| -> Vec<Section> {
        r.nested(sub)
            .sections
            .into_iter()
            .filter(|s| s.heading != "Model as run" && s.heading != "Provenance")
            .map(|mut s| {
                s.heading = format!("{label}: {}", s.heading);
                s
            })
            .collect()
    };
    let mut sections = vec![Section {
        heading: format!(
            "What was done (budget {}, took {})",
            human_duration(budget_s),
            human_duration(took_s)
        ),
        blocks: vec![Block::Table(Table {
            caption: String::new(),
            header: vec!["step".into(), "result".into(), "wall-clock time".into()],
            rows: steps
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        s.result.clone(),
                        s.wall_s.map_or("-".into(), human_duration),
                    ]
                })
                .collect(),
            note: None,
        })],
    }];
    let checks = run.checks.clone();
    sections.extend(keep(run, "run", "Run"));
    if let Some(c) = compare {
        sections.extend(keep(c, "compare", "Variants"));
    }
    if let Some(c) = crash {
        sections.extend(keep(c, "crashpoint", "Crash point"));
    }
    if let Some(c) = sensitivity {
        sections.extend(keep(c, "sensitivity", "Sensitivity"));
    }
    sections.extend(report::model_and_provenance(
        Some(model_text),
        provenance.as_ref(),
        seed,
    ));
    Report {
        title: format!("{}: capacity report", model.scenario.name),
        subtitle: format!(
            "surge report · a run, its crash point and its variants, within a {} budget",
            human_duration(budget_s)
        ),
        answer,
        checks,
        sections,
    }
}
