//! A tier's retries of the tier it calls (`[tier.retry]`), as written and as checked: the
//! calling tier (the one before its callee, as `[tier.pool]`) retries a call that failed with
//! one of the outcomes `on` names, up to `max_attempts` attempts per call, after the same
//! backoff and jitter as `[client.retry]` (`backoff`, `base`, `cap`, `jitter`), optionally
//! within a ratio retry budget (`budget_kind = "ratio"`, `ratio`, `ttl`, `min_per_s`). The keys
//! shared with `[client.retry]` are checked by the same code (`build_client::retry`). What the
//! simulator does with it is `crate::system::hop_retry`; this file only reads and checks.

use super::client_policies::BudgetKind;
use super::ctx::Ctx;
use super::error::ModelError;
use super::schema::{Jitter, RawRetry, RawTierRetry, RetryOn};
use super::spec::Retry;

/// How a tier retries the tier it calls.
#[derive(Debug, Clone, Copy)]
pub struct TierRetry {
    /// Attempts per call (the first included), backoff, jitter and the ratio budget, as for a
    /// client; `budget` (the token bucket) is always `None` here.
    pub retry: Retry,
    /// The outcomes retried (bits of `RetryOn`).
    on: u8,
}

impl TierRetry {
    /// Whether a call that failed with `why` is retried.
    #[inline]
    pub fn retries(&self, why: RetryOn) -> bool {
        self.on & why.bit() != 0
    }
}

/// The retry policy of tier `index` (of `tiers`), checked: the last tier calls nothing.
pub(super) fn retry(
    raw: Option<&RawTierRetry>,
    index: usize,
    tiers: usize,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<TierRetry>, ModelError> {
    let Some(r) = raw else { return Ok(None) };
    let fail = |k: &str, m: &str| Err(ctx.fail(&format!("{key}.{k}"), m.into()));
    if index + 1 == tiers {
        return fail(
            "retry",
            "the last tier calls no other tier, so it has nothing to retry: put `[tier.retry]` in the tier that calls (the one before the tier whose failures it retries)",
        );
    }
    if r.jitter == Some(Jitter::Decorrelated) {
        return fail(
            "retry.jitter",
            "a tier's retries take jitter = \"none\", \"full\" or \"equal\" (decorrelated jitter follows one client's last delay)",
        );
    }
    if r.budget_kind == Some(BudgetKind::TokenBucket) {
        return fail(
            "retry.budget_kind",
            "a tier's retry budget is budget_kind = \"ratio\" (the token bucket is the clients')",
        );
    }
    let on = match &r.on {
        None => 7,
        Some(v) if v.is_empty() => {
            return fail(
                "retry.on",
                "`on` names at least one outcome: \"rejected\", \"error\", \"timed_out\"",
            );
        }
        Some(v) => v.iter().fold(0, |m, o| m | o.bit()),
    };
    let as_client = RawRetry {
        max_attempts: r.max_attempts,
        backoff: r.backoff,
        base: r.base,
        cap: r.cap,
        jitter: r.jitter,
        budget: None,
        budget_kind: r.budget_kind,
        ratio: r.ratio,
        ttl: r.ttl,
        min_per_s: r.min_per_s,
    };
    let c = |k: &str| format!("{key}.{k}");
    let retry = super::build_client::retry(&as_client, &c).map_err(|(k, m)| ctx.fail(&k, m))?;
    Ok(Some(TierRetry { retry, on }))
}
