//! The work of `surge sensitivity` (and of the sensitivity step of `surge report`): read the
//! `--vary KEY=LO..HI` ranges, draw the Morris design, run every distinct point on the same
//! replication seeds (common random numbers) on `jobs` threads, journaled and resumable, within
//! `--budget` if given (`runs`), compute each key's effects on each metric from the trajectories
//! finished and write `sensitivity.json`, `sensitivity.csv`, the tornado chart and the folder's
//! report; return the typed result.
//!
//! Not here: the design and the effects (`experiment::sensitivity`), the files' formats and the
//! chart (`output::sensitivity`), the table printed (`commands::sensitivity`), the flags (`cli`).

mod runs;

use anyhow::{Result, bail};
use std::path::PathBuf;
use std::time::Instant;

use super::{ModelSource, SearchSettings, out_dir};
use crate::error::BadInput;
use crate::experiment::guard;
use crate::experiment::sensitivity::design::{self, Factor};
use crate::experiment::sensitivity::{self as screening, SensitivityDoc};
use crate::experiment::sweep::{self, Seeds};
use crate::experiment::vary::{Vary, load_point, parse_range};
use crate::model::Model;
use crate::model::error::{ModelError, Place};

pub(crate) use crate::experiment::sensitivity::design::{LEVELS, TRAJECTORIES};

/// Replications per point (`--reps`).
pub(crate) const REPS: u32 = 3;

/// A screening, as the flags ask for it.
#[derive(Debug, Clone)]
pub(crate) struct SensitivitySettings {
    /// The model, the budget (wall-clock seconds past which no new trajectory starts; the
    /// first always runs), `--resume`, the runs and quiet (no progress bar): what every
    /// journaled many-run command shares.
    pub(crate) search: SearchSettings,
    /// `--vary KEY=LO..HI`, one per key screened.
    pub(crate) vary: Vec<String>,
    pub(crate) trajectories: u32,
    pub(crate) levels: u32,
    pub(crate) reps: u32,
    /// Whether the same command with `--resume` takes the journal back, as `surge
    /// sensitivity` does; false in `surge report`, whose screening starts over (the
    /// trajectories that fit depend on the budget left): what an interrupted or replaced
    /// journal's message tells.
    pub(crate) journal_resumes: bool,
}

/// What a screening found, written in `dir`.
#[derive(Debug)]
pub(crate) struct SensitivityOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) doc: SensitivityDoc,
}

/// The keys screened, read from `--vary`: each a range `LO..HI`, no key twice, with its unit
/// (`model::key_units`).
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
            unit: crate::model::key_units::key_unit(&r.key),
            key: r.key,
            lo: r.lo,
            hi: r.hi,
            whole: r.whole,
        });
    }
    Ok(out)
}

/// The model at each point of the design, checked; an error names the `--vary` of the value
/// and the value as the planner would write it (`level_named`).
fn load_points(
    source: &ModelSource,
    factors: &[Factor],
    (points, levels): (&[Vec<f64>], u32),
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
        let m = load_point(source.file.as_deref(), &source.sets, &varies, &values)
            .map_err(|e| level_named(e, factors, p, levels))?;
        guard::check_run_size(&m, allow_huge)?;
        models.push(m);
    }
    Ok(models)
}

/// A model error at a `--vary` value of `point` names the value as the planner would write it:
/// a level between the ends (`5.333333333` on `2..10`) rounded and said so, with its level.
fn level_named(mut e: ModelError, factors: &[Factor], point: &[f64], levels: u32) -> ModelError {
    if let Place::Vary { key, value } = &mut e.place
        && let Some(i) = factors.iter().position(|f| f.key == *key)
    {
        let exact = factors[i].text(point[i]);
        *value = factors[i].value_words(point[i], levels);
        // The model's own words quote the value it read ("got 1.033333333"): rounded too.
        if *value != exact {
            let short = crate::fmt::significant(point[i], 3);
            e.message = e.message.replace(&exact, &short);
        }
    }
    e
}

/// Screen the keys of `s` (see the module's comment); Ctrl-C stops it, the finished runs kept
/// in the journal.
pub(crate) fn sensitivity(s: &SensitivitySettings) -> Result<SensitivityOutcome> {
    super::interrupt::watch("nothing has run yet: run the command again".into(), None)?;
    screen(s)
}

/// Screen the keys of `s` under the caller's Ctrl-C handler (`surge report`'s), which the
/// journal's takes over once the runs start.
pub(crate) fn screen(s: &SensitivitySettings) -> Result<SensitivityOutcome> {
    let started = Instant::now();
    let factors = factors(&s.vary)?;
    if s.trajectories < 2 {
        bail!(BadInput(format!(
            "--trajectories {}: the spread of the effects needs 2 or more (10 is usual)",
            s.trajectories
        )));
    }
    let base = s.search.source.load()?;
    let seed = s.search.runs.seed.unwrap_or(base.scenario.seed);
    let design = design::morris(&factors, s.trajectories, s.levels, seed)?;
    let models = load_points(
        &s.search.source,
        &factors,
        (&design.points, s.levels),
        s.search.runs.allow_huge,
    )?;
    sweep::check_runs(models.len(), s.reps)?;
    let dir = out_dir(&s.search.runs.out, &base, "sensitivity");
    let _lock = crate::store::lock::lock(&dir)?;
    let provenance = s.search.source.provenance()?;
    let model_text = s.search.source.text()?;
    let pts = runs::Points {
        keys: factors.iter().map(|f| f.key.clone()).collect(),
        values: (design.points.iter())
            .map(|p| (factors.iter().zip(p)).map(|(f, &v)| f.text(v)).collect())
            .collect(),
        models: &models,
        seed,
        ends: runs::trajectory_ends(&design.steps, s.trajectories),
    };
    let ran = runs::run(s, &pts, &base, &dir, started)?;
    let done = runs::trajectories_done(&pts.ends, s.reps, &ran.done);
    let n = (done as usize).checked_sub(1).map_or(0, |t| pts.ends[t]);
    let outcomes = screening::outcomes(&ran.header.metrics);
    let points = runs::point_means(&design.points, n, s.reps, &ran.header, &outcomes, &ran.done);
    let steps: Vec<_> = (design.steps.iter())
        .filter(|st| st.trajectory < done)
        .copied()
        .collect();
    let steps = screening::step_effects(&factors, &steps, &points, outcomes.len());
    let ranking = screening::screen(&factors, &steps, &outcomes, s.reps);
    let doc = SensitivityDoc {
        surge_version: env!("CARGO_PKG_VERSION").to_string(),
        model: base.scenario.name.clone(),
        method: screening::METHOD.to_string(),
        reference: screening::REFERENCE.to_string(),
        seed,
        seeds: Seeds::Common.name().to_string(),
        levels: s.levels,
        trajectories: s.trajectories,
        trajectories_done: done,
        budget_reached: ran.budget_reached,
        reps: s.reps,
        runs: n as u64 * u64::from(s.reps),
        overrides: s.search.source.sets.clone(),
        factors,
        outcomes,
        ranking,
        points,
        steps,
    };
    crate::output::sensitivity::write(&dir, &doc, Some(provenance.clone()))?;
    let page = crate::report::sensitivity::build(&doc, &dir, Some(&model_text), Some(&provenance));
    crate::report::write(&dir, &page)?;
    // A screening cut by its budget keeps its journal for `--resume` to go on.
    if !ran.budget_reached {
        crate::store::journal::remove(&ran.journal)?;
    }
    Ok(SensitivityOutcome { dir, doc })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The new-user trial read "at the value 5.333333333": a level between the ends of the
    /// range, not a value they wrote.
    #[test]
    fn an_error_at_a_level_names_it_rounded_with_its_level() {
        let f = Factor {
            key: "tier.db.service.mean".into(),
            lo: 2.0,
            hi: 10.0,
            whole: false,
            range: "2..10".into(),
            unit: "s".into(),
        };
        let e = |value: &str| ModelError {
            file: "m.toml".into(),
            place: Place::Vary {
                key: f.key.clone(),
                value: value.into(),
            },
            key: Some("tier.db.service".into()),
            message: format!("refused, got {value}"),
        };
        let at = 2.0 + 8.0 / 3.0;
        let got = level_named(e(&f.text(at)), std::slice::from_ref(&f), &[at], 4).to_string();
        assert!(
            got.contains("(in --vary tier.db.service.mean, at the value 4.67 (rounded: level 2 of 4 on 2..10))"),
            "{got}"
        );
        assert!(got.ends_with("refused, got 4.67"), "{got}");
        // An end of the range is written as it was.
        let got = level_named(e("10"), std::slice::from_ref(&f), &[10.0], 4).to_string();
        assert!(got.contains("at the value 10)"), "{got}");
    }
}
