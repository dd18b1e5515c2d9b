//! Checking and defaulting the `[waiting_room]` table (`waiting_room`) against the model's
//! sources (a room needs a users source, or a requests source with `requests = true`).
//!
//! Not here: the room's forms (`waiting_room`), what it does with users (`system`).

use super::ctx::Ctx;
use super::error::ModelError;
use super::schema::SourceKind;
use super::spec::Source;
use super::waiting_room::*;

/// Check and default `[waiting_room]`.
pub(super) fn build(
    raw: Option<RawWaitingRoom>,
    sources: &[Source],
    ctx: &Ctx,
) -> Result<Option<WaitingRoom>, ModelError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let requests = raw.requests.unwrap_or(false);
    let passes =
        |s: &Source| s.kind == SourceKind::Users || (requests && s.kind == SourceKind::Requests);
    if !sources.iter().any(passes) {
        return Err(ctx.fail(
            "waiting_room",
            if requests {
                "a waiting room lets users and requests in, and the model has no source of kind = \"users\" or \"requests\" (trace sources do not pass through it)"
            } else {
                "a waiting room lets users in, and the model has no source of kind = \"users\" \
                 (requests sources pass it only with `requests = true`; trace sources never)"
            }
            .into(),
        ));
    }
    if raw.active_users.is_none() && raw.admit_per_minute.is_none() {
        return Err(ctx.fail(
            "waiting_room",
            "a waiting room needs `active_users` (users allowed on the site at once), \
             `admit_per_minute` (users let in per minute), or both"
                .into(),
        ));
    }
    if raw.admit_per_minute.is_some_and(|r| r.0 > 60_000_000.0) {
        return Err(ctx.fail(
            "waiting_room.admit_per_minute",
            "more than 60,000,000 admissions a minute is absurd".into(),
        ));
    }
    let session_s = raw.session.map_or(300.0, |d| d.0);
    if session_s <= 0.0 {
        return Err(ctx.fail(
            "waiting_room.session",
            "the session (how long an idle user keeps its place) must be longer than 0".into(),
        ));
    }
    let patience = raw
        .patience
        .as_ref()
        .map(|d| ctx.dist(d, "waiting_room.patience"))
        .transpose()?;
    let method = raw.method.unwrap_or_default();
    if method == RoomMethod::Reject && patience.is_some() {
        return Err(ctx.fail(
            "waiting_room.patience",
            "with method = \"reject\" nobody waits in the room, so `patience` does not apply"
                .into(),
        ));
    }
    Ok(Some(WaitingRoom {
        active_users: raw.active_users.map(|c| c.0),
        admit_per_minute: raw.admit_per_minute.map(|r| r.0),
        session_s,
        method,
        patience,
        requests,
    }))
}
