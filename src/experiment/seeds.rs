//! The seed of each run of a sweep's point or a crash-point search's value: common random numbers
//! or one seed of its own per point and replication (`Seeds`).
//!
//! Not here: the seed of a plain run's replications (`super::replication_seed`, which common
//! seeds share), deriving a seed (`engine::derive_seed`).

use serde::{Deserialize, Serialize};

use crate::engine::derive_seed;

/// Seed of replication `rep` of point `point`.
pub fn point_seed(seed: u64, point: u64, rep: u64) -> u64 {
    derive_seed(seed, &[point, rep])
}

/// Which seed replication r of a point (a sweep's point, a crash-point search's value) uses.
/// `Common`: the same at every point (common random numbers: a comparison between points is
/// paired, the noise each replication brings is shared); `Independent`: one of its own per
/// point and replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Seeds {
    Common,
    #[default]
    Independent,
}

impl Seeds {
    /// The seed of replication `rep` at the point identified by `point` (a sweep's point index,
    /// a crash-point value's bits). Common seeds are those of `surge run --reps`: replication 0
    /// uses `seed` itself.
    pub fn seed(self, seed: u64, point: u64, rep: u64) -> u64 {
        match self {
            Seeds::Common => super::replication_seed(seed, rep),
            Seeds::Independent => point_seed(seed, point, rep),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Seeds::Common => "common",
            Seeds::Independent => "independent",
        }
    }
}
