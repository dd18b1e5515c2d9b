//! `surge crashpoint`: where the outage probability (with `--criterion slo`, the probability of
//! breaking the SLO) crosses 0.5 as one parameter varies, with its interval (a logistic fit's
//! confidence interval, or the bracket between all-or-nothing values) and the 10% and 90%
//! points; `crashpoint.json` and a chart. On a terminal each run is printed as it ends.

use anyhow::Result;
use serde_json::json;

use super::out_dir;
use crate::cli::CrashpointArgs;
use crate::experiment::crashpoint::{self, CrashPoint, Method, Search, Try};
use crate::fmt::format_number;
use crate::model::error::BadInput;
use crate::output::chart;
use crate::output::stdout::outln;

pub fn crashpoint(args: &CrashpointArgs) -> Result<()> {
    let started = std::time::Instant::now();
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
    let source = crate::app::ModelSource::new(Some(&args.model), &args.runs.sets);
    let base = source.load()?;
    args.failure.criterion.check(&base)?;
    // The guard rail of `surge run`, at both ends of the range (an absurd run is refused).
    for end in [range.lo, range.hi] {
        let m = source.load_with(&[format!("{key}={}", format_number(end))])?;
        crate::experiment::guard::check_run_size(&m, args.runs.allow_huge)?;
    }
    let dir = out_dir(&args.runs.out, &base, "crashpoint");
    let _lock = crate::store::lock::lock(&dir)?;
    let provenance = source.provenance()?;
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
        deadline: (args.budget).map(|b| started + std::time::Duration::from_secs_f64(b)),
        stop: Some(crate::app::interrupt::stop_flag()),
    };
    crate::app::interrupt::watch(
        format!(
            "the finished runs are kept in {}: run the same command with --resume to continue",
            dir.join("crashpoint.partial.csv").display()
        ),
        None,
    )?;
    // Each run as it ends, on stderr (a terminal or a CI log alike; silent with --quiet).
    let count = std::sync::atomic::AtomicU32::new(0);
    let show = |t: &Try| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        eprintln!(
            "run {n}: {key} = {} -> {}{} ({} elapsed)",
            format_number(t.value),
            if t.outages > 0 { "" } else { "no " },
            words.failure,
            crate::fmt::human_duration(started.elapsed().as_secs_f64())
        );
    };
    let live = !args.quiet;
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
    crate::store::atomic::write_json(&dir.join("crashpoint.json"), &doc)?;
    let title = format!(
        "{} — {} in {}",
        base.scenario.name, words.point, cp.parameter
    );
    draw(&title, &cp, &dir)?;
    let model_text = crate::store::provenance::effective_text(Some(&args.model), &args.runs.sets)?;
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
        if cp.budget_reached {
            outln!(
                "stopped at --budget {}: no run started after it{} (give more time, or widen \
                 --tolerance)",
                crate::fmt::human_duration(args.budget.unwrap_or(0.0)),
                if cp.max_runs_reached {
                    "; the interval is not as tight as asked"
                } else {
                    ""
                }
            );
        } else if cp.max_runs_reached {
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
                 from 0.5: {} reached; midpoint {x}; {}), after {} runs",
                w.point,
                cp.parameter,
                if cp.budget_reached {
                    "--budget"
                } else {
                    "--max-runs"
                },
                cp.direction,
                cp.runs
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
            // Two adjacent whole values: the answer is the first that holds, not a midpoint
            // ("28.5 threads").
            let whole = a.fract() == 0.0 && b.fract() == 0.0 && b - a == 1.0;
            let holds = if cp.direction == w.larger_holds { b } else { a };
            let point = if whole {
                format!("{} holds", num(holds))
            } else {
                format!("midpoint {}", num(x))
            };
            let (a, b) = (num(a), num(b));
            format!(
                "{} of {}: between {a} and {b} (bracket at {}%: {} in {ka} of {na} runs at \
                 {a}, {kb} of {nb} at {b}; one-sided binomial tests against 0.5, errors \
                 {:.1}% on the failing side and {:.1}% on the holding side; {point}; {}), \
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
        (Some(_), Some(_), Method::KnifeEdge) => match cp.knife_edge() {
            Some(k) => knife_answer(cp, &k),
            None => format!("no {} found for {}", w.point, cp.parameter),
        },
        _ => format!("no {} found for {}", w.point, cp.parameter),
    }
}

/// The answer of a knife edge: "at 29 the SLO breaks in 49% +/- 3% of runs; 30 holds".
fn knife_answer(cp: &CrashPoint, k: &crashpoint::KnifeEdge) -> String {
    let w = cp.words();
    let (share, half) = k.probability(cp.confidence);
    let (kf, nf) = cp.at(k.fails);
    let (kh, nh) = cp.at(k.holds);
    let (v, fails, holds) = (
        format_number(k.value),
        format_number(k.fails),
        format_number(k.holds),
    );
    format!(
        "{} of {}: {v}, a knife edge: at {v}, {:.0}% ± {:.0}% of runs have an {} ({} of {}, \
         {}% interval); {holds} holds ({w_failures} in {kh} of {nh} runs), {fails} fails ({kf} \
         of {nf}); {}, after {} runs",
        w.point,
        cp.parameter,
        share * 100.0,
        half * 100.0,
        w.failure,
        k.failures,
        k.reps,
        (cp.confidence * 100.0).round(),
        cp.direction,
        cp.runs,
        w_failures = w.failures,
    )
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
        // No "10.5 instances": the first whole value that holds.
        assert!(text.contains("; 11 holds; larger saves)"), "{text}");
        assert!(!text.contains("10.5"), "{text}");
    }

    /// The knife edge of issue 26: at 29 threads the SLO broke in 458 of 930 runs, at 28 in
    /// 6 of 6, at 30 in none of 5.
    #[test]
    fn a_knife_edge_says_the_share_at_the_value_and_its_neighbours() {
        let point = |value: f64, reps: u32, outages: u32| Try {
            value,
            reps,
            outages,
            probability: f64::from(outages) / f64::from(reps),
        };
        let cp = CrashPoint {
            parameter: "tier.db.threads".into(),
            direction: "larger keeps the SLO".into(),
            crash_point: Some(29.0),
            ci95: Some([28.0, 30.0]),
            p10: None,
            p90: None,
            method: Method::KnifeEdge,
            confidence: 0.95,
            logistic: None,
            runs: 941,
            points: vec![point(28.0, 6, 6), point(29.0, 930, 458), point(30.0, 5, 0)],
            tries: vec![],
            seed: 1,
            seeds: "common".into(),
            max_runs_reached: false,
            budget_reached: false,
            runs_simulated: 941,
            runs_from_journal: 0,
            runs_unused: 0,
            criterion: crate::metrics::slo::Criterion::Slo,
        };
        let text = answer(&cp);
        assert!(
            text.starts_with(
                "SLO-breaking point of tier.db.threads: 29, a knife edge: at 29, 49% ± 3% of \
                 runs have an SLO breach (458 of 930, 95% interval); 30 holds (SLO breaches in \
                 0 of 5 runs), 28 fails (6 of 6); larger keeps the SLO"
            ),
            "{text}"
        );
        let k = cp.knife_edge().unwrap();
        assert_eq!((k.fails, k.holds), (28.0, 30.0));
        let (p, half) = k.probability(0.95);
        assert!((p - 458.0 / 930.0).abs() < 1e-12);
        // 1.96 x sqrt(p (1 - p) / 930) = 0.0321.
        assert!((half - 0.0321).abs() < 2e-4, "{half}");
        let sentence = crate::report::crashpoint::sentence(&cp, "slo.broken");
        assert!(
            sentence.starts_with("SLO-breaking point at 29 db threads, a knife edge: 49% ± 3%"),
            "{sentence}"
        );
    }
}
