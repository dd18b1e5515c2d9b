//! `surge check`: validate a model and print, per tier, the offered load and utilisation at
//! baseline and at the surge's peak, and, for a model that is a single stationary open queue,
//! the exact M/M/c, M/M/c/K, Erlang B or M/G/1 predictions to compare a run with (the closed
//! populations' bounds and the finite-source M/M/c//N prediction are worded in `check_closed`).
//! The figures come typed from `app::check`; this file only words them.

use anyhow::Result;

use crate::app::ModelSource;
use crate::app::check::{
    CheckOutcome, CheckSettings, DurationRead, Figure, NoPrediction, PoolLoad, Prediction, Queue,
    UnitNote,
};
use crate::cli::CheckArgs;
use crate::experiment::guard::{EVENTS_PER_S, HUGE_EVENTS};
use crate::fmt::{exact_duration, human_duration};
use crate::model::offered::{PerCall, TierLoad};

pub fn check(args: &CheckArgs) -> Result<()> {
    let settings = CheckSettings {
        source: ModelSource::new(args.model.as_deref(), &args.overrides.list()),
    };
    let outcome = crate::app::check::check(&settings)?;
    super::run::say(&text(&outcome))
}

/// Everything `surge check` prints: the description, the variants, the warnings, the
/// durations read.
pub(crate) fn text(outcome: &CheckOutcome) -> String {
    let mut s = describe(outcome);
    if !outcome.variants.is_empty() {
        s.push_str(&format!(
            "variants: {} (each loads and checks; `surge compare` runs them)\n",
            outcome.variants.join(", ")
        ));
    }
    for w in &outcome.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s.push_str(&durations_read(&outcome.durations));
    s
}

/// Every duration the model states, with its key path, as written and in human units, so that a
/// unit mistake (`timeout = 30000` meant as milliseconds) shows.
fn durations_read(all: &[DurationRead]) -> String {
    if all.is_empty() {
        return String::new();
    }
    let mut s = String::from("durations read (a bare number is seconds):\n");
    let width = all.iter().map(|d| d.written.key.len()).max().unwrap_or(0);
    for DurationRead { written: d, unit } in all {
        let Some(v) = d.seconds else { continue };
        let shown = exact_duration(v);
        let note = match unit {
            UnitNote::MaybeMilliseconds => format!(
                " (a bare number is seconds): if you meant milliseconds, write \"{}ms\"",
                d.written
            ),
            UnitNote::BareSeconds => " (a bare number is seconds)".to_string(),
            UnitNote::None => String::new(),
        };
        s.push_str(&format!(
            "  {:<width$} = {shown:<14} written {}{note}\n",
            d.key, d.written
        ));
    }
    s
}

/// The text `surge check` prints before the warnings.
fn describe(o: &CheckOutcome) -> String {
    let model = &o.model;
    let sc = &model.scenario;
    let mut s = format!(
        "model {} is valid: {}, {}, horizon {} s\n",
        sc.name,
        plural(model.sources.len(), "source"),
        plural(model.tiers.len(), "tier"),
        sc.duration_s
    );
    s.push_str(&offered_lines(o));
    for (k, (t, l)) in model.tiers.iter().zip(&o.tiers).enumerate() {
        s.push_str(&tier_line(t, l, o.closed));
        s.push_str(&pool_effect_lines(model, &o.pools, k));
    }
    s.push_str(&pool_lines(model, &o.pools));
    s.push_str(&amplification_lines(o));
    s.push_str(&super::check_closed::closed_lines(&o.closed_bounds));
    s.push_str(&prediction_text(&o.prediction));
    s.push_str(&format!(
        "estimated events per run: {:.2e} (about {} of CPU at {} M events/s; refused above {:.0e} without --allow-huge)\n",
        o.events,
        human_duration(o.events / EVENTS_PER_S),
        EVENTS_PER_S / 1e6,
        HUGE_EVENTS,
    ));
    s
}

/// One tier's load line: its threads, service, hold, offered Erlangs and what they count per
/// call.
fn tier_line(t: &crate::model::Tier, l: &TierLoad, closed: bool) -> String {
    let (hold, threads, a0, a1) = (l.hold_s, l.threads, l.base, l.peak);
    let counted = match l.per_call {
        PerCall::Visits => String::new(),
        PerCall::Attempts(x) => format!(
            " (x{} attempts per call from [tier.retry]: retries of the `errors` alone, more under overload)",
            // Two places, or three where two would read as exactly one.
            if format!("{x:.2}") == "1.00" { format!("{x:.3}") } else { format!("{x:.2}") }
        ),
        PerCall::LoadDependent => " (the load counts one attempt per call: the tiers above retry it only on failures that depend on the load, rejections and timeouts)".to_string(),
    };
    format!(
        "tier {}: {} x {} threads; mean service {:.4} s (cv {:.2}), thread held {:.4} s; offered load {:.1} Erlangs at baseline (utilisation {:.1}%), {:.1} at peak ({:.1}%){counted}{}\n",
        t.name,
        plural(t.instances as usize, "instance"),
        t.threads,
        t.service.mean(),
        t.service.cv(),
        hold,
        a0,
        100.0 * a0 / threads,
        a1,
        100.0 * a1 / threads,
        match (a1 >= threads, closed) {
            (false, _) => "",
            (true, false) => " — overloaded at peak",
            (true, true) => " — short of threads at peak (closed users then wait, not pile up)",
        }
    )
}

/// What the connection pools did to tier `k`'s load line: capped as a callee ("capped by
/// app's pool: ..."), grown as a caller or above one ("of which ... held waiting for a db
/// connection").
fn pool_effect_lines(model: &crate::model::Model, pools: &[PoolLoad], k: usize) -> String {
    let name = |i: usize| model.tiers[i].name.as_str();
    let mut s = String::new();
    for p in pools
        .iter()
        .filter(|p| p.caller + 1 == k && p.capped_at_peak())
    {
        s.push_str(&format!(
            "  capped by {}'s pool: {:.1} Erlangs offered at peak ({:.1} at baseline), but at \
             most {} requests in {} at once (the rest wait for a connection in {})\n",
            name(p.caller),
            p.uncapped[1],
            p.uncapped[0],
            p.cap,
            name(k),
            name(p.caller)
        ));
    }
    for p in pools.iter().filter(|p| p.caller >= k && p.held[1] > 0.0) {
        let wait = |w: Option<f64>| {
            w.map_or_else(
                || {
                    format!(
                        "up to the {} timeout (the pool is overloaded)",
                        human_duration(model.tiers[p.caller].pool.map_or(0.0, |x| x.timeout_s))
                    )
                },
                |w| format!("{} on average (M/M/{}, Erlang C)", human_duration(w), p.cap),
            )
        };
        s.push_str(&format!(
            "  of which {:.1} Erlangs at peak ({:.1} at baseline) are threads held waiting for a \
             {} connection{}: {} at peak, {} at baseline\n",
            p.held[1],
            p.held[0],
            name(p.caller + 1),
            if p.caller == k {
                String::new()
            } else {
                format!(" in {}", name(p.caller))
            },
            wait(p.wait_s[1]),
            wait(p.wait_s[0]),
        ));
    }
    s
}

/// Each connection pool's cap: what the calling tier's instances can have in the tier it calls
/// at once, against that tier's threads and against the requests the called tier's predicted
/// load would hold there at once (its Erlangs before the cap: the pool is the bottleneck when
/// they reach it).
fn pool_lines(model: &crate::model::Model, pools: &[PoolLoad]) -> String {
    let mut s = String::new();
    for (k, t) in model.tiers.iter().enumerate() {
        let (Some(p), Some(callee)) = (t.pool, model.tiers.get(k + 1)) else {
            continue;
        };
        let cap = u64::from(p.connections) * u64::from(t.instances);
        let threads = u64::from(callee.threads) * u64::from(callee.instances);
        let most = t.autoscale.map_or(String::new(), |a| {
            format!(
                ", {} with the autoscaler's {} instances",
                u64::from(p.connections) * u64::from(a.max_instances),
                a.max_instances
            )
        });
        s.push_str(&format!(
            "pool {} -> {}: {} connections per instance x {} = at most {cap} requests of {} in {} at once{most} ({} has {threads} threads{}); a request waits at most {} for a connection, then fails\n",
            t.name,
            callee.name,
            p.connections,
            plural(t.instances as usize, "instance"),
            t.name,
            callee.name,
            callee.name,
            if cap > threads {
                ": the pool lets more in than it can serve at once, the rest queue there"
            } else {
                ""
            },
            human_duration(p.timeout_s),
        ));
        if let Some(l) = (pools.iter()).find(|q| q.caller == k && q.capped_at_peak()) {
            s.push_str(&format!(
                "  — pool overloaded at peak: {:.1} requests of {} in {} at once needed ({:.1} at the baseline), the pool lets {cap} in: the rest wait for a connection, and fail after {}\n",
                l.uncapped[1],
                t.name,
                callee.name,
                l.uncapped[0],
                human_duration(p.timeout_s),
            ));
        }
    }
    s
}

/// The retry amplification predicted per source: attempts per call at each tier.
fn amplification_lines(o: &CheckOutcome) -> String {
    let mut s = String::new();
    for a in &o.amplification {
        let tiers: Vec<String> = (o.model.tiers.iter().zip(&a.attempts_per_call))
            .map(|(t, x)| format!("{} {x:.3}", t.name))
            .collect();
        let last = o.model.tiers.last().map_or("", |t| t.name.as_str());
        s.push_str(&format!(
            "retries at every hop, source {}: attempts per call (each attempt of a tier counted where it arrives) {}; a call fails {:.4}% of the time; at most {} attempts per call at {last} if every attempt fails (ASSUMPTION: from the tiers' `errors` alone: no tier overloaded, no retry budget spent; the tier loads above count these attempts)\n",
            a.source,
            tiers.join(", "),
            100.0 * a.call_failure,
            a.worst,
        ));
    }
    s
}

/// "1 source", "2 tiers".
fn plural(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// The offered requests at baseline and at the surge peak, and a note where the surge does not
/// apply to trace sources.
fn offered_lines(o: &CheckOutcome) -> String {
    let (model, off) = (&o.model, &o.offered);
    let (base, peak, traces) = (off.base, off.peak, off.traces);
    let mut s = if traces == model.sources.len() {
        format!(
            "offered requests (from the trace{}): {base:.1}/s on average over the horizon, {peak:.1}/s in the busiest {} (its peak bucket)\n",
            if traces > 1 { "s" } else { "" },
            human_duration(model.scenario.bucket_s),
        )
    } else {
        format!(
            "offered requests: {base:.1}/s at baseline, {peak:.1}/s at the surge peak ({}x){}\n",
            model.surge.peak,
            if traces > 0 {
                "; trace sources at their mean and at their busiest bucket"
            } else {
                ""
            }
        )
    };
    if traces > 0 && model.surge.peak != 1.0 {
        s.push_str(&format!(
            "note: surge.peak = {} does not apply to trace sources (replayed as recorded): ignored for {}\n",
            model.surge.peak,
            if traces == model.sources.len() {
                "every source of this model"
            } else {
                "them"
            }
        ));
    }
    s.push_str(&rate_limit_lines(o));
    s
}

/// The edge rate limits, and the share of the first attempts each must refuse at the surge
/// peak (a fluid bound: `1 - rate / offered`; retries of the 429s add to it).
fn rate_limit_lines(o: &CheckOutcome) -> String {
    let mut s = String::new();
    for l in &o.rate_limits {
        let whose = match &l.source {
            None => "edge rate limit (every source)".to_string(),
            Some(name) => format!("edge rate limit of source {name}"),
        };
        s.push_str(&format!(
            "{whose}: {}/s, burst {}; at the surge peak ({:.1}/s offered to it) it refuses at least {:.1}% of the first attempts with 429 (1 - rate / offered; retries add more)\n",
            l.rate,
            l.burst,
            l.offered_peak,
            100.0 * l.refused_at_peak
        ));
    }
    if !o.rate_limits.is_empty() {
        s.push_str(&format!(
            "the tier loads below count what the limits let through: {:.1}/s at the surge peak\n",
            o.offered.admitted_peak
        ));
    }
    s
}

/// The exact prediction in words, or why there is none.
fn prediction_text(p: &Prediction) -> String {
    let (queue, figures) = match p {
        Prediction::Exact { queue, figures } => (queue, figures),
        Prediction::None(why) => return no_prediction(why),
    };
    let mut s = match *queue {
        Queue::ErlangB { c, l, m, a } => {
            format!("exact prediction (Erlang B, M/M/{c}/{c}): l = {l}, m = {m:.6}, a = {a:.4}\n")
        }
        Queue::Mmck { c, k, l, m, a } => {
            format!("exact prediction (M/M/{c}/{k}): l = {l}, m = {m:.6}, a = {a:.4}\n")
        }
        Queue::Mmc { c, l, m, a } => {
            format!("exact prediction (M/M/{c}, Erlang C): l = {l}, m = {m:.6}, a = {a:.4}\n")
        }
        Queue::Mg1 { l, mean, cv } => format!(
            "exact prediction (M/G/1, Pollaczek-Khinchine): l = {l}, E[S] = {mean:.6}, cv = {cv:.4}\n"
        ),
        Queue::FiniteSource { .. } => super::check_closed::finite_source_header(queue),
    };
    for Figure { name, value } in figures {
        s.push_str(&match value {
            Some(v) => format!("  {name:<28} {v:.6}\n"),
            None => format!("  {name:<28} - (unstable)\n"),
        });
    }
    s
}

/// Why the model has no exact prediction.
fn no_prediction(why: &NoPrediction) -> String {
    match why {
        NoPrediction::NotOneQueue => "no exact prediction: that needs one open requests source with a constant rate and one tier without contention\n".into(),
        NoPrediction::SeveralInstances { instances, balancer } => format!(
            "no exact prediction: {instances} instances behind a {balancer:?} balancer are not one M/M/c queue (use instances = 1)\n",
        ),
        NoPrediction::GeneralService => "no exact prediction for a general service time with several threads or a bounded queue\n".into(),
        NoPrediction::Closed(miss) => super::check_closed::closed_miss(*miss),
        NoPrediction::NoUsers => "no exact prediction for the closed population: no users\n".into(),
    }
}
