//! surge: a discrete-event capacity simulator for web services under traffic surges.
//!
//! The crate is a library with a thin binary (`src/main.rs`) so that tests and benchmarks can
//! drive each part directly. One folder per concern:
//! `engine` (events, clock, random streams; knows nothing of web servers), `model` (the TOML
//! model), `system` (the simulated site), `metrics` (time series, histograms, outages),
//! `experiment` (runs, replications), `analytic` (exact queueing results), `store` (atomic
//! writes, locks, journals, provenance), `output` (CSV files and charts), `report` (report.html
//! and report.md, `--assert` checks), `bench` (the benchmark workloads) and `cli` (commands).
//! The layers between them, and the test that keeps them, are in `tests/it/layers.rs`.

#![deny(unreachable_pub)]

pub mod analytic;
pub(crate) mod app;
pub mod bench;
pub mod cli;
pub mod commands;
pub(crate) mod engine;
pub mod error;
pub mod experiment;
pub(crate) mod fit;
pub(crate) mod fmt;
pub mod metrics;
pub mod model;
pub(crate) mod output;
pub(crate) mod report;
pub(crate) mod stats;
pub(crate) mod store;
pub(crate) mod system;
