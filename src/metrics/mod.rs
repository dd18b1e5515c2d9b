//! What a run measures: per-bucket time series, streamed latency histograms, time-weighted
//! levels, the summary of a run, and outage and recovery detection from the SLO. Nothing here
//! keeps a list of every request: counts, sums and histograms are updated as events happen.

pub(crate) mod attempts;
pub(crate) mod collector;
pub(crate) mod level;
pub(crate) mod means;
pub(crate) mod outage;
pub(crate) mod pool_verdict;
mod record;
pub(crate) mod replicated;
pub(crate) mod room;
pub(crate) mod run_summary;
pub(crate) mod series;
pub(crate) mod slo;
pub mod summary;
pub(crate) mod table;

pub use collector::{Collector, Outcome};
pub use series::{TierSeries, TimeSeries};
pub use summary::Summary;
