//! Measuring a workload as `surge bench` does: each run in a fresh `surge bench --workload`
//! process of its own (so its peak memory is that workload's alone), then the medians over the
//! runs; and the machine the figures were measured on.
//!
//! Not here: the workloads themselves (`bench`), which workloads run and the speed targets
//! (`app::bench`), nor the table (`commands::bench`).

use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::{Measure, Workload, median};

/// One workload's medians, as `surge bench --json` writes them under `results`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BenchResult {
    pub(crate) workload: Workload,
    pub(crate) label: String,
    pub(crate) wall_s_median: f64,
    pub(crate) wall_s: Vec<f64>,
    pub(crate) events: u64,
    pub(crate) work: u64,
    pub(crate) events_per_s: f64,
    pub(crate) work_per_s: Option<f64>,
    pub(crate) peak_rss_bytes: Option<f64>,
    pub(crate) interval: Option<(f64, f64)>,
    pub(crate) method: Option<String>,
    pub(crate) cpu_s_median: Option<f64>,
}

/// One workload `repeat` times, each in a child process: the medians.
pub(crate) fn measure(w: &Workload, repeat: u32) -> Result<BenchResult> {
    let runs: Vec<Measure> = (0..repeat).map(|_| in_child(w)).collect::<Result<_>>()?;
    let wall = median(&runs.iter().map(|m| m.wall_s).collect::<Vec<_>>());
    let events = runs[0].events as f64;
    let work = runs[0].work as f64;
    let rss = median(
        &runs
            .iter()
            .filter_map(|m| m.peak_rss.map(|b| b as f64))
            .collect::<Vec<_>>(),
    );
    let work_rate = match w {
        Workload::Hold { .. } => f64::NAN,
        _ => work / wall,
    };
    Ok(BenchResult {
        workload: *w,
        label: w.label(),
        wall_s_median: wall,
        wall_s: runs.iter().map(|m| m.wall_s).collect(),
        events: runs[0].events,
        work: runs[0].work,
        events_per_s: events / wall,
        work_per_s: work_rate.is_finite().then_some(work_rate),
        peak_rss_bytes: rss.is_finite().then_some(rss),
        interval: runs[0].interval,
        method: runs[0].method.clone(),
        cpu_s_median: runs
            .iter()
            .all(|m| m.cpu_s.is_some())
            .then(|| median(&runs.iter().filter_map(|m| m.cpu_s).collect::<Vec<_>>())),
    })
}

/// Run one workload in a fresh `surge bench --workload` process.
fn in_child(w: &Workload) -> Result<Measure> {
    let exe = std::env::current_exe().context("cannot find the surge executable")?;
    let out = Command::new(exe)
        .args(["bench", "--workload", &serde_json::to_string(w)?])
        .output()
        .context("cannot start a benchmark process")?;
    if !out.status.success() {
        bail!(
            "the benchmark of {} failed: {}",
            w.label(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).with_context(|| format!("bad benchmark output: {text}"))
}

/// The machine the figures are measured on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Machine {
    /// The processor's model name (Linux), else the architecture.
    pub(crate) cpu: String,
    pub(crate) cores: usize,
}

impl Machine {
    /// This machine.
    pub(crate) fn this() -> Self {
        Self {
            cpu: cpu_name(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// The processor's model name (Linux), for the table's header.
fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|x| x.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}
