//! Benchmark workloads: the event set alone (the hold model), the M/M/c/K reference, the IRCC
//! full night (crashing, and healthy with 12 web instances), the IRCC crash point in web
//! instances, and a sweep at one and at two threads. Each workload measures one run
//! and reports wall time, work done and the process's peak memory; `surge bench` runs each in a
//! child process of its own (so peak memory belongs to that workload alone), repeats it, and
//! prints medians. `benches/` holds the divan suite over the same workloads, smaller.

pub(crate) mod child;

use std::time::Instant;

use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use serde::{Deserialize, Serialize};

use crate::engine::{Calendar, Stream, Time};
use crate::experiment::run_once;
use crate::experiment::sweep::run_points;
use crate::model::{self, Model};

/// The M/M/c/K reference: l = 900/s, m = 10/s per thread, c = 100, K = 1,000 (100
/// threads and 900 waiting places): `bench/peers/mmck.toml`, the model SimPy's and Ciw's
/// scripts beside it simulate and `bench/peers/run.sh` times as `surge run`. `mmck_model`
/// sets its horizon for the number of arrivals asked for.
pub const MMCK_TEXT: &str = include_str!("../../bench/peers/mmck.toml");

/// The horizon line of `MMCK_TEXT`, which `mmck_model` replaces.
const MMCK_DURATION: &str = "duration = \"11111s\"";

/// Arrival rate of the M/M/c/K reference, per second.
pub const MMCK_RATE: f64 = 900.0;

/// One workload, sized.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Workload {
    /// The event set alone: `pending` events; pop the earliest, push it back at t + Exp(1),
    /// `ops` times.
    Hold { pending: usize, ops: u64 },
    /// The M/M/c/K reference for about `arrivals` arrivals.
    Mmck { arrivals: u64 },
    /// The built-in IRCC model, the full night at full scale.
    Ircc,
    /// `runs` M/M/c/K runs of `arrivals` arrivals each, as one sweep on `jobs` threads.
    Sweep {
        runs: u32,
        arrivals: u64,
        jobs: usize,
    },
    /// `surge fit` reading an nginx access log of `lines` lines (written first, not timed) on
    /// one core: parsing and the streaming summaries.
    FitRead { lines: u64 },
    /// The built-in IRCC night with 12 web instances, which holds the surge.
    IrccHealthy,
    /// `surge crashpoint` on the built-in model, `--vary tier.web.instances=8..20`, on `jobs`
    /// threads.
    IrccCrashPoint { jobs: usize },
}

/// The instances that hold the built-in night's surge (`IrccHealthy`).
pub const HEALTHY_WEB_INSTANCES: u32 = 12;

/// The range of the crash-point workload.
pub const CRASH_POINT_RANGE: (f64, f64) = (8.0, 20.0);

/// What one run of a workload measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measure {
    pub wall_s: f64,
    /// Events handled (the hold model: pops).
    pub events: u64,
    /// Requests offered (M/M/c/K, IRCC), or runs (sweep), or pops (hold).
    pub work: u64,
    /// Peak resident memory of the process, bytes (None where the OS does not say).
    pub peak_rss: Option<u64>,
    /// The crash-point workload: the interval found and how ("bracket" or "logistic fit").
    #[serde(default)]
    pub interval: Option<(f64, f64)>,
    #[serde(default)]
    pub method: Option<String>,
    /// CPU time, seconds, where the workload reads it (one run and fit reading: the measured
    /// thread; the crash point: the whole process): on a shared machine the wall clock also
    /// counts other processes' turns.
    #[serde(default)]
    pub cpu_s: Option<f64>,
}

impl Workload {
    /// A short name for tables and for the child process's command line.
    pub fn label(&self) -> String {
        match *self {
            Workload::Hold { pending, .. } => format!("hold model, {pending} pending events"),
            Workload::Mmck { arrivals } => format!("M/M/c/K, {} arrivals", count(arrivals)),
            Workload::Ircc => "IRCC full night, full scale".to_string(),
            Workload::Sweep { runs, jobs, .. } => format!("sweep of {runs} runs, --jobs {jobs}"),
            Workload::FitRead { lines } => format!("fit: read {} log lines", count(lines)),
            Workload::IrccHealthy => {
                format!("IRCC healthy night ({HEALTHY_WEB_INSTANCES} web instances)")
            }
            Workload::IrccCrashPoint { jobs } => {
                format!("IRCC crash point in web instances, --jobs {jobs}")
            }
        }
    }

    /// Run the workload once, in this process.
    pub fn measure(&self) -> anyhow::Result<Measure> {
        let m = match *self {
            Workload::Hold { pending, ops } => {
                let wall = Instant::now();
                let popped = hold(pending, ops, 1);
                Measure {
                    wall_s: wall.elapsed().as_secs_f64(),
                    events: popped,
                    work: popped,
                    peak_rss: None,
                    interval: None,
                    method: None,
                    cpu_s: None,
                }
            }
            Workload::Mmck { arrivals } => one_run(&mmck_model(arrivals)?),
            Workload::Ircc => one_run(&model::load(None, &[])?),
            Workload::IrccHealthy => one_run(&model::load(
                None,
                &[format!("tier.web.instances={HEALTHY_WEB_INSTANCES}")],
            )?),
            Workload::IrccCrashPoint { jobs } => crash_point(jobs)?,
            Workload::Sweep {
                runs,
                arrivals,
                jobs,
            } => {
                let model = mmck_model(arrivals)?;
                let wall = Instant::now();
                let rows = run_points(std::slice::from_ref(&model), 1, runs, jobs, &|| {})?;
                let events = rows.iter().map(|r| r.summary.events).sum();
                Measure {
                    wall_s: wall.elapsed().as_secs_f64(),
                    events,
                    work: u64::from(runs),
                    peak_rss: None,
                    interval: None,
                    method: None,
                    cpu_s: None,
                }
            }
            Workload::FitRead { lines } => fit_read(lines)?,
        };
        Ok(Measure {
            peak_rss: peak_rss(),
            ..m
        })
    }
}

/// The crash-point search of `surge crashpoint models/ircc-2016.toml --vary
/// tier.web.instances=8..20` (its default settings): the runs are the work, the interval the
/// answer.
fn crash_point(jobs: usize) -> anyhow::Result<Measure> {
    use crate::experiment::crashpoint::{Search, search};
    let wall = Instant::now();
    let cpu0 = process_cpu_s();
    let cp = search(&Search {
        path: None,
        sets: &[],
        key: "tier.web.instances",
        lo: CRASH_POINT_RANGE.0,
        hi: CRASH_POINT_RANGE.1,
        integer: true,
        reps: crate::experiment::crashpoint::REPS,
        seed: None,
        tolerance: crate::experiment::crashpoint::TOLERANCE,
        max_runs: crate::experiment::crashpoint::MAX_RUNS,
        jobs,
        confidence: crate::experiment::crashpoint::CONFIDENCE,
        on_try: None,
        seeds: crate::experiment::sweep::Seeds::Common,
        journal: None,
        resume: false,
        criterion: crate::metrics::slo::Criterion::Outage,
        deadline: None,
        stop: None,
    });
    let wall_s = wall.elapsed().as_secs_f64();
    let cpu_s = process_cpu_s().zip(cpu0).map(|(b, a)| b - a);
    let cp = cp?;
    let interval = cp.ci95.map(|[a, b]| (a, b));
    Ok(Measure {
        wall_s,
        events: u64::from(cp.runs_simulated),
        work: u64::from(cp.runs),
        peak_rss: None,
        interval,
        method: Some(cp.method.interval_name(cp.confidence)),
        cpu_s,
    })
}

/// One run of `model` with its own seed: requests offered are the work.
fn one_run(model: &Model) -> Measure {
    let cpu0 = thread_cpu_s();
    let out = run_once(model, model.scenario.seed);
    let cpu_s = thread_cpu_s().zip(cpu0).map(|(b, a)| b - a);
    Measure {
        wall_s: out.summary.wall_s,
        events: out.summary.events,
        work: out.summary.requests.attempts.offered,
        peak_rss: None,
        interval: None,
        method: None,
        cpu_s,
    }
}

/// Write an nginx access log (combined + `$request_time`) of `lines` lines, 200 a second, to
/// `path`, streaming.
pub fn write_access_log(path: &std::path::Path, lines: u64) -> std::io::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Stream::seed_from_u64(7);
    let paths = ["/", "/search", "/item/42", "/cart", "/static/app.js"];
    let mut clock = (i64::MIN, String::new());
    for i in 0..lines {
        let sec = 1_700_000_000 + (i / 200) as i64;
        if sec != clock.0 {
            clock = (sec, crate::fit::timefmt::format_clf(sec));
        }
        let e: f64 = Exp1.sample(&mut rng);
        writeln!(
            w,
            "10.{}.{}.{} - - [{}] \"GET {}?id={} HTTP/1.1\" {} {} \"https://example.org/\" \"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\" {:.3}",
            i % 7,
            i % 250,
            i % 199,
            clock.1,
            paths[(i % 5) as usize],
            i % 1000,
            if i % 50 == 0 { 503 } else { 200 },
            500 + i % 3000,
            0.1 * e
        )?;
    }
    w.flush()
}

/// Read a generated log of `lines` lines as `surge fit` does; the reading is timed.
fn fit_read(lines: u64) -> anyhow::Result<Measure> {
    let dir = tempfile_dir()?;
    let path = dir.join("access.log");
    write_access_log(&path, lines)?;
    let opts = crate::fit::Options {
        format: crate::fit::Format::Nginx,
        log_format: None,
        bucket_s: 60.0,
        bucket_given: false,
        endpoints: 5,
        threads: None,
        session_gap_s: 1800.0,
        assets: crate::fit::default_assets(),
        source: None,
    };
    let cpu0 = thread_cpu_s();
    let wall = Instant::now();
    let reading = crate::fit::read(std::slice::from_ref(&path), &opts)?;
    let wall_s = wall.elapsed().as_secs_f64();
    let cpu_s = thread_cpu_s().zip(cpu0).map(|(b, a)| b - a);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Measure {
        wall_s,
        events: reading.files[0].counts.read,
        work: reading.files[0].counts.read,
        peak_rss: None,
        cpu_s,
        interval: None,
        method: None,
    })
}

/// CPU time of this thread so far, seconds (Linux: /proc/thread-self/schedstat).
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

/// CPU time of the whole process so far (every thread, ended ones included), seconds (Linux:
/// utime + stime of /proc/self/stat, in the kernel's fixed 100 ticks a second).
fn process_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// A fresh folder under the system's temporary folder.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("surge-bench-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The M/M/c/K reference model, with its horizon set for `arrivals` expected arrivals.
pub fn mmck_model(arrivals: u64) -> anyhow::Result<Model> {
    let horizon = arrivals as f64 / MMCK_RATE;
    let text = MMCK_TEXT.replace(MMCK_DURATION, &format!("duration = {horizon}"));
    Ok(model::parse_text(
        &text,
        "bench-mmck",
        std::path::Path::new("."),
    )?)
}

/// The hold model over the calendar: `pending` events in the set; each step pops the earliest
/// and schedules it again Exp(1) seconds later. Returns the number of pops (= `ops`).
pub fn hold(pending: usize, ops: u64, seed: u64) -> u64 {
    let mut rng = Stream::seed_from_u64(seed);
    let mut cal: Calendar<u32> = Calendar::with_capacity(pending);
    for i in 0..pending {
        let e: f64 = Exp1.sample(&mut rng);
        cal.schedule(Time::from_secs(e), i as u32);
    }
    let mut checksum = 0u64;
    for _ in 0..ops {
        let Some((now, ev)) = cal.pop() else { break };
        checksum = checksum.wrapping_add(u64::from(ev));
        let e: f64 = Exp1.sample(&mut rng);
        cal.schedule(now.after(e), ev);
    }
    std::hint::black_box(checksum);
    cal.events_handled()
}

/// Peak resident memory of this process so far (Linux: VmHWM), bytes.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// 10000000 -> "10 M", 100000 -> "100 k".
pub fn count(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{} M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{} k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// 12345678.0 -> "12.3 M".
pub(crate) fn rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.2}")
    }
}

/// The median of some measurements (the mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_pops_as_many_as_asked_and_keeps_the_set_full() {
        assert_eq!(hold(1000, 50_000, 3), 50_000);
    }

    #[test]
    fn mmck_horizon_matches_the_arrivals_asked_for() {
        let m = mmck_model(90_000).unwrap();
        assert!((m.scenario.duration_s - 100.0).abs() < 1e-9);
        let measure = Workload::Mmck { arrivals: 90_000 }.measure().unwrap();
        // Poisson count with mean 90,000: within 5 sd (1,500).
        assert!(measure.work.abs_diff(90_000) < 1_500, "{}", measure.work);
        assert!(measure.events >= measure.work);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
