//! What `surge check` says about closed populations (`population = "closed"`): for each such
//! source its users and the bound on the pages it can ask for, N / (R0 + Z) with R0 the
//! nominal response time; and, for a model that is exactly the finite-source queue
//! M/M/c/K//N (one closed source with a constant target, exponential think, one tier of one
//! instance with exponential service), its exact predictions. Not here: open sources and the
//! open textbook queues (`check`).

use crate::analytic::FiniteSource;
use crate::model::{Model, Population, Source};

/// One line per closed source: its users and the throughput bound.
pub(crate) fn closed_lines(model: &Model) -> String {
    let r0 = model.nominal_response_s();
    let mut s = String::new();
    for src in model
        .sources
        .iter()
        .filter(|s| s.population == Population::Closed)
    {
        let z = src.think.as_ref().map_or(0.0, |d| d.mean());
        let n = src.baseline * src.profile.at(0.0);
        let users = (n * model.surge.factor(0.0)).round();
        s.push_str(&format!(
            "source {}: closed population of N = {users} users at t = 0 (each: think, one page, \
             think...; mean think Z = {z:.4} s): at most N / (R0 + Z) = {:.2} pages/s, R0 = \
             {r0:.4} s the nominal response time; fewer as responses slow down\n",
            src.name,
            users / (r0 + z),
        ));
    }
    s
}

/// The exact prediction for a model that is one closed source in front of one tier, or why
/// there is none; `None` for any other model (`check::predictions` speaks for it).
pub(crate) fn closed_prediction(model: &Model) -> Option<String> {
    let [src] = model.sources.as_slice() else {
        return None;
    };
    if src.population != Population::Closed || model.tiers.len() != 1 {
        return None;
    }
    let why_not = |reason: &str| {
        Some(format!(
            "no exact prediction for the closed population: {reason} (M/M/c//N needs a constant \
             target, exponential think and service, one tier of one instance without contention, \
             no client timeout or patience, and no refresh when the queue is bounded)\n"
        ))
    };
    let t = &model.tiers[0];
    let surge_in_horizon =
        model.surge.peak != 1.0 && model.surge.start_s < model.scenario.duration_s;
    if !src.profile.is_flat() || surge_in_horizon {
        return why_not("its target changes over time");
    }
    if !src.think.as_ref().is_some_and(|d| d.is_exponential()) || !t.service.is_exponential() {
        return why_not("think or service time is not exponential");
    }
    if t.instances != 1 || t.contention != 0.0 || t.visit != 1.0 {
        return why_not("the tier has several instances, contention or visits below 1");
    }
    if src.client.timeout_s.is_some() || src.client.patience.is_some() {
        return why_not("its clients have a timeout or patience");
    }
    if t.queue.is_some() && src.client.refresh > 0.0 {
        return why_not("refused users refresh rather than think again");
    }
    Some(finite_source_text(src, model))
}

/// The M/M/c/K//N prediction for `src` in front of the model's one tier.
fn finite_source_text(src: &Source, model: &Model) -> String {
    let t = &model.tiers[0];
    let n = (src.baseline * src.profile.at(0.0)).round() as u64;
    let z = src.think.as_ref().map_or(0.0, |d| d.mean());
    let (s, c) = (t.service.mean(), t.threads);
    let k = t.queue.map(|q| u64::from(c) + u64::from(q));
    let q = FiniteSource { n, z, s, c, k };
    let Some(r) = q.solve() else {
        return "no exact prediction for the closed population: no users\n".into();
    };
    let name = match k {
        Some(k) if k < n => format!("M/M/{c}/{k}//{n}"),
        _ => format!("M/M/{c}//{n}"),
    };
    let mut out = format!(
        "exact prediction ({name}, finite source: {n} users, think Z = {z} s, service S = {s} s, \
         N S / (c Z) = {:.3}; throughput bound min(N / (S + Z), c / S) = {:.4}/s):\n",
        n as f64 * s / (f64::from(c) * z),
        q.throughput_bound(),
    );
    let line = |name: &str, v: f64| format!("  {name:<28} {v:.6}\n");
    out.push_str(&line("throughput_per_s", r.throughput));
    out.push_str(&line("utilization", r.utilization));
    out.push_str(&line("mean_in_system", r.mean_in_system));
    out.push_str(&line("mean_response_s", r.mean_response));
    if k.is_some_and(|k| k < n) {
        out.push_str(&line("blocking_probability", r.blocking));
    }
    out
}
