//! Tests of the crash-point search: the procedure, speculation and the executor.

use super::plan::*;
use super::run::*;
use super::*;

fn plan(lo: f64, hi: f64, integer: bool) -> Plan {
    Plan {
        lo,
        hi,
        integer,
        reps: 10,
        tolerance: 0.03,
        confidence: 0.95,
        max_runs: 2000,
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
    find(p, jobs, BTreeMap::new(), &mut coin(outcome), &mut |_, _| {
        Ok(())
    })
    .unwrap()
}

#[test]
fn six_alike_tell_a_probability_from_one_half_at_95_percent() {
    assert_eq!(plan(0.0, 1.0, false).confirm_reps(), 6);
    assert!((binomial_tail_half(6, 6) - 1.0 / 64.0).abs() < 1e-12);
    assert!((binomial_tail_half(4, 2) - 11.0 / 16.0).abs() < 1e-12);
    assert_eq!(binomial_tail_half(5, 0), 1.0);
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
    let runs: usize = f.tries.iter().map(|t| t.1.len()).sum();
    // Two ends, three bisection steps, then six replications at 10 and at 11.
    assert_eq!(runs, 2 + 3 + 10, "{:?}", f.tries);
    assert!(f.tries.iter().all(|t| t.1.len() == 1 || t.1.len() == 6));
    // Both threads busy but at the very end: speculation fills the second one.
    assert!(
        f.idle_waits <= 1,
        "{} waits with an idle thread",
        f.idle_waits
    );
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
    let first = find(&p, 2, BTreeMap::new(), &mut coin(step), &mut |id, y| {
        all.insert(id, y);
        Ok(())
    })
    .unwrap();
    // An interrupted try kept the first half of its runs.
    let kept: BTreeMap<RunId, bool> = all
        .iter()
        .take(all.len() / 2)
        .map(|(k, v)| (*k, *v))
        .collect();
    let again = find(&p, 2, kept.clone(), &mut coin(step), &mut |id, _| {
        assert!(!kept.contains_key(&id), "{id:?} ran again");
        Ok(())
    })
    .unwrap();
    assert_eq!(again.verdict, first.verdict);
    assert_eq!(again.tries, first.tries);
    assert_eq!(again.from_journal as usize, kept.len());
}

#[test]
fn a_wrong_turn_of_one_replication_is_undone() {
    // 14 crashes in replication 0 by chance; the crossing is at 10.5.
    let p = plan(8.0, 20.0, true);
    let mut make = |id: RunId| -> Result<Job> {
        let v = id.value();
        let crash = v <= 10.0 || (v == 14.0 && id.rep == 0);
        Ok(Box::new(move || crash) as Job)
    };
    let f = find(&p, 2, BTreeMap::new(), &mut make, &mut |_, _| Ok(())).unwrap();
    assert_eq!(
        f.verdict,
        Verdict::Bracket {
            crashes: 10.0,
            holds: 11.0
        }
    );
}

#[test]
fn a_fluke_at_any_value_is_undone_in_few_runs() {
    // 10 or fewer crash, 11 or more hold, but for replication 0 at one value, which does the
    // opposite: every value in turn, on one and on two threads.
    let p = plan(8.0, 20.0, true);
    for fluke in 8..=20 {
        for jobs in [1, 2] {
            let mut make = |id: RunId| -> Result<Job> {
                let v = id.value();
                let crash = (v <= 10.0) != (v == f64::from(fluke) && id.rep == 0);
                Ok(Box::new(move || crash) as Job)
            };
            let f = find(&p, jobs, BTreeMap::new(), &mut make, &mut |_, _| Ok(())).unwrap();
            assert_eq!(
                f.verdict,
                Verdict::Bracket {
                    crashes: 10.0,
                    holds: 11.0
                },
                "fluke at {fluke}, {jobs} threads: {:?}",
                f.batches
            );
            let runs: usize = f.tries.iter().map(|t| t.1.len()).sum();
            assert!(runs <= 60, "fluke at {fluke}: {runs} runs {:?}", f.batches);
        }
    }
}

#[test]
#[ignore = "fails: the verdict at --max-runs 40 on this curve is not yet understood"]
fn a_search_stops_at_max_runs_and_says_so() {
    // A gradual crossing at 2 needs more than 40 runs for a 3% interval: the search stops
    // at --max-runs with its best estimate, and says so.
    let mut p = plan(1.0, 4.0, false);
    p.max_runs = 40;
    let f = run(&p, 2, |v| 1.0 / (1.0 + (-(v - 2.0) * 20.0).exp()));
    assert!(matches!(f.verdict, Verdict::MaxRuns(_)), "{:?}", f.verdict);
    let runs: u32 = f.tries.iter().map(|t| t.1.len() as u32).sum();
    assert!(runs <= p.max_runs + 3 * p.reps, "{runs} runs");
}

#[test]
fn the_spare_thread_bisects_while_the_other_end_runs() {
    // The low end is known to crash; the high end is running: the spare thread takes the
    // first bisection value (the ends are guessed unlike), not more replications of an end.
    let p = plan(8.0, 20.0, true);
    let known = BTreeMap::from([(RunId::new(8.0, 0), true)]);
    let next = speculate(&p, &known, &[RunId::new(20.0, 0)], 1);
    assert_eq!(next, [RunId::new(14.0, 0)]);
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
