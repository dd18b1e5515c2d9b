//! `surge optimize`: the cheapest configuration of a grid of varied keys (instances, threads,
//! queue places, any key) that keeps the SLO, or avoids an outage, under a surge. This file holds
//! the question (`Problem`) and the typed answer (`Optimization`, written as `optimize.json`).
//!
//! The method (`search`): every run of configuration x, replication r uses the seed of
//! replication r of `surge run --reps` (common random numbers: configurations are compared on
//! the same traffic); each run stops at its first failure or once the hold rule decides it holds
//! (as the crash-point search's runs do). A configuration holds when most of its runs hold.
//! ASSUMPTION (monotonicity): on the keys named in [`MONOTONE_KEYS`] (instances, threads,
//! queue places, an autoscaler's bounds), more never hurts, so a configuration with at least as
//! much of each holds where a lesser one held, and fails where a greater one failed: those are
//! implied, not run. The assumption is checked on every pair of configurations run on the same
//! seeds; a contradiction is reported and the key loses its pruning. With one replication per
//! configuration the search bisects, along the monotone key with the most values, every line that
//! could still hold something cheaper than the best so far; then the best and its neighbours
//! below (one value down on each key) are replicated until each is told from a 50% failure
//! probability at the confidence (the crash-point search's `ErrorSplit`), or `max_reps`; if a
//! verdict changes, the search goes on.
//!
//! Not here: pricing a configuration (`model::cost`), the files, chart and printing
//! (`app::optimize`, `output::optimize`, `commands::optimize`).

mod headroom;
mod journal;
mod lattice;
mod notes;
mod search;

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

use super::runner::Stop;
use super::vary::Vary;
use crate::metrics::slo::Criterion;
use crate::model::cost::Line;

pub(crate) use headroom::Headroom;
pub(crate) use notes::{End, RangeEdge};
pub(crate) use search::optimize;

/// The last part of a key path that the search assumes monotone: more of it never hurts.
pub(crate) const MONOTONE_KEYS: [&str; 5] = [
    "instances",
    "threads",
    "queue",
    "min_instances",
    "max_instances",
];

/// Most configurations one optimization may have (the grid's points).
pub(crate) const MAX_CONFIGS: usize = 10_000;

/// Whether the search assumes `key` monotone.
pub(crate) fn assumed_monotone(key: &str) -> bool {
    MONOTONE_KEYS.contains(&key.rsplit('.').next().unwrap_or(""))
}

/// What sees each run as it ends: the configuration's values, the replication, whether it
/// failed.
pub(crate) type OnRun<'a> = dyn Fn(&[String], u32, bool) + Sync + 'a;

/// The question.
pub(crate) struct Problem<'a> {
    pub(crate) path: Option<&'a Path>,
    /// Overrides before each configuration's values (`--set`, the surge).
    pub(crate) sets: &'a [String],
    /// The keys and their values, each in increasing order.
    pub(crate) varies: &'a [Vary],
    pub(crate) seed: Option<u64>,
    pub(crate) criterion: Criterion,
    /// Two-sided confidence of each told verdict (0.95).
    pub(crate) confidence: f64,
    /// Most replications of one configuration.
    pub(crate) max_reps: u32,
    pub(crate) jobs: usize,
    pub(crate) journal: Option<&'a Path>,
    pub(crate) resume: bool,
    /// Past it no new batch of runs starts: the answer is the best so far, marked.
    pub(crate) deadline: Option<Instant>,
    pub(crate) stop: Option<&'a Stop>,
    /// Sees each run as it ends: the configuration's values, the replication, whether it failed.
    pub(crate) on_run: Option<&'a OnRun<'a>>,
}

/// What the search knows of a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Most of its own runs held.
    Holds,
    /// Most of its own runs failed (half or more).
    Fails,
    /// Not run: it dominates a configuration that holds (monotonicity).
    ImpliedHolds,
    /// Not run: a configuration that dominates it fails (monotonicity).
    ImpliedFails,
    /// Not run and not implied: it could not be cheaper than the answer.
    NotNeeded,
}

impl Status {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Holds => "holds",
            Status::Fails => "fails",
            Status::ImpliedHolds => "implied holds",
            Status::ImpliedFails => "implied fails",
            Status::NotNeeded => "not needed",
        }
    }
}

/// One run of a configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    pub(crate) rep: u32,
    pub(crate) seed: u64,
    pub(crate) failed: bool,
    /// Its SLO figures, for a run that held (a failed run stopped at its failure), journaled
    /// with the run so a resumed search has them too. Kept for the terminal's line and not
    /// written to optimize.json (which keeps its columns).
    #[serde(skip)]
    pub(crate) slo: Option<RunSlo>,
}

/// The SLO figures of a run that held, so that "keeps no outage" is not read as "fine": the time
/// out of SLO and the success rates at attempt and call level, over the measured period up to
/// where the search stopped the run (`partial`: before the horizon, once it held).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunSlo {
    pub(crate) time_out_of_slo_s: f64,
    /// Attempts that succeeded over those that ended (`slo.success_rate`).
    pub(crate) success_rate: Option<f64>,
    /// Calls that succeeded over those that ended (`calls.success_rate`).
    pub(crate) call_success_rate: Option<f64>,
    pub(crate) partial: bool,
}

impl RunSlo {
    pub(crate) fn of(s: &crate::metrics::Summary) -> RunSlo {
        RunSlo {
            time_out_of_slo_s: s.slo.time_out_of_slo_s,
            success_rate: s.slo.success_rate,
            call_success_rate: s.calls.success_rate,
            partial: s.partial,
        }
    }
}

/// One configuration of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Config {
    /// Its index in the grid (the first key varying slowest).
    pub(crate) point: usize,
    /// The value of each varied key, in the order of `keys`.
    pub(crate) values: Vec<String>,
    /// Cost per hour of the configuration as provisioned: the sum of `cost_lines`.
    pub(crate) cost_per_hour: f64,
    pub(crate) cost_lines: Vec<Line>,
    pub(crate) status: Status,
    /// Its own runs, replications 0..n.
    pub(crate) runs: Vec<RunRecord>,
    pub(crate) failures: u32,
    /// Share of its runs that held (none when not run).
    pub(crate) share_holding: Option<f64>,
    /// Its verdict is told from a 50% failure probability at the confidence (false: the
    /// majority of too few runs; none when not run).
    pub(crate) told: Option<bool>,
}

/// A varied key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Key {
    pub(crate) key: String,
    pub(crate) values: Vec<String>,
    /// The search assumed more of it never hurts (`MONOTONE_KEYS`).
    pub(crate) monotone_assumed: bool,
    /// ... and no pair of runs contradicted it (else it lost its pruning).
    pub(crate) monotone_kept: bool,
}

/// The tests' configurations and keys: a configuration not run, at `cost` an hour; a key
/// assumed and kept monotone.
#[cfg(test)]
impl Config {
    pub(crate) fn unrun(point: usize, values: &[&str], cost: f64, status: Status) -> Config {
        Config {
            point,
            values: values.iter().map(|s| s.to_string()).collect(),
            cost_per_hour: cost,
            cost_lines: Vec::new(),
            status,
            runs: Vec::new(),
            failures: 0,
            share_holding: None,
            told: None,
        }
    }
}

#[cfg(test)]
impl Key {
    pub(crate) fn monotone(key: &str, values: &[&str]) -> Key {
        Key {
            key: key.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
            monotone_assumed: true,
            monotone_kept: true,
        }
    }
}

/// Runs that contradict monotonicity: on the same seed, a configuration that has at least as
/// much of each key failed where one with less held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Contradiction {
    pub(crate) held: Vec<String>,
    pub(crate) failed: Vec<String>,
    pub(crate) rep: u32,
    pub(crate) seed: u64,
    /// The keys the two differ in: each loses its pruning.
    pub(crate) keys: Vec<String>,
}

/// The answer (`optimize.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Optimization {
    pub(crate) keys: Vec<Key>,
    pub(crate) criterion: Criterion,
    pub(crate) seed: u64,
    /// Always `common`: replication r has the same seed in every configuration.
    pub(crate) seeds: String,
    pub(crate) confidence: f64,
    pub(crate) max_reps: u32,
    /// What `cost_per_hour` is.
    pub(crate) cost_basis: String,
    /// The cheapest configuration that holds (its index in `configs`), if any does.
    pub(crate) optimum: Option<usize>,
    /// Its cheaper neighbours: one value down on each key, where that costs strictly less
    /// (one value down on an unpriced key costs the same: it is in `same_cost`), indices in
    /// `configs`.
    pub(crate) neighbours: Vec<usize>,
    /// The configurations that cost the same as the optimum (to a billionth) and hold, or are
    /// one value down on a key from it: equally cheap alternatives, not cheaper ones; indices in
    /// `configs`, in grid order.
    #[serde(default)]
    pub(crate) same_cost: Vec<usize>,
    /// Every configuration of the grid, in grid order.
    pub(crate) configs: Vec<Config>,
    /// The Pareto front of cost against the share of runs holding, among those run, cheapest
    /// first (indices in `configs`).
    pub(crate) pareto: Vec<usize>,
    pub(crate) contradictions: Vec<Contradiction>,
    pub(crate) configs_run: usize,
    /// Runs the answer rests on (every run of every configuration).
    pub(crate) runs: u32,
    pub(crate) runs_simulated: u32,
    pub(crate) runs_from_journal: u32,
    /// `--budget` passed: the optimum is the best found so far, not shown to be the cheapest.
    pub(crate) budget_reached: bool,
    /// The priced keys of the optimum at an end of their range: a value outside it might make
    /// a cheaper configuration that holds (`notes`).
    #[serde(default)]
    pub(crate) range_edges: Vec<RangeEdge>,
    /// The varied keys with no price: configurations along them cost the same (their cost
    /// counts 0), so the optimum's value of each is arbitrary among those that hold.
    #[serde(default)]
    pub(crate) unpriced_keys: Vec<String>,
    /// The optimum run again at the surge's peak x 1.1 on its seeds: whether it still holds
    /// (`headroom`); none without an optimum, or past `--budget`.
    #[serde(default)]
    pub(crate) headroom: Option<Headroom>,
}
