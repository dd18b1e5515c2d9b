//! `surge report MODEL`: the planner's one command. It runs the model (into `run/`), searches the
//! crash point (by `--criterion`) in the instances of the bottleneck `surge check` finds, or in
//! the `--vary` key (into `crashpoint/`), compares
//! the model's variants where this build can, all within `--budget`, and writes one report of the
//! whole (`report.html`, `report.md`) beside them. A step that would not fit in what is left of
//! the budget is skipped, and the report says so with the time it would have needed.

use anyhow::Result;
use std::time::Instant;

use super::{human_duration, out_dir};
use crate::cli::{BoundArgs, ReportArgs, RunArgs};
use crate::error::BadInput;
use crate::experiment::sweep::Interrupted;
use crate::metrics::run_summary::RunSummary;
use crate::model::Model;
use crate::output::stdout::outln;
use crate::report::{self, Block, Report, Section, Table, assert};
use crate::store::provenance::Provenance;

/// Replications per value tried: the most that fit, within these bounds.
const MOST_REPS: u32 = 10;
const FEWEST_REPS: u32 = 2;

/// What became of one step.
struct Step {
    name: String,
    result: String,
    wall_s: Option<f64>,
}

/// The default search: the instances of the bottleneck `check` names (the tier offered the
/// largest share of its threads at the surge peak), from 1 up to its count if the run held,
/// from it up to three times it if the run failed; with why that tier.
fn default_vary(model: &Model, failed: bool) -> Result<(String, f64, f64, String), String> {
    let Some((i, why)) = crate::model::offered::bottleneck(model) else {
        return Err("the model has no tier".into());
    };
    let t = &model.tiers[i];
    let n = f64::from(t.instances);
    let key = format!("tier.{}.instances", t.name);
    let why = format!("tier {}, the bottleneck `surge check` finds: {why}", t.name);
    if failed {
        Ok((key, n, 3.0 * n, why))
    } else if t.instances > 1 {
        Ok((key, 1.0, n, why))
    } else {
        Err(format!(
            "{why}; it has 1 instance and the run held, so there is nothing to search below it; \
             name a key with --vary"
        ))
    }
}

/// Whether the run failed by `criterion`, read from its summary.json (one run: the report runs
/// one replication).
fn run_failed(summary: &RunSummary, criterion: crate::metrics::slo::Criterion) -> bool {
    match summary {
        RunSummary::One(s) => criterion.failed(s),
        RunSummary::Mean(_) => false,
    }
}

fn parse_vary(v: &str) -> Result<(String, f64, f64), BadInput> {
    let bad = |why: &str| BadInput(format!("--vary {v}: {why}"));
    let (k, range) = v
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=LO..HI, e.g. tier.web.instances=8..24"))?;
    let (lo, hi) = range
        .split_once("..")
        .ok_or_else(|| bad("expected a range LO..HI"))?;
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| bad("LO and HI must be numbers"))
    };
    Ok((k.trim().to_string(), num(lo)?, num(hi)?))
}

/// How many replications per value, and runs in all, fit in `left_s` when one run takes
/// `run_s` and `jobs` run at once; `None` when not even the two ends and one bisection step fit.
fn plan_search(left_s: f64, run_s: f64, jobs: usize, lo: f64, hi: f64) -> Option<(u32, u32)> {
    let steps = 2 + ((hi - lo).max(1.0)).log2().ceil() as u32;
    (FEWEST_REPS..=MOST_REPS).rev().find_map(|reps| {
        let batch_s = f64::from(reps.div_ceil(jobs.max(1) as u32)) * run_s;
        let batches = (left_s / batch_s).floor() as u32;
        (batches >= steps).then_some((reps, batches.saturating_sub(2).max(steps) * reps))
    })
}

pub fn report(args: &ReportArgs) -> Result<()> {
    let started = Instant::now();
    let source = crate::app::ModelSource::new(args.model.as_deref(), &args.sets);
    let model = source.load()?;
    let criterion = args.failure.criterion;
    criterion.check(&model)?;
    if let Some(v) = &args.vary {
        parse_vary(v)?;
    }
    let asserts = assert::prepare(
        &args.asserts,
        &assert::summary_template(&model),
        "summary.json",
    )?;
    let model_text = source.text()?;
    // Every variant is checked before anything runs: a typo in the last one must not cost the
    // run and the crash-point search first.
    let file = source.file_name();
    let variants = crate::experiment::variant::declared(&model_text, &file)?;
    crate::experiment::variant::load_all(args.model.as_deref(), &args.sets, &variants)?;
    let dir = out_dir(&args.out, &model, "report");
    let _lock = crate::store::lock::lock(&dir)?;
    let resume = format!(
        "the finished steps are in {}: run the same command with --resume to continue (the \
         crash-point search and the comparison resume from their journals)",
        dir.display()
    );
    crate::app::interrupt::watch(resume.clone(), None)?;
    let stopped = |after: &str| -> Result<()> {
        if crate::app::interrupt::stopping() {
            anyhow::bail!(Interrupted(format!("interrupted after {after}; {resume}")));
        }
        Ok(())
    };
    let mut steps = Vec::new();

    // 1. The run.
    let t0 = Instant::now();
    super::run::run(&RunArgs {
        model: args.model.clone(),
        sets: args.sets.clone(),
        seed: args.seed,
        reps: 1,
        out: Some(dir.join("run")),
        quiet: args.quiet,
        save_model: None,
        asserts: Vec::new(),
        bounds: BoundArgs::default(),
    })?;
    let run_s = t0.elapsed().as_secs_f64();
    steps.push(Step {
        name: "run".into(),
        result: "done: run/".into(),
        wall_s: Some(run_s),
    });
    stopped("the run")?;
    let run_folder = report::run::RunFolder::read(&dir.join("run"))?;
    let failed = run_failed(&run_folder.summary, criterion);

    // 2. The crash point, if it fits.
    let jobs = crate::experiment::shard::jobs(args.jobs, &|_| None).0;
    let vary = match &args.vary {
        Some(v) => parse_vary(v).map(|(k, lo, hi)| (k, lo, hi, "named by --vary".to_string()))?,
        None => match default_vary(&model, failed) {
            Ok(v) => v,
            Err(why) => {
                steps.push(Step {
                    name: "crash point".into(),
                    result: format!("skipped: {why}"),
                    wall_s: None,
                });
                (String::new(), 0.0, 0.0, why)
            }
        },
    };
    let mut crash_report = None;
    let left = args.budget - started.elapsed().as_secs_f64();
    match vary {
        (key, _, _, _) if key.is_empty() => {}
        (key, lo, hi, why) => match plan_search(left, run_s, jobs, lo, hi) {
            None => steps.push(Step {
                name: format!("crash point in {key} ({lo}..{hi})"),
                result: format!(
                    "skipped for lack of time: {} of the budget left, and one run takes {}; the \
                     search needs at least {} rounds of {FEWEST_REPS} replications (give \
                     --budget {} or more)",
                    human_duration(left.max(0.0)),
                    human_duration(run_s),
                    2 + ((hi - lo).max(1.0)).log2().ceil() as u32,
                    budget_hint(started.elapsed().as_secs_f64(), run_s, jobs, lo, hi)
                ),
                wall_s: None,
            }),
            Some((reps, max_runs)) => {
                let t1 = Instant::now();
                let s = crate::app::crashpoint::CrashpointSettings {
                    source: source.clone(),
                    vary: format!("{key}={lo}..{hi}"),
                    reps,
                    confidence: crate::app::crashpoint::CONFIDENCE,
                    tolerance: crate::app::crashpoint::TOLERANCE,
                    max_runs,
                    budget: None,
                    seeds: crate::experiment::sweep::Seeds::Common,
                    resume: args.resume,
                    runs: crate::app::ManyRuns {
                        jobs: Some(jobs),
                        seed: args.seed,
                        out: Some(dir.join("crashpoint")),
                        allow_huge: false,
                    },
                    criterion,
                    quiet: args.quiet,
                };
                let result = crate::app::crashpoint::crashpoint(&s)
                    .and_then(|o| super::crashpoint::print(&s, &o).map(|()| o));
                let took = t1.elapsed().as_secs_f64();
                let name = format!("crash point in {key} ({lo}..{hi})");
                match result {
                    Ok(o) => {
                        let f = o.folder;
                        steps.push(Step {
                            name,
                            result: format!(
                                "done: crashpoint/ ({} runs, {reps} replications per value, \
                                 at most {max_runs} runs to fit the budget; failure = {}; \
                                 searched in {why})",
                                f.cp.runs,
                                criterion.name()
                            ),
                            wall_s: Some(took),
                        });
                        crash_report = Some(report::crashpoint::build(&f, None));
                    }
                    Err(e) if e.downcast_ref::<BadInput>().is_some() => steps.push(Step {
                        name,
                        result: format!("no answer: {e}"),
                        wall_s: Some(took),
                    }),
                    Err(e) => return Err(e),
                }
            }
        },
    }

    // 3. The variants, if the model declares some and they fit.
    stopped("the crash-point search")?;
    let declared = variants.len();
    let mut compare_report = None;
    let left = args.budget - started.elapsed().as_secs_f64();
    // Every variant and the baseline run `reps` replications, `jobs` at a time.
    let compare_s = |reps: u32| {
        f64::from((declared as u32 + 1) * reps)
            .div_euclid(jobs as f64)
            .ceil()
            * run_s
    };
    let fit_reps = (FEWEST_REPS..=MOST_REPS)
        .rev()
        .find(|&r| compare_s(r) <= left);
    match (declared, fit_reps) {
        (0, _) => steps.push(Step {
            name: "variants".into(),
            result: "none declared ([[variant]]): nothing to compare".into(),
            wall_s: None,
        }),
        (n, None) => steps.push(Step {
            name: format!("{n} variants and the baseline"),
            result: format!(
                "skipped for lack of time: {} of the budget left; {FEWEST_REPS} replications of \
                 each take about {}",
                human_duration(left.max(0.0)),
                human_duration(compare_s(FEWEST_REPS))
            ),
            wall_s: None,
        }),
        (n, Some(reps)) => {
            let t2 = Instant::now();
            let s = crate::app::compare::CompareSettings {
                source: source.clone(),
                variants: Vec::new(),
                reps,
                runs: crate::app::ManyRuns {
                    out: Some(dir.join("compare")),
                    jobs: Some(jobs),
                    seed: args.seed,
                    allow_huge: false,
                },
                asserts: Vec::new(),
                resume: args.resume,
                quiet: args.quiet,
            };
            let o = crate::app::compare::compare(&s)?;
            super::compare::print(&s, &o)?;
            steps.push(Step {
                name: format!("{n} variants and the baseline"),
                result: format!("done: compare/ ({reps} replications each, common seeds)"),
                wall_s: Some(t2.elapsed().as_secs_f64()),
            });
            compare_report = Some(report::compare::build(&o.folder));
        }
    }

    let checks = assert::evaluate_all(&asserts, &run_folder.document()?);
    let page = compose(
        &model,
        &model_text,
        run_folder.provenance.clone(),
        Some(run_folder.summary.seed()),
        args.budget,
        started.elapsed().as_secs_f64(),
        report::run::build(&run_folder, None, checks.clone()),
        crash_report,
        compare_report,
        &steps,
    );
    report::write(&dir, &page)?;
    if !args.quiet {
        for s in &steps {
            outln!("{}: {}", s.name, s.result);
        }
        outln!(
            "report: {} (and report.md), in {} of a {} budget",
            dir.join("report.html").display(),
            human_duration(started.elapsed().as_secs_f64()),
            human_duration(args.budget)
        );
    }
    super::run::say_verdict(&checks)
}

/// The budget the search would need after a run of `run_s`, rounded up to a whole minute.
fn budget_hint(spent_s: f64, run_s: f64, jobs: usize, lo: f64, hi: f64) -> String {
    let steps = 2 + ((hi - lo).max(1.0)).log2().ceil() as u32;
    let need = spent_s + f64::from(steps * FEWEST_REPS.div_ceil(jobs.max(1) as u32)) * run_s;
    format!("{}m", (need / 60.0).ceil())
}

/// The report of the whole: the answers first, then what was done, the run, the search, and the
/// model and provenance once.
#[allow(clippy::too_many_arguments)]
fn compose(
    model: &Model,
    model_text: &str,
    provenance: Option<Provenance>,
    seed: Option<u64>,
    budget_s: f64,
    took_s: f64,
    run: Report,
    crash: Option<Report>,
    compare: Option<Report>,
    steps: &[Step],
) -> Report {
    let mut answer = run.answer.clone();
    if let Some(c) = &compare {
        answer.extend(c.answer.iter().cloned());
    }
    match &crash {
        Some(c) => answer.extend(c.answer.iter().take(1).cloned()),
        None => {
            if let Some(s) = steps.iter().find(|s| s.name.starts_with("crash point")) {
                answer.push(format!("Crash point: {}.", s.result));
            }
        }
    }
    let keep = |r: Report, sub: &str, label: &str| -> Vec<Section> {
        r.nested(sub)
            .sections
            .into_iter()
            .filter(|s| s.heading != "Model as run" && s.heading != "Provenance")
            .map(|mut s| {
                s.heading = format!("{label}: {}", s.heading);
                s
            })
            .collect()
    };
    let mut sections = vec![Section {
        heading: format!(
            "What was done (budget {}, took {})",
            human_duration(budget_s),
            human_duration(took_s)
        ),
        blocks: vec![Block::Table(Table {
            caption: String::new(),
            header: vec!["step".into(), "result".into(), "wall-clock time".into()],
            rows: steps
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        s.result.clone(),
                        s.wall_s.map_or("-".into(), human_duration),
                    ]
                })
                .collect(),
            note: None,
        })],
    }];
    let checks = run.checks.clone();
    sections.extend(keep(run, "run", "Run"));
    if let Some(c) = crash {
        sections.extend(keep(c, "crashpoint", "Crash point"));
    }
    if let Some(c) = compare {
        sections.extend(keep(c, "compare", "Variants"));
    }
    sections.extend(report::model_and_provenance(
        Some(model_text),
        provenance.as_ref(),
        seed,
    ));
    Report {
        title: format!("{}: capacity report", model.scenario.name),
        subtitle: format!(
            "surge report · a run, its crash point and its variants, within a {} budget",
            human_duration(budget_s)
        ),
        answer,
        checks,
        sections,
    }
}
