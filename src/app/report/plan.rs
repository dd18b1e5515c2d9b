//! What `surge report` searches and how much of it fits its budget: the key and range of the
//! crash-point search (`--vary`, else the connections of the pool the run measured as the
//! bottleneck, else the bottleneck's instances), the replications per value
//! and the runs that fit what is left of the budget, and the budget to ask for when the search
//! does not fit.
//!
//! Not here: running the steps (`app::report`), the search itself (`app::crashpoint`).

use crate::error::BadInput;
use crate::metrics::means::TierMeans;
use crate::model::Model;

/// Replications per value tried: the most that fit, within these bounds.
pub(crate) const MOST_REPS: u32 = 10;
pub(crate) const FEWEST_REPS: u32 = 2;

/// The default search: when the run measured a connection pool as the bottleneck
/// (`metrics::pool_verdict`, from `measured`, the run's tiers), the pool's connections per
/// instance, which bound what reaches the callee (more callee instances never help then);
/// else the instances of the bottleneck `check` names (the tier offered the largest share of
/// its threads at the surge peak). From 1 up to the model's value if the run held, from it up
/// to three times it if the run failed; with why that key.
pub(crate) fn default_vary(
    model: &Model,
    failed: bool,
    measured: &[TierMeans],
) -> Result<(String, f64, f64, String), String> {
    if let Some(v) = pool_vary(model, failed, measured) {
        return v;
    }
    let Some((i, why)) = crate::model::offered::bottleneck(model) else {
        return Err("the model has no tier".into());
    };
    let t = &model.tiers[i];
    let n = f64::from(t.instances);
    let key = format!("tier.{}.instances", t.name);
    let why = format!("tier {}, the bottleneck `surge check` finds: {why}", t.name);
    if failed {
        Ok((key, n, 3.0 * n, why))
    } else if t.instances > 1 {
        Ok((key, 1.0, n, why))
    } else {
        Err(format!(
            "{why}; it has 1 instance and the run held, so there is nothing to search below it; \
             name a key with --vary"
        ))
    }
}

/// The search in the connections of the pool the run measured as the bottleneck, if one was.
fn pool_vary(
    model: &Model,
    failed: bool,
    measured: &[TierMeans],
) -> Option<Result<(String, f64, f64, String), String>> {
    let k = crate::metrics::pool_verdict::bottleneck(measured)?;
    let (t, callee) = (model.tiers.get(k)?, model.tiers.get(k + 1)?);
    let n = f64::from(t.pool?.connections);
    let key = format!("tier.{}.pool.connections", t.name);
    let why = format!(
        "the {} -> {} pool, the bottleneck the run measured (its connections all in use while \
         {} had threads to spare: more {} instances would not help; the pool's size is these \
         connections x {}'s instances)",
        t.name, callee.name, callee.name, callee.name, t.name
    );
    Some(if failed {
        Ok((key, n, 3.0 * n, why))
    } else if n > 1.0 {
        Ok((key, 1.0, n, why))
    } else {
        Err(format!(
            "{why}; it has 1 connection per instance and the run held, so there is nothing to \
             search below it; name a key with --vary"
        ))
    })
}

pub(crate) fn parse_vary(v: &str) -> Result<(String, f64, f64), BadInput> {
    let bad = |why: &str| BadInput(format!("--vary {v}: {why}"));
    let (k, range) = v
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=LO..HI, e.g. tier.web.instances=8..24"))?;
    let (lo, hi) = range
        .split_once("..")
        .ok_or_else(|| bad("expected a range LO..HI"))?;
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| bad("LO and HI must be numbers"))
    };
    Ok((k.trim().to_string(), num(lo)?, num(hi)?))
}

/// How many replications per value, and runs in all, fit in `left_s` when one run takes
/// `run_s` and `jobs` run at once; `None` when not even the two ends and one bisection step fit.
pub(crate) fn plan_search(
    left_s: f64,
    run_s: f64,
    jobs: usize,
    lo: f64,
    hi: f64,
) -> Option<(u32, u32)> {
    let steps = 2 + ((hi - lo).max(1.0)).log2().ceil() as u32;
    (FEWEST_REPS..=MOST_REPS).rev().find_map(|reps| {
        let batch_s = f64::from(reps.div_ceil(jobs.max(1) as u32)) * run_s;
        let batches = (left_s / batch_s).floor() as u32;
        (batches >= steps).then_some((reps, batches.saturating_sub(2).max(steps) * reps))
    })
}

/// The budget the search would need after a run of `run_s`, rounded up to a whole minute.
pub(crate) fn budget_hint(spent_s: f64, run_s: f64, jobs: usize, lo: f64, hi: f64) -> String {
    let steps = 2 + ((hi - lo).max(1.0)).log2().ceil() as u32;
    let need = spent_s + f64::from(steps * FEWEST_REPS.div_ceil(jobs.max(1) as u32)) * run_s;
    format!("{}m", (need / 60.0).ceil())
}
