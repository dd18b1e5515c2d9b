//! What the report of `surge fit` adds for access logs (from the typed fit's `logs`): the
//! service given or assumed, which figure came from which file, the sessions fitted (pages,
//! think, returns, assets) and the source the model uses.

use super::{f, fo};
use crate::fit::logs_doc::SourceKind;
use crate::fit::report::Fit;
use crate::report::{Block, Section, Table};

/// Sentences for the report's answer.
pub(super) fn answer(fit: &Fit) -> Vec<String> {
    let mut out = Vec::new();
    let logs = &fit.logs;
    if let Some(g) = &logs.service_given {
        out.push(if g.from == "assumption" {
            format!(
                "Service time: ASSUMPTION {} (no file records response times and no --service was given).",
                g.spec.spec
            )
        } else {
            format!("Service time: given by --service {}.", g.spec.spec)
        });
    }
    if let Some(s) = &logs.sessions {
        let think = s.think.as_ref().map(|t| &t.best);
        out.push(format!(
            "Sessions: {} ({} page views, {:.2} assets per page), {:.2} pages each on average; think time {} of mean {:.1} s (KS {:.4}).",
            s.sessions,
            s.page_views,
            f(s.assets_per_page),
            f(s.pages.mean),
            think.map_or("not fitted", |t| t.dist.as_str()),
            fo(think.map(|t| t.mean_s)),
            fo(think.map(|t| t.ks))
        ));
    }
    let m = &logs.model_source;
    let kind = match m.kind {
        SourceKind::Requests => "requests",
        SourceKind::Users => "users",
    };
    if fit.closed.is_some() {
        out.push(
            "The model's source: users, a closed population (the load test's virtual users)."
                .into(),
        );
    } else {
        out.push(format!("The model's source: {kind} ({}).", m.why));
    }
    out
}

/// The section on provenance and sessions.
pub(super) fn section(fit: &Fit) -> Option<Section> {
    let p = &fit.logs.provenance;
    let mut blocks = vec![Block::Facts(vec![
        (
            "arrivals, endpoints, status codes".into(),
            p.arrivals.join(", "),
        ),
        ("sessions".into(), p.sessions.join(", ")),
        ("service".into(), p.service.clone()),
        ("contention".into(), p.contention.clone()),
    ])];
    if let Some(s) = &fit.logs.sessions {
        blocks.push(Block::Table(Table {
            caption: "Pages per session: the data against a geometric of the same mean".into(),
            header: vec!["pages".into(), "data".into(), "geometric".into()],
            rows: (s.pages.shares.iter())
                .map(|x| {
                    vec![
                        x.pages.clone(),
                        format!("{:.1}%", 100.0 * f(x.data)),
                        format!("{:.1}%", 100.0 * f(x.geometric)),
                    ]
                })
                .collect(),
            note: Some(format!(
                "KS {:.4}; the model uses {}. Returning visitors: {:.1}% of sessions; {}.",
                f(s.pages.geometric_ks),
                s.pages.model,
                100.0 * f(s.returning.share),
                s.returning.why
            )),
        }));
    }
    Some(Section {
        heading: "Where each figure came from, and the sessions".into(),
        blocks,
    })
}
