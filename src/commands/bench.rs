//! `surge bench`: run the benchmark workloads of `crate::bench`, each repeated in fresh child
//! processes, and print a table of medians with the speed targets (met or the gap).

use std::io::Write;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::bench::{Measure, Workload, count, median};
use crate::cli::BenchArgs;
use crate::output::stdout::outln;

/// SimPy's M/M/c/K arrivals per second on the project's 2-core machine (measured again
/// by `bench/peers/run.sh`). `--simpy-rate` replaces it with a figure from the same machine.
const SIMPY_RATE: f64 = 60_000.0;

pub fn bench(args: &BenchArgs) -> Result<()> {
    if let Some(w) = &args.workload {
        // A child: run one workload here and report it as one JSON line.
        let w: Workload = serde_json::from_str(w).context("bad --workload")?;
        let m = w.measure()?;
        outln!("{}", serde_json::to_string(&m)?);
        return Ok(());
    }
    if let Some(r) = args.simpy_rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
        bail!(crate::error::BadInput(format!(
            "--simpy-rate must be SimPy's arrivals per second, a number above 0, got {r}"
        )));
    }
    let quick = args.quick;
    let sizes = Sizes::new(quick);
    let plan = sizes.plan(quick);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "surge bench {}: {}, {cores} cores; medians of {} runs, each in a process of its own{}",
        env!("CARGO_PKG_VERSION"),
        cpu_name(),
        args.repeat,
        if quick { " (--quick: small sizes)" } else { "" }
    )?;
    writeln!(
        out,
        "{:<38} {:>9} {:>13} {:>16} {:>11}",
        "workload", "wall", "events/s", "work/s", "peak memory"
    )?;
    let mut results = Vec::new();
    for w in &plan {
        // The crash-point search (minutes) runs once, whatever --repeat.
        let repeat = match w {
            Workload::IrccCrashPoint { .. } => 1,
            _ => args.repeat,
        };
        let result = measure(w, repeat)?;
        writeln!(out, "{}", row(&result))?;
        out.flush()?;
        results.push(result);
    }
    let simpy = args.simpy_rate.unwrap_or(SIMPY_RATE);
    let targets = sizes.targets(&plan, &results, simpy);
    writeln!(out, "targets:")?;
    for (what, target, met) in &targets {
        writeln!(
            out,
            "  {:<64} target {:<5} {}",
            what,
            target,
            if *met { "met" } else { "NOT met" }
        )?;
    }
    if let Some(path) = &args.json {
        let doc = BenchDoc {
            version: env!("CARGO_PKG_VERSION").to_string(),
            cpu: cpu_name(),
            cores,
            repeat: args.repeat,
            quick,
            results,
            targets: (targets.into_iter())
                .map(|(what, target, met)| Target { what, target, met })
                .collect(),
        };
        crate::store::atomic::write_json(path, &serde_json::to_value(&doc)?)?;
    }
    Ok(())
}

/// The workloads' sizes: full, or small with `--quick`.
struct Sizes {
    /// M/M/c/K arrivals of the big run (the small one has a tenth).
    big: u64,
    small: u64,
    /// Log lines of the big fit read (the small one has a tenth).
    fit_lines: u64,
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
    fn targets(
        &self,
        plan: &[Workload],
        results: &[BenchResult],
        simpy: f64,
    ) -> Vec<(String, String, bool)> {
        // The speed targets (docs/performance.md).
        let get = |pred: &dyn Fn(&Workload) -> bool, key: Figure| {
            plan.iter()
                .zip(results)
                .find(|(w, _)| pred(w))
                .and_then(|(_, r)| finite(key(r)))
        };
        let mut targets = Vec::new();
        let big_w = |w: &Workload| *w == Workload::Mmck { arrivals: self.big };
        if let Some(req_s) = get(&big_w, |r: &BenchResult| r.work_per_s) {
            let x = req_s / simpy;
            targets.push((
                format!("M/M/c/K arrivals/s vs SimPy ({} /s): {x:.0}x", rate(simpy)),
                "100x".to_string(),
                x >= 100.0,
            ));
        }
        if let (Some(ev), Some(hold)) = (
            get(&big_w, |r: &BenchResult| Some(r.events_per_s)),
            get(
                &|w| matches!(w, Workload::Hold { pending: 1_000, .. }),
                |r: &BenchResult| Some(r.events_per_s),
            ),
        ) {
            let x = ev / hold;
            targets.push((
                format!(
                    "M/M/c/K events/s vs hold model (1,000 pending): {:.0}%",
                    100.0 * x
                ),
                "50%".to_string(),
                x >= 0.5,
            ));
        }
        targets.extend(memory_target(
            "peak memory, 10x the horizon",
            get(&big_w, |r: &BenchResult| r.peak_rss_bytes),
            get(
                &|w| {
                    *w == Workload::Mmck {
                        arrivals: self.small,
                    }
                },
                |r: &BenchResult| r.peak_rss_bytes,
            ),
            (self.big, self.small, "arrivals"),
        ));
        let sweep_w = |jobs: usize| move |w: &Workload| matches!(w, Workload::Sweep { jobs: j, .. } if *j == jobs);
        if let (Some(one), Some(two)) = (
            get(&sweep_w(1), |r: &BenchResult| Some(r.wall_s_median)),
            get(&sweep_w(2), |r: &BenchResult| Some(r.wall_s_median)),
        ) {
            let x = one / two;
            targets.push((
                format!("sweep speedup, --jobs 2 over --jobs 1: {x:.2}x"),
                "1.8x".to_string(),
                x >= 1.8,
            ));
        }
        if let Some(wall) = get(&|w| *w == Workload::Ircc, |r: &BenchResult| {
            Some(r.wall_s_median)
        }) {
            let cpu = get(&|w| *w == Workload::Ircc, |r: &BenchResult| r.cpu_s_median);
            targets.push((
                format!(
                    "IRCC crashing night (the default model): {wall:.1} s{}",
                    cpu_note(cpu)
                ),
                "15 s".to_string(),
                wall < 15.0,
            ));
        }
        let fit_big = |w: &Workload| {
            *w == Workload::FitRead {
                lines: self.fit_lines,
            }
        };
        if let Some(lines_s) = get(&fit_big, |r: &BenchResult| r.work_per_s) {
            targets.push((
                format!(
                    "fit: log lines read per second, one core: {}",
                    rate(lines_s)
                ),
                "1 M/s".to_string(),
                lines_s >= 1e6,
            ));
        }
        targets.extend(memory_target(
            "fit: peak memory, 10x the log",
            get(&fit_big, |r: &BenchResult| r.peak_rss_bytes),
            get(
                &|w| {
                    *w == Workload::FitRead {
                        lines: self.fit_lines / 10,
                    }
                },
                |r: &BenchResult| r.peak_rss_bytes,
            ),
            (self.fit_lines, self.fit_lines / 10, "lines"),
        ));
        targets.extend(night_targets(plan, results));
        targets
    }
}

/// One workload `repeat` times, each in a child process: the medians.
fn measure(w: &Workload, repeat: u32) -> Result<BenchResult> {
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

/// The table's line of one workload: wall time, events and work per second, peak memory.
fn row(r: &BenchResult) -> String {
    let unit = match r.workload {
        Workload::Hold { .. } => "",
        Workload::Sweep { .. } | Workload::IrccCrashPoint { .. } => " runs/s",
        Workload::FitRead { .. } => " lines/s",
        _ => " req/s",
    };
    format!(
        "{:<38} {:>7.2} s {:>11}/s {:>16} {:>11}",
        r.label,
        r.wall_s_median,
        if r.events > 0 {
            rate(r.events_per_s)
        } else {
            "-".to_string()
        },
        r.work_per_s
            .map_or("-".to_string(), |x| format!("{}{unit}", rate(x))),
        r.peak_rss_bytes.map_or("n/a".to_string(), |b| format!(
            "{:.0} MiB",
            b / (1024.0 * 1024.0)
        ))
    )
}

/// One workload's medians, as `--json` writes them under `results`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BenchResult {
    workload: Workload,
    label: String,
    wall_s_median: f64,
    wall_s: Vec<f64>,
    events: u64,
    work: u64,
    events_per_s: f64,
    work_per_s: Option<f64>,
    peak_rss_bytes: Option<f64>,
    interval: Option<(f64, f64)>,
    method: Option<String>,
    cpu_s_median: Option<f64>,
}

/// A speed target, met or not.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Target {
    what: String,
    target: String,
    met: bool,
}

/// What `surge bench --json FILE` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BenchDoc {
    version: String,
    cpu: String,
    cores: usize,
    repeat: u32,
    quick: bool,
    results: Vec<BenchResult>,
    targets: Vec<Target>,
}

/// A figure of a workload's result.
type Figure = fn(&BenchResult) -> Option<f64>;

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
fn night_targets(plan: &[Workload], results: &[BenchResult]) -> Vec<(String, String, bool)> {
    let mut targets = Vec::new();
    for (w, r) in plan.iter().zip(results) {
        let Some(wall) = finite(Some(r.wall_s_median)) else {
            continue;
        };
        let cpu = cpu_note(finite(r.cpu_s_median));
        match w {
            Workload::IrccHealthy => targets.push((
                format!(
                    "IRCC healthy night ({} web instances): {wall:.1} s{cpu}",
                    crate::bench::HEALTHY_WEB_INSTANCES
                ),
                "30 s".to_string(),
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
                targets.push((
                    format!(
                        "IRCC crash point in web instances: {:.1} min{cpu}, {answer}",
                        wall / 60.0
                    ),
                    "4 min".to_string(),
                    wall < 240.0 && narrow,
                ));
            }
            _ => {}
        }
    }
    targets
}

/// ", CPU 12.3 s" where the CPU time was read: on a loaded machine the wall time also counts
/// other processes' turns, the CPU time does not.
/// The target on the peak memory of a workload ten times the size of another (`sizes`: the two
/// sizes and their unit): at most 10% more.
fn memory_target(
    what: &str,
    big_rss: Option<f64>,
    small_rss: Option<f64>,
    sizes: (u64, u64, &str),
) -> Option<(String, String, bool)> {
    let x = big_rss? / small_rss?;
    let (big, small, unit) = sizes;
    Some((
        format!(
            "{what}: {:+.1}% ({} vs {} {unit})",
            100.0 * (x - 1.0),
            count(big),
            count(small)
        ),
        "+10%".to_string(),
        x <= 1.10,
    ))
}

fn cpu_note(cpu_s: Option<f64>) -> String {
    cpu_s.map_or(String::new(), |c| format!(" (CPU {c:.1} s)"))
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

/// 12345678.0 -> "12.3 M".
fn rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.2}")
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
