//! The three levels a run is counted at, as `surge run` prints them: requests (every attempt,
//! retries and refreshes included), calls (what a client asked for: a request with its retries,
//! or a page with its refreshes, which succeeded if any attempt did) and users (sessions: a
//! visit, completed or lost). The line that names the levels, the calls line and the users
//! line, from the means over replications (`app::run::RunFigures`). Not here: the requests line,
//! the SLO line and the outage lines (`run`), which say their own level.

use crate::app::run::{CallFigures, UserFigures};
use crate::fmt::{human_count, pct};
use crate::model::{Model, SourceKind};

/// Whether the model has a users source (and so a user level).
pub(crate) fn has_users(model: &Model) -> bool {
    model.sources.iter().any(|s| s.kind == SourceKind::Users)
}

/// The line that says which level each figure is.
pub(crate) fn levels_line(model: &Model) -> String {
    let users = if has_users(model) {
        "; \"users\" counts sessions (a visit: every page served, or lost)"
    } else {
        ""
    };
    format!(
        "levels: \"requests\" counts attempts (each retry and refresh is one); \"calls\" counts \
         what clients asked for (a request with its retries, a page with its refreshes: it \
         succeeded if any attempt did){users}; the SLO reads requests, and each outage line says \
         its level\n"
    )
}

/// "calls: 108,251 made; 82.8% of those that ended succeeded, 17.2% lost (...)".
pub(crate) fn calls_line(model: &Model, c: &CallFigures, reps: usize) -> String {
    let (made, ok, lost) = (c.made, c.succeeded, c.lost);
    let ended = ok + lost;
    let share = match c.success_rate {
        Some(e) => match e.ci95.filter(|_| reps > 1) {
            Some(h) => crate::fmt::share_plus_minus(e.mean, h),
            None => pct(e.mean),
        },
        None => "-".into(),
    };
    let room = if model.waiting_room.is_some() {
        ", or the waiting room turned its user away"
    } else {
        ""
    };
    format!(
        "calls: {} made{}; {share} of the {} that ended succeeded, {} lost (every attempt \
         failed and the client gave up{room}){}\n",
        human_count(made),
        if reps > 1 { " per replication" } else { "" },
        human_count(ended),
        pct(lost / ended.max(1.0)),
        if made > ended + 0.5 {
            format!("; {} still going at the end", human_count(made - ended))
        } else {
            String::new()
        },
    )
}

/// "users: 591,837 sessions begun; 72.1% of the ... that ended got every page, 27.9% lost
/// (...)", for a model with a users source.
pub(crate) fn users_line(
    model: &Model,
    users: Option<&UserFigures>,
    reps: usize,
) -> Option<String> {
    let u = users.filter(|_| has_users(model))?;
    let (completed, lost) = (u.completed, u.lost);
    let ended = (completed + lost).max(1.0);
    let mut why = vec![format!("{} gave up after errors", pct(u.gave_up / ended))];
    if model.waiting_room.is_some() {
        why.push(format!(
            "{} turned away by the waiting room",
            pct(u.turned_away / ended)
        ));
        why.push(format!(
            "{} left the waiting room before their turn",
            pct(u.left_room / ended)
        ));
    }
    Some(format!(
        "users: {} sessions begun{}; {} of the {} that ended got every page, {} lost ({})\n",
        human_count(u.arrived),
        if reps > 1 { " per replication" } else { "" },
        pct(completed / ended),
        human_count(completed + lost),
        pct(lost / ended),
        why.join(", "),
    ))
}
