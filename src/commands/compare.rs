//! `surge compare`: load the baseline and its variants (`experiment::variant`), run them on the
//! same seeds (`experiment::compare`), write `compare.csv`, `compare.json`, `compare.png` and
//! `compare.svg`, and print a table ranked by downtime that says what each column measures.
//! Every finished run is journaled (`compare_journal`) as it ends, so Ctrl-C, a termination
//! signal (`interrupt`) or a kill loses none, and `--resume` runs only the others.

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::{Arc, Mutex};

use super::compare_journal;
use super::run::{say, say_verdict};
use super::{human_count, human_duration, out_dir};
use crate::cli::CompareArgs;
use crate::error::BadInput;
use crate::experiment::compare::{
    Comparison, Done, KeyStat, VariantResult, run_all, summarise_all,
};
use crate::experiment::sweep::Interrupted;
use crate::experiment::variant::{self, Variant};
use crate::experiment::{guard, shard};
use crate::fmt::format_number;
use crate::metrics::table::{self, Column, Run};
use crate::model::Model;
use crate::output::{chart, points};
use crate::store::journal::{self, Journal};

pub fn compare(args: &CompareArgs) -> Result<()> {
    let baseline = crate::model::load(Some(&args.model), &args.runs.sets)?;
    let variants: Vec<Variant> = if args.variants.is_empty() {
        let text = std::fs::read_to_string(&args.model)?;
        variant::declared(&text, &args.model.display().to_string())?
    } else {
        args.variants
            .iter()
            .map(|v| variant::parse_cli(v))
            .collect::<Result<_, _>>()?
    };
    if variants.is_empty() {
        anyhow::bail!(BadInput(format!(
            "{}: nothing to compare: the model has no [[variant]] and no --variant was given",
            args.model.display()
        )));
    }
    let all = variant::load_all(Some(&args.model), &args.runs.sets, &variants)?;
    // A check applies to one variant's means (variants.NAME.KEY) or to every variant's.
    let names: Vec<String> = (all.iter()).map(|(v, _)| v.name.clone()).collect();
    let asserts = crate::report::compare::prepare_checks(
        &args.asserts,
        &names,
        &crate::report::compare::metrics_template(all.iter().map(|(_, m)| m)),
    )?;
    name_the_variants_lacking(&asserts, &all)?;
    for (_, m) in &all {
        guard::check_size(
            m,
            u64::from(args.reps),
            &guard::Limits::default(),
            args.runs.allow_huge,
        )?;
    }
    let seed = args.runs.seed.unwrap_or(baseline.scenario.seed);
    let dir = out_dir(&args.runs.out, &baseline, "compare");
    let _lock = crate::store::lock::lock(&dir)?;
    let (jobs, _) = shard::jobs(args.runs.jobs, &|k| std::env::var(k).ok());

    let total = (all.len() as u64) * u64::from(args.reps);
    // What an earlier, interrupted try finished (`--resume`), and the journal of this one.
    let journal_path = dir.join("compare.partial.csv");
    let marker = compare_journal::marker(&all, args.reps, seed);
    let (kept, done) = match args
        .resume
        .then(|| compare_journal::read(&journal_path, &marker, &all, args.reps, seed))
        .transpose()?
        .flatten()
    {
        Some(k) => k,
        None => {
            if args.resume && !args.quiet {
                eprintln!(
                    "no journal {} to resume from: running every run",
                    journal_path.display()
                );
            }
            let empty = journal::Contents {
                marker: marker.clone(),
                header: None,
                rows: Vec::new(),
            };
            (empty, Done::new())
        }
    };
    if args.resume && !args.quiet && !done.is_empty() {
        eprintln!(
            "resuming: {} of {total} runs already done, running the other {}",
            done.len(),
            total - done.len() as u64
        );
    }
    let from_journal = done.len() as u64;
    let journal = Arc::new(Mutex::new(Journal::start(&journal_path, &marker, &kept)?));
    crate::app::interrupt::watch(
        format!(
            "the finished runs are kept in {}: run the same command with --resume to continue",
            journal_path.display()
        ),
        Some(journal.clone()),
    )?;
    let header: Vec<String> = compare_journal::HEADER
        .iter()
        .map(|h| h.to_string())
        .collect();
    let target = if args.quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total - from_journal), target);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} runs, ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("compare {} variants", all.len()));
    let wall = std::time::Instant::now();
    let outs = run_all(
        &all,
        seed,
        args.reps,
        jobs,
        done,
        crate::app::interrupt::stop_flag(),
        &|v, r, out| {
            let row = compare_journal::row(&all[v].0.name, r, out)?;
            journal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(&header, &row)?;
            bar.inc(1);
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    let Some(outs) = outs else {
        let kept = journal::read(&journal_path, "compare")?.map_or(0, |c| c.rows.len());
        bail!(Interrupted(format!(
            "interrupted with {kept} of {total} runs done; they are kept in {}: run the same \
             command with --resume to do only the other {}",
            journal_path.display(),
            total - kept as u64
        )));
    };
    let cmp = summarise_all(&all, seed, args.reps, &args.runs.sets, outs);
    let wall_s = wall.elapsed().as_secs_f64();

    crate::store::atomic::write_atomic(&dir.join("compare.csv"), &csv(&cmp, &all)?)?;
    crate::store::atomic::write_json(&dir.join("compare.json"), &serde_json::to_value(&cmp)?)?;
    chart::draw_compare(
        &chart::CompareChart {
            comparison: &cmp,
            start_clock_s: baseline.scenario.start_clock_s,
            outage_below: baseline.slo.outage_below,
            window_s: baseline.slo.window_s,
        },
        &dir.join("compare.png"),
        &dir.join("compare.svg"),
    )?;
    let folder = crate::report::compare::CompareFolder::read(&dir)?;
    let checks = crate::report::compare::evaluate_checks(
        &asserts,
        &crate::report::compare::variant_docs(&folder.doc),
    );
    let mut page = crate::report::compare::build(&folder);
    page.checks = checks.clone();
    crate::report::write(&dir, &page)?;
    journal::remove(&journal_path)?;
    if !args.quiet {
        let cpu: f64 = cmp
            .variants
            .iter()
            .flat_map(|v| &v.replications)
            .map(|s| s.wall_s)
            .sum();
        say(&format!(
            "{}: {} variants x {} replications on the same seeds, {} runs in {} ({} of simulation on {jobs} thread{})\n{}outputs: {}/ (compare.csv, compare.json, compare.png, compare.svg, report.html, report.md)\n",
            cmp.model,
            all.len(),
            args.reps,
            total,
            human_duration(wall_s),
            human_duration(cpu),
            if jobs == 1 { "" } else { "s" },
            table_text(&cmp, &baseline),
            dir.display()
        ))?;
    }
    say_verdict(&checks)
}

/// A check on every variant whose key only some variants have (a policy's counter) names the
/// variants that lack it, rather than failing on them after the runs.
fn name_the_variants_lacking(
    checks: &[crate::report::compare::VariantCheck],
    all: &[(Variant, Model)],
) -> Result<()> {
    use crate::report::assert;
    let templates: Vec<serde_json::Value> = all
        .iter()
        .map(|(_, m)| assert::summary_template(m))
        .collect();
    for c in checks.iter().filter(|c| c.variant.is_none()) {
        let one = std::slice::from_ref(&c.check);
        let lacking: Vec<&str> = all
            .iter()
            .zip(&templates)
            .filter(|(_, t)| assert::check_keys(one, t, "").is_err())
            .map(|((v, _), _)| v.name.as_str())
            .collect();
        if !lacking.is_empty() && lacking.len() < all.len() {
            let having: Vec<&str> = all
                .iter()
                .map(|(v, _)| v.name.as_str())
                .filter(|n| !lacking.contains(n))
                .collect();
            anyhow::bail!(BadInput(format!(
                "--assert {:?}: a check runs on every variant, but the key {:?} is not in the \
                 summary of {} (only of {}); check a key every variant has, or one variant's \
                 with variants.NAME.KEY",
                c.check.expression,
                c.check.key,
                quoted(&lacking),
                quoted(&having)
            )));
        }
    }
    Ok(())
}

/// "\"a\", \"b\"".
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `compare.csv`: one row per variant and replication: `variant`, `rep`, `seed`, then the
/// metrics of `points.csv` (the baseline's columns in its order, then those only other variants
/// have: `Comparison::columns`).
fn csv(cmp: &Comparison, all: &[(Variant, Model)]) -> Result<Vec<u8>> {
    let columns = cmp.columns();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["variant".to_string(), "rep".into(), "seed".into()];
    header.extend(columns.iter().map(Column::key));
    w.write_record(&header)?;
    for (v, _) in cmp.variants.iter().zip(all) {
        for (r, (s, down)) in v.replications.iter().zip(&v.down_at_end).enumerate() {
            let run = Run {
                summary: s,
                down_at_end: *down,
            };
            let rec = points::Record::of_run(0, &[], r as u32, s.seed, &run, &columns);
            let mut row = vec![
                crate::output::csv_text(&v.name).into_owned(),
                r.to_string(),
                rec.seed,
            ];
            row.extend(rec.cells);
            w.write_record(&row)?;
        }
    }
    Ok(w.into_inner()?)
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
        "Ranked by {}. Means per replication with 95% intervals over {} replications; every variant ran the same seeds.\n\
         down: replications with an outage by requests (the attempts' success rate below {} over a {} window)\n\
         downtime: time down per replication; ≥: some replication was still down at the end, so the mean is a lower bound\n\
         vs baseline: paired difference, replication by replication, with its 95% paired t interval, over the replications where both have a complete value ((k of n): the others left out; n/a: none)\n\
         recovery: from the first crash to the SLO holding for {}, over the replications that recovered\n\
         {users_words}calls lost: a request whose every attempt failed, a page whose refreshes all failed, or a user the waiting room turned away before its page; requests lost: attempts rejected, timed out or failed (each retry and refresh is one)\n\
         success: the share of the calls that ended that succeeded, and of the requests (attempts); p95: latency of successful requests\n\
         inst-h: instances x hours each tier had up over the measured period (vs baseline in brackets); cost: inst-h x price summed over the tiers with a price, where the model sets one\n",
        cmp.ranked_by_words(),
        cmp.reps,
        format_number(100.0 * slo.outage_below) + "%",
        human_duration(slo.window_s),
        human_duration(slo.stable_s),
    ));
    s
}
