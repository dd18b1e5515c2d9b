//! Tests of the crash-point search: the procedure, speculation and the executor.

use super::decide::decide;
use super::plan::*;
use super::run::*;
use super::*;
use crate::experiment::runner::Stop;

fn plan(lo: f64, hi: f64, integer: bool) -> Plan {
    Plan {
        lo,
        hi,
        integer,
        reps: 10,
        tolerance: 0.03,
        confidence: 0.95,
        max_runs: 2000,
        paired: false,
        deadline: None,
    }
}

/// A run whose outcome is a fixed function of (value, replication): an outage with
/// probability `p(value)`, decided by a hash of (value, rep).
fn coin(p: fn(f64) -> f64) -> impl FnMut(RunId) -> Result<Job> {
    move |id: RunId| {
        let h = crate::engine::derive_seed(id.value().to_bits(), &[u64::from(id.rep)]);
        let u = (h >> 11) as f64 / (1u64 << 53) as f64;
        let crash = u < p(id.value());
        Ok(Box::new(move || crash) as Job)
    }
}

fn run(p: &Plan, jobs: usize, outcome: fn(f64) -> f64) -> Found {
    find(
        p,
        jobs,
        BTreeMap::new(),
        &Stop::new(),
        &mut coin(outcome),
        &mut |_, _| Ok(()),
    )
    .unwrap()
}

/// The search of 8..20 (instances) on `jobs` threads where replication `rep` at `value`
/// crashes if `crash(value, rep)`, checked to answer "between 10 and 11" (`case` names the
/// case if it does not).
fn bracket_of_10_and_11(jobs: usize, crash: impl Fn(f64, u32) -> bool, case: &str) -> Found {
    let p = plan(8.0, 20.0, true);
    let mut make = |id: RunId| -> Result<Job> {
        let crashed = crash(id.value(), id.rep);
        Ok(Box::new(move || crashed) as Job)
    };
    let f = find(
        &p,
        jobs,
        BTreeMap::new(),
        &Stop::new(),
        &mut make,
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(
        f.verdict,
        Verdict::Bracket {
            crashes: 10.0,
            holds: 11.0
        },
        "{case}: {:?}",
        f.batches
    );
    f
}

#[test]
fn a_bracket_spends_its_error_where_runs_are_cheap() {
    // At 95%: the holding claim takes 0.5^5 (five holding nights), the failing claim the rest,
    // 5% - 3.125% = 1.875%, which six failing runs reach (0.5^6 = 1.5625%).
    let s = plan(0.0, 1.0, false).split();
    assert_eq!((s.fail_reps, s.hold_reps), (6, 5));
    assert!((s.hold_alpha - 1.0 / 32.0).abs() < 1e-12);
    assert!((s.fail_alpha - (0.05 - 1.0 / 32.0)).abs() < 1e-12);
    assert!(s.fail_alpha + s.hold_alpha <= 0.05 + 1e-12);
    // At 99%: 0.5^7 = 0.78%, then 0.5^9 = 0.195% <= 0.22%.
    let s = ErrorSplit::of(0.99);
    assert_eq!((s.fail_reps, s.hold_reps), (9, 7));
    assert!((binomial_tail_half(6, 6) - 1.0 / 64.0).abs() < 1e-12);
    assert!((binomial_tail_half(4, 2) - 11.0 / 16.0).abs() < 1e-12);
    assert_eq!(binomial_tail_half(5, 0), 1.0);
}

/// The side told at a value with `outages` of `runs`.
fn side_of(runs: u32, outages: u32) -> Side {
    let known: BTreeMap<RunId, bool> = (0..runs)
        .map(|r| (RunId::new(1.0, r), r < outages))
        .collect();
    let mut a = Asker::new(&known);
    a.ask(&[(1.0, runs)]).unwrap();
    a.side(1.0, &ErrorSplit::of(0.95))
}

#[test]
fn five_holding_runs_tell_a_value_below_one_half_and_four_do_not() {
    // The rule must stop: 0 of 5 (chance 3.1% at 0.5), 6 of 6 (1.6%).
    assert_eq!(side_of(5, 0), Side::Below);
    assert_eq!(side_of(6, 6), Side::Above);
    // And must not: 0 of 4 (6.25%), 5 of 5 (3.1% > 1.9%), 1 of 5 (18.75%).
    assert_eq!(side_of(4, 0), Side::Unsure);
    assert_eq!(side_of(5, 5), Side::Unsure);
    assert_eq!(side_of(5, 1), Side::Unsure);
    // Not all alike, still told: 1 of 10 (1.07%), 9 of 10 failing (1.07% <= 1.9%).
    assert_eq!(side_of(10, 1), Side::Below);
    assert_eq!(side_of(10, 9), Side::Above);
}

#[test]
fn an_all_or_nothing_count_is_bracketed_with_few_runs() {
    // Instances: 10 or fewer crash, 11 or more hold.
    let p = plan(8.0, 20.0, true);
    let f = run(&p, 2, |v| if v <= 10.0 { 1.0 } else { 0.0 });
    assert_eq!(
        f.verdict,
        Verdict::Bracket {
            crashes: 10.0,
            holds: 11.0
        }
    );
    assert!(!f.larger_crashes);
    // The two ends; a gallop up from 8 (9 crashes, 11 holds); bisection of 9..11 (10); then
    // six failing runs at 10 and five holding ones at 11.
    let reps: Vec<(f64, usize)> = f.tries.iter().map(|t| (t.0, t.1.len())).collect();
    assert_eq!(
        reps,
        [(8.0, 1), (9.0, 1), (10.0, 6), (11.0, 5), (20.0, 1)],
        "{:?}",
        f.batches
    );
    // The holding nights (the dear ones): the far end, and the five that tell 11.
    let holding = f.tries.iter().flat_map(|t| &t.1).filter(|c| !**c).count();
    assert_eq!(holding, 6);
    // Both threads busy but at the very end: speculation fills the second one.
    assert!(
        f.idle_waits <= 1,
        "{} waits with an idle thread",
        f.idle_waits
    );
}

#[test]
fn a_holding_run_short_of_five_alike_does_not_end_the_search() {
    // 11 holds but in replication 4: 4 of 5 holding is no answer (a chance of 19% at 0.5), so
    // 11 gets ten runs (9 of 10 holding: 1.1%) before the bracket is said.
    let f = bracket_of_10_and_11(
        2,
        |v, rep| v <= 10.0 || (v == 11.0 && rep == 4),
        "11 holds but in replication 4",
    );
    let at_11 = f.tries.iter().find(|t| t.0 == 11.0).unwrap();
    assert_eq!(at_11.1.len(), 10, "{:?}", f.batches);
}

#[test]
fn the_gallop_meets_a_crossing_near_either_end() {
    // Larger crashes (a surge peak in whole steps): 37 and more crash, from 1 to 40. The gallop
    // goes down from 40: 39, 37, 33 (holds), then bisection of 33..37.
    let p = plan(1.0, 40.0, true);
    let f = run(&p, 2, |v| if v >= 37.0 { 1.0 } else { 0.0 });
    assert_eq!(
        f.verdict,
        Verdict::Bracket {
            crashes: 37.0,
            holds: 36.0
        }
    );
    assert!(f.larger_crashes);
    let probed: Vec<f64> = f.batches.iter().map(|b| b.0).collect();
    assert_eq!(probed[..5], [1.0, 40.0, 39.0, 37.0, 33.0], "{probed:?}");
    // A crossing far from the failing end: the gallop hands over to bisection at the middle.
    let f = run(&p, 2, |v| if v >= 4.0 { 1.0 } else { 0.0 });
    assert_eq!(
        f.verdict,
        Verdict::Bracket {
            crashes: 4.0,
            holds: 3.0
        }
    );
    let runs: usize = f.tries.iter().map(|t| t.1.len()).sum();
    assert!(runs <= 2 + 12 + 11, "{runs} runs: {:?}", f.batches);
}

#[test]
fn the_answer_does_not_depend_on_the_threads() {
    // A gradual crossing at 2 (a logistic of slope 20): the logistic phase runs.
    let p = plan(1.0, 4.0, false);
    let curve = |v: f64| 1.0 / (1.0 + (-(v - 2.0) * 20.0).exp());
    let one = run(&p, 1, curve);
    assert_eq!(one.unused, 0, "one thread speculates nothing");
    assert_eq!(one.idle_waits, 0);
    for jobs in [2, 3, 8] {
        let many = run(&p, jobs, curve);
        assert_eq!(many.verdict, one.verdict, "--jobs {jobs}");
        assert_eq!(many.tries, one.tries, "--jobs {jobs}");
    }
    match one.verdict {
        Verdict::Logistic { x50, ci, .. } => {
            assert!((x50 - 2.0).abs() < 0.06, "{x50}");
            assert!(ci[1] - ci[0] <= 0.03 * x50, "{ci:?}");
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn runs_already_known_are_not_run_again() {
    let p = plan(8.0, 20.0, true);
    let step = |v: f64| if v <= 10.0 { 1.0 } else { 0.0 };
    let mut all = BTreeMap::new();
    let first = find(
        &p,
        2,
        BTreeMap::new(),
        &Stop::new(),
        &mut coin(step),
        &mut |id, y| {
            all.insert(id, y);
            Ok(())
        },
    )
    .unwrap();
    // An interrupted try kept the first half of its runs.
    let kept: BTreeMap<RunId, bool> = all
        .iter()
        .take(all.len() / 2)
        .map(|(k, v)| (*k, *v))
        .collect();
    let again = find(
        &p,
        2,
        kept.clone(),
        &Stop::new(),
        &mut coin(step),
        &mut |id, _| {
            assert!(!kept.contains_key(&id), "{id:?} ran again");
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(again.verdict, first.verdict);
    assert_eq!(again.tries, first.tries);
    assert_eq!(again.from_journal as usize, kept.len());
}

#[test]
fn a_wrong_turn_of_one_replication_is_undone() {
    // 14 crashes in replication 0 by chance; the crossing is at 10.5.
    bracket_of_10_and_11(
        2,
        |v, rep| v <= 10.0 || (v == 14.0 && rep == 0),
        "14 crashes in replication 0",
    );
}

#[test]
fn a_fluke_at_any_value_is_undone_in_few_runs() {
    // 10 or fewer crash, 11 or more hold, but for replication 0 at one value, which does the
    // opposite: every value in turn, on one and on two threads.
    for fluke in 8..=20 {
        for jobs in [1, 2] {
            let f = bracket_of_10_and_11(
                jobs,
                |v, rep| (v <= 10.0) != (v == f64::from(fluke) && rep == 0),
                &format!("fluke at {fluke}, {jobs} threads"),
            );
            let runs: usize = f.tries.iter().map(|t| t.1.len()).sum();
            assert!(runs <= 60, "fluke at {fluke}: {runs} runs {:?}", f.batches);
        }
    }
}

#[test]
fn a_knife_edge_at_a_whole_value_is_the_answer() {
    // Threads 16..64 (larger holds): 28 or fewer break, 30 or more hold, 29 breaks in half of
    // the runs. The crossing is on 29 itself: no logistic interval can lie between two adjacent
    // whole values, and the search once ran past 1,700 runs (most of them at 29) without an
    // answer. It stops at the knife edge, with twice --reps at 29.
    for paired in [false, true] {
        for jobs in [1, 2] {
            let mut p = plan(16.0, 64.0, true);
            p.paired = paired;
            let f = run(&p, jobs, |v| match v {
                v if v < 29.0 => 1.0,
                29.0 => 0.5,
                _ => 0.0,
            });
            assert_eq!(
                f.verdict,
                Verdict::KnifeEdge {
                    value: 29.0,
                    crashes: 28.0,
                    holds: 30.0
                },
                "paired {paired}, {jobs} threads: {:?}",
                f.batches
            );
            let at = |v: f64| f.tries.iter().find(|t| t.0 == v).map(|t| t.1.clone());
            let at29 = at(29.0).unwrap();
            assert_eq!(at29.len(), 20, "{:?}", f.batches);
            let k = at29.iter().filter(|c| **c).count();
            assert!(k > 0 && k < 20, "{k} of 20");
            // 28 told to fail (6 of 6), 30 told to hold (5 of 5).
            assert_eq!(at(28.0).unwrap(), vec![true; 6]);
            assert_eq!(at(30.0).unwrap(), vec![false; 5]);
            let runs: usize = f.tries.iter().map(|t| t.1.len()).sum();
            assert!(runs <= 45, "{runs} runs: {:?}", f.batches);
        }
    }
    // A value told above 0.5 (29 fails in 95%) is no knife edge: the bracket 29..30 answers.
    let f = run(&plan(16.0, 64.0, true), 2, |v| match v {
        v if v < 29.0 => 1.0,
        29.0 => 0.95,
        _ => 0.0,
    });
    assert_eq!(
        f.verdict,
        Verdict::Bracket {
            crashes: 29.0,
            holds: 30.0
        },
        "{:?}",
        f.batches
    );
}

#[test]
fn a_search_stops_at_max_runs_and_says_so() {
    // A gradual crossing at 2 (slope 5: from 10% to 90% in 0.9) needs hundreds of runs for a
    // 3% interval: the search stops at --max-runs 40 with its best estimate, and says so.
    //
    // This test once asked for a stop at 40 runs and failed with a logistic fit: the search
    // looked at the budget only before asking for a batch, and at 30 runs asked ten more at
    // each of three values, ran 60 (past `--max-runs 40`, which promises at most that many
    // runs in all), and those 60 gave an interval as tight as asked. The test was right about
    // the flag and the search wrong: every batch is now cut to the runs left in the budget.
    // (The search now meets that curve, slope 20, with 31 runs, so its test is the loop below
    // and a shallower curve stands in for the stop.)
    let mut p = plan(1.0, 4.0, false);
    p.max_runs = 40;
    let f = run(&p, 2, |v| 1.0 / (1.0 + (-(v - 2.0) * 5.0).exp()));
    assert!(matches!(f.verdict, Verdict::MaxRuns(_)), "{:?}", f.verdict);
    let runs: u32 = f.tries.iter().map(|t| t.1.len() as u32).sum();
    assert!(runs <= p.max_runs, "{runs} runs");
    // Whatever the budget, never a run past it; a verdict that is not `MaxRuns` is as tight as
    // asked.
    let curve = |v: f64| 1.0 / (1.0 + (-(v - 2.0) * 20.0).exp());
    for max_runs in (10..=70).step_by(5) {
        p.max_runs = max_runs;
        let f = run(&p, 2, curve);
        let runs: u32 = f.tries.iter().map(|t| t.1.len() as u32).sum();
        assert!(runs <= max_runs, "--max-runs {max_runs}: {runs} runs");
        if let Verdict::Logistic { x50, ci, .. } = f.verdict {
            assert!(ci[1] - ci[0] <= p.tolerance * x50, "{ci:?}");
        }
    }
}

#[test]
fn the_spare_thread_bisects_while_the_other_end_runs() {
    // The low end is known to crash; the high end is running: the spare thread takes the
    // first value of the gallop up from 8 (the ends are guessed unlike), not more replications
    // of an end.
    let p = plan(8.0, 20.0, true);
    let known = BTreeMap::from([(RunId::new(8.0, 0), true)]);
    let next = speculate(&p, &known, &[RunId::new(20.0, 0)], &[], 1);
    assert_eq!(next, [RunId::new(9.0, 0)]);
}

#[test]
fn a_run_that_outlasts_every_failing_one_is_guessed_to_hold() {
    // 8 and 9 crashed, 20 held, 11 is in flight. Nearest to 9, 11 would be guessed to crash
    // and the spare thread would gallop on to 15 (a whole night, useless if 11 holds); once
    // 11 has run longer than any failing run took, it is guessed to hold: the spare thread
    // takes 10, the bisection between 9 and 11.
    let p = plan(8.0, 20.0, true);
    let known = BTreeMap::from([
        (RunId::new(8.0, 0), true),
        (RunId::new(20.0, 0), false),
        (RunId::new(9.0, 0), true),
    ]);
    let eleven = RunId::new(11.0, 0);
    assert_eq!(
        speculate(&p, &known, &[eleven], &[], 1),
        [RunId::new(15.0, 0)]
    );
    assert_eq!(
        speculate(&p, &known, &[eleven], &[eleven], 1),
        [RunId::new(10.0, 0)]
    );
}

#[test]
fn no_crossing_is_said() {
    let p = plan(8.0, 20.0, true);
    let f = run(&p, 2, |_| 0.0);
    assert!(
        matches!(f.verdict, Verdict::NoCrossing { .. }),
        "{:?}",
        f.verdict
    );
}

/// How the outcomes of replication r at two values relate, and what the search is told of it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Coupling {
    /// `--seeds independent`: every run on its own.
    Independent,
    /// `--seeds common` at its extreme: replication r is the same draw at every value, so a
    /// replication that fails at a value fails at every value further to the failing side.
    Common,
    /// `--seeds common` half way: each run takes replication r's draw or one of its own, by a
    /// coin.
    Half,
}

/// One synthetic search: the failure probability is a logistic of `slope` crossing 0.5 at
/// `x0` (larger values hold), each run an outage with that probability under `coupling` and
/// `seed`; the procedure's answer, run to its end on one thread without speculation.
fn synthetic(p: &Plan, x0: f64, slope: f64, coupling: Coupling, seed: u64) -> Verdict {
    let mut known: BTreeMap<RunId, bool> = BTreeMap::new();
    let uniform = |h: u64| (h >> 11) as f64 / (1u64 << 53) as f64;
    loop {
        let mut a = Asker::new(&known);
        if let Some(v) = decide(p, &mut a) {
            return v;
        }
        for id in a.missing {
            let own = crate::engine::derive_seed(seed, &[id.value().to_bits(), u64::from(id.rep)]);
            let common = crate::engine::derive_seed(seed, &[u64::from(id.rep)]);
            let u = match coupling {
                Coupling::Independent => uniform(own),
                Coupling::Common => uniform(common),
                Coupling::Half if uniform(crate::engine::derive_seed(own, &[1])) < 0.5 => {
                    uniform(common)
                }
                Coupling::Half => uniform(own),
            };
            let fail = 1.0 / (1.0 + (slope * (id.value() - x0)).exp());
            known.insert(id, u < fail);
        }
    }
}

/// The interval a verdict reports, and what it is: a fit, a bracket told from 0.5, or the
/// bracket of one replication per value that `--max-runs` leaves (which claims no confidence,
/// and says so).
fn reported(v: &Verdict) -> ([f64; 2], &'static str) {
    match v {
        Verdict::Logistic { ci, .. } => (*ci, "fit"),
        Verdict::Bracket { crashes, holds } => {
            ([crashes.min(*holds), crashes.max(*holds)], "bracket")
        }
        Verdict::KnifeEdge { crashes, holds, .. } => {
            ([crashes.min(*holds), crashes.max(*holds)], "bracket")
        }
        Verdict::MaxRuns(inner) => match reported(inner) {
            (ci, "bracket") => (ci, "untold"),
            other => other,
        },
        other => panic!("no interval: {other:?}"),
    }
}

/// One synthetic case of the coverage test.
struct Case {
    lo: f64,
    hi: f64,
    integer: bool,
    x0: f64,
    slope: f64,
    max_runs: u32,
    coupling: Coupling,
}

impl Case {
    /// Over `seeds` searches, the crossing drawn anew in [x0 - 0.5, x0 + 0.5] for each: the
    /// share of the intervals claiming the confidence (fits and told brackets) that hold the
    /// crossing, and a line saying it with the fits' mean width.
    fn coverage(&self, seeds: u64) -> (f64, String) {
        let mut p = plan(self.lo, self.hi, self.integer);
        p.max_runs = self.max_runs;
        p.paired = self.coupling != Coupling::Independent;
        // Per kind (fit, told bracket): intervals, those holding the crossing, their widths.
        let mut fit = (0, 0, 0.0);
        let mut told = (0, 0, 0.0);
        let mut untold = 0;
        for seed in 0..seeds {
            let h = crate::engine::derive_seed(seed, &[0xC0FE]);
            let x = self.x0 - 0.5 + (h >> 11) as f64 / (1u64 << 53) as f64;
            let (ci, kind) = reported(&synthetic(&p, x, self.slope, self.coupling, seed));
            let tally = match kind {
                "fit" => &mut fit,
                "bracket" => &mut told,
                _ => {
                    untold += 1;
                    continue;
                }
            };
            tally.0 += 1;
            tally.1 += u32::from(ci[0] <= x && x <= ci[1]);
            tally.2 += ci[1] - ci[0];
        }
        let share = f64::from(fit.1 + told.1) / f64::from((fit.0 + told.0).max(1));
        let said = |(n, held, width): (u32, u32, f64)| {
            format!(
                "{held} of {n} hold it, mean width {:.3}",
                width / f64::from(n.max(1))
            )
        };
        let line = format!(
            "{}..{} slope {} budget {} {:?}: {:.1}% covered; fits {}; told brackets {}; \
             {untold} untold brackets",
            self.lo,
            self.hi,
            self.slope,
            self.max_runs,
            self.coupling,
            100.0 * share,
            said(fit),
            said(told),
        );
        (share, line)
    }
}

#[test]
fn the_reported_interval_covers_the_crossing() {
    // Instances (8..20, larger saves), steep (the election night: 88% failing half an instance
    // below the crossing) and gentle (73% one instance below); a continuous parameter (1..4),
    // slope 20 and 5 per unit. Budgets of 20, 40 and 60 runs; independent seeds, and common
    // seeds with outcomes fully or half alike across values; 400 seeds each. A Wald (delta
    // method) interval on a fit of every run as independent covered from 16% to 100% of the
    // independent and common cases (docs/crashpoint-search.md has the figures).
    let mut cases = Vec::new();
    for (lo, hi, integer, x0, slope) in [
        (8.0, 20.0, true, 10.5, 4.0),
        (8.0, 20.0, true, 10.5, 1.0),
        (1.0, 4.0, false, 2.0, 20.0),
        (1.0, 4.0, false, 2.0, 5.0),
    ] {
        for max_runs in [20, 40, 60] {
            for coupling in [Coupling::Independent, Coupling::Common, Coupling::Half] {
                cases.push(Case {
                    lo,
                    hi,
                    integer,
                    x0,
                    slope,
                    max_runs,
                    coupling,
                });
            }
        }
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let results: Vec<(f64, String)> = std::thread::scope(|scope| {
        let chunks: Vec<_> = cases
            .chunks(cases.len().div_ceil(threads))
            .map(|chunk| {
                scope.spawn(move || chunk.iter().map(|c| c.coverage(400)).collect::<Vec<_>>())
            })
            .collect();
        chunks.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let lines: Vec<&str> = results.iter().map(|r| r.1.as_str()).collect();
    println!("{}", lines.join("\n"));
    let worst = results.iter().map(|r| r.0).fold(1.0, f64::min);
    assert!(
        worst >= 0.93,
        "worst coverage {worst}:\n{}",
        lines.join("\n")
    );
}
