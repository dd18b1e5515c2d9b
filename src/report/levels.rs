//! The call and user levels in the report of a run, read from `summary.json`: the sentence
//! that says which level each figure is, a sentence per level (calls: a request with its
//! retries or a page with its refreshes; users: sessions) with its outage, and the rows of the
//! key-metrics table. Not here: the requests (attempt) level, the SLO and the table itself
//! (`run`).

use serde_json::Value;

use super::assert::lookup;
use crate::fmt::{human_count, human_duration};

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

/// The summary has a user level (a users source).
fn has_users(s: &Value) -> bool {
    s["sessions"].is_object()
}

/// Which level each figure is.
pub(super) fn levels_sentence(s: &Value) -> String {
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

/// "down by calls at 23:05, 35 min down in all" or "no outage by calls", from the outage at
/// `path` (one run, or the means over replications).
fn outage_words(
    s: &Value,
    path: &str,
    level: &str,
    reps: u64,
    clock: &dyn Fn(f64) -> String,
) -> String {
    let crashed = num(s, &format!("{path}.crashed")).unwrap_or(0.0);
    if crashed == 0.0 {
        return format!("no outage by {level}");
    }
    let down = num(s, &format!("{path}.downtime_s")).map_or("-".into(), human_duration);
    if reps > 1 {
        return format!(
            "down by {level} in {:.0}% of the replications, {down} down per replication (mean)",
            100.0 * crashed
        );
    }
    let at = num(s, &format!("{path}.crash_time_s")).map_or("-".into(), clock);
    format!("down by {level} at {at}, {down} down in all")
}

/// The sentences of the call level and, with a users source, the user level.
pub(super) fn sentences(s: &Value, reps: u64, clock: &dyn Fn(f64) -> String) -> Vec<String> {
    let per = if reps > 1 {
        " per replication (means)"
    } else {
        ""
    };
    let count = |k: &str| num(s, k).map_or("-".into(), human_count);
    let share = |k: &str| num(s, k).map_or("-".into(), pct);
    let mut out = vec![format!(
        "By calls{per}: {} made, {} of those that ended succeeded, {} lost (every attempt failed, \
         or the waiting room turned the user away); {}.",
        count("calls.made"),
        share("calls.success_rate"),
        count("calls.lost"),
        outage_words(s, "calls.outage", "calls", reps, clock),
    )];
    if has_users(s) {
        out.push(format!(
            "By users{per}: {} sessions begun, {} of those that ended got every page, {} lost \
             ({} gave up after errors, {} turned away by the waiting room, {} left it before \
             their turn); {}.",
            count("sessions.arrived"),
            share("sessions.success_rate"),
            count("sessions.lost"),
            count("sessions.gave_up"),
            count("sessions.turned_away"),
            count("sessions.left_room"),
            outage_words(s, "sessions.outage", "users", reps, clock),
        ));
    }
    out
}

/// A row of the key-metrics table: label, key, format, meaning.
pub(super) type Row = (String, String, fn(f64) -> String, String);

/// The rows of the call level and, with a users source, the user level.
pub(super) fn rows(s: &Value) -> Vec<Row> {
    let count: fn(f64) -> String = human_count;
    let share: fn(f64) -> String = pct;
    let dur: fn(f64) -> String = human_duration;
    let row = |label: &str, key: &str, f: fn(f64) -> String, meaning: &str| {
        (label.to_string(), key.to_string(), f, meaning.to_string())
    };
    let mut out = vec![
        row(
            "calls made",
            "calls.made",
            count,
            "a request with its retries, a page with its refreshes",
        ),
        row(
            "calls succeeded",
            "calls.succeeded",
            count,
            "some attempt of the call succeeded",
        ),
        row(
            "calls lost",
            "calls.lost",
            count,
            "every attempt failed, or turned away at the waiting room",
        ),
        row(
            "call success rate",
            "calls.success_rate",
            share,
            "calls succeeded / calls that ended",
        ),
        row(
            "downtime by calls",
            "calls.outage.downtime_s",
            dur,
            "time the call success rate was below the outage line",
        ),
    ];
    if has_users(s) {
        out.extend([
            row(
                "sessions begun",
                "sessions.arrived",
                count,
                "visits and users coming back",
            ),
            row(
                "sessions completed",
                "sessions.completed",
                count,
                "every page served",
            ),
            row(
                "users lost",
                "sessions.lost",
                count,
                "gave up after errors, turned away by or left the waiting room",
            ),
            row(
                "users turned away",
                "sessions.turned_away",
                count,
                "by the waiting room",
            ),
            row(
                "user success rate",
                "sessions.success_rate",
                share,
                "sessions completed / sessions that ended",
            ),
            row(
                "downtime by users",
                "sessions.outage.downtime_s",
                dur,
                "time the user success rate was below the outage line",
            ),
        ]);
    }
    out
}
