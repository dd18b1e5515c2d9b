//! `surge crashpoint`: where the outage probability (with `--criterion slo`, the probability of
//! breaking the SLO) crosses 0.5 as one parameter varies, with its interval (a logistic fit's
//! confidence interval, or the bracket between all-or-nothing values) and the 10% and 90%
//! points; `crashpoint.json` and a chart. On a terminal each run is printed as it ends. The
//! search and its files are `app::crashpoint`'s; this file resolves the flags and prints the
//! answer.

use anyhow::Result;

use crate::app::crashpoint::{CrashpointOutcome, CrashpointSettings};
use crate::cli::CrashpointArgs;
use crate::experiment::crashpoint::{self, CrashPoint, Method};
use crate::experiment::search::ErrorSplit;
use crate::fmt::format_number;
use crate::output::stdout::outln;

/// The search `args` ask for.
pub(crate) fn settings(args: &CrashpointArgs) -> CrashpointSettings {
    CrashpointSettings {
        search: super::search_settings(&args.search),
        criterion: args.failure.criterion,
        confidence: args.confidence,
        vary: args.vary.clone(),
        reps: args.reps,
        tolerance: args.tolerance,
        max_runs: args.max_runs,
        seeds: args.seeds,
    }
}

pub fn crashpoint(args: &CrashpointArgs) -> Result<()> {
    let s = settings(args);
    print(&s, &crate::app::crashpoint::crashpoint(&s)?)
}

/// The answer, the 10% and 90% points, why the search stopped short, and the outputs (nothing
/// when quiet).
pub(crate) fn print(s: &CrashpointSettings, outcome: &CrashpointOutcome) -> Result<()> {
    if s.search.quiet {
        return Ok(());
    }
    let cp = &outcome.cp;
    let words = crashpoint::words(s.criterion);
    outln!("{}", answer(cp, &outcome.split));
    if let (Some(p10), Some(p90)) = (cp.p10, cp.p90) {
        outln!("{} 10% at {p10:.3}, 90% at {p90:.3}", words.probability);
    }
    if cp.budget_reached {
        outln!(
            "stopped at --budget {}: no run started after it{} (give more time, or widen \
             --tolerance)",
            crate::fmt::human_duration(s.search.budget.unwrap_or(0.0)),
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
            s.max_runs
        );
    }
    outln!(
        "each run answered yes or no only: it stopped at its first {}, or once the hold rule \
         decided it holds (the surge passed, the SLO met for slo.stable since, nothing pending; \
         docs/guide.md); no downtime, recovery or totals were measured (`surge run --set {}=...` \
         measures them)",
        words.failure,
        cp.parameter
    );
    outln!(
        "outputs: {}/ (crashpoint.json, crashpoint.png, crashpoint.svg, report.html, report.md)",
        outcome.dir.display()
    );
    Ok(())
}

/// The answer, in one line: the crash point (or SLO-breaking point) with its interval and how
/// it was found.
fn answer(cp: &CrashPoint, split: &ErrorSplit) -> String {
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
    use crate::experiment::crashpoint::Try;

    /// Whole values are written without decimals: the built-in night's answer as recorded in
    /// docs/ (a bracket between 10 and 11 web instances).
    #[test]
    fn the_answer_writes_counts_as_whole_numbers() {
        let cp: CrashPoint =
            serde_json::from_str(include_str!("../../docs/ircc-instances-crashpoint.json"))
                .unwrap();
        let text = answer(&cp, &ErrorSplit::of(cp.confidence));
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
        let text = answer(&cp, &ErrorSplit::of(cp.confidence));
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
