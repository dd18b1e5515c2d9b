//! The decision procedure of the crash-point search: which runs to ask for next, given the
//! outcomes of the runs asked for so far, and when the answer is told (`decide`). It sees only
//! the outcomes it asked for, and asks in a fixed order, so its answer depends on the model, the
//! seed and the settings alone.
//!
//! Not here: what it works with (`super::plan`), the knife edge of a whole-number parameter
//! (`super::knife`), running the runs (`super::run`), the journal (`super::journal`).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use super::knife::{Knife, knife_edge};
use super::plan::{Asker, Plan, RunId, Side, Verdict, estimate, told_bracket};

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
