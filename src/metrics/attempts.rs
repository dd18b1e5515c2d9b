//! The attempt counts that the collector keeps per event and `summary.json` writes under
//! `requests`: attempts offered (first attempts and retries) and the four outcomes every client
//! has. One type for both, so a count added here is counted and written alike. Not here: the
//! outcomes only some clients have (breaker, throttle, rate limit), the calls and sessions, and
//! the in-flight and wasted figures of the summary (`collector::Counts`, `summary::RequestCounts`).

use serde::{Deserialize, Serialize};

/// Attempts offered and how they ended. Plain integers and `Copy`: the collector adds to it at
/// every event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptCounts {
    pub offered: u64,
    pub first_attempts: u64,
    pub retries: u64,
    pub succeeded: u64,
    pub rejected: u64,
    pub timed_out: u64,
    pub failed: u64,
}

impl AttemptCounts {
    /// One attempt offered: a first attempt, or a retry (or refresh).
    #[inline]
    pub(crate) fn offer(&mut self, retry: bool) {
        self.offered += 1;
        if retry {
            self.retries += 1
        } else {
            self.first_attempts += 1
        }
    }

    /// `first` first attempts and `retries` repeats offered and refused at once.
    #[inline]
    pub(crate) fn refuse(&mut self, first: u64, retries: u64) {
        let n = first + retries;
        self.offered += n;
        self.first_attempts += first;
        self.retries += retries;
        self.rejected += n;
    }

    /// Attempts that ended without success, of the outcomes every client has (rejected, timed
    /// out, failed).
    pub(crate) fn lost(&self) -> u64 {
        self.rejected + self.timed_out + self.failed
    }
}
