//! The journal of a comparison in progress (`compare.partial.csv` in its output folder): a first
//! line naming the comparison (`# surge compare journal: surge_version=... model_hash=...`, the
//! hash over every variant's effective model, the replications and the seed), then one row per
//! finished (variant, replication): `variant`, `rep`, `seed`, the run's SLO-window success rates
//! (what the chart and `down_at_end` read of its time series) and its summary as JSON. Ctrl-C, a
//! termination signal or a kill loses no finished run; `--resume` reads them back, each checked
//! against the comparison (its variant, a replication within `--reps` or `--max-reps`, the seed that replication
//! must have, a summary of that seed), and runs only the others.
//!
//! Not here: the journal file itself (`store::journal`), running and summarising
//! (`experiment::compare`), the comparison that writes and reads it (`app::compare`).

use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::Path;

use crate::error::BadInput;
use crate::experiment::compare::{Done, Reps};
use crate::experiment::variant::Variant;
use crate::experiment::{RunOutput, replication_seed};
use crate::metrics::{Summary, TimeSeries};
use crate::model::Model;
use crate::model::canonical::fnv1a;
use crate::store::journal;
use crate::store::json::parse_json;

/// The journal's columns.
pub(super) const HEADER: [&str; 5] = ["variant", "rep", "seed", "window_success_rate", "summary"];

/// The first line of the journal of this comparison.
pub(super) fn marker(all: &[(Variant, Model)], reps: Reps, seed: u64) -> String {
    let mut text = String::new();
    for (v, m) in all {
        text.push_str(&format!("variant {}\nmodel {}\n", v.name, m.canonical));
    }
    text.push_str(&format!("{}\nseed {seed}\n", reps.text()));
    if matches!(reps, Reps::Auto { .. }) {
        // Its replications stop by the hold rule: a journal of full runs is another comparison.
        text.push_str("hold rule\n");
    }
    format!(
        "surge compare journal: surge_version={} model_hash={:016x}",
        env!("CARGO_PKG_VERSION"),
        fnv1a(text.as_bytes())
    )
}

/// One finished run as a journal row.
pub(super) fn row(variant: &str, rep: u32, out: &RunOutput) -> Result<Vec<String>> {
    let rates: Vec<String> = out
        .series
        .window_success_rate
        .iter()
        .map(|r| r.to_string())
        .collect();
    Ok(vec![
        variant.to_string(),
        rep.to_string(),
        out.summary.seed.to_string(),
        rates.join(" "),
        serde_json::to_string(&out.summary)?,
    ])
}

/// The runs a journal holds, each checked against this comparison; `None` without a journal.
pub(super) fn read(
    path: &Path,
    marker: &str,
    all: &[(Variant, Model)],
    reps: u32,
    seed: u64,
) -> Result<Option<(journal::Contents, Done)>> {
    let Some(c) = journal::read(path, "compare")? else {
        return Ok(None);
    };
    if c.marker != marker {
        bail!(BadInput(format!(
            "{} is the journal of another comparison ({}) than this command's: resume with the \
             same model, variants, --set, --reps, --seed and surge version, or run without \
             --resume to start over",
            path.display(),
            c.marker
        )));
    }
    let mut done = Done::new();
    let mut texts: BTreeMap<(usize, u32), Vec<String>> = BTreeMap::new();
    for fields in &c.rows {
        let (v, r, out) = parse(fields, all, reps, seed).map_err(|why| {
            BadInput(format!(
                "{}: the row `{}` is not a run of this comparison ({why}); run without --resume \
                 to start over",
                path.display(),
                clip(&fields.join(","))
            ))
        })?;
        match texts.get(&(v, r)) {
            Some(before) if before != fields => bail!(BadInput(format!(
                "{}: two different rows for variant \"{}\" replication {r}; run without \
                 --resume to start over",
                path.display(),
                all[v].0.name
            ))),
            Some(_) => {}
            None => {
                texts.insert((v, r), fields.clone());
                done.insert((v, r), out);
            }
        }
    }
    let kept = journal::Contents {
        marker: c.marker,
        header: c.header,
        rows: texts.into_values().collect(),
    };
    Ok(Some((kept, done)))
}

/// A row read back, or why it is not one of this comparison's runs.
fn parse(
    fields: &[String],
    all: &[(Variant, Model)],
    reps: u32,
    seed: u64,
) -> Result<(usize, u32, RunOutput), String> {
    let [name, rep, s, rates, summary] = fields else {
        return Err(format!("{} fields, not {}", fields.len(), HEADER.len()));
    };
    let v = all
        .iter()
        .position(|(x, _)| x.name == *name)
        .ok_or_else(|| format!("no variant is named \"{name}\""))?;
    let r: u32 = rep
        .parse()
        .ok()
        .filter(|r| *r < reps)
        .ok_or_else(|| format!("replication `{rep}` is not one of 0..{reps}"))?;
    let want = replication_seed(seed, u64::from(r));
    if s.parse::<u64>().ok() != Some(want) {
        return Err(format!("replication {r} has the seed {want}, not `{s}`"));
    }
    let summary: Summary = parse_json(summary, Path::new("summary"))
        .map_err(|e| format!("its summary is not one: {e}"))?;
    if summary.seed != want {
        return Err(format!("its summary is of the seed {}", summary.seed));
    }
    let model = &all[v].1;
    let window: Vec<f64> = rates
        .split_whitespace()
        .map(|x| {
            x.parse::<f64>()
                .ok()
                .filter(|x| x.is_nan() || (0.0..=1.0).contains(x))
        })
        .collect::<Option<_>>()
        .ok_or("a window success rate is not a share or NaN")?;
    if window.len() > model.buckets() {
        return Err(format!(
            "{} window success rates for {} buckets",
            window.len(),
            model.buckets()
        ));
    }
    let series = TimeSeries {
        bucket_s: model.scenario.bucket_s,
        start_clock_s: model.scenario.start_clock_s,
        window_success_rate: window,
        ..TimeSeries::default()
    };
    Ok((v, r, RunOutput { summary, series }))
}

/// A row shortened for a message (a summary is long).
fn clip(s: &str) -> String {
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}
