//! The parts of the fitted model.toml that come from an access log's sessions or stand in for
//! response times the data do not hold: the `kind = "users"` source (with the assets as a
//! requests source beside it), the service given by `--service` or assumed, and the threads
//! when no response time was measured (Little's law on the busiest bucket and the service's
//! mean, an ASSUMPTION). `model_toml` writes the rest and checks that the whole loads.

use super::logs_doc::ServiceGiven;
use super::report::Fit;
use super::sessions_fit::{Sessions, ThinkFit};
use super::toml_text::{comment_safe, dist_line, ms, num, secs, span};

/// A service given rather than fitted: its comment lines and its distribution.
pub(crate) struct GivenLines {
    pub comments: Vec<String>,
    pub dist: String,
    pub mean_s: f64,
}

/// The service lines when the service is given (`--service`) or assumed; `None` when fitted.
pub(crate) fn given_service(fit: &Fit) -> Option<GivenLines> {
    let g: &ServiceGiven = fit.logs.service_given.as_ref()?;
    let s = &g.spec;
    let comments = if g.from == "assumption" {
        vec![
            format!(
                "# Service: ASSUMPTION: {} (mean {}, cv {:.2}) is a placeholder: no file records response",
                s.spec,
                ms(s.mean_s),
                s.cv
            ),
            "# times and no --service was given. Give `--service DIST` (e.g. lognormal:120ms:0.8), or a"
                .into(),
            "# log with response times or a load test of the site beside this log, or edit this line."
                .into(),
        ]
    } else {
        vec![format!(
            "# Service: given by --service {} (mean {}, cv {:.2}), not fitted: {}.",
            s.spec,
            ms(s.mean_s),
            s.cv,
            if fit.service.is_some() {
                "it replaces the fit to the response times"
            } else {
                "the data hold no response times"
            }
        )]
    };
    Some(GivenLines {
        comments,
        dist: s.toml.clone(),
        mean_s: s.mean_s,
    })
}

/// Threads when no response time was measured: enough not to queue at the busiest bucket's
/// rate with the service's mean (Little's law), marked ASSUMPTION.
pub(crate) fn threads_by_little(fit: &Fit, service_mean_s: f64) -> (f64, String) {
    let peak = fit.arrivals.peak_rate_per_s;
    let n = (peak * service_mean_s).max(1.0);
    (
        (n + 6.0 * n.sqrt() + 10.0).ceil(),
        format!(
            "ASSUMPTION: no response times, so capacity is unknown; at the busiest bucket's {peak:.2} requests/s and the service's mean {}, Little's law puts {n:.1} in progress: this is enough not to queue at that load",
            ms(service_mean_s)
        ),
    )
}

/// The model's pages: the geometric of the counts' mean, or the counts themselves (pages.csv).
fn pages_line(s: &Sessions) -> String {
    if s.pages.model == "geometric" {
        format!("{{ dist = \"geometric\", mean = {} }}", num(s.pages.mean))
    } else {
        "{ dist = \"empirical\", file = \"pages.csv\" }".into()
    }
}

fn push(t: &mut String, line: &str) {
    t.push_str(line);
    t.push('\n');
}

/// The users source of the sessions, and the assets as a requests source beside it.
pub(crate) fn users_sources(t: &mut String, fit: &Fit) -> Result<(), String> {
    let s = fit
        .logs
        .sessions
        .as_ref()
        .ok_or("a users source needs sessions")?;
    let think = s
        .think
        .as_ref()
        .ok_or("a users source needs a think time")?;
    let src = &fit.logs.model_source;
    let users = src.users.ok_or("a users source needs its users")?;
    let response = src.nominal_response_s.unwrap_or(f64::NAN);
    let files = comment_safe(&fit.logs.provenance.sessions.join(", "));
    for l in &sessions_comment(s, think, &files, response) {
        push(t, l);
    }
    visitors_source(t, s, think, users);
    assets_source(t, s);
    Ok(())
}

/// The comment above the users source: what was measured of the sessions (starts, pages,
/// think) and how Little's law gives the users.
fn sessions_comment(s: &Sessions, think: &ThinkFit, files: &str, response: f64) -> Vec<String> {
    let st = &s.starts;
    vec![
        format!(
            "# Measured from {files}: sessions, a client's requests (address and user agent where the log"
        ),
        format!(
            "# has one) with no silence over {}: {} sessions over {} ({} within a gap of either end).",
            span(s.gap_s),
            s.sessions,
            span(st.span_s),
            s.cut_at_ends
        ),
        format!(
            "# New sessions per second: the median {} bucket's {:.4}/s (mean {:.4}/s, peak {:.4}/s); the",
            span(st.bucket_s),
            st.baseline_rate_per_s,
            st.mean_rate_per_s,
            st.peak_rate_per_s
        ),
        format!(
            "# profile follows the session starts in {}, scaled by {:.4} to hold every session.",
            crate::fmt::counted(st.profile.len() as u64, "knot", "knots"),
            st.profile_scale
        ),
        format!(
            "# Pages: the requests that are not assets: {} page views, {} assets ({:.2} per page).",
            s.page_views, s.assets, s.assets_per_page
        ),
        format!(
            "# Pages per session: mean {:.3}, cv {:.2}; a geometric of that mean is {:.4} from the counts (KS){}.",
            s.pages.mean,
            s.pages.cv,
            s.pages.geometric_ks,
            if s.pages.model == "geometric" {
                ""
            } else {
                ", too far: the model draws from the counts (pages.csv)"
            }
        ),
        format!(
            "# Think: the time between the starts of consecutive pages (it holds the page's response): {}",
            think.best.dist
        ),
        format!(
            "# fitted by maximum likelihood to {} of {} gaps, mean {}, cv {:.2}, KS {:.4} (data: mean {}, cv {:.2});",
            think.fitted_on,
            think.gaps,
            ms(think.best.mean_s),
            think.best.cv,
            think.best.ks,
            ms(think.mean_s),
            think.cv
        ),
        format!(
            "# {:.2}% of the fit lies beyond the {} gap, where the data would have cut the session.",
            100.0 * think.beyond_gap,
            span(s.gap_s)
        ),
        format!(
            "# users: Little's law: {:.4} sessions/s x {:.3} pages x ({} response + {} think).",
            st.baseline_rate_per_s,
            s.pages.mean,
            ms(response),
            ms(think.best.mean_s)
        ),
        "# ASSUMPTION: sessions begin as a Poisson process around that rate.".into(),
    ]
}

/// The `kind = "users"` source of the visitors, with their returns when the data map them.
fn visitors_source(t: &mut String, s: &Sessions, think: &ThinkFit, users: f64) {
    let st = &s.starts;
    let lines = [
        "[[source]]".into(),
        "name = \"visitors\"".into(),
        "kind = \"users\"".into(),
        format!("users = {}", num(users.max(1e-6))),
        format!("pages = {}", pages_line(s)),
        format!("think = {}", dist_line(&think.best.fitted)),
        format!("profile = [{}]", knots(st)),
    ];
    for l in &lines {
        push(t, l);
    }
    let r = &s.returning;
    if let (true, Some(q), Some(g)) = (r.mapped, r.return_probability, &r.gap_fit) {
        push(t, &format!("# Returns: {}.", r.why));
        push(t, "[source.client]");
        push(
            t,
            &format!(
                "return = {{ probability = {}, after = {} }}",
                num(q),
                dist_line(&g.fitted)
            ),
        );
    }
    push(t, "");
}

/// The assets as a requests source at so many per page view with the sessions' profile, when
/// the log holds any.
fn assets_source(t: &mut String, s: &Sessions) {
    let st = &s.starts;
    if s.assets > 0 {
        let rate = st.baseline_rate_per_s * s.pages.mean * s.assets_per_page;
        push(
            t,
            &format!(
                "# Measured: {} asset requests ({:.2} per page view, `--assets` pattern). ASSUMPTION: they",
                s.assets, s.assets_per_page
            ),
        );
        push(
            t,
            "# arrive as Poisson at that many per page view, with the sessions' profile; remove this",
        );
        push(t, "# source if a CDN or a cache serves them.");
        push(t, "[[source]]");
        push(t, "name = \"assets\"");
        push(t, "kind = \"requests\"");
        push(t, &format!("rate = {}", num(rate.max(1e-6))));
        push(t, &format!("profile = [{}]", knots(st)));
        push(t, "");
    }
}

fn knots(a: &super::arrivals::Arrivals) -> String {
    a.profile
        .iter()
        .map(|(at, f)| format!("[{}, {}]", secs(*at), num(*f)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A folder holding what the model refers to (pages.csv), for the check that it loads.
pub(crate) fn check_folder(fit: &Fit) -> Result<Option<tempfile::TempDir>, String> {
    let Some(s) = fit.logs.sessions.as_ref() else {
        return Ok(None);
    };
    if fit.logs.model_source.kind != super::logs_doc::SourceKind::Users
        || s.pages.model != "empirical"
    {
        return Ok(None);
    }
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    std::fs::write(dir.path().join("pages.csv"), s.pages_csv())
        .map_err(|e| format!("cannot write a temporary pages.csv: {e}"))?;
    Ok(Some(dir))
}

/// When the data hold no response times and the service is given (`--service`) or assumed,
/// the threads assumed are enough not to queue at the busiest bucket's rate with that service
/// (Little's law, `threads_by_little`), not the requests in progress the data
/// cannot show.
pub(crate) fn without_times(fit: &mut Fit) {
    if fit.capacity.from != super::capacity::ThreadsFrom::Assumption || fit.service.is_some() {
        return;
    }
    let Some(given) = given_service(fit) else {
        return;
    };
    let (threads, why) = threads_by_little(fit, given.mean_s);
    fit.capacity.threads = threads as u32;
    fit.capacity.why = format!(
        "ASSUMPTION: threads unknown, confirm with --threads N; {}",
        why.trim_start_matches("ASSUMPTION: ")
    );
}
