//! `surge crashpoint`: where the outage probability crosses 0.5 as one parameter varies, with
//! its interval and the 10% and 90% points; `crashpoint.json` and a chart.

use anyhow::{Context, Result};
use serde_json::json;

use super::out_dir;
use crate::cli::CrashpointArgs;
use crate::experiment::crashpoint::{self, Search};
use crate::model::{self, error::BadInput};
use crate::output::{self, sweep_chart};

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
    let base = model::load(Some(&args.model), &args.sets)?;
    // The guard rail of `surge run`, at both ends of the range (an absurd run is refused).
    for end in [lo, hi] {
        let mut sets = args.sets.clone();
        sets.push(format!("{}={}", key.trim(), end.trim()));
        let m = model::load(Some(&args.model), &sets)?;
        crate::experiment::guard::check_run_size(&m, args.allow_huge)?;
    }
    let dir = out_dir(&args.out, &base, "crashpoint");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    let search = Search {
        path: &args.model,
        sets: &args.sets,
        key: key.trim(),
        lo: num(lo)?,
        hi: num(hi)?,
        integer,
        reps: args.reps,
        seed: args.seed,
        tolerance: args.tolerance,
        max_runs: args.max_runs,
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        confidence: args.confidence,
        seeds: args.seeds,
        journal: Some(&dir.join("crashpoint.partial.csv")),
        resume: args.resume,
    };
    let cp = crashpoint::search(&search)?;
    if !args.quiet && cp.runs_from_journal > 0 {
        eprintln!(
            "resumed: {} runs read back from the journal, {} simulated now",
            cp.runs_from_journal, cp.runs_simulated
        );
    }
    output::write_json(&dir.join("crashpoint.json"), &json!(cp))?;
    let tries: Vec<sweep_chart::CrashTry> = cp
        .points
        .iter()
        .map(|t| sweep_chart::CrashTry {
            value: t.value,
            reps: t.reps,
            outages: t.outages,
        })
        .collect();
    let title = format!("{} — crash point in {}", base.scenario.name, cp.parameter);
    sweep_chart::draw_crashpoint(
        &title,
        &cp.parameter,
        &tries,
        cp.crash_point,
        cp.ci95.map(|c| (c[0], c[1])),
        cp.p10,
        cp.p90,
        &dir.join("crashpoint.png"),
        &dir.join("crashpoint.svg"),
    )?;
    if !args.quiet {
        match (cp.crash_point, cp.ci95) {
            (Some(x), Some([a, b])) => println!(
                "crash point of {}: {x:.3} ({}% interval {a:.3} to {b:.3}, {}; {}), after {} runs",
                cp.parameter,
                (args.confidence * 100.0).round(),
                cp.method,
                cp.direction,
                cp.runs
            ),
            _ => println!("no crash point found for {}", cp.parameter),
        }
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
