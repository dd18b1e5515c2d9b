//! `app::report::report`: the planner's one command. It runs the model (into `run/`), compares
//! the model's variants (into `compare/`, `--reps auto`: each variant with the replications
//! that tell it from the baseline, rounds sized from the run times measured as they come in),
//! then searches the crash point (by the criterion) in the instances of the bottleneck `surge
//! check` finds, or in the `--vary` key (into `crashpoint/`), with what is left, and writes one
//! report of the whole (`report.html`, `report.md`) beside them: the most important answers
//! first when the budget is short. No run starts that the measured times say would end past the
//! budget; a step that would not fit is skipped, and the report says so with the time it would
//! have needed. Each step is a call of the service
//! below it (`app::run`, `app::crashpoint`, `app::compare`) on the same `ModelSource`: the
//! built-in model is never written to a file to be searched.
//!
//! Not here: what the terminal says (`commands::report`), the plan of the search (`plan`), the
//! page (`compose`).

mod compose;
mod plan;

use anyhow::Result;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::compare::{CompareOutcome, CompareSettings};
use super::crashpoint::{CONFIDENCE, CrashpointOutcome, CrashpointSettings, TOLERANCE};
use super::run::{RunOutcome, RunSettings};
use super::{ManyRuns, ModelSource, SearchSettings, interrupt, out_dir};
use crate::error::BadInput;
use crate::experiment::compare::sequential::FIRST_REPS;
use crate::experiment::compare::{CONFIDENCE as CONFIDENCE_OF_VARIANTS, Reps};
use crate::experiment::sweep::{Interrupted, Seeds};
use crate::fmt::human_duration;
use crate::metrics::run_summary::RunSummary;
use crate::metrics::slo::Criterion;
use crate::model::Model;
use crate::report::{self, Report, assert};
use plan::{FEWEST_REPS, MOST_REPS};

/// A step just done, for the caller to tell as it happens (the terminal prints what the step's
/// own command would have printed).
pub(crate) enum Done<'a> {
    Run(&'a RunOutcome),
    Crash(&'a CrashpointSettings, &'a CrashpointOutcome),
    Compare(&'a CompareSettings, &'a CompareOutcome),
}

/// What is called as each step ends.
pub(crate) type OnDone<'a> = &'a dyn Fn(Done) -> Result<()>;

/// What `surge report` was asked, resolved from its flags.
pub(crate) struct ReportSettings<'a> {
    pub(crate) source: ModelSource,
    /// `--vary K=LO..HI`, else the bottleneck's instances.
    pub(crate) vary: Option<String>,
    /// `--sensitivity K=LO..HI`: the keys screened after the crash point (none: no screening).
    pub(crate) sensitivity: Vec<String>,
    pub(crate) criterion: Criterion,
    /// Wall-clock seconds for the whole report.
    pub(crate) budget_s: f64,
    pub(crate) seed: Option<u64>,
    pub(crate) jobs: Option<usize>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) asserts: Vec<String>,
    pub(crate) resume: bool,
    pub(crate) quiet: bool,
    /// Where the notes of its steps go (`app::notes`).
    pub(crate) notes: super::notes::Notes,
    /// Called as each step ends.
    pub(crate) on_done: Option<OnDone<'a>>,
}

/// What became of one step: its name, its result in words, and its wall-clock time (none for
/// a step skipped).
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) result: String,
    pub(crate) wall_s: Option<f64>,
}

impl Step {
    fn new(name: impl Into<String>, result: impl Into<String>, wall_s: Option<f64>) -> Self {
        Self {
            name: name.into(),
            result: result.into(),
            wall_s,
        }
    }
}

/// The report written, the steps and the run's `--assert` checks (each step's own outcome went
/// to `on_done` as it ended).
pub(crate) struct ReportOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) steps: Vec<Step>,
    pub(crate) checks: Vec<assert::Outcome>,
    /// Wall-clock seconds the whole took.
    pub(crate) took_s: f64,
}

/// The state shared by the steps.
struct Ctx<'a> {
    s: &'a ReportSettings<'a>,
    model: Model,
    dir: PathBuf,
    started: Instant,
    jobs: usize,
    steps: Vec<Step>,
    /// The run's tiers as it measured them (for the crash point's default key).
    measured: Vec<crate::metrics::means::TierMeans>,
}

impl Ctx<'_> {
    /// Tell the caller a step is done.
    fn tell(&self, done: Done) -> Result<()> {
        self.s.on_done.map_or(Ok(()), |f| f(done))
    }

    /// Seconds of the budget left.
    fn left(&self) -> f64 {
        self.s.budget_s - self.started.elapsed().as_secs_f64()
    }

    /// The settings of the commands that run the model many times, writing into `sub`.
    fn many(&self, sub: &str) -> ManyRuns {
        ManyRuns {
            jobs: Some(self.jobs),
            seed: self.s.seed,
            out: Some(self.dir.join(sub)),
            allow_huge: false,
            notes: self.s.notes.clone(),
        }
    }
}

pub(crate) fn report(s: &ReportSettings) -> Result<ReportOutcome> {
    let started = Instant::now();
    let model = s.source.load()?;
    s.criterion.check(&model)?;
    if let Some(v) = &s.vary {
        plan::parse_vary(v)?;
    }
    if !s.sensitivity.is_empty() {
        // Its errors name the report's flag.
        super::sensitivity::factors(&s.sensitivity)
            .map_err(|e| BadInput(e.0.replace("--vary ", "--sensitivity ")))?;
    }
    let asserts = assert::prepare(
        &s.asserts,
        &assert::summary_template(&model),
        "summary.json",
    )?;
    let model_text = s.source.text()?;
    // Every variant is checked before anything runs: a typo in the last one must not cost the
    // run and the crash-point search first.
    let variants = crate::experiment::variant::declared(&model_text, &s.source.file_name())?;
    crate::experiment::variant::load_all(s.source.file.as_deref(), &s.source.sets, &variants)?;
    let dir = out_dir(&s.out, &model, "report");
    let _lock = crate::store::lock::lock(&dir)?;
    let resume = format!(
        "the finished steps are in {}: run the same command with --resume to continue (the \
         crash-point search and the comparison resume from their journals)",
        dir.display()
    );
    interrupt::watch(resume.clone(), None)?;
    let stopped = |after: &str| -> Result<()> {
        if interrupt::stopping() {
            anyhow::bail!(Interrupted(format!("interrupted after {after}; {resume}")));
        }
        Ok(())
    };
    let jobs = crate::experiment::shard::jobs(s.jobs, &|_| None, &|n| s.notes.note(n)).0;
    let mut cx = Ctx {
        s,
        model,
        dir,
        started,
        jobs,
        steps: Vec::new(),
        measured: Vec::new(),
    };
    let (run_folder, run_s, failed) = run_step(&mut cx)?;
    cx.measured = run_folder.summary.means().0.tiers;
    stopped("the run")?;
    let reserve = crash_reserve(&cx, run_s, failed);
    let compare = compare_step(&mut cx, run_s, variants.len(), reserve)?;
    stopped("the comparison")?;
    let crash = crash_step(&mut cx, run_s, failed)?;
    stopped("the crash point")?;
    let screening = sensitivity_step(&mut cx, run_s)?;
    let checks = assert::evaluate_all(&asserts, &run_folder.document()?);
    let took_s = started.elapsed().as_secs_f64();
    let page = compose::compose(
        &cx.model,
        &model_text,
        run_folder.provenance.clone(),
        Some(run_folder.summary.seed()),
        s.budget_s,
        took_s,
        report::run::build(&run_folder, None, checks.clone()),
        crash,
        compare,
        screening,
        &cx.steps,
    );
    report::write(&cx.dir, &page)?;
    Ok(ReportOutcome {
        dir: cx.dir,
        steps: cx.steps,
        checks,
        took_s: started.elapsed().as_secs_f64(),
    })
}

/// 1. The run (one replication), into `run/`; its folder read back and its wall-clock time.
fn run_step(cx: &mut Ctx) -> Result<(report::run::RunFolder, f64, bool)> {
    let t0 = Instant::now();
    let done = super::run::run(&RunSettings {
        seed: cx.s.seed,
        quiet: cx.s.quiet,
        notes: cx.s.notes.clone(),
        ..RunSettings::one(cx.s.source.clone(), Some(cx.dir.join("run")))
    })?;
    let run_s = t0.elapsed().as_secs_f64();
    cx.steps.push(Step::new("run", "done: run/", Some(run_s)));
    // Whether the run failed by the criterion (one replication: never a mean).
    let failed = match &done.summary {
        RunSummary::One(one) => cx.s.criterion.failed(one),
        RunSummary::Mean(_) => false,
    };
    let folder = report::run::RunFolder::read(&done.dir)?;
    cx.tell(Done::Run(&done))?;
    Ok((folder, run_s, failed))
}

/// Step 3, the crash point, if it fits in what is left of the budget (after the variants): its
/// report section. No run is asked for past the budget less one and a half run times, nor in
/// the seconds `end_s` keeps.
fn crash_step(cx: &mut Ctx, run_s: f64, failed: bool) -> Result<Option<Report>> {
    let (key, lo, hi, why) = match &cx.s.vary {
        Some(v) => plan::parse_vary(v).map(|(k, lo, hi)| (k, lo, hi, "named by --vary".into()))?,
        None => match plan::default_vary(&cx.model, failed, &cx.measured) {
            Ok(v) => v,
            Err(why) => {
                cx.steps
                    .push(Step::new("crash point", format!("skipped: {why}"), None));
                return Ok(None);
            }
        },
    };
    let name = format!("crash point in {key} ({lo}..{hi})");
    let left = cx.left() - end_s(cx.s.budget_s);
    let Some((reps, max_runs)) = plan::plan_search(left, run_s, cx.jobs, lo, hi) else {
        let spent = cx.started.elapsed().as_secs_f64();
        cx.steps.push(Step::new(
            name,
            format!(
                "skipped for lack of time: {} of the budget left, and one run takes {}; the \
                 search needs at least {} rounds of {FEWEST_REPS} replications (give \
                 --budget {} or more)",
                human_duration(left.max(0.0)),
                human_duration(run_s),
                2 + ((hi - lo).max(1.0)).log2().ceil() as u32,
                plan::budget_hint(spent, run_s, cx.jobs, lo, hi)
            ),
            None,
        ));
        return Ok(None);
    };
    let t1 = Instant::now();
    let settings = CrashpointSettings {
        search: SearchSettings {
            source: cx.s.source.clone(),
            // A run asked for just before the deadline ends one run later (ASSUMPTION: at most
            // half as long again as the model's run).
            budget: Some((left - 1.5 * run_s).max(0.0)),
            resume: cx.s.resume,
            runs: cx.many("crashpoint"),
            quiet: cx.s.quiet,
        },
        criterion: cx.s.criterion,
        confidence: CONFIDENCE,
        vary: format!("{key}={lo}..{hi}"),
        reps,
        tolerance: TOLERANCE,
        max_runs,
        seeds: Seeds::Common,
    };
    let result = super::crashpoint::crashpoint(&settings);
    let took = Some(t1.elapsed().as_secs_f64());
    match result {
        Ok(done) => {
            cx.steps.push(Step::new(
                name,
                format!(
                    "done: crashpoint/ ({} runs, {reps} replications per value, at most \
                     {max_runs} runs to fit the budget; failure = {}; searched in {why})",
                    done.cp.runs,
                    cx.s.criterion.name()
                ),
                took,
            ));
            let section = report::crashpoint::build(&done.folder, None);
            cx.tell(Done::Crash(&settings, &done))?;
            Ok(Some(section))
        }
        Err(e) if e.downcast_ref::<BadInput>().is_some() => {
            cx.steps
                .push(Step::new(name, format!("no answer: {e}"), took));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Step 2, the variants, if the model declares some and their first round fits: `--reps auto`,
/// its rounds sized from the run times measured as they come in, none started that would end
/// past the budget (`end_s` kept for writing the report); the comparison's report section.
fn compare_step(
    cx: &mut Ctx,
    run_s: f64,
    declared: usize,
    reserve_s: f64,
) -> Result<Option<Report>> {
    let name = format!("{declared} variants and the baseline");
    if declared == 0 {
        let none = "none declared ([[variant]]): nothing to compare";
        cx.steps.push(Step::new("variants", none, None));
        return Ok(None);
    }
    let all_left = cx.left() - end_s(cx.s.budget_s);
    // The first round: every variant and the baseline, FIRST_REPS each, `jobs` at a time, each
    // run as long as the model's run (ASSUMPTION: a variant's run takes no longer, give or take
    // a quarter; later rounds are sized from their own runs).
    let first = FIRST_REPS * (declared as u32 + 1);
    let first_s = f64::from(first.div_ceil(cx.jobs.max(1) as u32)) * run_s * 1.25;
    // The crash point's first bracket is kept when both fit; else the variants come first.
    let left = if first_s <= all_left - reserve_s {
        all_left - reserve_s
    } else {
        all_left
    };
    if first_s > left {
        let why = format!(
            "skipped for lack of time: {} of the budget left; the first round ({FIRST_REPS} \
             replications of each) takes about {}",
            human_duration(left.max(0.0)),
            human_duration(first_s)
        );
        cx.steps.push(Step::new(name, why, None));
        return Ok(None);
    }
    let t2 = Instant::now();
    let settings = CompareSettings {
        source: cx.s.source.clone(),
        variants: Vec::new(),
        reps: Reps::Auto { max: MOST_REPS },
        confidence: CONFIDENCE_OF_VARIANTS,
        deadline: Some(t2 + Duration::from_secs_f64(left.max(0.0))),
        runs: cx.many("compare"),
        asserts: Vec::new(),
        resume: cx.s.resume,
        quiet: cx.s.quiet,
    };
    let done = super::compare::compare(&settings)?;
    cx.steps.push(Step::new(
        name,
        format!(
            "done: compare/ ({}; common seeds)",
            decisions_words(&done.comparison)
        ),
        Some(t2.elapsed().as_secs_f64()),
    ));
    let section = report::compare::build(&done.folder);
    cx.tell(Done::Compare(&settings, &done))?;
    Ok(Some(section))
}

/// Seconds the crash point's shortest search would take (its two ends and the bisection steps,
/// `FEWEST_REPS` replications each, and a run in flight at its deadline): kept from the
/// comparison's rounds, so that the crash point gets its first bracket; nothing when there is
/// no search to do.
fn crash_reserve(cx: &Ctx, run_s: f64, failed: bool) -> f64 {
    let range = match &cx.s.vary {
        Some(v) => plan::parse_vary(v).ok().map(|(_, lo, hi)| (lo, hi)),
        None => plan::default_vary(&cx.model, failed, &cx.measured)
            .ok()
            .map(|(_, lo, hi, _)| (lo, hi)),
    };
    range.map_or(0.0, |(lo, hi)| {
        let steps = 2 + ((hi - lo).max(1.0)).log2().ceil() as u32;
        f64::from(steps * FEWEST_REPS.div_ceil(cx.jobs.max(1) as u32)) * run_s + 1.5 * run_s
    })
}

/// Step 4, the sensitivity screening of the `--sensitivity` keys, with the most trajectories
/// (2 to 10, 2 replications per point) whose runs fit what is left of the budget; its report
/// section. Skipped, with the reason, when not even 2 trajectories fit.
fn sensitivity_step(cx: &mut Ctx, run_s: f64) -> Result<Option<Report>> {
    if cx.s.sensitivity.is_empty() {
        return Ok(None);
    }
    let keys = cx.s.sensitivity.len() as u32;
    let name = format!("sensitivity of {keys} keys");
    let left = cx.left() - end_s(cx.s.budget_s);
    // ASSUMPTION: a point's run takes as long as the model's run, give or take a quarter; the
    // trajectories' points are counted without the ones they share.
    let takes =
        |r: u32| f64::from((r * (keys + 1) * 2).div_ceil(cx.jobs.max(1) as u32)) * run_s * 1.25;
    let Some(r) = (2..=super::sensitivity::TRAJECTORIES)
        .rev()
        .find(|&r| takes(r) <= left)
    else {
        cx.steps.push(Step::new(
            name,
            format!(
                "skipped for lack of time: {} of the budget left; 2 trajectories of {keys} keys \
                 with 2 replications take about {}",
                human_duration(left.max(0.0)),
                human_duration(takes(2))
            ),
            None,
        ));
        return Ok(None);
    };
    let t0 = Instant::now();
    let settings = super::sensitivity::SensitivitySettings {
        search: SearchSettings {
            source: cx.s.source.clone(),
            budget: None,
            // The trajectories that fit differ from one try to the next (the design with
            // them), so an earlier try's journal is not this screening's: it starts over.
            resume: false,
            runs: cx.many("sensitivity"),
            quiet: cx.s.quiet,
        },
        vary: cx.s.sensitivity.clone(),
        trajectories: r,
        levels: super::sensitivity::LEVELS,
        reps: 2,
        journal_resumes: false,
    };
    let done = super::sensitivity::screen(&settings)?;
    cx.steps.push(Step::new(
        name,
        format!(
            "done: sensitivity/ ({} runs: {r} trajectories, 2 replications per point, common \
             seeds)",
            done.doc.runs
        ),
        Some(t0.elapsed().as_secs_f64()),
    ));
    Ok(Some(report::sensitivity::build(
        &done.doc, &done.dir, None, None,
    )))
}

/// Seconds of the budget kept for writing the report at the end.
fn end_s(budget_s: f64) -> f64 {
    (0.01 * budget_s).clamp(0.5, 5.0)
}

/// What the comparison told, per variant: "better: a (2 replications); not told apart: b (10)".
fn decisions_words(cmp: &crate::experiment::compare::Comparison) -> String {
    use crate::experiment::compare::sequential::{Ended, Verdict};
    let mut parts = Vec::new();
    for (label, verdict) in [
        ("better than the baseline", Verdict::Better),
        ("worse", Verdict::Worse),
        ("not told apart", Verdict::NotToldApart),
    ] {
        let names: Vec<String> = (cmp.variants.iter())
            .filter_map(|v| Some((v, v.decision.as_ref()?)))
            .filter(|(_, d)| d.verdict == verdict)
            .map(|(v, d)| {
                let budget = if d.ended == Ended::Budget {
                    ", stopped by the budget"
                } else {
                    ""
                };
                format!("{} ({} replications{budget})", v.name, d.reps)
            })
            .collect();
        if !names.is_empty() {
            parts.push(format!("{label}: {}", names.join(", ")));
        }
    }
    parts.join("; ")
}
