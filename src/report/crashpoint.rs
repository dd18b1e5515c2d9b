//! The report of a crash-point search, from `crashpoint.json` and `crashpoint.svg`: the crash
//! point in a sentence ("between 10 and 11 web instances" for a bracket, the value with its 95%
//! interval for a logistic fit), the values tried (by value, and in the order tried) and the
//! chart.

use anyhow::Result;
use std::path::Path;

use super::{Block, Chart, Report, Section, Table};
use crate::experiment::crashpoint::{CrashPoint, Method, Try};
use crate::experiment::sweep::format_number;
use crate::store::json::{Documented, read_json};
use crate::store::provenance::Provenance;

/// A crash-point search's folder.
pub(crate) struct CrashFolder {
    pub cp: CrashPoint,
    /// `outage.crashed` or `slo.broken`.
    pub criterion: String,
    pub provenance: Option<Provenance>,
    pub chart: Option<Chart>,
}

impl CrashFolder {
    pub(crate) fn read(dir: &Path) -> Result<CrashFolder> {
        let read: Documented<CrashPoint> = read_json(&dir.join("crashpoint.json"))?;
        let cp = read.doc;
        Ok(CrashFolder {
            criterion: cp.criterion.metric().to_string(),
            cp,
            provenance: read.provenance,
            chart: Chart::from_dir(
                dir,
                "crashpoint",
                "Share of replications that failed at each value tried (marker size: replications), \
                 the fitted curve where there is one, and the crash point with its interval.",
            ),
        })
    }
}

/// "web instances" for `tier.web.instances`, the key itself otherwise.
pub(crate) fn parameter_words(key: &str) -> String {
    match key.split('.').collect::<Vec<_>>().as_slice() {
        ["tier", name, field] => format!("{name} {}", field.replace('_', " ")),
        _ => key.to_string(),
    }
}

/// The answer in one sentence.
pub(crate) fn sentence(cp: &CrashPoint, criterion: &str) -> String {
    let what = parameter_words(&cp.parameter);
    let fails = if criterion == "slo.broken" {
        "broke the SLO"
    } else {
        "had an outage"
    };
    match (cp.crash_point, cp.ci95, cp.method) {
        (Some(_), Some([a, b]), Method::Bracket) => {
            let (down, up) = if cp.direction == cp.words().larger_holds {
                (a, b)
            } else {
                (b, a)
            };
            let ((kd, nd), (ku, nu)) = (cp.at(down), cp.at(up));
            let told = if kd == nd && ku == 0 {
                format!(
                    "every replication at {} {fails}, none at {}",
                    format_number(down),
                    format_number(up)
                )
            } else {
                format!(
                    "{kd} of {nd} replications at {} {fails}, {ku} of {nu} at {}",
                    format_number(down),
                    format_number(up)
                )
            };
            format!(
                "{} between {} and {} {what}: {told} (a bracket, each end told from one half, \
                 {} runs).",
                capitalized(cp.words().point),
                format_number(a),
                format_number(b),
                cp.runs
            )
        }
        (Some(x), Some([a, b]), Method::LogisticFit) => format!(
            "Crash point at {} {what}: {} {} to {} (logistic fit over {} runs); the share of \
             replications that {fails} crosses one half there.",
            sig(x),
            cp.method.interval_name(cp.confidence),
            sig(a),
            sig(b),
            cp.runs
        ),
        (Some(_), Some(_), Method::KnifeEdge) => {
            let Some(k) = cp.knife_edge() else {
                return format!("No crash point found for {}.", cp.parameter);
            };
            let (share, half) = k.probability(cp.confidence);
            format!(
                "{} at {} {what}, a knife edge: {:.0}% ± {:.0}% of the replications there {fails} \
                 ({} of {}, {}% interval), those at {} were told to fail and those at {} to \
                 hold ({} runs): {} is the nearest whole value that holds.",
                capitalized(cp.words().point),
                format_number(k.value),
                share * 100.0,
                half * 100.0,
                k.failures,
                k.reps,
                (cp.confidence * 100.0).round(),
                format_number(k.fails),
                format_number(k.holds),
                cp.runs,
                format_number(k.holds),
            )
        }
        _ => format!("No crash point found for {}.", cp.parameter),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

fn sig(x: f64) -> String {
    format_number((x * 1000.0).round() / 1000.0)
}

fn tries_table(caption: &str, ts: &[Try], key: &str, numbered: bool) -> Table {
    Table {
        caption: caption.to_string(),
        header: {
            let mut h = Vec::new();
            if numbered {
                h.push("try".to_string());
            }
            h.extend([
                key.to_string(),
                "replications".into(),
                "failed".into(),
                "share failed".into(),
            ]);
            h
        },
        rows: ts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut r = Vec::new();
                if numbered {
                    r.push((i + 1).to_string());
                }
                r.extend([
                    format_number(t.value),
                    t.reps.to_string(),
                    t.outages.to_string(),
                    format!("{:.2}", t.probability),
                ]);
                r
            })
            .collect(),
        note: None,
    }
}

/// The report of the search in `f`.
pub(crate) fn build(f: &CrashFolder, model_text: Option<&str>) -> Report {
    let cp = &f.cp;
    let mut answer = vec![sentence(cp, &f.criterion)];
    if let (Some(p10), Some(p90)) = (cp.p10, cp.p90) {
        answer.push(format!(
            "On the fitted curve the failure share is 10% at {} = {} and 90% at {}.",
            cp.parameter,
            sig(p10),
            sig(p90)
        ));
    }
    answer.push(format!(
        "A run counts as failed when {}; {}.",
        if f.criterion == "slo.broken" {
            "any SLO window broke the SLO"
        } else {
            "the success rate fell below the outage line over an SLO window"
        },
        if cp.direction == "larger saves" {
            format!("more {} fail less", parameter_words(&cp.parameter))
        } else {
            format!("a larger {} fails more", parameter_words(&cp.parameter))
        }
    ));
    let mut sections = vec![
        Section {
            heading: "Chart".into(),
            blocks: vec![match &f.chart {
                Some(c) => Block::Chart(c.clone()),
                None => Block::Text("crashpoint.svg is missing from the folder.".into()),
            }],
        },
        Section {
            heading: "Values tried".into(),
            blocks: vec![
                Block::Table(tries_table(
                    "Every value tried, all its replications",
                    &cp.points,
                    &cp.parameter,
                    false,
                )),
                Block::Table(tries_table(
                    "Each batch of replications, in the order the search ran them",
                    &cp.tries,
                    &cp.parameter,
                    true,
                )),
            ],
        },
    ];
    sections.extend(super::model_and_provenance(
        model_text,
        f.provenance.as_ref(),
        None,
    ));
    Report {
        title: format!("Crash point in {}", cp.parameter),
        subtitle: format!(
            "surge crashpoint · {} · {} runs · failure = {}",
            match cp.method {
                Method::LogisticFit => "logistic fit",
                Method::Bracket => "bracket",
                Method::KnifeEdge => "knife edge",
            },
            cp.runs,
            f.criterion
        ),
        answer,
        checks: Vec::new(),
        sections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bracket_reads_as_between_two_counts() {
        let cp = CrashPoint {
            parameter: "tier.web.instances".into(),
            direction: "larger saves".into(),
            crash_point: Some(10.5),
            ci95: Some([10.0, 11.0]),
            p10: None,
            p90: None,
            method: Method::Bracket,
            confidence: 0.95,
            logistic: None,
            runs: 40,
            points: vec![],
            tries: vec![],
            seed: 1,
            seeds: "common".into(),
            max_runs_reached: false,
            budget_reached: false,
            runs_simulated: 40,
            runs_from_journal: 0,
            runs_unused: 0,
            criterion: Default::default(),
        };
        let s = sentence(&cp, "outage.crashed");
        assert!(
            s.starts_with("Crash point between 10 and 11 web instances: every replication at 10 had an outage, none at 11"),
            "{s}"
        );
    }
}
