//! The outage lines of `surge run`, one per level (requests, then calls): one replication's
//! story (down at, back at, episodes, downtime, what was lost), or over replications the share
//! that went down with mean times and their 95% intervals. Not here: the outage analysis itself
//! (`metrics::outage`) and the other lines of the report (`run`, `levels`).

use crate::experiment::RunOutput;
use crate::fmt::{human_count, human_duration};
use crate::model::Model;
use crate::report::simulated::Simulated;
use crate::stats::mean_ci95;

fn pct(x: f64) -> String {
    if x > 0.0 && x < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", 100.0 * x)
    }
}

/// The level an outage line reads: its outage analysis, what it counts as lost, and its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Requests,
    Calls,
    /// Only for a model with a users source (the caller checks).
    Users,
}

impl Level {
    /// "requests" or "calls", as the levels line names them.
    fn name(self) -> &'static str {
        match self {
            Level::Requests => "requests",
            Level::Calls => "calls",
            Level::Users => "users",
        }
    }

    fn outage(self, s: &crate::metrics::Summary) -> &crate::metrics::outage::Outage {
        match self {
            Level::Requests => &s.outage,
            Level::Calls => &s.calls.outage,
            Level::Users => s.sessions.as_ref().map_or(&s.calls.outage, |u| &u.outage),
        }
    }

    fn lost(self, s: &crate::metrics::Summary) -> f64 {
        match self {
            Level::Requests => s.requests.lost() as f64,
            Level::Calls => s.calls.lost as f64,
            Level::Users => s.sessions.as_ref().map_or(0.0, |u| u.lost as f64),
        }
    }

    /// What the success rate of a window is a rate of.
    fn rate(self) -> &'static str {
        match self {
            Level::Requests => "success rate",
            Level::Calls => "call success rate",
            Level::Users => "share of sessions that got every page",
        }
    }

    /// What was lost at this level, in words after the count.
    fn lost_words(self, model: &Model) -> String {
        match self {
            Level::Requests => format!("requests lost ({})", lost_kinds(model)),
            Level::Calls => {
                "calls lost (every attempt failed, or the waiting room turned the user away)".into()
            }
            Level::Users => {
                "users lost (gave up after errors, turned away by the waiting room or left it)"
                    .into()
            }
        }
    }
}

/// Users on the site as it went down: the most in the quarter hour before the crash (once
/// errors begin, users leave fast).
fn users_at(out: &RunOutput, crash: f64) -> f64 {
    let series = &out.series;
    if series.is_empty() {
        return 0.0;
    }
    let b = ((crash / series.bucket_s) as usize).min(series.len() - 1);
    let from = b.saturating_sub((900.0 / series.bucket_s).ceil() as usize);
    series.users[from..=b].iter().copied().fold(0.0, f64::max)
}

/// "x", or "x +- h" when there are replications to give an interval.
fn with_interval(xs: &[f64], fmt: &dyn Fn(f64) -> String) -> String {
    let (mean, half) = mean_ci95(xs);
    crate::fmt::plus_minus(fmt(mean), half, &human_duration)
}

/// The outage line at `level`: one replication's story, or over replications the share that
/// went down, the mean crash time with its 95% interval, and recovery over the recovered ones
/// only.
pub(crate) fn story(
    model: &Model,
    outs: &[RunOutput],
    span: &Simulated,
    label: &dyn Fn(f64) -> String,
    level: Level,
) -> String {
    let n = outs.len();
    let slo = &model.slo;
    let outage = |o: &RunOutput| level.outage(&o.summary).clone();
    let head = format!("outage by {}: ", level.name());
    let down: Vec<&RunOutput> = outs.iter().filter(|o| outage(o).crashed).collect();
    if down.is_empty() {
        let all = if n > 1 {
            format!(" in all {n} replications")
        } else {
            String::new()
        };
        return if span.stopped > 0 {
            format!(
                "{head}no outage in the simulated time{all} (the {} never fell below {} over a {} window before {}); {}\n",
                level.rate(),
                pct(slo.outage_below),
                human_duration(slo.window_s),
                label(span.until_s),
                span.not_simulated(model, label),
            )
        } else {
            format!(
                "{head}the site stayed up{all}: the {} never fell below {} over a {} window\n",
                level.rate(),
                pct(slo.outage_below),
                human_duration(slo.window_s)
            )
        };
    }
    let crash: Vec<f64> = down.iter().filter_map(|o| outage(o).crash_time_s).collect();
    let users: Vec<f64> = down
        .iter()
        .zip(&crash)
        .map(|(o, &c)| users_at(o, c))
        .collect();
    let back: Vec<(f64, f64)> = down
        .iter()
        .filter_map(|o| {
            let o = outage(o);
            match (o.recovered, o.recovered_at_s, o.recovery_time_s) {
                (Some(true), Some(at), Some(took)) => Some((at, took)),
                _ => None,
            }
        })
        .collect();
    // Not recovered: still down at the end (a lower bound), or over with the recovery not
    // confirmed (the SLO held for less than `slo.stable` before the end).
    let still: Vec<&RunOutput> = down
        .iter()
        .copied()
        .filter(|o| outage(o).down_at_end)
        .collect();
    let unconfirmed: Vec<f64> = (down.iter())
        .filter(|o| outage(o).recovered == Some(false) && !outage(o).down_at_end)
        .map(|o| outage(o).held_at_end_s.unwrap_or(0.0))
        .collect();
    let episodes: Vec<f64> = outs.iter().map(|o| f64::from(outage(o).episodes)).collect();
    let downtime: Vec<f64> = outs.iter().map(|o| outage(o).downtime_s).collect();
    let lost: Vec<f64> = outs.iter().map(|o| level.lost(&o.summary)).collect();
    let mean = |xs: &[f64]| mean_ci95(xs).0;
    let users_mean = mean(&users);
    let on_site = if users_mean > 0.0 {
        format!(" with {} users on the site", human_count(users_mean))
    } else {
        String::new()
    };
    // Downtime of a run still down at the end is cut by the horizon: a lower bound.
    let at_least = if still.is_empty() { "" } else { "at least " };
    let stable = human_duration(slo.stable_s);
    if n == 1 {
        let o = outage(&outs[0]);
        let back = match back.first() {
            Some(&(at, took)) => format!("back at {}, {} later", label(at), human_duration(took)),
            None if o.down_at_end => format!(
                "not recovered: still down at the end ({} after the crash, at least)",
                human_duration(o.recovery_time_s.unwrap_or(0.0))
            ),
            None => format!(
                "outage over at {}; recovery not confirmed: {}",
                label(o.intervals.last().map_or(0.0, |i| i[1])),
                crate::report::run::held_words(o.held_at_end_s.unwrap_or(0.0), slo.stable_s),
            ),
        };
        return format!(
            "{head}down at {}{on_site}; {back}; {} outage episode{}, {at_least}{} down in all; {} {}\n",
            label(crash[0]),
            o.episodes,
            if o.episodes == 1 { "" } else { "s" },
            human_duration(o.downtime_s),
            human_count(lost[0]),
            level.lost_words(model),
        );
    }
    let mut s = format!(
        "{head}down in {} of {n} replications, at {} (mean, 95% interval){}",
        down.len(),
        with_interval(&crash, label),
        if users_mean > 0.0 {
            format!("{on_site} (mean)")
        } else {
            String::new()
        },
    );
    if !back.is_empty() {
        let at: Vec<f64> = back.iter().map(|b| b.0).collect();
        let took: Vec<f64> = back.iter().map(|b| b.1).collect();
        s.push_str(&format!(
            "; back at {}, {} after the crash (mean over the {} recovered)",
            with_interval(&at, label),
            with_interval(&took, &human_duration),
            back.len()
        ));
    }
    if !still.is_empty() {
        s.push_str(&format!(
            "; not recovered in {} of {} by the end (still down)",
            still.len(),
            down.len()
        ));
    }
    if !unconfirmed.is_empty() {
        s.push_str(&format!(
            "; over but recovery not confirmed in {} of {} (the SLO held for {} of the {stable} \
             slo.stable before the end)",
            unconfirmed.len(),
            down.len(),
            with_interval(&unconfirmed, &human_duration),
        ));
    }
    s.push_str(&format!(
        "; per replication (mean of {n}): {:.1} outage episodes, {at_least}{} down, {} {}\n",
        mean(&episodes),
        human_duration(mean(&downtime)),
        human_count(mean(&lost)),
        level.lost_words(model),
    ));
    s
}

/// What "lost" counts in this model: the clients' own failures too where it has them.
fn lost_kinds(model: &Model) -> &'static str {
    let any = |f: fn(&crate::model::Client) -> bool| model.sources.iter().any(|s| f(&s.client));
    match (any(|c| c.breaker.is_some()), any(|c| c.throttle.is_some())) {
        (false, false) => "rejected, timed out or failed",
        (true, false) => "rejected, timed out, failed or short-circuited",
        (false, true) => "rejected, timed out, failed or throttled",
        (true, true) => "rejected, timed out, failed, short-circuited or throttled",
    }
}
