//! `surge optimize`: the cheapest configuration of the varied keys that keeps the SLO (or avoids
//! an outage) under a surge. [`optimize`] checks the settings, runs the search (journaled,
//! resumable, within a budget: `experiment::optimize`), and writes `optimize.json`,
//! `optimize.csv` (every configuration of the grid) and the chart of cost against the share of
//! runs holding (`optimize.png`, `optimize.svg`); it returns the answer. Each run is a line on
//! stderr as it ends, unless quiet.
//!
//! Not here: the search (`experiment::optimize`), pricing (`model::cost`), the chart
//! (`output::optimize`), the lines a command prints (`commands::optimize`), the flags (`cli`).

use anyhow::Result;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use super::{ModelSource, SearchSettings, out_dir};
use crate::error::BadInput;
use crate::experiment::optimize::{self, Optimization, Problem};
use crate::experiment::vary::{Vary, parse_vary};
use crate::metrics::slo::Criterion;
use crate::model::COUNT_KEYS;

/// Replications of one configuration at most, by default.
pub(crate) const MAX_REPS: u32 = 12;
/// Values of a key that is not a count when `--vary K=LO..HI` gives no step.
pub(crate) const POINTS: usize = 5;

/// An optimization, resolved from the flags.
#[derive(Debug, Clone)]
pub(crate) struct OptimizeSettings {
    /// The model, what a configuration must keep (the SLO, or no outage), the confidence, the
    /// budget, the journal, the runs and quiet: what every search shares.
    pub(crate) search: SearchSettings,
    /// What a configuration must keep (the SLO, or no outage).
    pub(crate) criterion: Criterion,
    /// Two-sided confidence of each told verdict.
    pub(crate) confidence: f64,
    /// `--surge X`: the surge's peak multiplier (`surge.peak`), if given.
    pub(crate) surge: Option<f64>,
    /// Each `--vary K=LO..HI[:STEP]` or `K=v1,v2,...`.
    pub(crate) varies: Vec<String>,
    pub(crate) max_reps: u32,
}

/// What the optimization found and where it wrote it.
pub(crate) struct OptimizeOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) opt: Optimization,
    /// Holding runs, all alike, that tell a configuration from 50% at the confidence (the
    /// search's `ErrorSplit`): what a brute-force sweep would need of each configuration.
    pub(crate) told_reps: u32,
    /// Wall-clock seconds the command took.
    pub(crate) wall_s: f64,
}

/// Optimize `s` (see the module's comment).
pub(crate) fn optimize(settings: &OptimizeSettings) -> Result<OptimizeOutcome> {
    let started = Instant::now();
    let varies = parse_varies(&settings.varies)?;
    let s = &settings.search;
    let mut sets = s.source.sets.clone();
    if let Some(x) = settings.surge {
        if !(x > 0.0 && x.is_finite()) {
            return Err(BadInput(format!("--surge must be a multiplier above 0, got {x}")).into());
        }
        sets.push(format!("surge.peak={}", crate::fmt::format_number(x)));
    }
    let source = ModelSource::new(s.source.file.as_deref(), &sets);
    let base = source.load()?;
    settings.criterion.check(&base)?;
    // The grid's two corners (every key at its first value, every key at its last), checked
    // before any file is written: an unknown key or a bad value is refused there.
    for corner in [
        varies
            .iter()
            .map(|v| v.values[0].clone())
            .collect::<Vec<_>>(),
        varies
            .iter()
            .map(|v| v.values[v.values.len() - 1].clone())
            .collect(),
    ] {
        let m = crate::experiment::vary::load_point(
            source.file.as_deref(),
            &source.sets,
            &varies,
            &corner,
        )?;
        crate::experiment::guard::check_run_size(&m, s.runs.allow_huge)?;
    }
    let dir = out_dir(&s.runs.out, &base, "optimize");
    let _lock = crate::store::lock::lock(&dir)?;
    let journal = dir.join("optimize.partial.csv");
    crate::app::interrupt::watch_journal(&journal)?;
    let count = AtomicU32::new(0);
    let show = |values: &[String], rep: u32, failed: bool| {
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        let at: Vec<String> = (varies.iter().zip(values))
            .map(|(v, x)| format!("{}={x}", v.key))
            .collect();
        s.runs.notes.note(&format!(
            "run {n}: {} replication {rep} -> {} ({} elapsed)",
            at.join(" "),
            if failed { "fails" } else { "holds" },
            crate::fmt::human_duration(started.elapsed().as_secs_f64())
        ));
    };
    let opt = optimize::optimize(&Problem {
        path: source.file.as_deref(),
        sets: &source.sets,
        varies: &varies,
        seed: s.runs.seed,
        criterion: settings.criterion,
        confidence: settings.confidence,
        max_reps: settings.max_reps,
        jobs: crate::experiment::shard::jobs(s.runs.jobs, &|_| None, &|n| s.runs.notes.note(n)).0,
        journal: Some(&journal),
        resume: s.resume,
        deadline: s.deadline(started),
        stop: Some(crate::app::interrupt::stop_flag()),
        on_run: (!s.quiet).then_some(&show as &optimize::OnRun),
    })?;
    let doc = crate::store::json::Documented {
        doc: &opt,
        provenance: Some(source.provenance()?),
    };
    crate::store::atomic::write_json(&dir.join("optimize.json"), &doc)?;
    write_csv(&dir.join("optimize.csv"), &opt)?;
    let title = format!(
        "{} — cheapest configuration that keeps {}",
        base.scenario.name,
        keep_words(settings.criterion)
    );
    crate::output::optimize::draw(&title, &opt, keep_words(settings.criterion), &dir)?;
    let told_reps = crate::experiment::search::ErrorSplit::of(opt.confidence).hold_reps;
    Ok(OptimizeOutcome {
        dir,
        opt,
        told_reps,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

/// What a configuration keeps, in words.
pub(crate) fn keep_words(c: Criterion) -> &'static str {
    match c {
        Criterion::Slo => "the SLO",
        _ => "no outage",
    }
}

/// Read each `--vary`: a count's range without a step takes every whole value, another key's
/// `POINTS` values; a key assumed monotone must list its values in increasing order.
pub(crate) fn parse_varies(raws: &[String]) -> Result<Vec<Vary>, BadInput> {
    if raws.is_empty() {
        return Err(BadInput("give at least one --vary KEY=LO..HI".into()));
    }
    let mut out: Vec<Vary> = Vec::new();
    for raw in raws {
        let key = raw.split_once('=').map_or("", |(k, _)| k.trim());
        let last = key.rsplit('.').next().unwrap_or("");
        let stepless = raw.contains("..") && !raw.contains(':');
        let spec = if stepless && COUNT_KEYS.contains(&last) {
            format!("{raw}:1")
        } else {
            raw.clone()
        };
        let v = parse_vary(&spec, POINTS).map_err(|e| BadInput(e.0.replace(&spec, raw)))?;
        if out.iter().any(|w| w.key == v.key) {
            return Err(BadInput(format!(
                "--vary {} is given twice: give all its values in one --vary",
                v.key
            )));
        }
        if optimize::assumed_monotone(&v.key) {
            let nums: Option<Vec<f64>> = v.values.iter().map(|x| x.parse().ok()).collect();
            if !nums.is_some_and(|n| n.windows(2).all(|w| w[0] < w[1])) {
                return Err(BadInput(format!(
                    "--vary {raw}: more of `{}` is assumed never to hurt, so its values must be \
                     numbers in increasing order",
                    v.key
                )));
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// `optimize.csv`: one row per configuration of the grid.
fn write_csv(path: &Path, o: &Optimization) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["config".into()];
    header.extend(o.keys.iter().map(|k| k.key.clone()));
    header.extend(
        [
            "cost_per_hour",
            "status",
            "runs",
            "failures",
            "share_holding",
            "told",
            "pareto",
            "optimum",
        ]
        .map(String::from),
    );
    w.write_record(&header)?;
    for c in &o.configs {
        let mut row = vec![c.point.to_string()];
        row.extend(c.values.iter().cloned());
        row.push(crate::fmt::format_number(c.cost_per_hour));
        row.push(c.status.name().to_string());
        row.push(c.runs.len().to_string());
        row.push(c.failures.to_string());
        row.push(
            c.share_holding
                .map_or(String::new(), crate::fmt::format_number),
        );
        row.push(c.told.map_or(String::new(), |t| t.to_string()));
        row.push(o.pareto.contains(&c.point).to_string());
        row.push((o.optimum == Some(c.point)).to_string());
        w.write_record(&row)?;
    }
    crate::store::atomic::write_atomic(path, &w.into_inner()?)
}
