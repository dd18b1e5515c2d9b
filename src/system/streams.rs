//! Every random stream of a run, named in one place. A stream is (part kind, index, purpose)
//! below the replication's seed (`crate::engine::rng::substream`): a new purpose or a new part
//! never moves another's draws. Not where draws are made: each part keeps its own streams.
//!
//! A purpose's number is its place in its list, from 1: append a new one, never reorder (the
//! number fixes the stream's draws; `purposes_keep_their_numbers` checks it).

use crate::engine::Stream;
use crate::engine::rng::substream;

/// What a source's stream is for: stream (1, source index, purpose).
#[derive(Debug, Clone, Copy)]
pub(super) enum SourceUse {
    Arrivals = 1,
    Sessions,
    Think,
    Refresh,
    Return,
    Patience,
    Retry,
    Shed,
}

/// What a tier's stream is for: stream (2, tier index, purpose).
#[derive(Debug, Clone, Copy)]
pub(super) enum TierUse {
    Service = 1,
    Visit,
    Balancer,
    /// Its concurrency limiter (only Vegas draws from it).
    Limit,
    /// Whether a service ends in an error (`errors`; drawn only when above 0).
    Errors,
    /// The backoff jitter of its retries of the tier it calls (`[tier.retry]`).
    Retry,
}

/// The part kinds.
const SOURCE: u64 = 1;
const TIER: u64 = 2;
/// The waiting room: (3, 0, 0).
const ROOM: u64 = 3;
/// A source's client throttle: (4, source index, 0).
const THROTTLE: u64 = 4;

/// Source `i`'s stream for `purpose`.
pub(super) fn source(seed: u64, i: usize, purpose: SourceUse) -> Stream {
    substream(seed, &[SOURCE, i as u64, purpose as u64])
}

/// Tier `t`'s stream for `purpose`.
pub(super) fn tier(seed: u64, t: usize, purpose: TierUse) -> Stream {
    substream(seed, &[TIER, t as u64, purpose as u64])
}

/// The waiting room's stream.
pub(super) fn room(seed: u64) -> Stream {
    substream(seed, &[ROOM, 0, 0])
}

/// The stream of source `i`'s client throttle.
pub(super) fn throttle(seed: u64, i: usize) -> Stream {
    substream(seed, &[THROTTLE, i as u64, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_keep_their_numbers() {
        use SourceUse::*;
        let source = [
            Arrivals, Sessions, Think, Refresh, Return, Patience, Retry, Shed,
        ];
        assert_eq!(source.map(|u| u as u64), [1, 2, 3, 4, 5, 6, 7, 8]);
        let tier = [
            TierUse::Service,
            TierUse::Visit,
            TierUse::Balancer,
            TierUse::Limit,
        ];
        assert_eq!(tier.map(|u| u as u64), [1, 2, 3, 4]);
        assert_eq!(TierUse::Errors as u64, 5);
        assert_eq!(TierUse::Retry as u64, 6);
    }
}
