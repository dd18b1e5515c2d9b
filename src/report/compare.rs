//! The report of `surge compare`, from `compare.json` and `compare.svg`: the variants ranked by
//! mean downtime with how many replications went down, the key metrics of each with their 95%
//! intervals and the paired difference from the baseline, and the chart. Also the documents the
//! `--assert` checks of a comparison read: per variant, its metric means under the keys of
//! `summary.json` (`slo.success_rate`, `outage.crashed`, `tiers.web.utilization`, ...).

use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::path::Path;

use super::assert::{self, Assertion, Outcome};
use super::mean::{self, Mean};
use super::{Block, Chart, Report, Section, Table};
use crate::error::BadInput;
use crate::fmt::{human_count, human_duration};
use crate::metrics::table;

/// Whether this build can compare variants (`surge compare`).
pub const AVAILABLE: bool = true;

/// A comparison's folder.
pub struct CompareFolder {
    pub doc: Value,
    pub chart: Option<Chart>,
}

impl CompareFolder {
    pub fn read(dir: &Path) -> Result<CompareFolder> {
        let path = dir.join("compare.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(CompareFolder {
            doc: serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?,
            chart: Chart::from_dir(
                dir,
                "compare",
                "The variants on the same seeds: window success rate over time, each replication's \
                 outages, and the key metrics (bars at the mean, whiskers the 95% interval).",
            ),
        })
    }
}

/// Per variant, its name and its metric means as a document with the keys of `summary.json`.
pub fn variant_docs(doc: &Value) -> Vec<(String, Value)> {
    doc["variants"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let mut root = Map::new();
            for (key, est) in v["metrics"].as_object().into_iter().flatten() {
                let mean = est.get("mean").cloned().unwrap_or(Value::Null);
                let parts: Vec<&str> = key.split('.').collect();
                let mut node = &mut root;
                for p in &parts[..parts.len() - 1] {
                    node = node
                        .entry(p.to_string())
                        .or_insert_with(|| Value::Object(Map::new()))
                        .as_object_mut()
                        .expect("an object");
                }
                node.insert(parts[parts.len() - 1].to_string(), mean);
            }
            (
                v["name"].as_str().unwrap_or("?").to_string(),
                Value::Object(root),
            )
        })
        .collect()
}

/// ", 1,234 users lost, 5,678 calls lost" (means per replication), from a variant's key
/// metrics.
fn lost_words(v: &Value) -> String {
    let mean = |key: &str| {
        (v["key"].as_array().into_iter().flatten())
            .find(|k| k["key"] == key)
            .and_then(|k| k["estimate"]["mean"].as_f64())
    };
    let mut s = String::new();
    if let Some(x) = mean(table::USERS_LOST) {
        s.push_str(&format!(", {} users lost", human_count(x)));
    }
    if let Some(x) = mean(table::CALLS_LOST) {
        s.push_str(&format!(", {} calls lost", human_count(x)));
    }
    s
}

/// A `--assert` of `surge compare`: a check on one variant's metric means
/// (`variants.NAME.KEY OP VALUE`), or on every variant's (`KEY OP VALUE`, or
/// `variants.*.KEY OP VALUE`).
#[derive(Debug, Clone, PartialEq)]
pub struct VariantCheck {
    /// The variant checked; `None`: every variant.
    pub variant: Option<String>,
    pub check: Assertion,
}

/// Parse the checks of a comparison of the variants `names` (the baseline included), each key
/// checked against `template` (a variant's document: its metrics under the keys of
/// `summary.json`). A name may hold spaces or dots: the longest name that follows
/// `variants.` and is followed by a dot is taken.
pub fn prepare_checks(
    exprs: &[String],
    names: &[String],
    template: &Value,
) -> Result<Vec<VariantCheck>, BadInput> {
    exprs
        .iter()
        .map(|e| {
            let body = e.trim();
            let (variant, rest) = match body.strip_prefix("variants.") {
                None => (None, body.to_string()),
                Some(after) => {
                    if let Some(rest) = after.strip_prefix("*.") {
                        (None, rest.to_string())
                    } else {
                        let name = (names.iter())
                            .filter(|n| after.starts_with(&format!("{n}.")))
                            .max_by_key(|n| n.len())
                            .ok_or_else(|| {
                                BadInput(format!(
                                    "--assert {e:?}: no variant named there; the variants are \
                                     {} (variants.NAME.KEY checks one, variants.*.KEY or a \
                                     plain KEY every one)",
                                    names.join(", ")
                                ))
                            })?;
                        (Some(name.clone()), after[name.len() + 1..].to_string())
                    }
                }
            };
            let mut check = assert::parse(&rest)?;
            assert::check_keys(
                std::slice::from_ref(&check),
                template,
                "a variant's metrics",
            )?;
            check.expression = body.to_string();
            Ok(VariantCheck { variant, check })
        })
        .collect()
}

/// Evaluate the checks on the variants' documents (`variant_docs`): a check on one variant
/// gives one outcome, a check on every variant one per variant, each expression written
/// `[variant] KEY OP VALUE`.
pub fn evaluate_checks(checks: &[VariantCheck], docs: &[(String, Value)]) -> Vec<Outcome> {
    let mut out = Vec::new();
    for c in checks {
        for (name, doc) in docs {
            if c.variant.as_ref().is_some_and(|v| v != name) {
                continue;
            }
            let mut o = assert::evaluate(&c.check, doc);
            o.expression = format!("[{name}] {}", c.check.expression);
            out.push(o);
        }
    }
    out
}

/// A variant's document with every metric a comparison of `models` (the baseline and its
/// variants) reports, the columns of `compare.csv`, for checking `--assert` keys before
/// anything runs.
pub fn metrics_template<'m>(models: impl IntoIterator<Item = &'m crate::model::Model>) -> Value {
    let summaries: Vec<crate::metrics::Summary> = models
        .into_iter()
        .map(|model| {
            let mut s: crate::metrics::Summary =
                serde_json::from_value(assert::summary_template(model)).unwrap_or_default();
            if model.waiting_room.is_some() {
                s.waiting_room = Some(Default::default());
            }
            for (t, spec) in s.tiers.iter_mut().zip(&model.tiers) {
                t.cost = spec.cost_per_instance_hour;
            }
            s
        })
        .collect();
    let metrics: Map<String, Value> = table::Column::union(&summaries)
        .iter()
        .map(|c| (c.key(), serde_json::json!({"mean": 0.0})))
        .collect();
    let doc = serde_json::json!({"variants": [{"name": "-", "metrics": metrics}]});
    variant_docs(&doc).pop().map_or(Value::Null, |(_, d)| d)
}

fn format_value(x: f64, unit: &str) -> String {
    match unit {
        "s" => human_duration(x),
        "share" | "probability" => format!("{:.1}%", 100.0 * x),
        _ if x.abs() >= 1000.0 => human_count(x),
        _ => format!("{x:.2}"),
    }
}

/// A mean and its interval (`{mean, ci95}` or null) over `values` replications, `censored` of
/// them lower bounds.
fn estimate(e: &Value, values: &Value, censored: u32) -> Mean {
    let n = values.as_u64().map_or(0, |n| n as u32);
    let get = |k: &str| e[k].as_f64().unwrap_or(f64::NAN);
    Mean::of(get("mean"), get("ci95"), n).censored(censored)
}

/// The report of the comparison in `f`.
pub fn build(f: &CompareFolder) -> Report {
    let doc = &f.doc;
    let variants: Vec<&Value> = doc["variants"].as_array().into_iter().flatten().collect();
    let downtime = |v: &Value| {
        v["key"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| k["key"] == "outage.downtime_s")
            .and_then(|k| k["estimate"]["mean"].as_f64())
            .unwrap_or(f64::INFINITY)
    };
    // The order `compare` ranked them in (`compare.json`'s `ranking`); a comparison of an
    // earlier surge, without one, by mean downtime.
    let order: Vec<&str> = (doc["ranking"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let mut ranked = variants.clone();
    let ranked_by = if order.len() == variants.len() {
        let pos = |v: &Value| order.iter().position(|n| v["name"] == **n);
        ranked.sort_by_key(|v| pos(v));
        doc["ranked_by"].as_str().unwrap_or("rank").to_string()
    } else {
        ranked.sort_by(|a, b| downtime(a).total_cmp(&downtime(b)));
        "mean downtime".to_string()
    };
    let mut answer = vec![format!(
        "{} variants on the same {} seeds, ranked by {ranked_by}: {}.",
        variants.len(),
        doc["reps"],
        ranked
            .iter()
            .map(|v| format!(
                "{} (down in {} of {}{})",
                v["name"].as_str().unwrap_or("?"),
                v["outage"]["with_outage"],
                v["outage"]["runs"],
                lost_words(v)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    let held: Vec<&str> = variants
        .iter()
        .filter(|v| v["outage"]["with_outage"] == 0)
        .filter_map(|v| v["name"].as_str())
        .collect();
    answer.push(if held.is_empty() {
        "No variant kept the site up in every replication.".to_string()
    } else {
        format!("Up in every replication: {}.", held.join(", "))
    });
    let keys: Vec<&Value> = variants
        .first()
        .and_then(|v| v["key"].as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut header = vec!["variant".to_string(), "replications down".to_string()];
    header.extend(
        keys.iter()
            .map(|k| k["label"].as_str().unwrap_or("?").to_string()),
    );
    let rows = ranked
        .iter()
        .map(|v| {
            let mut row = vec![
                v["name"].as_str().unwrap_or("?").to_string(),
                format!("{} of {}", v["outage"]["with_outage"], v["outage"]["runs"]),
            ];
            for k in &keys {
                let stat = v["key"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|s| s["key"] == k["key"]);
                let unit = k["unit"].as_str().unwrap_or("");
                row.push(match stat {
                    None => "-".into(),
                    Some(s) => {
                        let f = |x: f64| format_value(x, unit);
                        let censored = s["censored"].as_u64().map_or(0, |n| n as u32);
                        let mut cell = if s["key"] == table::RECOVERY_TIME {
                            let runs = v["outage"]["runs"].as_u64().map_or(0, |n| n as u32);
                            let m = estimate(&s["estimate"], &s["values"], 0);
                            mean::recovery(m, censored, runs, &f)
                        } else {
                            let cut = if s["lower_bound"] == true {
                                censored
                            } else {
                                0
                            };
                            estimate(&s["estimate"], &s["values"], cut).text(&f)
                        };
                        let d = &s["difference"];
                        if d["estimate"].is_object() {
                            let m = estimate(&d["estimate"], &d["pairs"], 0);
                            cell = format!("{cell}; vs baseline {}", m.text(&f));
                        }
                        cell
                    }
                });
            }
            row
        })
        .collect();
    let mut sections = vec![Section {
        heading: "Variants".into(),
        blocks: vec![Block::Table(Table {
            caption: "Means over the replications ± the half-width of their 95% interval; the \
                      difference from the baseline is paired, replication by replication"
                .into(),
            header,
            rows,
            note: Some(
                "\"at least\": a lower bound, some replications were still down at the end; \
                 \"all n alike\": every replication gave the same value, so there is no interval. \
                 Recovery time covers the replications that recovered only."
                    .into(),
            ),
        })],
    }];
    if let Some(c) = &f.chart {
        sections.push(Section {
            heading: "Chart".into(),
            blocks: vec![Block::Chart(c.clone())],
        });
    }
    sections.push(Section {
        heading: "Provenance".into(),
        blocks: vec![Block::Facts(vec![
            (
                "surge version".into(),
                doc["surge_version"].as_str().unwrap_or("?").into(),
            ),
            ("base seed".into(), doc["seed"].to_string()),
            ("replications per variant".into(), doc["reps"].to_string()),
            (
                "variants".into(),
                variants
                    .iter()
                    .map(|v| {
                        format!(
                            "{} [{}]",
                            v["name"].as_str().unwrap_or("?"),
                            v["set"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(" ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            (
                "command line".into(),
                super::command_line(&std::env::args().collect::<Vec<_>>()),
            ),
        ])],
    });
    Report {
        title: format!(
            "{}: surge compare",
            doc["model"].as_str().unwrap_or("model")
        ),
        subtitle: format!(
            "surge compare · {} variants x {} replications on common random numbers",
            variants.len(),
            doc["reps"]
        ),
        answer,
        checks: Vec::new(),
        sections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variant_documents_have_the_keys_of_a_summary() {
        let doc = json!({"variants": [{"name": "baseline", "metrics": {
            "slo.success_rate": {"mean": 0.5, "ci95": 0.1},
            "tiers.web.utilization": {"mean": 0.7},
            "outage.crashed": null}}]});
        let docs = variant_docs(&doc);
        assert_eq!(docs[0].0, "baseline");
        let d = &docs[0].1;
        assert_eq!(d["slo"]["success_rate"], 0.5);
        assert_eq!(d["tiers"]["web"]["utilization"], 0.7);
        assert!(d["outage"]["crashed"].is_null());
    }
}
