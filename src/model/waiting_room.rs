//! The `[waiting_room]` table: a site-wide waiting room in front of every users source (and,
//! with `requests = true`, every requests source), as
//! Cloudflare Waiting Room and Queue-it define one. How it is written (`RawWaitingRoom`) and the
//! checked form the simulator runs (`WaitingRoom`); checking and defaulting it is `build_room`.
//! What the room does with users is `crate::system`'s business (its `waiting_room` file).

use serde::Deserialize;

use super::dist::{Dist, RawDist};
use super::units::{Count, Duration, Positive};

/// How a full room picks the next user to let in, or whether it keeps anyone waiting at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomMethod {
    /// First come, first admitted.
    #[default]
    Fifo,
    /// Any waiting user, with equal chance (Cloudflare's "random" queueing method).
    Random,
    /// Nobody waits: a user who cannot get in at once is turned away with a "come back later"
    /// page.
    Reject,
}

/// `[waiting_room]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWaitingRoom {
    pub active_users: Option<Count>,
    pub admit_per_minute: Option<Positive>,
    pub session: Option<Duration>,
    pub method: Option<RoomMethod>,
    pub patience: Option<RawDist>,
    /// The requests sources pass the room too (each attempt holds a place while it is on the
    /// site).
    pub requests: Option<bool>,
}

/// The checked waiting room.
#[derive(Debug, Clone)]
pub struct WaitingRoom {
    /// Users allowed on the site at once (`None`: no bound, admission by rate only).
    pub active_users: Option<u32>,
    /// Admissions per minute, spaced evenly (`None`: no rate bound, admission by places only).
    pub admit_per_minute: Option<f64>,
    /// A user idle (no request under way) this long loses its place, seconds.
    pub session_s: f64,
    pub method: RoomMethod,
    /// How long a user waits in the room before leaving (`None`: for ever).
    pub patience: Option<Dist>,
    /// Every attempt of a `requests` source passes the room too, holding a place from its
    /// admission until it ends.
    pub requests: bool,
}

impl WaitingRoom {
    /// The time between two admissions when admission is by rate, seconds.
    pub fn spacing_s(&self) -> Option<f64> {
        self.admit_per_minute.map(|r| 60.0 / r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_text;
    use std::path::Path;

    const SITE: &str = "[scenario]\nduration = \"10m\"\n\n[[source]]\nkind = \"users\"\nusers = 10\n\
        pages = { dist = \"geometric\", mean = 3 }\nthink = { dist = \"exponential\", mean = \"20s\" }\n\n\
        [[tier]]\ninstances = 1\nthreads = 4\nservice = { dist = \"exponential\", mean = \"100ms\" }\n";

    fn room(table: &str) -> Result<Option<WaitingRoom>, String> {
        parse_text(&format!("{SITE}\n{table}"), "m.toml", Path::new("."))
            .map(|m| m.waiting_room)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_apply_and_no_table_means_no_room() {
        assert!(room("").unwrap().is_none());
        let r = room("[waiting_room]\nactive_users = 5").unwrap().unwrap();
        assert_eq!(r.active_users, Some(5));
        assert_eq!(r.admit_per_minute, None);
        assert_eq!(r.session_s, 300.0);
        assert_eq!(r.method, RoomMethod::Fifo);
        assert!(r.patience.is_none());
        let r =
            room("[waiting_room]\nadmit_per_minute = 120\nsession = \"2m\"\nmethod = \"random\"")
                .unwrap()
                .unwrap();
        assert_eq!(r.spacing_s(), Some(0.5));
        assert_eq!(r.session_s, 120.0);
        assert_eq!(r.method, RoomMethod::Random);
    }

    #[test]
    fn bad_rooms_name_their_key() {
        for (table, key, text) in [
            (
                "[waiting_room]\nmethod = \"fifo\"",
                "`waiting_room`",
                "needs `active_users`",
            ),
            (
                "[waiting_room]\nadmit_per_minute = 0",
                "waiting_room.admit_per_minute",
                "greater than 0",
            ),
            (
                "[waiting_room]\nactive_users = 3\nmethod = \"reject\"\npatience = { dist = \"exponential\", mean = \"1m\" }",
                "waiting_room.patience",
                "does not apply",
            ),
            (
                "[waiting_room]\nactive_users = 3\npatience = { dist = \"exponential\", mean = -1 }",
                "waiting_room.patience",
                "greater than 0",
            ),
        ] {
            let e = room(table).unwrap_err();
            assert!(e.contains(key) && e.contains(text), "{table}: {e}");
        }
    }
}
