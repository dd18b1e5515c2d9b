//! How much headroom the optimum of `surge optimize` has: the optimum run again with the
//! surge's peak 10% above the one asked (`HEADROOM_FACTOR`), on the replications (and so the
//! common seeds) it was judged on, each run stopped at its first failure or once it holds, as
//! the search's runs are. The answer says whether it still holds there ("holds up to at least
//! x6.6") or breaks ("holds at x6; at x6.6 it breaks the SLO"), so an optimum with no margin is
//! not mistaken for a safe one.
//!
//! Not here: a search for the largest surge it survives (one step of 10% only); the wording
//! (`commands::optimize`). The runs are not journaled: a resumed search runs them again, on the
//! same seeds, to the same verdict.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::Problem;
use crate::experiment::runner::Runner;
use crate::model::Model;

/// The surge the optimum is tried at, over the one asked.
pub(crate) const HEADROOM_FACTOR: f64 = 1.1;

/// The optimum at the surge's peak x `HEADROOM_FACTOR` (`optimize.json`'s `headroom`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Headroom {
    /// The surge's peak multiplier the search was run at (`--surge`, or the model's).
    pub(crate) surge: f64,
    /// The peak it was tried at: `surge` x 1.1.
    pub(crate) tried: f64,
    /// Runs at `tried` (replications 0.., the optimum's seeds), and how many failed.
    pub(crate) runs: u32,
    pub(crate) failures: u32,
    /// Whether most of them held (the search's rule for a configuration).
    pub(crate) holds: bool,
}

/// One run of a model on a seed, as the search runs it: whether it failed.
pub(super) type RunOnce<'a> = dyn Fn(&Model, u64) -> bool + Sync + 'a;

/// Run the configuration `values` of `pb` with the surge's peak `surge` x `HEADROOM_FACTOR`,
/// replications `0..reps` on their seeds (`seed_of`), each as the search runs one (`run`);
/// `None` where the model refuses the higher peak or the search was stopped before every run
/// ended.
pub(super) fn check(
    pb: &Problem,
    (values, surge, reps): (&[String], f64, u32),
    seed_of: &(dyn Fn(u32) -> u64 + Sync),
    run: &RunOnce,
) -> Result<Option<Headroom>> {
    // Rounded to a millionth: 6 x 1.1 is 6.6, not 6.6000000000000005.
    let tried = (surge * HEADROOM_FACTOR * 1e6).round() / 1e6;
    let mut sets = pb.sets.to_vec();
    sets.push(format!("surge.peak={tried}"));
    let Ok(model) = crate::experiment::vary::load_point(pb.path, &sets, pb.varies, values) else {
        return Ok(None);
    };
    let never = crate::experiment::runner::Stop::new();
    let runner = Runner::new(pb.jobs, pb.stop.unwrap_or(&never));
    let reps: Vec<u32> = (0..reps.max(1)).collect();
    let done = runner.each(&reps, &|&rep| Ok(run(&model, seed_of(rep))))?;
    let failed: Option<Vec<bool>> = done.into_iter().collect();
    Ok(failed.map(|f| {
        let failures = f.iter().filter(|&&x| x).count() as u32;
        let runs = f.len() as u32;
        Headroom {
            surge,
            tried,
            runs,
            failures,
            holds: 2 * failures < runs,
        }
    }))
}
