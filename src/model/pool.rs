//! A tier's connection pool to the tier it calls (`[tier.pool]`), as written and as checked:
//! each instance of the calling tier holds at most `connections` connections to the next tier
//! a request visits; a request that needs one waits for it, first come first served, for at most
//! `timeout`. How the simulator applies it is `crate::system::pool`; this file only reads and
//! checks.

use serde::Deserialize;

use super::ctx::Ctx;
use super::error::ModelError;
use super::units::{Count, Duration};

/// HikariCP's `connectionTimeout` default: how long a request waits for a connection unless the
/// model says otherwise.
const DEFAULT_TIMEOUT_S: f64 = 30.0;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPool {
    pub connections: Count,
    pub timeout: Option<Duration>,
}

/// The pool each instance of a tier holds to the tier it calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pool {
    /// Connections per instance of the calling tier (at least 1).
    pub connections: u32,
    /// Longest wait for a free connection; past it the request fails.
    pub timeout_s: f64,
}

/// The pool of tier `index` (of `tiers`), checked: the last tier calls nothing.
pub(super) fn pool(
    raw: Option<&RawPool>,
    index: usize,
    tiers: usize,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<Pool>, ModelError> {
    let Some(p) = raw else { return Ok(None) };
    if index + 1 == tiers {
        return Err(ctx.fail(
            &format!("{key}.pool"),
            "the last tier calls no other tier, so it has no connection pool: put `[tier.pool]` in the tier that calls (the one before the tier it connects to)".into(),
        ));
    }
    let timeout_s = p.timeout.map_or(DEFAULT_TIMEOUT_S, |d| d.0);
    if timeout_s <= 0.0 {
        return Err(ctx.fail(
            &format!("{key}.pool.timeout"),
            "a pool's timeout must be longer than 0".into(),
        ));
    }
    Ok(Some(Pool {
        connections: p.connections.0,
        timeout_s,
    }))
}
