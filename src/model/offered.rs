//! The load a model offers: requests per second reaching the first tier at baseline and at the
//! surge's peak, each tier's offered Erlangs against its threads, and the bottleneck (the tier
//! offered the largest share of its threads at the peak). `surge check` prints them and
//! `surge report` searches the bottleneck's instances.
//!
//! Not here: exact queueing results (`analytic`), and what a simulation measures (`metrics`):
//! these are the model's nominal figures, before any queueing.

use super::{Model, Source, SourceKind, amplification};

/// Requests per second offered to the first tier at time `t`, at nominal speed. A trace is
/// replayed as recorded (no profile, no surge): it offers its mean rate over the horizon at
/// baseline and its busiest bucket's rate at peak, whatever `t`.
pub(crate) fn request_rate(model: &Model, t: f64, peak: bool) -> f64 {
    (model.sources.iter())
        .map(|s| request_rate_of(model, s, t, peak))
        .sum()
}

/// Requests per second the edge rate limits let through to the first tier at time `t`: each
/// source's offer capped at its own bucket's rate, then the sum at the site's (a token bucket
/// admits at most its rate over any long span; its burst only shifts when). Without a limit,
/// the offer itself. The first attempts a bucket refuses come back as retries, which the
/// bucket refuses too: they change what is offered, not what is admitted.
pub(crate) fn admitted_rate(model: &Model, t: f64, peak: bool) -> f64 {
    let per_source = through_source_limits(model, t, peak);
    model
        .rate_limit
        .map_or(per_source, |l| per_source.min(l.rate))
}

/// Requests per second the sources' own buckets let through at time `t` (what the site's
/// bucket, asked after them, is offered).
pub(crate) fn through_source_limits(model: &Model, t: f64, peak: bool) -> f64 {
    (model.sources.iter())
        .map(|s| {
            let r = request_rate_of(model, s, t, peak);
            s.rate_limit.map_or(r, |l| r.min(l.rate))
        })
        .sum()
}

/// One source's requests per second at time `t` (see `request_rate`).
pub(crate) fn request_rate_of(model: &Model, s: &Source, t: f64, peak: bool) -> f64 {
    let factor = if peak { model.surge.factor(t) } else { 1.0 };
    let (horizon, bucket) = (model.scenario.duration_s, model.scenario.bucket_s);
    let base = s.baseline * s.profile.at(t) * factor;
    match s.kind {
        SourceKind::Requests => base,
        SourceKind::Trace => s.trace.as_ref().map_or(0.0, |tr| {
            if peak {
                tr.peak_rate(horizon, bucket)
            } else {
                tr.mean_rate(horizon)
            }
        }),
        SourceKind::Users => {
            let think = s.think.as_ref().map_or(0.0, |d| d.mean());
            base / (model.nominal_response_s() + think)
        }
    }
}

/// One tier's offered load as `check` prints it: the Erlangs it is offered at baseline and at
/// the surge peak (each tier sees the share of requests that visit it, of those the edge rate
/// limits let through; a thread is held through its own service and every later tier's),
/// against its threads. When tiers retry their callees (`[tier.retry]`) each call brings the
/// attempts `amplification` predicts, and a thread is held through the deeper attempts and the
/// backoffs too.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TierLoad {
    pub(crate) hold_s: f64,
    pub(crate) threads: f64,
    pub(crate) base: f64,
    pub(crate) peak: f64,
    /// What the loads count per call admitted.
    pub(crate) per_call: PerCall,
}

/// What a tier's load counts per call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PerCall {
    /// No tier retries its callee: the share of calls that visit the tier, one attempt each
    /// (the clients' own retries are not counted).
    Visits,
    /// Attempts per call at the surge peak, from the retries of the tiers above and of the
    /// clients, counted from `errors` alone (`amplification`; its ASSUMPTION: no overload).
    Attempts(f64),
    /// Tiers above retry it, but it fails nothing whatever the load (or they retry only
    /// rejections and timeouts): one attempt per call visiting it is counted, whatever the
    /// retries of its load-dependent failures add.
    LoadDependent,
}

impl TierLoad {
    /// The share of its threads the tier is offered at the surge peak.
    pub(crate) fn peak_utilisation(&self) -> f64 {
        self.peak / self.threads
    }
}

/// Every tier's offered load, in the model's order (at the busiest moment of the surge).
pub(crate) fn tier_loads(model: &Model) -> Vec<TierLoad> {
    let peak_t = {
        let [_, top, _, _] = model.surge.breakpoints();
        top.min(model.scenario.duration_s)
    };
    let (base, peak) = (
        admitted_rate(model, peak_t, false),
        admitted_rate(model, peak_t, true),
    );
    if amplification::hop_retries(model) {
        return retried_loads(model, peak_t, [base, peak]);
    }
    (model.tiers.iter().enumerate())
        .map(|(i, t)| {
            let hold_s: f64 = t.service.mean()
                + (model.tiers[i + 1..].iter())
                    .map(|u| u.visit * u.service.mean())
                    .sum::<f64>();
            TierLoad {
                hold_s,
                threads: f64::from(t.instances) * f64::from(t.threads),
                base: base * t.visit * hold_s,
                peak: peak * t.visit * hold_s,
                per_call: PerCall::Visits,
            }
        })
        .collect()
}

/// The loads when tiers retry their callees: `admitted` calls a second (at baseline, at the
/// peak) times each tier's attempts per call (the sources' own, weighted by what each offers)
/// times the time a thread is held per attempt.
fn retried_loads(model: &Model, t: f64, admitted: [f64; 2]) -> Vec<TierLoad> {
    let v = amplification::per_visit(model);
    let per_source: Vec<Vec<f64>> = (model.sources.iter())
        .map(|s| amplification::of_source(model, s, &v).0)
        .collect();
    // Attempts per call admitted at tier i, the sources weighted by what they send then.
    let mean = |i: usize, peak: bool| {
        let rates = model.sources.iter().map(|s| {
            let r = request_rate_of(model, s, t, peak);
            s.rate_limit.map_or(r, |l| r.min(l.rate))
        });
        let (sum, weight) =
            (rates.zip(&per_source)).fold((0.0, 0.0), |(a, w), (r, x)| (a + r * x[i], w + r));
        if weight > 0.0 { sum / weight } else { 0.0 }
    };
    (model.tiers.iter().enumerate())
        .map(|(i, tier)| {
            let (at_base, at_peak) = (mean(i, false), mean(i, true));
            let retried_above = model.tiers[..i].iter().any(|u| u.retry.is_some());
            // Above one attempt per call visiting by a thousandth at least (a client's retries
            // of a call failing once in 50,000 are not worth a note).
            let per_call = if at_peak > tier.visit * (1.0 + 1e-3) {
                PerCall::Attempts(at_peak)
            } else if retried_above {
                PerCall::LoadDependent
            } else {
                PerCall::Visits
            };
            TierLoad {
                hold_s: v.hold_s[i],
                threads: f64::from(tier.instances) * f64::from(tier.threads),
                base: admitted[0] * at_base * v.hold_s[i],
                peak: admitted[1] * at_peak * v.hold_s[i],
                per_call,
            }
        })
        .collect()
}

/// The bottleneck as `check` reads it: the tier offered the largest share of its threads at the
/// surge peak (the first of equals), and why, in words ("offered 150% of its threads at the
/// surge peak, the most of the 2 tiers (web 21%)").
pub(crate) fn bottleneck(model: &Model) -> Option<(usize, String)> {
    let loads = tier_loads(model);
    let (i, top) = (loads.iter().enumerate()).reduce(|a, b| {
        if b.1.peak_utilisation() > a.1.peak_utilisation() {
            b
        } else {
            a
        }
    })?;
    let others: Vec<String> = (model.tiers.iter().zip(&loads).enumerate())
        .filter(|(j, _)| *j != i)
        .map(|(_, (t, l))| format!("{} {:.0}%", t.name, 100.0 * l.peak_utilisation()))
        .collect();
    let why = if others.is_empty() {
        format!(
            "offered {:.0}% of its threads at the surge peak, the model's only tier",
            100.0 * top.peak_utilisation()
        )
    } else {
        format!(
            "offered {:.0}% of its threads at the surge peak, the most of the {} tiers ({})",
            100.0 * top.peak_utilisation(),
            loads.len(),
            others.join(", ")
        )
    };
    Some((i, why))
}
