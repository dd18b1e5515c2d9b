//! `surge crashpoint`: where the outage probability crosses 0.5 as one parameter varies, with
//! its interval (a logistic fit's confidence interval, or the bracket between all-or-nothing
//! values) and the 10% and 90% points; `crashpoint.json` and a chart. On a terminal each try is
//! printed as it ends.

use anyhow::Result;
use serde_json::json;
use std::io::IsTerminal;

use super::out_dir;
use crate::cli::CrashpointArgs;
use crate::experiment::crashpoint::{self, CrashPoint, Method, Search, Try};
use crate::model::{self, error::BadInput};
use crate::output::{self, chart};

pub fn crashpoint(args: &CrashpointArgs) -> Result<()> {
    let bad = |why: &str| BadInput(format!("--vary {}: {why}", args.vary));
    let (key, range) = args
        .vary
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=LO..HI, e.g. surge.peak=2..20"))?;
    let (lo, hi) = range
        .split_once("..")
        .ok_or_else(|| bad("expected a range LO..HI"))?;
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| bad("LO and HI must be numbers"))
    };
    // Counts (instances, threads, queue places, attempts...) take whole values.
    let last = key.trim().rsplit('.').next().unwrap_or("");
    let integer = crashpoint::COUNT_KEYS.contains(&last);
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        return Err(BadInput(format!(
            "--confidence must be between 0 and 1, got {}",
            args.confidence
        ))
        .into());
    }
    let base = model::load(Some(&args.model), &args.runs.sets)?;
    // The guard rail of `surge run`, at both ends of the range (an absurd run is refused).
    for end in [lo, hi] {
        let mut sets = args.runs.sets.clone();
        sets.push(format!("{}={}", key.trim(), end.trim()));
        let m = model::load(Some(&args.model), &sets)?;
        crate::experiment::guard::check_run_size(&m, args.runs.allow_huge)?;
    }
    let dir = out_dir(&args.runs.out, &base, "crashpoint");
    let _lock = output::lock::lock(&dir)?;
    let provenance = output::provenance::Provenance::of(Some(&args.model), &args.runs.sets)?;
    let search = Search {
        path: &args.model,
        sets: &args.runs.sets,
        key: key.trim(),
        lo: num(lo)?,
        hi: num(hi)?,
        integer,
        reps: args.reps,
        seed: args.runs.seed,
        tolerance: args.tolerance,
        max_runs: args.max_runs,
        jobs: args
            .runs
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        confidence: args.confidence,
        on_try: None,
        criterion: args.runs.criterion,
    };
    // Each try as it ends, on a terminal only (silent on a pipe and with --quiet).
    let count = std::sync::atomic::AtomicU32::new(0);
    let show = |t: &Try| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        eprintln!(
            "try {n}: {} = {} -> {} of {} replications had an outage",
            key.trim(),
            crate::experiment::sweep::format_number(t.value),
            t.outages,
            t.reps
        );
    };
    let live = !args.quiet && std::io::stderr().is_terminal();
    let search = Search {
        on_try: live.then_some(&show as &(dyn Fn(&Try) + Sync)),
        ..search
    };
    let cp = crashpoint::search(&search)?;
    let mut doc = json!(cp);
    doc["provenance"] = serde_json::to_value(&provenance)?;
    doc["criterion"] = json!(args.runs.criterion.metric());
    output::write_json(&dir.join("crashpoint.json"), &doc)?;
    let title = format!("{} — crash point in {}", base.scenario.name, cp.parameter);
    draw(&title, &cp, &dir)?;
    if !args.quiet {
        println!("{}", answer(&cp));
        if let (Some(p10), Some(p90)) = (cp.p10, cp.p90) {
            println!("outage probability 10% at {p10:.3}, 90% at {p90:.3}");
        }
        println!(
            "outputs: {}/ (crashpoint.json, crashpoint.png, crashpoint.svg)",
            dir.display()
        );
    }
    Ok(())
}

/// The chart of a crash-point search (also used by `surge plot`).
pub fn draw(title: &str, cp: &CrashPoint, dir: &std::path::Path) -> Result<()> {
    let tries = |ts: &[Try]| -> Vec<chart::CrashTry> {
        ts.iter()
            .map(|t| chart::CrashTry {
                value: t.value,
                reps: t.reps,
                outages: t.outages,
            })
            .collect()
    };
    let curve = cp.logistic.map(|c| move |x: f64| c.probability(x));
    let spec = chart::CrashChart {
        title,
        parameter: &cp.parameter,
        points: &tries(&cp.points),
        in_order: &tries(&cp.tries),
        crash_point: cp.crash_point,
        interval: cp.ci95.map(|c| (c[0], c[1])),
        interval_name: cp.method.interval_name(cp.confidence),
        p10: cp.p10,
        p90: cp.p90,
        curve: curve.as_ref().map(|c| c as &dyn Fn(f64) -> f64),
    };
    chart::draw_crashpoint(
        &spec,
        &dir.join("crashpoint.png"),
        &dir.join("crashpoint.svg"),
    )
}

/// The answer, in one line: the crash point with its interval and how it was found.
fn answer(cp: &CrashPoint) -> String {
    match (cp.crash_point, cp.ci95, cp.method) {
        (Some(x), Some([a, b]), Method::LogisticFit) => format!(
            "crash point of {}: {x:.3} ({} {a:.3} to {b:.3}, logistic fit; {}), after {} runs",
            cp.parameter,
            cp.method.interval_name(cp.confidence),
            cp.direction,
            cp.runs
        ),
        (Some(x), Some([a, b]), Method::Bracket) => format!(
            "crash point of {}: between {a:.3} and {b:.3} (bracket: every value tried had all or \
             none of its replications crash; midpoint {x:.3}; {}), after {} runs",
            cp.parameter, cp.direction, cp.runs
        ),
        _ => format!("no crash point found for {}", cp.parameter),
    }
}
