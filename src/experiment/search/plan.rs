//! What the decision procedure of the crash-point search (`super::decide`) works with: the plan
//! (`Plan`), the runs it asks for (`RunId`, `Asker`), what it can tell of a value (`Side`,
//! `ErrorSplit`), the logistic estimate and the answers (`Verdict`).
//!
//! Not here: the procedure itself (`super::decide`), running the runs (`super::run`), the journal
//! (`super::journal`), the logistic fit (`crate::stats`).

use std::collections::BTreeMap;

use super::super::crashpoint::Curve;
use super::super::sweep::format_number;
use crate::stats::fit_crossing;

/// One run: a value of the parameter and a replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RunId {
    pub(super) bits: u64,
    pub rep: u32,
}

impl RunId {
    /// The run at `value` as the model is given it (`format_number`, 9 decimals at most, as
    /// the journal writes it back).
    pub(crate) fn new(value: f64, rep: u32) -> RunId {
        let value = format_number(value).parse::<f64>().unwrap_or(value);
        // -0 and 0 are one value.
        let value = if value == 0.0 { 0.0 } else { value };
        RunId {
            bits: value.to_bits(),
            rep,
        }
    }

    pub(crate) fn value(&self) -> f64 {
        f64::from_bits(self.bits)
    }
}

/// What the procedure needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub lo: f64,
    pub hi: f64,
    /// Whole values only (counts).
    pub integer: bool,
    /// Replications at the ends when one each does not tell the direction, and replications
    /// added per value per step of the logistic phase.
    pub reps: u32,
    /// Stop once the interval is narrower than this share of the crash point.
    pub tolerance: f64,
    /// Two-sided confidence (0.95).
    pub confidence: f64,
    pub max_runs: u32,
    /// Replication r has the same seed at every value (common seeds): its runs are alike at
    /// neighbouring values, and count as one replication in the logistic fit.
    pub paired: bool,
    /// Past this instant no new run is asked for (`--budget`): the runs already asked for
    /// end, and the answer is the best so far, as at `max_runs` (`super::run::find`).
    pub deadline: Option<std::time::Instant>,
}

impl Plan {
    /// How a bracket's error is split between its two claims (see `ErrorSplit`).
    pub(crate) fn split(&self) -> ErrorSplit {
        ErrorSplit::of(self.confidence)
    }

    /// The gallop's step from `v`: one for counts, else the tolerance's share of `v` (none
    /// where that is not a positive number: at 0 the search bisects).
    pub(super) fn step(&self, v: f64) -> Option<f64> {
        let s = if self.integer {
            1.0
        } else {
            self.tolerance * v.abs()
        };
        (s.is_finite() && s > 0.0).then_some(s)
    }

    /// Two values close enough to answer: adjacent whole values, or nearer than the tolerance.
    pub(super) fn close(&self, a: f64, b: f64) -> bool {
        let width = (a - b).abs();
        if self.integer {
            width <= 1.0
        } else {
            width <= self.tolerance * (0.5 * (a + b)).abs()
        }
    }
}

/// How a bracket's error is split between its two claims. A bracket says two things: the value on
/// the failing side fails with a probability above 0.5, and its neighbour on the holding side
/// with a probability below 0.5. Each claim rests on a one-sided binomial test against 0.5 (k of
/// n runs alike: wrong with probability at most P(X >= k), X ~ Binomial(n, 1/2)), and the two
/// errors add up (Bonferroni) to at most 1 - confidence. A run that fails stops at its first
/// failure, so failing runs are the cheap ones and holding runs (a whole night) the dear ones:
/// the holding claim takes the share that the fewest holding runs all alike can reach, 0.5^n
/// for the least n with 0.5^n < 1 - confidence (5 runs, 3.1%, at 95%), and the failing claim
/// the rest (1.9% at 95%: 6 runs all alike, 0.5^6 = 1.6%).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ErrorSplit {
    /// The error allowed the claim "fails with probability above 0.5".
    pub fail_alpha: f64,
    /// The error allowed the claim "fails with probability below 0.5".
    pub hold_alpha: f64,
    /// Failing runs, all alike, that make the first claim.
    pub fail_reps: u32,
    /// Holding runs, all alike, that make the second.
    pub hold_reps: u32,
}

impl ErrorSplit {
    pub(crate) fn of(confidence: f64) -> ErrorSplit {
        let alpha = (1.0 - confidence).clamp(1e-12, 1.0);
        // The least n with 0.5^n < alpha (strictly: the failing claim needs a share too).
        let mut hold_reps = 1;
        while 0.5_f64.powi(hold_reps as i32) >= alpha {
            hold_reps += 1;
        }
        let hold_alpha = 0.5_f64.powi(hold_reps as i32);
        let fail_alpha = alpha - hold_alpha;
        let mut fail_reps = 1;
        while 0.5_f64.powi(fail_reps as i32) > fail_alpha {
            fail_reps += 1;
        }
        ErrorSplit {
            fail_alpha,
            hold_alpha,
            fail_reps,
            hold_reps,
        }
    }
}

/// How the search ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// Two neighbouring values, each told from 0.5: `crashes` at or above, `holds` below.
    Bracket { crashes: f64, holds: f64 },
    /// A logistic curve's crossing with its interval and its 10% and 90% points.
    Logistic {
        x50: f64,
        ci: [f64; 2],
        p10: f64,
        p90: f64,
        curve: Curve,
    },
    /// A whole value whose failure probability is not told from 0.5 (it has failing and
    /// holding runs), between `crashes`, told above 0.5, and `holds`, told below
    /// (`super::knife`): the crossing is at `value`.
    KnifeEdge {
        value: f64,
        crashes: f64,
        holds: f64,
    },
    /// `--max-runs` reached first: the best estimate so far (a fit, else the bracket by one
    /// replication per value).
    MaxRuns(Box<Verdict>),
    /// The outage probability does not cross 0.5 between the ends.
    NoCrossing { plo: f64, phi: f64 },
}

/// Whether a value's outage probability is told above or below 0.5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Side {
    Above,
    Below,
    Unsure,
}

/// The procedure's view of the runs: it asks for replications 0..n at values and sees only
/// those.
pub(super) struct Asker<'a> {
    pub(super) known: &'a BTreeMap<RunId, bool>,
    /// Replications asked for, per value (always 0..n).
    pub(super) asked: BTreeMap<RunId, u32>,
    pub(super) missing: Vec<RunId>,
    /// Whether a larger value crashes, once the ends told.
    pub(super) larger_crashes: Option<bool>,
    /// Each batch asked for, in order: (value, first replication, end).
    pub(super) batches: Vec<(f64, u32, u32)>,
    /// The most runs asked for in all (`--max-runs`; the two ends' first runs whatever it is).
    pub(super) budget: u32,
}

impl<'a> Asker<'a> {
    pub(super) fn new(known: &'a BTreeMap<RunId, bool>) -> Self {
        Asker {
            known,
            asked: BTreeMap::new(),
            missing: Vec::new(),
            larger_crashes: None,
            batches: Vec::new(),
            budget: u32::MAX,
        }
    }

    /// Ask for replications 0..n at each value, in order, as far as the budget goes (the
    /// runs asked for in all never pass `budget`): `None` (the missing runs noted) until every
    /// one asked for is known.
    pub(super) fn ask(&mut self, wants: &[(f64, u32)]) -> Option<()> {
        let mut granted: Vec<(f64, u32)> = Vec::new();
        for &(v, n) in wants {
            let room = self.budget.saturating_sub(self.runs());
            let e = self.asked.entry(RunId::new(v, 0)).or_insert(0);
            let n = n.min(*e + room);
            if n > *e {
                self.batches.push((v, *e, n));
            }
            *e = (*e).max(n);
            granted.push((v, n));
        }
        for (v, n) in granted {
            for r in 0..n {
                let id = RunId::new(v, r);
                if !self.known.contains_key(&id) && !self.missing.contains(&id) {
                    self.missing.push(id);
                }
            }
        }
        self.missing.is_empty().then_some(())
    }

    pub(super) fn runs(&self) -> u32 {
        self.asked.values().sum()
    }

    /// (replications, outages) at `v`.
    pub(super) fn count(&self, v: f64) -> (u32, u32) {
        let n = self.asked.get(&RunId::new(v, 0)).copied().unwrap_or(0);
        let k = (0..n).filter(|&r| self.known[&RunId::new(v, r)]).count() as u32;
        (n, k)
    }

    pub(super) fn prob(&self, v: f64) -> f64 {
        let (n, k) = self.count(v);
        f64::from(k) / f64::from(n.max(1))
    }

    /// Whether `v`'s outage probability is told above or below 0.5, each claim at its share of
    /// the error (`ErrorSplit`).
    pub(super) fn side(&self, v: f64, split: &ErrorSplit) -> Side {
        let (n, k) = self.count(v);
        if binomial_tail_half(n, k) <= split.fail_alpha {
            Side::Above
        } else if binomial_tail_half(n, n - k) <= split.hold_alpha {
            Side::Below
        } else {
            Side::Unsure
        }
    }

    pub(super) fn values(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.asked.keys().map(RunId::value).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The replications the logistic fit rests on, as (value, outage), in groups that it counts
    /// as one replication each: the runs of replication r at every value with common seeds
    /// (`Plan::paired`), else each run on its own. The first replication at each value but the
    /// two ends is left out: it steered the search there (a value becomes an end of the
    /// bracket because its first run failed, or held), so those runs look like a step at the
    /// bracket by construction, and a fit on them found the curve steeper, and its interval
    /// narrower, than the runs tell. The replications asked for after a value was chosen are
    /// fresh.
    pub(super) fn groups(&self, p: &Plan) -> Vec<Vec<(f64, bool)>> {
        let mut groups: BTreeMap<(u32, u64), Vec<(f64, bool)>> = BTreeMap::new();
        for (id, &n) in &self.asked {
            let first = if id.value() == p.lo || id.value() == p.hi {
                0
            } else {
                1
            };
            for r in first..n {
                let run = RunId::new(id.value(), r);
                let key = if p.paired { (r, 0) } else { (r, run.bits) };
                groups
                    .entry(key)
                    .or_default()
                    .push((id.value(), self.known[&run]));
            }
        }
        groups.into_values().collect()
    }
}

/// P(X >= k) for X ~ Binomial(n, 1/2): how surprising k or more outages of n would be were
/// the probability 0.5.
pub(crate) fn binomial_tail_half(n: u32, k: u32) -> f64 {
    if k == 0 {
        return 1.0;
    }
    // Sum of C(n, j) / 2^n for j >= k, in logs to stay finite for large n.
    let ln_c = |j: u32| -> f64 {
        (1..=j)
            .map(|i| (f64::from(n - j + i) / f64::from(i)).ln())
            .sum()
    };
    (k..=n)
        .map(|j| (ln_c(j) - f64::from(n) * 2f64.ln()).exp())
        .sum::<f64>()
        .min(1.0)
}

/// The fit of a logistic curve to the replications (`Asker::groups`), if there is one
/// (`crate::stats::fit_crossing`: none where the outcomes are separated): (x50, its
/// profile-likelihood interval, p10, p90, the curve in the parameter's units).
pub(super) fn estimate(
    p: &Plan,
    a: &Asker,
    larger_crashes: bool,
) -> Option<(f64, [f64; 2], f64, f64, Curve)> {
    let fit = fit_crossing(&a.groups(p), larger_crashes, p.lo, p.hi, p.confidence)?;
    (fit.x50 >= p.lo && fit.x50 <= p.hi).then_some((
        fit.x50,
        fit.ci,
        fit.at(0.1),
        fit.at(0.9),
        Curve {
            intercept: fit.intercept,
            slope: fit.slope,
        },
    ))
}

/// The crossing of two neighbouring values tried, the one at the crash side told above 0.5
/// and the other below, close enough to answer.
pub(super) fn told_bracket(p: &Plan, a: &Asker, larger_crashes: bool) -> Option<Verdict> {
    let values = a.values();
    let split = p.split();
    values.windows(2).find_map(|w| {
        let (crashes, holds) = if larger_crashes {
            (w[1], w[0])
        } else {
            (w[0], w[1])
        };
        (p.close(crashes, holds)
            && a.side(crashes, &split) == Side::Above
            && a.side(holds, &split) == Side::Below)
            .then_some(Verdict::Bracket { crashes, holds })
    })
}
