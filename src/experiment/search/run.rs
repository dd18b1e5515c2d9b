//! The executor of the crash-point search: runs what the decision procedure (`super::plan`)
//! asks for on `jobs` threads and, while a step waits on fewer runs than there are threads,
//! runs speculatively what the next step would ask for under each outcome of the runs still
//! out. A speculative run's outcome is the one the procedure would get by asking: speculation
//! changes the wall time, never the answer.
//!
//! Not here: the procedure itself (`super::plan`), how a run is prepared or journaled
//! (`super`, `super::journal`).

use anyhow::{Result, anyhow, bail};
use std::collections::{BTreeMap, BTreeSet};

use super::super::runner::{Runner, Stop};
use super::super::sweep::{Interrupted, format_number};
use super::decide::decide;
use super::plan::{Asker, Plan, RunId, Verdict};

/// What the search found.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub verdict: Verdict,
    pub larger_crashes: bool,
    /// Every run the answer rests on, per value in increasing order: the outages of
    /// replications 0..n.
    pub tries: Vec<(f64, Vec<bool>)>,
    /// Each batch of replications asked for, in the order asked: (value, outages of those
    /// replications).
    pub batches: Vec<(f64, Vec<bool>)>,
    /// Runs simulated here, the speculative ones included.
    pub simulated: u32,
    /// Runs taken from the journal of an earlier try.
    pub from_journal: u32,
    /// Runs done (here or in the earlier try) that the answer does not rest on: speculation
    /// that the outcomes made useless.
    pub unused: u32,
    /// Times the search waited on a run with a thread idle (nothing useful left to start).
    #[cfg_attr(not(test), allow(dead_code))] // a measure of the search, read by its tests
    pub idle_waits: u32,
    /// The plan's deadline passed: no run was asked for after it.
    pub budget_reached: bool,
}

/// One run to do: the outage of replication `rep` at `value`, ready to go to a thread.
pub(crate) type Job = Box<dyn FnOnce() -> bool + Send>;

/// Run the procedure to its end on `jobs` threads (`super::super::runner`; once `stop` is set,
/// until the runs in flight are done: then `Interrupted`). `known`: runs done before (a
/// journal); `make` prepares a run (loading the model at a new value: its errors stop the
/// search); `finished` sees each run as it ends.
pub(crate) fn find(
    p: &Plan,
    jobs: usize,
    mut known: BTreeMap<RunId, bool>,
    stop: &Stop,
    make: &mut dyn FnMut(RunId) -> Result<Job>,
    finished: &mut dyn FnMut(RunId, bool) -> Result<()>,
) -> Result<Found> {
    let runner = Runner::new(jobs, stop);
    let mut flight = runner.flight::<RunId, bool>();
    // Past the deadline, `max_runs` is cut to the runs asked for so far: the procedure waits
    // on those, then answers as at `--max-runs` (it asks in a fixed order, so the cut grants
    // it the same runs again).
    let cap = u64::from(p.max_runs) * 3 + 100;
    let mut p = p.clone();
    let p = &mut p;
    let mut tally = Tally {
        from_journal: known.len() as u32,
        ..Tally::default()
    };
    let mut running: BTreeSet<RunId> = BTreeSet::new();
    // When each run in flight started, and the longest a failing run has taken here: a run
    // in flight for longer than that is guessed to hold (a failing run stops at its first
    // failure). Wall time steers speculation only, never the answer.
    let mut started: BTreeMap<RunId, std::time::Instant> = BTreeMap::new();
    let mut longest_failing: Option<std::time::Duration> = None;
    loop {
        let mut a = Asker::new(&known);
        if let Some(verdict) = decide(p, &mut a) {
            // Runs still going are speculation whose answer is not needed: left to end
            // unheard (the threads are not joined).
            return Ok(found(&a, &known, verdict, tally));
        }
        if !tally.budget_reached && p.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            tally.budget_reached = true;
            p.max_runs = p.max_runs.min(a.runs());
            continue;
        }
        // `decide` stops itself at `max_runs`; this bound only guards against a search that
        // would not (a fault in it), so that no command runs for ever.
        if known.len() as u64 >= cap {
            bail!(
                "the crash-point search did {} runs without an answer, three times --max-runs \
                 ({}): it is stuck (a fault in surge, please report it with the model and the \
                 command); the runs so far are in the journal",
                known.len(),
                p.max_runs
            );
        }
        // Stopping (Ctrl-C): no new run; once those in flight are in, the search ends.
        if stop.is_set() && running.is_empty() {
            bail!(Interrupted(format!(
                "interrupted with {} runs done",
                known.len()
            )));
        }
        let outlasting: Vec<RunId> = match longest_failing {
            Some(d) => (started.iter())
                .filter(|(_, t)| t.elapsed() > d)
                .map(|(id, _)| *id)
                .collect(),
            None => Vec::new(),
        };
        for id in to_start(p, &a, &known, &running, &outlasting, flight.free()) {
            flight.start(id, make(id)?);
            running.insert(id);
            started.insert(id, std::time::Instant::now());
        }
        if flight.running() == 0 && stop.is_set() {
            continue; // stopped since the look above: nothing to wait for
        }
        if flight.running() < runner.jobs {
            tally.idle_waits += 1;
        }
        let (id, out) = flight.wait()?;
        running.remove(&id);
        let took = started.remove(&id).map(|t| t.elapsed());
        let crashed = out.map_err(|()| {
            anyhow!(
                "the run at {} replication {} panicked",
                format_number(id.value()),
                id.rep
            )
        })?;
        tally.simulated += 1;
        if crashed {
            longest_failing = longest_failing.max(took);
        }
        known.insert(id, crashed);
        finished(id, crashed)?;
    }
}

/// What `find` counts as it goes.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    simulated: u32,
    from_journal: u32,
    idle_waits: u32,
    budget_reached: bool,
}

/// The runs to start now, `free` at most: those the procedure asks for and are not in flight,
/// then, while threads would idle, what it would ask for next (`speculate`).
fn to_start(
    p: &Plan,
    a: &Asker,
    known: &BTreeMap<RunId, bool>,
    running: &BTreeSet<RunId>,
    outlasting: &[RunId],
    free: usize,
) -> Vec<RunId> {
    let mut start: Vec<RunId> = (a.missing.iter().copied())
        .filter(|id| !running.contains(id))
        .take(free)
        .collect();
    if start.len() < free {
        let out: Vec<RunId> = running.iter().chain(&a.missing).copied().collect();
        start.extend(speculate(p, known, &out, outlasting, free - start.len()));
    }
    start
}

/// What the search found, once the procedure answered `verdict` from the runs `known`.
fn found(a: &Asker, known: &BTreeMap<RunId, bool>, verdict: Verdict, tally: Tally) -> Found {
    let tries: Vec<(f64, Vec<bool>)> = (a.values().into_iter())
        .map(|v| {
            let n = a.count(v).0;
            (v, (0..n).map(|r| known[&RunId::new(v, r)]).collect())
        })
        .collect();
    let batches = (a.batches.iter())
        .map(|&(v, from, to)| (v, (from..to).map(|r| known[&RunId::new(v, r)]).collect()))
        .collect();
    Found {
        larger_crashes: a.larger_crashes.unwrap_or(false),
        unused: known.len() as u32 - a.runs(),
        verdict,
        tries,
        batches,
        simulated: tally.simulated,
        from_journal: tally.from_journal,
        idle_waits: tally.idle_waits,
        budget_reached: tally.budget_reached,
    }
}

/// Up to `k` runs the procedure would ask for next under some outcome of the runs `out` (in
/// flight or wanted), the likeliest outcomes first, looking up to three steps ahead. Each run
/// is guessed to hold if it is in `outlasting` (in flight for longer than any failing run
/// took), else like the nearest value known, an end of the range unlike the other end.
pub(super) fn speculate(
    p: &Plan,
    known: &BTreeMap<RunId, bool>,
    out: &[RunId],
    outlasting: &[RunId],
    k: usize,
) -> Vec<RunId> {
    const MAX_UNKNOWN: usize = 6;
    let guess = |id: &RunId| -> bool {
        if outlasting.contains(id) {
            return false;
        }
        let v = id.value();
        // The range is given to cross: an end is guessed unlike the other end.
        let other = if v == p.lo {
            Some(p.hi)
        } else if v == p.hi {
            Some(p.lo)
        } else {
            None
        };
        if let Some(y) = other.and_then(|o| known.get(&RunId::new(o, id.rep))) {
            return !y;
        }
        let mut by_value: BTreeMap<RunId, (u32, u32)> = BTreeMap::new();
        for (kid, &y) in known {
            let e = by_value.entry(RunId::new(kid.value(), 0)).or_insert((0, 0));
            e.0 += 1;
            e.1 += u32::from(y);
        }
        by_value
            .iter()
            .min_by(|x, y| (x.0.value() - v).abs().total_cmp(&(y.0.value() - v).abs()))
            .is_some_and(|(_, &(n, c))| 2 * c >= n)
    };
    let mut frontier: Vec<RunId> = out.iter().copied().take(MAX_UNKNOWN).collect();
    let mut found: Vec<RunId> = Vec::new();
    for _ in 0..3 {
        let n = frontier.len().min(MAX_UNKNOWN);
        let guessed: u32 = (0..n).map(|i| u32::from(guess(&frontier[i])) << i).sum();
        let mut masks: Vec<u32> = (0..1u32 << n).collect();
        masks.sort_by_key(|m| ((m ^ guessed).count_ones(), *m));
        let mut new = Vec::new();
        for m in masks {
            let mut hyp = known.clone();
            for (i, id) in frontier.iter().take(n).enumerate() {
                hyp.insert(*id, m >> i & 1 == 1);
            }
            let mut a = Asker::new(&hyp);
            if decide(p, &mut a).is_none() {
                for id in a.missing {
                    if !out.contains(&id) && !found.contains(&id) && !new.contains(&id) {
                        new.push(id);
                    }
                }
            }
            if found.len() + new.len() >= k {
                break;
            }
        }
        if new.is_empty() {
            break;
        }
        found.extend(&new);
        if found.len() >= k {
            break;
        }
        frontier.extend(new);
    }
    found.truncate(k);
    found
}
