//! `app::run`: one model simulated once or over replications, and its output folder written
//! (`summary.json`, `timeseries.csv`, `timeline.png`, `timeline.svg`, `report.html`,
//! `report.md`), with the `--assert` checks evaluated on the summary (their outcomes kept in
//! `checks.json` for `surge plot`). It shows the model's
//! warnings and a progress bar on stderr unless `quiet`; it prints nothing on stdout.
//!
//! Not here: the flags (`cli::RunArgs`, resolved into [`RunSettings`] by `commands/run.rs`)
//! and the summary a planner reads on the terminal, nor the verdict of the checks
//! (`commands/run.rs`, from the [`RunOutcome`]).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

mod figures;

pub(crate) use figures::{
    CallFigures, MeanCi, RequestFigures, RunFigures, SloFigures, UserFigures,
};

use super::{ModelSource, out_dir};
use crate::experiment::runner::{Runner, Stop};
use crate::experiment::shard::jobs;
use crate::experiment::sweep::Interrupted;
use crate::experiment::{RunOutput, guard, mean_series, replicate, run_watched};
use crate::fmt::human_duration;
use crate::metrics::run_summary::RunSummary;
use crate::model::{self, Model};
use crate::output::{self, chart};
use crate::report::assert::Outcome;
use crate::report::simulated::Simulated;
use crate::store::json::Documented;

/// What `surge run` was asked: the model, the seed (the model's when `None`), the replications,
/// the parallel replications, the folder (`outputs/<model>/run/` when `None`), where to save the effective model, the
/// `--assert` checks, the guard rails, and whether to show progress and warnings.
#[derive(Debug, Clone)]
pub(crate) struct RunSettings {
    pub(crate) source: ModelSource,
    pub(crate) seed: Option<u64>,
    pub(crate) reps: u32,
    /// Parallel replications (`--jobs`; every core when `None`).
    pub(crate) jobs: Option<usize>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) save_model: Option<PathBuf>,
    pub(crate) asserts: Vec<String>,
    pub(crate) limits: guard::Limits,
    pub(crate) allow_huge: bool,
    pub(crate) quiet: bool,
    /// Where the model's warnings go (`app::notes`), unless `quiet`.
    pub(crate) notes: super::notes::Notes,
}

impl RunSettings {
    /// One quiet replication of `source` into `out`, with no check and the guard rails as they
    /// are: what the report and the tests run, the rest set with `..RunSettings::one(..)`.
    pub(crate) fn one(source: ModelSource, out: Option<PathBuf>) -> Self {
        RunSettings {
            source,
            seed: None,
            reps: 1,
            jobs: None,
            out,
            save_model: None,
            asserts: Vec::new(),
            limits: Default::default(),
            allow_huge: false,
            quiet: true,
            notes: Default::default(),
        }
    }
}

/// What a run gave: its folder, the model as run, the typed `summary.json`, the terminal's
/// figures over the replications, the checks, and every replication's output (summary and
/// time series) for the outage story.
pub(crate) struct RunOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) model: Model,
    pub(crate) summary: RunSummary,
    pub(crate) figures: RunFigures,
    pub(crate) checks: Vec<Outcome>,
    pub(crate) outs: Vec<RunOutput>,
}

/// Load and check the model, run it, write the folder and its report.
pub(crate) fn run(s: &RunSettings) -> Result<RunOutcome> {
    let model = s.source.load()?;
    if !s.quiet {
        for w in model::warnings::warnings(&model) {
            s.notes.note(&format!("warning: {w}"));
        }
    }
    guard::check_size(&model, u64::from(s.reps), &s.limits, s.allow_huge)?;
    let asserts = crate::report::assert::prepare(
        &s.asserts,
        &crate::report::assert::summary_template(&model),
        "summary.json",
    )?;
    let seed = s.seed.unwrap_or(model.scenario.seed);
    let dir = out_dir(&s.out, &model, "run");
    let _lock = crate::store::lock::lock(&dir)?;
    let provenance = s.source.provenance()?;
    let model_text = s.source.text()?;
    if let Some(file) = &s.save_model {
        crate::store::atomic::write_atomic(file, model_text.as_bytes())
            .with_context(|| format!("--save-model {}", file.display()))?;
    }
    if s.reps > 1 {
        // A first Ctrl-C lets the replications in progress finish, then the run ends.
        super::interrupt::watch(
            "nothing is written: run the same command again".into(),
            None,
        )?;
    }
    let outs = simulate(&model, seed, s, super::interrupt::stop_flag())?;
    let summaries: Vec<&crate::metrics::Summary> = outs.iter().map(|o| &o.summary).collect();
    let summary = RunSummary::of(&summaries);
    let document = serde_json::to_value(Documented {
        doc: &summary,
        provenance: Some(provenance),
    })?;
    crate::store::atomic::write_json(&dir.join("summary.json"), &document)?;
    write_timeline(&model, (seed, s.reps), &outs, &dir)?;
    let checks = crate::report::assert::evaluate_all(&asserts, &document);
    crate::report::assert::write_checks(&dir, &checks)?;
    let page = crate::report::run::build(
        &crate::report::run::RunFolder::read(&dir)?,
        Some(&model_text),
        checks.clone(),
    );
    crate::report::write(&dir, &page)?;
    let figures = RunFigures::of(&model, &outs);
    Ok(RunOutcome {
        dir,
        model,
        summary,
        figures,
        checks,
        outs,
    })
}

/// The replications on `--jobs` threads, with a bar over them on stderr (over simulated time
/// for one), unless `quiet`. Once `stop` is set (a signal, or the host's `api::request_stop`)
/// no new replication starts, and the run ends `Interrupted` with nothing written.
fn simulate(model: &Model, seed: u64, s: &RunSettings, stop: &Stop) -> Result<Vec<RunOutput>> {
    if s.reps == 1 {
        return Ok(vec![run_with_bar(model, seed, &s.limits, s.quiet)]);
    }
    let progress = super::progress::bar(
        u64::from(s.reps),
        s.quiet,
        "{msg} [{bar:30}] {pos}/{len} replications, ETA {eta}",
    );
    super::progress::observe(&progress, "replications");
    progress.set_message(model.scenario.name.clone());
    let tick = || progress.inc(1);
    let runner = Runner {
        limits: s.limits,
        progress: Some(&tick),
        ..Runner::new(jobs(s.jobs, &|_| None, &|n| s.notes.note(n)).0, stop)
    };
    let outs = replicate(model, seed, s.reps, &runner);
    progress.finish_and_clear();
    if outs.len() < s.reps as usize {
        bail!(Interrupted(format!(
            "interrupted with {} of {} replications done; nothing is written: run the same \
             command again",
            outs.len(),
            s.reps
        )));
    }
    Ok(outs)
}

/// `timeseries.csv` (the mean series over the replications) and the timeline chart, with
/// replication 0's outages shaded, titled with the seed and the replications asked for.
fn write_timeline(
    model: &Model,
    (seed, reps): (u64, u32),
    outs: &[RunOutput],
    dir: &Path,
) -> Result<()> {
    let series = mean_series(outs);
    let first = &outs[0].summary.outage;
    crate::store::atomic::write_atomic(
        &dir.join("timeseries.csv"),
        &output::timeseries_csv(&series)?,
    )?;
    let outages: Vec<(f64, f64)> = first.intervals.iter().map(|i| (i[0], i[1])).collect();
    let title = if reps > 1 {
        format!(
            "{} — mean of {reps} replications (outages of replication 0 shaded)",
            model.scenario.name
        )
    } else {
        format!("{} — seed {seed}", model.scenario.name)
    };
    let summaries: Vec<&crate::metrics::Summary> = outs.iter().map(|o| &o.summary).collect();
    let span = Simulated::of(model, &summaries);
    let title = if span.stopped > 0 {
        format!(
            "{title} — PARTIAL: {}",
            span.describe(model)
                .replace(" (stopped", ", stopped")
                .replace(')', "")
        )
    } else {
        title
    };
    let timeline = chart::Timeline {
        title: &title,
        series: &series,
        outages: &outages,
        crash_time_s: first.crash_time_s,
        recovered_at_s: first.recovered_at_s,
        calls_stayed_up: first.crashed && !outs[0].summary.calls.outage.crashed,
        instance_crashes: chart::first_crashes(&outs[0].summary.tiers),
        slo_lines: Some((model.slo.success_rate, model.slo.outage_below)),
    };
    chart::draw_timeline(
        &timeline,
        &dir.join("timeline.png"),
        &dir.join("timeline.svg"),
    )
}

/// One replication, with a bar over simulated time on a terminal (none on a pipe or `--quiet`).
fn run_with_bar(model: &Model, seed: u64, limits: &guard::Limits, quiet: bool) -> RunOutput {
    let horizon = model.scenario.duration_s;
    let bar = super::progress::bar(
        horizon.ceil() as u64,
        quiet,
        "{prefix} [{bar:30}] {msg}, ETA {eta}",
    );
    super::progress::observe(&bar, "simulated seconds");
    bar.set_prefix(model.scenario.name.clone());
    let total = human_duration(horizon);
    let show = |t: f64| {
        bar.set_position(t as u64);
        bar.set_message(format!("simulated {} of {total}", human_duration(t)));
    };
    let out = if bar.is_hidden() && !super::interrupt::embedded() {
        run_watched(model, seed, limits, None)
    } else {
        run_watched(model, seed, limits, Some(&show))
    };
    bar.finish_and_clear();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two minutes of M/M/c/K, four replications on `jobs` threads.
    fn mmck(jobs: usize) -> (Model, RunSettings) {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mmck.toml");
        let source = ModelSource::new(Some(&file), &["scenario.duration=2m".to_string()]);
        let s = RunSettings {
            reps: 4,
            jobs: Some(jobs),
            ..RunSettings::one(source.clone(), None)
        };
        (source.load().unwrap(), s)
    }

    /// A replication's summary as JSON, less the wall-clock time it took.
    fn figures(o: &RunOutput) -> String {
        let mut s = o.summary.clone();
        (s.wall_s, s.events_per_s) = (0.0, 0.0);
        serde_json::to_string(&s).unwrap()
    }

    #[test]
    fn replications_are_the_same_on_one_thread_or_two() {
        let stop = Stop::new();
        let (model, one) = mmck(1);
        let (_, two) = mmck(2);
        let a = simulate(&model, 7, &one, &stop).unwrap();
        let b = simulate(&model, 7, &two, &stop).unwrap();
        assert_eq!(a.len(), 4);
        let (a, b): (Vec<_>, Vec<_>) = (
            a.iter().map(figures).collect(),
            b.iter().map(figures).collect(),
        );
        assert_eq!(a, b);
        assert_ne!(a[0], a[1], "each replication has its own seed");
    }

    #[test]
    fn a_stop_ends_the_replications_early_and_the_run_is_interrupted() {
        let (model, s) = mmck(1);
        let stop = Stop::new();
        stop.set();
        let e = simulate(&model, 7, &s, &stop).unwrap_err();
        assert!(e.downcast_ref::<Interrupted>().is_some(), "{e}");
        assert_eq!(
            e.to_string(),
            "interrupted with 0 of 4 replications done; nothing is written: run the same \
             command again"
        );
        // Asked while they run: the one running ends, no other starts.
        let stop = Stop::new();
        let ask = || {
            stop.set();
        };
        let runner = Runner {
            progress: Some(&ask),
            ..Runner::new(1, &stop)
        };
        assert_eq!(replicate(&model, 7, 4, &runner).len(), 1);
    }
}
