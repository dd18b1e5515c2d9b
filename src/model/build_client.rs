//! Checking and defaulting the clients' overload policies (`client_policies`): a source's
//! breaker and throttle, its own tables or the model's, and the ratio retry budget.
//!
//! Not here: the policies' forms as written and as checked (`client_policies`), the rest of a
//! client (`build`).

use super::client_policies::*;
use super::schema::{RawClient, RawRetry};
use super::units::{Duration, NonNegative};

/// A sliding window's length: whole seconds, at least one.
fn whole_seconds(
    d: Option<Duration>,
    default_s: u32,
    key: String,
) -> Result<u32, (String, String)> {
    let Some(d) = d else {
        return Ok(default_s);
    };
    let s = d.0;
    if s < 1.0 || s.fract() != 0.0 || s > 1e6 {
        return Err((
            key,
            format!(
                "the sliding window counts whole seconds: expected a whole number of seconds from 1s to 1000000s, got {s} s"
            ),
        ));
    }
    Ok(s as u32)
}

/// The breaker and throttle of a source: its own `[source.client]` tables where it has them,
/// else the model's `[client]` ones (each table replaced whole). `c` makes a key path.
pub(super) fn policies(
    global: &RawClient,
    own: Option<&RawClient>,
    c: &dyn Fn(&str) -> String,
) -> Result<(Option<Breaker>, Option<Throttle>), (String, String)> {
    let breaker = match own.and_then(|o| o.breaker.as_ref()) {
        Some(b) => Some(b),
        None => global.breaker.as_ref(),
    };
    let breaker = match breaker {
        None => None,
        Some(b) => {
            let open_for_s = b.open_for.map_or(5.0, |d| d.0);
            if open_for_s <= 0.0 {
                return Err((
                    c("breaker.open_for"),
                    "the breaker must stay open for longer than 0".into(),
                ));
            }
            let failure_rate = b.failure_rate.map_or(0.5, |p| p.0);
            if failure_rate <= 0.0 {
                return Err((
                    c("breaker.failure_rate"),
                    "expected a share of failures above 0 and at most 1 (0 would open on success)"
                        .into(),
                ));
            }
            Some(Breaker {
                window_s: whole_seconds(b.window, 10, c("breaker.window"))?,
                min_requests: b.min_requests.map_or(20, |n| n.0),
                failure_rate,
                open_for_s,
                half_open_requests: b.half_open_requests.map_or(1, |n| n.0),
            })
        }
    };
    let throttle = match own.and_then(|o| o.throttle.as_ref()) {
        Some(t) => Some(t),
        None => global.throttle.as_ref(),
    };
    let throttle = match throttle {
        None => None,
        Some(t) => Some(Throttle {
            window_s: whole_seconds(t.window, 120, c("throttle.window"))?,
            k: t.k.map_or(2.0, |k| k.0),
        }),
    };
    Ok((breaker, throttle))
}

/// A retry policy as checked, with its backoff and budget (`[client.retry]`, and the same
/// keys of `[tier.retry]`). `c` makes a key path.
pub(super) fn retry(
    r: &RawRetry,
    c: &dyn Fn(&str) -> String,
) -> Result<super::spec::Retry, (String, String)> {
    let base_s = r.base.map_or(1.0, |d| d.0);
    let cap_s = r.cap.map_or(f64::INFINITY, |d| d.0);
    if cap_s < base_s {
        return Err((
            c("retry.cap"),
            format!("the backoff cap ({cap_s} s) is below its base ({base_s} s)"),
        ));
    }
    let (budget, ratio_budget) = retry_budget(r, c)?;
    Ok(super::spec::Retry {
        max_attempts: r.max_attempts.0,
        backoff: r.backoff.unwrap_or_default(),
        base_s,
        cap_s,
        jitter: r.jitter.unwrap_or_default(),
        budget,
        ratio_budget,
    })
}

/// The retry budget of `[client.retry]`: the token bucket's tokens per success, or the ratio
/// budget. `c` makes a key path.
pub(super) fn retry_budget(
    r: &RawRetry,
    c: &dyn Fn(&str) -> String,
) -> Result<(Option<f64>, Option<RetryRatio>), (String, String)> {
    let ratio_keys = [
        ("ratio", r.ratio.is_some()),
        ("ttl", r.ttl.is_some()),
        ("min_per_s", r.min_per_s.is_some()),
    ];
    match r.budget_kind {
        None | Some(BudgetKind::TokenBucket) => {
            if let Some((k, _)) = ratio_keys.iter().find(|(_, set)| *set) {
                return Err((
                    c(&format!("retry.{k}")),
                    format!(
                        "`{k}` belongs to the ratio budget: add budget_kind = \"ratio\" (the token bucket takes `budget`)"
                    ),
                ));
            }
            if r.budget_kind.is_some() && r.budget.is_none() {
                return Err((
                    c("retry.budget"),
                    "budget_kind = \"token_bucket\" needs `budget` (tokens earned per success)"
                        .into(),
                ));
            }
            Ok((r.budget.map(|b| b.0), None))
        }
        Some(BudgetKind::Ratio) => {
            if r.budget.is_some() {
                return Err((
                    c("retry.budget"),
                    "`budget` (tokens per success) belongs to budget_kind = \"token_bucket\"; the ratio budget takes `ratio`, `ttl` and `min_per_s`".into(),
                ));
            }
            Ok((
                None,
                Some(RetryRatio {
                    ratio: r.ratio.map_or(0.2, |x: NonNegative| x.0),
                    ttl_s: whole_seconds(r.ttl, 10, c("retry.ttl"))?,
                    min_per_s: r.min_per_s.map_or(10.0, |x| x.0),
                }),
            ))
        }
    }
}
