//! `surge sensitivity`: which model keys move a run's outcome most, by Morris's elementary
//! effects (Morris 1991) summed up as mu* (the mean of their absolute values, Campolongo,
//! Cariboni & Saltelli 2007, "An effective screening design for sensitivity analysis of large
//! models", Environmental Modelling & Software 22(10)), mu (their signed mean: the direction)
//! and sigma (their standard deviation: how much the effect depends on where the other keys
//! are, by interaction or non-linearity). An elementary effect is the change of a metric when
//! one key moves by `delta` of its range, scaled to the whole range: the metric's units over
//! the key's range. Every point runs on the same replication seeds (common random numbers), so
//! the two ends of a step share their randomness and a key that does not touch the simulation
//! has an effect of exactly 0.
//!
//! This module holds the design (`design`), the metrics screened ([`Outcome`]), the effects
//! computed from each point's means ([`screen`]) and the typed result ([`SensitivityDoc`],
//! `sensitivity.json`). Not here: running the points (`app::sensitivity`), nor the files and
//! the chart (`output::sensitivity`).

pub(crate) mod design;

use serde::{Deserialize, Serialize};

pub(crate) use design::{Factor, Step};

use crate::metrics::table;

/// A metric the screening measures at each point, and its level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Outcome {
    /// The metric's key (as in `points.csv`), e.g. `outage.downtime_s`.
    pub(crate) key: String,
    pub(crate) label: String,
    /// Its unit: `s`, `currency units`; empty for a share.
    pub(crate) unit: String,
    /// What it counts: `attempt` (each request sent, retries apart), `call` (a request with its
    /// retries, a page with its refreshes), `user` (a session) or `site` (the priced tiers).
    pub(crate) level: String,
}

impl Outcome {
    /// An amount of this metric, for people: a duration, percentage points of a share, or a
    /// number (three significant digits) with its unit.
    pub(crate) fn amount(&self, x: f64) -> String {
        match self.unit.as_str() {
            "s" => crate::fmt::human_duration(x),
            "" => format!("{:.1} pp", 100.0 * x),
            u => format!("{} {u}", crate::fmt::significant(x, 3)),
        }
    }

    /// An amount of this metric without its unit where the unit is a word (a chart's cell,
    /// under a heading that names it): "0.137" for 0.137 currency units; a duration and a share
    /// as `amount` writes them ("15 min", "3.0 pp").
    pub(crate) fn figure(&self, x: f64) -> String {
        match self.unit.as_str() {
            "s" | "" => self.amount(x),
            _ => crate::fmt::significant(x, 3),
        }
    }

    /// The unit its effects are written in: `percentage points` for a share, `time (h, min,
    /// s, ms)` for seconds, which `amount` writes in human units (not "s").
    pub(crate) fn unit_words(&self) -> &str {
        match self.unit.as_str() {
            "" => "percentage points",
            "s" => "time (h, min, s, ms)",
            u => u,
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn a_duration_is_headed_as_the_time_it_is_written_in() {
        let o = outcomes(&[table::DOWNTIME.to_string()]).remove(0);
        assert_eq!(o.amount(2460.0), "41 min");
        assert_eq!(o.unit_words(), "time (h, min, s, ms)");
    }

    /// The new-user trial read "σ 0.000000001 currency units": rounding noise, written as if
    /// it were a number. Tiny amounts are written in significant digits, and a spread of
    /// effects alike but for rounding is 0.
    #[test]
    fn a_spread_of_rounding_noise_is_no_spread() {
        let o = outcomes(&[table::COST.to_string()]).remove(0);
        assert_eq!(o.amount(1.234e-9), "1.23e-9 currency units");
        assert_eq!(o.amount(0.0), "0 currency units");
        assert_eq!(o.amount(12.345), "12.3 currency units");
        let step = |e: f64| StepEffects {
            step: Step {
                trajectory: 0,
                factor: 0,
                from: 0,
                to: 1,
            },
            effects: vec![Some(e)],
        };
        let steps = [step(0.3), step(0.1 + 0.2), step(0.3)];
        let e = effect(&steps.iter().collect::<Vec<_>>(), 0);
        assert_eq!(e.sigma, Some(0.0));
    }
}

/// The metrics screened, in order: downtime (attempts), the share of calls that succeeded, the
/// p95 latency of the successful attempts, the share of sessions served (with a users source)
/// and the cost (when a tier has a price). Which are present is read from the metric columns of
/// a run's row (`points.csv`'s, as `metrics::table::Column::of` gives them).
pub(crate) fn outcomes(columns: &[String]) -> Vec<Outcome> {
    let wanted = [
        (table::DOWNTIME, "downtime", "attempt"),
        (
            table::CALLS_SUCCESS_RATE,
            "share of calls that succeeded",
            "call",
        ),
        (
            table::LATENCY_P95,
            "p95 latency of successful attempts",
            "attempt",
        ),
        (
            table::USERS_SUCCESS_RATE,
            "share of sessions served",
            "user",
        ),
        (table::COST, "cost of the priced tiers", "site"),
    ];
    wanted
        .iter()
        .filter_map(|&(key, label, level)| {
            let m = table::metric(key)?;
            columns.iter().any(|c| c == key).then(|| Outcome {
                key: key.to_string(),
                label: label.to_string(),
                unit: m.unit.to_string(),
                level: level.to_string(),
            })
        })
        .collect()
}

/// The mean of the values that exist; `None` when none does.
pub(crate) fn mean_of(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .flatten()
        .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

/// One key's effect on one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Effect {
    /// mu*: the mean absolute elementary effect, in the metric's unit over the key's range.
    pub(crate) mu_star: Option<f64>,
    /// mu: the mean signed effect (above 0: raising the key raises the metric).
    pub(crate) mu: Option<f64>,
    /// sigma: the standard deviation of the elementary effects (`None` with fewer than 2).
    pub(crate) sigma: Option<f64>,
    /// The elementary effects computed (a step whose end has no value is left out).
    pub(crate) effects: u32,
}

/// A key's effects on every metric, and its place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct KeyEffects {
    pub(crate) rank: u32,
    pub(crate) factor: Factor,
    /// The largest of its mu* as a share of the largest mu* of any key on the same metric: 1
    /// for the key that moves some metric most.
    pub(crate) score: f64,
    /// One per metric, in the order of `SensitivityDoc::outcomes`.
    pub(crate) metrics: Vec<Effect>,
    /// Runs at the ends of this key's steps (replications included; a point shared by
    /// several steps counts in each).
    pub(crate) runs: u64,
}

/// One point run: the keys' values (in `factors` order) and each metric's mean over the
/// replications (in `outcomes` order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PointMeans {
    pub(crate) values: Vec<f64>,
    pub(crate) means: Vec<Option<f64>>,
}

/// One step of a trajectory and its elementary effect on each metric (in `outcomes` order; `None`
/// where an end of the step has no value): the change of the metric's mean from `from` to `to`
/// over the share of the key's range moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StepEffects {
    #[serde(flatten)]
    pub(crate) step: Step,
    pub(crate) effects: Vec<Option<f64>>,
}

/// `sensitivity.json`: the whole screening and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SensitivityDoc {
    pub(crate) surge_version: String,
    pub(crate) model: String,
    pub(crate) method: String,
    pub(crate) reference: String,
    pub(crate) seed: u64,
    pub(crate) seeds: String,
    pub(crate) levels: u32,
    /// Trajectories asked for (`--trajectories`).
    pub(crate) trajectories: u32,
    /// Trajectories whose runs all finished: the effects rest on these (fewer than asked when
    /// `--budget` was reached).
    pub(crate) trajectories_done: u32,
    /// `--budget` was reached before every trajectory ran: a screening of the first
    /// `trajectories_done`, which `--resume` continues.
    pub(crate) budget_reached: bool,
    pub(crate) reps: u32,
    /// Runs the effects rest on: distinct points of the finished trajectories x replications.
    pub(crate) runs: u64,
    pub(crate) overrides: Vec<String>,
    pub(crate) factors: Vec<Factor>,
    pub(crate) outcomes: Vec<Outcome>,
    /// The keys, most influential first.
    pub(crate) ranking: Vec<KeyEffects>,
    /// The points of the finished trajectories, in the order the design first visits them.
    pub(crate) points: Vec<PointMeans>,
    pub(crate) steps: Vec<StepEffects>,
}

impl SensitivityDoc {
    /// "3 trajectories" ("1 trajectory"): the trajectories the effects rest on.
    pub(crate) fn trajectories_words(&self) -> String {
        match self.trajectories_done {
            1 => "1 trajectory".into(),
            n => format!("{n} trajectories"),
        }
    }

    /// "2 replications" ("1 replication") of each point.
    pub(crate) fn reps_words(&self) -> String {
        match self.reps {
            1 => "1 replication".into(),
            n => format!("{n} replications"),
        }
    }
}

pub(crate) const METHOD: &str = "Morris elementary effects (mu*, mu, sigma)";
pub(crate) const REFERENCE: &str = "Morris (1991), Technometrics 33(2):161-174; mu* as in \
    Campolongo, Cariboni & Saltelli (2007), Environmental Modelling & Software 22(10):1509-1518";

/// Each step's elementary effects on each of `n_outcomes` metrics, from the points' means.
pub(crate) fn step_effects(
    factors: &[Factor],
    steps: &[Step],
    points: &[PointMeans],
    n_outcomes: usize,
) -> Vec<StepEffects> {
    (steps.iter())
        .map(|s| {
            let (a, b) = (&points[s.from], &points[s.to]);
            let f = &factors[s.factor];
            let moved = f.share(b.values[s.factor]) - f.share(a.values[s.factor]);
            StepEffects {
                step: *s,
                effects: (0..n_outcomes)
                    .map(|m| Some((b.means[m]? - a.means[m]?) / moved))
                    .collect(),
            }
        })
        .collect()
}

/// Each key's effects on each metric from its steps' elementary effects, ranked by `score`
/// (ties: the larger sum of its shares over every metric first, then the `--vary` order).
pub(crate) fn screen(
    factors: &[Factor],
    steps: &[StepEffects],
    outcomes: &[Outcome],
    reps: u32,
) -> Vec<KeyEffects> {
    let n_outcomes = outcomes.len();
    let mut keys: Vec<KeyEffects> = (0..factors.len())
        .map(|i| {
            let mine: Vec<&StepEffects> = steps.iter().filter(|s| s.step.factor == i).collect();
            let metrics = (0..n_outcomes).map(|m| effect(&mine, m)).collect();
            KeyEffects {
                rank: 0,
                factor: factors[i].clone(),
                score: 0.0,
                metrics,
                runs: 2 * mine.len() as u64 * u64::from(reps),
            }
        })
        .collect();
    let top: Vec<f64> = (0..n_outcomes)
        .map(|m| {
            (keys.iter())
                .filter_map(|k| k.metrics[m].mu_star)
                .fold(0.0, f64::max)
        })
        .collect();
    // Each key's mu* on each metric as a share of the largest: the score is its largest share,
    // and keys that tie on it (each the top of some metric) are told apart by the sum of their
    // shares over the site's outcomes, cost left out: the key that moves more of what the site
    // does comes first (the new-user trial's only priced key, top on cost alone, was ranked
    // above the pool that moved downtime and calls most).
    let mut breadth = vec![0.0; keys.len()];
    for (k, b) in keys.iter_mut().zip(&mut breadth) {
        let shares: Vec<(usize, f64)> = (k.metrics.iter().zip(&top).enumerate())
            .filter(|(_, (_, t))| **t > 0.0)
            .filter_map(|(m, (e, t))| e.mu_star.map(|v| (m, v / t)))
            .collect();
        k.score = shares.iter().map(|s| s.1).fold(0.0, f64::max);
        *b = (shares.iter())
            .filter(|(m, _)| outcomes[*m].key != table::COST)
            .map(|s| s.1)
            .sum::<f64>();
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| {
        (keys[b].score.total_cmp(&keys[a].score)).then(breadth[b].total_cmp(&breadth[a]))
    });
    let mut keys: Vec<KeyEffects> = order.into_iter().map(|i| keys[i].clone()).collect();
    for (r, k) in keys.iter_mut().enumerate() {
        k.rank = r as u32 + 1;
    }
    keys
}

/// The effect of a key on metric `m` from its steps `mine`: mu*, mu and sigma of their
/// elementary effects (a step without a value at an end left out).
fn effect(mine: &[&StepEffects], m: usize) -> Effect {
    let ees: Vec<f64> = mine.iter().filter_map(|s| s.effects[m]).collect();
    let n = ees.len();
    let mu = mean_of(ees.iter().map(|&e| Some(e)));
    // Effects alike but for floating-point rounding (a price x a count, summed in another
    // order) have no spread: below a billionth of their size it is rounding, not a spread.
    let size = ees.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    let sigma = (n >= 2).then(|| {
        let mu = mu.unwrap_or(0.0);
        let sd = (ees.iter().map(|e| (e - mu).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        if sd <= 1e-9 * size { 0.0 } else { sd }
    });
    Effect {
        mu_star: mean_of(ees.iter().map(|e| Some(e.abs()))),
        mu,
        sigma,
        effects: n as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys that each range over [0, 1].
    fn unit_factors(keys: &[&str]) -> Vec<Factor> {
        (keys.iter())
            .map(|k| Factor {
                key: k.to_string(),
                lo: 0.0,
                hi: 1.0,
                whole: false,
                range: "0..1".into(),
                unit: String::new(),
            })
            .collect()
    }

    /// Two keys each top of one metric tie on the score; the one that moves the site's outcome
    /// (downtime) more comes first, not the one top on cost alone: downtime = 4 i + 5 p and
    /// cost = 2 i, with i first in the --vary order.
    #[test]
    fn a_tie_goes_to_the_key_that_moves_the_outcome_not_the_cost() {
        let fs = unit_factors(&["i", "p"]);
        let d = design::morris(&fs, 10, 4, 5).unwrap();
        let points: Vec<PointMeans> = (d.points.iter())
            .map(|v| PointMeans {
                values: v.clone(),
                means: vec![Some(4.0 * v[0] + 5.0 * v[1]), Some(2.0 * v[0])],
            })
            .collect();
        let outs = outcomes(&[table::DOWNTIME.to_string(), table::COST.to_string()]);
        assert_eq!(outs.len(), 2);
        let steps = step_effects(&fs, &d.steps, &points, 2);
        let keys = screen(&fs, &steps, &outs, 1);
        assert_eq!((keys[0].score, keys[1].score), (1.0, 1.0));
        assert_eq!(keys[0].factor.key, "p");
        assert_eq!(keys[1].factor.key, "i");
    }

    /// y = 3 a + 0 b + a c on [0, 1]^3, exactly: a's effect is 3 + c (between 3 and 4), b's 0,
    /// c's a (between 0 and 1, with a spread from the interaction).
    #[test]
    fn effects_of_a_known_function() {
        let fs = unit_factors(&["a", "b", "c"]);
        let d = design::morris(&fs, 20, 4, 3).unwrap();
        let points: Vec<PointMeans> = (d.points.iter())
            .map(|v| PointMeans {
                values: v.clone(),
                means: vec![Some(3.0 * v[0] + v[0] * v[2])],
            })
            .collect();
        let steps = step_effects(&fs, &d.steps, &points, 1);
        let keys = screen(&fs, &steps, &outcomes(&[table::DOWNTIME.to_string()]), 2);
        let by = |k: &str| keys.iter().find(|e| e.factor.key == k).unwrap();
        let a = &by("a").metrics[0];
        assert!(a.mu_star.unwrap() >= 3.0 && a.mu_star.unwrap() <= 4.0);
        assert_eq!(a.mu, a.mu_star);
        assert_eq!(by("b").metrics[0].mu_star, Some(0.0));
        assert_eq!(by("b").metrics[0].sigma, Some(0.0));
        assert_eq!(by("b").score, 0.0);
        let c = &by("c").metrics[0];
        assert!(c.mu_star.unwrap() <= 1.0 && c.sigma.unwrap() > 0.0);
        assert_eq!(keys[0].factor.key, "a");
        assert_eq!((keys[0].rank, keys[0].score), (1, 1.0));
        assert_eq!(keys[2].factor.key, "b");
        assert_eq!(by("a").runs, 2 * 20 * 2);
        assert_eq!(a.effects, 20);
    }
}
