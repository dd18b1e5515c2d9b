//! The report of a run, from its output folder: `summary.json` (one replication, or the means
//! with `ci95` and the replications), the clock of `timeseries.csv` and `timeline.svg`. The
//! answer says when the site went down and came back, what was lost and how the SLO fared;
//! replicated runs give means with 95% intervals and the share of replications that went down.

use anyhow::{Context, Result};
use serde_json::Value;
use std::path::Path;

use super::assert::{Outcome, lookup};
use super::mean::Mean;
use super::{Block, Chart, Report, Section, Table};
use crate::fmt::{human_count, human_duration};
use crate::output::chart::clock_label;
use crate::stats::mean_ci95;
use crate::store::provenance::Provenance;

/// What a run's folder holds that the report reads.
pub struct RunFolder {
    pub summary: Value,
    /// Clock time of t = 0, seconds after midnight, when the model gives one.
    pub start_clock_s: Option<f64>,
    pub timeline: Option<Chart>,
}

impl RunFolder {
    pub fn read(dir: &Path) -> Result<RunFolder> {
        let path = dir.join("summary.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let summary: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        Ok(RunFolder {
            summary,
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

fn pct(x: f64) -> String {
    if x > 0.0 && x < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", 100.0 * x)
    }
}

fn num(v: &Value, path: &str) -> Option<f64> {
    match lookup(v, path)? {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// The outage of one run (a `summary.json` or one of its replications) was still on when the
/// run ended, so its downtime is a lower bound cut by the horizon: its last episode reaches the
/// last SLO window. A window stands for the bucket at its centre, so that episode ends within a
/// bucket of half a window before the end (the last bucket's centre and half a bucket), while
/// one that ended earlier stops at least a bucket before that: the middle, half a window before
/// the end, tells them apart without the bucket size.
fn down_at_end(run: &Value) -> bool {
    let last_end = run["outage"]["intervals"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|i| i[1].as_f64());
    let end = num(run, "simulated_until_s").or_else(|| num(run, "sim_time_s"));
    match (run["outage"]["crashed"].as_bool(), last_end, end) {
        (Some(true), Some(e), Some(end)) => e > end - num(run, "slo.window_s").unwrap_or(0.0) / 2.0,
        _ => false,
    }
}

/// The report of the run in `f`.
pub fn build(f: &RunFolder, model_text: Option<&str>, checks: Vec<Outcome>) -> Report {
    let s = &f.summary;
    let name = s["model"].as_str().unwrap_or("model").to_string();
    let reps = s["reps"].as_u64().unwrap_or(1);
    let clock = |t: f64| match f.start_clock_s {
        Some(_) => clock_label(t, f.start_clock_s),
        None => format!("t = {}", human_duration(t)),
    };
    let simulated = num(s, "sim_time_s").unwrap_or(0.0);
    let partial = s["partial"].as_bool().unwrap_or(false);
    let subtitle = format!(
        "surge run · {} simulated · {}",
        human_duration(simulated),
        if reps > 1 {
            format!("mean of {reps} replications (base seed {})", s["seed"])
        } else {
            format!("seed {}", s["seed"])
        }
    );
    let mut answer = Vec::new();
    if partial {
        answer.push(format!(
            "PARTIAL: the run stopped at {} ({}) before its horizon; every figure covers only \
             the time simulated, and nothing is said about the rest.",
            clock(num(s, "simulated_until_s").unwrap_or(simulated)),
            s["ended_by"].as_str().unwrap_or("a bound")
        ));
    }
    answer.push(super::levels::levels_sentence(s));
    answer.extend(outage_sentences(s, reps, &clock));
    answer.extend(super::levels::sentences(s, reps, &clock));
    answer.push(slo_sentence(s));
    for (i, t) in s["tiers"].as_array().into_iter().flatten().enumerate() {
        let crashes = num(s, &format!("tiers.{i}.crashes")).unwrap_or(0.0);
        if crashes > 0.0 {
            let first = num(s, &format!("tiers.{i}.first_crash_s"));
            answer.push(format!(
                "Instances of tier {} crashed {} times{}{}.",
                t["name"].as_str().unwrap_or("?"),
                human_count(crashes),
                if reps > 1 {
                    " (mean per replication)"
                } else {
                    ""
                },
                first.map_or(String::new(), |t| format!(", the first at {}", clock(t)))
            ));
        }
    }
    let mut sections = vec![Section {
        heading: "Key metrics".to_string(),
        blocks: vec![Block::Table(metrics_table(s, reps))],
    }];
    let mut charts = Vec::new();
    if let Some(c) = &f.timeline {
        charts.push(Block::Chart(c.clone()));
    } else {
        charts.push(Block::Text(
            "timeline.svg is missing from the folder.".into(),
        ));
    }
    sections.push(Section {
        heading: "Timeline".to_string(),
        blocks: charts,
    });
    let provenance: Option<Provenance> = serde_json::from_value(s["provenance"].clone()).ok();
    sections.extend(super::model_and_provenance(
        model_text,
        provenance.as_ref(),
        s["seed"].as_u64(),
    ));
    Report {
        title: format!("{name}: surge run"),
        subtitle,
        answer,
        checks,
        sections,
    }
}

/// "Down at 22:52, back at 07:59, 9 h 7 min later; ...", or the share of replications that went
/// down with mean times and their intervals.
fn outage_sentences(s: &Value, reps: u64, clock: &dyn Fn(f64) -> String) -> Vec<String> {
    let below = num(s, "slo.outage_below").map_or("the outage line".into(), pct);
    let window = num(s, "slo.window_s").map_or("an SLO".into(), human_duration);
    let offered = num(s, "requests.offered").unwrap_or(0.0);
    let lost = ["rejected", "timed_out", "failed"]
        .iter()
        .filter_map(|k| num(s, &format!("requests.{k}")))
        .sum::<f64>();
    let lost_text = format!(
        "{} requests lost (rejected, timed out or failed) of {} offered ({})",
        human_count(lost),
        human_count(offered),
        pct(lost / offered.max(1.0))
    );
    if reps <= 1 {
        if num(s, "outage.crashed") != Some(1.0) {
            return vec![format!(
                "By requests: the site stayed up, the success rate never fell below {below} over \
                 a {window} window; {lost_text}."
            )];
        }
        let crash = num(s, "outage.crash_time_s").unwrap_or(f64::NAN);
        let episodes = num(s, "outage.episodes").unwrap_or(0.0);
        let down = num(s, "outage.downtime_s").unwrap_or(0.0);
        let back = match (
            s["outage"]["recovered"].as_bool(),
            num(s, "outage.recovered_at_s"),
        ) {
            (Some(true), Some(at)) => format!(
                "back at {}, {} later",
                clock(at),
                human_duration(at - crash)
            ),
            _ if down_at_end(s) => "not back by the end of the run: still down".to_string(),
            _ => over_unconfirmed(s, clock),
        };
        let down = Mean::of(down, f64::NAN, 1).censored(u32::from(down_at_end(s)));
        return vec![format!(
            "By requests: down at {}, {back}; {} outage episode{}, {} down in all; {lost_text}.",
            clock(crash),
            episodes,
            if episodes == 1.0 { "" } else { "s" },
            down.value(&human_duration)
        )];
    }
    let runs: Vec<&Value> = s["replications"].as_array().into_iter().flatten().collect();
    let down: Vec<&&Value> = runs
        .iter()
        .filter(|r| r["outage"]["crashed"] == Value::Bool(true))
        .collect();
    let n = runs.len();
    let mean_lost = format!(
        "per replication {} requests lost (rejected, timed out or failed) of {} offered (means)",
        human_count(lost),
        human_count(offered)
    );
    if down.is_empty() {
        return vec![format!(
            "By requests: the site stayed up in all {n} replications, the success rate never \
             fell below {below} over a {window} window; {mean_lost}."
        )];
    }
    let interval = |xs: &[f64], f: &dyn Fn(f64) -> String| {
        let (m, h) = mean_ci95(xs);
        Mean::of(m, h, xs.len() as u32).text_with(f, &human_duration)
    };
    let crash: Vec<f64> = down
        .iter()
        .filter_map(|r| r["outage"]["crash_time_s"].as_f64())
        .collect();
    let back: Vec<(f64, f64)> = down
        .iter()
        .filter_map(|r| {
            let o = &r["outage"];
            (o["recovered"] == Value::Bool(true))
                .then(|| {
                    Some((
                        o["recovered_at_s"].as_f64()?,
                        o["recovery_time_s"].as_f64()?,
                    ))
                })
                .flatten()
        })
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
    let downtime: Vec<f64> = down
        .iter()
        .filter_map(|r| r["outage"]["downtime_s"].as_f64())
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
            num(s, "slo.stable_s").map_or("slo.stable".into(), human_duration)
        ));
    }
    sentence.push_str(&format!("; {mean_lost}."));
    vec![sentence]
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
fn over_unconfirmed(s: &Value, clock: &dyn Fn(f64) -> String) -> String {
    let end = s["outage"]["intervals"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|i| i[1].as_f64());
    let held = match (num(s, "outage.held_at_end_s"), num(s, "slo.stable_s")) {
        (Some(h), Some(stable)) => held_words(h, stable),
        _ => "the SLO did not hold for slo.stable before the end".to_string(),
    };
    format!(
        "the outage over at {}; recovery not confirmed: {held}",
        end.map_or("-".into(), clock),
    )
}

fn slo_sentence(s: &Value) -> String {
    let target = match (
        num(s, "slo.target_success_rate"),
        num(s, "slo.target_latency_s"),
    ) {
        (Some(r), Some(l)) => format!(
            "the SLO (success rate at least {}, p95 latency at most {}, per {} window)",
            pct(r),
            human_duration(l),
            num(s, "slo.window_s").map_or("SLO".into(), human_duration)
        ),
        _ => "the SLO".to_string(),
    };
    format!(
        "Against {target}: {} of requests succeeded over the measured period; {} of windows met \
         the SLO, {} out of it; error budget used {}.",
        num(s, "slo.success_rate").map_or("-".into(), pct),
        num(s, "slo.windows_met_share").map_or("-".into(), |x| format!("{:.1}%", 100.0 * x)),
        num(s, "slo.time_out_of_slo_s").map_or("-".into(), human_duration),
        num(s, "slo.error_budget_used").map_or("-".into(), |x| format!("{:.0}%", 100.0 * x)),
    )
}

/// The key metrics with their 95% intervals (over replications; none for one run).
fn metrics_table(s: &Value, reps: u64) -> Table {
    type Fmt = fn(f64) -> String;
    let count: Fmt = human_count;
    let dur: Fmt = human_duration;
    let share: Fmt = pct;
    let plain: Fmt = |x| {
        if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
        }
    };
    let mut rows_spec: Vec<(String, String, Fmt, String)> = vec![
        (
            "requests offered".into(),
            "requests.offered".into(),
            count,
            "first attempts, retries and refreshes".into(),
        ),
        (
            "requests succeeded".into(),
            "requests.succeeded".into(),
            count,
            "attempts that got an answer in time".into(),
        ),
        (
            "requests rejected".into(),
            "requests.rejected".into(),
            count,
            "turned away: queue full or no instance".into(),
        ),
        (
            "requests timed out".into(),
            "requests.timed_out".into(),
            count,
            "the client gave up waiting".into(),
        ),
        (
            "requests failed".into(),
            "requests.failed".into(),
            count,
            "errors (crashed instance, failed dependency)".into(),
        ),
        (
            "latency p50".into(),
            "latency_s.p50".into(),
            dur,
            "of successful requests".into(),
        ),
        (
            "latency p95".into(),
            "latency_s.p95".into(),
            dur,
            "of successful requests".into(),
        ),
        (
            "latency p99".into(),
            "latency_s.p99".into(),
            dur,
            "of successful requests".into(),
        ),
        (
            "SLO success rate".into(),
            "slo.success_rate".into(),
            share,
            "succeeded / ended, measured period".into(),
        ),
        (
            "SLO windows met".into(),
            "slo.windows_met_share".into(),
            share,
            "windows meeting success rate and latency".into(),
        ),
        (
            "time out of SLO".into(),
            "slo.time_out_of_slo_s".into(),
            dur,
            "windows that broke the SLO".into(),
        ),
        (
            "error budget used".into(),
            "slo.error_budget_used".into(),
            share,
            "failures over those the target allows".into(),
        ),
        (
            "outage episodes".into(),
            "outage.episodes".into(),
            plain,
            "times the success rate fell below the outage line".into(),
        ),
        (
            "downtime".into(),
            "outage.downtime_s".into(),
            dur,
            "time below the outage line".into(),
        ),
        (
            "peak users on the site".into(),
            "peak_concurrent_users".into(),
            count,
            "after the warm-up".into(),
        ),
    ];
    rows_spec.extend(super::levels::rows(s));
    for (i, t) in s["tiers"].as_array().into_iter().flatten().enumerate() {
        let n = t["name"].as_str().unwrap_or("?");
        rows_spec.push((
            format!("{n}: utilisation"),
            format!("tiers.{i}.utilization"),
            share,
            "busy threads / threads".into(),
        ));
        rows_spec.push((
            format!("{n}: blocking"),
            format!("tiers.{i}.blocking_probability"),
            share,
            "arrivals turned away by the tier".into(),
        ));
        rows_spec.push((
            format!("{n}: mean queue wait"),
            format!("tiers.{i}.mean_queue_wait_s"),
            dur,
            "wait for a thread".into(),
        ));
        rows_spec.push((
            format!("{n}: instance crashes"),
            format!("tiers.{i}.crashes"),
            plain,
            "out of memory or failed".into(),
        ));
    }
    let runs: Vec<&Value> = s["replications"].as_array().into_iter().flatten().collect();
    let rows = rows_spec
        .into_iter()
        .map(|(label, path, f, meaning)| {
            let values = runs.iter().filter(|r| num(r, &path).is_some()).count() as u32;
            let cut = if path == "outage.downtime_s" {
                if reps > 1 {
                    runs.iter().filter(|r| down_at_end(r)).count() as u32
                } else {
                    u32::from(down_at_end(s))
                }
            } else {
                0
            };
            let half = num(&s["ci95"], &path).unwrap_or(f64::NAN);
            let m = Mean::of(num(s, &path).unwrap_or(f64::NAN), half, values.max(1)).censored(cut);
            let interval = match (reps > 1, m.interval(&f)) {
                (false, _) => "one run".to_string(),
                (true, Some(h)) => h,
                (true, None) if m.alike() => format!("none: all {} alike", m.values),
                (true, None) if cut > 0 => "none: a lower bound".to_string(),
                (true, None) => "-".to_string(),
            };
            vec![label, m.value(&f), interval, meaning]
        })
        .collect();
    Table {
        caption: if reps > 1 {
            format!(
                "Means over {reps} replications, with the half-width of their 95% confidence interval"
            )
        } else {
            "One replication: no interval (run with --reps to get one)".to_string()
        },
        header: vec![
            "metric".into(),
            "value".into(),
            "95% interval".into(),
            "what it measures".into(),
        ],
        rows,
        note: Some(
            "Counts cover the attempts offered after the warm-up; \"-\" is a value that does not \
             exist (no successes, so no latency); \"all n alike\": every replication gave the \
             same value, so there is no interval; \"at least\": the outage was still on at the \
             end, so the downtime is cut by the horizon."
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A 20-minute run, 5-minute SLO windows over 1-minute buckets: an episode that reaches the
    /// last window ends at 20 - 2.5 + 0.5 = 18 min; one that ended a window earlier, at 17 min.
    #[test]
    fn an_outage_that_reaches_the_last_window_is_still_on_at_the_end() {
        let run = |end_s: f64| {
            json!({"sim_time_s": 1200.0, "slo": {"window_s": 300.0},
                   "outage": {"crashed": true, "intervals": [[240.0, end_s]]}})
        };
        assert!(down_at_end(&run(1080.0)));
        assert!(!down_at_end(&run(1020.0)));
        // A partial run ends where it stopped.
        let mut partial = run(480.0);
        partial["simulated_until_s"] = json!(600.0);
        assert!(down_at_end(&partial));
        assert!(!down_at_end(
            &json!({"sim_time_s": 1200.0, "outage": {"crashed": false}})
        ));
    }
}
