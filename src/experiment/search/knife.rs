//! The knife edge of a whole-number parameter: a value whose failure probability is neither 0
//! nor 1 (it has both failing and holding runs) and is not told from 0.5, between a neighbour
//! told to fail (above 0.5) and a neighbour told to hold (below 0.5). No finer answer exists:
//! the probability crosses 0.5 at that value and at no other whole value, so more runs there
//! would only pin its probability down (a search that waited for a logistic interval between
//! two adjacent whole values would never end: the crossing is on the value itself). The answer
//! is the value, its probability with its interval, and its two neighbours.
//!
//! Not here: the rest of the procedure (`super::decide`), the words printed
//! (`crate::commands::crashpoint`).

use super::plan::{Asker, Plan, Side, Verdict};

/// What the knife-edge rule says about the runs so far.
pub(super) enum Knife {
    /// The knife edge is found.
    Found(Verdict),
    /// A candidate needs these runs (value, replications in all) before it can be told.
    Ask(Vec<(f64, u32)>),
    /// No candidate: the search goes on as before.
    No,
}

/// Replications at the knife value before it is said: enough for its probability to mean
/// something (twice `--reps`, 20 by default: 50% +/- 22% at 95%), and at least as many as the
/// two claims of a bracket would take.
pub(super) fn knife_reps(p: &Plan) -> u32 {
    let s = p.split();
    (2 * p.reps).max(s.fail_reps + s.hold_reps)
}

/// The knife-edge rule at the two ends of the bracket (`down` on the failing side, `safe` on
/// the holding side), for whole-number parameters: an end with both failing and holding runs
/// that is not told from 0.5, whose neighbours are in the range and not told on the wrong side.
/// Its neighbours get the runs that tell a bracket's ends (`ErrorSplit`), the value itself
/// `knife_reps`; once both neighbours are told, the value is the answer.
pub(super) fn knife_edge(p: &Plan, a: &Asker, larger_crashes: bool, safe: f64, down: f64) -> Knife {
    if !p.integer {
        return Knife::No;
    }
    let split = p.split();
    // The failing neighbour of v is one step towards the failing side.
    let towards_failing = if larger_crashes { 1.0 } else { -1.0 };
    'values: for v in [down, safe] {
        let (n, k) = a.count(v);
        if n == 0 || k == 0 || k == n || a.side(v, &split) != Side::Unsure {
            continue;
        }
        let (fails, holds) = (v + towards_failing, v - towards_failing);
        if [fails, holds].iter().any(|x| *x < p.lo || *x > p.hi) {
            continue;
        }
        let (fail_side, hold_side) = (a.side(fails, &split), a.side(holds, &split));
        if fail_side == Side::Below || hold_side == Side::Above {
            continue;
        }
        let mut wants = Vec::new();
        for (side, x, reps) in [
            (hold_side, holds, split.hold_reps),
            (fail_side, fails, split.fail_reps),
        ] {
            if side == Side::Unsure {
                match neighbour_wants(a.count(x).0, reps) {
                    Some(r) => wants.push((x, r)),
                    None => continue 'values, // near 0.5 itself: not one knife edge
                }
            }
        }
        if n < knife_reps(p) {
            wants.push((v, knife_reps(p)));
        }
        if wants.is_empty() {
            return Knife::Found(Verdict::KnifeEdge {
                value: v,
                crashes: fails,
                holds,
            });
        }
        return Knife::Ask(wants);
    }
    Knife::No
}

/// The replications in all that an unsure neighbour with `n` so far needs to be told, `reps`
/// being what its side of a bracket takes: `reps`, then twice that; `None` once it has twice
/// `reps` and is still unsure.
fn neighbour_wants(n: u32, reps: u32) -> Option<u32> {
    (n < 2 * reps).then_some(if n < reps { reps } else { 2 * reps })
}
