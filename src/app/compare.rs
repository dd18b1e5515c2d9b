//! The comparison of `surge compare` (and of `surge report`): the baseline and its variants
//! (`experiment::variant`) run on the same seeds (`experiment::compare`). [`compare`] loads and
//! checks them, runs them (each finished run journaled as it ends, `journal`, so Ctrl-C, a
//! termination signal or a kill loses none, and `resume` runs only the others), writes
//! `compare.csv`, `compare.json`, `compare.png`, `compare.svg` and the folder's report, and
//! returns the comparison with its checks. A progress bar on stderr unless quiet.
//!
//! Not here: running and summarising (`experiment::compare`), the table and the verdict a command
//! prints (`commands::compare`), the flags (`cli`).

mod journal;

use anyhow::{Result, bail};
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};

use super::{ManyRuns, ModelSource, out_dir};
use crate::error::BadInput;
use crate::experiment::compare::{Comparison, Done, Ran, Reps, Rounds, summarise_all};
use crate::experiment::sweep::Interrupted;
use crate::experiment::variant::{self, Variant};
use crate::experiment::{guard, shard};
use crate::metrics::table::{Column, Run};
use crate::model::Model;
use crate::output::{chart, points};
use crate::report::assert::Outcome;
use crate::report::compare::{CompareFolder, VariantCheck};
use crate::store::journal as store_journal;

/// The most replications of a variant with `--reps auto` when none are asked for
/// (`surge compare --max-reps`).
pub(crate) const MAX_REPS: u32 = 10;

/// A comparison, resolved from the flags.
#[derive(Debug, Clone)]
pub(crate) struct CompareSettings {
    pub(crate) source: ModelSource,
    /// `NAME:K=V,...` variants instead of the model's own `[[variant]]` tables (empty: those).
    pub(crate) variants: Vec<String>,
    /// Replications of each variant, on the same seeds: a fixed count, or rounds until told
    /// apart from the baseline.
    pub(crate) reps: Reps,
    /// The confidence of the decisions (told apart or not), for the whole comparison.
    pub(crate) confidence: f64,
    /// When the comparison must be over (`surge report`'s budget): no round starts that the
    /// measured run times say would end after it (the first round always runs).
    pub(crate) deadline: Option<std::time::Instant>,
    pub(crate) runs: ManyRuns,
    /// Checks on the variants' metric means (`variants.NAME.KEY` or every variant's `KEY`).
    pub(crate) asserts: Vec<String>,
    /// Run only the runs the journal of an interrupted comparison does not hold.
    pub(crate) resume: bool,
    /// No progress bar and no notes about resuming on stderr.
    pub(crate) quiet: bool,
}

/// A finished comparison and where it is written.
pub(crate) struct CompareOutcome {
    /// The output folder (`compare.csv`, `compare.json`, the chart, the report).
    pub(crate) dir: PathBuf,
    /// The `--assert` checks, evaluated.
    pub(crate) checks: Vec<Outcome>,
    /// The comparison, as computed.
    pub(crate) comparison: Comparison,
    /// The folder as read back, what its report (and a report's section) is built from.
    pub(crate) folder: CompareFolder,
    /// The model as written (with the settings' overrides): the baseline.
    pub(crate) baseline: Model,
    /// The variants compared, the baseline included.
    pub(crate) variants: usize,
    /// Runs in all (each variant's replications), those read back from the journal included.
    pub(crate) runs: u64,
    /// Parallel runs, and the wall-clock seconds the runs took.
    pub(crate) jobs: usize,
    pub(crate) wall_s: f64,
}

/// Compare the variants of `s` (see the module's comment).
pub(crate) fn compare(s: &CompareSettings) -> Result<CompareOutcome> {
    let Loaded {
        baseline,
        all,
        asserts,
    } = load(s)?;
    let seed = s.runs.seed.unwrap_or(baseline.scenario.seed);
    let dir = out_dir(&s.runs.out, &baseline, "compare");
    let _lock = crate::store::lock::lock(&dir)?;
    let (jobs, _) = shard::jobs(s.runs.jobs, &|k| std::env::var(k).ok(), &|n| {
        s.runs.notes.note(n)
    });
    let wall = std::time::Instant::now();
    let rounds = Rounds {
        variants: &all,
        seed,
        reps: s.reps,
        confidence: s.confidence,
        hold: matches!(s.reps, Reps::Auto { .. }),
    };
    let ran = run(s, &rounds, jobs, &dir)?;
    let runs = ran.outs.iter().map(|o| o.len() as u64).sum();
    let cmp = summarise_all(&rounds, &s.source.sets, ran);
    let wall_s = wall.elapsed().as_secs_f64();

    crate::store::atomic::write_atomic(&dir.join("compare.csv"), &csv(&cmp, &all)?)?;
    crate::store::atomic::write_json(&dir.join("compare.json"), &cmp)?;
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
    let folder = CompareFolder::read(&dir)?;
    let checks = crate::report::compare::evaluate_checks(
        &asserts,
        &crate::report::compare::variant_docs(&folder.doc),
    );
    crate::report::assert::write_checks(&dir, &checks)?;
    let mut page = crate::report::compare::build(&folder);
    page.checks = checks.clone();
    crate::report::write(&dir, &page)?;
    store_journal::remove(&dir.join("compare.partial.csv"))?;
    Ok(CompareOutcome {
        dir,
        checks,
        comparison: cmp,
        folder,
        baseline,
        variants: all.len(),
        runs,
        jobs,
        wall_s,
    })
}

/// What a comparison runs, loaded and checked.
struct Loaded {
    /// The model as written (with the settings' overrides).
    baseline: Model,
    /// Every variant's model, the baseline first.
    all: Vec<(Variant, Model)>,
    /// The `--assert` checks, parsed.
    asserts: Vec<VariantCheck>,
}

/// The baseline, every variant's model and the checks, each checked and each model within the
/// guard rail of `surge run`.
fn load(s: &CompareSettings) -> Result<Loaded> {
    let baseline = s.source.load()?;
    let variants: Vec<Variant> = if s.variants.is_empty() {
        variant::declared(&s.source.written_text()?, &s.source.file_name())?
    } else {
        (s.variants.iter())
            .map(|v| variant::parse_cli(v))
            .collect::<Result<_, _>>()?
    };
    if variants.is_empty() {
        bail!(BadInput(format!(
            "{}: nothing to compare: the model has no [[variant]] and no --variant was given",
            s.source.file_name()
        )));
    }
    let all = variant::load_all(s.source.file.as_deref(), &s.source.sets, &variants)?;
    // A check applies to one variant's means (variants.NAME.KEY) or to every variant's.
    let names: Vec<String> = (all.iter()).map(|(v, _)| v.name.clone()).collect();
    let asserts = crate::report::compare::prepare_checks(
        &s.asserts,
        &names,
        &crate::report::compare::metrics_template(all.iter().map(|(_, m)| m)),
    )?;
    name_the_variants_lacking(&asserts, &all)?;
    for (_, m) in &all {
        guard::check_size(
            m,
            // With auto, the first round: what surely runs (later rounds only where needed).
            u64::from(s.reps.first()),
            &guard::Limits::default(),
            s.runs.allow_huge,
        )?;
    }
    Ok(Loaded {
        baseline,
        all,
        asserts,
    })
}

/// What an earlier, interrupted try finished (with `resume`), as the journal's rows to keep and
/// the runs done; nothing without `resume` or a journal.
fn resumed(
    s: &CompareSettings,
    all: &[(Variant, Model)],
    seed: u64,
    path: &Path,
    marker: &str,
) -> Result<(store_journal::Contents, Done)> {
    let found = (s.resume)
        .then(|| journal::read(path, marker, all, s.reps.most(), seed))
        .transpose()?
        .flatten();
    if let Some(k) = found {
        return Ok(k);
    }
    if s.resume && !s.quiet {
        s.runs.notes.note(&format!(
            "no journal {} to resume from: running every run",
            path.display()
        ));
    }
    let empty = store_journal::Contents {
        marker: marker.to_string(),
        header: None,
        rows: Vec::new(),
    };
    Ok((empty, Done::new()))
}

/// Every (variant, replication) run of the rounds not in the journal, each journaled as it
/// ends, with a progress bar unless quiet: the runs, or `Interrupted`.
fn run(s: &CompareSettings, rounds: &Rounds, jobs: usize, dir: &Path) -> Result<Ran> {
    let all = rounds.variants;
    let most = (all.len() as u64) * u64::from(s.reps.most());
    let journal_path = dir.join("compare.partial.csv");
    let marker = journal::marker(all, s.reps, rounds.seed);
    let (kept, done) = resumed(s, all, rounds.seed, &journal_path, &marker)?;
    // With --reps N every run is known in advance; with auto, at most --max-reps of each.
    let of = |n: usize| match s.reps {
        Reps::Fixed(_) => format!("{n} of {most}"),
        Reps::Auto { .. } => format!("{n} (of at most {most})"),
    };
    if s.resume && !s.quiet && !done.is_empty() {
        s.runs.notes.note(&format!(
            "resuming: {} runs already done, running the others",
            of(done.len())
        ));
    }
    let writer = super::progress::journal(&journal_path, &marker, &kept)?;
    let header: Vec<String> = journal::HEADER.iter().map(|h| h.to_string()).collect();
    let bar = progress_bar(s.quiet, 0, all.len());
    let round = |tasks: &[(usize, u32)], done: &Done, first: bool| {
        let fits = first
            || s.deadline.is_none_or(|d| {
                let need = round_s(tasks, done, jobs);
                std::time::Instant::now() + std::time::Duration::from_secs_f64(need) <= d
            });
        if fits {
            bar.inc_length(tasks.len() as u64);
        }
        fits
    };
    let ran = rounds.run(
        jobs,
        done,
        crate::app::interrupt::stop_flag(),
        &|v, r, out| {
            let row = journal::row(&all[v].0.name, r, out)?;
            writer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(&header, &row)?;
            bar.inc(1);
            Ok(())
        },
        &round,
    )?;
    bar.finish_and_clear();
    let Some(ran) = ran else {
        let kept = store_journal::read(&journal_path, "compare")?.map_or(0, |c| c.rows.len());
        bail!(Interrupted(format!(
            "interrupted with {} runs done; they are kept in {}: run the same command with \
             --resume to do only the others",
            of(kept),
            journal_path.display(),
        )));
    };
    Ok(ran)
}

/// The seconds a round of `tasks` would take on `jobs` threads, each run as long as the longest
/// one its variant ran so far (any variant's longest for a variant not yet run), the longest
/// given first to the thread free soonest.
fn round_s(tasks: &[(usize, u32)], done: &Done, jobs: usize) -> f64 {
    let longest = |v: Option<usize>| {
        (done.iter())
            .filter(|((w, _), _)| v.is_none_or(|v| v == *w))
            .map(|(_, o)| o.summary.wall_s)
            .fold(0.0, f64::max)
    };
    let mut each: Vec<f64> = (tasks.iter())
        .map(|&(v, _)| match longest(Some(v)) {
            0.0 => longest(None),
            s => s,
        })
        .collect();
    each.sort_by(|a, b| b.total_cmp(a));
    let mut threads = vec![0.0_f64; jobs.max(1)];
    for s in each {
        let free = (threads.iter_mut()).min_by(|a, b| a.total_cmp(b));
        if let Some(t) = free {
            *t += s;
        }
    }
    threads.into_iter().fold(0.0, f64::max)
}

/// The bar of `runs` runs of `variants` variants on stderr (hidden when quiet).
fn progress_bar(quiet: bool, runs: u64, variants: usize) -> ProgressBar {
    let bar = super::progress::bar(runs, quiet, "{msg} [{bar:30}] {pos}/{len} runs, ETA {eta}");
    bar.set_message(format!("compare {variants} variants"));
    bar
}

/// A check on every variant whose key only some variants have (a policy's counter) names the
/// variants that lack it, rather than failing on them after the runs.
fn name_the_variants_lacking(checks: &[VariantCheck], all: &[(Variant, Model)]) -> Result<()> {
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
            bail!(BadInput(format!(
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
/// have: `Comparison::columns`), then the variant's decision against the baseline
/// (`vs_baseline`: better, worse, not_told_apart; baseline) and the replications it rests on
/// (`variant_reps`).
fn csv(cmp: &Comparison, all: &[(Variant, Model)]) -> Result<Vec<u8>> {
    let columns = cmp.columns();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["variant".to_string(), "rep".into(), "seed".into()];
    header.extend(columns.iter().map(Column::key));
    header.extend(["vs_baseline".to_string(), "variant_reps".into()]);
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
            row.push(match &v.decision {
                Some(d) => serde_json::to_value(d.verdict)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                None => "baseline".into(),
            });
            row.push(v.replications.len().to_string());
            w.write_record(&row)?;
        }
    }
    Ok(w.into_inner()?)
}
