//! The work of `surge sensitivity` (and of the sensitivity step of `surge report`): read the
//! `--vary KEY=LO..HI` ranges, draw the Morris design, run every distinct point on the same
//! replication seeds (common random numbers) on `jobs` threads, compute each key's effects on
//! each metric and write `sensitivity.json`, `sensitivity.csv`, the tornado chart and the
//! folder's report; return the typed result.
//!
//! Not here: the design and the effects (`experiment::sensitivity`), the files' formats and the
//! chart (`output::sensitivity`), the table printed (`commands::sensitivity`), the flags (`cli`).

use anyhow::{Result, bail};
use std::path::PathBuf;

use super::{ManyRuns, ModelSource, out_dir};
use crate::error::BadInput;
use crate::experiment::guard::{self, Limits};
use crate::experiment::sensitivity::design::{self, Factor};
use crate::experiment::sensitivity::{self as screening, PointMeans, SensitivityDoc};
use crate::experiment::sweep::{self, Interrupted, Seeds};
use crate::experiment::vary::{Vary, load_point, parse_range};
use crate::metrics::table::Run;
use crate::model::Model;

pub(crate) use crate::experiment::sensitivity::design::{LEVELS, TRAJECTORIES};

/// Replications per point (`--reps`).
pub(crate) const REPS: u32 = 3;

/// A screening, as the flags ask for it.
#[derive(Debug, Clone)]
pub(crate) struct SensitivitySettings {
    pub(crate) source: ModelSource,
    /// `--vary KEY=LO..HI`, one per key screened.
    pub(crate) vary: Vec<String>,
    pub(crate) trajectories: u32,
    pub(crate) levels: u32,
    pub(crate) reps: u32,
    pub(crate) runs: ManyRuns,
    /// No progress bar.
    pub(crate) quiet: bool,
}

/// What a screening found, written in `dir`.
#[derive(Debug)]
pub(crate) struct SensitivityOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) doc: SensitivityDoc,
}

/// The keys screened, read from `--vary`: each a range `LO..HI`, no key twice.
pub(crate) fn factors(vary: &[String]) -> Result<Vec<Factor>, BadInput> {
    if vary.is_empty() {
        return Err(BadInput(
            "name the keys to screen: --vary KEY=LO..HI, once per key (e.g. --vary \
             tier.web.instances=4..12 --vary tier.web.threads=8..32)"
                .into(),
        ));
    }
    let mut out: Vec<Factor> = Vec::new();
    for raw in vary {
        let r = parse_range(raw)?;
        if out.iter().any(|f| f.key == r.key) {
            return Err(BadInput(format!(
                "--vary {} is given twice: give each key one range",
                r.key
            )));
        }
        let range = raw
            .split_once('=')
            .map_or("", |(_, v)| v)
            .trim()
            .to_string();
        out.push(Factor {
            range,
            key: r.key,
            lo: r.lo,
            hi: r.hi,
            whole: r.whole,
        });
    }
    Ok(out)
}

/// The model at each point of the design, checked; an error names the `--vary` of the value.
fn load_points(
    source: &ModelSource,
    factors: &[Factor],
    points: &[Vec<f64>],
    allow_huge: bool,
) -> Result<Vec<Model>> {
    let varies: Vec<Vary> = (factors.iter())
        .map(|f| Vary {
            key: f.key.clone(),
            values: Vec::new(),
        })
        .collect();
    let mut models = Vec::with_capacity(points.len());
    for p in points {
        let values: Vec<String> = (factors.iter().zip(p)).map(|(f, &v)| f.text(v)).collect();
        let m = load_point(source.file.as_deref(), &source.sets, &varies, &values)?;
        guard::check_run_size(&m, allow_huge)?;
        models.push(m);
    }
    Ok(models)
}

/// Screen the keys of `s` (see the module's comment); Ctrl-C stops it (nothing is kept).
pub(crate) fn sensitivity(s: &SensitivitySettings) -> Result<SensitivityOutcome> {
    super::interrupt::watch("nothing is kept: run the command again".into(), None)?;
    screen(s)
}

/// Screen the keys of `s` under the caller's Ctrl-C handler (`surge report`'s).
pub(crate) fn screen(s: &SensitivitySettings) -> Result<SensitivityOutcome> {
    let factors = factors(&s.vary)?;
    if s.trajectories < 2 {
        bail!(BadInput(format!(
            "--trajectories {}: the spread of the effects needs 2 or more (10 is usual)",
            s.trajectories
        )));
    }
    let base = s.source.load()?;
    let seed = s.runs.seed.unwrap_or(base.scenario.seed);
    let design = design::morris(&factors, s.trajectories, s.levels, seed)?;
    let models = load_points(&s.source, &factors, &design.points, s.runs.allow_huge)?;
    sweep::check_runs(models.len(), s.reps)?;
    let dir = out_dir(&s.runs.out, &base, "sensitivity");
    let _lock = crate::store::lock::lock(&dir)?;
    let provenance = s.source.provenance()?;
    let model_text = s.source.text()?;
    let jobs =
        crate::experiment::shard::jobs(s.runs.jobs, &crate::experiment::shard::process_env).0;
    let tasks: Vec<(usize, u32)> = (0..models.len())
        .flat_map(|p| (0..s.reps).map(move |r| (p, r)))
        .collect();
    let bar = super::progress::bar(
        tasks.len() as u64,
        s.quiet,
        "sensitivity [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
    );
    let rows = sweep::run_tasks(
        &models,
        seed,
        Seeds::Common,
        &tasks,
        jobs,
        &Limits::default(),
        super::interrupt::stop_flag(),
        &|_| {
            bar.inc(1);
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    if rows.len() < tasks.len() {
        bail!(Interrupted(format!(
            "interrupted with {} of {} runs done; nothing was written: run the command again",
            rows.len(),
            tasks.len()
        )));
    }
    let outcomes = screening::outcomes(&rows[0].summary);
    let points: Vec<PointMeans> = (design.points.iter().enumerate())
        .map(|(p, values)| {
            let mine: Vec<_> = rows.iter().filter(|r| r.point == p).collect();
            PointMeans {
                values: values.clone(),
                means: (outcomes.iter())
                    .map(|o| {
                        screening::mean_of(mine.iter().map(|r| {
                            let run = Run {
                                summary: &r.summary,
                                down_at_end: r.down_at_end,
                            };
                            screening::value(o, &run)
                        }))
                    })
                    .collect(),
            }
        })
        .collect();
    let ranking = screening::screen(&factors, &design.steps, &points, outcomes.len(), s.reps);
    let doc = SensitivityDoc {
        surge_version: env!("CARGO_PKG_VERSION").to_string(),
        model: base.scenario.name.clone(),
        method: screening::METHOD.to_string(),
        reference: screening::REFERENCE.to_string(),
        seed,
        seeds: Seeds::Common.name().to_string(),
        levels: s.levels,
        trajectories: s.trajectories,
        reps: s.reps,
        runs: tasks.len() as u64,
        overrides: s.source.sets.clone(),
        factors,
        outcomes,
        ranking,
        points,
        steps: design.steps,
    };
    crate::output::sensitivity::write(&dir, &doc, Some(provenance.clone()))?;
    let page = crate::report::sensitivity::build(&doc, &dir, Some(&model_text), Some(&provenance));
    crate::report::write(&dir, &page)?;
    Ok(SensitivityOutcome { dir, doc })
}
