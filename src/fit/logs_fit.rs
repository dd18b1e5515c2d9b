//! What `surge fit` adds for access logs, and for logs without response times: the status
//! codes, the sessions (`sessions_fit`), the service time when the data hold none (from
//! `--service`, from the timed files given beside the log, or a placeholder marked
//! ASSUMPTION), which source the model uses (requests or users), and which figure came from
//! which file (fit.json's `provenance`).
//!
//! It reads nothing and writes nothing: `fit::read_all` reads, `model_logs` writes the model.

use super::logs_doc::{LogsFit, ModelSource, Provenance, ServiceGiven, SourceKind};
use super::report::{self, Fit};
use super::service_spec;
use super::sessions_fit::{self, Sessions};
use super::{Options, Reading, Readings};
use crate::model::error::BadInput;

/// What the fit takes from the files without response times, given with files that have them.
pub(crate) const TRAFFIC_FIGURES: &str =
    "arrivals, profile, surge, endpoints, status codes, errors, sessions";
/// What it takes from the files with response times given beside them.
pub(crate) const TIMING_FIGURES: &str =
    "service time, contention, knee (and the round trip's p95); not its arrivals nor its errors";

/// What `surge fit` was asked about the service and the source.
#[derive(Debug, Clone, Default)]
pub(crate) struct Asked {
    /// `--service DIST`.
    pub service: Option<String>,
    /// `--source`.
    pub source: Option<SourceKind>,
}

fn names(r: &Reading) -> Vec<String> {
    r.files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect()
}

/// Complete the fit of `readings.traffic` (already analysed into `fit`): the service and
/// contention of the timed files, `--service`, the sessions, the source. Errors are bad input
/// (a bad `--service`, `--source users` on data without sessions).
pub(crate) fn complete(
    fit: &mut Fit,
    readings: &Readings,
    opts: &Options,
    asked: &Asked,
) -> Result<(), BadInput> {
    let traffic = &readings.traffic;
    let mut p = Provenance {
        arrivals: names(traffic),
        ..Provenance::default()
    };
    let mut timed_from = traffic.timed.then(|| names(traffic).join(", "));
    if let Some(timing) = &readings.timing {
        let t = report::analyse(timing, opts);
        fit.service = t.service;
        fit.contention = t.contention;
        timed_from = Some(names(timing).join(", "));
        // every file's parse summary, each saying what the fit took from it
        for f in &mut fit.files {
            f.used_for = Some(TRAFFIC_FIGURES.into());
        }
        // (`fit.lines` stays the traffic's: the lines its requests were read from)
        for mut f in t.files {
            f.used_for = Some(TIMING_FIGURES.into());
            fit.files.push(f);
        }
        fit.timing_requests = Some(t.requests);
    }
    let given = match &asked.service {
        Some(s) => Some(ServiceGiven {
            spec: service_spec::parse(s).map_err(BadInput)?,
            from: "--service".into(),
        }),
        None if fit.service.is_none() && timed_from.is_none() => Some(ServiceGiven {
            spec: service_spec::parse(service_spec::ASSUMED).expect("the placeholder parses"),
            from: "assumption".into(),
        }),
        None => None,
    };
    p.service = match (&given, &timed_from, &fit.service) {
        (Some(g), Some(f), Some(_)) if g.from == "--service" => {
            format!("--service {} (it replaces the fit to {f})", g.spec.spec)
        }
        (Some(g), _, _) if g.from == "--service" => format!("--service {}", g.spec.spec),
        (Some(g), _, _) => format!("ASSUMPTION {} (nothing measured it)", g.spec.spec),
        (None, Some(f), _) => f.clone(),
        (None, None, _) => "none".into(),
    };
    p.contention = match (&fit.contention, &timed_from) {
        (Some(_), Some(f)) => f.clone(),
        (None, Some(_)) => "none: too few 10 s windows with responses".into(),
        (_, None) => "none: no response times".into(),
    };
    let c = &traffic.collected;
    let sessions = sessions_fit::fit(
        &traffic.visits,
        c.first_s,
        c.last_s,
        fit.arrivals.bucket_s,
        opts.assets.as_str(),
    );
    if sessions.is_some() {
        p.sessions = names(traffic);
    }
    let response_s = match &given {
        Some(g) => g.spec.mean_s,
        None => fit.service.as_ref().map_or(f64::NAN, |s| s.fitted.mean()),
    };
    let source = choose_source(
        sessions.as_ref(),
        asked.source.filter(|_| fit.closed.is_none()),
        response_s,
    )?;
    fit.logs = LogsFit {
        status_codes: Sessions::statuses(&traffic.visits),
        sessions,
        service_given: given,
        provenance: p,
        model_source: source,
    };
    Ok(())
}

/// The source the model uses: users where the data show sessions, unless `--source` says.
fn choose_source(
    sessions: Option<&Sessions>,
    asked: Option<SourceKind>,
    response_s: f64,
) -> Result<ModelSource, BadInput> {
    let users = |s: &Sessions, why: String| ModelSource {
        kind: SourceKind::Users,
        why,
        users: Some(s.users(response_s)),
        nominal_response_s: Some(response_s),
    };
    let requests = |why: String| ModelSource {
        kind: SourceKind::Requests,
        why,
        users: None,
        nominal_response_s: None,
    };
    Ok(match (asked, sessions) {
        (Some(SourceKind::Requests), _) => requests("--source requests".into()),
        (Some(SourceKind::Users), Some(s)) if s.think.is_some() && s.sessions > 0 => {
            users(s, format!("--source users ({})", s.why))
        }
        (Some(SourceKind::Users), Some(s)) => {
            return Err(BadInput(format!(
                "--source users: the data cannot make a users source: {}",
                s.why
            )));
        }
        (Some(SourceKind::Users), None) => {
            return Err(BadInput(
                "--source users: the data name no clients (an access log with the client's address is needed for sessions)".into(),
            ));
        }
        (None, Some(s)) if s.seen => users(s, format!("the data show sessions: {}", s.why)),
        (None, Some(s)) => requests(format!("the data show no sessions to fit: {}", s.why)),
        (None, None) => requests("the data name no clients, so no sessions".into()),
    })
}
