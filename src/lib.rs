//! surge: a discrete-event capacity simulator for web services under traffic surges.
//!
//! The crate is a library with a thin binary (`src/main.rs`) so that tests and benchmarks can
//! drive each part directly. One folder per concern: `error`, `fmt`, `stats` (bad input, numbers
//! for people, statistics), `engine` (events, clock, random streams; knows nothing of web
//! servers), `model` (the TOML model), `metrics` (time series, histograms, outages, summaries),
//! `system` (the simulated site), `analytic` (exact queueing results), `store` (atomic writes,
//! locks, journals, provenance, typed reads), `experiment` (runs, replications, sweeps, compare,
//! the crash-point search), `fit` (logs and load tests to a model), `output` (CSV files and
//! charts), `report` (report.html and report.md, `--assert` checks), `app` (the service layer:
//! settings in, typed outcome out), `commands` and `cli` (flags and printing), `bench` (the
//! benchmark workloads), and `api` (the facade a program embedding surge calls: the Python
//! package in `python/`).
//! The layers between them, and the test that keeps them, are in `tests/it/layers.rs`.

#![deny(unreachable_pub)]

pub mod analytic;
pub mod api;
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
