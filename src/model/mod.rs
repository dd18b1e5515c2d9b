//! The model: what a planner writes in TOML (`schema`), how it is read (`load`) and checked and
//! defaulted (`build`, `build_tier`), and the checked form the simulator runs (`spec`, with
//! `Model` at its top). Units, distributions, traces, `--set` overrides, the durations a file
//! states, error messages, the waiting room and the checks of a users source's `population` each
//! have their own file.

pub(crate) mod amplification;
mod build;
mod build_client;
mod build_room;
mod build_tier;
pub(crate) mod canonical;
pub(crate) mod client_policies;
pub(crate) mod cost;
mod ctx;
pub(crate) mod dist;
pub(crate) mod durations;
pub(crate) mod error;
mod hint;
pub(crate) mod key_units;
mod limits;
mod load;
pub(crate) mod offered;
pub(crate) mod overrides;
pub(crate) mod pool;
mod population;
pub(crate) mod rate_limit;
pub(crate) mod schema;
pub(crate) mod spec;
pub(crate) mod tier_policies;
pub(crate) mod tier_retry;
pub(crate) mod trace;
pub(crate) mod units;
pub(crate) mod waiting_room;
pub(crate) mod warnings;

pub use client_policies::{Breaker, BudgetKind, RetryRatio, Throttle};
pub use dist::Dist;
pub use error::{ModelError, Place};
pub use load::{load, load_with_text, parse_text};
pub use pool::Pool;
pub use rate_limit::RateLimit;
pub use schema::RetryOn;
pub use schema::{
    Action, Backoff, Balancer, COUNT_KEYS, Discipline, Jitter, Population, SourceKind,
};
pub use spec::{
    Autoscale, Client, Codel, HealthCheck, Model, Operator, Price, Profile, Restart, Retry,
    Scenario, Slo, Source, Surge, Tier,
};
pub use tier_policies::{ConcurrencyLimit, LimitAlgorithm, OutlierDetection, ScaleIn};
pub use tier_retry::TierRetry;
pub use trace::Trace;
pub use waiting_room::{RoomMethod, WaitingRoom};

/// The default model, embedded so that `surge` with no arguments runs it.
pub const BUILTIN_NAME: &str = "models/ircc-2016.toml (built in)";
pub const BUILTIN_TEXT: &str = include_str!("../../models/ircc-2016.toml");
