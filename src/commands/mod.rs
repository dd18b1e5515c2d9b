//! One file per command: each reads its arguments, calls the experiment and output modules,
//! and prints what a planner needs to see.

pub mod bench;
pub mod check;
mod check_closed;
pub mod compare;
mod compare_journal;
pub(crate) mod confirm;
pub mod crashpoint;
pub mod fit;
pub(crate) mod fit_logs;
pub(crate) mod interrupt;
pub(crate) mod levels;
pub mod merge;
pub(crate) mod outage_line;
pub mod plot;
pub mod report;
pub mod run;
pub mod sweep;

use std::path::PathBuf;

use crate::model::Model;

/// The output folder of `command` for `model`: `--out`, or `outputs/<model name>/<command>/`
/// with the name made one safe folder name (`folder_name`).
pub fn out_dir(out: &Option<PathBuf>, model: &Model, command: &str) -> PathBuf {
    out.clone().unwrap_or_else(|| {
        PathBuf::from("outputs")
            .join(folder_name(&model.scenario.name))
            .join(command)
    })
}

/// A model's name as one folder name that stays inside `outputs/`: path separators, `:` and
/// control characters become `_`, a leading dot gets a `_` before it (so `..` is no parent and
/// nothing is hidden), an empty name is `model`, and at most 100 characters are kept.
/// `../../x` is `_.._.._x`; `/etc` is `_etc`.
pub fn folder_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .take(100)
        .map(|c| {
            if matches!(c, '/' | '\\' | ':') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.starts_with('.') {
        s.insert(0, '_');
    }
    if s.trim().is_empty() {
        s = "model".into();
    }
    s
}

pub use crate::fmt::{human_count, human_duration};
