//! The outage story of a run, "down at ..., back at ...", told by one function ([`story`]) over
//! the replications' typed summaries (`metrics::Summary`, as `summary.json` holds them) for both
//! places that tell it: the outage lines of `surge run` on the terminal (one per level: requests,
//! calls, users) and the outage sentence of the run's report (requests). One run's story (down
//! at, back at, episodes, downtime, what was lost), or over replications the share that went
//! down with mean times and their 95% intervals. The analysis is gathered once ([`Facts`]); the
//! two media word it as they always have ([`Medium`]).
//!
//! Not here: the outage analysis itself (`metrics::outage`), the other lines of the terminal
//! summary (`commands/run.rs`) and the other sentences of the report (`report/run.rs`).

use super::mean::Mean;
use super::simulated::Simulated;
use crate::fmt::{human_count, human_duration, pct};
use crate::metrics::Summary;
use crate::metrics::outage::Outage;
use crate::model::Model;
use crate::stats::mean_ci95;

/// The level an outage story reads: its outage analysis, what it counts as lost, and its words.
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

    fn outage(self, s: &Summary) -> &Outage {
        match self {
            Level::Requests => &s.outage,
            Level::Calls => &s.calls.outage,
            Level::Users => s.sessions.as_ref().map_or(&s.calls.outage, |u| &u.outage),
        }
    }

    fn lost(self, s: &Summary) -> f64 {
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
            Level::Calls if model.waiting_room.is_some() => {
                "calls lost (every attempt failed, or the waiting room turned the user away)".into()
            }
            Level::Calls => "calls lost (every attempt failed)".into(),
            Level::Users if model.waiting_room.is_some() => {
                "users lost (gave up after errors, turned away by the waiting room or left it)"
                    .into()
            }
            Level::Users => "users lost (gave up after errors)".into(),
        }
    }
}

/// Where the story is told, and what that medium says beside the analysis.
pub(crate) enum Medium<'a> {
    /// An outage line of `surge run` on the terminal: the model (its SLO and its clients, for
    /// what was lost), how much of the horizon was simulated, and the users on the site when
    /// replication `r` went down at `t` (`users_at(r, t)`, read from its time series).
    Terminal {
        model: &'a Model,
        span: &'a Simulated,
        users_at: &'a dyn Fn(usize, f64) -> f64,
    },
    /// The outage sentence of a run's report.
    Report(ReportWords),
}

/// What the report's sentence says from the summary's means: the outage line ("50.0%"), the SLO
/// window ("5 min"), `slo.stable` when known, and the requests lost, which ends the sentence.
pub(crate) struct ReportWords {
    pub(crate) below: String,
    pub(crate) window: String,
    pub(crate) stable_s: Option<f64>,
    pub(crate) lost: String,
}

/// The outage analysis of the replications at one level, gathered for the telling.
struct Facts<'a> {
    runs: &'a [&'a Summary],
    level: Level,
    /// The replications that went down, by index in `runs`.
    down: Vec<usize>,
    /// Their crash times.
    crash: Vec<f64>,
    /// Of those, the ones that recovered: when, and how long after the crash.
    back_at: Vec<f64>,
    back_took: Vec<f64>,
    /// Not recovered and still down at the end, as the outage analysis found it.
    still: usize,
    /// Over but recovery not confirmed: how long the SLO had held at the end.
    unconfirmed: Vec<f64>,
    /// Whose last episode reaches the end of the run, as the summary shows it ([`down_at_end`]).
    cut: u32,
}

impl<'a> Facts<'a> {
    fn of(runs: &'a [&'a Summary], level: Level) -> Facts<'a> {
        let outage = |r: usize| level.outage(runs[r]);
        let down: Vec<usize> = (0..runs.len()).filter(|&r| outage(r).crashed).collect();
        let crash = down
            .iter()
            .filter_map(|&r| outage(r).crash_time_s)
            .collect();
        let (back_at, back_took) = (down.iter())
            .filter_map(|&r| {
                let o = outage(r);
                match (o.recovered, o.recovered_at_s, o.recovery_time_s) {
                    (Some(true), Some(at), Some(took)) => Some((at, took)),
                    _ => None,
                }
            })
            .unzip();
        // Not recovered: still down at the end (a lower bound), or over with the recovery not
        // confirmed (the SLO held for less than `slo.stable` before the end).
        let still = down.iter().filter(|&&r| outage(r).down_at_end).count();
        let unconfirmed = (down.iter())
            .filter(|&&r| outage(r).recovered == Some(false) && !outage(r).down_at_end)
            .map(|&r| outage(r).held_at_end_s.unwrap_or(0.0))
            .collect();
        let cut = down.iter().filter(|&&r| down_at_end(runs[r])).count() as u32;
        Facts {
            runs,
            level,
            down,
            crash,
            back_at,
            back_took,
            still,
            unconfirmed,
            cut,
        }
    }

    fn outage(&self, r: usize) -> &'a Outage {
        self.level.outage(self.runs[r])
    }

    /// A figure of each replication, every one or only those that went down.
    fn each(&self, only_down: bool, f: &dyn Fn(&Outage) -> f64) -> Vec<f64> {
        let all: Vec<usize> = (0..self.runs.len()).collect();
        let which = if only_down { &self.down } else { &all };
        which.iter().map(|&r| f(self.outage(r))).collect()
    }
}

/// The outage story of `runs` (one or several) at `level`, times written by `clock`, as
/// `medium` tells it: one line of the terminal (ending in a line break), or the report's sentence.
pub(crate) fn story(
    runs: &[&Summary],
    level: Level,
    clock: &dyn Fn(f64) -> String,
    medium: &Medium,
) -> String {
    let facts = Facts::of(runs, level);
    match medium {
        Medium::Terminal {
            model,
            span,
            users_at,
        } => {
            let t = Terminal {
                model,
                span,
                users_at,
                clock,
            };
            match (facts.down.is_empty(), runs.len()) {
                (true, _) => t.stayed_up(&facts),
                (false, 1) => t.one(&facts),
                (false, _) => t.replications(&facts),
            }
        }
        Medium::Report(words) if runs.len() <= 1 => report_one(&facts, words, clock),
        Medium::Report(words) => report_replications(&facts, words, clock),
    }
}

/// The terminal's wording.
struct Terminal<'a> {
    model: &'a Model,
    span: &'a Simulated,
    users_at: &'a dyn Fn(usize, f64) -> f64,
    clock: &'a dyn Fn(f64) -> String,
}

impl Terminal<'_> {
    fn head(&self, f: &Facts) -> String {
        format!("outage by {}: ", f.level.name())
    }

    /// No replication went down (in the simulated time). Where the SLO was broken, the requests
    /// line says so first, with the losses ([`slo_broken`]); no level calls the site "up".
    fn stayed_up(&self, f: &Facts) -> String {
        let (slo, n, head) = (&self.model.slo, f.runs.len(), self.head(f));
        let all = if n > 1 {
            format!(" in all {n} replications")
        } else {
            String::new()
        };
        if let Some(broken) = slo_broken(f.runs) {
            let first = if f.level == Level::Requests {
                format!("{broken}; ")
            } else {
                String::new()
            };
            let time = if self.span.stopped > 0 {
                " in the simulated time"
            } else {
                ""
            };
            return format!(
                "{head}{first}no outage{time}{all}: the {} never fell below the outage line of \
                 {} over a {} window{}\n",
                f.level.rate(),
                pct(slo.outage_below),
                human_duration(slo.window_s),
                if self.span.stopped > 0 {
                    format!(
                        " before {}; {}",
                        (self.clock)(self.span.until_s),
                        self.span.not_simulated(self.model, self.clock)
                    )
                } else {
                    String::new()
                },
            );
        }
        if self.span.stopped > 0 {
            format!(
                "{head}no outage in the simulated time{all} (the {} never fell below {} over a {} window before {}); {}\n",
                f.level.rate(),
                pct(slo.outage_below),
                human_duration(slo.window_s),
                (self.clock)(self.span.until_s),
                self.span.not_simulated(self.model, self.clock),
            )
        } else {
            format!(
                "{head}the site stayed up{all}: the {} never fell below {} over a {} window\n",
                f.level.rate(),
                pct(slo.outage_below),
                human_duration(slo.window_s)
            )
        }
    }

    /// The mean number of users on the site as the replications that went down did.
    fn users_mean(&self, f: &Facts) -> f64 {
        let users: Vec<f64> = (f.down.iter())
            .zip(&f.crash)
            .map(|(&r, &c)| (self.users_at)(r, c))
            .collect();
        mean_ci95(&users).0
    }

    fn on_site(users_mean: f64) -> String {
        if users_mean > 0.0 {
            format!(" with {} users on the site", human_count(users_mean))
        } else {
            String::new()
        }
    }

    /// Downtime of a run still down at the end is cut by the horizon: a lower bound.
    fn at_least(f: &Facts) -> &'static str {
        if f.still == 0 { "" } else { "at least " }
    }

    /// One replication that went down.
    fn one(&self, f: &Facts) -> String {
        let (slo, clock) = (&self.model.slo, self.clock);
        let o = f.outage(0);
        let back = match f.back_at.first().zip(f.back_took.first()) {
            Some((&at, &took)) => back_words(&clock(at), &human_duration(took)),
            None if o.down_at_end => format!(
                "{} ({} after the crash, at least)",
                still_down(None),
                human_duration(o.recovery_time_s.unwrap_or(0.0))
            ),
            None => format!(
                "outage over at {}; recovery not confirmed: {}",
                clock(o.intervals.last().map_or(0.0, |i| i[1])),
                held_words(o.held_at_end_s.unwrap_or(0.0), slo.stable_s),
            ),
        };
        format!(
            "{}down at {}{}; {back}; {} outage episode{}, {}{} down in all; {} {}\n",
            self.head(f),
            clock(f.crash[0]),
            Self::on_site(self.users_mean(f)),
            o.episodes,
            if o.episodes == 1 { "" } else { "s" },
            Self::at_least(f),
            human_duration(o.downtime_s),
            human_count(f.level.lost(f.runs[0])),
            f.level.lost_words(self.model),
        )
    }

    /// Over replications: the share that went down, the mean crash time with its 95% interval,
    /// and recovery over the recovered ones only.
    fn replications(&self, f: &Facts) -> String {
        let n = f.runs.len();
        let (down, clock) = (f.down.len(), self.clock);
        let users_mean = self.users_mean(f);
        let mut s = format!(
            "{}down in {down} of {n} replications, at {} (mean, 95% interval){}",
            self.head(f),
            with_interval(&f.crash, clock),
            if users_mean > 0.0 {
                format!("{} (mean)", Self::on_site(users_mean))
            } else {
                String::new()
            },
        );
        let over = format!("mean over the {} recovered", f.back_at.len());
        s.push_str(&back_clause(f, &with_interval, clock, &over));
        if f.still > 0 {
            s.push_str(&format!("; {}", still_down(Some((f.still, down)))));
        }
        if !f.unconfirmed.is_empty() {
            s.push_str(&format!(
                "; over but recovery not confirmed in {} of {down} (the SLO held for {} of the {} \
                 slo.stable before the end)",
                f.unconfirmed.len(),
                with_interval(&f.unconfirmed, &human_duration),
                human_duration(self.model.slo.stable_s),
            ));
        }
        let mean = |xs: &[f64]| mean_ci95(xs).0;
        let lost: Vec<f64> = f.runs.iter().map(|s| f.level.lost(s)).collect();
        s.push_str(&format!(
            "; per replication (mean of {n}): {:.1} outage episodes, {}{} down, {} {}\n",
            mean(&f.each(false, &|o| f64::from(o.episodes))),
            Self::at_least(f),
            human_duration(mean(&f.each(false, &|o| o.downtime_s))),
            human_count(mean(&lost)),
            f.level.lost_words(self.model),
        ));
        s
    }
}

/// A mean over replications with its interval, written by the second argument.
type Interval = dyn Fn(&[f64], &dyn Fn(f64) -> String) -> String;

/// "; back at 18:18, 14 min after the crash (over ...)": when the recovered replications came
/// back and how long after their crash, means written by `interval`; nothing when none did.
fn back_clause(
    f: &Facts,
    interval: &Interval,
    clock: &dyn Fn(f64) -> String,
    over: &str,
) -> String {
    if f.back_at.is_empty() {
        return String::new();
    }
    format!(
        "; {} ({over})",
        back_words(
            &interval(&f.back_at, clock),
            &interval(&f.back_took, &human_duration)
        ),
    )
}

/// The one wording of a recovery, wherever it is told: "back within the SLO at t = 18 min,
/// 14 min after going down". Recovery is the start of `slo.stable` of the full SLO, later than
/// the end of the outage (the downtime counts only the windows below `slo.outage_below`), so
/// the two durations differ and the words say which is which.
fn back_words(at: &str, took: &str) -> String {
    format!("back within the SLO at {at}, {took} after going down")
}

/// "x", or "x +- h" when there are replications to give an interval.
fn with_interval(xs: &[f64], fmt: &dyn Fn(f64) -> String) -> String {
    let (mean, half) = mean_ci95(xs);
    crate::fmt::plus_minus(fmt(mean), half, &human_duration)
}

/// "the SLO was broken for 22 min; 40.6% of attempts and 18.1% of calls were lost", when some
/// replication broke the SLO (means over replications, said so when more than one): told before
/// "no outage", so a run that lost much but stayed above the outage line is not read as fine.
/// The shares are of those that ended, in the measured period. `None`: every run kept the SLO.
fn slo_broken(runs: &[&Summary]) -> Option<String> {
    if !runs.iter().any(|s| s.slo.broken) {
        return None;
    }
    let mean =
        |f: &dyn Fn(&Summary) -> f64| runs.iter().map(|s| f(s)).sum::<f64>() / runs.len() as f64;
    let out = mean(&|s| s.slo.time_out_of_slo_s);
    let attempts = mean(&|s| s.requests.lost() as f64 / s.requests.ended().max(1) as f64);
    let calls = mean(&|s| s.calls.lost as f64 / (s.calls.succeeded + s.calls.lost).max(1) as f64);
    let means = if runs.len() > 1 {
        format!(" (means of {} replications)", runs.len())
    } else {
        String::new()
    };
    Some(format!(
        "the SLO was broken for {}; {} of attempts and {} of calls were lost{means}",
        human_duration(out),
        pct(attempts),
        pct(calls),
    ))
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

/// The report's outage sentence of one run.
fn report_one(f: &Facts, w: &ReportWords, clock: &dyn Fn(f64) -> String) -> String {
    let (below, window, lost) = (&w.below, &w.window, &w.lost);
    let Some(o) = f
        .runs
        .first()
        .map(|s| f.level.outage(s))
        .filter(|o| o.crashed)
    else {
        if let Some(broken) = slo_broken(f.runs) {
            return format!(
                "By requests: {broken}; no outage: the success rate never fell below the outage \
                 line of {below} over a {window} window; {lost}."
            );
        }
        return format!(
            "By requests: the site stayed up, the success rate never fell below {below} over \
             a {window} window; {lost}."
        );
    };
    let crash = o.crash_time_s.unwrap_or(f64::NAN);
    let still = f.cut > 0;
    let back = match (o.recovered, o.recovered_at_s) {
        (Some(true), Some(at)) => back_words(&clock(at), &human_duration(at - crash)),
        _ if still => still_down(None),
        _ => over_unconfirmed(o, w, clock),
    };
    let downtime = Some(o.downtime_s).filter(|d| d.is_finite()).unwrap_or(0.0);
    let down = match still {
        true => format!("at least {}", human_duration(downtime)),
        false => human_duration(downtime),
    };
    format!(
        "By requests: down at {}, {back}; {} outage episode{}, {down} down in all; {lost}.",
        clock(crash),
        o.episodes,
        if o.episodes == 1 { "" } else { "s" },
    )
}

/// The report's outage sentence over replications: the share that went down, with mean times
/// and their intervals.
fn report_replications(f: &Facts, w: &ReportWords, clock: &dyn Fn(f64) -> String) -> String {
    let (n, down) = (f.runs.len(), f.down.len());
    if let (0, Some(broken)) = (down, slo_broken(f.runs)) {
        return format!(
            "By requests: {broken}; no outage in all {n} replications: the success rate never \
             fell below the outage line of {} over a {} window; {}.",
            w.below, w.window, w.lost
        );
    }
    if down == 0 {
        return format!(
            "By requests: the site stayed up in all {n} replications, the success rate never \
             fell below {} over a {} window; {}.",
            w.below, w.window, w.lost
        );
    }
    let interval = |xs: &[f64], fmt: &dyn Fn(f64) -> String| {
        let (m, h) = mean_ci95(xs);
        Mean::of(m, h, xs.len() as u32).text_with(fmt, &human_duration)
    };
    let mut sentence = format!(
        "By requests: down in {down} of {n} replications (means over those, with 95% \
         intervals): down at {}",
        interval(&f.crash, clock)
    );
    let over = format!("over the {} that recovered", f.back_at.len());
    sentence.push_str(&back_clause(f, &interval, clock, &over));
    let downtime: Vec<f64> = (f.each(true, &|o| o.downtime_s).into_iter())
        .filter(|x| x.is_finite())
        .collect();
    let (m, h) = mean_ci95(&downtime);
    sentence.push_str(&format!(
        "; {} down in all (over the {down} that went down)",
        Mean::of(m, h, downtime.len() as u32)
            .censored(f.cut)
            .text(&human_duration),
    ));
    if f.cut > 0 {
        sentence.push_str(&format!("; {}", still_down(Some((f.cut as usize, down)))));
    }
    let unconfirmed = down.saturating_sub(f.back_at.len() + f.cut as usize);
    if unconfirmed > 0 {
        sentence.push_str(&format!(
            "; the outage over but recovery not confirmed in {unconfirmed} of {down} (the SLO \
             did not hold for {} before the end)",
            w.stable_s.map_or("slo.stable".into(), human_duration)
        ));
    }
    sentence.push_str(&format!("; {}.", w.lost));
    sentence
}

/// "the outage over at 23:27; recovery not confirmed: the SLO held for 40 min of the 1 h
/// slo.stable before the end", for one run whose outage ended but did not recover.
fn over_unconfirmed(o: &Outage, w: &ReportWords, clock: &dyn Fn(f64) -> String) -> String {
    let end = o.intervals.last().map(|i| i[1]);
    let held = match (o.held_at_end_s.filter(|h| h.is_finite()), w.stable_s) {
        (Some(h), Some(stable)) => held_words(h, stable),
        _ => "the SLO did not hold for slo.stable before the end".to_string(),
    };
    format!(
        "the outage over at {}; recovery not confirmed: {held}",
        end.map_or("-".into(), clock),
    )
}

/// The runs still down at the end (their downtime cut by the horizon: a lower bound), in the
/// words of every outage story, the terminal's and the report's: "not recovered: still down at
/// the end" for one run, "not recovered in 2 of 3: still down at the end" over replications
/// (`Some((still, down))`: of the `down` that went down).
pub(crate) fn still_down(of: Option<(usize, usize)>) -> String {
    match of {
        None => "not recovered: still down at the end".into(),
        Some((still, down)) => format!("not recovered in {still} of {down}: still down at the end"),
    }
}

/// How long the SLO held at the end of a run whose outage was over but not recovered: "the SLO
/// held for 40 min of the 1 h 0 min slo.stable before the end", or that it had not held again.
fn held_words(held_s: f64, stable_s: f64) -> String {
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

/// The outage of one run (a `summary.json` or one of its replications) was still on when the
/// run ended, so its downtime is a lower bound cut by the horizon: its last episode reaches the
/// last SLO window. A window stands for the bucket at its centre, so that episode ends within a
/// bucket of half a window before the end (the last bucket's centre and half a bucket), while
/// one that ended earlier stops at least a bucket before that: the middle, half a window before
/// the end, tells them apart without the bucket size. (Unlike the analysis's own
/// `Outage::down_at_end`, it also holds for a run that recovered and went down again at the
/// end, and it reads a summary written before that field was.)
pub(super) fn down_at_end(run: &Summary) -> bool {
    let last_end = run.outage.intervals.last().map(|i| i[1]);
    let end = run.simulated_until_s.unwrap_or(run.sim_time_s);
    match (run.outage.crashed, last_end) {
        (true, Some(e)) => e > end - run.slo.window_s.unwrap_or(0.0) / 2.0,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
