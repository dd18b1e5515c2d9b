//! The crash-point search: which runs to do, in which order, on every core. A decision
//! procedure (`decide`) sees only the outcomes of the runs it asked for, and asks in a fixed
//! order, so its answer depends on the model, the seed and the settings alone. The executor
//! (`find`) runs what it asks for on `jobs` threads and, while a step waits on fewer runs than
//! there are threads, runs speculatively what the next step would ask for under each outcome of
//! the runs still out. Replication r at a value always uses the seed from (seed, value, r) (or
//! (seed, r) with common seeds), so a speculative run's outcome is the one the procedure would
//! get by asking: speculation changes the wall time, never the answer.
//!
//! The procedure: one replication at each end of the range (more only where they do not tell
//! which way the outage goes), then one replication per value, galloping from the failing end
//! (failing runs stop at their first failure: they are the cheap ones) and bisecting once a
//! value holds, then replications at the two values around the crossing until each is told
//! from 0.5, the two claims' errors adding up to at most 1 - confidence (`ErrorSplit`). Where a
//! value is too close to 0.5 to tell, a logistic curve fitted to the replications (each counted
//! once, the runs that steered the search left out: `Asker::groups`), and more replications
//! near its crossing until its profile-likelihood interval is narrower than the tolerance (or,
//! for counts, lies between two adjacent whole values).
//!
//! Every finished run can be appended to a journal (`store::journal`) as it ends; a search
//! started again with the journal's runs reads them instead of running them again.
//!
//! Not here: the result types (`super::crashpoint`), the logistic fit (`crate::stats`), the files
//! written.
//!
//! Split by concern: `plan` (the decision procedure), `run` (the executor and speculation),
//! `journal` (the search's journal); here, the search put together from a `Search`.

mod decide;
mod journal;
mod knife;
mod plan;
mod run;
#[cfg(test)]
mod tests;

use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::crashpoint::{CrashPoint, Method, Search, Try};
use super::guard::Limits;
use super::sweep::format_number;
use crate::metrics::slo::Criterion;
use crate::model::error::BadInput;
use crate::model::{self, Model};

use journal::{JOURNAL_HEADER, RowCheck, journal_marker, open_journal};
pub(crate) use plan::{ErrorSplit, Plan, RunId, Verdict, binomial_tail_half};
pub(crate) use run::{Found, Job, find};

/// Find the crash point of `s` (see `super::crashpoint::search`).
pub(crate) fn crash_point(s: &Search) -> Result<CrashPoint> {
    if s.hi <= s.lo || s.hi.is_nan() || s.lo.is_nan() {
        bail!(BadInput(format!(
            "--vary {}: the range must go up (got {}..{})",
            s.key, s.lo, s.hi
        )));
    }
    let base = model::load(s.path, s.sets)?;
    let seed = s.seed.unwrap_or(base.scenario.seed);
    let plan = Plan {
        lo: s.lo,
        hi: s.hi,
        integer: s.integer,
        reps: s.reps,
        tolerance: s.tolerance,
        confidence: s.confidence,
        max_runs: s.max_runs,
        paired: s.seeds == super::sweep::Seeds::Common,
        deadline: s.deadline,
    };
    let marker = journal_marker(s, &base, seed);
    let seed_of = |id: RunId| s.seeds.seed(seed, id.bits, u64::from(id.rep));
    let usable = |id: RunId| {
        let v = id.value();
        v >= s.lo && v <= s.hi && (!s.integer || v.fract() == 0.0) && id.rep < s.max_runs
    };
    let check = RowCheck {
        seed_of: &seed_of,
        usable: &usable,
    };
    let (mut journal, known) = match s.journal {
        Some(path) => {
            let (j, known) = open_journal(path, &marker, s.resume, &check)?;
            (Some(j), known)
        }
        None => (None, BTreeMap::new()),
    };
    let mut models: BTreeMap<RunId, Arc<Model>> = BTreeMap::new();
    let seeds = s.seeds;
    let criterion = s.criterion;
    let mut make = |id: RunId| -> Result<Job> {
        let key = RunId::new(id.value(), 0);
        let model = match models.get(&key) {
            Some(m) => m.clone(),
            None => {
                let mut sets = s.sets.to_vec();
                sets.push(format!("{}={}", s.key, format_number(id.value())));
                let m = Arc::new(model::load(s.path, &sets)?);
                models.insert(key, m.clone());
                m
            }
        };
        let run_seed = seeds.seed(seed, id.bits, u64::from(id.rep));
        Ok(Box::new(move || failed(&model, run_seed, criterion)))
    };
    let mut finished = |id: RunId, crashed: bool| -> Result<()> {
        if let Some(show) = s.on_try {
            show(&Try {
                value: id.value(),
                reps: 1,
                outages: u32::from(crashed),
                probability: f64::from(u8::from(crashed)),
            });
        }
        match journal.as_mut() {
            Some(j) => j.append(
                &JOURNAL_HEADER.map(String::from),
                &[
                    format_number(id.value()),
                    id.rep.to_string(),
                    seeds.seed(seed, id.bits, u64::from(id.rep)).to_string(),
                    u8::from(crashed).to_string(),
                ],
            ),
            None => Ok(()),
        }
    };
    let never = super::runner::Stop::new();
    let found = find(
        &plan,
        s.jobs,
        known,
        s.stop.unwrap_or(&never),
        &mut make,
        &mut finished,
    )
    .map_err(
        |e| match (e.downcast_ref::<super::sweep::Interrupted>(), s.journal) {
            (Some(i), Some(path)) => super::sweep::Interrupted(format!(
                "{}; they are kept in {}: run the same command with --resume to continue",
                i.0,
                path.display()
            ))
            .into(),
            _ => e,
        },
    )?;
    let cp = answer(s, seed, found)?;
    if let Some(path) = s.journal {
        crate::store::journal::remove(path)?;
    }
    Ok(cp)
}

/// The crash point of `s` (seeded with `seed`) from what the search `found`; an error when
/// the probability did not cross, or the procedure gave no answer.
fn answer(s: &Search, seed: u64, found: Found) -> Result<CrashPoint> {
    let to_try = |(v, outs): &(f64, Vec<bool>)| {
        let outages = outs.iter().filter(|x| **x).count() as u32;
        Try {
            value: *v,
            reps: outs.len() as u32,
            outages,
            probability: f64::from(outages) / outs.len().max(1) as f64,
        }
    };
    let points: Vec<Try> = found.tries.iter().map(to_try).collect();
    let tries: Vec<Try> = found.batches.iter().map(to_try).collect();
    let runs = points.iter().map(|t| t.reps).sum();
    let words = super::crashpoint::words(s.criterion);
    let direction = if found.larger_crashes {
        words.larger_fails
    } else {
        words.larger_holds
    }
    .to_string();
    let (verdict, max_runs_reached) = match found.verdict {
        Verdict::NoCrossing { plo, phi } => bail!(BadInput(format!(
            "the {} does not cross 0.5 between {} = {} ({plo:.2}) and {} ({phi:.2}): widen \
             the range",
            words.probability,
            s.key,
            format_number(s.lo),
            format_number(s.hi)
        ))),
        Verdict::MaxRuns(v) => (*v, true),
        v => (v, false),
    };
    let mut cp = CrashPoint {
        parameter: s.key.to_string(),
        direction,
        crash_point: None,
        ci95: None,
        p10: None,
        p90: None,
        method: Method::Bracket,
        confidence: s.confidence,
        logistic: None,
        runs,
        points,
        tries,
        seed,
        seeds: s.seeds.name().to_string(),
        max_runs_reached,
        budget_reached: found.budget_reached,
        runs_simulated: found.simulated,
        runs_from_journal: found.from_journal,
        runs_unused: found.unused,
        criterion: s.criterion,
    };
    match verdict {
        Verdict::Logistic {
            x50,
            ci,
            p10,
            p90,
            curve,
        } => {
            cp.crash_point = Some(x50);
            cp.ci95 = Some(ci);
            cp.p10 = Some(p10);
            cp.p90 = Some(p90);
            cp.method = Method::LogisticFit;
            cp.logistic = Some(curve);
        }
        Verdict::Bracket { crashes, holds } => {
            let (a, b) = (crashes.min(holds), crashes.max(holds));
            cp.crash_point = Some(0.5 * (a + b));
            cp.ci95 = Some([a, b]);
            cp.method = Method::Bracket;
        }
        Verdict::KnifeEdge {
            value,
            crashes,
            holds,
        } => {
            cp.crash_point = Some(value);
            cp.ci95 = Some([crashes.min(holds), crashes.max(holds)]);
            cp.method = Method::KnifeEdge;
        }
        other => bail!("the crash-point search ended without an answer: {other:?}"),
    }
    Ok(cp)
}

/// Whether the run fails by `criterion` (an outage, or any break of the SLO, as the model's SLO
/// section defines them). The run stops at its first failure (the answer cannot change after
/// it), or once the hold rule decides it holds (`crate::system::hold`).
pub(crate) fn failed(model: &Model, seed: u64, criterion: Criterion) -> bool {
    let stop = Limits::answer(crate::system::Until::first_failure(criterion));
    criterion.failed(&super::run_bounded(model, seed, &stop).summary)
}
