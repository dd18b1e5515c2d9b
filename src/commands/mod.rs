//! One file per command: each reads its arguments, calls the experiment and output modules,
//! and prints what a planner needs to see.

pub mod bench;
pub mod check;
mod check_closed;
pub mod compare;
pub mod crashpoint;
pub mod fit;
pub(crate) mod fit_logs;
pub(crate) mod levels;
pub mod merge;
pub mod plot;
pub mod report;
pub mod run;
pub mod sweep;

pub use crate::fmt::{human_count, human_duration};
