//! The report of a run, from its output folder: `summary.json` (one replication, or the means
//! with `ci95` and the replications, read as `metrics::run_summary::RunSummary`), the clock of
//! `timeseries.csv` and `timeline.svg`. The answer says when the site went down and came back,
//! what was lost and how the SLO fared; replicated runs give means with 95% intervals and the
//! share of replications that went down. The key-metrics table is `run_table`.

use anyhow::Result;
use std::path::Path;

use super::assert::Outcome;
use super::story::{Level, Medium, ReportWords, story};
use super::{Block, Chart, Report, Section};
use crate::fmt::{human_count, human_duration, pct};
use crate::metrics::Summary;
use crate::metrics::means::{SummaryCi, SummaryMeans};
use crate::metrics::run_summary::RunSummary;
use crate::output::chart::clock_label;
use crate::store::json::{Documented, read_json};
use crate::store::provenance::Provenance;

/// What a run's folder holds that the report reads.
pub(crate) struct RunFolder {
    pub(crate) summary: RunSummary,
    pub provenance: Option<Provenance>,
    /// Clock time of t = 0, seconds after midnight, when the model gives one.
    pub start_clock_s: Option<f64>,
    pub timeline: Option<Chart>,
}

impl RunFolder {
    pub(crate) fn read(dir: &Path) -> Result<RunFolder> {
        let read: Documented<RunSummary> = read_json(&dir.join("summary.json"))?;
        Ok(RunFolder {
            summary: read.doc,
            provenance: read.provenance,
            start_clock_s: start_clock(&dir.join("timeseries.csv")),
            timeline: Chart::from_dir(
                dir,
                "timeline",
                "Timeline: users, requests by outcome, latency, window success rate against the \
                 SLO and outage lines, and each tier's instances and threads (outages shaded).",
            ),
        })
    }
}

impl RunFolder {
    /// `summary.json` as a JSON tree, for the `--assert` checks to walk.
    pub(crate) fn document(&self) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(Documented {
            doc: &self.summary,
            provenance: self.provenance.clone(),
        })?)
    }
}

/// A run's summary as the report reads it: the means (one run's own figures), their 95%
/// half-widths (none for one run), the replications (none for one run) and their count.
pub(super) struct View<'a> {
    pub(super) m: SummaryMeans,
    pub(super) ci: SummaryCi,
    pub(super) runs: &'a [Summary],
    pub(super) reps: u64,
    /// The summary of one run (`None` over replications).
    pub(super) one: Option<&'a Summary>,
}

impl View<'_> {
    fn of(s: &RunSummary) -> View<'_> {
        let (m, ci) = s.means();
        View {
            m,
            ci,
            runs: s.replications(),
            reps: s.reps() as u64,
            one: match s {
                RunSummary::One(one) => Some(one),
                RunSummary::Mean(_) => None,
            },
        }
    }
}

/// The clock of t = 0 from the first row of `timeseries.csv` (its `t_s` and `clock` cells).
fn start_clock(path: &Path) -> Option<f64> {
    let mut rdr = csv::Reader::from_path(path).ok()?;
    let header: Vec<String> = rdr.headers().ok()?.iter().map(String::from).collect();
    let (it, ic) = (
        header.iter().position(|h| h == "t_s")?,
        header.iter().position(|h| h == "clock")?,
    );
    let row = rdr.records().next()?.ok()?;
    let t: f64 = row.get(it)?.parse().ok()?;
    let clock = crate::model::units::parse_clock(row.get(ic)?).ok()?;
    Some(clock - t)
}

/// The name of what stopped a run, as `summary.json` writes it (`max_events`).
fn ended_by_name(s: &SummaryMeans) -> String {
    let name = s.ended_by.and_then(|e| match serde_json::to_value(e) {
        Ok(serde_json::Value::String(n)) => Some(n),
        _ => None,
    });
    name.unwrap_or_else(|| "a bound".into())
}

/// The report of the run in `f`.
pub(crate) fn build(f: &RunFolder, model_text: Option<&str>, checks: Vec<Outcome>) -> Report {
    let v = View::of(&f.summary);
    let reps = v.reps;
    let seed = f.summary.seed();
    let clock = |t: f64| match f.start_clock_s {
        Some(_) => clock_label(t, f.start_clock_s),
        None => format!("t = {}", human_duration(t)),
    };
    let simulated = v.m.sim_time_s.unwrap_or(0.0);
    let subtitle = format!(
        "surge run · {} simulated · {}",
        human_duration(simulated),
        if reps > 1 {
            format!("mean of {reps} replications (base seed {seed})")
        } else {
            format!("seed {seed}")
        }
    );
    let mut answer = Vec::new();
    if f.summary.partial() {
        answer.push(format!(
            "PARTIAL: the run stopped at {} ({}) before its horizon; every figure covers only \
             the time simulated, and nothing is said about the rest.",
            clock(v.m.simulated_until_s.unwrap_or(simulated)),
            ended_by_name(&v.m)
        ));
    }
    answer.push(super::levels::levels_sentence(&v.m));
    answer.extend(outage_sentences(f, &v, &clock));
    use crate::metrics::pool_verdict::{bottleneck_words, saturated_words};
    if let Some(words) = bottleneck_words(&v.m.tiers) {
        answer.push(format!("The bottleneck was {words}."));
    } else if let Some(words) = saturated_words(&v.m.tiers) {
        answer.push(format!("The bottleneck was {words}."));
    }
    answer.extend(super::levels::sentences(&v.m, reps, &clock));
    answer.push(slo_sentence(&v.m));
    answer.extend(crash_sentences(&v.m, reps, &clock));
    let mut sections = vec![Section {
        heading: "Key metrics".to_string(),
        blocks: vec![Block::Table(super::run_table::metrics_table(
            (&v.m, &v.ci),
            v.runs,
            v.one,
            v.reps,
        ))],
    }];
    sections.push(Section {
        heading: "Timeline".to_string(),
        blocks: vec![match &f.timeline {
            Some(c) => Block::Chart(c.clone()),
            None => Block::Text("timeline.svg is missing from the folder.".into()),
        }],
    });
    sections.extend(super::model_and_provenance(
        model_text,
        f.provenance.as_ref(),
        Some(seed),
    ));
    Report {
        title: format!("{}: surge run", f.summary.model()),
        subtitle,
        answer,
        checks,
        sections,
    }
}

/// "Instances of tier app crashed 3 times, the first at 22:50.", for each tier that crashed.
fn crash_sentences(m: &SummaryMeans, reps: u64, clock: &dyn Fn(f64) -> String) -> Vec<String> {
    (m.tiers.iter())
        .filter(|t| t.crashes.unwrap_or(0.0) > 0.0)
        .map(|t| {
            format!(
                "Instances of tier {} crashed {} times{}{}.",
                t.name,
                human_count(t.crashes.unwrap_or(0.0)),
                if reps > 1 {
                    " (mean per replication)"
                } else {
                    ""
                },
                (t.first_crash_s).map_or(String::new(), |t| format!(", the first at {}", clock(t)))
            )
        })
        .collect()
}

/// "By requests: down at 22:52, back within the SLO at 07:59, 9 h 7 min after going down; ...", or the share of
/// replications that went down with mean times and their intervals (`story`), ending with the
/// requests lost.
fn outage_sentences(f: &RunFolder, v: &View, clock: &dyn Fn(f64) -> String) -> Vec<String> {
    let m = &v.m;
    let r = &m.requests;
    let offered = r.attempts.offered.unwrap_or(0.0);
    let lost = [r.attempts.rejected, r.attempts.timed_out, r.attempts.failed]
        .iter()
        .flatten()
        .sum::<f64>();
    let lost = if v.reps <= 1 {
        format!(
            "{} requests lost (rejected, timed out or failed) of {} offered ({})",
            human_count(lost),
            human_count(offered),
            pct(lost / offered.max(1.0))
        )
    } else {
        format!(
            "per replication {} requests lost (rejected, timed out or failed) of {} offered \
             (means)",
            human_count(lost),
            human_count(offered)
        )
    };
    let words = ReportWords {
        below: m.slo.outage_below.map_or("the outage line".into(), pct),
        window: m.slo.window_s.map_or("an SLO".into(), human_duration),
        stable_s: m.slo.stable_s,
        lost,
    };
    let runs = f.summary.runs();
    vec![story(&runs, Level::Requests, clock, &Medium::Report(words))]
}

fn slo_sentence(m: &SummaryMeans) -> String {
    let slo = &m.slo;
    let target = match (slo.target_success_rate, slo.target_latency_s) {
        (Some(r), Some(l)) => format!(
            "the SLO (success rate at least {}, p95 latency at most {}, per {} window)",
            pct(r),
            human_duration(l),
            slo.window_s.map_or("SLO".into(), human_duration)
        ),
        _ => "the SLO".to_string(),
    };
    format!(
        "Against {target}: {} of requests succeeded over the measured period; {} of windows met \
         the SLO, {} out of it; error budget used {}.",
        slo.success_rate.map_or("-".into(), pct),
        slo.windows_met_share
            .map_or("-".into(), |x| format!("{:.1}%", 100.0 * x)),
        slo.time_out_of_slo_s.map_or("-".into(), human_duration),
        slo.error_budget_used
            .map_or("-".into(), |x| format!("{:.0}%", 100.0 * x)),
    )
}
