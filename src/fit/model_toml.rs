//! The model `surge fit` writes: one source (the baseline rate with its profile, or the trace
//! of recorded arrivals in a comment to swap in), one tier with the fitted service, contention
//! and a thread estimate, and comments saying what came from which data, how well it fits, and
//! what is an assumption to edit. The text is checked by loading it before it is written.
//! The users source of an access log's sessions, and a service given rather than fitted, are
//! written by `model_logs`; a closed load test's users source here (`closed_source`). The threads
//! are `capacity`'s.

use super::logs_doc::SourceKind;
use super::model_logs;
use super::report::Fit;
use super::toml_text::{comment_safe, dist_line, ms, num, secs, span};

/// The model text. `files` names the inputs for the header comment.
pub(crate) fn write(fit: &Fit, files: &str, name: &str) -> Result<String, String> {
    let given = model_logs::given_service(fit);
    if given.is_none() && fit.service.is_none() {
        return Err(format!(
            "fewer than 10 successful requests with a response time: no service fit ({} of {} over {} succeeded); a service distribution needs at least 10 response times, and so few requests show neither a rate nor a p95 a model could be checked against. Fit a longer run, or give --service DIST to write a model anyway (its round trip cannot be judged on so few requests)",
            fit.requests.succeeded,
            crate::fmt::counted(fit.requests.total, "request", "requests"),
            crate::fmt::exact_duration(fit.arrivals.span_s)
        ));
    }
    let users = fit.logs.model_source.kind == SourceKind::Users;
    let mut t = String::new();
    header(&mut t, fit, &comment_safe(files), given.is_some(), users);
    scenario(&mut t, fit, name);
    match &fit.closed {
        Some(c) => {
            closed_source(&mut t, c);
            p(&mut t, "");
        }
        None if users => model_logs::users_sources(&mut t, fit)?,
        None => requests_source(&mut t, &fit.arrivals),
    }
    tier(&mut t, fit, given.as_ref());
    check_loads(&t, fit)?;
    Ok(t)
}

/// The header comment: where the data came from, how much there was, what was measured and
/// what is given or assumed.
/// The model `model_text` (as `write` wrote it) at the load of a load test given beside its
/// log (`test`: that test fitted on its own): the test's scenario and source (its closed users
/// and think time, or its arrivals) before the model's own tiers; and the load in words. The
/// round trip sets its p95 beside the test's, each at the test's load. None when the model text
/// has no tier.
pub(crate) fn at_load_of(model_text: &str, test: &Fit) -> Option<(String, String)> {
    let tiers = model_text.find("\n[[tier]]")?;
    let mut t = String::new();
    scenario(&mut t, test, "at the load test's load");
    let load = match &test.closed {
        Some(c) => {
            closed_source(&mut t, c);
            format!("{} closed users, think {:.3} s", c.users, c.think_mean_s)
        }
        None => {
            requests_source(&mut t, &test.arrivals);
            format!("{:.2}/s", test.arrivals.mean_rate_per_s)
        }
    };
    t.push_str(&model_text[tiers..]);
    Some((t, load))
}

fn header(t: &mut String, fit: &Fit, files: &str, given: bool, users: bool) {
    p(t, &format!("# Fitted by `surge fit` from {files}."));
    p(
        t,
        &format!(
            "# {} over {} ({} succeeded, {:.2}% failed), read from {} ({} skipped).",
            crate::fmt::counted(fit.requests.total, "request", "requests"),
            span(fit.arrivals.span_s),
            fit.requests.succeeded,
            100.0 * fit.requests.failed as f64 / fit.requests.total.max(1) as f64,
            crate::fmt::counted(fit.lines.read, "line", "lines"),
            fit.lines.skipped
        ),
    );
    p(
        t,
        match (given, users) {
            (false, false) => {
                "# Measured: the arrivals (source), the service time and contention (tier). Assumed:"
            }
            (false, true) => {
                "# Measured: the sessions (source), the service time and contention (tier). Assumed:"
            }
            (true, false) => {
                "# Measured: the arrivals (source). Given or assumed: the service (tier) and"
            }
            (true, true) => {
                "# Measured: the sessions (source). Given or assumed: the service (tier) and"
            }
        },
    );
    p(
        t,
        "# every line marked ASSUMPTION. fit.json has every figure and fit.png shows the fits.",
    );
    p(t, "");
}

/// The `[scenario]` over the span of the data, and a commented-out `[surge]` to try a bigger day.
fn scenario(t: &mut String, fit: &Fit, name: &str) {
    let a = &fit.arrivals;
    p(t, "[scenario]");
    p(t, &format!("name = \"{name}\""));
    p(
        t,
        &format!("duration = {}   # the span of the data", secs(a.span_s)),
    );
    p(t, "seed = 1");
    p(t, &format!("bucket = {}", secs(a.bucket_s)));
    p(t, "");
    p(
        t,
        "# To try a bigger day, add a surge (ASSUMPTION: yours to choose), e.g.",
    );
    p(t, "# [surge]");
    p(
        t,
        &format!(
            "# peak = 3.0   # {}",
            crate::fit::surge::said(a.surge.as_ref())
        ),
    );
    p(t, "# start = \"10m\"");
    p(t, "# ramp = \"5m\"");
    p(t, "# hold = \"10m\"");
    p(t, "# decay = \"5m\"");
    p(t, "");
}

/// The `[[tier]]`: threads and queue from the capacity estimate, the given or fitted service
/// with the comments that explain it, contention and the error rate.
fn tier(t: &mut String, fit: &Fit, given: Option<&model_logs::GivenLines>) {
    let fitted = fit.service.as_ref();
    let c = fit.contention.as_ref();
    let coef = c.filter(|c| c.significant).and_then(|c| c.coefficient);
    let threads = fit.capacity.threads;
    let why = &fit.capacity.why;
    let service_line = match (given, fitted) {
        (Some(g), _) => {
            for line in &g.comments {
                p(t, line);
            }
            g.dist.clone()
        }
        (None, Some(s)) => {
            fitted_service_comments(t, fit, s);
            match &s.written {
                Some(w) if w.kind == "empirical" => {
                    p(t, &format!("# The model's service: {}.", w.why));
                    format!(
                        "{{ dist = \"empirical\", file = \"{}\" }}",
                        super::report::service_choice::SERVICE_CSV
                    )
                }
                _ => dist_line(&s.fitted),
            }
        }
        (None, None) => unreachable!("checked by write"),
    };
    let contention_comment = if c.is_none() && given.is_some() && fitted.is_none() {
        "not measurable: no response times".to_string()
    } else {
        contention_comment(c)
    };
    p(t, "[[tier]]");
    p(t, "name = \"site\"");
    p(
        t,
        "instances = 1   # ASSUMPTION: all threads in one instance; split threads x instances as your site is",
    );
    p(t, &format!("threads = {threads}   # {why}"));
    for line in fit.requests.refusals.model_lines(
        fit.requests.total,
        threads,
        fit.capacity.queue.as_ref().map(|q| (q.places, q.why())),
    ) {
        p(t, &line);
    }
    p(t, &format!("service = {service_line}"));
    p(
        t,
        &format!(
            "contention = {}   # {contention_comment}",
            num(coef.unwrap_or(0.0))
        ),
    );
    errors_line(t, fit);
}

/// The model must load as written: parse it beside the files it names (the sessions' and an
/// empirical service.csv), written to a temporary folder.
fn check_loads(t: &str, fit: &Fit) -> Result<(), String> {
    let mut folder = model_logs::check_folder(fit)?;
    if let Some(s) = super::report::service_choice::empirical(fit) {
        let dir = match folder {
            Some(d) => d,
            None => {
                tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?
            }
        };
        std::fs::write(
            dir.path().join(super::report::service_choice::SERVICE_CSV),
            super::report::service_choice::csv(s),
        )
        .map_err(|e| format!("cannot write a temporary service.csv: {e}"))?;
        folder = Some(dir);
    }
    let base = folder
        .as_ref()
        .map_or(std::path::Path::new("."), |d| d.path());
    crate::model::parse_text(t, "model.toml", base)
        .map_err(|e| format!("the fitted model does not load: {e}"))?;
    Ok(())
}

/// The `[[source]]` of requests: the baseline rate with its profile, the trace in a comment.
fn requests_source(t: &mut String, a: &super::arrivals::Arrivals) {
    p(
        t,
        &format!(
            "# Measured: requests per second, the median {} bucket's rate ({} buckets; mean {:.3}/s,",
            span(a.bucket_s),
            a.counts.len(),
            a.mean_rate_per_s
        ),
    );
    p(
        t,
        &format!(
            "# peak {:.3}/s); the profile follows the buckets in {}, scaled by {:.4} so that it holds",
            a.peak_rate_per_s,
            crate::fmt::counted(a.profile.len() as u64, "knot", "knots"),
            a.profile_scale
        ),
    );
    p(
        t,
        "# exactly the requests counted. ASSUMPTION: arrivals are Poisson around that rate.",
    );
    if a.paced() {
        p(
            t,
            &format!(
                "# The data's requests were sent on a schedule (dispersion {:.2} of the requests per second;",
                a.dispersion.unwrap_or(0.0)
            ),
        );
        p(
            t,
            "# Poisson's is 1): a constant-rate load generator. Poisson arrivals, as users make, wait more.",
        );
    }
    p(
        t,
        "# To replay the recorded arrivals per bucket instead, replace this [[source]] by:",
    );
    p(t, "#   [[source]]");
    p(t, "#   name = \"recorded\"");
    p(t, "#   kind = \"trace\"");
    p(t, "#   file = \"arrivals.csv\"");
    p(t, "[[source]]");
    p(t, "name = \"recorded\"");
    p(t, "kind = \"requests\"");
    p(t, &format!("rate = {}", num(a.baseline_rate_per_s)));
    let knots: Vec<String> = a
        .profile
        .iter()
        .map(|(at, f)| format!("[{}, {}]", secs(*at), num(*f)))
        .collect();
    p(t, &format!("profile = [{}]", knots.join(", ")));
    p(t, "");
}

/// The comments on a fitted service: the candidates, the data, the failures left out.
fn fitted_service_comments(t: &mut String, fit: &Fit, s: &super::report::Service) {
    p(
        t,
        &format!(
            "# Service: {} fitted by maximum likelihood to {} {} (best AIC of exponential, lognormal,",
            s.dist, s.fitted_on, s.basis
        ),
    );
    let others: Vec<String> = s
        .candidates
        .iter()
        .map(|c| format!("{} AIC {:.1} KS {:.4}", c.dist, c.aic, c.ks))
        .collect();
    p(t, &format!("# gamma, Weibull: {}).", others.join("; ")));
    p(
        t,
        &format!(
            "# Fitted mean {}, cv {:.3}; the data: mean {}, cv {:.3}, p50 {}, p95 {} ({} responses).",
            ms(s.mean_s),
            s.cv,
            ms(s.observed.mean_s),
            s.observed.cv,
            ms(s.observed.p50_s),
            ms(s.observed.p95_s),
            s.observed.responses
        ),
    );
    if let Some(r) = &fit.timing_requests {
        p(
            t,
            &format!(
                "# {} failed requests of the files with response times are left out of the service fit; `errors` below is the share of the traffic's files, not theirs.",
                r.failed
            ),
        );
    } else if fit.requests.failed > 0 {
        p(
            t,
            &format!(
                "# {} failed requests are left out of the service fit; {}.",
                fit.requests.failed,
                refusals_said(fit)
            ),
        );
    }
}

/// What `errors` below does with the failures: fail them all, those not turned away, or none.
fn refusals_said(fit: &Fit) -> String {
    let (n, failed) = (queue_makes_refusals(fit), fit.requests.failed);
    let assumed = if fit.capacity.from == super::capacity::ThreadsFrom::Assumption {
        "; at the ASSUMED threads, sized so that nothing waits, the model's queue may fill less often than the site's did: give --threads N"
    } else {
        ""
    };
    match n {
        0 => "`errors` below fails as many".into(),
        n if n >= failed => format!(
            "no `errors` below: all {n} were turned away, and the queue makes them, not `errors`{assumed}"
        ),
        n => format!(
            "`errors` below fails those not turned away ({n} were: the queue makes them, not `errors`{assumed})"
        ),
    }
}

/// The requests turned away that the model's queue makes itself, so that `errors` leaves them
/// out: all of them, whether the threads are known or assumed. The refusals are the evidence
/// that a queue fills (they give the tier its `queue`); counted in `errors` too, they would be
/// failed twice, once whatever the load and once more when the queue fills. Where the threads
/// are an assumption sized so that nothing waits, the model's queue may then turn away fewer
/// than the data did: the comment and the round trip say so.
fn queue_makes_refusals(fit: &Fit) -> u64 {
    fit.requests.refusals.turned_away
}

/// The comment after `contention = `: measured, not distinguishable from 0, or not told.
fn contention_comment(c: Option<&super::concurrency::Contention>) -> String {
    let Some(c) = c else {
        return "ASSUMPTION: 0; not measurable: too few 10 s windows with responses".into();
    };
    let se = c.coefficient_se.unwrap_or(f64::NAN);
    match c.coefficient {
        Some(k) if c.significant => format!(
            "measured: time = s x (1 + {k:.5} x n), n requests in progress, standard error {se:.5}; tested against the {}{}",
            c.load_from,
            if c.waiting_taken_out_for.is_none() && c.load_from.starts_with("arrivals") {
                " (ASSUMPTION: all of it contention, none waiting for threads: without the thread count the fit cannot tell queueing from contention, and contention grows more slowly than a queue past the load seen, so the model is optimistic above it; give `surge fit --threads N`, threads x instances from your config)"
            } else if c.waiting_taken_out_for.is_none() {
                " (ASSUMPTION: all of it contention, none waiting for threads)"
            } else {
                ""
            }
        ),
        Some(k) if c.verdict == "not distinguishable from 0" => {
            format!(
                "measured: {k:.5} +- {se:.5} (standard error), not distinguishable from 0, so 0"
            )
        }
        Some(k) if c.verdict == super::concurrency::FASTER => format!(
            "measured: {k:.5} +- {se:.5} (standard error), faster under load: not contention (likely caching or warm-up), so 0"
        ),
        Some(k) if c.verdict == super::concurrency::BELOW_ONCE_WAITING_IS_OUT => format!(
            "measured: {k:.5} +- {se:.5} (standard error), below 0 once the waiting for threads is taken out: not contention, so 0"
        ),
        _ => format!(
            "ASSUMPTION: 0; contention cannot be told from these data: {}",
            c.note
        ),
    }
}

fn p(t: &mut String, line: &str) {
    t.push_str(line);
    t.push('\n');
}

/// A closed load test: its users, their think time and how they ramped.
fn closed_source(t: &mut String, c: &super::closed::Closed) {
    p(
        t,
        &format!(
            "# Measured: a closed load test. {} recorded at most {} users at once ({:.1} on average);",
            c.users_from, c.users, c.mean_users
        ),
    );
    p(
        t,
        &format!(
            "# the profile follows them in {}. Little's law over the span, N = X (R + Z): X = {:.3}/s,",
            crate::fmt::counted(c.profile.len() as u64, "knot", "knots"),
            c.throughput_per_s
        ),
    );
    p(
        t,
        &format!(
            "# R = {} (every request), Z = {:.3} s. Think time: mean {:.3} s, cv {:.2}, from {}.",
            ms(c.mean_response_s),
            c.think_little_s,
            c.think_mean_s,
            c.think_cv,
            c.think_from
        ),
    );
    p(
        t,
        "# Each user loops think -> request, and one who leaves is replaced at once (population = \"closed\").",
    );
    p(
        t,
        "# arrivals.csv holds the requests per bucket: a kind = \"trace\" source replays them as open arrivals.",
    );
    p(t, "[[source]]");
    p(t, "name = \"recorded\"");
    p(t, "kind = \"users\"");
    p(t, "population = \"closed\"");
    p(t, &format!("users = {}", c.users));
    p(
        t,
        "pages = { dist = \"deterministic\", value = 1 }   # a session a request: the same loop for a closed user",
    );
    p(t, &format!("think = {}", c.think.toml()));
    let knots: Vec<String> = c
        .profile
        .iter()
        .map(|(at, f)| format!("[{}, {}]", secs(*at), num(*f)))
        .collect();
    p(t, &format!("profile = [{}]", knots.join(", ")));
}

/// The tier's `errors`: the share of the requests that failed, when some did.
fn errors_line(t: &mut String, fit: &Fit) {
    let failed = fit.requests.failed - queue_makes_refusals(fit).min(fit.requests.failed);
    if failed == 0 {
        return;
    }
    let share = failed as f64 / fit.requests.total.max(1) as f64;
    let what = if failed < fit.requests.failed {
        "failed other than by being turned away"
    } else {
        "failed"
    };
    p(
        t,
        &format!(
            "errors = {}   # measured: {:.2}% of the requests {what}; ASSUMPTION: whatever the load (overload losses come on top)",
            num(share),
            100.0 * share
        ),
    );
}
