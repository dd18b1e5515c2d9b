//! The invariants every run must satisfy, checked on a `summary.json`: conservation of
//! requests, calls and users, of users through a waiting room, and Little's law per tier.
//! Not here: running the binary (`common`).

use serde_json::Value;

use super::*;

/// Conservation and Little's law, on the summary and on each replication of it.
pub(crate) fn check_invariants(summary: &Value) {
    let reps: Vec<&Value> = match summary["replications"].as_array() {
        Some(r) => r.iter().collect(),
        None => vec![summary],
    };
    for s in reps {
        let r = &s["requests"];
        let n = |k: &str| {
            r[k].as_u64()
                .unwrap_or_else(|| panic!("requests.{k} is not a count: {r}"))
        };
        // The clients' own outcomes, present when the model has a breaker or a throttle.
        let local = |k: &str| r.get(k).map_or(0, |_| n(k));
        assert_eq!(
            n("offered"),
            n("succeeded")
                + n("rejected")
                + n("timed_out")
                + n("failed")
                + local("short_circuited")
                + local("throttled")
                + n("in_flight"),
            "conservation: every offered request ends in one outcome or is in flight: {r}"
        );
        assert_eq!(
            n("offered"),
            n("first_attempts") + n("retries"),
            "offered = first attempts + retries: {r}"
        );
        // The edge rate limit's 429s are rejections.
        assert!(
            local("rate_limited") <= n("rejected"),
            "rate_limited <= rejected: {r}"
        );
        // A wait for a pool's connection that runs out fails its request.
        let pool_timeouts: u64 = (s["tiers"].as_array().unwrap().iter())
            .filter_map(|t| t["pool_timeouts"].as_u64())
            .sum();
        assert!(pool_timeouts <= n("failed"), "pool timeouts <= failed: {r}");
        if let Some(room) = s.get("waiting_room") {
            check_room_balance(room);
        }
        check_levels(s);
        let span = s["sim_time_s"].as_f64().unwrap() - s["warmup_s"].as_f64().unwrap();
        for t in s["tiers"].as_array().unwrap() {
            let l = t["mean_in_system"].as_f64().unwrap();
            // Little's law over a finite horizon, exactly: the time integral of the number in
            // the tier equals the time every visit spent there (those still in it included).
            let area = t["time_in_tier_s"].as_f64().unwrap();
            assert!(
                (l * span - area).abs() <= 1e-6 * area.max(1.0),
                "Little's law (area) in tier {}: L x T = {} but visits spent {area} s",
                t["name"],
                l * span
            );
            // And L = lambda W for departures, where the run ends near a steady state (few
            // requests left in the tier at the horizon).
            let x = t["departures_per_s"].as_f64().unwrap();
            let Some(w) = t["mean_time_in_tier_s"].as_f64() else {
                continue;
            };
            let left = t["in_tier_at_end"].as_f64().unwrap();
            // Visits under way at the warm-up or at the horizon are in the area but not in the
            // departures, an error of a few visits' time: with fewer than 1,000 departures
            // (a short run, found by the property tests) it can pass 2%, so only the exact
            // area form above applies there.
            if l < 1e-3 || left > 0.001 * x * span || x * span < 1000.0 {
                continue;
            }
            let rel = (l - x * w).abs() / l;
            assert!(
                rel < 0.02,
                "Little's law in tier {}: L = {l}, lambda W = {} ({:.2}% apart)",
                t["name"],
                x * w,
                rel * 100.0
            );
        }
    }
}

/// The call and user levels agree with the attempts: each success ends one call; a call begun
/// after the warm-up has ended (succeeded or lost) or is still going; the users lost are those
/// who gave up, were turned away by the waiting room or left it, as the room counts them.
fn check_levels(s: &Value) {
    let c = &s["calls"];
    let n = |v: &Value, k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("{k} is not a count: {v}"))
    };
    assert_eq!(
        n(c, "succeeded"),
        n(&s["requests"], "succeeded"),
        "a call succeeds with its successful attempt: {c}"
    );
    if s["warmup_s"].as_f64() == Some(0.0) {
        assert!(
            n(c, "made") >= n(c, "succeeded") + n(c, "lost"),
            "calls ended are calls made: {c}"
        );
    }
    if let Some(u) = s.get("sessions") {
        assert_eq!(
            n(u, "lost"),
            n(u, "gave_up") + n(u, "turned_away") + n(u, "left_room"),
            "users lost: {u}"
        );
        if let Some(room) = s.get("waiting_room") {
            assert_eq!(n(u, "turned_away"), n(room, "rejected"), "{u} {room}");
            assert_eq!(n(u, "left_room"), n(room, "abandoned"), "{u} {room}");
            assert_eq!(n(u, "arrived"), n(room, "arrived"), "{u} {room}");
        }
    }
}

/// Conservation of user sessions through a waiting room: those there when the measured period
/// starts, plus those that arrived, are there at its end (on the site, waiting, or away after
/// their place lapsed) or left, abandoned the room, or were turned away.
fn check_room_balance(room: &Value) {
    let n = |k: &str| {
        at(room, k)
            .as_u64()
            .unwrap_or_else(|| panic!("waiting_room.{k} is not a count: {room}"))
    };
    let state =
        |s: &str| n(&format!("{s}.on_site")) + n(&format!("{s}.waiting")) + n(&format!("{s}.away"));
    assert_eq!(
        state("at_start") + n("arrived"),
        state("at_end") + n("left") + n("abandoned") + n("rejected"),
        "conservation of users: at start + arrived = at end + left + abandoned + rejected: {room}"
    );
}
