//! The checks of a source's `population` key: only a users source has one, and a closed one
//! (a fixed pool of users, as a load generator's threads) takes no `return` (its users are
//! replaced at once, so a user coming back later means nothing), needs a think time with a
//! positive mean (else a user refused at once would ask again in the same instant, for ever),
//! and cannot stand behind a waiting room. What a closed population does is `crate::system`'s
//! business (`population`), not this file's.

use super::ctx::Ctx;
use super::error::ModelError;
use super::schema::{Population, RawClient, RawSource, SourceKind};
use super::spec::Source;

/// The population of source `s` (key path `key`), checked; `Open` for sources without the key.
pub(super) fn population(
    s: &RawSource,
    key: &str,
    global: &RawClient,
    ctx: &Ctx,
) -> Result<Population, ModelError> {
    let Some(p) = s.population else {
        return Ok(Population::Open);
    };
    if s.kind != SourceKind::Users {
        return Err(ctx.fail(
            &format!("{key}.population"),
            "`population` belongs to kind = \"users\" (\"open\": sessions arrive; \"closed\": a \
             fixed pool of users); a requests or trace source is open by definition"
                .into(),
        ));
    }
    if p == Population::Closed {
        let own = s.client.as_ref().is_some_and(|c| c.come_back.is_some());
        if own || global.come_back.is_some() {
            let at = if own {
                format!("{key}.client.return")
            } else {
                "client.return".to_string()
            };
            return Err(ctx.fail(
                &at,
                format!(
                    "`return` does not apply to {}, whose population is \"closed\": a user who \
                     leaves is replaced at once, so none comes back later{}",
                    match &s.name {
                        Some(name) => format!("source `{name}`"),
                        None => super::error::named_path(ctx.text, key),
                    },
                    if own {
                        ""
                    } else {
                        " (give `return` in the [source.client] of the open sources instead)"
                    }
                ),
            ));
        }
    }
    Ok(p)
}

/// A closed source's think time must have a positive mean (`think` is at `key`.think).
pub(super) fn check_think(source: &Source, key: &str, ctx: &Ctx) -> Result<(), ModelError> {
    let zero = source.think.as_ref().is_some_and(|d| d.mean() <= 0.0);
    if source.population == Population::Closed && zero {
        return Err(ctx.fail(
            &format!("{key}.think"),
            "a closed population needs a think time with a mean above 0: with none, a user \
             refused at once would ask again in the same instant for ever (for a load test \
             without timers, write a small think such as { dist = \"exponential\", mean = \"1ms\" })"
                .into(),
        ));
    }
    Ok(())
}

/// A waiting room cannot take a closed population (refused: what would hold users at the
/// target while they wait to get in is not defined).
pub(super) fn check_room(sources: &[Source], has_room: bool, ctx: &Ctx) -> Result<(), ModelError> {
    match sources
        .iter()
        .position(|s| s.population == Population::Closed)
    {
        Some(i) if has_room => Err(ctx.fail(
            "waiting_room",
            format!(
                "a waiting room cannot stand in front of a closed population (source `{}`): \
                 its users are held at the target and replaced at once, so none would wait; \
                 remove [waiting_room] or use population = \"open\"",
                sources[i].name
            ),
        )),
        _ => Ok(()),
    }
}
