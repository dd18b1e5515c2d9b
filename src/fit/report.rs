//! From the summaries of the files read to what `surge fit` reports (fit.json): line counts,
//! arrivals, the service-time fit of successful requests, the endpoints, and contention.
//!
//! The service fit in the model is the fit of the responses below the knee (all when there is
//! none), each divided by 1 + contention x its concurrency when contention is significant: the
//! time a thread would take alone, which the simulator multiplies back by 1 + contention x busy.

pub(crate) mod service_choice;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::arrivals::{self, Arrivals};
use super::collect::{Reservoir, Sample, WINDOW_S};
use super::concurrency::{self, Contention};
use super::dists::{Candidate, Fitted, fit_all};
use super::spread;
use super::{Options, Reading};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Lines {
    pub read: u64,
    pub parsed: u64,
    pub skipped: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BadLine {
    pub line: u64,
    pub why: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FileReport {
    pub path: PathBuf,
    pub format: String,
    pub lines: Lines,
    pub bad_lines: Vec<BadLine>,
    /// Responses recorded as 0, read as half the format's resolution.
    pub zero_times: u64,
    pub notes: BTreeMap<String, f64>,
    /// What the reader warns of how it read the file (extra fields read as absent, say).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// What the fit took from this file, where files without response times were given with
    /// files that have them (None: everything, from all the files together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_for: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Observed {
    pub responses: u64,
    pub mean_s: f64,
    pub cv: f64,
    pub p50_s: f64,
    pub p95_s: f64,
    pub p99_s: f64,
    /// Whether the percentiles come from every response or from the seeded sample.
    pub percentiles_from: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Service {
    pub dist: String,
    pub mean_s: f64,
    pub cv: f64,
    pub params: BTreeMap<String, f64>,
    pub aic: f64,
    pub ks: f64,
    /// What was fitted.
    pub basis: String,
    /// Responses the fit used (a seeded uniform sample when there are more than 100,000).
    pub fitted_on: usize,
    pub candidates: Vec<Candidate>,
    /// The successful responses as measured (exact mean and cv).
    pub observed: Observed,
    #[serde(skip, default = "super::dists::unfitted")]
    pub fitted: Fitted,
    /// The times fitted, sorted (for the chart).
    #[serde(skip)]
    pub sorted: Vec<f64>,
    /// What the model's service is: the best fit, or the times themselves when it misses them.
    pub written: Option<service_choice::Written>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EndpointFit {
    pub endpoint: String,
    pub requests: u64,
    pub share: f64,
    pub succeeded: u64,
    pub mean_s: Option<f64>,
    pub cv: Option<f64>,
    pub dist: Option<String>,
    pub params: Option<BTreeMap<String, f64>>,
    pub aic: Option<f64>,
    pub ks: Option<f64>,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Requests {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Requests dropped for a time more than 400 days from the others.
    pub out_of_span: u64,
    /// Failures that were the request turned away (the model's queue follows from them).
    #[serde(default)]
    pub refusals: super::refusals::Refusals,
}

/// fit.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Fit {
    pub files: Vec<FileReport>,
    pub lines: Lines,
    pub requests: Requests,
    pub arrivals: Arrivals,
    pub service: Option<Service>,
    pub endpoints: Vec<EndpointFit>,
    pub contention: Option<Contention>,
    /// The closed population of a load test that records its users (else None: open arrivals).
    pub closed: Option<super::closed::Closed>,
    /// The model's threads and where they come from.
    pub capacity: super::capacity::Capacity,
    /// The fitted model simulated against the data (filled in by `surge fit` once the model
    /// is written).
    pub round_trip: Option<super::roundtrip::RoundTrip>,
    /// The requests of the files with response times given beside files without them (their
    /// service and contention are fitted; their failures are not the model's `errors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_requests: Option<Requests>,
    /// Status codes, sessions, a service given rather than fitted, provenance, the source.
    #[serde(flatten)]
    pub logs: super::logs_doc::LogsFit,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn sorted_times(r: &Reservoir) -> Vec<f64> {
    let mut v: Vec<f64> = r.items.iter().map(|s| s.time_s).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Everything fit.json says, from the files read.
pub(crate) fn analyse(reading: &Reading, opts: &Options) -> Fit {
    let c = &reading.collected;
    let (files, lines) = file_reports(reading);
    let (bucket_s, bucket_note) = arrivals::bucket_for(c.first_s, c.last_s, opts);
    let mut arrivals = arrivals::from_seconds(&c.per_second, c.first_s, c.last_s, bucket_s);
    arrivals.bucket_note = bucket_note;
    let contention = concurrency::analyse(&c.windows, reading.recorded_concurrency, opts.threads);
    // the arrivals' variability (index of dispersion per second) enters the wait taken out
    let ca2 = arrivals.dispersion.unwrap_or(1.0).clamp(0.05, 4.0);
    let (basis, what) = service_basis(reading, contention.as_ref(), opts.threads, ca2);
    let service = fit_service(basis, what, observed(reading));
    let endpoints = endpoint_fits(reading, opts);
    let (closed, mut capacity) = population(reading, &arrivals, contention.as_ref(), opts);
    if capacity.from != super::capacity::ThreadsFrom::Assumption && !reading.recorded_concurrency {
        capacity.queue = super::queue_fit::fit(&c.windows, capacity.threads);
    }
    Fit {
        files,
        lines,
        requests: Requests {
            total: c.requests,
            succeeded: c.ok,
            failed: c.requests - c.ok,
            out_of_span: c.out_of_span,
            refusals: c.refusals,
        },
        arrivals,
        service,
        endpoints,
        contention,
        closed,
        capacity,
        round_trip: None,
        timing_requests: None,
        logs: Default::default(),
    }
}

/// Each file's line counts, bad lines and notes, and the line counts of all files together.
fn file_reports(reading: &Reading) -> (Vec<FileReport>, Lines) {
    let mut lines = Lines {
        read: 0,
        parsed: 0,
        skipped: 0,
    };
    let files = reading
        .files
        .iter()
        .map(|f| {
            lines.read += f.counts.read;
            lines.parsed += f.counts.parsed;
            lines.skipped += f.counts.skipped;
            FileReport {
                path: f.path.clone(),
                format: f.format.clone(),
                lines: Lines {
                    read: f.counts.read,
                    parsed: f.counts.parsed,
                    skipped: f.counts.skipped,
                },
                bad_lines: f
                    .counts
                    .bad
                    .iter()
                    .map(|(n, t, w)| BadLine {
                        line: *n,
                        why: w.clone(),
                        text: t.clone(),
                    })
                    .collect(),
                zero_times: f.zero_times,
                notes: f.notes.iter().cloned().collect(),
                warnings: f.warnings.clone(),
                used_for: None,
            }
        })
        .collect();
    (files, lines)
}

/// The times the service distribution is fitted on (the sampled successful responses below the
/// knee, with the wait for threads and the contention taken out), and a sentence saying so.
fn service_basis(
    reading: &Reading,
    contention: Option<&Contention>,
    threads_given: Option<u32>,
    ca2: f64,
) -> (Vec<f64>, String) {
    let c = &reading.collected;
    // Requests in progress of a kept response's window, as the contention fit saw it.
    let conc_of = |s: &Sample| -> Option<f64> {
        let i = s.window - c.windows.origin;
        let w = c.windows.cells.get(usize::try_from(i).ok()?)?;
        Some(concurrency::window_concurrency(w))
    };
    let knee = contention.and_then(|k| k.knee);
    let threads = contention.and_then(|k| k.waiting_taken_out_for);
    // With the waiting of threads taken out (open arrivals), the share of a response's window
    // mean that is service, and that window's requests in service, as in the fit.
    // A closed test given its threads: the machine-repairman waiting at the window's users.
    let closed_threads = threads_given.filter(|_| reading.recorded_concurrency);
    let below_knee = |s: &Sample| match (knee, conc_of(s)) {
        (Some(k), Some(n)) => n <= k,
        _ => true,
    };
    // open arrivals given their threads: the service's spread, deconvolved (see `spread`)
    let cv2 = threads
        .filter(|_| closed_threads.is_none() && !reading.recorded_concurrency)
        .and_then(|t| spread_of(c, t, ca2, &below_knee));
    let served = |s: &Sample| -> Option<(f64, f64)> {
        let w = c
            .windows
            .cells
            .get(usize::try_from(s.window - c.windows.origin).ok()?)?;
        let x = f64::from(w.requests) / WINDOW_S as f64;
        let mean = w.sum_time_ok / f64::from(w.timed_ok);
        let part = match closed_threads {
            Some(t) if w.n_conc > 0 => {
                let users = w.sum_conc / f64::from(w.n_conc);
                super::repairman::service_part(t, users, x, mean)?
            }
            _ => {
                let t = threads?;
                if reading.recorded_concurrency {
                    return None;
                }
                concurrency::service_part(t, x, mean)
            }
        };
        Some((part / mean, 1.0 + x * part))
    };
    let coef = contention
        .filter(|k| k.significant)
        .and_then(|k| k.coefficient);
    let mut basis: Vec<f64> = Vec::with_capacity(c.sample.items.len());
    for s in &c.sample.items {
        if !below_knee(s) {
            continue;
        }
        let n = conc_of(s);
        let (share, n) = match served(s) {
            Some((share, in_service)) => (share, Some(in_service)),
            None => (1.0, n),
        };
        basis.push(match (coef, n) {
            (Some(cf), Some(n)) => share * s.time_s / (1.0 + cf * n),
            _ => share * s.time_s,
        });
    }
    if let Some(k) = cv2 {
        spread::reshape(&mut basis, k);
    }
    // a closed test given its threads says its own waiting (machine-repairman), once
    let mut what = basis_sentence(knee, threads.filter(|_| closed_threads.is_none()), coef);
    if let Some(k) = cv2 {
        what.push_str(&format!(
            ", their spread set to the service's cv {:.2} that the responses' second moment leaves once the G/G/N wait (Allen-Cunneen, the arrivals' squared cv {ca2:.2} from their dispersion per second) of each window below 90% busy is taken out",
            k.sqrt()
        ));
    }
    if let Some(t) = closed_threads {
        what.push_str(&format!(
            ", each scaled by the share of its 10 s window's mean that is service once the wait \
             of the window's users for {t} threads (machine-repairman M/M/{t}//N) is taken out"
        ));
    }
    (basis, what)
}

/// The squared cv of the service of open arrivals given their threads: the responses sampled
/// below the knee, each window's count and sum of squares (see `spread`).
fn spread_of(
    c: &super::collect::Collected,
    threads: u32,
    ca2: f64,
    keep: &dyn Fn(&Sample) -> bool,
) -> Option<f64> {
    let mut obs: BTreeMap<i64, spread::Obs> = BTreeMap::new();
    for s in c.sample.items.iter().filter(|s| keep(s)) {
        let Some(w) = usize::try_from(s.window - c.windows.origin)
            .ok()
            .and_then(|i| c.windows.cells.get(i))
        else {
            continue;
        };
        let o = obs.entry(s.window).or_default();
        o.x = f64::from(w.requests) / WINDOW_S as f64;
        o.mean = w.sum_time_ok / f64::from(w.timed_ok);
        o.n += 1.0;
        o.sum_sq += s.time_s * s.time_s;
    }
    let obs: Vec<spread::Obs> = obs.into_values().collect();
    spread::fit_cv2(threads, &obs, ca2)
}

/// What the service fit was fitted on, in words: which responses, and what was taken out.
fn basis_sentence(knee: Option<f64>, threads: Option<u32>, coef: Option<f64>) -> String {
    let mut what = String::from("response times of successful requests");
    if let Some(k) = knee {
        what.push_str(&format!(", at most {k:.0} in progress (below the knee)"));
    }
    if let Some(t) = threads {
        what.push_str(&format!(
            ", each scaled by the share of its 10 s window's mean that is service once the wait \
             for {t} threads (M/M/{t}) is taken out"
        ));
    }
    if let Some(cf) = coef {
        what.push_str(&format!(
            ", each divided by 1 + {cf:.4} x its concurrency (the service time before contention)"
        ));
    }
    what
}

/// The response times as observed: count, mean, variation and percentiles.
fn observed(reading: &Reading) -> Observed {
    let c = &reading.collected;
    let raw = sorted_times(&c.sample);
    Observed {
        responses: c.times.n,
        mean_s: c.times.mean,
        cv: c.times.cv(),
        p50_s: percentile(&raw, 0.5),
        p95_s: percentile(&raw, 0.95),
        p99_s: percentile(&raw, 0.99),
        percentiles_from: if c.sample.complete() {
            "every response".into()
        } else {
            format!(
                "a seeded uniform sample of {} responses",
                c.sample.items.len()
            )
        },
    }
}

/// The best distribution fitted on the basis, its rivals, and the one the model is written with.
fn fit_service(mut basis: Vec<f64>, what: String, observed: Observed) -> Option<Service> {
    let service = fit_all(&basis).map(|cands| {
        let best = cands[0].clone();
        basis.sort_by(f64::total_cmp);
        Service {
            dist: best.dist.clone(),
            mean_s: best.mean_s,
            cv: best.cv,
            params: best.params.clone(),
            aic: best.aic,
            ks: best.ks,
            basis: what,
            fitted_on: basis.len(),
            candidates: cands,
            observed,
            fitted: best.fitted,
            sorted: std::mem::take(&mut basis),
            written: None,
        }
    });
    service.map(|mut s| {
        s.written = Some(service_choice::choose(&s));
        s
    })
}

/// The busiest endpoints, each with its own fit, then one row for all the others together.
fn endpoint_fits(reading: &Reading, opts: &Options) -> Vec<EndpointFit> {
    let c = &reading.collected;
    let mut order: Vec<usize> = (0..c.endpoints.len())
        .filter(|&i| c.endpoints[i].requests > 0)
        .collect();
    order.sort_by(|&a, &b| {
        c.endpoints[b]
            .requests
            .cmp(&c.endpoints[a].requests)
            .then(a.cmp(&b))
    });
    let total = c.requests.max(1) as f64;
    let mut endpoints: Vec<EndpointFit> = order
        .iter()
        .take(opts.endpoints)
        .map(|&i| {
            let e = &c.endpoints[i];
            let times: Vec<f64> = e.sample.items.iter().map(|s| s.time_s).collect();
            let cands = fit_all(&times).unwrap_or_default();
            let best = cands.first();
            EndpointFit {
                endpoint: reading.endpoints.name(i as u32).to_string(),
                requests: e.requests,
                share: e.requests as f64 / total,
                succeeded: e.ok,
                mean_s: (e.times.n > 0).then_some(e.times.mean),
                cv: (e.times.n > 1).then(|| e.times.cv()),
                dist: best.map(|b| b.dist.clone()),
                params: best.map(|b| b.params.clone()),
                aic: best.map(|b| b.aic),
                ks: best.map(|b| b.ks),
                candidates: cands,
            }
        })
        .collect();
    let rest: u64 = order
        .iter()
        .skip(opts.endpoints)
        .map(|&i| c.endpoints[i].requests)
        .sum();
    if rest > 0 {
        let ok: u64 = order
            .iter()
            .skip(opts.endpoints)
            .map(|&i| c.endpoints[i].ok)
            .sum();
        endpoints.push(EndpointFit {
            endpoint: format!("(the other {} endpoints)", order.len() - opts.endpoints),
            requests: rest,
            share: rest as f64 / total,
            succeeded: ok,
            mean_s: None,
            cv: None,
            dist: None,
            params: None,
            aic: None,
            ks: None,
            candidates: Vec::new(),
        });
    }
    endpoints
}

/// The closed population, when a file records users, and the threads.
fn population(
    reading: &Reading,
    arrivals: &Arrivals,
    contention: Option<&Contention>,
    opts: &Options,
) -> (Option<super::closed::Closed>, super::capacity::Capacity) {
    let c = &reading.collected;
    let (sum_time, timed) = c.windows.cells.iter().fold((0.0, 0u64), |(s, n), w| {
        (s + w.sum_time_all, n + u64::from(w.timed_all))
    });
    let closed = reading
        .recorded_concurrency
        .then(|| {
            let tool = reading
                .files
                .iter()
                .map(|f| f.format.as_str())
                .find(|f| f.starts_with("jtl") || f.starts_with("k6") || f.starts_with("locust"))
                .unwrap_or("");
            let from = match tool.split(' ').next() {
                Some("jtl") if tool.contains("XML") => "JMeter na (allThreads)",
                Some("jtl") => "JMeter allThreads",
                Some("k6") => "k6 vus",
                Some("locust") => "Locust User Count",
                _ => "the concurrency the files record",
            };
            let gaps = reading
                .files
                .iter()
                .find_map(|f| super::closed::gaps_from_notes(&f.notes));
            super::closed::analyse(
                &c.users,
                from,
                c.first_s,
                arrivals.span_s,
                c.requests,
                sum_time,
                timed,
                gaps,
            )
        })
        .flatten();
    let capacity = super::capacity::decide(
        opts.threads,
        contention,
        closed.as_ref(),
        sum_time,
        arrivals.span_s,
    );
    (closed, capacity)
}
