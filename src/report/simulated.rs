//! How much of the horizon a run's replications simulated ([`Simulated`]): all of it, or, when
//! a guard rail (`--max-events`, `--max-wall`, the in-flight cap) stopped some, up to the
//! earliest stop; and the words for it that the terminal, the timeline's title and the outage
//! story use. Not here: the guard rails themselves (`experiment::guard`).

use crate::fmt::human_duration;
use crate::metrics::Summary;
use crate::model::Model;
use crate::output::chart;

/// How much of the horizon the replications simulated: all of it, or (stopped at a bound) up to
/// `until_s`, the earliest stop among the replications that stopped.
pub(crate) struct Simulated {
    pub(crate) until_s: f64,
    /// Replications stopped at a bound, and the option that stopped the first of them.
    pub(crate) stopped: usize,
    by: &'static str,
}

impl Simulated {
    pub(crate) fn of(model: &Model, runs: &[&Summary]) -> Simulated {
        let stopped: Vec<&Summary> = runs.iter().copied().filter(|s| s.partial).collect();
        let until_s = stopped
            .iter()
            .map(|s| s.simulated_until_s.unwrap_or(s.sim_time_s))
            .fold(model.scenario.duration_s, f64::min);
        Simulated {
            until_s,
            stopped: stopped.len(),
            by: stopped
                .first()
                .and_then(|s| s.ended_by)
                .map_or("a bound", |b| b.option()),
        }
    }

    /// "16 h 0 min simulated", or "simulated 18:00-19:23 (1 h 23 min) of 16 h 0 min (stopped
    /// by --max-events)".
    pub(crate) fn describe(&self, model: &Model) -> String {
        let sc = &model.scenario;
        if self.stopped == 0 {
            return format!("{} simulated", human_duration(sc.duration_s));
        }
        let span = match sc.start_clock_s {
            Some(_) => format!(
                "{}-{} ({})",
                chart::clock_label(0.0, sc.start_clock_s),
                chart::clock_label(self.until_s, sc.start_clock_s),
                human_duration(self.until_s)
            ),
            None => format!("the first {}", human_duration(self.until_s)),
        };
        let whose = if self.stopped == 1 {
            String::new()
        } else {
            format!(" in the shortest of {} stopped replications", self.stopped)
        };
        format!(
            "simulated {span} of {}{whose} (stopped by {})",
            human_duration(sc.duration_s),
            self.by
        )
    }

    /// What was not simulated, so no conclusion is drawn about it.
    pub(crate) fn not_simulated(&self, model: &Model, label: &dyn Fn(f64) -> String) -> String {
        let rest = human_duration(model.scenario.duration_s - self.until_s);
        let surge = &model.surge;
        if surge.peak != 1.0 && surge.start_s >= self.until_s {
            format!(
                "the surge starting at {} was not simulated ({rest} of the horizon left)",
                label(surge.start_s)
            )
        } else {
            format!("the last {rest} of the horizon were not simulated")
        }
    }
}
