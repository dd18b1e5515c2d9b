//! The decision procedure of the crash-point search: which runs to ask for next, given the
//! outcomes of the runs asked for so far, and when the answer is told (`decide`). It sees only
//! the outcomes it asked for, and asks in a fixed order, so its answer depends on the model, the
//! seed and the settings alone.
//!
//! Not here: running the runs (`super::run`), the journal (`super::journal`), the logistic fit
//! (`crate::stats`).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use super::super::crashpoint::Curve;
use super::super::sweep::format_number;
use super::knife::{Knife, knife_edge};
use crate::stats::fit_crossing;

/// One run: a value of the parameter and a replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId {
    pub(super) bits: u64,
    pub rep: u32,
}

impl RunId {
    /// The run at `value` as the model is given it (`format_number`, 9 decimals at most, as
    /// the journal writes it back).
    pub fn new(value: f64, rep: u32) -> RunId {
        let value = format_number(value).parse::<f64>().unwrap_or(value);
        // -0 and 0 are one value.
        let value = if value == 0.0 { 0.0 } else { value };
        RunId {
            bits: value.to_bits(),
            rep,
        }
    }

    pub fn value(&self) -> f64 {
        f64::from_bits(self.bits)
    }
}

/// What the procedure needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
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
    pub fn split(&self) -> ErrorSplit {
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
pub struct ErrorSplit {
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
    pub fn of(confidence: f64) -> ErrorSplit {
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

    /// The runs that, all alike, tell a value on the failing side (`fails`) or on the holding
    /// side.
    pub fn reps(&self, fails: bool) -> u32 {
        if fails {
            self.fail_reps
        } else {
            self.hold_reps
        }
    }
}

/// How the search ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
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
pub(super) fn binomial_tail_half(n: u32, k: u32) -> f64 {
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

/// The decision procedure: `None` while it waits on runs (noted in `a.missing`).
pub(super) fn decide(p: &Plan, a: &mut Asker) -> Option<Verdict> {
    let (lo, hi) = (p.lo, p.hi);
    a.budget = p.max_runs.max(2);
    a.ask(&[(lo, 1), (hi, 1)])?;
    let larger_crashes = if a.count(lo).1 != a.count(hi).1 {
        a.count(hi).1 > 0
    } else {
        a.ask(&[(lo, p.reps), (hi, p.reps)])?;
        let (plo, phi) = (a.prob(lo), a.prob(hi));
        if plo == phi || (plo < 0.5) == (phi < 0.5) {
            return Some(Verdict::NoCrossing { plo, phi });
        }
        phi > plo
    };
    a.larger_crashes = Some(larger_crashes);
    // `down` at or above 0.5, `safe` below; `beyond(x, y)`: y is further to the crash side.
    let beyond = |x: f64, y: f64| if larger_crashes { y > x } else { y < x };
    let (mut safe, mut down) = if larger_crashes { (lo, hi) } else { (hi, lo) };
    // Close in with one replication per value, then tell both ends from 0.5 (more replications
    // at an end that its first ones do not tell); an end told on the wrong side moves the
    // bracket past it and the search goes on. An end that many replications do not tell is
    // near 0.5: then a logistic curve over the replications. Every pass either adds runs or
    // reaches a bracket not seen with these runs, so the search ends; `max_runs` bounds it.
    //
    // Closing in gallops from the failing side before it bisects: probes at 1, 2, 4, ... steps
    // of the resolution (`Plan::step`) past the last value that failed, while they fail and
    // stay nearer to it than the middle of the bracket; the first that holds (or would pass
    // the middle) hands over to bisection. A failing run stops at its first failure and a
    // holding one runs the whole night, so the search meets the crossing from the cheap side:
    // its first holding run is past the crossing by less than the distance from the failing
    // end, where bisection's first is the middle of the range.
    let split = p.split();
    let (nf, nh) = (split.fail_reps, split.hold_reps);
    let mut seen: BTreeSet<(u64, u64, u32)> = BTreeSet::new();
    'bracket: loop {
        match close_in(p, a, larger_crashes, (safe, down)) {
            ControlFlow::Continue(bracket) => (safe, down) = bracket,
            ControlFlow::Break(verdict) => return verdict,
        }
        if a.runs() >= p.max_runs {
            return Some(max_runs(p, a, larger_crashes, safe, down));
        }
        // The holding side first: its runs are the long ones, and the short failing ones fill
        // the cores around them.
        a.ask(&[(safe, nh), (down, nf)])?;
        let untold: Vec<(f64, u32)> = [(safe, nh), (down, nf)]
            .into_iter()
            .filter(|&(v, n)| a.side(v, &split) == Side::Unsure && a.count(v).0 < 2 * n)
            .map(|(v, n)| (v, 2 * n))
            .collect();
        a.ask(&untold)?;
        // Back at a bracket already seen, with no new run: moving again would go round in a
        // circle, so the logistic curve decides (it adds runs).
        let again = !seen.insert((safe.to_bits(), down.to_bits(), a.runs()));
        match (a.side(down, &split), a.side(safe, &split)) {
            _ if again => {}
            (Side::Above, Side::Below) if p.close(safe, down) => {
                return Some(Verdict::Bracket {
                    crashes: down,
                    holds: safe,
                });
            }
            (Side::Below, _) => {
                // The crossing lies past `down`: the nearest value tried beyond it not told
                // below 0.5 is the new crash side.
                safe = down;
                let next = a
                    .values()
                    .into_iter()
                    .filter(|&v| beyond(safe, v) && a.side(v, &split) != Side::Below)
                    .min_by(|x, y| (x - safe).abs().total_cmp(&(y - safe).abs()));
                match next {
                    Some(v) => down = v,
                    None => {
                        return Some(Verdict::NoCrossing {
                            plo: a.prob(lo),
                            phi: a.prob(hi),
                        });
                    }
                }
                continue 'bracket;
            }
            (_, Side::Above) => {
                down = safe;
                let next = a
                    .values()
                    .into_iter()
                    .filter(|&v| beyond(v, down) && a.side(v, &split) != Side::Above)
                    .min_by(|x, y| (x - down).abs().total_cmp(&(y - down).abs()));
                match next {
                    Some(v) => safe = v,
                    None => {
                        return Some(Verdict::NoCrossing {
                            plo: a.prob(lo),
                            phi: a.prob(hi),
                        });
                    }
                }
                continue 'bracket;
            }
            _ => {}
        }
        // An end near 0.5: fit a logistic curve to the replications and add replications near
        // its crossing, until its interval is tight, two neighbours are told apart, or an end
        // is told on the wrong side after all (then the bracket moves, as above).
        if let ControlFlow::Break(verdict) = near_half(p, a, larger_crashes, safe, down) {
            return verdict;
        }
    }
}

/// Close in on the crossing from the bracket `(safe, down)` with one replication per value
/// (galloping from the failing side, then bisecting) until the two are neighbours: the new
/// bracket, or what `decide` answers now (`None`: it waits on a run).
fn close_in(
    p: &Plan,
    a: &mut Asker,
    larger_crashes: bool,
    (mut safe, mut down): (f64, f64),
) -> ControlFlow<Option<Verdict>, (f64, f64)> {
    let mut gallop = p.step(down).map(|s| (s, 1.0));
    while !p.close(safe, down) {
        if a.runs() >= p.max_runs {
            return ControlFlow::Break(Some(max_runs(p, a, larger_crashes, safe, down)));
        }
        let mut half = 0.5 * (safe + down);
        if p.integer {
            half = half.round();
        }
        let mut m = half;
        if let Some((step, k)) = gallop {
            let g = down + (safe - down).signum() * step * k;
            if (g - down).abs() < (half - down).abs() {
                m = g;
                gallop = Some((step, 2.0 * k));
            } else {
                gallop = None;
            }
        }
        let m = RunId::new(m, 0).value();
        if m == safe || m == down {
            break;
        }
        if a.ask(&[(m, 1)]).is_none() {
            return ControlFlow::Break(None);
        }
        if a.prob(m) >= 0.5 {
            down = m;
        } else {
            safe = m;
            gallop = None;
        }
    }
    ControlFlow::Continue((safe, down))
}

/// An end near 0.5: fit a logistic curve to the replications and add replications near its
/// crossing, until its interval is tight, two neighbours are told apart, or an end is told on
/// the wrong side after all (`Continue`: the bracket moves, as in `decide`). `Break`: what
/// `decide` answers now (`None`: it waits on runs).
fn near_half(
    p: &Plan,
    a: &mut Asker,
    larger_crashes: bool,
    safe: f64,
    down: f64,
) -> ControlFlow<Option<Verdict>> {
    let (lo, hi) = (p.lo, p.hi);
    let split = p.split();
    let (nf, nh) = (split.fail_reps, split.hold_reps);
    let runs_before = a.runs();
    loop {
        if let Some(v) = told_bracket(p, a, larger_crashes) {
            return ControlFlow::Break(Some(v));
        }
        let knife = knife_edge(p, a, larger_crashes, safe, down);
        if let Knife::Found(v) = knife {
            return ControlFlow::Break(Some(v));
        }
        let fit = estimate(p, a, larger_crashes);
        if let Some((x50, ci, p10, p90, curve)) = fit {
            let width = ci[1] - ci[0];
            let between_neighbours = p.integer && ci[0].floor() >= ci[1].ceil() - 1.0;
            if width <= p.tolerance * x50.abs().max(1e-9) || between_neighbours {
                return ControlFlow::Break(Some(Verdict::Logistic {
                    x50,
                    ci,
                    p10,
                    p90,
                    curve,
                }));
            }
        }
        if a.runs() >= p.max_runs {
            return ControlFlow::Break(Some(max_runs(p, a, larger_crashes, safe, down)));
        }
        if let Knife::Ask(wants) = knife {
            if a.ask(&wants).is_none() {
                return ControlFlow::Break(None);
            }
            continue;
        }
        let wrong_side = a.side(down, &split) == Side::Below || a.side(safe, &split) == Side::Above;
        if wrong_side && a.runs() > runs_before {
            return ControlFlow::Continue(());
        }
        let around = match fit {
            Some((x50, ci, _, _, _)) => vec![(x50, p.reps), (ci[0], p.reps), (ci[1], p.reps)],
            None => vec![(safe, nh), (down, nf)],
        };
        let mut wants: Vec<(f64, u32)> = Vec::new();
        for (v, more) in around {
            let v = RunId::new(if p.integer { v.round() } else { v }.clamp(lo, hi), 0).value();
            if !wants.iter().any(|w| w.0 == v) {
                wants.push((v, a.count(v).0 + more));
            }
        }
        if a.ask(&wants).is_none() {
            return ControlFlow::Break(None);
        }
    }
}

/// The answer at `--max-runs`: the logistic fit when there is one, else the bracket.
fn max_runs(p: &Plan, a: &Asker, larger_crashes: bool, safe: f64, down: f64) -> Verdict {
    let best = estimate(p, a, larger_crashes)
        .map(|(x50, ci, p10, p90, curve)| Verdict::Logistic {
            x50,
            ci,
            p10,
            p90,
            curve,
        })
        .unwrap_or(Verdict::Bracket {
            crashes: down,
            holds: safe,
        });
    Verdict::MaxRuns(Box::new(best))
}
