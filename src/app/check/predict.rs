//! The exact prediction `surge check` offers: when the model is one of the textbook queues
//! (one open requests source at a constant rate in front of one tier: Erlang B, M/M/c/K,
//! M/M/c, M/G/1; or one closed population in front of one instance: M/M/c/K//N), which queue
//! it is and its exact figures, else why there is none.
//!
//! Not here: the formulas (`analytic`), nor the wording (`commands::check`).

use crate::analytic::{self, FiniteSource};
use crate::model::{Balancer, Model, Population, Source, SourceKind};

/// The exact prediction for a model, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Prediction {
    /// The model is `queue`: its figures, each named as the summary names it.
    Exact {
        queue: Queue,
        figures: Vec<Figure>,
    },
    None(NoPrediction),
}

/// A textbook queue with its parameters: `l` arrivals per second, `m` services per second of
/// one thread, `c` threads, `k` places in all, `a = l / m` Erlangs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub(crate) enum Queue {
    /// M/M/c/c: no queue.
    ErlangB { c: u32, l: f64, m: f64, a: f64 },
    Mmck {
        c: u32,
        k: u32,
        l: f64,
        m: f64,
        a: f64,
    },
    /// M/M/c, Erlang C: an unbounded queue.
    Mmc { c: u32, l: f64, m: f64, a: f64 },
    /// M/G/1, Pollaczek-Khinchine: mean service `mean` s with coefficient of variation `cv`.
    Mg1 { l: f64, mean: f64, cv: f64 },
    /// M/M/c/K//N, finite source: `n` users thinking `z` s between pages of service `s` s;
    /// `k` places in all (`None`: unbounded, or at least `n`). `load` is N S / (c Z) and
    /// `bound` min(N / (S + Z), c / S) per second.
    FiniteSource {
        n: u64,
        z: f64,
        s: f64,
        c: u32,
        k: Option<u64>,
        load: f64,
        bound: f64,
    },
}

impl Queue {
    /// Whether the queue turns arrivals away when full (M/M/c/K//N with K below N).
    pub(crate) fn finite_k_below_n(&self) -> Option<(u64, u64)> {
        match *self {
            Queue::FiniteSource { n, k: Some(k), .. } if k < n => Some((k, n)),
            _ => None,
        }
    }
}

/// One exact figure: its name as the run's summary names it, and its value (`None`: the queue
/// is unstable).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Figure {
    pub(crate) name: &'static str,
    pub(crate) value: Option<f64>,
}

fn figure(name: &'static str, value: Option<f64>) -> Figure {
    Figure { name, value }
}

/// Why a model has no exact prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NoPrediction {
    /// Not one open requests source at a constant rate and one tier without contention.
    NotOneQueue,
    /// Several instances behind a balancer that does not make them one M/M/c queue.
    SeveralInstances { instances: u32, balancer: Balancer },
    /// A general service time with several threads or a bounded queue.
    GeneralService,
    /// One closed population in front of one tier, but not M/M/c//N.
    Closed(ClosedMiss),
    /// One closed population of no users.
    NoUsers,
}

/// What keeps one closed population in front of one tier from being M/M/c/K//N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClosedMiss {
    TargetChanges,
    NotExponential,
    TierShape,
    Impatient,
    Refresh,
}

/// The exact prediction where the model is one of the textbook queues.
pub(super) fn prediction(model: &Model) -> Prediction {
    if let Some(closed) = closed_prediction(model) {
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
        return Prediction::None(NoPrediction::NotOneQueue);
    }
    let t = &model.tiers[0];
    let l = model.sources[0].baseline;
    let m = 1.0 / t.service.mean();
    let c = t.instances * t.threads;
    if t.instances > 1 && (t.queue.is_some() || t.balancer != Balancer::LeastConnections) {
        return Prediction::None(NoPrediction::SeveralInstances {
            instances: t.instances,
            balancer: t.balancer,
        });
    }
    let a = l / m;
    let (queue, figures) = match (t.service.is_exponential(), t.queue) {
        (true, Some(0)) => {
            let b = analytic::erlang_b(c, a);
            (
                Queue::ErlangB { c, l, m, a },
                vec![
                    figure("blocking_probability", Some(b)),
                    figure("utilization", Some(a * (1.0 - b) / f64::from(c))),
                    figure("mean_response_s", Some(1.0 / m)),
                ],
            )
        }
        (true, Some(q)) => {
            let k = c + q;
            let x = analytic::Mmck { l, m, c, k };
            (
                Queue::Mmck { c, k, l, m, a },
                vec![
                    figure("blocking_probability", x.blocking()),
                    figure("utilization", x.utilization()),
                    figure("mean_in_system", x.mean_in_system()),
                    figure("mean_queue_wait_s", x.mean_wait_queue()),
                    figure("mean_response_s", x.mean_response()),
                ],
            )
        }
        (true, None) => {
            let x = analytic::Mmc { l, m, c };
            (
                Queue::Mmc { c, l, m, a },
                vec![
                    figure("utilization", Some(x.utilization())),
                    figure("prob_wait", x.prob_wait()),
                    figure("mean_in_system", x.mean_in_system()),
                    figure("mean_queue_wait_s", x.mean_wait_queue()),
                    figure("mean_response_s", x.mean_response()),
                ],
            )
        }
        (false, None) if c == 1 => {
            let (mean, cv) = (t.service.mean(), t.service.cv());
            let response = analytic::mg1_mean_response(l, mean, cv);
            (
                Queue::Mg1 { l, mean, cv },
                vec![
                    figure("utilization", Some(l * mean)),
                    figure(
                        "mean_queue_wait_s",
                        analytic::mg1_mean_wait_queue(l, mean, cv),
                    ),
                    figure("mean_response_s", response),
                    figure("mean_in_system", response.map(|w| l * w)),
                ],
            )
        }
        _ => return Prediction::None(NoPrediction::GeneralService),
    };
    Prediction::Exact { queue, figures }
}

/// The exact prediction for a model that is one closed source in front of one tier, or why
/// there is none; `None` for any other model (`prediction` speaks for it).
fn closed_prediction(model: &Model) -> Option<Prediction> {
    let [src] = model.sources.as_slice() else {
        return None;
    };
    if src.population != Population::Closed || model.tiers.len() != 1 {
        return None;
    }
    let why_not = |miss| Some(Prediction::None(NoPrediction::Closed(miss)));
    let t = &model.tiers[0];
    let surge_in_horizon =
        model.surge.peak != 1.0 && model.surge.start_s < model.scenario.duration_s;
    if !src.profile.is_flat() || surge_in_horizon {
        return why_not(ClosedMiss::TargetChanges);
    }
    if !src.think.as_ref().is_some_and(|d| d.is_exponential()) || !t.service.is_exponential() {
        return why_not(ClosedMiss::NotExponential);
    }
    if t.instances != 1 || t.contention != 0.0 || t.visit != 1.0 {
        return why_not(ClosedMiss::TierShape);
    }
    if src.client.timeout_s.is_some() || src.client.patience.is_some() {
        return why_not(ClosedMiss::Impatient);
    }
    if t.queue.is_some() && src.client.refresh > 0.0 {
        return why_not(ClosedMiss::Refresh);
    }
    Some(finite_source(src, model))
}

/// The M/M/c/K//N prediction for `src` in front of the model's one tier.
fn finite_source(src: &Source, model: &Model) -> Prediction {
    let t = &model.tiers[0];
    let n = (src.baseline * src.profile.at(0.0)).round() as u64;
    let z = src.think.as_ref().map_or(0.0, |d| d.mean());
    let (s, c) = (t.service.mean(), t.threads);
    let k = t.queue.map(|q| u64::from(c) + u64::from(q));
    let q = FiniteSource { n, z, s, c, k };
    let Some(r) = q.solve() else {
        return Prediction::None(NoPrediction::NoUsers);
    };
    let queue = Queue::FiniteSource {
        n,
        z,
        s,
        c,
        k,
        load: n as f64 * s / (f64::from(c) * z),
        bound: q.throughput_bound(),
    };
    let mut figures = vec![
        figure("throughput_per_s", Some(r.throughput)),
        figure("utilization", Some(r.utilization)),
        figure("mean_in_system", Some(r.mean_in_system)),
        figure("mean_response_s", Some(r.mean_response)),
    ];
    if queue.finite_k_below_n().is_some() {
        figures.push(figure("blocking_probability", Some(r.blocking)));
    }
    Prediction::Exact { queue, figures }
}
