//! `surge compare`: the baseline and its variants run on the same seeds, their files written
//! (`app::compare`, which journals every finished run so that `--resume` runs only the others);
//! here the flags are resolved and a table ranked by downtime is printed that says what each
//! column measures, then the checks' verdict.

use anyhow::Result;

use super::run::{say, say_verdict};
use super::{human_count, human_duration};
use crate::app::compare::{CompareOutcome, CompareSettings};
use crate::cli::{CompareArgs, RepsFlag};
use crate::experiment::compare::Reps;
use crate::experiment::compare::{Comparison, KeyStat, VariantResult};
use crate::fmt::format_number;
use crate::metrics::table;
use crate::model::Model;

/// The comparison `args` ask for.
pub(crate) fn settings(args: &CompareArgs) -> CompareSettings {
    CompareSettings {
        source: crate::app::ModelSource::new(Some(&args.model), &args.runs.overrides.list()),
        variants: args.variants.clone(),
        reps: match args.reps {
            RepsFlag::Auto => Reps::Auto { max: args.max_reps },
            RepsFlag::Count(n) => Reps::Fixed(n),
        },
        confidence: args.confidence,
        deadline: None,
        runs: (&args.runs).into(),
        asserts: args.asserts.clone(),
        resume: args.resume,
        quiet: args.quiet,
    }
}

pub fn compare(args: &CompareArgs) -> Result<()> {
    let s = settings(args);
    print(&s, &crate::app::compare::compare(&s)?)
}

/// The summary and the table (unless quiet), then the checks' verdict: an error when any failed.
pub(crate) fn print(s: &CompareSettings, outcome: &CompareOutcome) -> Result<()> {
    if !s.quiet {
        say(&summary_text(outcome))?;
    }
    say_verdict(&outcome.checks)
}

/// How many replications each variant ran, in words.
fn reps_words(cmp: &Comparison) -> String {
    if cmp.auto {
        format!(
            "2 to {} replications (--reps auto: more only to the variants not yet told from the \
             baseline)",
            cmp.max_reps
        )
    } else {
        format!("x {} replications", cmp.reps)
    }
}

/// What was run, in how long, the table and where the outputs are.
fn summary_text(o: &CompareOutcome) -> String {
    let cmp = &o.comparison;
    let cpu: f64 = cmp
        .variants
        .iter()
        .flat_map(|v| &v.replications)
        .map(|s| s.wall_s)
        .sum();
    format!(
        "{}: {} variants {} on the same seeds, {} runs in {} ({} of simulation on {} thread{})\n{}outputs: {}/ (compare.csv, compare.json, compare.png, compare.svg, report.html, report.md)\n",
        cmp.model,
        o.variants,
        reps_words(cmp),
        o.runs,
        human_duration(o.wall_s),
        human_duration(cpu),
        o.jobs,
        if o.jobs == 1 { "" } else { "s" },
        table_text(cmp, &o.baseline) + &held_text(cmp, &o.baseline),
        o.dir.display()
    )
}

/// Which replications the hold rule stopped early, and what that means for their figures
/// (empty when none was).
fn held_text(cmp: &Comparison, model: &Model) -> String {
    let each: Vec<String> = (cmp.variants.iter())
        .filter_map(|v| {
            let n = v.held.iter().filter(|&&h| h).count();
            let ran: Vec<f64> = (v.replications.iter().zip(&v.held))
                .filter(|&(_, &h)| h)
                .map(|(s, _)| s.sim_time_s)
                .collect();
            let (lo, hi) = ran
                .iter()
                .fold((f64::INFINITY, 0.0_f64), |(a, b), &x| (a.min(x), b.max(x)));
            let span = if lo == hi {
                human_duration(lo)
            } else {
                format!("{} to {}", human_duration(lo), human_duration(hi))
            };
            (n > 0).then(|| {
                format!(
                    "{} {} of {} (after {span})",
                    v.name,
                    n,
                    v.replications.len()
                )
            })
        })
        .collect();
    if each.is_empty() {
        return String::new();
    }
    format!(
        "held early (hold rule, --reps auto): {}. A replication stops once the surge has passed and the SLO has held for {} with every server up and nothing pending: by the rule no outage follows, so its outage, downtime and recovery are the whole night's; its lost, success, p95 and inst-h cover only the span it ran (compare.json: `held`, `shortened`)\n",
        each.join(", "),
        human_duration(model.slo.stable_s),
    )
}

fn duration(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        human_duration(x)
    }
}

fn signed(x: f64, fmt: &dyn Fn(f64) -> String) -> String {
    if x == 0.0 {
        "0".into()
    } else if x < 0.0 {
        format!("-{}", fmt(-x))
    } else {
        format!("+{}", fmt(x))
    }
}

/// "mean ± half" of a key metric, "≥" before a lower bound, "-" without a value.
fn cell(k: Option<&KeyStat>, fmt: &dyn Fn(f64) -> String) -> String {
    let Some(e) = k.and_then(|k| k.estimate) else {
        return "-".into();
    };
    let at_least = if k.is_some_and(|k| k.lower_bound) {
        "≥ "
    } else {
        ""
    };
    // An interval that rounds to nothing in the cell's unit ("± 0 ms") is left out.
    match e.ci95 {
        Some(h) if h > 0.0 && fmt(h) != fmt(0.0) => {
            format!("{at_least}{} ± {}", fmt(e.mean), fmt(h))
        }
        _ => format!("{at_least}{}", fmt(e.mean)),
    }
}

/// The paired difference from the baseline: "-2 h 10 min ± 15 min", with the pairs it used.
fn difference(v: &VariantResult, key: &str, fmt: &dyn Fn(f64) -> String) -> String {
    let Some(d) = v.stat(key).and_then(|k| k.difference.as_ref()) else {
        return "(baseline)".into();
    };
    let Some(e) = d.estimate else {
        return "n/a".into();
    };
    let mut s = signed(e.mean, fmt);
    if let Some(h) = e.ci95.filter(|h| *h > 0.0 && fmt(*h) != fmt(0.0)) {
        s.push_str(&format!(" ± {}", fmt(h)));
    }
    if d.left_out > 0 {
        s.push_str(&format!(" ({} of {})", d.pairs, d.pairs + d.left_out));
    }
    s
}

/// A variant's decision against the baseline: "better (2)", "not told apart (10)".
fn verdict(v: &VariantResult) -> String {
    use crate::experiment::compare::sequential::{Ended, Verdict};
    let Some(d) = &v.decision else {
        return format!("baseline ({})", v.replications.len());
    };
    let what = match d.verdict {
        Verdict::Better => "better",
        Verdict::Worse => "worse",
        Verdict::NotToldApart => "not told apart",
    };
    let budget = if d.ended == Ended::Budget {
        ", budget"
    } else {
        ""
    };
    format!("{what} ({}{budget})", d.reps)
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The table ranked by downtime, and what each column measures.
fn table_text(cmp: &Comparison, model: &Model) -> String {
    let slo = &model.slo;
    // What capacity costs: each tier's instance-hours, and the cost where a tier has a price.
    let spend: Vec<(String, String)> = cmp.variants[0]
        .key
        .iter()
        .filter(|k| k.unit == "instance-hours" || k.key == table::COST)
        .map(|k| match k.key.as_str() {
            table::COST => (k.key.clone(), "cost".to_string()),
            _ => (k.key.clone(), k.label.replace("instance-hours", "inst-h")),
        })
        .collect();
    let mut rows = vec![vec![
        "rank".to_string(),
        "variant".into(),
        "vs baseline (reps)".into(),
        "down".into(),
        "downtime".into(),
        "downtime vs baseline".into(),
        "recovery".into(),
        "recovery vs baseline".into(),
    ]];
    let users = cmp
        .variants
        .iter()
        .any(|v| v.stat(table::USERS_LOST).is_some());
    if users {
        rows[0].push("users lost".into());
    }
    rows[0].extend([
        "calls lost".to_string(),
        "requests lost".into(),
        "success: calls".into(),
        "requests".into(),
        "p95".into(),
    ]);
    rows[0].extend(spend.iter().map(|(_, label)| label.clone()));
    let users_words = if users {
        "users lost: sessions given up after errors, turned away by the waiting room or out of patience in it; "
    } else {
        ""
    };
    for (rank, &i) in cmp.ranking().iter().enumerate() {
        let v = &cmp.variants[i];
        let o = &v.outage;
        let recovery = if o.with_outage == 0 {
            "no outage".to_string()
        } else {
            let c = cell(v.stat(table::RECOVERY_TIME), &duration);
            let stuck = v.stat(table::RECOVERY_TIME).map_or(0, |k| k.censored);
            if stuck > 0 {
                format!("{c} ({stuck} not recovered)")
            } else {
                c
            }
        };
        let mut row = vec![
            (rank + 1).to_string(),
            v.name.clone(),
            verdict(v),
            format!("{} of {}", o.with_outage, o.runs),
            cell(v.stat(table::DOWNTIME), &duration),
            difference(v, table::DOWNTIME, &duration),
            recovery,
            difference(v, table::RECOVERY_TIME, &duration),
        ];
        if users {
            row.push(cell(v.stat(table::USERS_LOST), &human_count));
        }
        row.extend([
            cell(v.stat(table::CALLS_LOST), &human_count),
            cell(v.stat(table::REQUESTS_LOST), &human_count),
            cell(v.stat(table::CALLS_SUCCESS_RATE), &pct),
            cell(v.stat("slo.success_rate"), &pct),
            cell(v.stat(table::LATENCY_P95), &human_duration),
        ]);
        row.extend(spend.iter().map(|(key, _)| {
            let fmt = |x: f64| match key.as_str() {
                table::COST => format!("{x:.2}"),
                _ => format!("{x:.1}"),
            };
            let c = cell(v.stat(key), &fmt);
            match v.stat(key).and_then(|k| k.difference.as_ref()) {
                Some(_) => format!("{c} ({})", difference(v, key, &fmt)),
                None => c,
            }
        }));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(x, w)| format!("{x:<w$}"))
            .collect();
        s.push_str(line.join("  ").trim_end());
        s.push('\n');
    }
    s.push_str(&format!(
        "Ranked by {}. Means per replication with 95% intervals over each variant's replications; every variant ran the baseline's seeds.\n\
         vs baseline (reps): told apart from the baseline on the outage share, then the downtime, at {}% for the whole comparison (paired t intervals, Bonferroni over variants and rounds: docs/guide.md), and the replications it rests on\n\
         down: replications with an outage by requests (the attempts' success rate below {} over a {} window)\n\
         downtime: time down per replication; ≥: some replication was still down at the end, so the mean is a lower bound\n\
         vs baseline: paired difference, replication by replication, with its 95% paired t interval, over the replications where both have a complete value ((k of n): the others left out; n/a: none)\n\
         recovery: from the first crash to the SLO holding for {}, over the replications that recovered\n\
         {users_words}calls lost: a request whose every attempt failed, a page whose refreshes all failed, or a user the waiting room turned away before its page; requests lost: attempts rejected, timed out or failed (each retry and refresh is one)\n\
         success: the share of the calls that ended that succeeded, and of the requests (attempts); p95: latency of successful requests\n\
         inst-h: instances x hours each tier had up over the measured period (vs baseline in brackets); cost: inst-h x price summed over the tiers with a price, where the model sets one\n",
        cmp.ranked_by_words(),
        format_number(100.0 * cmp.confidence),
        format_number(100.0 * slo.outage_below) + "%",
        human_duration(slo.window_s),
        human_duration(slo.stable_s),
    ));
    s
}
