//! The report of a run, from its output folder: `summary.json` (one replication, or the means
//! with `ci95` and the replications, read as `metrics::run_summary::RunSummary`), the clock of
//! `timeseries.csv` and `timeline.svg`. The answer says when the site went down and came back,
//! what was lost and how the SLO fared; replicated runs give means with 95% intervals and the
//! share of replications that went down. The key-metrics table is `run_table`.

use anyhow::Result;
use std::path::Path;

use super::assert::Outcome;
use super::mean::Mean;
use super::run_table::pct;
use super::{Block, Chart, Report, Section};
use crate::fmt::{human_count, human_duration};
use crate::metrics::Summary;
use crate::metrics::means::{SummaryCi, SummaryMeans};
use crate::metrics::run_summary::RunSummary;
use crate::output::chart::clock_label;
use crate::stats::mean_ci95;
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

/// The outage of one run (a `summary.json` or one of its replications) was still on when the
/// run ended, so its downtime is a lower bound cut by the horizon: its last episode reaches the
/// last SLO window. A window stands for the bucket at its centre, so that episode ends within a
/// bucket of half a window before the end (the last bucket's centre and half a bucket), while
/// one that ended earlier stops at least a bucket before that: the middle, half a window before
/// the end, tells them apart without the bucket size.
pub(super) fn down_at_end(run: &Summary) -> bool {
    let last_end = run.outage.intervals.last().map(|i| i[1]);
    let end = run.simulated_until_s.unwrap_or(run.sim_time_s);
    match (run.outage.crashed, last_end) {
        (true, Some(e)) => e > end - run.slo.window_s.unwrap_or(0.0) / 2.0,
        _ => false,
    }
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
    answer.extend(outage_sentences(&v, &clock));
    answer.extend(super::levels::sentences(&v.m, reps, &clock));
    answer.push(slo_sentence(&v.m));
    answer.extend(crash_sentences(&v.m, reps, &clock));
    let mut sections = vec![Section {
        heading: "Key metrics".to_string(),
        blocks: vec![Block::Table(super::run_table::metrics_table(&v))],
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

/// "Down at 22:52, back at 07:59, 9 h 7 min later; ...", or the share of replications that went
/// down with mean times and their intervals.
fn outage_sentences(v: &View, clock: &dyn Fn(f64) -> String) -> Vec<String> {
    let m = &v.m;
    let below = m.slo.outage_below.map_or("the outage line".into(), pct);
    let window = m.slo.window_s.map_or("an SLO".into(), human_duration);
    let r = &m.requests;
    let offered = r.offered.unwrap_or(0.0);
    let lost = [r.rejected, r.timed_out, r.failed]
        .iter()
        .flatten()
        .sum::<f64>();
    if v.reps <= 1 {
        let lost_text = format!(
            "{} requests lost (rejected, timed out or failed) of {} offered ({})",
            human_count(lost),
            human_count(offered),
            pct(lost / offered.max(1.0))
        );
        return vec![one_run_sentence(v, &below, &window, &lost_text, clock)];
    }
    let mean_lost = format!(
        "per replication {} requests lost (rejected, timed out or failed) of {} offered (means)",
        human_count(lost),
        human_count(offered)
    );
    vec![replications_sentence(v, &below, &window, &mean_lost, clock)]
}

/// The outage sentence of one run.
fn one_run_sentence(
    v: &View,
    below: &str,
    window: &str,
    lost_text: &str,
    clock: &dyn Fn(f64) -> String,
) -> String {
    let o = &v.m.outage;
    if o.crashed != Some(1.0) {
        return format!(
            "By requests: the site stayed up, the success rate never fell below {below} over \
             a {window} window; {lost_text}."
        );
    }
    let crash = o.crash_time_s.unwrap_or(f64::NAN);
    let episodes = o.episodes.unwrap_or(0.0);
    let still = v.one.is_some_and(down_at_end);
    let back = match (o.recovered, o.recovered_at_s) {
        (Some(1.0), Some(at)) => format!(
            "back at {}, {} later",
            clock(at),
            human_duration(at - crash)
        ),
        _ if still => "not back by the end of the run: still down".to_string(),
        _ => over_unconfirmed(v, clock),
    };
    let down = Mean::of(o.downtime_s.unwrap_or(0.0), f64::NAN, 1).censored(u32::from(still));
    format!(
        "By requests: down at {}, {back}; {} outage episode{}, {} down in all; {lost_text}.",
        clock(crash),
        episodes,
        if episodes == 1.0 { "" } else { "s" },
        down.value(&human_duration)
    )
}

/// The outage sentence over replications: the share that went down, with mean times and their
/// intervals.
fn replications_sentence(
    v: &View,
    below: &str,
    window: &str,
    mean_lost: &str,
    clock: &dyn Fn(f64) -> String,
) -> String {
    let down: Vec<&Summary> = v.runs.iter().filter(|r| r.outage.crashed).collect();
    let n = v.runs.len();
    if down.is_empty() {
        return format!(
            "By requests: the site stayed up in all {n} replications, the success rate never \
             fell below {below} over a {window} window; {mean_lost}."
        );
    }
    let interval = |xs: &[f64], f: &dyn Fn(f64) -> String| {
        let (m, h) = mean_ci95(xs);
        Mean::of(m, h, xs.len() as u32).text_with(f, &human_duration)
    };
    let crash: Vec<f64> = down.iter().filter_map(|r| r.outage.crash_time_s).collect();
    let back: Vec<(f64, f64)> = (down.iter())
        .filter(|r| r.outage.recovered == Some(true))
        .filter_map(|r| Some((r.outage.recovered_at_s?, r.outage.recovery_time_s?)))
        .collect();
    let mut sentence = format!(
        "By requests: down in {} of {n} replications (means over those, with 95% intervals): \
         down at {}",
        down.len(),
        interval(&crash, clock)
    );
    if !back.is_empty() {
        let at: Vec<f64> = back.iter().map(|b| b.0).collect();
        let took: Vec<f64> = back.iter().map(|b| b.1).collect();
        sentence.push_str(&format!(
            "; back at {}, {} after the crash (over the {} that recovered)",
            interval(&at, clock),
            interval(&took, &human_duration),
            back.len()
        ));
    }
    let downtime: Vec<f64> = (down.iter())
        .map(|r| r.outage.downtime_s)
        .filter(|x| x.is_finite())
        .collect();
    let (m, h) = mean_ci95(&downtime);
    let cut = down.iter().filter(|r| down_at_end(r)).count() as u32;
    sentence.push_str(&format!(
        "; {} down in all (over the {} that went down)",
        Mean::of(m, h, downtime.len() as u32)
            .censored(cut)
            .text(&human_duration),
        down.len()
    ));
    if cut > 0 {
        sentence.push_str(&format!(
            "; not recovered by the end in {cut} of {} (still down)",
            down.len()
        ));
    }
    let unconfirmed = down.len() - back.len() - cut as usize;
    if unconfirmed > 0 {
        sentence.push_str(&format!(
            "; the outage over but recovery not confirmed in {unconfirmed} of {} (the SLO did \
             not hold for {} before the end)",
            down.len(),
            v.m.slo.stable_s.map_or("slo.stable".into(), human_duration)
        ));
    }
    sentence.push_str(&format!("; {mean_lost}."));
    sentence
}

/// How long the SLO held at the end of a run whose outage was over but not recovered: "the SLO
/// held for 40 min of the 1 h 0 min slo.stable before the end", or that it had not held again.
pub(crate) fn held_words(held_s: f64, stable_s: f64) -> String {
    if held_s > 0.0 {
        format!(
            "the SLO held for {} of the {} slo.stable before the end",
            human_duration(held_s),
            human_duration(stable_s)
        )
    } else {
        format!(
            "the SLO had not held again by the end (slo.stable {})",
            human_duration(stable_s)
        )
    }
}

/// "the outage over at 23:27; recovery not confirmed: the SLO held for 40 min of the 1 h
/// slo.stable before the end", for one run whose outage ended but did not recover.
fn over_unconfirmed(v: &View, clock: &dyn Fn(f64) -> String) -> String {
    let end = v.m.outage.intervals.last().map(|i| i[1]);
    let held = match (v.m.outage.held_at_end_s, v.m.slo.stable_s) {
        (Some(h), Some(stable)) => held_words(h, stable),
        _ => "the SLO did not hold for slo.stable before the end".to_string(),
    };
    format!(
        "the outage over at {}; recovery not confirmed: {held}",
        end.map_or("-".into(), clock),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20-minute run, 5-minute SLO windows over 1-minute buckets: an episode that reaches the
    /// last window ends at 20 - 2.5 + 0.5 = 18 min; one that ended a window earlier, at 17 min.
    #[test]
    fn an_outage_that_reaches_the_last_window_is_still_on_at_the_end() {
        let run = |end_s: f64| {
            let mut s = Summary {
                sim_time_s: 1200.0,
                ..Summary::default()
            };
            s.slo.window_s = Some(300.0);
            s.outage.crashed = true;
            s.outage.intervals = vec![[240.0, end_s]];
            s
        };
        assert!(down_at_end(&run(1080.0)));
        assert!(!down_at_end(&run(1020.0)));
        // A partial run ends where it stopped.
        let mut partial = run(480.0);
        partial.simulated_until_s = Some(600.0);
        assert!(down_at_end(&partial));
        let mut up = run(1080.0);
        up.outage.crashed = false;
        up.outage.intervals.clear();
        assert!(!down_at_end(&up));
    }
}
