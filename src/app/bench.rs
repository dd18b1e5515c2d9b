//! `surge bench`'s work: which workloads run at which sizes (full, or small with `--quick`),
//! each measured in child processes (`bench::child`), and the speed targets of
//! docs/performance.md judged on the medians; with `--json FILE`, the typed results and
//! targets written there.
//!
//! Not here: the workloads and their measuring (`bench`), nor the table (`commands::bench`).

use std::path::PathBuf;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::bench::child::{BenchResult, Machine, measure};
use crate::bench::{HEALTHY_WEB_INSTANCES, Workload, count, rate};

/// SimPy's M/M/c/K arrivals per second on the project's 2-core machine (measured again
/// by `bench/peers/run.sh`). `--simpy-rate` replaces it with a figure from the same machine.
pub(crate) const SIMPY_RATE: f64 = 60_000.0;

/// How `surge bench` runs.
#[derive(Debug, Clone)]
pub(crate) struct BenchSettings {
    /// Small sizes and no IRCC night.
    pub(crate) quick: bool,
    /// Runs of each workload (the crash-point search runs once).
    pub(crate) repeat: u32,
    /// SimPy's M/M/c/K arrivals per second, for the first target.
    pub(crate) simpy_rate: f64,
    /// Where to write the outcome as JSON.
    pub(crate) json: Option<PathBuf>,
}

/// A speed target (docs/performance.md): what was measured, the target, and whether it is met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Target {
    pub(crate) what: String,
    pub(crate) target: String,
    pub(crate) met: bool,
}

/// What `surge bench` measured, as `--json FILE` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BenchOutcome {
    pub(crate) version: String,
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) repeat: u32,
    pub(crate) quick: bool,
    pub(crate) results: Vec<BenchResult>,
    pub(crate) targets: Vec<Target>,
}

/// Measure every workload of the plan in turn (`on_result` is told of each as it ends), judge
/// the targets, and write the JSON file if asked.
pub(crate) fn bench(
    s: &BenchSettings,
    on_result: &mut dyn FnMut(&BenchResult) -> Result<()>,
) -> Result<BenchOutcome> {
    let sizes = Sizes::new(s.quick);
    let plan = sizes.plan(s.quick);
    let mut results = Vec::new();
    for w in &plan {
        // The crash-point search (minutes) runs once, whatever --repeat.
        let repeat = match w {
            Workload::IrccCrashPoint { .. } => 1,
            _ => s.repeat,
        };
        let result = measure(w, repeat)?;
        on_result(&result)?;
        results.push(result);
    }
    let machine = Machine::this();
    let outcome = BenchOutcome {
        version: env!("CARGO_PKG_VERSION").to_string(),
        cpu: machine.cpu,
        cores: machine.cores,
        repeat: s.repeat,
        quick: s.quick,
        targets: sizes.targets(&plan, &results, s.simpy_rate),
        results,
    };
    if let Some(path) = &s.json {
        crate::store::atomic::write_json(path, &outcome)?;
    }
    Ok(outcome)
}

/// The workloads' sizes: full, or small with `--quick`.
struct Sizes {
    /// M/M/c/K arrivals of the big run (the small one has a tenth).
    big: u64,
    small: u64,
    /// Log lines of the big fit read (the small one has a tenth).
    fit_lines: u64,
}

/// A figure of a workload's result.
type Figure = fn(&BenchResult) -> Option<f64>;

/// The medians of a plan's workloads, found by what the workload is.
struct Measured<'a> {
    plan: &'a [Workload],
    results: &'a [BenchResult],
}

impl Measured<'_> {
    /// `key` of the first workload `pred` picks, where it is a finite number.
    fn get(&self, pred: &dyn Fn(&Workload) -> bool, key: Figure) -> Option<f64> {
        (self.plan.iter().zip(self.results))
            .find(|(w, _)| pred(w))
            .and_then(|(_, r)| finite(key(r)))
    }
}

impl Sizes {
    fn new(quick: bool) -> Self {
        let big = if quick { 1_000_000 } else { 10_000_000 };
        Self {
            big,
            small: big / 10,
            fit_lines: if quick { 200_000 } else { 2_000_000 },
        }
    }

    /// The workloads, in the order they run.
    fn plan(&self, quick: bool) -> Vec<Workload> {
        let sweep_arrivals = if quick { 20_000 } else { 1_000_000 };
        let sweep_runs = if quick { 4 } else { 20 };
        let hold_ops = if quick { 1_000_000 } else { 20_000_000 };
        let mut plan = vec![
            Workload::Hold {
                pending: 1_000,
                ops: hold_ops,
            },
            Workload::Hold {
                pending: 100_000,
                ops: hold_ops,
            },
            Workload::Mmck { arrivals: self.big },
            Workload::Mmck {
                arrivals: self.small,
            },
        ];
        if !quick {
            plan.push(Workload::Ircc);
            plan.extend(night_workloads());
        }
        plan.push(Workload::FitRead {
            lines: self.fit_lines,
        });
        plan.push(Workload::FitRead {
            lines: self.fit_lines / 10,
        });
        for jobs in [1, 2] {
            plan.push(Workload::Sweep {
                runs: sweep_runs,
                arrivals: sweep_arrivals,
                jobs,
            });
        }
        plan
    }

    /// The speed targets (docs/performance.md), each with what was measured and whether met.
    fn targets(&self, plan: &[Workload], results: &[BenchResult], simpy: f64) -> Vec<Target> {
        let m = Measured { plan, results };
        let mut targets = self.engine_targets(&m, simpy);
        let sweep_w = |jobs: usize| move |w: &Workload| matches!(w, Workload::Sweep { jobs: j, .. } if *j == jobs);
        if let (Some(one), Some(two)) = (
            m.get(&sweep_w(1), |r| Some(r.wall_s_median)),
            m.get(&sweep_w(2), |r| Some(r.wall_s_median)),
        ) {
            let x = one / two;
            targets.push(target(
                format!("sweep speedup, --jobs 2 over --jobs 1: {x:.2}x"),
                "1.8x",
                x >= 1.8,
            ));
        }
        if let Some(wall) = m.get(&|w| *w == Workload::Ircc, |r| Some(r.wall_s_median)) {
            let cpu = m.get(&|w| *w == Workload::Ircc, |r| r.cpu_s_median);
            targets.push(target(
                format!(
                    "IRCC crashing night (the default model): {wall:.1} s{}",
                    cpu_note(cpu)
                ),
                "15 s",
                wall < 15.0,
            ));
        }
        targets.extend(self.fit_targets(&m));
        targets.extend(night_targets(plan, results));
        targets
    }

    /// The M/M/c/K targets: against SimPy, against the hold model, and its peak memory.
    fn engine_targets(&self, m: &Measured, simpy: f64) -> Vec<Target> {
        let mut targets = Vec::new();
        let big_w = |w: &Workload| *w == Workload::Mmck { arrivals: self.big };
        if let Some(req_s) = m.get(&big_w, |r| r.work_per_s) {
            let x = req_s / simpy;
            targets.push(target(
                format!("M/M/c/K arrivals/s vs SimPy ({} /s): {x:.0}x", rate(simpy)),
                "100x",
                x >= 100.0,
            ));
        }
        let hold_w = |w: &Workload| matches!(w, Workload::Hold { pending: 1_000, .. });
        if let (Some(ev), Some(hold)) = (
            m.get(&big_w, |r| Some(r.events_per_s)),
            m.get(&hold_w, |r| Some(r.events_per_s)),
        ) {
            let x = ev / hold;
            targets.push(target(
                format!(
                    "M/M/c/K events/s vs hold model (1,000 pending): {:.0}%",
                    100.0 * x
                ),
                "50%",
                x >= 0.5,
            ));
        }
        let small_w = |w: &Workload| {
            *w == Workload::Mmck {
                arrivals: self.small,
            }
        };
        targets.extend(memory_target(
            "peak memory, 10x the horizon",
            m.get(&big_w, |r| r.peak_rss_bytes),
            m.get(&small_w, |r| r.peak_rss_bytes),
            (self.big, self.small, "arrivals"),
        ));
        targets
    }

    /// The fit targets: log lines read per second, and peak memory on a log ten times longer.
    fn fit_targets(&self, m: &Measured) -> Vec<Target> {
        let mut targets = Vec::new();
        let fit_w = |lines: u64| move |w: &Workload| *w == Workload::FitRead { lines };
        if let Some(lines_s) = m.get(&fit_w(self.fit_lines), |r| r.work_per_s) {
            targets.push(target(
                format!(
                    "fit: log lines read per second, one core: {}",
                    rate(lines_s)
                ),
                "1 M/s",
                lines_s >= 1e6,
            ));
        }
        targets.extend(memory_target(
            "fit: peak memory, 10x the log",
            m.get(&fit_w(self.fit_lines), |r| r.peak_rss_bytes),
            m.get(&fit_w(self.fit_lines / 10), |r| r.peak_rss_bytes),
            (self.fit_lines, self.fit_lines / 10, "lines"),
        ));
        targets
    }
}

fn target(what: String, target: &str, met: bool) -> Target {
    Target {
        what,
        target: target.to_string(),
        met,
    }
}

/// A figure as the JSON file holds it: none where it is not a finite number (`null`).
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|x| x.is_finite())
}

/// The healthy night and the crash point of the built-in model (left out of `--quick`: the
/// crash point takes minutes).
fn night_workloads() -> Vec<Workload> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    vec![
        Workload::IrccHealthy,
        Workload::IrccCrashPoint { jobs: cores },
    ]
}

/// The targets of the healthy night (30 s) and of the crash point (4 minutes, answered between
/// two adjacent instance counts or with a logistic interval narrower than one instance).
fn night_targets(plan: &[Workload], results: &[BenchResult]) -> Vec<Target> {
    let mut targets = Vec::new();
    for (w, r) in plan.iter().zip(results) {
        let Some(wall) = finite(Some(r.wall_s_median)) else {
            continue;
        };
        let cpu = cpu_note(finite(r.cpu_s_median));
        match w {
            Workload::IrccHealthy => targets.push(target(
                format!(
                    "IRCC healthy night ({HEALTHY_WEB_INSTANCES} web instances): {wall:.1} s{cpu}"
                ),
                "30 s",
                wall < 30.0,
            )),
            Workload::IrccCrashPoint { .. } => {
                let interval = r
                    .interval
                    .and_then(|(a, b)| Some((finite(Some(a))?, finite(Some(b))?)));
                let method = r.method.as_deref().unwrap_or("?");
                let (answer, narrow) = match interval {
                    Some((a, b)) => (
                        format!("{method} {a:.2} to {b:.2}"),
                        if method == "bracket" {
                            b - a <= 1.0
                        } else {
                            b - a < 1.0
                        },
                    ),
                    None => ("no answer".to_string(), false),
                };
                targets.push(target(
                    format!(
                        "IRCC crash point in web instances: {:.1} min{cpu}, {answer}",
                        wall / 60.0
                    ),
                    "4 min",
                    wall < 240.0 && narrow,
                ));
            }
            _ => {}
        }
    }
    targets
}

/// The target on the peak memory of a workload ten times the size of another (`sizes`: the two
/// sizes and their unit): at most 10% more.
fn memory_target(
    what: &str,
    big_rss: Option<f64>,
    small_rss: Option<f64>,
    sizes: (u64, u64, &str),
) -> Option<Target> {
    let x = big_rss? / small_rss?;
    let (big, small, unit) = sizes;
    Some(target(
        format!(
            "{what}: {:+.1}% ({} vs {} {unit})",
            100.0 * (x - 1.0),
            count(big),
            count(small)
        ),
        "+10%",
        x <= 1.10,
    ))
}

/// ", CPU 12.3 s" where the CPU time was read: on a loaded machine the wall time also counts
/// other processes' turns, the CPU time does not.
fn cpu_note(cpu_s: Option<f64>) -> String {
    cpu_s.map_or(String::new(), |c| format!(" (CPU {c:.1} s)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result of `w` with these medians (the rest left empty).
    fn result(w: Workload, wall_s: f64, events_per_s: f64, work_per_s: Option<f64>) -> BenchResult {
        BenchResult {
            workload: w,
            label: w.label(),
            wall_s_median: wall_s,
            wall_s: vec![wall_s],
            events: 1,
            work: 1,
            events_per_s,
            work_per_s,
            peak_rss_bytes: None,
            interval: None,
            method: None,
            cpu_s_median: None,
        }
    }

    #[test]
    fn the_quick_targets_are_judged_on_the_medians() {
        let sizes = Sizes::new(true);
        let plan = sizes.plan(true);
        // hold x2, M/M/c/K x2, fit x2, sweep x2: no IRCC night in --quick.
        assert_eq!(plan.len(), 8);
        let mib = 1024.0 * 1024.0;
        let results: Vec<BenchResult> = (plan.iter())
            .map(|&w| match w {
                Workload::Hold { pending: 1_000, .. } => result(w, 1.0, 40e6, None),
                Workload::Mmck { arrivals } => BenchResult {
                    // 6 M arrivals/s and 25 M events/s; 105 MiB against 100 MiB.
                    peak_rss_bytes: Some(if arrivals == sizes.big { 105.0 } else { 100.0 } * mib),
                    ..result(w, 1.0, 25e6, Some(6e6))
                },
                Workload::FitRead { lines } if lines == sizes.fit_lines => {
                    result(w, 1.0, 0.0, Some(0.9e6))
                }
                Workload::Sweep { jobs: 1, .. } => result(w, 10.0, 1e6, Some(2.0)),
                Workload::Sweep { .. } => result(w, 5.0, 2e6, Some(4.0)),
                _ => result(w, 1.0, 1e6, None),
            })
            .collect();
        let targets = sizes.targets(&plan, &results, 60_000.0);
        let said: Vec<(&str, bool)> = (targets.iter()).map(|t| (t.what.as_str(), t.met)).collect();
        assert_eq!(
            said,
            [
                ("M/M/c/K arrivals/s vs SimPy (60.0 k /s): 100x", true),
                ("M/M/c/K events/s vs hold model (1,000 pending): 62%", true),
                (
                    "peak memory, 10x the horizon: +5.0% (1 M vs 100 k arrivals)",
                    true
                ),
                ("sweep speedup, --jobs 2 over --jobs 1: 2.00x", true),
                ("fit: log lines read per second, one core: 900.0 k", false),
            ]
        );
        assert_eq!(targets[0].target, "100x");
        assert_eq!(targets[4].target, "1 M/s");
    }
}
