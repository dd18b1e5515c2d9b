//! `surge fit`'s flags and terminal lines for access logs: `--session-gap` and `--assets`
//! checked, and what the terminal says of the service (given or ASSUMPTION), of where each figure came from, of the
//! status codes, the sessions and the source the model uses.
//!
//! The fitting is `fit::logs_fit`'s and `fit::sessions_fit`'s; this file only checks and prints.

use crate::fit::logs_doc::SourceKind;
use crate::fit::report::Fit;
use crate::fmt::counted;
use crate::model::error::BadInput;
use crate::model::units::parse_duration;
use crate::output::stdout::outln;

/// `--session-gap`: a duration of at least 1 s.
pub(crate) fn session_gap(text: &str) -> Result<f64, BadInput> {
    if text.trim().parse::<f64>().is_ok() {
        return Err(BadInput(format!(
            "--session-gap {t}: a plain number has no unit: write {t}m or {t}s",
            t = text.trim()
        )));
    }
    let s = parse_duration(text).map_err(|e| BadInput(format!("--session-gap: {e}")))?;
    if !(1.0..=400.0 * 86_400.0).contains(&s) {
        return Err(BadInput(format!(
            "--session-gap must be from 1 s to 400 days (got {text})"
        )));
    }
    Ok(s)
}

/// `--assets`: a regular expression (the default when not given).
pub(crate) fn assets(pattern: Option<&str>) -> Result<regex_lite::Regex, BadInput> {
    match pattern {
        None => Ok(crate::fit::default_assets()),
        Some(p) => regex_lite::Regex::new(p)
            .map_err(|e| BadInput(format!("--assets `{p}` is not a regular expression: {e}"))),
    }
}

fn ms(s: f64) -> String {
    crate::fit::toml_text::ms(s)
}

/// What the terminal says of the service given, the provenance, the sessions and the source.
pub(crate) fn print(f: &Fit) -> anyhow::Result<()> {
    let l = &f.logs;
    if let Some(g) = &l.service_given {
        let s = &g.spec;
        if g.from == "assumption" {
            outln!(
                "service: ASSUMPTION {} (mean {}, cv {:.2}): no file records response times and no --service was given; give --service DIST or a load test of the site",
                s.spec,
                ms(s.mean_s),
                s.cv
            );
        } else {
            outln!(
                "service: given by --service {} (mean {}, cv {:.2}), not fitted",
                s.spec,
                ms(s.mean_s),
                s.cv
            );
        }
    }
    let p = &l.provenance;
    let sessions = if p.sessions.is_empty() {
        String::new()
    } else {
        format!("; sessions: {}", p.sessions.join(", "))
    };
    outln!(
        "from: arrivals, endpoints, status codes: {}{sessions}; service: {}; contention: {}",
        p.arrivals.join(", "),
        p.service,
        p.contention
    );
    let total: u64 = l.status_codes.values().sum();
    if total > 0 {
        let mut codes: Vec<(&String, &u64)> = l.status_codes.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = codes
            .iter()
            .take(8)
            .map(|(c, n)| format!("{c} {:.1}%", 100.0 * **n as f64 / total as f64))
            .collect();
        outln!(
            "status codes: {}{}",
            shown.join(", "),
            if codes.len() > 8 { ", ..." } else { "" }
        );
    }
    if let Some(s) = &l.sessions {
        print_sessions(s)?;
    }
    let src = &l.model_source;
    match (src.kind, src.users) {
        _ if f.closed.is_some() => outln!(
            "model source: users, a closed population (the load test's virtual users, below)"
        ),
        (SourceKind::Users, Some(u)) => outln!(
            "model source: users, {u:.2} on the site at baseline ({}); --source requests for open arrivals",
            src.why
        ),
        _ => outln!("model source: requests ({})", src.why),
    }
    Ok(())
}

fn print_sessions(s: &crate::fit::sessions_fit::Sessions) -> anyhow::Result<()> {
    outln!(
        "sessions ({} gap): {}, {}, {} ({:.2} per page); {}; {} within a gap of either end",
        crate::fmt::human_duration(s.gap_s),
        counted(s.sessions, "session", "sessions"),
        counted(s.page_views, "page view", "page views"),
        counted(s.assets, "asset", "assets"),
        s.assets_per_page,
        counted(s.asset_only_visits, "asset-only visit", "asset-only visits"),
        counted(s.cut_at_ends, "session", "sessions")
    );
    let st = &s.starts;
    outln!(
        "  new sessions: median {:.4}/s per {} s bucket, mean {:.4}/s, peak {:.4}/s",
        st.median_rate_per_s,
        st.bucket_s,
        st.mean_rate_per_s,
        st.peak_rate_per_s
    );
    let shares: Vec<String> = s
        .pages
        .shares
        .iter()
        .map(|x| {
            format!(
                "{} {:.1}% ({:.1}%)",
                x.pages,
                100.0 * x.data,
                100.0 * x.geometric
            )
        })
        .collect();
    outln!(
        "  pages per session: mean {:.2}, cv {:.2}; geometric of that mean: KS {:.4} against the counts, model uses {}",
        s.pages.mean,
        s.pages.cv,
        s.pages.geometric_ks,
        s.pages.model
    );
    outln!(
        "    sessions of n pages, data (geometric): {}",
        shares.join(", ")
    );
    match &s.think {
        Some(t) => outln!(
            "  think (between the starts of consecutive pages): {} mean {}, cv {:.2}, KS {:.4}, fitted to {} of {} gaps ({} in the same second, read as 0.5 s); data mean {}, cv {:.2}; {:.2}% of the fit lies beyond the gap",
            t.best.dist,
            ms(t.best.mean_s),
            t.best.cv,
            t.best.ks,
            t.fitted_on,
            t.gaps,
            t.zero_gaps,
            ms(t.mean_s),
            t.cv,
            100.0 * t.beyond_gap
        ),
        None => outln!("  think: fewer than 10 gaps between pages, no fit"),
    }
    let r = &s.returning;
    outln!(
        "  returning: {:.1}% of sessions from an address seen before{}; {}{}",
        100.0 * r.share,
        r.gap_mean_s
            .map(|g| format!(", after {} on average", crate::fmt::human_duration(g)))
            .unwrap_or_default(),
        r.why,
        if r.undercounted {
            " (too many addresses to remember them all: undercounted)"
        } else {
            ""
        }
    );
    if !s.seen {
        outln!("  no users source: {}", s.why);
    }
    Ok(())
}
