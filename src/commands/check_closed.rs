//! What `surge check` says about closed populations (`population = "closed"`): for each such
//! source its users and the bound on the pages it can ask for, N / (R0 + Z) with R0 the
//! nominal response time; and, for a model that is exactly the finite-source queue
//! M/M/c/K//N, the header of its exact prediction, or why it has none. The figures come typed
//! from `app::check`. Not here: open sources and the open textbook queues (`check`).

use crate::app::check::{ClosedBound, ClosedMiss, Queue};

/// One line per closed source: its users and the throughput bound.
pub(crate) fn closed_lines(bounds: &[ClosedBound]) -> String {
    let mut s = String::new();
    for b in bounds {
        s.push_str(&format!(
            "source {}: closed population of N = {} users at t = 0 (each: think, one page, \
             think...; mean think Z = {:.4} s): at most N / (R0 + Z) = {:.2} pages/s, R0 = \
             {:.4} s the nominal response time; fewer as responses slow down\n",
            b.source, b.users, b.think_s, b.pages_per_s, b.nominal_response_s,
        ));
    }
    s
}

/// Why one closed source in front of one tier is not M/M/c/K//N.
pub(crate) fn closed_miss(miss: ClosedMiss) -> String {
    let reason = match miss {
        ClosedMiss::TargetChanges => "its target changes over time",
        ClosedMiss::NotExponential => "think or service time is not exponential",
        ClosedMiss::TierShape => "the tier has several instances, contention or visits below 1",
        ClosedMiss::Impatient => "its clients have a timeout or patience",
        ClosedMiss::Refresh => "refused users refresh rather than think again",
    };
    format!(
        "no exact prediction for the closed population: {reason} (M/M/c//N needs a constant \
         target, exponential think and service, one tier of one instance without contention, \
         no client timeout or patience, and no refresh when the queue is bounded)\n"
    )
}

/// The first line of the M/M/c/K//N prediction; empty for any other queue.
pub(crate) fn finite_source_header(queue: &Queue) -> String {
    let Queue::FiniteSource {
        n,
        z,
        s,
        c,
        load,
        bound,
        ..
    } = *queue
    else {
        return String::new();
    };
    let name = match queue.finite_k_below_n() {
        Some((k, n)) => format!("M/M/{c}/{k}//{n}"),
        None => format!("M/M/{c}//{n}"),
    };
    format!(
        "exact prediction ({name}, finite source: {n} users, think Z = {z} s, service S = {s} s, \
         N S / (c Z) = {load:.3}; throughput bound min(N / (S + Z), c / S) = {bound:.4}/s):\n",
    )
}
