//! `surge optimize`: resolves the flags into `app::optimize`'s settings and prints the answer:
//! the cheapest configuration that keeps the SLO (or avoids an outage) with its cost as a sum,
//! its runs, its cheaper neighbours and theirs, how much the monotonicity pruning saved, any
//! contradiction of it, and the outputs.

use anyhow::Result;

use crate::app::optimize::{OptimizeOutcome, OptimizeSettings, keep_words};
use crate::cli::{Keep, OptimizeArgs};
use crate::experiment::optimize::{Config, End, Optimization, Status};
use crate::fmt::format_number;
use crate::metrics::slo::Criterion;
use crate::output::stdout::outln;

/// The optimization `args` ask for.
pub(crate) fn settings(args: &OptimizeArgs) -> OptimizeSettings {
    OptimizeSettings {
        search: super::search_settings(&args.search),
        criterion: match args.keep {
            Keep::Slo => Criterion::Slo,
            Keep::NoOutage => Criterion::Outage,
        },
        confidence: args.confidence,
        surge: args.surge,
        varies: args.vary.clone(),
        max_reps: args.max_reps,
    }
}

pub fn optimize(args: &OptimizeArgs) -> Result<()> {
    let s = settings(args);
    let outcome = crate::app::optimize::optimize(&s)?;
    if s.search.quiet {
        return Ok(());
    }
    print(&s, &outcome)
}

/// The configuration's values, `key=value` each.
fn name(o: &Optimization, c: &Config) -> String {
    (o.keys.iter().zip(&c.values))
        .map(|(k, v)| format!("{}={v}", k.key))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Its cost per hour as the sum it is.
fn cost_sum(c: &Config) -> String {
    let terms: Vec<String> = (c.cost_lines.iter())
        .map(|l| {
            format!(
                "{} {} x {}",
                l.what,
                format_number(l.quantity),
                format_number(l.unit_price)
            )
        })
        .collect();
    format!("{} = {}", terms.join(" + "), format_number(c.cost_per_hour))
}

/// What its own runs say, or how its verdict is implied.
fn evidence(o: &Optimization, c: &Config) -> String {
    let n = c.runs.len() as u32;
    match c.status {
        Status::ImpliedFails => "fails, implied (a configuration with at least as much of \
                                 each key failed; not run)"
            .into(),
        Status::ImpliedHolds => "holds, implied (not run)".into(),
        Status::NotNeeded => "not run".into(),
        s => format!(
            "{}: {} of {n} runs held (seeds of replications 0..{}), {}",
            s.name(),
            n - c.failures,
            n.saturating_sub(1),
            if c.told == Some(true) {
                format!("told from 50% at {}% confidence", o.confidence * 100.0)
            } else {
                format!(
                    "NOT told from 50% (the majority of {n} runs; --max-reps {})",
                    o.max_reps
                )
            }
        ),
    }
}

/// What the answer cannot see past: the optimum's priced keys at an end of their range, and
/// the keys with no price.
pub(crate) fn range_words(o: &Optimization) -> Vec<String> {
    let mut out: Vec<String> = (o.range_edges.iter())
        .map(|e| match e.end {
            End::Low => format!(
                "AT THE EDGE: {}={} is the lowest value of its range: a smaller one, outside the \
                 range, might hold too and cost less (widen the range down to know)",
                e.key, e.value
            ),
            End::High => format!(
                "AT THE EDGE: {}={} is the highest value of its range: more of it with less of \
                 another key, outside the range, might hold for less (widen the range up to know)",
                e.key, e.value
            ),
        })
        .collect();
    for k in &o.unpriced_keys {
        out.push(format!(
            "NO PRICE: {k} changes no configuration's cost (it counts 0: price it in the model's \
             [cost] table, or instances and threads with cost_per_instance_hour and \
             cost_per_thread_hour); the configurations along it cost the same, so the value \
             picked is arbitrary among those of that cost that hold"
        ));
    }
    out
}

/// The answer (see the module's comment).
pub(crate) fn print(s: &OptimizeSettings, out: &OptimizeOutcome) -> Result<()> {
    let o = &out.opt;
    let keep = keep_words(s.criterion);
    let surge = s.surge.map_or(String::new(), |x| {
        format!(" under a surge of x{}", format_number(x))
    });
    match o.optimum {
        Some(p) => {
            let c = &o.configs[p];
            let marked = if o.budget_reached {
                "BEST FOUND SO FAR (--budget reached; not shown to be the cheapest)"
            } else {
                "cheapest configuration"
            };
            outln!("{marked} that keeps {keep}{surge}: {}", name(o, c));
            outln!("  cost per hour (as provisioned): {}", cost_sum(c));
            outln!("  its runs: {}", evidence(o, c));
            for &q in &o.neighbours {
                let n = &o.configs[q];
                outln!(
                    "  one step cheaper, {} (cost {}/h): {}",
                    name(o, n),
                    format_number(n.cost_per_hour),
                    evidence(o, n)
                );
            }
        }
        None => outln!(
            "no configuration of the grid keeps {keep}{surge}{}: widen the ranges",
            if o.budget_reached {
                " among those run before --budget"
            } else {
                ""
            }
        ),
    }
    for line in range_words(o) {
        outln!("{line}");
    }
    let grid = o.configs.len();
    let told = crate::experiment::search::ErrorSplit::of(o.confidence).hold_reps as usize;
    outln!(
        "configurations run: {} of the grid's {grid}; runs: {} ({} simulated now, {} from the \
         journal); a brute-force sweep of the grid takes {grid} runs at one replication each, \
         {} at the {told} each that tell a holding configuration from 50%",
        o.configs_run,
        o.runs,
        o.runs_simulated,
        o.runs_from_journal,
        grid * told
    );
    let assumed: Vec<&str> = (o.keys.iter())
        .filter(|k| k.monotone_assumed)
        .map(|k| k.key.as_str())
        .collect();
    if !assumed.is_empty() {
        outln!(
            "ASSUMPTION: more of {} never hurts (monotonicity: configurations implied, not run); \
             checked on every pair run on the same seeds",
            assumed.join(", ")
        );
    }
    let at = |values: &[String]| {
        (o.keys.iter().zip(values))
            .map(|(k, v)| format!("{}={v}", k.key))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for x in &o.contradictions {
        outln!(
            "CONTRADICTION of monotonicity: replication {} (seed {}) held at {} but failed at {}, \
             which has more of {}: no more pruning on {}",
            x.rep,
            x.seed,
            at(&x.held),
            at(&x.failed),
            x.keys.join(", "),
            x.keys.join(", ")
        );
    }
    outln!(
        "outputs: {}/ (optimize.json, optimize.csv, optimize.png, optimize.svg); {} wall",
        out.dir.display(),
        crate::fmt::human_duration(out.wall_s)
    );
    Ok(())
}
