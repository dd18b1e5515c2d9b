//! One file per command: each reads its arguments, calls the experiment and output modules,
//! and prints what a planner needs to see.

pub mod bench;
pub mod check;
pub mod compare;
mod compare_journal;
pub(crate) mod confirm;
pub mod crashpoint;
pub mod fit;
pub(crate) mod interrupt;
pub mod merge;
pub mod plot;
pub mod report;
pub mod run;
pub mod sweep;

use std::path::PathBuf;

use crate::model::Model;

/// The output folder of `command` for `model`: `--out`, or `outputs/<model name>/<command>/`.
pub fn out_dir(out: &Option<PathBuf>, model: &Model, command: &str) -> PathBuf {
    out.clone().unwrap_or_else(|| {
        PathBuf::from("outputs")
            .join(&model.scenario.name)
            .join(command)
    })
}

pub use crate::fmt::{human_count, human_duration};
