//! The report of `surge compare`, from `compare.json` and `compare.svg`: the variants ranked by
//! mean downtime with how many replications went down, the key metrics of each with their 95%
//! intervals and the paired difference from the baseline, and the chart. Also the documents the
//! `--assert` checks of a comparison read: per variant, its metric means under the keys of
//! `summary.json` (`slo.success_rate`, `outage.crashed`, `tiers.web.utilization`, ...).

use anyhow::Result;
use serde_json::{Map, Value};
use std::path::Path;

use super::assert::{self, Assertion, Outcome};
use super::mean::{self, Mean};
use super::{Block, Chart, Report, Section, Table};
use crate::error::BadInput;
use crate::experiment::compare::{Comparison, KeyStat, VariantResult};
use crate::fmt::{human_count, human_duration};
use crate::metrics::table;
use crate::stats::Estimate;
use crate::store::json::read_json;

/// A comparison's folder.
pub(crate) struct CompareFolder {
    pub doc: Comparison,
    pub chart: Option<Chart>,
}

impl CompareFolder {
    pub(crate) fn read(dir: &Path) -> Result<CompareFolder> {
        Ok(CompareFolder {
            doc: read_json(&dir.join("compare.json"))?,
            chart: Chart::from_dir(
                dir,
                "compare",
                "The variants on the same seeds: window success rate over time, each replication's \
                 outages, and the key metrics (bars at the mean, whiskers the 95% interval).",
            ),
        })
    }
}

/// Per variant, its name and its metric means as a document with the keys of `summary.json`
/// (for `--assert` to walk).
pub(crate) fn variant_docs(doc: &Comparison) -> Vec<(String, Value)> {
    doc.variants
        .iter()
        .map(|v| {
            let means = (v.metrics.iter()).map(|(k, e)| (k.as_str(), e.map(|e| e.mean)));
            (v.name.clone(), nest(means))
        })
        .collect()
}

/// Dotted keys and their values as a tree (`slo.success_rate` under `slo`). A key under one
/// that holds a value (`a.b` after `a`) cannot be reached by a key path: it is left out.
fn nest<'k>(items: impl Iterator<Item = (&'k str, Option<f64>)>) -> Value {
    let mut root = Map::new();
    'items: for (key, mean) in items {
        let parts: Vec<&str> = key.split('.').collect();
        let mut node = &mut root;
        for p in &parts[..parts.len() - 1] {
            let next = node
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            match next.as_object_mut() {
                Some(m) => node = m,
                None => continue 'items,
            }
        }
        let leaf = parts[parts.len() - 1].to_string();
        if !node.get(&leaf).is_some_and(Value::is_object) {
            node.insert(leaf, mean.map_or(Value::Null, Value::from));
        }
    }
    Value::Object(root)
}

/// The key metric `key` of a variant.
fn stat<'v>(v: &'v VariantResult, key: &str) -> Option<&'v KeyStat> {
    v.key.iter().find(|k| k.key == key)
}

/// The mean of the key metric `key` of a variant, where it has one.
fn key_mean(v: &VariantResult, key: &str) -> Option<f64> {
    stat(v, key).and_then(|k| k.estimate).map(|e| e.mean)
}

/// ", 1,234 users lost, 5,678 calls lost" (means per replication), from a variant's key
/// metrics.
fn lost_words(v: &VariantResult) -> String {
    let mut s = String::new();
    if let Some(x) = key_mean(v, table::USERS_LOST) {
        s.push_str(&format!(", {} users lost", human_count(x)));
    }
    if let Some(x) = key_mean(v, table::CALLS_LOST) {
        s.push_str(&format!(", {} calls lost", human_count(x)));
    }
    s
}

/// A `--assert` of `surge compare`: a check on one variant's metric means
/// (`variants.NAME.KEY OP VALUE`), or on every variant's (`KEY OP VALUE`, or
/// `variants.*.KEY OP VALUE`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VariantCheck {
    /// The variant checked; `None`: every variant.
    pub variant: Option<String>,
    pub check: Assertion,
}

/// Parse the checks of a comparison of the variants `names` (the baseline included), each key
/// checked against `template` (a variant's document: its metrics under the keys of
/// `summary.json`). A name may hold spaces or dots: the longest name that follows
/// `variants.` and is followed by a dot is taken.
pub(crate) fn prepare_checks(
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
pub(crate) fn evaluate_checks(checks: &[VariantCheck], docs: &[(String, Value)]) -> Vec<Outcome> {
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
pub(crate) fn metrics_template<'m>(
    models: impl IntoIterator<Item = &'m crate::model::Model>,
) -> Value {
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
    let columns = table::Column::union(&summaries);
    let keys: Vec<String> = columns.iter().map(|c| c.key()).collect();
    nest(keys.iter().map(|k| (k.as_str(), Some(0.0))))
}

fn format_value(x: f64, unit: &str) -> String {
    match unit {
        "s" => human_duration(x),
        "share" | "probability" => format!("{:.1}%", 100.0 * x),
        _ if x.abs() >= 1000.0 => human_count(x),
        _ => format!("{x:.2}"),
    }
}

/// A mean and its interval (or none) over `values` replications, `censored` of them lower
/// bounds.
fn estimate(e: Option<Estimate>, values: u32, censored: u32) -> Mean {
    let mean = e.map_or(f64::NAN, |e| e.mean);
    let half = e.and_then(|e| e.ci95).unwrap_or(f64::NAN);
    Mean::of(mean, half, values).censored(censored)
}

/// The variants in the order `compare` ranked them (`compare.json`'s `ranking`), and what it
/// ranked by; a comparison of an earlier surge, without one, by mean downtime.
fn ranked(doc: &Comparison) -> (Vec<&VariantResult>, String) {
    let mut ranked: Vec<&VariantResult> = doc.variants.iter().collect();
    if doc.ranking.len() == doc.variants.len() {
        let pos = |v: &VariantResult| doc.ranking.iter().position(|n| v.name == *n);
        ranked.sort_by_key(|v| pos(v));
        let by = if doc.ranked_by.is_empty() {
            "rank"
        } else {
            &doc.ranked_by
        };
        (ranked, by.to_string())
    } else {
        let downtime =
            |v: &VariantResult| key_mean(v, "outage.downtime_s").unwrap_or(f64::INFINITY);
        ranked.sort_by(|a, b| downtime(a).total_cmp(&downtime(b)));
        (ranked, "mean downtime".to_string())
    }
}

/// The answer: the variants ranked, and those up in every replication.
fn answer(doc: &Comparison, ranked: &[&VariantResult], ranked_by: &str) -> Vec<String> {
    let mut answer = vec![format!(
        "{} variants on the same seeds ({}), ranked by {ranked_by}: {}.",
        doc.variants.len(),
        reps_words(doc),
        ranked
            .iter()
            .map(|v| format!(
                "{} (down in {} of {}{}{})",
                v.name,
                v.outage.with_outage,
                v.outage.runs,
                lost_words(v),
                v.decision
                    .as_ref()
                    .map_or(String::new(), |d| format!("; {}", d.words()))
            ))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    let held: Vec<&str> = (doc.variants.iter())
        .filter(|v| v.outage.with_outage == 0)
        .map(|v| v.name.as_str())
        .collect();
    answer.push(if held.is_empty() {
        "No variant kept the site up in every replication.".to_string()
    } else {
        format!("Up in every replication: {}.", held.join(", "))
    });
    let stopped: Vec<String> = (doc.variants.iter())
        .filter_map(|v| {
            let n = v.held.iter().filter(|&&h| h).count();
            (n > 0).then(|| format!("{} ({n} of {})", v.name, v.replications.len()))
        })
        .collect();
    if !stopped.is_empty() {
        answer.push(format!(
            "Stopped early by the hold rule (surge passed, SLO met since, nothing pending): {}; \
             by the rule no outage follows, so their outage, downtime and recovery are the whole night's; their other figures cover the span they ran.",
            stopped.join(", ")
        ));
    }
    answer
}

/// The replications the variants ran, in words.
fn reps_words(doc: &Comparison) -> String {
    if doc.auto {
        format!(
            "2 to {} replications each: more only while not told from the baseline at {}% for \
             the whole comparison",
            doc.max_reps,
            crate::fmt::format_number(100.0 * doc.confidence)
        )
    } else {
        format!("{} replications each", doc.reps)
    }
}

/// A variant's cell for the key metric `k`: its mean and interval, and the paired difference
/// from the baseline.
fn cell(v: &VariantResult, k: &KeyStat) -> String {
    let Some(s) = stat(v, &k.key) else {
        return "-".into();
    };
    let f = |x: f64| format_value(x, &k.unit);
    let mut cell = if s.key == table::RECOVERY_TIME {
        let m = estimate(s.estimate, s.values, 0);
        mean::recovery(m, s.censored, v.outage.runs, &f)
    } else {
        let cut = if s.lower_bound { s.censored } else { 0 };
        estimate(s.estimate, s.values, cut).text(&f)
    };
    if let Some(d) = s.difference.as_ref().filter(|d| d.estimate.is_some()) {
        let m = estimate(d.estimate, d.pairs, 0);
        cell = format!("{cell}; vs baseline {}", m.text(&f));
    }
    cell
}

/// The table of the variants: each key metric of the first variant, per variant.
fn variants_table(doc: &Comparison, ranked: &[&VariantResult]) -> Table {
    let keys: &[KeyStat] = doc.variants.first().map_or(&[], |v| &v.key);
    let mut header = vec![
        "variant".to_string(),
        "vs baseline".to_string(),
        "replications down".to_string(),
    ];
    header.extend(keys.iter().map(|k| k.label.clone()));
    let rows = ranked
        .iter()
        .map(|v| {
            let mut row = vec![
                v.name.clone(),
                v.decision
                    .as_ref()
                    .map_or("(the baseline)".into(), |d| d.words()),
                format!("{} of {}", v.outage.with_outage, v.outage.runs),
            ];
            row.extend(keys.iter().map(|k| cell(v, k)));
            row
        })
        .collect();
    Table {
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
    }
}

/// The provenance of the comparison.
fn provenance(doc: &Comparison) -> Section {
    let variants = (doc.variants.iter())
        .map(|v| format!("{} [{}]", v.name, v.set.join(" ")))
        .collect::<Vec<_>>()
        .join("; ");
    Section {
        heading: "Provenance".into(),
        blocks: vec![Block::Facts(vec![
            ("surge version".into(), doc.surge_version.clone()),
            ("base seed".into(), doc.seed.to_string()),
            ("replications per variant".into(), reps_words(doc)),
            ("variants".into(), variants),
            (
                "command line".into(),
                super::command_line(&std::env::args().collect::<Vec<_>>()),
            ),
        ])],
    }
}

/// The report of the comparison in `f`.
pub(crate) fn build(f: &CompareFolder) -> Report {
    let doc = &f.doc;
    let (ranked, ranked_by) = ranked(doc);
    let mut sections = vec![Section {
        heading: "Variants".into(),
        blocks: vec![Block::Table(variants_table(doc, &ranked))],
    }];
    if let Some(c) = &f.chart {
        sections.push(Section {
            heading: "Chart".into(),
            blocks: vec![Block::Chart(c.clone())],
        });
    }
    sections.push(provenance(doc));
    Report {
        title: format!("{}: surge compare", doc.model),
        subtitle: format!(
            "surge compare · {} variants, {} on common random numbers",
            doc.variants.len(),
            reps_words(doc)
        ),
        answer: answer(doc, &ranked, &ranked_by),
        checks: Vec::new(),
        sections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn variant(name: &str, metrics: Value) -> Value {
        let outage = json!({"runs": 2, "with_outage": 1, "recovered": 1, "not_recovered": 0,
            "still_down_at_end": 0});
        json!({"name": name, "set": [], "outage": outage, "metrics": metrics, "key": [
            {"key": "outage.downtime_s", "label": "downtime", "unit": "s",
             "estimate": {"mean": 60.0, "ci95": 1.0}, "values": 2, "censored": 0,
             "lower_bound": false}],
            "replications": [], "down_at_end": [false, false]})
    }

    fn comparison(variants: Vec<Value>) -> Comparison {
        let names: Vec<Value> = variants.iter().map(|v| v["name"].clone()).collect();
        serde_json::from_value(json!({"model": "m", "reps": 2, "seed": 1, "seeds": [1, 2],
            "overrides": [], "variants": variants, "surge_version": "0",
            "ranking": names, "ranked_by": "downtime"}))
        .unwrap()
    }

    #[test]
    fn variant_documents_have_the_keys_of_a_summary() {
        let doc = comparison(vec![variant(
            "baseline",
            json!({"slo.success_rate": {"mean": 0.5, "ci95": 0.1},
                   "tiers.web.utilization": {"mean": 0.7}, "outage.crashed": null}),
        )]);
        let docs = variant_docs(&doc);
        assert_eq!(docs[0].0, "baseline");
        let d = &docs[0].1;
        assert_eq!(d["slo"]["success_rate"], 0.5);
        assert_eq!(d["tiers"]["web"]["utilization"], 0.7);
        assert!(d["outage"]["crashed"].is_null());
    }

    /// Variants named `a` and `a.b`, and metric keys `a` and `a.b` (one under the other's
    /// value): read, reported and checked without a panic.
    #[test]
    fn a_comparison_with_a_and_a_dot_b_is_read_and_reported() {
        let metrics = json!({"a": {"mean": 1.0}, "a.b": {"mean": 2.0}, "a.c.d": {"mean": 3.0}});
        let doc = comparison(vec![variant("a", metrics.clone()), variant("a.b", metrics)]);
        let dir = tempfile::tempdir().unwrap();
        crate::store::atomic::write_json(&dir.path().join("compare.json"), &doc).unwrap();
        let folder = CompareFolder::read(dir.path()).unwrap();
        let page = build(&folder);
        assert!(
            page.answer[0].starts_with("2 variants"),
            "{:?}",
            page.answer
        );
        let docs = variant_docs(&folder.doc);
        assert_eq!(docs[1].0, "a.b");
        assert_eq!(docs[1].1["a"], 1.0);
        let names = vec!["a".to_string(), "a.b".to_string()];
        let template = docs[0].1.clone();
        let checks = prepare_checks(
            &["variants.a.b.a>=1".into(), "a>=1".into()],
            &names,
            &template,
        )
        .unwrap();
        assert_eq!(checks[0].variant.as_deref(), Some("a.b"));
        let outcomes = evaluate_checks(&checks, &docs);
        assert_eq!(outcomes.len(), 3);
        assert!(outcomes.iter().all(|o| o.passed), "{outcomes:?}");
    }
}
