//! The low-level files every command shares: atomic writes (`atomic`), the output folder's lock
//! (`lock`), the journals of runs in progress (`journal`), where a result came from
//! (`provenance`), and reading the result documents back (`json`: `read_json::<T>`, naming the
//! file and the field in its errors).
//!
//! Not here: rendering (CSV writers, charts: `output`), what a result document holds (its type
//! lives in the layer that produces it: `metrics::summary`, `experiment`, `fit`).

pub(crate) mod atomic;
pub(crate) mod journal;
pub(crate) mod json;
pub(crate) mod lock;
pub(crate) mod provenance;
