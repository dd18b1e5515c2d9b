//! What a model leaves out, found once when a run starts, so that the request path skips the
//! checks of whole features rather than asking each tier and each source at every end: no
//! concurrency limiter or outlier detection in any tier (an attempt's end is reported to no
//! instance), no circuit breaker or throttle in any source (no client learns from an outcome),
//! no request timeout in any tier (no held thread's timeout to track). Each flag is only a
//! shortcut: with it off the same code runs as without it. Not here: the features themselves.

use crate::model::Model;

/// Which features of the request path the model uses.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shortcuts {
    /// Some tier has a concurrency limiter or outlier detection.
    pub(super) tier_policies: bool,
    /// Some source's clients have a circuit breaker or an adaptive throttle.
    pub(super) client_policies: bool,
    /// Some tier has a request timeout.
    pub(super) request_timeouts: bool,
}

impl Shortcuts {
    pub(super) fn of(model: &Model) -> Shortcuts {
        let tiers = &model.tiers;
        Shortcuts {
            tier_policies: (tiers.iter())
                .any(|t| t.concurrency_limit.is_some() || t.outlier_detection.is_some()),
            client_policies: (model.sources.iter())
                .any(|s| s.client.breaker.is_some() || s.client.throttle.is_some()),
            request_timeouts: tiers.iter().any(|t| t.request_timeout_s.is_some()),
        }
    }
}
