//! The waiting room in front of a requests source (`[waiting_room] requests = true`): each
//! attempt is a visitor holding a place from admission until it ends. Against exact results:
//! with `method = "reject"` and `active_users = c` the room is a loss system, so the share
//! turned away is Erlang B (insensitive to the service distribution); with `fifo` and
//! exponential service it is M/M/c, so the mean wait in the room is Erlang C's. Exact counts:
//! every attempt passes the room, and the room's rejections are the requests' rejections. Every
//! run is checked for conservation, Little's law and the room's balance (`common::run_model`).

use crate::common::{assert_bad_input, assert_exact, count, over_reps, run_model, write_file};
use surge::analytic::{Mmc, erlang_b};

/// Requests at `rate` a second behind a room of `places`; a tier with threads to spare and
/// exponential service of 100 ms, so a place is held exactly for a service.
fn model(rate: f64, places: u32, method: &str) -> String {
    format!(
        "[scenario]\nname = \"room\"\nduration = \"10m\"\nwarmup = \"30s\"\nseed = 8\nbucket = \"1m\"\n\
         [[source]]\nkind = \"requests\"\nrate = {rate}\n\
         [[tier]]\nname = \"app\"\ninstances = 1\nthreads = 1000\n\
         service = {{ dist = \"exponential\", mean = \"100ms\" }}\n\
         [waiting_room]\nrequests = true\nactive_users = {places}\nmethod = \"{method}\"\n"
    )
}

#[test]
fn a_rejecting_room_turns_away_erlang_b() {
    // 80 a second x 100 ms = 8 Erlangs on 10 places: B(10, 8) = 12.17% turned away.
    let s = run_model(&model(80.0, 10, "reject"), &["--reps", "20"]);
    let exact = erlang_b(10, 8.0);
    let (mean, half) = over_reps(&s, |r| {
        r["requests"]["rejected"].as_f64().unwrap() / r["requests"]["offered"].as_f64().unwrap()
    });
    eprintln!("turned away: exact {exact:.5}, simulated {mean:.5} +- {half:.5}");
    assert!(
        (mean - exact).abs() <= half * 3.29 / 1.96,
        "{mean} +- {half} vs {exact}"
    );
    assert!(half < 0.03 * exact);
    for r in s["replications"].as_array().unwrap() {
        // Every rejection is the room's, and every offered attempt passed it.
        assert_eq!(
            count(r, "requests.rejected"),
            count(r, "waiting_room.rejected")
        );
        assert!(count(r, "waiting_room.arrived") >= count(r, "requests.offered"));
    }
}

#[test]
fn a_fifo_room_is_an_mmc_queue() {
    // The same load on 10 places, waiting first come first in: M/M/10 at 8 Erlangs.
    // Waits are bursty: 40 minutes per replication keep the interval within 3%.
    let s = run_model(
        &model(80.0, 10, "fifo"),
        &["--reps", "20", "--set", "scenario.duration=40m"],
    );
    let q = Mmc {
        l: 80.0,
        m: 10.0,
        c: 10,
    };
    assert_exact(&s, "waiting_room.mean_wait_s", q.mean_wait_queue().unwrap());
    // Nobody is turned away, and the latency counts the wait in the room.
    assert_eq!(s["requests"]["rejected"].as_f64(), Some(0.0));
    assert_exact(&s, "latency_s.mean", q.mean_response().unwrap());
}

#[test]
fn a_room_with_room_to_spare_lets_every_attempt_in_at_once() {
    // 1,000 places for 8 Erlangs: exact counts, nobody waits or is turned away.
    let s = run_model(&model(80.0, 1000, "reject"), &[]);
    assert_eq!(count(&s, "requests.rejected"), 0);
    assert_eq!(count(&s, "waiting_room.rejected"), 0);
    assert_eq!(s["waiting_room"]["max_waiting"].as_u64(), Some(0));
}

#[test]
fn a_room_for_requests_needs_the_key_or_a_users_source() {
    let dir = tempfile::tempdir().unwrap();
    let text = model(1.0, 5, "fifo").replace("requests = true\n", "");
    let file = write_file(dir.path(), "m.toml", &text);
    let o = crate::common::check_output(&file, &[]);
    assert_bad_input(&o, &["waiting_room", "only with `requests = true`"]);
}
