//! The report of `surge fit`, from `fit.json` (as a JSON value) and `fit.svg`: what was read, the
//! arrivals and the surge they hold, the service-time fit with its candidates, the busiest
//! endpoints, contention, and the model written (`model.toml`).

use serde_json::Value;
use std::path::Path;

use super::{Block, Chart, Report, Section, Table};
use crate::fmt::{human_count, human_duration};

fn ms(s: f64) -> String {
    if !s.is_finite() {
        "-".into()
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// The report of a fit: `fit` is `fit.json`, `model_text` the `model.toml` written, `dir` the
/// folder holding `fit.svg`.
pub fn build(fit: &Value, model_text: &str, dir: &Path) -> Report {
    let a = &fit["arrivals"];
    let mut answer = vec![format!(
        "{} requests over {}: mean {:.2}/s, peak {:.2}/s per {} s bucket; the data hold a {:.2}x \
         surge.",
        human_count(f(&a["requests"])),
        human_duration(f(&a["span_s"])),
        f(&a["mean_rate_per_s"]),
        f(&a["peak_rate_per_s"]),
        a["bucket_s"],
        f(&a["surge_in_data"])
    )];
    let s = &fit["service"];
    if s.is_object() {
        answer.push(format!(
            "Service time: {} with mean {} and cv {:.2} (Kolmogorov-Smirnov distance {:.4}), fitted \
             to {} {}.",
            s["dist"].as_str().unwrap_or("?"),
            ms(f(&s["mean_s"])),
            f(&s["cv"]),
            f(&s["ks"]),
            s["fitted_on"],
            s["basis"].as_str().unwrap_or("")
        ));
    } else if !fit["service_given"].is_object() {
        answer.push(
            "Service time: fewer than 10 successful responses with a time, so no fit.".into(),
        );
    }
    answer.extend(super::fit_sessions::answer(fit));
    let c = &fit["contention"];
    if let (Some(k), Some(se)) = (c["coefficient"].as_f64(), c["coefficient_se"].as_f64()) {
        answer.push(format!(
            "Contention: {k:.5} ± {se:.5} per request in progress{}.",
            if c["significant"] == Value::Bool(true) {
                ""
            } else {
                " (not distinguishable from 0: the model uses 0)"
            }
        ));
    }
    answer.extend(population_answer(fit));
    let files = Table {
        caption: "Files read".into(),
        header: vec![
            "file".into(),
            "format".into(),
            "lines read".into(),
            "parsed".into(),
            "skipped".into(),
        ],
        rows: fit["files"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                vec![
                    x["path"].as_str().unwrap_or("?").to_string(),
                    x["format"].as_str().unwrap_or("?").to_string(),
                    x["lines"]["read"].to_string(),
                    x["lines"]["parsed"].to_string(),
                    x["lines"]["skipped"].to_string(),
                ]
            })
            .collect(),
        note: None,
    };
    let candidates = Table {
        caption: "Service-time candidates (lowest AIC chosen)".into(),
        header: vec![
            "distribution".into(),
            "mean".into(),
            "cv".into(),
            "AIC".into(),
            "KS distance".into(),
        ],
        rows: s["candidates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                vec![
                    x["dist"].as_str().unwrap_or("?").to_string(),
                    ms(f(&x["mean_s"])),
                    format!("{:.2}", f(&x["cv"])),
                    format!("{:.1}", f(&x["aic"])),
                    format!("{:.4}", f(&x["ks"])),
                ]
            })
            .collect(),
        note: s["observed"].is_object().then(|| {
            let o = &s["observed"];
            format!(
                "Measured: mean {}, cv {:.2}, p50 {}, p95 {}, p99 {}.",
                ms(f(&o["mean_s"])),
                f(&o["cv"]),
                ms(f(&o["p50_s"])),
                ms(f(&o["p95_s"])),
                ms(f(&o["p99_s"]))
            )
        }),
    };
    let endpoints = Table {
        caption: "Busiest endpoints".into(),
        header: vec!["endpoint".into(), "share of requests".into(), "fit".into()],
        rows: fit["endpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                vec![
                    e["endpoint"].as_str().unwrap_or("?").to_string(),
                    format!("{:.1}%", 100.0 * f(&e["share"])),
                    match e["dist"].as_str() {
                        Some(d) => {
                            format!("{d}, mean {}, cv {:.2}", ms(f(&e["mean_s"])), f(&e["cv"]))
                        }
                        None => "too few responses to fit".into(),
                    },
                ]
            })
            .collect(),
        note: None,
    };
    let mut sections = vec![Section {
        heading: "What was read and fitted".into(),
        blocks: vec![
            Block::Table(files),
            Block::Table(candidates),
            Block::Table(endpoints),
        ],
    }];
    if let Some(ch) = Chart::from_dir(
        dir,
        "fit",
        "Arrivals per bucket, and the service-time distribution fitted against the measured one.",
    ) {
        sections.push(Section {
            heading: "Chart".into(),
            blocks: vec![Block::Chart(ch)],
        });
    }
    sections.extend(super::fit_sessions::section(fit));
    if let Some(note) = c["note"].as_str() {
        sections.push(Section {
            heading: "Concurrency".into(),
            blocks: vec![Block::Text(note.to_string())],
        });
    }
    sections.push(Section {
        heading: "Model written (model.toml)".into(),
        blocks: vec![Block::Code {
            language: "toml".into(),
            text: model_text.to_string(),
        }],
    });
    sections.push(Section {
        heading: "Provenance".into(),
        blocks: vec![Block::Facts(vec![
            ("surge version".into(), env!("CARGO_PKG_VERSION").into()),
            (
                "command line".into(),
                super::command_line(&std::env::args().collect::<Vec<_>>()),
            ),
        ])],
    });
    Report {
        title: "surge fit".into(),
        subtitle: "A starting model fitted to access logs or load-test results".into(),
        answer,
        checks: Vec::new(),
        sections,
    }
}

/// The closed population, the threads and where they come from, and the round trip, in
/// sentences (fit.json's `closed`, `capacity` and `round_trip`).
fn population_answer(fit: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let c = &fit["closed"];
    if c.is_object() {
        out.push(format!(
            "A closed load test: {} users at most ({}), thinking {:.3} s between requests ({}).",
            c["users"],
            c["users_from"].as_str().unwrap_or("?"),
            f(&c["think_mean_s"]),
            c["think_from"].as_str().unwrap_or("")
        ));
    }
    let cap = &fit["capacity"];
    if cap.is_object() {
        out.push(format!(
            "Threads: {} ({}).",
            cap["threads"],
            cap["why"].as_str().unwrap_or("")
        ));
    }
    let rt = &fit["round_trip"];
    if rt.is_object() {
        let p95 = |v: &Value| ms(v.as_f64().unwrap_or(f64::NAN));
        out.push(format!(
            "Simulated on the fitted model: {:.1}% success vs {:.1}% in the data; p95 {} vs {}{}.",
            100.0 * f(&rt["simulated"]["success_rate"]),
            100.0 * f(&rt["data"]["success_rate"]),
            p95(&rt["simulated"]["p95_s"]),
            p95(&rt["data"]["p95_s"]),
            if rt["within"] == Value::Bool(true) {
                ""
            } else {
                ": WARNING, the model does not reproduce the data (more than 5 points of success or 25% of p95 apart)"
            }
        ));
    }
    out
}
