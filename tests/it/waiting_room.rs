//! The waiting room (`[waiting_room]`) against what can be known exactly: it never lets more
//! users onto the site than `active_users`; admission by rate lets in `admit_per_minute` a
//! minute while users wait; with exponential patience and a saturated room the share of users
//! who abandon is the fluid balance (here also the exact Erlang-A value); the balance of user
//! sessions holds (checked for every run in `common::check_invariants`); and a model without a
//! room writes neither the room's columns nor its summary.

use crate::common::{column, over_reps, run_model, run_model_keep};

/// One web tier that never queues (1 ms pages, many threads) behind a users source, and a room.
/// `users` is the baseline of concurrent users (sessions start at users / session length).
fn model(users: u32, pages: &str, think: &str, client: &str, room: &str, scenario: &str) -> String {
    format!(
        "[scenario]\nname = \"room\"\n{scenario}\nbucket = \"1m\"\nseed = 7\n\n\
         [[source]]\nname = \"visitors\"\nkind = \"users\"\nusers = {users}\n\
         pages = {pages}\nthink = {think}\n\n\
         [[tier]]\nname = \"web\"\ninstances = 1\nthreads = 2000\n\
         service = {{ dist = \"deterministic\", value = \"1ms\" }}\n\n\
         {client}\n\n{room}\n"
    )
}

const SCENARIO_1H: &str = "duration = \"1h\"\nwarmup = \"5m\"";

/// A busy room with every path in use: places lapsing after idle time (`session` below the
/// reading times of some users), patience, users coming back.
fn busy(method: &str) -> String {
    let patience = if method == "reject" {
        String::new()
    } else {
        "patience = { dist = \"exponential\", mean = \"2m\" }\n".into()
    };
    model(
        400,
        "{ dist = \"geometric\", mean = 5 }",
        "{ dist = \"exponential\", mean = \"20s\" }",
        "[client]\nreturn = { probability = 0.5, after = { dist = \"exponential\", mean = \"3m\" } }",
        &format!(
            "[waiting_room]\nactive_users = 100\nsession = \"30s\"\nmethod = \"{method}\"\n{patience}"
        ),
        SCENARIO_1H,
    )
}

#[test]
fn users_on_the_site_never_exceed_active_users() {
    for method in ["fifo", "random", "reject"] {
        let (dir, s) = run_model_keep(&busy(method), &[]);
        let room = &s["waiting_room"];
        let peak = s["peak_concurrent_users"].as_f64().unwrap();
        // The room fills to its last place and not one more (the peak is the exact maximum).
        assert_eq!(
            peak, 100.0,
            "{method}: peak users on the site {peak}: {room}"
        );
        let users = column(dir.path(), "users");
        let most = users.iter().copied().fold(0.0, f64::max);
        assert!(
            most <= 100.0 + 1e-9,
            "{method}: users column reaches {most}"
        );
        assert!(room["expired"].as_u64().unwrap() > 0, "{method}: {room}");
        if method == "reject" {
            assert!(room["rejected"].as_u64().unwrap() > 0, "{room}");
            assert_eq!(room["max_waiting"], 0, "{room}");
            assert!(column(dir.path(), "room.waiting").iter().all(|w| *w == 0.0));
        } else {
            assert!(room["abandoned"].as_u64().unwrap() > 0, "{room}");
            assert!(room["max_waiting"].as_u64().unwrap() > 0, "{room}");
            assert_eq!(room["rejected"], 0, "{room}");
            assert!(column(dir.path(), "room.waiting").iter().any(|w| *w > 0.0));
            let (p50, p95) = (room["wait_p50_s"].as_f64(), room["wait_p95_s"].as_f64());
            assert!(p50.unwrap() <= p95.unwrap(), "{room}");
        }
    }
    // The same load without the room puts more users on the site: the bound above is the
    // room's doing.
    let open = busy("fifo").replace("[waiting_room]", "[unused]");
    let open = open.split("[unused]").next().unwrap().to_string();
    let s = run_model(&open, &[]);
    assert!(s.get("waiting_room").is_none(), "no room, no summary");
    assert!(s["peak_concurrent_users"].as_f64().unwrap() > 150.0);
}

#[test]
fn rate_based_admission_lets_in_admit_per_minute() {
    // Sessions start at about 2 a second (20 users, one 10 s page each), the room lets in 30 a
    // minute: the queue never empties after the first seconds.
    let m = model(
        20,
        "{ dist = \"deterministic\", value = 1 }",
        "{ dist = \"exponential\", mean = \"10s\" }",
        "",
        "[waiting_room]\nadmit_per_minute = 30",
        "duration = \"1h\"\nwarmup = \"0s\"",
    );
    let (dir, s) = run_model_keep(&m, &[]);
    let room = &s["waiting_room"];
    let admitted = room["admitted"].as_f64().unwrap();
    // Admissions over the hour: inside the 95% interval of a Poisson count of mean 1,800 (the
    // room spaces them evenly, so it is in fact within one of 1,800).
    let mean = 30.0 * 60.0;
    let half = 1.96 * f64::sqrt(mean);
    assert!(
        (admitted - mean).abs() <= half,
        "admitted {admitted} in an hour, expected {mean} ± {half:.0}"
    );
    assert!((admitted - mean).abs() <= 1.0, "admitted {admitted}");
    // And minute by minute while users wait.
    let per_minute = column(dir.path(), "room.admitted");
    let waiting = column(dir.path(), "room.waiting");
    for (i, (a, w)) in per_minute.iter().zip(&waiting).enumerate().skip(1) {
        assert!(*w > 0.0, "minute {i}: nobody waits");
        assert!((a - 30.0).abs() <= 1.0, "minute {i}: {a} admitted");
    }
    assert!(room["max_waiting"].as_u64().unwrap() > 3000, "{room}");
}

/// P(abandon) of the Erlang-A queue (M/M/N+M): Poisson arrivals at `lambda`, `n` places held
/// for exponential times of rate `mu`, exponential patience of rate `theta`. From the
/// birth-death chain: P(ab) = theta E[waiting] / lambda.
fn erlang_a_abandon(lambda: f64, mu: f64, theta: f64, n: usize) -> f64 {
    let mut log_p = vec![0.0_f64];
    for k in 1..(n + 20_000) {
        let death = (k.min(n) as f64) * mu + (k.saturating_sub(n) as f64) * theta;
        log_p.push(log_p[k - 1] + (lambda / death).ln());
    }
    let top = log_p.iter().copied().fold(f64::MIN, f64::max);
    let p: Vec<f64> = log_p.iter().map(|l| (l - top).exp()).collect();
    let z: f64 = p.iter().sum();
    let waiting: f64 = p
        .iter()
        .enumerate()
        .map(|(k, pk)| k.saturating_sub(n) as f64 * pk)
        .sum::<f64>()
        / z;
    theta * waiting / lambda
}

#[test]
fn abandonment_in_a_saturated_room_matches_the_fluid_balance() {
    // 50 places, each held for one 1 ms page then an exponential 60 s read (the session never
    // lapses); sessions arrive at 150 / 60.001 s = 2.5 a second, three times what the places
    // turn over; patience exponential, mean 30 s.
    let hold_s = 60.001;
    let (lambda, mu, theta, n) = (150.0 / hold_s, 1.0 / hold_s, 1.0 / 30.0, 50);
    let fluid = 1.0 - n as f64 * mu / lambda;
    let exact = erlang_a_abandon(lambda, mu, theta, n);
    assert!(
        (fluid - exact).abs() < 1e-6,
        "fluid {fluid}, Erlang-A {exact}"
    );
    for method in ["fifo", "random"] {
        let m = model(
            150,
            "{ dist = \"deterministic\", value = 1 }",
            "{ dist = \"exponential\", mean = \"60s\" }",
            "",
            &format!(
                "[waiting_room]\nactive_users = {n}\nsession = \"100h\"\nmethod = \"{method}\"\n\
                 patience = {{ dist = \"exponential\", mean = \"30s\" }}"
            ),
            "duration = \"3h\"\nwarmup = \"20m\"",
        );
        let s = run_model(&m, &["--reps", "8"]);
        // Every arrival ends admitted or abandoned: the share of those decided in the measured
        // period.
        let (share, half) = over_reps(&s, |r| {
            let room = &r["waiting_room"];
            let ab = room["abandoned"].as_f64().unwrap();
            ab / (ab + room["admitted"].as_f64().unwrap())
        });
        eprintln!("{method}: abandoned {share:.4} ± {half:.4}, fluid {fluid:.4}");
        assert!(
            (share - fluid).abs() <= half.max(0.002),
            "{method}: abandonment share {share:.4} ± {half:.4}, fluid balance {fluid:.4}"
        );
        assert!(
            half < 0.01,
            "{method}: interval ± {half:.4} too wide to tell"
        );
    }
}

#[test]
fn the_room_columns_come_only_with_a_room() {
    let (dir, _) = run_model_keep(&busy("fifo"), &[]);
    let header = std::fs::read_to_string(dir.path().join("out/timeseries.csv")).unwrap();
    let header = header.lines().next().unwrap();
    // The room's columns, then the call and user levels' (last).
    assert!(
        header.ends_with(
            "room.waiting,room.admitted,room.abandoned,room.rejected,calls_lost,\
             window_call_success_rate,sessions_completed,sessions_lost,window_user_success_rate"
        ),
        "{header}"
    );
    let open = busy("fifo");
    let open = open.split("[waiting_room]").next().unwrap();
    let (dir, _) = run_model_keep(open, &[]);
    let header = std::fs::read_to_string(dir.path().join("out/timeseries.csv")).unwrap();
    assert!(
        !header.contains("room."),
        "{}",
        header.lines().next().unwrap()
    );
}

#[test]
fn a_room_can_be_added_with_set() {
    let open = busy("fifo");
    let open = open.split("[waiting_room]").next().unwrap();
    let s = run_model(open, &["--set", "waiting_room.active_users=60"]);
    assert_eq!(s["peak_concurrent_users"].as_f64().unwrap(), 60.0);
    assert!(s["waiting_room"]["admitted"].as_u64().unwrap() > 0);
}
