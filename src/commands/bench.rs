//! `surge bench`: run the benchmark workloads (`app::bench`, each repeated in fresh child
//! processes) and print a table of medians, a row as each workload ends, then the speed targets
//! (met or the gap). With the hidden `--workload`, it is such a child: one workload measured in
//! this process and printed as one JSON line.

use std::io::Write;

use anyhow::{Context, Result, bail};

use crate::app::bench::{BenchSettings, SIMPY_RATE};
use crate::bench::Workload;
use crate::bench::child::{BenchResult, Machine};
use crate::bench::rate;
use crate::cli::BenchArgs;
use crate::output::stdout::outln;

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
    let settings = BenchSettings {
        quick: args.quick,
        repeat: args.repeat,
        simpy_rate: args.simpy_rate.unwrap_or(SIMPY_RATE),
        json: args.json.clone(),
    };
    let machine = Machine::this();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "surge bench {}: {}, {} cores; medians of {} runs, each in a process of its own{}",
        env!("CARGO_PKG_VERSION"),
        machine.cpu,
        machine.cores,
        settings.repeat,
        if settings.quick {
            " (--quick: small sizes)"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "{:<38} {:>9} {:>13} {:>16} {:>11}",
        "workload", "wall", "events/s", "work/s", "peak memory"
    )?;
    let outcome = crate::app::bench::bench(&settings, &mut |r| {
        writeln!(out, "{}", row(r))?;
        out.flush()?;
        Ok(())
    })?;
    writeln!(out, "targets:")?;
    for t in &outcome.targets {
        writeln!(
            out,
            "  {:<64} target {:<5} {}",
            t.what,
            t.target,
            if t.met { "met" } else { "NOT met" }
        )?;
    }
    Ok(())
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
