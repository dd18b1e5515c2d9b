//! What-if sweeps: a grid over any model key paths, with replications, run in parallel. Point p
//! and replication r always use the seed derived from (scenario seed, p, r), so the results do
//! not depend on the number of threads or the order of execution.

use anyhow::{Result, bail};

use super::guard::Limits;
use super::runner::{Runner, Stop};
use crate::metrics::Summary;
use crate::model::Model;
use crate::model::error::BadInput;

pub use super::fingerprint::fingerprint;
pub use super::seeds::{Seeds, point_seed};
pub use super::vary::{MAX_POINTS, Vary, grid, grid_size, parse_vary};
pub use crate::fmt::format_number;

/// Most runs (points x replications) one sweep (or shard) may have: each finished run's row is
/// kept in memory until the sweep's files are written.
pub const MAX_RUNS: u64 = 1_000_000;

/// Refuse a sweep of more than `MAX_RUNS` runs before any is listed.
pub fn check_runs(points: usize, reps: u32) -> Result<(), BadInput> {
    let runs = points as u64 * u64::from(reps);
    if runs > MAX_RUNS {
        return Err(BadInput(format!(
            "{points} points x {reps} replications is {runs} runs, more than one sweep takes \
             (at most {MAX_RUNS}): vary fewer values, lower --reps, or split the sweep with \
             --shard I/N"
        )));
    }
    Ok(())
}

/// The summary of one (point, replication).
#[derive(Debug, Clone)]
pub struct Row {
    pub point: usize,
    pub rep: u32,
    pub seed: u64,
    pub summary: Summary,
    /// The outage was still on when the run ended (its last SLO window was down).
    pub down_at_end: bool,
}

/// Load the model of every point (checking each) from the file `path` (`None`: the built-in
/// model), with the overrides `sets` before each point's values.
pub fn load_points(
    path: Option<&std::path::Path>,
    sets: &[String],
    varies: &[Vary],
) -> Result<(Vec<Vec<String>>, Vec<Model>)> {
    for (i, v) in varies.iter().enumerate() {
        if varies[..i].iter().any(|w| w.key == v.key) {
            bail!(BadInput(format!(
                "--vary {} is given twice: give all its values in one --vary",
                v.key
            )));
        }
    }
    let count = grid_size(varies)?;
    if count > MAX_POINTS {
        bail!(BadInput(format!(
            "{count} points is too many for one sweep (at most {MAX_POINTS}): vary fewer values"
        )));
    }
    let points = grid(varies);
    let mut models = Vec::with_capacity(points.len());
    for p in &points {
        models.push(super::vary::load_point(path, sets, varies, p)?);
    }
    Ok((points, models))
}

/// Run every (point, replication) on `jobs` threads; rows come back in (point, rep) order.
pub fn run_points(
    models: &[Model],
    seed: u64,
    reps: u32,
    jobs: usize,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Row>> {
    let tasks: Vec<(usize, u32)> = (0..models.len())
        .flat_map(|p| (0..reps).map(move |r| (p, r)))
        .collect();
    let (stop, limits) = (Stop::new(), Limits::default());
    run_tasks(
        models,
        seed,
        Seeds::Independent,
        &tasks,
        jobs,
        &limits,
        &stop,
        &|_| {
            done();
            Ok(())
        },
    )
}

/// Run the given (point, replication) pairs on `jobs` threads (`super::runner`). `finished`
/// sees each row as soon as its run ends (in any order: the sweep journals it there); once
/// `stop` is set no new run starts; `limits` may end each run early (`--until`). The rows that
/// ran come back in the order of `tasks`; an error from `finished` stops the work and is
/// returned.
// Each argument is a separate decision of the caller (which runs, how seeded, how bounded, when
// to stop, what to do with each row); a struct for them would only be filled once, here.
#[allow(clippy::too_many_arguments)]
pub fn run_tasks(
    models: &[Model],
    seed: u64,
    seeds: Seeds,
    tasks: &[(usize, u32)],
    jobs: usize,
    limits: &Limits,
    stop: &Stop,
    finished: &(dyn Fn(&Row) -> Result<()> + Sync),
) -> Result<Vec<Row>> {
    let runner = Runner {
        limits: *limits,
        ..Runner::new(jobs, stop)
    };
    let rows = runner.each(tasks, &|&(p, r)| {
        let s = seeds.seed(seed, p as u64, u64::from(r));
        let out = runner.run(&models[p], s);
        let row = Row {
            point: p,
            rep: r,
            seed: s,
            down_at_end: out.down_at_end(models[p].slo.outage_below),
            summary: out.summary,
        };
        finished(&row)?;
        Ok(row)
    })?;
    Ok(rows.into_iter().flatten().collect())
}

/// A sweep stopped by Ctrl-C or a termination signal before every run was done (exit code 130).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_vary_the_last_key_fastest() {
        let a = Vary {
            key: "a".into(),
            values: vec!["1".into(), "2".into()],
        };
        let b = Vary {
            key: "b".into(),
            values: vec!["x".into(), "y".into(), "z".into()],
        };
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], ["1", "x"]);
        assert_eq!(g[1], ["1", "y"]);
        assert_eq!(g[3], ["2", "x"]);
    }
}
