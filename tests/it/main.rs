//! The integration tests, as one test binary (`cargo test --release --test it`): each module is
//! one concern, and `common` holds what they share (the `surge` command, running a model,
//! the invariants every run must satisfy).

mod bad_input;
mod bad_models;
mod charts;
mod cli;
mod client_policies;
mod columns;
mod common;
mod compare;
mod early_stop;
mod failure;
mod faults_lost;
mod faults_memory;
mod faults_misleading;
mod faults_results;
mod fit;
mod fit_closed;
mod fit_corpus;
mod fit_hostile;
mod fit_real;
mod fit_sessions;
mod fuzz_regressions;
mod guard;
mod honest;
mod layers;
mod levels;
mod levels_compare;
mod policies;
mod pools;
mod population;
mod properties;
mod queueing;
mod recovery;
mod refused;
mod report;
mod report_censored;
mod search;
mod shard;
mod snapshots;
mod streams;
mod svg;
mod sweep;
mod tier_policies;
mod trace;
mod waiting_room;
