//! The report of `surge fit`, from the typed fit (`fit::report::Fit`, what fit.json holds) and
//! `fit.svg`: what was read, the arrivals and the surge they hold, the service-time fit with its
//! candidates, the busiest endpoints, contention, and the model written (`model.toml`). It fits
//! nothing: the figures are the fit's.

use std::path::Path;

mod sessions;

use super::{Block, Chart, Report, Section, Table};
use crate::fit::report::Fit;
use crate::fmt::human_duration;

fn ms(s: f64) -> String {
    if !s.is_finite() {
        "-".into()
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

/// A figure as fit.json holds it: NaN where it is `null` (not a finite number).
pub(super) fn f(x: f64) -> f64 {
    if x.is_finite() { x } else { f64::NAN }
}

/// An optional figure, NaN where there is none.
pub(super) fn fo(x: Option<f64>) -> f64 {
    x.map_or(f64::NAN, f)
}

/// A number written as fit.json writes it (`60.0`).
fn json_number(x: f64) -> String {
    serde_json::Value::from(x).to_string()
}

/// The report of a fit: `fit` the fit (fit.json), `model_text` the `model.toml` written, `dir`
/// the folder holding `fit.svg`.
pub(crate) fn build(fit: &Fit, model_text: &str, dir: &Path) -> Report {
    let mut read = vec![Block::Table(files_table(fit))];
    for file in &fit.files {
        read.extend(
            file.warnings
                .iter()
                .map(|w| Block::Text(format!("WARNING ({}): {w}", file.path.display()))),
        );
    }
    read.push(Block::Table(candidates_table(fit)));
    read.push(Block::Table(endpoints_table(fit)));
    let mut sections = vec![Section {
        heading: "What was read and fitted".into(),
        blocks: read,
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
    sections.extend(sessions::section(fit));
    if let Some(c) = &fit.contention {
        sections.push(Section {
            heading: "Concurrency".into(),
            blocks: vec![Block::Text(c.note.clone())],
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
        answer: answer(fit),
        checks: Vec::new(),
        sections,
    }
}

/// The answer: the arrivals, the service time, sessions, contention and the population.
fn answer(fit: &Fit) -> Vec<String> {
    let a = &fit.arrivals;
    let mut answer = vec![format!(
        "{} over {}: mean {:.2}/s, peak {:.2}/s per {} s bucket; {}.",
        crate::fmt::counted(a.requests, "request", "requests"),
        human_duration(f(a.span_s)),
        f(a.mean_rate_per_s),
        f(a.peak_rate_per_s),
        json_number(a.bucket_s),
        crate::fit::surge::said(a.surge.as_ref())
    )];
    if a.paced() && fit.closed.is_some() {
        answer.push(format!(
            "The requests came evenly (dispersion {:.2} of the requests per second; Poisson \
             arrivals give 1): the model is the closed population of the test's users, each \
             sending its next request after the last one's response and a think time.",
            f(a.dispersion.unwrap_or(0.0))
        ));
    } else if a.paced() {
        answer.push(format!(
            "The requests were sent on a schedule, not by independent clients (dispersion {:.2} of \
             the requests per second; Poisson arrivals give 1): a constant-rate load generator. The \
             model's arrivals are Poisson (an assumption: what users make), which queue more than \
             these did near capacity.",
            f(a.dispersion.unwrap_or(0.0))
        ));
    }
    if let Some(s) = crate::fit::report::service_choice::empirical(fit) {
        answer.push(format!(
            "Service time in the model: the {} measured times themselves, drawn at random \
             ({}; empirical, mean {}), because {}. They are {}.",
            s.fitted_on,
            crate::fit::report::service_choice::SERVICE_CSV,
            ms(f(
                s.mean_s / (1.0 + s.written.as_ref().map_or(0.0, |w| w.mean_off))
            )),
            s.written.as_ref().map_or("", |w| w.why.as_str()),
            s.basis
        ));
    } else if let Some(s) = &fit.service {
        answer.push(format!(
            "Service time: {} with mean {} and cv {:.2} (Kolmogorov-Smirnov distance {:.4}), fitted \
             to {} {}.",
            s.dist,
            ms(f(s.mean_s)),
            f(s.cv),
            f(s.ks),
            s.fitted_on,
            s.basis
        ));
    } else if fit.logs.service_given.is_none() {
        answer.push(
            "Service time: fewer than 10 successful responses with a time, so no fit.".into(),
        );
    }
    answer.extend(sessions::answer(fit));
    let c = fit.contention.as_ref();
    let finite = |x: Option<f64>| x.filter(|x| x.is_finite());
    if let Some(v) = c
        .filter(|c| finite(c.coefficient).is_some() && finite(c.coefficient_se).is_some())
        .and_then(|c| c.verdict_line())
    {
        answer.push(format!("Contention: {v}."));
    }
    answer.extend(population_answer(fit));
    answer
}

fn files_table(fit: &Fit) -> Table {
    Table {
        caption: "Files read".into(),
        header: vec![
            "file".into(),
            "format".into(),
            "lines read".into(),
            "parsed".into(),
            "skipped".into(),
        ],
        rows: (fit.files.iter())
            .map(|x| {
                vec![
                    x.path.display().to_string(),
                    x.format.clone(),
                    x.lines.read.to_string(),
                    x.lines.parsed.to_string(),
                    x.lines.skipped.to_string(),
                ]
            })
            .collect(),
        note: None,
    }
}

fn candidates_table(fit: &Fit) -> Table {
    let s = fit.service.as_ref();
    Table {
        caption: "Service-time candidates (lowest AIC chosen)".into(),
        header: vec![
            "distribution".into(),
            "mean".into(),
            "cv".into(),
            "AIC".into(),
            "KS distance".into(),
        ],
        rows: (s.into_iter().flat_map(|s| &s.candidates))
            .map(|x| {
                vec![
                    x.dist.clone(),
                    ms(f(x.mean_s)),
                    format!("{:.2}", f(x.cv)),
                    format!("{:.1}", f(x.aic)),
                    format!("{:.4}", f(x.ks)),
                ]
            })
            .collect(),
        note: s.map(|s| {
            let o = &s.observed;
            format!(
                "Measured: mean {}, cv {:.2}, p50 {}, p95 {}, p99 {}.",
                ms(f(o.mean_s)),
                f(o.cv),
                ms(f(o.p50_s)),
                ms(f(o.p95_s)),
                ms(f(o.p99_s))
            )
        }),
    }
}

fn endpoints_table(fit: &Fit) -> Table {
    Table {
        caption: "Busiest endpoints".into(),
        header: vec!["endpoint".into(), "share of requests".into(), "fit".into()],
        rows: (fit.endpoints.iter())
            .map(|e| {
                vec![
                    e.endpoint.clone(),
                    format!("{:.1}%", 100.0 * f(e.share)),
                    match &e.dist {
                        Some(d) => {
                            format!("{d}, mean {}, cv {:.2}", ms(fo(e.mean_s)), fo(e.cv))
                        }
                        None => "too few responses to fit".into(),
                    },
                ]
            })
            .collect(),
        note: None,
    }
}

/// The closed population, the threads and where they come from, and the round trip, in
/// sentences (fit.json's `closed`, `capacity` and `round_trip`).
fn population_answer(fit: &Fit) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &fit.closed {
        out.push(format!(
            "A closed load test: {} users at most ({}), thinking {:.3} s between requests ({}).",
            c.users,
            c.users_from,
            f(c.think_mean_s),
            c.think_from
        ));
    }
    let cap = &fit.capacity;
    out.push(format!("Threads: {} ({}).", cap.threads, cap.why));
    if let Some(rt) = &fit.round_trip {
        let p95 = |v: Option<f64>| ms(fo(v));
        out.push(format!(
            "Simulated on the fitted model: {:.1}% success vs {:.1}% in the data; p95 {} vs {}{}.",
            100.0 * f(rt.simulated.success_rate),
            100.0 * f(rt.data.success_rate),
            p95(rt.simulated.p95_s),
            p95(rt.data.p95_s),
            if let Some(why) = &rt.by_construction {
                format!(": WARNING, they agree by construction and the agreement checks nothing about capacity: {why}")
            } else if rt.within {
                String::new()
            } else {
                ": WARNING, the model does not reproduce the data (more than 5 points of success or 25% of p95 apart)".into()
            }
        ));
    }
    out
}
