//! The round trip: `surge fit` simulates the model it has just written, at the data's load
//! (the model's own source: the rate and profile of the data, or its closed population), over
//! the data's span or, when that would take more than a few seconds, over its first part, with
//! a few replications, and sets the simulated success rate and p95 of successful responses
//! beside the data's over the same span. A model that misses the data by more than
//! [`MAX_SUCCESS_POINTS`] points of success or [`MAX_P95_RATIO`] of p95 is flagged.
//!
//! It runs the library (`experiment::replicate`), not the binary; it writes no file.

use serde::{Deserialize, Serialize};

use super::collect::{Collected, WINDOW_S};
use crate::experiment::runner::{Runner, Stop};
use crate::experiment::{self, guard::Limits};

/// The load factor the model is also simulated at where it extrapolates (contention fitted
/// to open arrivals without the threads).
pub(crate) const MORE_LOAD: f64 = 1.3;
/// Replications simulated.
pub(crate) const REPLICATIONS: u32 = 3;
/// Events one replication may take (about a second of CPU).
const EVENT_BUDGET: f64 = 4e6;
/// Wall-clock bound of one replication, seconds (the result is then partial, and said so).
const MAX_WALL_S: f64 = 20.0;
/// Most points of success rate between the model and the data before a warning.
pub(crate) const MAX_SUCCESS_POINTS: f64 = 5.0;
/// Most relative difference of p95 before a warning.
pub(crate) const MAX_P95_RATIO: f64 = 0.25;
/// Fewest requests in the data for the round trip to be judged: a success rate and a p95 of
/// fewer say little (one request more or less moves the rate of 10 by 10 points).
pub(crate) const MIN_REQUESTS_JUDGED: f64 = 30.0;

/// One side of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Side {
    /// Requests that ended in the span compared (data: every request that started in it).
    pub requests: f64,
    pub success_rate: f64,
    /// p50 and p95 of successful responses, s.
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RoundTrip {
    /// Seconds simulated from the data's first second.
    pub horizon_s: f64,
    /// Whether that is the data's whole span (else its first part, for time).
    pub whole_span: bool,
    pub replications: u32,
    pub seed: u64,
    pub data: Side,
    /// Pooled over the replications (p50 and p95: their mean).
    pub simulated: Side,
    /// Simulated minus data, in points of success rate.
    pub success_points: f64,
    /// Simulated p95 over the data's, minus 1.
    pub p95_off: Option<f64>,
    /// Whether the model stays within 5 points and 25% (success alone when the data hold no
    /// response times).
    pub within: bool,
    /// Whether a replication was cut short by the wall-clock bound.
    pub partial: bool,
    /// The model at more than the data's load (`surge.peak`), where the fit cannot tell
    /// contention from waiting for threads: what the model extrapolates, with nothing to hold
    /// it against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_load: Option<MoreLoad>,
    /// Where the data's p50 and p95 come from when not from the files of the arrivals: the
    /// files with response times given beside a log without them (measured at their own load).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times_from: Option<String>,
    /// Why the agreement checks nothing about capacity, where it holds by construction: a
    /// closed test at one concurrency, or open arrivals at one steady rate, fitted without the
    /// threads, whose service time absorbs the waiting (then the line says so and a WARNING
    /// follows, however close the numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_construction: Option<String>,
    /// Where the simulated p50 and p95 were taken beside those of `times_from`: the model at
    /// the load test's own load (its closed users and think time, or its rate), in words. None
    /// with `times_from`: the model was not simulated at the test's load, and the p95 are not
    /// compared (the log's load and the test's differ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times_at: Option<String>,
}

/// The files with response times given beside a log without them: their names, what they
/// hold, and the model at their load (model text, load in words) where it could be written.
pub(crate) struct Timing<'a> {
    pub(crate) names: &'a str,
    pub(crate) collected: &'a Collected,
    pub(crate) at_its_load: Option<(String, String)>,
}

/// Why a round trip agrees by construction, where the threads were neither given nor found at
/// a knee: a closed test at one concurrency (every knot of its users profile within 10% of the
/// most users), or open arrivals at one steady rate (every knot of the arrivals profile within
/// 10% of the busiest, a partial last bucket left out). At one load the data cannot tell
/// service from waiting for threads, so the fitted service time holds whatever waiting the site
/// had, and the model returns the data's times at that load whatever the threads. None: the
/// load varied, or the threads are known.
pub(crate) fn by_construction(
    closed: Option<&super::closed::Closed>,
    arrivals: &super::arrivals::Arrivals,
    threads_known: bool,
) -> Option<String> {
    if threads_known {
        return None;
    }
    let Some(c) = closed else {
        // a partial last bucket's knot is its few seconds' count: left out
        let whole = match arrivals.partial_bucket_note {
            Some(_) => &arrivals.profile[..arrivals.profile.len().saturating_sub(1)],
            None => &arrivals.profile[..],
        };
        let most = whole.iter().map(|k| k.1).fold(0.0, f64::max);
        let least = whole.iter().map(|k| k.1).fold(f64::INFINITY, f64::min);
        return (most > 0.0 && least >= STEADY * most).then(|| {
            format!(
                "the arrivals came at one steady rate (every {} bucket within 10% of the busiest, {:.2}/s to {:.2}/s) and no --threads was given: at one rate the data cannot tell service from waiting for threads, so the fitted service time absorbs the waiting and the model returns the data's times whatever its threads; the agreement checks nothing about capacity: give --threads N (the server's threads x instances) or data whose rate varies",
                crate::fmt::human_duration(arrivals.bucket_s),
                least * arrivals.baseline_rate_per_s,
                most * arrivals.baseline_rate_per_s,
            )
        });
    };
    let least = c.profile.iter().map(|k| k.1).fold(f64::INFINITY, f64::min);
    (least >= STEADY).then(|| {
        format!(
            "the test ran at one concurrency ({} users throughout) and no --threads was given: at one concurrency the data cannot tell service from waiting for threads, so the fitted service time absorbs the waiting and the model returns the data's times whatever its threads; the agreement checks nothing about capacity: give --threads N (the server's threads x instances) or a test that ramps its users",
            c.users
        )
    })
}

/// A load within this share of its highest throughout is one load.
const STEADY: f64 = 0.9;

/// The fitted model simulated at `factor` x the data's load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MoreLoad {
    pub factor: f64,
    pub simulated: Side,
}

impl RoundTrip {
    /// What the model predicts at more load, and why it is said (None: not simulated).
    pub(crate) fn more_load_line(&self) -> Option<String> {
        let m = self.more_load.as_ref()?;
        Some(format!(
            "at {:.1}x the data's load the fitted model predicts {:.1}% success, p95 {} (p95 {} at 1x): an extrapolation the data cannot check, and optimistic if the growth of the times with the load was waiting for threads rather than contention; give --threads N to tell them apart",
            m.factor,
            100.0 * m.simulated.success_rate,
            secs(m.simulated.p95_s),
            secs(self.simulated.p95_s)
        ))
    }

    /// "simulated on the fitted model: 88.0% success vs 89.0% in the data; p95 2.9 s vs 2.7 s".
    pub(crate) fn line(&self) -> String {
        let span = if self.whole_span {
            format!("the data's {}", crate::fmt::human_duration(self.horizon_s))
        } else {
            format!(
                "the data's first {}",
                crate::fmt::human_duration(self.horizon_s)
            )
        };
        format!(
            "simulated on the fitted model: {:.1}% success vs {:.1}% in the data; p95 {} vs {} ({} replications over {span}{})",
            100.0 * self.simulated.success_rate,
            100.0 * self.data.success_rate,
            match (&self.times_from, &self.times_at) {
                (Some(_), Some(at)) => format!(
                    "{} at the load test's load ({at})",
                    secs(self.simulated.p95_s)
                ),
                (Some(_), None) => format!("{} at the log's load", secs(self.simulated.p95_s)),
                (None, _) => secs(self.simulated.p95_s),
            },
            match (self.data.p95_s, &self.times_from, &self.times_at) {
                (Some(_), Some(f), Some(_)) => format!("{} in {f}", secs(self.data.p95_s)),
                (Some(_), Some(f), None) => format!(
                    "{} in {f} at its own load: not comparable, the loads differ, so the p95 is not judged",
                    secs(self.data.p95_s)
                ),
                (Some(_), None, _) => secs(self.data.p95_s),
                (None, _, _) => "none (the data hold no response times)".into(),
            },
            self.replications,
            if self.partial {
                ", cut short by the time bound"
            } else {
                ""
            }
        ) + &self.too_few().map(|w| format!("; {w}")).unwrap_or_default()
            + if self.by_construction.is_some() {
                "; they agree by construction, not as a check (see the WARNING)"
            } else {
                ""
            }
    }

    /// Why the round trip cannot be judged: too few requests in the data.
    fn too_few(&self) -> Option<String> {
        (self.data.requests < MIN_REQUESTS_JUDGED).then(|| {
            format!(
                "it cannot be judged on {} (fewer than {MIN_REQUESTS_JUDGED:.0})",
                crate::fmt::counted(self.data.requests as u64, "request", "requests")
            )
        })
    }

    /// The WARNING when the model misses the data, else None.
    pub(crate) fn warning(&self) -> Option<String> {
        if let Some(why) = &self.by_construction {
            return Some(format!(
                "WARNING: the round trip proves nothing here: {why}"
            ));
        }
        if self.within || self.too_few().is_some() {
            return None;
        }
        let mut why = Vec::new();
        if self.success_points.abs() > MAX_SUCCESS_POINTS {
            why.push(format!(
                "success {:.1} points {} the data's (more than {MAX_SUCCESS_POINTS:.0})",
                self.success_points.abs(),
                if self.success_points > 0.0 {
                    "above"
                } else {
                    "below"
                }
            ));
        }
        match self.p95_off {
            Some(off) if off.abs() > MAX_P95_RATIO => why.push(format!(
                "p95 {:.0}% {} the data's (more than {:.0}%)",
                100.0 * off.abs(),
                if off > 0.0 { "above" } else { "below" },
                100.0 * MAX_P95_RATIO
            )),
            None if self.data.p95_s.is_some()
                && (self.times_from.is_none() || self.times_at.is_some()) =>
            {
                why.push("no successful response in the simulation to take a p95 of".into())
            }
            _ => {}
        }
        Some(format!(
            "WARNING: the fitted model does not reproduce the data: {}; edit model.toml (threads, service, think time) before trusting its predictions",
            why.join("; ")
        ))
    }
}

fn secs(s: Option<f64>) -> String {
    match s {
        Some(s) if s >= 1.0 => format!("{s:.2} s"),
        Some(s) => format!("{:.1} ms", s * 1000.0),
        None => "-".into(),
    }
}

/// Simulate `model_text` (as written, `base` its folder) against the data kept in `collected`;
/// `timing`: the files with response times given beside them (their names and what they
/// hold), whose p50 and p95 the simulated ones are set beside; `more_load`: a load factor
/// (1.3) to simulate the model at too, over the same span, where the fit extrapolates.
pub(crate) fn check(
    model_text: &str,
    base: &std::path::Path,
    collected: &Collected,
    timing: Option<&Timing>,
    more_load: Option<f64>,
) -> Result<RoundTrip, String> {
    let load =
        |text: &str| crate::model::parse_text(text, "model.toml", base).map_err(|e| e.to_string());
    let full = load(model_text)?;
    let seed = full.scenario.seed;
    let (model, horizon, mut sets) = cut(full, model_text, &load)?;
    let whole_span = sets.is_empty();
    let (simulated, partial) = simulate(&model);
    let more_load = match more_load {
        Some(k) => {
            sets.push(crate::model::overrides::parse(&format!("surge.peak={k}"))?);
            let text = crate::model::overrides::apply(model_text, &sets).map_err(|(_, e)| e)?;
            Some(MoreLoad {
                factor: k,
                simulated: simulate(&load(&text)?).0,
            })
        }
        None => None,
    };
    let mut data = data_side(collected, horizon, whole_span);
    let mut simulated = simulated;
    let mut times_at = None;
    let mut comparable = true;
    if let Some(t) = timing {
        let times = data_side(t.collected, 0.0, true);
        (data.p50_s, data.p95_s) = (times.p50_s, times.p95_s);
        comparable = false;
        if let Some((text, at)) = &t.at_its_load {
            let there = simulate(&cut(load(text)?, text, &load)?.0).0;
            (simulated.p50_s, simulated.p95_s) = (there.p50_s, there.p95_s);
            times_at = Some(at.clone());
            comparable = true;
        }
    }
    let success_points = 100.0 * (simulated.success_rate - data.success_rate);
    let p95_off = match (simulated.p95_s, data.p95_s) {
        (Some(s), Some(d)) if d > 0.0 && comparable => Some(s / d - 1.0),
        _ => None,
    };
    // Data without response times (a log without them), or whose times were measured at
    // another load, are compared on success alone.
    let within = success_points.abs() <= MAX_SUCCESS_POINTS
        && (data.p95_s.is_none()
            || !comparable
            || p95_off.is_some_and(|o| o.abs() <= MAX_P95_RATIO));
    Ok(RoundTrip {
        horizon_s: horizon,
        whole_span,
        replications: REPLICATIONS,
        seed,
        data,
        simulated,
        success_points,
        p95_off,
        within,
        partial,
        more_load,
        times_from: timing.map(|t| t.names.to_string()),
        by_construction: None,
        times_at,
    })
}

/// `full` (loaded from `text`) over its whole span, or, when that would take more events than
/// [`EVENT_BUDGET`], over its first whole 10 s windows: the model, the seconds simulated and the
/// overrides that cut it (none: the whole span).
fn cut(
    full: crate::model::Model,
    text: &str,
    load: &dyn Fn(&str) -> Result<crate::model::Model, String>,
) -> Result<
    (
        crate::model::Model,
        f64,
        Vec<crate::model::overrides::Override>,
    ),
    String,
> {
    let span = full.scenario.duration_s;
    let events = experiment::guard::estimate_events(&full).max(1.0);
    if events <= EVENT_BUDGET {
        return Ok((full, span, Vec::new()));
    }
    // a whole number of 10 s windows, so that the data's side is cut where the model's is
    let horizon = ((span * EVENT_BUDGET / events) / WINDOW_S as f64)
        .floor()
        .max(1.0)
        * WINDOW_S as f64;
    if horizon >= span {
        return Ok((full, span, Vec::new()));
    }
    let sets = vec![
        crate::model::overrides::parse(&format!("scenario.duration={horizon}s"))?,
        crate::model::overrides::parse(&format!(
            "scenario.bucket={}s",
            full.scenario.bucket_s.min(horizon)
        ))?,
    ];
    let cut_text = crate::model::overrides::apply(text, &sets).map_err(|(_, e)| e)?;
    Ok((load(&cut_text)?, horizon, sets))
}

/// `model` simulated: the pooled outcome, and whether a replication was cut short.
fn simulate(model: &crate::model::Model) -> (Side, bool) {
    let limits = Limits {
        max_wall_s: Some(MAX_WALL_S),
        ..Limits::default()
    };
    // Three short replications bounded by wall time, on every core: `surge fit` has no
    // `--jobs`, and a stop would leave the comparison on fewer replications than it says, so
    // its stop is its own and never set.
    let stop = Stop::new();
    let runner = Runner {
        limits,
        ..Runner::new(crate::experiment::shard::cores(), &stop)
    };
    let outs = experiment::replicate(model, model.scenario.seed, REPLICATIONS, &runner);
    let (mut ok, mut ended) = (0u64, 0u64);
    let (mut p50, mut p95, mut with) = (0.0, 0.0, 0u32);
    for o in &outs {
        let r = &o.summary.requests;
        ok += r.attempts.succeeded;
        ended +=
            r.attempts.succeeded + r.attempts.rejected + r.attempts.timed_out + r.attempts.failed;
        if let (Some(a), Some(b)) = (o.summary.latency_s.p50, o.summary.latency_s.p95) {
            p50 += a;
            p95 += b;
            with += 1;
        }
    }
    let side = Side {
        requests: ended as f64 / outs.len() as f64,
        success_rate: if ended > 0 {
            ok as f64 / ended as f64
        } else {
            0.0
        },
        p50_s: (with > 0).then(|| p50 / f64::from(with)),
        p95_s: (with > 0).then(|| p95 / f64::from(with)),
    };
    (side, outs.iter().any(|o| o.summary.partial))
}

/// The data over its first `horizon` seconds (all of it when `whole`).
fn data_side(c: &Collected, horizon: f64, whole: bool) -> Side {
    let first = c.first_s.floor() as i64;
    let cut = first + horizon as i64;
    let in_span = |window: i64| whole || window * WINDOW_S < cut;
    let (mut requests, mut ok) = (0u64, 0u64);
    for (k, w) in c.windows.cells.iter().enumerate() {
        if in_span(c.windows.origin + k as i64) {
            requests += u64::from(w.requests);
            ok += u64::from(w.ok);
        }
    }
    let mut times: Vec<f64> = c
        .sample
        .items
        .iter()
        .filter(|s| in_span(s.window))
        .map(|s| s.time_s)
        .collect();
    times.sort_by(f64::total_cmp);
    let q = |p: f64| {
        (!times.is_empty())
            .then(|| times[((p * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1])
    };
    Side {
        requests: requests as f64,
        success_rate: if requests > 0 {
            ok as f64 / requests as f64
        } else {
            0.0
        },
        p50_s: q(0.5),
        p95_s: q(0.95),
    }
}
