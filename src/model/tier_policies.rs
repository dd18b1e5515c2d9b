//! A tier's admission and balancing policies as written and as checked: the adaptive concurrency
//! limit (`[tier.concurrency_limit]`, after Netflix's concurrency-limits library), the balancer's
//! outlier detection (`[tier.outlier_detection]`, after Envoy), and the keys that let autoscaling
//! scale in (`[tier.autoscale] scale_in_below`, `min_instances`, `scale_in_after`). Defaults are
//! the libraries' own. How the simulator applies them is `crate::system::concurrency_limit`,
//! `crate::system::outlier` and `crate::system::scale_in`; this file only reads and checks.

use serde::Deserialize;

use super::ctx::Ctx;
use super::error::ModelError;
use super::units::{Count, Duration, NonNegative, Places, Probability};

/// Which limit algorithm (Netflix concurrency-limits' `AIMDLimit`, `Gradient2Limit`, `VegasLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitAlgorithm {
    Aimd,
    Gradient2,
    Vegas,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConcurrencyLimit {
    pub algorithm: LimitAlgorithm,
    pub initial_limit: Option<Count>,
    pub min_limit: Option<Count>,
    pub max_limit: Option<Count>,
    /// AIMD only: the factor applied on a drop or a slow response.
    pub backoff_ratio: Option<Probability>,
    /// AIMD only: a response slower than this counts as a drop.
    pub timeout: Option<Duration>,
    /// Gradient2 and Vegas: how much of a new estimate replaces the old one.
    pub smoothing: Option<Probability>,
}

/// An adaptive concurrency limit, per instance of the tier; every default is the library's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConcurrencyLimit {
    pub algorithm: LimitAlgorithm,
    pub initial: u32,
    pub min: u32,
    pub max: u32,
    pub backoff_ratio: f64,
    pub timeout_s: f64,
    pub smoothing: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutlierDetection {
    pub consecutive_5xx: Option<Count>,
    pub base_ejection: Option<Duration>,
    pub max_ejection: Option<Duration>,
    pub max_ejection_percent: Option<Places>,
    pub always_eject_one_host: Option<bool>,
    pub interval: Option<Duration>,
}

/// Envoy's consecutive-5xx outlier detection, for the balancer in front of the tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutlierDetection {
    pub consecutive_5xx: u32,
    pub base_ejection_s: f64,
    pub max_ejection_s: f64,
    pub max_ejection_percent: u32,
    pub always_eject_one_host: bool,
    /// Each full interval an instance spends in rotation takes one off its ejection count.
    pub interval_s: f64,
}

/// Scaling in: at a bucket end, one instance is removed once utilisation has stayed below
/// `below` for `after`, never going under `min_instances`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleIn {
    pub below: f64,
    pub min_instances: u32,
    pub after_s: f64,
}

pub(super) fn concurrency_limit(
    raw: Option<&RawConcurrencyLimit>,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<ConcurrencyLimit>, ModelError> {
    let Some(r) = raw else {
        return Ok(None);
    };
    let key = format!("{key}.concurrency_limit");
    let at = |k: &str| format!("{key}.{k}");
    let name = match r.algorithm {
        LimitAlgorithm::Aimd => "aimd",
        LimitAlgorithm::Gradient2 => "gradient2",
        LimitAlgorithm::Vegas => "vegas",
    };
    // Keys that only one algorithm reads are refused elsewhere rather than ignored.
    let aimd = r.algorithm == LimitAlgorithm::Aimd;
    for (k, set, ok) in [
        ("backoff_ratio", r.backoff_ratio.is_some(), aimd),
        ("timeout", r.timeout.is_some(), aimd),
        ("smoothing", r.smoothing.is_some(), !aimd),
    ] {
        if set && !ok {
            return Err(ctx.fail(
                &at(k),
                format!("`{k}` does not apply to algorithm = \"{name}\""),
            ));
        }
    }
    let vegas = r.algorithm == LimitAlgorithm::Vegas;
    // The library's defaults: initial 20 for all; AIMD and Gradient2 keep the limit within
    // [20, 200], Vegas within [1, 1000] (it has no minimum setting).
    let min = r.min_limit.map_or(if vegas { 1 } else { 20 }, |c| c.0);
    let max = r.max_limit.map_or(if vegas { 1000 } else { 200 }, |c| c.0);
    // Checked before the default initial limit is clamped into [min, max] (a clamp with
    // min > max panics): blame the key that was set, and say which side is a default.
    if min > max {
        let default = |set: bool| if set { "" } else { ", the default" };
        let blamed = if r.min_limit.is_some() {
            "min_limit"
        } else {
            "max_limit"
        };
        return Err(ctx.fail(
            &at(blamed),
            format!(
                "min_limit ({min}{}) is above max_limit ({max}{}): set both so that min_limit <= \
                 max_limit",
                default(r.min_limit.is_some()),
                default(r.max_limit.is_some())
            ),
        ));
    }
    let initial = r.initial_limit.map_or(20u32.clamp(min, max), |c| c.0);
    if !(min..=max).contains(&initial) {
        return Err(ctx.fail(
            &at("initial_limit"),
            format!(
                "initial_limit ({initial}) must lie within [min_limit, max_limit] = [{min}, {max}]"
            ),
        ));
    }
    let backoff_ratio = r.backoff_ratio.map_or(0.9, |p| p.0);
    if !(0.5..1.0).contains(&backoff_ratio) {
        return Err(ctx.fail(
            &at("backoff_ratio"),
            format!(
                "backoff_ratio must be in [0.5, 1), as the library requires (got {backoff_ratio})"
            ),
        ));
    }
    let timeout_s = r.timeout.map_or(5.0, |d| d.0);
    if timeout_s <= 0.0 {
        return Err(ctx.fail(&at("timeout"), "timeout must be longer than 0".into()));
    }
    let smoothing = r.smoothing.map_or(if vegas { 1.0 } else { 0.2 }, |p| p.0);
    if smoothing <= 0.0 {
        return Err(ctx.fail(
            &at("smoothing"),
            "smoothing must be above 0 (0 would never change the limit)".into(),
        ));
    }
    Ok(Some(ConcurrencyLimit {
        algorithm: r.algorithm,
        initial,
        min,
        max,
        backoff_ratio,
        timeout_s,
        smoothing,
    }))
}

pub(super) fn outlier_detection(
    raw: Option<&RawOutlierDetection>,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<OutlierDetection>, ModelError> {
    let Some(r) = raw else {
        return Ok(None);
    };
    let at = |k: &str| format!("{key}.outlier_detection.{k}");
    let base_ejection_s = r.base_ejection.map_or(30.0, |d| d.0);
    let interval_s = r.interval.map_or(10.0, |d| d.0);
    for (k, v) in [("base_ejection", base_ejection_s), ("interval", interval_s)] {
        if v <= 0.0 {
            return Err(ctx.fail(&at(k), format!("`{k}` must be longer than 0")));
        }
    }
    let max_ejection_percent = r.max_ejection_percent.map_or(10, |p| p.0);
    if max_ejection_percent > 100 {
        return Err(ctx.fail(
            &at("max_ejection_percent"),
            format!("a percentage of instances is at most 100 (got {max_ejection_percent})"),
        ));
    }
    Ok(Some(OutlierDetection {
        consecutive_5xx: r.consecutive_5xx.map_or(5, |c| c.0),
        base_ejection_s,
        // Envoy caps the ejection time at max(max_ejection_time, base_ejection_time).
        max_ejection_s: r.max_ejection.map_or(300.0, |d| d.0).max(base_ejection_s),
        max_ejection_percent,
        always_eject_one_host: r.always_eject_one_host.unwrap_or(false),
        interval_s,
    }))
}

/// The scale-in keys of `[tier.autoscale]`: all need `scale_in_below`, below the target.
pub(super) fn scale_in(
    below: Option<Probability>,
    min_instances: Option<Count>,
    after: Option<Duration>,
    target: f64,
    instances: u32,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<ScaleIn>, ModelError> {
    let at = |k: &str| format!("{key}.autoscale.{k}");
    let Some(below) = below else {
        if min_instances.is_some() || after.is_some() {
            let k = if min_instances.is_some() {
                "min_instances"
            } else {
                "scale_in_after"
            };
            return Err(ctx.fail(
                &at(k),
                format!("`{k}` needs `scale_in_below` (the utilisation under which to scale in)"),
            ));
        }
        return Ok(None);
    };
    if below.0 >= target {
        return Err(ctx.fail(
            &at("scale_in_below"),
            format!(
                "scale_in_below ({}) must be under target_utilization ({target}), or the tier would scale in and out in turn",
                below.0
            ),
        ));
    }
    let min_instances = min_instances.map_or(1, |c| c.0);
    if min_instances > instances {
        return Err(ctx.fail(
            &at("min_instances"),
            format!(
                "min_instances ({min_instances}) is above the starting instances ({instances})"
            ),
        ));
    }
    let after_s = after.map_or(300.0, |d| d.0);
    Ok(Some(ScaleIn {
        below: below.0,
        min_instances,
        after_s,
    }))
}

/// `cost_per_instance_hour`, any currency (`NonNegative` already checked its sign).
pub(super) fn cost(raw: Option<NonNegative>) -> Option<f64> {
    raw.map(|c| c.0)
}
