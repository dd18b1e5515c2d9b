//! `surge crashpoint`: where the outage probability (with `--criterion slo`, the probability of
//! breaking the SLO) crosses 0.5 as one parameter varies, with its interval (a logistic fit's
//! confidence interval, or the bracket between all-or-nothing values) and the 10% and 90%
//! points; `crashpoint.json` and a chart. On a terminal each run is printed as it ends.

use anyhow::Result;
use serde_json::json;
use std::io::IsTerminal;

use super::out_dir;
use crate::cli::CrashpointArgs;
use crate::experiment::crashpoint::{self, CrashPoint, Method, Search, Try};
use crate::fmt::format_number;
use crate::model::{self, error::BadInput};
use crate::output::stdout::outln;
use crate::output::{self, chart};

pub fn crashpoint(args: &CrashpointArgs) -> Result<()> {
    // Numbers, durations (in seconds) or sizes (in bytes), read as `sweep --vary` reads them;
    // counts (instances, threads, queue places, attempts...) take whole values.
    let range = crate::experiment::vary::parse_range(&args.vary)?;
    let key = range.key.as_str();
    let words = crashpoint::words(args.failure.criterion);
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        return Err(BadInput(format!(
            "--confidence must be between 0 and 1, got {}",
            args.confidence
        ))
        .into());
    }
    if !(args.tolerance > 0.0 && args.tolerance.is_finite()) {
        return Err(BadInput(format!(
            "--tolerance must be a share above 0 (0.03 is 3% of the crash point), got {}",
            args.tolerance
        ))
        .into());
    }
    let base = model::load(Some(&args.model), &args.runs.sets)?;
    // The guard rail of `surge run`, at both ends of the range (an absurd run is refused).
    for end in [range.lo, range.hi] {
        let mut sets = args.runs.sets.clone();
        sets.push(format!("{key}={}", format_number(end)));
        let m = model::load(Some(&args.model), &sets)?;
        crate::experiment::guard::check_run_size(&m, args.runs.allow_huge)?;
    }
    let dir = out_dir(&args.runs.out, &base, "crashpoint");
    let _lock = output::lock::lock(&dir)?;
    let provenance = output::provenance::Provenance::of(Some(&args.model), &args.runs.sets)?;
    let search = Search {
        path: &args.model,
        sets: &args.runs.sets,
        key,
        lo: range.lo,
        hi: range.hi,
        integer: range.whole,
        reps: args.reps,
        seed: args.runs.seed,
        tolerance: args.tolerance,
        max_runs: args.max_runs,
        jobs: crate::experiment::shard::jobs(args.runs.jobs, &|_| None).0,
        confidence: args.confidence,
        on_try: None,
        seeds: args.seeds,
        journal: Some(&dir.join("crashpoint.partial.csv")),
        resume: args.resume,
        criterion: args.failure.criterion,
        stop: Some(super::interrupt::stop_flag()),
    };
    super::interrupt::watch(
        format!(
            "the finished runs are kept in {}: run the same command with --resume to continue",
            dir.join("crashpoint.partial.csv").display()
        ),
        None,
    )?;
    // Each run as it ends, on a terminal only (silent on a pipe and with --quiet).
    let count = std::sync::atomic::AtomicU32::new(0);
    let show = |t: &Try| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        eprintln!(
            "run {n}: {key} = {} -> {}{}",
            format_number(t.value),
            if t.outages > 0 { "" } else { "no " },
            words.failure
        );
    };
    let live = !args.quiet && std::io::stderr().is_terminal();
    let search = Search {
        on_try: live.then_some(&show as &(dyn Fn(&Try) + Sync)),
        ..search
    };
    let cp = crashpoint::search(&search)?;
    if !args.quiet && cp.runs_from_journal > 0 {
        eprintln!(
            "resumed: {} runs read back from the journal, {} simulated now",
            cp.runs_from_journal, cp.runs_simulated
        );
    }
    let mut doc = json!(cp);
    doc["provenance"] = serde_json::to_value(&provenance)?;
    output::write_json(&dir.join("crashpoint.json"), &doc)?;
    let title = format!(
        "{} — {} in {}",
        base.scenario.name, words.point, cp.parameter
    );
    draw(&title, &cp, &dir)?;
    let model_text = output::provenance::effective_text(Some(&args.model), &args.runs.sets)?;
    let folder = crate::report::crashpoint::CrashFolder::read(&dir)?;
    crate::report::write(
        &dir,
        &crate::report::crashpoint::build(&folder, Some(&model_text)),
    )?;
    if !args.quiet {
        outln!("{}", answer(&cp));
        if let (Some(p10), Some(p90)) = (cp.p10, cp.p90) {
            outln!("{} 10% at {p10:.3}, 90% at {p90:.3}", words.probability);
        }
        if cp.max_runs_reached {
            outln!(
                "stopped at --max-runs {}: the interval is not as tight as asked (raise \
                 --max-runs, or widen --tolerance)",
                args.max_runs
            );
        }
        outln!(
            "outputs: {}/ (crashpoint.json, crashpoint.png, crashpoint.svg, report.html, report.md)",
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
    let w = cp.words();
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
        words: chart::CrashWords {
            point: w.point,
            failures: w.failures,
            probability: w.probability,
        },
    };
    chart::draw_crashpoint(
        &spec,
        &dir.join("crashpoint.png"),
        &dir.join("crashpoint.svg"),
    )
}

/// The answer, in one line: the crash point (or SLO-breaking point) with its interval and how
/// it was found.
fn answer(cp: &CrashPoint) -> String {
    let w = cp.words();
    // Three decimals, without trailing zeros: "between 10 and 11" for a count, 1.975 for a peak.
    let num = |v: f64| {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    match (cp.crash_point, cp.ci95, cp.method) {
        (Some(x), Some([a, b]), Method::LogisticFit) => {
            let (x, a, b) = (num(x), num(a), num(b));
            format!(
                "{} of {}: {x} ({} {a} to {b}, logistic fit; {}), after {} runs",
                w.point,
                cp.parameter,
                cp.method.interval_name(cp.confidence),
                cp.direction,
                cp.runs
            )
        }
        (Some(x), Some([a, b]), Method::Bracket) if cp.max_runs_reached => {
            let (x, a, b) = (num(x), num(a), num(b));
            format!(
                "{} of {}: between {a} and {b} (bracket of one replication per value, not told \
                 from 0.5: --max-runs reached; midpoint {x}; {}), after {} runs",
                w.point, cp.parameter, cp.direction, cp.runs
            )
        }
        (Some(x), Some([a, b]), Method::Bracket) => {
            let at = |v: f64| {
                cp.points
                    .iter()
                    .find(|t| t.value == v)
                    .map_or((0, 0), |t| (t.outages, t.reps))
            };
            let ((ka, na), (kb, nb)) = (at(a), at(b));
            let split = crate::experiment::search::ErrorSplit::of(cp.confidence);
            let (x, a, b) = (num(x), num(a), num(b));
            format!(
                "{} of {}: between {a} and {b} (bracket at {}%: {} in {ka} of {na} runs at \
                 {a}, {kb} of {nb} at {b}; one-sided binomial tests against 0.5, errors \
                 {:.1}% on the failing side and {:.1}% on the holding side; midpoint {x}; {}), \
                 after {} runs",
                w.point,
                cp.parameter,
                (cp.confidence * 100.0).round(),
                w.failures,
                split.fail_alpha * 100.0,
                split.hold_alpha * 100.0,
                cp.direction,
                cp.runs
            )
        }
        _ => format!("no {} found for {}", w.point, cp.parameter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole values are written without decimals: the built-in night's answer as recorded in
    /// docs/ (a bracket between 10 and 11 web instances).
    #[test]
    fn the_answer_writes_counts_as_whole_numbers() {
        let cp: CrashPoint =
            serde_json::from_str(include_str!("../../docs/ircc-instances-crashpoint.json"))
                .unwrap();
        let text = answer(&cp);
        assert!(
            text.contains(
                "between 10 and 11 (bracket at 95%: outages in 6 of 6 runs at 10, 0 of 5 at 11;"
            ),
            "{text}"
        );
        assert!(text.contains("midpoint 10.5;"), "{text}");
    }
}
