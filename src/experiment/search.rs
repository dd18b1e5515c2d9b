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
//! which way the outage goes), bisection with one replication per value (most values are
//! all-or-nothing), then replications at the two values around the crossing until each is told
//! from 0.5 at the confidence. Where a value is too close to 0.5 to tell, a logistic curve
//! fitted to every replication, and more replications near its crossing until its interval is
//! narrower than the tolerance (or, for counts, lies between two adjacent whole values).
//!
//! Every finished run can be appended to a journal (`output::journal`) as it ends; a search
//! started again with the journal's runs reads them instead of running them again.
//!
//! Not here: the result types (`super::crashpoint`), the logistic fit (`crate::stats`), the files
//! written.

use anyhow::{Result, anyhow, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use super::crashpoint::{CrashPoint, Curve, Method, Search, Try};
use super::guard::{Limits, Until};
use super::sweep::format_number;
use crate::metrics::slo::Criterion;
use crate::model::error::BadInput;
use crate::model::{self, Model};
use crate::output::journal::{self, Journal};
use crate::stats::Logistic;

/// One run: a value of the parameter and a replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId {
    bits: u64,
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
}

impl Plan {
    /// Replications that, all alike, tell a value's outage probability from 0.5 at the
    /// confidence, one side of the bracket each: 0.5^n <= (1 - confidence) / 2 (6 at 95%).
    pub fn confirm_reps(&self) -> u32 {
        let alpha = ((1.0 - self.confidence) / 2.0).clamp(1e-12, 0.5);
        (alpha.ln() / 0.5_f64.ln()).ceil().max(1.0) as u32
    }

    /// Two values close enough to answer: adjacent whole values, or nearer than the tolerance.
    fn close(&self, a: f64, b: f64) -> bool {
        let width = (a - b).abs();
        if self.integer {
            width <= 1.0
        } else {
            width <= self.tolerance * (0.5 * (a + b)).abs()
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
    /// `--max-runs` reached first: the best estimate so far (a fit, else the bracket by one
    /// replication per value).
    MaxRuns(Box<Verdict>),
    /// The outage probability does not cross 0.5 between the ends.
    NoCrossing { plo: f64, phi: f64 },
}

/// Whether a value's outage probability is told above or below 0.5.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Above,
    Below,
    Unsure,
}

/// The procedure's view of the runs: it asks for replications 0..n at values and sees only
/// those.
struct Asker<'a> {
    known: &'a BTreeMap<RunId, bool>,
    /// Replications asked for, per value (always 0..n).
    asked: BTreeMap<RunId, u32>,
    missing: Vec<RunId>,
    /// Whether a larger value crashes, once the ends told.
    larger_crashes: Option<bool>,
    /// Each batch asked for, in order: (value, first replication, end).
    batches: Vec<(f64, u32, u32)>,
}

impl<'a> Asker<'a> {
    fn new(known: &'a BTreeMap<RunId, bool>) -> Self {
        Asker {
            known,
            asked: BTreeMap::new(),
            missing: Vec::new(),
            larger_crashes: None,
            batches: Vec::new(),
        }
    }

    /// Ask for replications 0..n at each value: `None` (the missing runs noted) until every one
    /// is known.
    fn ask(&mut self, wants: &[(f64, u32)]) -> Option<()> {
        for &(v, n) in wants {
            let e = self.asked.entry(RunId::new(v, 0)).or_insert(0);
            if n > *e {
                self.batches.push((v, *e, n));
            }
            *e = (*e).max(n);
        }
        for &(v, n) in wants {
            for r in 0..n {
                let id = RunId::new(v, r);
                if !self.known.contains_key(&id) && !self.missing.contains(&id) {
                    self.missing.push(id);
                }
            }
        }
        self.missing.is_empty().then_some(())
    }

    fn runs(&self) -> u32 {
        self.asked.values().sum()
    }

    /// (replications, outages) at `v`.
    fn count(&self, v: f64) -> (u32, u32) {
        let n = self.asked.get(&RunId::new(v, 0)).copied().unwrap_or(0);
        let k = (0..n).filter(|&r| self.known[&RunId::new(v, r)]).count() as u32;
        (n, k)
    }

    fn prob(&self, v: f64) -> f64 {
        let (n, k) = self.count(v);
        f64::from(k) / f64::from(n.max(1))
    }

    fn side(&self, v: f64, confidence: f64) -> Side {
        let (n, k) = self.count(v);
        let alpha = (1.0 - confidence) / 2.0;
        if binomial_tail_half(n, k) <= alpha {
            Side::Above
        } else if binomial_tail_half(n, n - k) <= alpha {
            Side::Below
        } else {
            Side::Unsure
        }
    }

    fn values(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.asked.keys().map(RunId::value).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// Every replication asked for, as (value, outage).
    fn data(&self) -> Vec<(f64, bool)> {
        self.asked
            .iter()
            .flat_map(|(id, &n)| {
                (0..n).map(move |r| (id.value(), self.known[&RunId::new(id.value(), r)]))
            })
            .collect()
    }
}

/// P(X >= k) for X ~ Binomial(n, 1/2): how surprising k or more outages of n would be were
/// the probability 0.5.
fn binomial_tail_half(n: u32, k: u32) -> f64 {
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

/// The fit of a logistic curve to every replication, if there is one: (x50, interval, p10, p90,
/// the curve in the parameter's units).
fn estimate(
    p: &Plan,
    data: &[(f64, bool)],
    centre: f64,
) -> Option<(f64, [f64; 2], f64, f64, Curve)> {
    let scale = ((p.hi - p.lo) / 10.0).max(1e-9);
    let fit = Logistic::fit(data, centre, scale)?;
    let (x50, ci) = fit.crossing(p.confidence)?;
    let (intercept, slope) = fit.natural();
    (x50 >= p.lo && x50 <= p.hi).then_some((
        x50,
        ci,
        fit.at(0.1)?,
        fit.at(0.9)?,
        Curve { intercept, slope },
    ))
}

/// The crossing of two neighbouring values tried, the one at the crash side told above 0.5
/// and the other below, close enough to answer.
fn told_bracket(p: &Plan, a: &Asker, larger_crashes: bool) -> Option<Verdict> {
    let values = a.values();
    values.windows(2).find_map(|w| {
        let (crashes, holds) = if larger_crashes {
            (w[1], w[0])
        } else {
            (w[0], w[1])
        };
        (p.close(crashes, holds)
            && a.side(crashes, p.confidence) == Side::Above
            && a.side(holds, p.confidence) == Side::Below)
            .then_some(Verdict::Bracket { crashes, holds })
    })
}

/// The decision procedure: `None` while it waits on runs (noted in `a.missing`).
fn decide(p: &Plan, a: &mut Asker) -> Option<Verdict> {
    let (lo, hi) = (p.lo, p.hi);
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
    let nc = p.confirm_reps();
    let max_runs = |a: &Asker, safe: f64, down: f64| {
        let best = estimate(p, &a.data(), 0.5 * (safe + down))
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
    };
    // Bisect with one replication per value, then tell both ends from 0.5 (more replications
    // at an end that its first ones do not tell); an end told on the wrong side moves the
    // bracket past it and the bisection goes on. An end that many replications do not tell is
    // near 0.5: then a logistic curve over every replication. Every pass either adds runs or
    // reaches a bracket not seen with these runs, so the search ends; `max_runs` bounds it.
    let mut seen: BTreeSet<(u64, u64, u32)> = BTreeSet::new();
    'bracket: loop {
        while !p.close(safe, down) {
            if a.runs() >= p.max_runs {
                return Some(max_runs(a, safe, down));
            }
            let mut m = 0.5 * (safe + down);
            if p.integer {
                m = m.round();
            }
            let m = RunId::new(m, 0).value();
            if m == safe || m == down {
                break;
            }
            a.ask(&[(m, 1)])?;
            if a.prob(m) >= 0.5 {
                down = m;
            } else {
                safe = m;
            }
        }
        if a.runs() >= p.max_runs {
            return Some(max_runs(a, safe, down));
        }
        a.ask(&[(down, nc), (safe, nc)])?;
        let untold: Vec<(f64, u32)> = [down, safe]
            .into_iter()
            .filter(|&v| a.side(v, p.confidence) == Side::Unsure && a.count(v).0 < 2 * nc)
            .map(|v| (v, 2 * nc))
            .collect();
        a.ask(&untold)?;
        // Back at a bracket already seen, with no new run: moving again would go round in a
        // circle, so the logistic curve decides (it adds runs).
        let again = !seen.insert((safe.to_bits(), down.to_bits(), a.runs()));
        match (a.side(down, p.confidence), a.side(safe, p.confidence)) {
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
                    .filter(|&v| beyond(safe, v) && a.side(v, p.confidence) != Side::Below)
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
                    .filter(|&v| beyond(v, down) && a.side(v, p.confidence) != Side::Above)
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
        // An end near 0.5: fit a logistic curve to every replication and add replications near
        // its crossing, until its interval is tight, two neighbours are told apart, or an end
        // is told on the wrong side after all (then the bracket moves, as above).
        let centre = 0.5 * (safe + down);
        let runs_before = a.runs();
        loop {
            if let Some(v) = told_bracket(p, a, larger_crashes) {
                return Some(v);
            }
            let fit = estimate(p, &a.data(), centre);
            if let Some((x50, ci, p10, p90, curve)) = fit {
                let width = ci[1] - ci[0];
                let between_neighbours = p.integer && ci[0].floor() >= ci[1].ceil() - 1.0;
                if width <= p.tolerance * x50.abs().max(1e-9) || between_neighbours {
                    return Some(Verdict::Logistic {
                        x50,
                        ci,
                        p10,
                        p90,
                        curve,
                    });
                }
            }
            if a.runs() >= p.max_runs {
                return Some(max_runs(a, safe, down));
            }
            let wrong_side = a.side(down, p.confidence) == Side::Below
                || a.side(safe, p.confidence) == Side::Above;
            if wrong_side && a.runs() > runs_before {
                continue 'bracket;
            }
            let (around, more) = match fit {
                Some((x50, ci, _, _, _)) => (vec![x50, ci[0], ci[1]], p.reps),
                None => (vec![down, safe], nc),
            };
            let mut wants: Vec<(f64, u32)> = Vec::new();
            for v in around {
                let v = RunId::new(if p.integer { v.round() } else { v }.clamp(lo, hi), 0).value();
                if !wants.iter().any(|w| w.0 == v) {
                    wants.push((v, a.count(v).0 + more));
                }
            }
            a.ask(&wants)?;
        }
    }
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct Found {
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
    pub idle_waits: u32,
}

/// One run to do: the outage of replication `rep` at `value`, ready to go to a thread.
pub type Job = Box<dyn FnOnce() -> bool + Send>;

/// Run the procedure to its end on `jobs` threads. `known`: runs done before (a journal);
/// `make` prepares a run (loading the model at a new value: its errors stop the search);
/// `finished` sees each run as it ends.
pub fn find(
    p: &Plan,
    jobs: usize,
    mut known: BTreeMap<RunId, bool>,
    make: &mut dyn FnMut(RunId) -> Result<Job>,
    finished: &mut dyn FnMut(RunId, bool) -> Result<()>,
) -> Result<Found> {
    let jobs = jobs.max(1);
    let from_journal = known.len() as u32;
    let (tx, rx) = mpsc::channel::<(RunId, std::thread::Result<bool>)>();
    let mut running: BTreeSet<RunId> = BTreeSet::new();
    let mut simulated = 0;
    let mut idle_waits = 0;
    loop {
        let mut a = Asker::new(&known);
        if let Some(verdict) = decide(p, &mut a) {
            let tries: Vec<(f64, Vec<bool>)> = a
                .values()
                .into_iter()
                .map(|v| {
                    let n = a.count(v).0;
                    (v, (0..n).map(|r| known[&RunId::new(v, r)]).collect())
                })
                .collect();
            let batches = a
                .batches
                .iter()
                .map(|&(v, from, to)| (v, (from..to).map(|r| known[&RunId::new(v, r)]).collect()))
                .collect();
            let larger_crashes = a.larger_crashes.unwrap_or(false);
            // Runs still going are speculation whose answer is not needed: left to end
            // unheard (the threads are not joined).
            return Ok(Found {
                larger_crashes,
                unused: known.len() as u32 - a.runs(),
                verdict,
                tries,
                batches,
                simulated,
                from_journal,
                idle_waits,
            });
        }
        // `decide` stops itself at `max_runs`; this bound only guards against a search that
        // would not (a fault in it), so that no command runs for ever.
        let cap = u64::from(p.max_runs) * 3 + 100;
        if known.len() as u64 >= cap {
            bail!(
                "the crash-point search did {} runs without an answer, three times --max-runs \
                 ({}): it is stuck (a fault in surge, please report it with the model and the \
                 command); the runs so far are in the journal",
                known.len(),
                p.max_runs
            );
        }
        let free = jobs.saturating_sub(running.len());
        let mut start: Vec<RunId> = a
            .missing
            .iter()
            .copied()
            .filter(|id| !running.contains(id))
            .take(free)
            .collect();
        if start.len() < free {
            let out: Vec<RunId> = running.iter().chain(&a.missing).copied().collect();
            start.extend(speculate(p, &known, &out, free - start.len()));
        }
        for id in start {
            let job = make(id)?;
            running.insert(id);
            let tx = tx.clone();
            std::thread::spawn(move || {
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                let _ = tx.send((id, out));
            });
        }
        if running.len() < jobs {
            idle_waits += 1;
        }
        let (id, out) = rx.recv().map_err(|_| anyhow!("every run thread is gone"))?;
        running.remove(&id);
        let crashed = out.map_err(|_| {
            anyhow!(
                "the run at {} replication {} panicked",
                format_number(id.value()),
                id.rep
            )
        })?;
        simulated += 1;
        known.insert(id, crashed);
        finished(id, crashed)?;
    }
}

/// Up to `k` runs the procedure would ask for next under some outcome of the runs `out` (in
/// flight or wanted), the likeliest outcomes first (each run guessed like the nearest value
/// known, an end of the range unlike the other end), looking up to three steps ahead.
fn speculate(p: &Plan, known: &BTreeMap<RunId, bool>, out: &[RunId], k: usize) -> Vec<RunId> {
    const MAX_UNKNOWN: usize = 6;
    let guess = |id: &RunId| -> bool {
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

/// The columns of a crash-point journal.
const JOURNAL_HEADER: [&str; 4] = ["value", "rep", "seed", "outage"];

/// Find the crash point of `s` (see `super::crashpoint::search`).
pub fn crash_point(s: &Search) -> Result<CrashPoint> {
    if s.hi <= s.lo || s.hi.is_nan() || s.lo.is_nan() {
        bail!(BadInput(format!(
            "--vary {}: the range must go up (got {}..{})",
            s.key, s.lo, s.hi
        )));
    }
    let base = model::load(Some(s.path), s.sets)?;
    let seed = s.seed.unwrap_or(base.scenario.seed);
    let plan = Plan {
        lo: s.lo,
        hi: s.hi,
        integer: s.integer,
        reps: s.reps,
        tolerance: s.tolerance,
        confidence: s.confidence,
        max_runs: s.max_runs,
    };
    let marker = journal_marker(s, &base, seed);
    let (mut journal, known) = match s.journal {
        Some(path) => {
            let (j, known) = open_journal(path, &marker, s.resume)?;
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
                let m = Arc::new(model::load(Some(s.path), &sets)?);
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
    let found = find(&plan, s.jobs, known, &mut make, &mut finished)?;
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
        seeds: seeds.name().to_string(),
        max_runs_reached,
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
        other => bail!("the crash-point search ended without an answer: {other:?}"),
    }
    if let Some(path) = s.journal {
        journal::remove(path)?;
    }
    Ok(cp)
}

/// Whether the run fails by `criterion` (an outage, or any break of the SLO, as the model's SLO
/// section defines them). The run stops at its first failure: the answer cannot change after it.
fn failed(model: &Model, seed: u64, criterion: Criterion) -> bool {
    let stop = Limits::until(match criterion {
        Criterion::Outage => Until::FirstOutage,
        Criterion::Slo => Until::FirstSloBreach,
    });
    criterion.failed(&super::run_bounded(model, seed, &stop).summary)
}

/// The first line of a search's journal: the runs it holds are those of this model (after
/// `--set`), parameter, seed and seed mode, whatever the range, tolerance or replications.
fn journal_marker(s: &Search, base: &Model, seed: u64) -> String {
    let vary = super::sweep::Vary {
        key: s.key.to_string(),
        values: Vec::new(),
    };
    format!(
        "surge crashpoint journal: surge_version={} model_hash={}",
        env!("CARGO_PKG_VERSION"),
        super::sweep::fingerprint(base, &[vary], 0, seed, s.seeds)
    )
}

/// Open the journal at `path`: with `resume`, keep the runs of an earlier try of this search
/// (refusing another search's journal); without, start afresh.
fn open_journal(
    path: &Path,
    marker: &str,
    resume: bool,
) -> Result<(Journal, BTreeMap<RunId, bool>)> {
    let mut kept = journal::Contents {
        marker: marker.to_string(),
        header: None,
        rows: Vec::new(),
    };
    let mut known = BTreeMap::new();
    if resume && let Some(c) = journal::read(path)? {
        if c.marker != marker {
            bail!(BadInput(format!(
                "{} is the journal of another crash-point search ({}) than this command's: \
                 resume with the same model, --set, --vary key, --seed and --seeds, or run \
                 without --resume to start over",
                path.display(),
                c.marker
            )));
        }
        for row in &c.rows {
            let parsed = match row.as_slice() {
                [v, r, _, y] => {
                    v.parse::<f64>()
                        .ok()
                        .zip(r.parse::<u32>().ok())
                        .zip(match y.as_str() {
                            "0" => Some(false),
                            "1" => Some(true),
                            _ => None,
                        })
                }
                _ => None,
            };
            let ((v, r), y) = parsed.ok_or_else(|| {
                BadInput(format!(
                    "{}: the row `{}` is not a run (value,rep,seed,outage); run without \
                     --resume to start over",
                    path.display(),
                    row.join(",")
                ))
            })?;
            known.insert(RunId::new(v, r), y);
            kept.rows.push(row.clone());
        }
        kept.header = c.header;
    }
    Ok((Journal::start(path, marker, &kept)?, known))
}

#[cfg(test)]
mod tests {
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
}
