//! The crash point: the value of a monotone parameter (surge peak, instances, threads, memory)
//! at which the probability of an outage crosses 0.5. The search itself (bracket with one
//! replication per value, then replications only around the crossing, a logistic fit where a
//! value is too near 0.5 to tell) is in `super::search`; here are its settings and its result.
//! Whether a larger value crashes (surge peak) or saves (instances) is found from the ends.
//! When every value the answer rests on was all-or-nothing there is nothing to fit: the answer
//! is then the bracket between the nearest safe and down values, and says so.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::sweep::Seeds;
use crate::metrics::slo::Criterion;

/// One value tried: in `points`, every replication run there; in `tries`, one batch of
/// replications, in the order the search ran them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Try {
    pub value: f64,
    pub reps: u32,
    pub outages: u32,
    pub probability: f64,
}

/// How the crash point and its interval were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Method {
    /// A logistic curve fitted to the replications (`crate::stats::fit_crossing`): `ci95` is
    /// the profile-likelihood interval of its crossing.
    #[serde(rename = "logistic fit")]
    LogisticFit,
    /// Two neighbouring values (adjacent counts, or nearer than the tolerance) each told from
    /// 0.5 by a one-sided binomial test, the two tests' errors adding up to at most 1 -
    /// `confidence` (`search::ErrorSplit`: at 95%, 6 of 6 failing and 5 of 5 holding runs
    /// suffice): `ci95` is that bracket, and the crash point its midpoint. With
    /// `max_runs_reached`, the bracket of one replication per value, not told from 0.5.
    #[serde(rename = "bracket")]
    Bracket,
    /// A whole value whose runs both fail and hold, its probability not told from 0.5, between
    /// a neighbour told to fail and one told to hold (`search::knife`): the crash point is
    /// that value, `ci95` its two neighbours, and the value's probability is read from its
    /// point (`CrashPoint::knife_edge`).
    #[serde(rename = "knife edge")]
    KnifeEdge,
}

impl Method {
    /// How the interval is named in print and on the chart.
    pub(crate) fn interval_name(self, confidence: f64) -> String {
        match self {
            Method::LogisticFit => format!("{}% interval", (confidence * 100.0).round()),
            Method::Bracket => "bracket".to_string(),
            Method::KnifeEdge => "neighbours".to_string(),
        }
    }
}

/// The fitted curve, in the parameter's units: P(outage at x) = 1 / (1 + exp(-(intercept +
/// slope x))).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Curve {
    pub intercept: f64,
    pub slope: f64,
}

impl Curve {
    pub(crate) fn probability(&self, x: f64) -> f64 {
        1.0 / (1.0 + (-(self.intercept + self.slope * x)).exp())
    }
}

/// What `crashpoint.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CrashPoint {
    pub parameter: String,
    /// "larger crashes" or "larger saves" (with `--criterion slo`: "larger breaks the SLO" or
    /// "larger keeps the SLO").
    pub direction: String,
    pub crash_point: Option<f64>,
    /// The interval of the crash point: a confidence interval of `confidence` for a logistic
    /// fit, the bracket otherwise (see `method`). The name is kept for existing readers.
    pub ci95: Option<[f64; 2]>,
    pub p10: Option<f64>,
    pub p90: Option<f64>,
    pub method: Method,
    /// Two-sided confidence of the interval of a logistic fit (0.95).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// The fitted curve (absent for a bracket).
    #[serde(default)]
    pub logistic: Option<Curve>,
    pub runs: u32,
    /// Every value tried, with all its replications, by value.
    pub points: Vec<Try>,
    /// Each batch of replications, in the order the search asked for them.
    #[serde(default)]
    pub tries: Vec<Try>,
    /// The base seed, and whether replication r used the same seed at every value ("common")
    /// or one of its own per value ("independent").
    pub seed: u64,
    pub seeds: String,
    /// `--max-runs` was reached before the interval was as tight as asked.
    pub max_runs_reached: bool,
    /// `--budget` ran out first: the search asked for no more runs (with `max_runs_reached`,
    /// the answer is the best so far).
    #[serde(default)]
    pub budget_reached: bool,
    /// Runs simulated by this command, speculative ones included.
    pub runs_simulated: u32,
    /// Runs read back from the journal of an interrupted try (`--resume`).
    pub runs_from_journal: u32,
    /// Runs done that the answer does not rest on: speculation (a run started on a spare core
    /// for a step that the outcomes did not take).
    pub runs_unused: u32,
    /// What counted as a failure: "outage" (the crash point) or "slo" (any break of the SLO:
    /// the SLO-breaking point).
    #[serde(default, deserialize_with = "criterion_or_metric")]
    pub criterion: Criterion,
}

/// A criterion as written ("outage", "slo") or as the metric it reads ("outage.crashed",
/// "slo.broken", as `crashpoint.json` wrote it before).
fn criterion_or_metric<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Criterion, D::Error> {
    let s = String::deserialize(d)?;
    Criterion::parse(&s).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown criterion `{s}` (expected outage, slo, call-outage or user-outage)"
        ))
    })
}

impl CrashPoint {
    /// The words for what this search looked for.
    pub(crate) fn words(&self) -> Words {
        words(self.criterion)
    }

    /// The runs at `value`: (failures, replications).
    pub(crate) fn at(&self, value: f64) -> (u32, u32) {
        (self.points.iter())
            .find(|t| t.value == value)
            .map_or((0, 0), |t| (t.outages, t.reps))
    }

    /// The knife edge, if the search ended on one: its value, the failures and replications
    /// there, and its neighbours on the failing and the holding side.
    pub(crate) fn knife_edge(&self) -> Option<KnifeEdge> {
        let (Method::KnifeEdge, Some(x), Some([a, b])) = (self.method, self.crash_point, self.ci95)
        else {
            return None;
        };
        let larger_fails = self.direction == words(self.criterion).larger_fails;
        let (fails, holds) = if larger_fails { (b, a) } else { (a, b) };
        let (k, n) = self.at(x);
        Some(KnifeEdge {
            value: x,
            failures: k,
            reps: n,
            fails,
            holds,
        })
    }
}

/// A knife edge (`Method::KnifeEdge`) read back from a `CrashPoint`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KnifeEdge {
    pub value: f64,
    pub failures: u32,
    pub reps: u32,
    /// The neighbour told to fail, and the one told to hold.
    pub fails: f64,
    pub holds: f64,
}

impl KnifeEdge {
    /// The share of runs failing at the value, and the half-width of its normal interval at
    /// `confidence`.
    pub(crate) fn probability(&self, confidence: f64) -> (f64, f64) {
        let n = f64::from(self.reps.max(1));
        let p = f64::from(self.failures) / n;
        let z = crate::stats::normal_quantile(0.5 + confidence / 2.0);
        (p, z * (p * (1.0 - p) / n).sqrt())
    }
}

/// How a search names what it looks for, by criterion: an outage and the crash point, or an SLO
/// breach and the SLO-breaking point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Words {
    /// "crash point" or "SLO-breaking point".
    pub point: &'static str,
    /// "outage" or "SLO breach".
    pub failure: &'static str,
    /// "outages" or "SLO breaches".
    pub failures: &'static str,
    /// "outage probability" or "SLO-breach probability".
    pub probability: &'static str,
    /// The two directions: a larger value fails more, or less.
    pub larger_fails: &'static str,
    pub larger_holds: &'static str,
}

/// The words of `criterion`.
pub(crate) fn words(criterion: Criterion) -> Words {
    match criterion {
        Criterion::Outage => Words {
            point: "crash point",
            failure: "outage",
            failures: "outages",
            probability: "outage probability",
            larger_fails: "larger crashes",
            larger_holds: "larger saves",
        },
        Criterion::Slo => Words {
            point: "SLO-breaking point",
            failure: "SLO breach",
            failures: "SLO breaches",
            probability: "SLO-breach probability",
            larger_fails: "larger breaks the SLO",
            larger_holds: "larger keeps the SLO",
        },
        Criterion::CallOutage => Words {
            point: "crash point by calls",
            failure: "outage by calls",
            failures: "outages by calls",
            probability: "outage probability (by calls)",
            larger_fails: "larger crashes",
            larger_holds: "larger saves",
        },
        Criterion::UserOutage => Words {
            point: "crash point by users",
            failure: "outage by users",
            failures: "outages by users",
            probability: "outage probability (by users)",
            larger_fails: "larger crashes",
            larger_holds: "larger saves",
        },
    }
}

fn default_confidence() -> f64 {
    CONFIDENCE
}

/// The search's defaults (`surge crashpoint`'s, `surge report`'s and the benchmark's), written
/// once: the confidence of its interval, the width it stops at as a share of the crash point,
/// the replications per value, and the most runs in all (the confidence is every decision's:
/// `experiment::CONFIDENCE`).
pub(crate) use super::CONFIDENCE;
pub(crate) const TOLERANCE: f64 = 0.03;
pub(crate) const REPS: u32 = 10;
pub(crate) const MAX_RUNS: u32 = 2000;

/// Search settings.
pub(crate) struct Search<'a> {
    /// The model's file; `None`: the built-in model.
    pub path: Option<&'a std::path::Path>,
    pub sets: &'a [String],
    pub key: &'a str,
    pub lo: f64,
    pub hi: f64,
    pub integer: bool,
    pub reps: u32,
    pub seed: Option<u64>,
    /// Stop once the 95% interval is narrower than this share of the crash point.
    pub tolerance: f64,
    pub max_runs: u32,
    pub jobs: usize,
    /// Two-sided confidence of the interval (0.95).
    pub confidence: f64,
    /// Called as each run ends (to show progress), as a try of one replication.
    pub on_try: Option<&'a (dyn Fn(&Try) + Sync)>,
    /// Replication r's seed: the same at every value (common) or per value (independent).
    pub seeds: Seeds,
    /// The journal of finished runs (`crashpoint.partial.csv`), if any.
    pub journal: Option<&'a std::path::Path>,
    /// Read the journal back instead of starting over.
    pub resume: bool,
    /// When a run counts as failed (an outage, or any break of the SLO).
    pub criterion: crate::metrics::slo::Criterion,
    /// Past this instant no new run is asked for (`--budget`).
    pub deadline: Option<std::time::Instant>,
    /// Once set (Ctrl-C), no new run starts: the search ends `Interrupted` when those in
    /// flight are done, its runs in the journal.
    pub stop: Option<&'a super::runner::Stop>,
}

/// Find the crash point (see `super::search`).
pub(crate) fn search(s: &Search) -> Result<CrashPoint> {
    super::search::crash_point(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_method_names_its_interval() {
        assert_eq!(Method::LogisticFit.interval_name(0.95), "95% interval");
        assert_eq!(Method::Bracket.interval_name(0.95), "bracket");
        assert_eq!(
            serde_json::to_value(Method::Bracket).unwrap(),
            serde_json::json!("bracket")
        );
        let c = Curve {
            intercept: -4.0,
            slope: 2.0,
        };
        assert!((c.probability(2.0) - 0.5).abs() < 1e-12);
    }
}
