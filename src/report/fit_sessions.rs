//! What the report of `surge fit` adds for access logs (from fit.json as a JSON value): the
//! service given or assumed, which figure came from which file, the sessions fitted (pages,
//! think, returns, assets) and the source the model uses.

use serde_json::Value;

use super::{Block, Section, Table};

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("?").to_string()
}

/// Sentences for the report's answer.
pub(super) fn answer(fit: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let g = &fit["service_given"];
    if g.is_object() {
        out.push(if g["from"] == "assumption" {
            format!(
                "Service time: ASSUMPTION {} (no file records response times and no --service was given).",
                text(&g["spec"])
            )
        } else {
            format!("Service time: given by --service {}.", text(&g["spec"]))
        });
    }
    let s = &fit["sessions"];
    if s.is_object() {
        let think = &s["think"]["best"];
        out.push(format!(
            "Sessions: {} ({} page views, {:.2} assets per page), {:.2} pages each on average; think time {} of mean {:.1} s (KS {:.4}).",
            s["sessions"],
            s["page_views"],
            f(&s["assets_per_page"]),
            f(&s["pages"]["mean"]),
            think["dist"].as_str().unwrap_or("not fitted"),
            f(&think["mean_s"]),
            f(&think["ks"])
        ));
    }
    let m = &fit["model_source"];
    if m.is_object() {
        out.push(format!(
            "The model's source: {} ({}).",
            text(&m["kind"]),
            text(&m["why"])
        ));
    }
    out
}

/// The section on provenance and sessions, where there is something to say.
pub(super) fn section(fit: &Value) -> Option<Section> {
    let p = &fit["provenance"];
    if !p.is_object() {
        return None;
    }
    let list = |v: &Value| -> String {
        v.as_array()
            .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let mut blocks = vec![Block::Facts(vec![
        (
            "arrivals, endpoints, status codes".into(),
            list(&p["arrivals"]),
        ),
        ("sessions".into(), list(&p["sessions"])),
        ("service".into(), text(&p["service"])),
        ("contention".into(), text(&p["contention"])),
    ])];
    let s = &fit["sessions"];
    if s.is_object() {
        blocks.push(Block::Table(Table {
            caption: "Pages per session: the data against a geometric of the same mean".into(),
            header: vec!["pages".into(), "data".into(), "geometric".into()],
            rows: s["pages"]["shares"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    vec![
                        text(&x["pages"]),
                        format!("{:.1}%", 100.0 * f(&x["data"])),
                        format!("{:.1}%", 100.0 * f(&x["geometric"])),
                    ]
                })
                .collect(),
            note: Some(format!(
                "KS {:.4}; the model uses {}. Returning visitors: {:.1}% of sessions; {}.",
                f(&s["pages"]["geometric_ks"]),
                text(&s["pages"]["model"]),
                100.0 * f(&s["returning"]["share"]),
                text(&s["returning"]["why"])
            )),
        }));
    }
    Some(Section {
        heading: "Where each figure came from, and the sessions".into(),
        blocks,
    })
}
