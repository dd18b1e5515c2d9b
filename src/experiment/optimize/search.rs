//! The search of `surge optimize` (the method is in `super`'s comment): batches of runs asked by
//! what the runs so far say, run on `jobs` threads; each batch depends only on the runs before
//! it, so the answer does not depend on `jobs`, and a journal's runs read back change nothing
//! but the time.
//!
//! Not here: the lattice geometry (`super::lattice`), the journal's rows (`super::journal`).

use anyhow::{Result, bail};
use std::sync::Mutex;

use super::lattice::{self, Lattice};
use super::{Config, Contradiction, Key, Optimization, Problem, RunRecord, RunSlo};
use crate::error::BadInput;
use crate::experiment::runner::{Runner, Stop};
use crate::experiment::search::{ErrorSplit, binomial_tail_half};
use crate::experiment::sweep::{Interrupted, Seeds, fingerprint, load_points};
use crate::model::{self, Model, cost};

use super::journal::{Figures, Known};

/// A run done: (configuration, replication), whether it failed, its SLO figures if it held.
type Done = ((usize, u32), bool, Option<RunSlo>);

/// What the search sets up once: the grid's models, costs and seeds.
struct Setup<'a> {
    pb: &'a Problem<'a>,
    lat: Lattice,
    points: Vec<Vec<String>>,
    models: Vec<Model>,
    cost: Vec<f64>,
    seed: u64,
    split: ErrorSplit,
}

impl Setup<'_> {
    fn seed_of(&self, rep: u32) -> u64 {
        Seeds::Common.seed(self.seed, 0, u64::from(rep))
    }

    /// (runs, failures) of `p`: replications 0.. while known.
    fn count(&self, known: &Known, p: usize) -> (u32, u32) {
        let mut n = 0;
        let mut f = 0;
        while let Some(&y) = known.get(&(p, n)) {
            n += 1;
            f += u32::from(y);
        }
        (n, f)
    }

    /// Whether most of `p`'s runs held (none when not run).
    fn holds(&self, known: &Known, p: usize) -> Option<bool> {
        let (n, f) = self.count(known, p);
        (n > 0).then_some(2 * f < n)
    }

    /// Whether `p`'s runs tell its failure probability from 0.5 (either way).
    fn told(&self, known: &Known, p: usize) -> bool {
        let (n, f) = self.count(known, p);
        n > 0
            && (binomial_tail_half(n, f) <= self.split.fail_alpha
                || binomial_tail_half(n, n - f) <= self.split.hold_alpha)
    }

    /// The replications to run at `p` next: none once told or at `max_reps`; else as many as
    /// would tell were they all alike its runs so far.
    fn more(&self, known: &Known, p: usize) -> std::ops::Range<u32> {
        let (n, f) = self.count(known, p);
        let cap = self.pb.max_reps;
        if n >= cap || self.told(known, p) {
            return n..n;
        }
        let want = if n == 0 {
            1
        } else if f == 0 {
            self.split.hold_reps
        } else if f == n {
            self.split.fail_reps
        } else {
            n + 1
        };
        n..want.max(n + 1).min(cap)
    }

    /// The cheapest configuration run whose runs mostly held (ties: the first in the grid).
    fn best(&self, known: &Known) -> Option<usize> {
        (0..self.lat.len())
            .filter(|&p| self.holds(known, p) == Some(true))
            .min_by(|&a, &b| self.cost[a].total_cmp(&self.cost[b]).then(a.cmp(&b)))
    }
}

/// Find the cheapest configuration of `pb` that holds (see `super`).
pub(crate) fn optimize(pb: &Problem) -> Result<Optimization> {
    let s = setup(pb)?;
    let assumed: Vec<bool> = pb
        .varies
        .iter()
        .map(|v| super::assumed_monotone(&v.key))
        .collect();
    let mut monotone = assumed.clone();
    let marker = format!(
        "surge optimize journal: surge_version={} model_hash={} criterion={} max_reps={}",
        env!("CARGO_PKG_VERSION"),
        fingerprint(&s.models[0], pb.varies, 0, s.seed, Seeds::Common),
        pb.criterion.name(),
        pb.max_reps
    );
    let values_of = |p: usize| s.points.get(p).map(|v| super::journal::joined(v));
    let seed_of = |rep: u32| s.seed_of(rep);
    let (journal, mut known, mut figures) = match pb.journal {
        Some(path) => {
            let (j, k, f) = super::journal::open(path, &marker, pb.resume, &values_of, &seed_of)?;
            (Some(Mutex::new(j)), k, f)
        }
        None => (None, Known::new(), Figures::new()),
    };
    let from_journal = known.len() as u32;
    let never = Stop::new();
    let stop = pb.stop.unwrap_or(&never);
    let mut simulated = 0u32;
    let mut contradictions = Vec::new();
    let mut budget_reached = false;
    loop {
        check_monotone(&s, &known, &mut monotone, &mut contradictions);
        let ask = next_batch(&s, &known, &monotone);
        if ask.is_empty() {
            break;
        }
        if pb.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            budget_reached = true;
            break;
        }
        let done = run_batch(&s, &ask, journal.as_ref(), stop)?;
        simulated += done.len() as u32;
        for (at, y, slo) in done {
            known.insert(at, y);
            figures.extend(slo.map(|f| (at, f)));
        }
        if stop.is_set() {
            let keep = pb.journal.map_or(String::new(), |p| {
                format!(
                    "; they are kept in {}: run the same command with --resume to continue",
                    p.display()
                )
            });
            bail!(Interrupted(format!(
                "interrupted with {} runs done{keep}",
                known.len()
            )));
        }
    }
    if let Some(path) = pb.journal {
        crate::store::journal::remove(path)?;
    }
    let mut o = answer(&s, (&known, &figures), &monotone, &assumed, contradictions);
    o.runs_simulated = simulated;
    o.runs_from_journal = from_journal;
    o.budget_reached = budget_reached;
    if let Some(p) = o.optimum.filter(|_| !budget_reached) {
        let reps = o.configs[p].runs.len() as u32;
        let surge = s.models[p].surge.peak;
        let seed_of = |rep: u32| s.seed_of(rep);
        let run = |m: &Model, seed: u64| run_one(m, seed, pb.criterion).0;
        o.headroom = super::headroom::check(pb, (&s.points[p], surge, reps), &seed_of, &run)?;
    }
    Ok(o)
}

/// Check the keys, load every configuration and price it.
fn setup<'a>(pb: &'a Problem<'a>) -> Result<Setup<'a>> {
    let base = model::load(pb.path, pb.sets)?;
    pb.criterion.check(&base)?;
    let size = crate::experiment::vary::grid_size(pb.varies)?;
    if size > super::MAX_CONFIGS {
        bail!(BadInput(format!(
            "{size} configurations is too many for one optimization (at most {}): vary fewer \
             values",
            super::MAX_CONFIGS
        )));
    }
    let (points, models) = load_points(pb.path, pb.sets, pb.varies)?;
    let cost: Vec<f64> = models
        .iter()
        .map(|m| cost::total(&cost::lines(m)))
        .collect();
    if models.iter().all(|m| cost::lines(m).is_empty()) {
        bail!(BadInput(
            "the model prices nothing, so every configuration costs 0: set \
             cost_per_instance_hour or cost_per_thread_hour on a tier, or a [cost] table \
             (docs/model.md), e.g. --set tier.web.cost_per_instance_hour=0.1"
                .into()
        ));
    }
    if !(pb.confidence > 0.0 && pb.confidence < 1.0) {
        bail!(BadInput(format!(
            "--confidence must be between 0 and 1, got {}",
            pb.confidence
        )));
    }
    Ok(Setup {
        pb,
        lat: Lattice {
            sizes: pb.varies.iter().map(|v| v.values.len()).collect(),
        },
        seed: pb.seed.unwrap_or(base.scenario.seed),
        points,
        models,
        cost,
        split: ErrorSplit::of(pb.confidence),
    })
}

/// The runs to do next: the bisection's picks (one replication each); when it has none, the
/// replications the best and its cheaper neighbours still need.
fn next_batch(s: &Setup, known: &Known, monotone: &[bool]) -> Vec<(usize, u32)> {
    let own: Vec<Option<bool>> = (0..s.lat.len()).map(|p| s.holds(known, p)).collect();
    let status = lattice::statuses(&s.lat, &own, monotone);
    let best = s.best(known);
    // Bisect along the monotone key with the most values (ties: the later one): the fewest lines.
    let line = (0..monotone.len())
        .filter(|&i| monotone[i])
        .max_by_key(|&i| (s.lat.sizes[i], i));
    let cost = |p: usize| s.cost[p];
    let picks = lattice::picks(&s.lat, &status, &cost, best, line);
    if !picks.is_empty() {
        return picks.into_iter().map(|p| (p, 0)).collect();
    }
    let Some(b) = best else {
        return Vec::new();
    };
    std::iter::once(b)
        .chain(s.lat.below(b))
        .flat_map(|p| s.more(known, p).map(move |r| (p, r)))
        .collect()
}

/// Run `ask` on the problem's threads, each run journaled and shown as it ends.
fn run_batch(
    s: &Setup,
    ask: &[(usize, u32)],
    journal: Option<&Mutex<crate::store::journal::Journal>>,
    stop: &Stop,
) -> Result<Vec<Done>> {
    let runner = Runner::new(s.pb.jobs, stop);
    let header = super::journal::HEADER.map(String::from);
    let done = runner.each(ask, &|&(p, rep)| {
        // Past the budget no run starts: those of the batch not started are not done.
        if s.pb
            .deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
        {
            return Ok(None);
        }
        let seed = s.seed_of(rep);
        let (y, slo) = run_one(&s.models[p], seed, s.pb.criterion);
        if let Some(j) = journal {
            let row = super::journal::row(p, &s.points[p], (rep, seed), y, slo.as_ref());
            j.lock().expect("journal lock").append(&header, &row)?;
        }
        if let Some(show) = s.pb.on_run {
            show(&s.points[p], rep, y);
        }
        Ok(Some(((p, rep), y, slo)))
    })?;
    Ok(done.into_iter().flatten().flatten().collect())
}

/// One run, stopped at its first failure or once it holds (`search::failed`): whether it
/// failed, and the SLO figures of one that held.
fn run_one(
    model: &Model,
    seed: u64,
    criterion: crate::metrics::slo::Criterion,
) -> (bool, Option<RunSlo>) {
    let stop =
        crate::experiment::guard::Limits::answer(crate::system::Until::first_failure(criterion));
    let summary = crate::experiment::run_bounded(model, seed, &stop).summary;
    let failed = criterion.failed(&summary);
    (failed, (!failed).then(|| RunSlo::of(&summary)))
}

/// Check monotonicity on every pair of configurations run on a common seed: where the one with
/// at least as much of each key failed and the other held, report it (once per pair) and stop
/// pruning on each key they differ in.
fn check_monotone(s: &Setup, known: &Known, monotone: &mut [bool], found: &mut Vec<Contradiction>) {
    let assumed: Vec<bool> =
        s.pb.varies
            .iter()
            .map(|v| super::assumed_monotone(&v.key))
            .collect();
    let run: Vec<usize> = (0..s.lat.len())
        .filter(|&p| known.contains_key(&(p, 0)))
        .collect();
    for &hi in &run {
        for &lo in &run {
            if hi == lo || !s.lat.dominates(hi, lo, &assumed) {
                continue;
            }
            let (a, b) = (s.lat.coords(hi), s.lat.coords(lo));
            let keys: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            let rep = (0..s.pb.max_reps).find(|&r| {
                known.get(&(hi, r)) == Some(&true) && known.get(&(lo, r)) == Some(&false)
            });
            let Some(rep) = rep else { continue };
            if keys.iter().all(|&i| !monotone[i]) {
                continue; // those keys already lost their pruning
            }
            for &i in &keys {
                monotone[i] = false;
            }
            found.push(Contradiction {
                held: s.points[lo].clone(),
                failed: s.points[hi].clone(),
                rep,
                seed: s.seed_of(rep),
                keys: keys.iter().map(|&i| s.pb.varies[i].key.clone()).collect(),
            });
        }
    }
}

/// The answer from the runs `known`.
fn answer(
    s: &Setup,
    (known, figures): (&Known, &Figures),
    monotone: &[bool],
    assumed: &[bool],
    contradictions: Vec<Contradiction>,
) -> Optimization {
    let own: Vec<Option<bool>> = (0..s.lat.len()).map(|p| s.holds(known, p)).collect();
    let status = lattice::statuses(&s.lat, &own, monotone);
    let configs: Vec<Config> = (0..s.lat.len())
        .map(|p| {
            let (n, f) = s.count(known, p);
            let runs = (0..n)
                .map(|rep| RunRecord {
                    rep,
                    seed: s.seed_of(rep),
                    failed: known[&(p, rep)],
                    slo: figures.get(&(p, rep)).cloned(),
                })
                .collect();
            Config {
                point: p,
                values: s.points[p].clone(),
                cost_per_hour: s.cost[p],
                cost_lines: cost::lines(&s.models[p]),
                status: status[p],
                runs,
                failures: f,
                share_holding: (n > 0).then(|| f64::from(n - f) / f64::from(n)),
                told: (n > 0).then(|| s.told(known, p)),
            }
        })
        .collect();
    let tried: Vec<(usize, f64, f64)> = (configs.iter())
        .filter_map(|c| c.share_holding.map(|h| (c.point, c.cost_per_hour, h)))
        .collect();
    let optimum = s.best(known);
    let (neighbours, same_cost) = optimum.map_or((Vec::new(), Vec::new()), |b| {
        lattice::evidence(&s.lat, &|p| s.cost[p], &status, b)
    });
    let mut o = Optimization {
        keys: (s.pb.varies.iter().enumerate())
            .map(|(i, v)| Key {
                key: v.key.clone(),
                values: v.values.clone(),
                monotone_assumed: assumed[i],
                monotone_kept: monotone[i],
            })
            .collect(),
        criterion: s.pb.criterion,
        seed: s.seed,
        seeds: "common".into(),
        confidence: s.pb.confidence,
        max_reps: s.pb.max_reps,
        cost_basis: "per hour, of the configuration as provisioned (model::cost)".into(),
        optimum,
        neighbours,
        same_cost,
        configs_run: tried.len(),
        runs: known.len() as u32,
        pareto: lattice::pareto(&tried),
        configs,
        contradictions,
        runs_simulated: 0,
        runs_from_journal: 0,
        budget_reached: false,
        range_edges: Vec::new(),
        unpriced_keys: Vec::new(),
        headroom: None,
    };
    let at = optimum.map(|p| s.points[p].clone()).unwrap_or_default();
    let pb = s.pb;
    let nothing_below = |i: usize| super::notes::refused_below(pb.path, pb.sets, pb.varies, &at, i);
    (o.range_edges, o.unpriced_keys) = super::notes::notes(&o, &s.lat, &nothing_below);
    o
}
