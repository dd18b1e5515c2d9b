//! The edge rate limiter, as nginx's `limit_req`, Envoy's local rate limit and API gateways keep
//! one: a token bucket in front of the site that refuses an attempt with a 429 when it holds no
//! token. `[rate_limit]` at the top of the model is one bucket for every source together (a
//! global limit); `[source.rate_limit]` is a source's own bucket (a limit per client class). An
//! attempt passes its source's bucket, then the global one; one refused by either is
//! `Rejected` at the edge (it never reaches the first tier, and its client reacts as to any
//! rejection: a retry, a refresh). How it is written (`RawRateLimit`) and checked (`RateLimit`);
//! what the bucket does during a run is `system::rate_limit`.

use serde::Deserialize;

use super::ctx::Ctx;
use super::error::ModelError;
use super::units::{Count, Positive};

/// `[rate_limit]` or `[source.rate_limit]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRateLimit {
    pub rate: Positive,
    pub burst: Option<Count>,
}

/// A checked token bucket: `rate` tokens a second up to `burst`; it starts full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second (the sustained rate let through), attempts per second.
    pub rate: f64,
    /// Tokens the bucket holds at most (attempts let through at once after a quiet spell).
    pub burst: u32,
}

/// Attempts per second above which a limit is no limit worth simulating (and a sign of a unit
/// slip); the same bound as a source's rate.
const MAX_RATE: f64 = 1e7;

/// Check `raw` (at key path `key`): the burst defaults to one second of tokens, at least 1.
pub(super) fn build(
    raw: Option<RawRateLimit>,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<RateLimit>, ModelError> {
    let Some(r) = raw else { return Ok(None) };
    let rate = r.rate.0;
    if rate > MAX_RATE {
        return Err(ctx.fail(
            &format!("{key}.rate"),
            format!("{rate} attempts per second is absurd for a rate limit (at most {MAX_RATE})"),
        ));
    }
    let burst = r.burst.map_or(rate.ceil().max(1.0) as u32, |b| b.0);
    Ok(Some(RateLimit { rate, burst }))
}

#[cfg(test)]
mod tests {
    use crate::model::parse_text;
    use std::path::Path;

    const M: &str = "[scenario]\nduration = \"1h\"\n[[source]]\nname = \"api\"\nkind = \"requests\"\nrate = 10\n";
    const TIER: &str = "[[tier]]\ninstances = 1\nthreads = 4\nservice = { dist = \"exponential\", mean = \"10ms\" }\n";

    fn parse(
        extra_source: &str,
        top: &str,
    ) -> Result<crate::model::Model, crate::model::ModelError> {
        parse_text(
            &format!("{M}{extra_source}{TIER}{top}"),
            "m.toml",
            Path::new("."),
        )
    }

    #[test]
    fn limits_are_read_with_a_burst_of_one_second_by_default() {
        let m = parse(
            "rate_limit = { rate = 2.5 }\n",
            "[rate_limit]\nrate = 50\nburst = 7\n",
        )
        .unwrap();
        let own = m.sources[0].rate_limit.unwrap();
        assert_eq!((own.rate, own.burst), (2.5, 3));
        let all = m.rate_limit.unwrap();
        assert_eq!((all.rate, all.burst), (50.0, 7));
        assert!(parse("", "").unwrap().rate_limit.is_none());
    }

    #[test]
    fn bad_limits_name_their_key() {
        let e = parse("", "[rate_limit]\nrate = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rate_limit.rate"), "{e}");
        let e = parse("", "[rate_limit]\nrate = 1e9\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("absurd"), "{e}");
        let e = parse("rate_limit = { rate = 5, burst = 0 }\n", "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("source.api.rate_limit.burst"), "{e}");
        let e = parse("", "[rate_limit]\nrate = 5\nbucket = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown key `bucket`"), "{e}");
    }
}
