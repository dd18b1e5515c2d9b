//! The call and user levels in the report of a run, read from `summary.json`: the sentence
//! that says which level each figure is, a sentence per level (calls: a request with its
//! retries or a page with its refreshes; users: sessions) with its outage, and the rows of the
//! key-metrics table. Not here: the requests (attempt) level, the SLO and the table itself
//! (`run`).

use super::rows::{Fmt, Pick, PickCi, Row, pick, row, rows};
use crate::fmt::{human_count, human_duration, pct};
use crate::metrics::means::{OutageMeans, SummaryMeans};

/// The summary has a user level (a users source).
pub(super) fn has_users(s: &SummaryMeans) -> bool {
    s.sessions.is_some()
}

/// Which level each figure is.
pub(super) fn levels_sentence(s: &SummaryMeans) -> String {
    format!(
        "Levels: \"requests\" are attempts (each retry and refresh is one); \"calls\" are what \
         clients asked for (a request with its retries, a page with its refreshes: a call \
         succeeded if any of its attempts did){}. The SLO reads requests; each outage below says \
         its level.",
        if has_users(s) {
            "; \"users\" are sessions (a visit: every page served, or lost)"
        } else {
            ""
        }
    )
}

/// "down by calls at 23:05, 35 min down in all" or "no outage by calls", from an outage (one
/// run's, or the means over replications).
fn outage_words(o: &OutageMeans, level: &str, reps: u64, clock: &dyn Fn(f64) -> String) -> String {
    let crashed = o.crashed.unwrap_or(0.0);
    if crashed == 0.0 {
        return format!("no outage by {level}");
    }
    let down = o.downtime_s.map_or("-".into(), human_duration);
    if reps > 1 {
        return format!(
            "down by {level} in {:.0}% of the replications, {down} down per replication (mean)",
            100.0 * crashed
        );
    }
    let at = o.crash_time_s.map_or("-".into(), clock);
    format!("down by {level} at {at}, {down} down in all")
}

/// The sentences of the call level and, with a users source, the user level.
pub(super) fn sentences(s: &SummaryMeans, reps: u64, clock: &dyn Fn(f64) -> String) -> Vec<String> {
    let per = if reps > 1 {
        " per replication (means)"
    } else {
        ""
    };
    let count = |x: Option<f64>| x.map_or("-".into(), human_count);
    let share = |x: Option<f64>| x.map_or("-".into(), pct);
    let c = &s.calls;
    let room = if s.waiting_room.is_some() {
        ", or the waiting room turned the user away"
    } else {
        ""
    };
    let mut out = vec![format!(
        "By calls{per}: {} made, {} of those that ended succeeded, {} lost (every attempt \
         failed{room}); {}.",
        count(c.made),
        share(c.success_rate),
        count(c.lost),
        outage_words(&c.outage, "calls", reps, clock),
    )];
    if let Some(u) = &s.sessions {
        out.push(format!(
            "By users{per}: {} sessions begun, {} of those that ended got every page, {} lost \
             ({} gave up after errors, {} turned away by the waiting room, {} left it before \
             their turn); {}.",
            count(u.arrived),
            share(u.success_rate),
            count(u.lost),
            count(u.gave_up),
            count(u.turned_away),
            count(u.left_room),
            outage_words(&u.outage, "users", reps, clock),
        ));
    }
    out
}

/// The rows of the call level and, with a users source, the user level.
pub(super) fn rows(s: &SummaryMeans) -> Vec<Row> {
    let count: Fmt = human_count;
    let lost = if s.waiting_room.is_some() {
        "every attempt failed, or turned away at the waiting room"
    } else {
        "every attempt failed"
    };
    let mut out = rows![
        "calls made", pick!(calls.made), count, "a request with its retries, a page with its refreshes";
        "calls succeeded", pick!(calls.succeeded), count, "some attempt of the call succeeded";
        "calls lost", pick!(calls.lost), count, lost;
    ];
    out.extend(rate_and_downtime(
        ("call", "calls"),
        pick!(calls.success_rate),
        pick!(calls.outage.downtime_s),
        "calls succeeded / calls that ended",
    ));
    if has_users(s) {
        out.extend(rows![
            "sessions begun", pick!(sessions? arrived), count, "visits and users coming back";
            "sessions completed", pick!(sessions? completed), count, "every page served";
            "users lost", pick!(sessions? lost), count, "gave up after errors, turned away by or left the waiting room";
            "users turned away", pick!(sessions? turned_away), count, "by the waiting room";
        ]);
        out.extend(rate_and_downtime(
            ("user", "users"),
            pick!(sessions? success_rate),
            pick!(sessions? outage.downtime_s),
            "sessions completed / sessions that ended",
        ));
    }
    out
}

/// A level's success rate (`ratio`: of what) and its downtime, the time that rate was below
/// the outage line; `(one, many)` name the level ("call", "calls").
fn rate_and_downtime(
    (one, many): (&str, &str),
    rate: (Pick, PickCi),
    downtime: (Pick, PickCi),
    ratio: &str,
) -> [Row; 2] {
    [
        row(&format!("{one} success rate"), rate, pct, ratio),
        row(
            &format!("downtime by {many}"),
            downtime,
            human_duration,
            &format!("time the {one} success rate was below the outage line"),
        ),
    ]
}
