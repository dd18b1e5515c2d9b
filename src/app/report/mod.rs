//! `app::report::report`: the planner's one command. It runs the model (into `run/`), searches
//! the crash point (by the criterion) in the instances of the bottleneck `surge check` finds, or
//! in the `--vary` key (into `crashpoint/`), compares the model's variants (into `compare/`),
//! all within the budget, and writes one report of the whole (`report.html`, `report.md`)
//! beside them. A step that would not fit in what is left of the budget is skipped, and the
//! report says so with the time it would have needed. Each step is a call of the service
//! below it (`app::run`, `app::crashpoint`, `app::compare`) on the same `ModelSource`: the
//! built-in model is never written to a file to be searched.
//!
//! Not here: what the terminal says (`commands::report`), the plan of the search (`plan`), the
//! page (`compose`).

mod compose;
mod plan;

use anyhow::Result;
use std::path::PathBuf;
use std::time::Instant;

use super::compare::CompareSettings;
use super::crashpoint::{CONFIDENCE, CrashpointSettings, TOLERANCE};
use super::run::RunSettings;
use super::{ManyRuns, ModelSource, interrupt, out_dir};
use crate::error::BadInput;
use crate::experiment::sweep::{Interrupted, Seeds};
use crate::fmt::human_duration;
use crate::metrics::run_summary::RunSummary;
use crate::metrics::slo::Criterion;
use crate::model::Model;
use crate::report::{self, Report, assert};
use plan::{FEWEST_REPS, MOST_REPS};

/// What `surge report` was asked, resolved from its flags.
pub(crate) struct ReportSettings {
    pub(crate) source: ModelSource,
    /// `--vary K=LO..HI`, else the bottleneck's instances.
    pub(crate) vary: Option<String>,
    pub(crate) criterion: Criterion,
    /// Wall-clock seconds for the whole report.
    pub(crate) budget_s: f64,
    pub(crate) seed: Option<u64>,
    pub(crate) jobs: Option<usize>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) asserts: Vec<String>,
    pub(crate) resume: bool,
    pub(crate) quiet: bool,
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

/// The report written, the steps and the run's `--assert` checks.
pub(crate) struct ReportOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) steps: Vec<Step>,
    pub(crate) checks: Vec<assert::Outcome>,
    /// Wall-clock seconds the whole took.
    pub(crate) took_s: f64,
}

/// The state shared by the steps.
struct Ctx<'a> {
    s: &'a ReportSettings,
    model: Model,
    dir: PathBuf,
    started: Instant,
    jobs: usize,
    steps: Vec<Step>,
}

impl Ctx<'_> {
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
    let jobs = crate::experiment::shard::jobs(s.jobs, &|_| None).0;
    let mut cx = Ctx {
        s,
        model,
        dir,
        started,
        jobs,
        steps: Vec::new(),
    };
    let (run_folder, run_s) = run_step(&mut cx)?;
    stopped("the run")?;
    let failed = match &run_folder.summary {
        RunSummary::One(one) => s.criterion.failed(one),
        RunSummary::Mean(_) => false,
    };
    let crash = crash_step(&mut cx, run_s, failed)?;
    stopped("the crash-point search")?;
    let compare = compare_step(&mut cx, run_s, variants.len())?;
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
fn run_step(cx: &mut Ctx) -> Result<(report::run::RunFolder, f64)> {
    let t0 = Instant::now();
    super::run::run(&RunSettings {
        source: cx.s.source.clone(),
        seed: cx.s.seed,
        reps: 1,
        out: Some(cx.dir.join("run")),
        save_model: None,
        asserts: Vec::new(),
        limits: Default::default(),
        allow_huge: false,
        quiet: cx.s.quiet,
    })?;
    let run_s = t0.elapsed().as_secs_f64();
    cx.steps.push(Step::new("run", "done: run/", Some(run_s)));
    Ok((report::run::RunFolder::read(&cx.dir.join("run"))?, run_s))
}

/// 2. The crash point, if it fits in what is left of the budget: its report section.
fn crash_step(cx: &mut Ctx, run_s: f64, failed: bool) -> Result<Option<Report>> {
    let (key, lo, hi, why) = match &cx.s.vary {
        Some(v) => plan::parse_vary(v).map(|(k, lo, hi)| (k, lo, hi, "named by --vary".into()))?,
        None => match plan::default_vary(&cx.model, failed) {
            Ok(v) => v,
            Err(why) => {
                cx.steps.push(Step::new("crash point", format!("skipped: {why}"), None));
                return Ok(None);
            }
        },
    };
    let name = format!("crash point in {key} ({lo}..{hi})");
    let left = cx.left();
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
    let result = super::crashpoint::crashpoint(&CrashpointSettings {
        source: cx.s.source.clone(),
        vary: format!("{key}={lo}..{hi}"),
        reps,
        confidence: CONFIDENCE,
        tolerance: TOLERANCE,
        max_runs,
        budget: None,
        seeds: Seeds::Common,
        resume: cx.s.resume,
        runs: cx.many("crashpoint"),
        criterion: cx.s.criterion,
        quiet: cx.s.quiet,
    });
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
            let f = report::crashpoint::CrashFolder::read(&done.dir)?;
            Ok(Some(report::crashpoint::build(&f, None)))
        }
        Err(e) if e.downcast_ref::<BadInput>().is_some() => {
            cx.steps.push(Step::new(name, format!("no answer: {e}"), took));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// 3. The variants, if the model declares some and they fit: the comparison's report section.
fn compare_step(cx: &mut Ctx, run_s: f64, declared: usize) -> Result<Option<Report>> {
    let left = cx.left();
    // Every variant and the baseline run `reps` replications, `jobs` at a time.
    let compare_s = |reps: u32| {
        f64::from((declared as u32 + 1) * reps)
            .div_euclid(cx.jobs as f64)
            .ceil()
            * run_s
    };
    let fit_reps = (FEWEST_REPS..=MOST_REPS)
        .rev()
        .find(|&r| compare_s(r) <= left);
    let name = format!("{declared} variants and the baseline");
    let reps = match (declared, fit_reps) {
        (0, _) => {
            let none = "none declared ([[variant]]): nothing to compare";
            cx.steps.push(Step::new("variants", none, None));
            return Ok(None);
        }
        (_, None) => {
            let why = format!(
                "skipped for lack of time: {} of the budget left; {FEWEST_REPS} replications of \
                 each take about {}",
                human_duration(left.max(0.0)),
                human_duration(compare_s(FEWEST_REPS))
            );
            cx.steps.push(Step::new(name, why, None));
            return Ok(None);
        }
        (_, Some(reps)) => reps,
    };
    let t2 = Instant::now();
    let done = super::compare::compare(&CompareSettings {
        source: cx.s.source.clone(),
        variants: Vec::new(),
        reps,
        runs: cx.many("compare"),
        asserts: Vec::new(),
        resume: cx.s.resume,
        quiet: cx.s.quiet,
    })?;
    cx.steps.push(Step::new(
        name,
        format!("done: compare/ ({reps} replications each, common seeds)"),
        Some(t2.elapsed().as_secs_f64()),
    ));
    let folder = report::compare::CompareFolder::read(&done.dir)?;
    Ok(Some(report::compare::build(&folder)))
}
