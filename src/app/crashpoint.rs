//! The crash-point search of `surge crashpoint` (and of `surge report`): where the outage
//! probability (with the SLO criterion, the probability of breaking the SLO) crosses 0.5 as one
//! parameter varies. [`crashpoint`] checks the settings and the model, runs the search
//! (journaled, resumable, within a budget), and writes `crashpoint.json`, the chart and the
//! folder's report; it returns the result. Each run is a line on stderr as it ends, unless quiet.
//!
//! Not here: the search itself (`experiment::crashpoint`), the chart (`output::crashpoint`), the
//! answer lines a command prints (`commands::crashpoint`), the flags (`cli`).

use anyhow::Result;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use super::{SearchSettings, out_dir};
use crate::error::BadInput;
use crate::experiment::crashpoint::{self, CrashPoint, Search, Try};
use crate::experiment::sweep::Seeds;
use crate::experiment::vary::Range;
use crate::fmt::format_number;
use crate::metrics::slo::Criterion;
use crate::report::crashpoint::CrashFolder;

/// The search's defaults, written once in `experiment::crashpoint`.
pub(crate) use crate::experiment::crashpoint::{CONFIDENCE, MAX_RUNS, REPS, TOLERANCE};

/// A crash-point search, resolved from the flags.
#[derive(Debug, Clone)]
pub(crate) struct CrashpointSettings {
    /// The model, the failure criterion, the confidence of the interval, the budget, the
    /// journal, the runs and quiet: what every search shares.
    pub(crate) search: SearchSettings,
    /// When a run counts as failed.
    pub(crate) criterion: Criterion,
    /// Two-sided confidence of the interval.
    pub(crate) confidence: f64,
    /// The parameter and its range, `K=LO..HI` (whole values for counts).
    pub(crate) vary: String,
    /// Replications per value where one does not tell (see `experiment::crashpoint`).
    pub(crate) reps: u32,
    pub(crate) tolerance: f64,
    /// At most this many runs in all.
    pub(crate) max_runs: u32,
    pub(crate) seeds: Seeds,
}

/// What a search found and where it wrote it.
pub(crate) struct CrashpointOutcome {
    /// The output folder (`crashpoint.json`, the chart, the report).
    pub(crate) dir: PathBuf,
    /// The search's result, as written to `crashpoint.json`.
    pub(crate) cp: CrashPoint,
    /// The folder as read back, what its report (and a report's section) is built from.
    pub(crate) folder: CrashFolder,
    /// How the search split its error between the failing and the holding claims at its
    /// confidence (the terminal's bracket line says both errors).
    pub(crate) split: crate::experiment::search::ErrorSplit,
}

/// Search the crash point of `s` (see the module's comment).
pub(crate) fn crashpoint(settings: &CrashpointSettings) -> Result<CrashpointOutcome> {
    let started = Instant::now();
    let range = check(settings)?;
    let s = &settings.search;
    let base = s.source.load()?;
    settings.criterion.check(&base)?;
    // The guard rail of `surge run`, at both ends of the range (an absurd run is refused).
    for end in [range.lo, range.hi] {
        let m = (s.source).load_with(&[format!("{}={}", range.key, format_number(end))])?;
        crate::experiment::guard::check_run_size(&m, s.runs.allow_huge)?;
    }
    let dir = out_dir(&s.runs.out, &base, "crashpoint");
    let _lock = crate::store::lock::lock(&dir)?;
    let provenance = s.source.provenance()?;
    let cp = search(settings, &range, &dir, started)?;
    let doc = crate::store::json::Documented {
        doc: &cp,
        provenance: Some(provenance),
    };
    crate::store::atomic::write_json(&dir.join("crashpoint.json"), &doc)?;
    let words = crashpoint::words(settings.criterion);
    let title = format!(
        "{} — {} in {}",
        base.scenario.name, words.point, cp.parameter
    );
    crate::output::crashpoint::draw(&title, &cp, &dir)?;
    let model_text = s.source.text()?;
    let folder = CrashFolder::read(&dir)?;
    crate::report::write(
        &dir,
        &crate::report::crashpoint::build(&folder, Some(&model_text)),
    )?;
    let split = crate::experiment::search::ErrorSplit::of(cp.confidence);
    Ok(CrashpointOutcome {
        dir,
        cp,
        folder,
        split,
    })
}

/// The range of `--vary`, with the confidence and tolerance checked.
fn check(s: &CrashpointSettings) -> Result<Range> {
    // Numbers, durations (in seconds) or sizes (in bytes), read as `sweep --vary` reads them;
    // counts (instances, threads, queue places, attempts...) take whole values.
    let range = crate::experiment::vary::parse_range(&s.vary)?;
    let confidence = s.confidence;
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(BadInput(format!(
            "--confidence must be between 0 and 1, got {confidence}"
        ))
        .into());
    }
    if !(s.tolerance > 0.0 && s.tolerance.is_finite()) {
        return Err(BadInput(format!(
            "--tolerance must be a share above 0 (0.03 is 3% of the crash point), got {}",
            s.tolerance
        ))
        .into());
    }
    Ok(range)
}

/// The search itself, journaled in `dir`, each run a line on stderr unless quiet.
fn search(
    settings: &CrashpointSettings,
    range: &Range,
    dir: &std::path::Path,
    started: Instant,
) -> Result<CrashPoint> {
    let s = &settings.search;
    let key = range.key.as_str();
    let words = crashpoint::words(settings.criterion);
    let journal = dir.join("crashpoint.partial.csv");
    crate::app::interrupt::watch_journal(&journal)?;
    // Each run as it ends, on stderr (a terminal or a CI log alike; silent when quiet), and on
    // the bar a host embedding surge reads (hidden; `app::progress`).
    let count = AtomicU32::new(0);
    let bar = super::progress::bar(u64::from(settings.max_runs), true, "{pos}/{len} runs");
    let show = |t: &Try| {
        bar.inc(u64::from(t.reps));
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        if s.quiet {
            return;
        }
        s.runs.notes.note(&format!(
            "run {n}: {key} = {} -> {}{} ({} elapsed)",
            format_number(t.value),
            if t.outages > 0 { "" } else { "no " },
            words.failure,
            crate::fmt::human_duration(started.elapsed().as_secs_f64())
        ));
    };
    let cp = crashpoint::search(&Search {
        path: s.source.file.as_deref(),
        sets: &s.source.sets,
        key,
        lo: range.lo,
        hi: range.hi,
        integer: range.whole,
        reps: settings.reps,
        seed: s.runs.seed,
        tolerance: settings.tolerance,
        max_runs: settings.max_runs,
        jobs: crate::experiment::shard::jobs(s.runs.jobs, &|_| None, &|n| s.runs.notes.note(n)).0,
        confidence: settings.confidence,
        on_try: (!s.quiet || super::interrupt::embedded())
            .then_some(&show as &(dyn Fn(&Try) + Sync)),
        seeds: settings.seeds,
        journal: Some(&journal),
        resume: s.resume,
        criterion: settings.criterion,
        deadline: s.deadline(started),
        stop: Some(crate::app::interrupt::stop_flag()),
    })?;
    if !s.quiet && cp.runs_from_journal > 0 {
        s.runs.notes.note(&format!(
            "resumed: {} runs read back from the journal, {} simulated now",
            cp.runs_from_journal, cp.runs_simulated
        ));
    }
    Ok(cp)
}
