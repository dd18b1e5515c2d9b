//! `surge check`: validate a model and print, per tier, the offered load and utilisation at
//! baseline and at the surge's peak, and, for a model that is a single stationary open queue,
//! the exact M/M/c, M/M/c/K, Erlang B or M/G/1 predictions to compare a run with (the closed
//! populations' bounds and the finite-source M/M/c//N prediction are in `check_closed`).

use anyhow::Result;

use crate::analytic;
use crate::cli::CheckArgs;
use crate::model::offered::{request_rate, tier_loads};
use crate::model::{self, Model, SourceKind};

pub fn check(args: &CheckArgs) -> Result<()> {
    let (model, text) = model::load_with_text(args.model.as_deref(), &args.overrides.list())?;
    super::run::say(&describe(&model))?;
    for w in crate::model::warnings::warnings(&model) {
        super::run::say(&format!("warning: {w}\n"))?;
    }
    super::run::say(&durations_read(&text))
}

/// A bare number this large in a duration key is more likely milliseconds than seconds.
const SUSPICIOUS_BARE_S: f64 = 1000.0;

/// Every duration the model states, with its key path, as written and in human units, so that a
/// unit mistake (`timeout = 30000` meant as milliseconds) shows.
pub fn durations_read(text: &str) -> String {
    let all = model::durations::written_durations(text);
    if all.is_empty() {
        return String::new();
    }
    let mut s = String::from("durations read (a bare number is seconds):\n");
    let width = all.iter().map(|d| d.key.len()).max().unwrap_or(0);
    for d in &all {
        let Some(v) = d.seconds else { continue };
        let shown = crate::fmt::exact_duration(v);
        let note = if d.bare && v >= SUSPICIOUS_BARE_S {
            format!(
                " (a bare number is seconds): if you meant milliseconds, write \"{}ms\"",
                d.written
            )
        } else if d.bare && v != 0.0 {
            " (a bare number is seconds)".to_string()
        } else {
            String::new()
        };
        s.push_str(&format!(
            "  {:<width$} = {shown:<14} written {}{note}\n",
            d.key, d.written
        ));
    }
    s
}

/// The text `surge check` prints.
pub fn describe(model: &Model) -> String {
    let mut s = String::new();
    let sc = &model.scenario;
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    s.push_str(&format!(
        "model {} is valid: {}, {}, horizon {} s\n",
        sc.name,
        plural(model.sources.len(), "source"),
        plural(model.tiers.len(), "tier"),
        sc.duration_s
    ));
    // The busiest moment of the surge (its hold), and the baseline at the same moment.
    let peak_t = {
        let [_, top, _, _] = model.surge.breakpoints();
        top.min(sc.duration_s)
    };
    let base = request_rate(model, peak_t, false);
    let peak = request_rate(model, peak_t, true);
    let traces = model
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Trace)
        .count();
    if traces == model.sources.len() {
        s.push_str(&format!(
            "offered requests (from the trace{}): {base:.1}/s on average over the horizon, {peak:.1}/s in the busiest {} (its peak bucket)\n",
            if traces > 1 { "s" } else { "" },
            crate::fmt::human_duration(sc.bucket_s),
        ));
    } else {
        s.push_str(&format!(
            "offered requests: {base:.1}/s at baseline, {peak:.1}/s at the surge peak ({}x){}\n",
            model.surge.peak,
            if traces > 0 {
                "; trace sources at their mean and at their busiest bucket"
            } else {
                ""
            }
        ));
    }
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
    let closed = (model.sources.iter()).any(|s| s.population == model::Population::Closed);
    for (t, l) in model.tiers.iter().zip(tier_loads(model)) {
        let (hold, threads, a0, a1) = (l.hold_s, l.threads, l.base, l.peak);
        s.push_str(&format!(
            "tier {}: {} x {} threads; mean service {:.4} s (cv {:.2}), thread held {:.4} s; offered load {:.1} Erlangs at baseline (utilisation {:.1}%), {:.1} at peak ({:.1}%){}\n",
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
        ));
    }
    s.push_str(&super::check_closed::closed_lines(model));
    s.push_str(&predictions(model));
    let events = crate::experiment::guard::estimate_events(model);
    s.push_str(&format!(
        "estimated events per run: {events:.2e} (about {} of CPU at {} M events/s; refused above {:.0e} without --allow-huge)\n",
        crate::fmt::human_duration(events / crate::experiment::guard::EVENTS_PER_S),
        crate::experiment::guard::EVENTS_PER_S / 1e6,
        crate::experiment::guard::HUGE_EVENTS,
    ));
    s
}

/// Exact predictions where the model is one of the textbook queues, else an explanation.
pub fn predictions(model: &Model) -> String {
    if let Some(closed) = super::check_closed::closed_prediction(model) {
        return closed;
    }
    let single = model.tiers.len() == 1
        && model.sources.len() == 1
        && model.sources[0].kind == SourceKind::Requests
        && model.sources[0].profile.is_flat()
        && (model.surge.peak == 1.0 || model.surge.start_s >= model.scenario.duration_s)
        && model.tiers[0].contention == 0.0
        && model.tiers[0].visit == 1.0;
    if !single {
        return "no exact prediction: that needs one open requests source with a constant rate and one tier without contention\n".into();
    }
    let t = &model.tiers[0];
    let l = model.sources[0].baseline;
    let m = 1.0 / t.service.mean();
    let c = t.instances * t.threads;
    if t.instances > 1 && (t.queue.is_some() || t.balancer != model::Balancer::LeastConnections) {
        return format!(
            "no exact prediction: {} instances behind a {:?} balancer are not one M/M/c queue (use instances = 1)\n",
            t.instances, t.balancer
        );
    }
    let mut s = String::new();
    let fmt = |name: &str, v: Option<f64>| match v {
        Some(v) => format!("  {name:<28} {v:.6}\n"),
        None => format!("  {name:<28} - (unstable)\n"),
    };
    match (t.service.is_exponential(), t.queue) {
        (true, Some(0)) => {
            let a = l / m;
            s.push_str(&format!("exact prediction (Erlang B, M/M/{c}/{c}): l = {l}, m = {m:.6}, a = {a:.4}\n"));
            s.push_str(&fmt("blocking_probability", Some(analytic::erlang_b(c, a))));
            s.push_str(&fmt("utilization", Some(a * (1.0 - analytic::erlang_b(c, a)) / f64::from(c))));
            s.push_str(&fmt("mean_response_s", Some(1.0 / m)));
        }
        (true, Some(q)) => {
            let k = c + q;
            let x = analytic::Mmck { l, m, c, k };
            s.push_str(&format!("exact prediction (M/M/{c}/{k}): l = {l}, m = {m:.6}, a = {:.4}\n", l / m));
            s.push_str(&fmt("blocking_probability", x.blocking()));
            s.push_str(&fmt("utilization", x.utilization()));
            s.push_str(&fmt("mean_in_system", x.mean_in_system()));
            s.push_str(&fmt("mean_queue_wait_s", x.mean_wait_queue()));
            s.push_str(&fmt("mean_response_s", x.mean_response()));
        }
        (true, None) => {
            let x = analytic::Mmc { l, m, c };
            s.push_str(&format!("exact prediction (M/M/{c}, Erlang C): l = {l}, m = {m:.6}, a = {:.4}\n", l / m));
            s.push_str(&fmt("utilization", Some(x.utilization())));
            s.push_str(&fmt("prob_wait", x.prob_wait()));
            s.push_str(&fmt("mean_in_system", x.mean_in_system()));
            s.push_str(&fmt("mean_queue_wait_s", x.mean_wait_queue()));
            s.push_str(&fmt("mean_response_s", x.mean_response()));
        }
        (false, None) if c == 1 => {
            let (mean, cv) = (t.service.mean(), t.service.cv());
            s.push_str(&format!("exact prediction (M/G/1, Pollaczek-Khinchine): l = {l}, E[S] = {mean:.6}, cv = {cv:.4}\n"));
            s.push_str(&fmt("utilization", Some(l * mean)));
            s.push_str(&fmt("mean_queue_wait_s", analytic::mg1_mean_wait_queue(l, mean, cv)));
            s.push_str(&fmt("mean_response_s", analytic::mg1_mean_response(l, mean, cv)));
            s.push_str(&fmt("mean_in_system", analytic::mg1_mean_response(l, mean, cv).map(|w| l * w)));
        }
        _ => s.push_str("no exact prediction for a general service time with several threads or a bounded queue\n"),
    }
    s
}
