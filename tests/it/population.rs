//! Closed populations (`population = "closed"`): against the exact finite-source queue
//! M/M/c//N (the machine-repairman model) at light and heavy load, each value inside the 99.9%
//! interval of 20 replications with a 95% interval narrower than 3%; a population that follows
//! a target that doubles and halves, bucket by bucket; and what `surge check` predicts. Every
//! run is also checked for conservation and Little's law (`run_model`).

use crate::common::{assert_exact, column, run_model, run_model_keep};
use surge::analytic::FiniteSource;

const REPS: &str = "20";

/// N closed users of exponential think `z` in front of one instance of `c` threads with
/// exponential service `s` and an unbounded queue.
fn closed(n: u64, z: &str, c: u32, s: &str, duration: &str, population: &str) -> String {
    let think = format!("{{ dist = \"exponential\", mean = \"{z}\" }}");
    closed_thinking(n, &think, c, s, duration, population)
}

/// `closed` with any think distribution (`think`, an inline table).
fn closed_thinking(
    n: u64,
    think: &str,
    c: u32,
    s: &str,
    duration: &str,
    population: &str,
) -> String {
    format!(
        "[scenario]\nname = \"closed\"\nduration = \"{duration}\"\nwarmup = \"2m\"\nseed = 11\n\
         bucket = \"1m\"\n\n\
         [[source]]\nkind = \"users\"\npopulation = \"{population}\"\nusers = {n}\n\
         pages = {{ dist = \"geometric\", mean = 5 }}\n\
         think = {think}\n\n\
         [[tier]]\nname = \"server\"\ninstances = 1\nthreads = {c}\n\
         service = {{ dist = \"exponential\", mean = \"{s}\" }}\n"
    )
}

/// The simulated tier against M/M/c//N.
fn assert_finite_source(s: &serde_json::Value, q: FiniteSource) {
    let r = q.solve().unwrap();
    assert_exact(s, "tiers.0.throughput_per_s", r.throughput);
    assert_exact(s, "tiers.0.mean_response_s", r.mean_response);
    assert_exact(s, "tiers.0.mean_in_system", r.mean_in_system);
    if r.utilization < 0.999 {
        assert_exact(s, "tiers.0.utilization", r.utilization);
    } else {
        // Saturated: every replication is busy all along, an interval of width 0.
        let u = s["tiers"][0]["utilization"].as_f64().unwrap();
        assert!(
            (u - r.utilization).abs() < 1e-4,
            "utilisation {u} vs {}",
            r.utilization
        );
    }
    // The population is held: N users on the site all along.
    assert_eq!(s["peak_concurrent_users"].as_f64(), Some(q.n as f64));
    assert_eq!(s["mean_concurrent_users"].as_f64(), Some(q.n as f64));
}

#[test]
fn light_load_matches_the_finite_source_queue() {
    // N = 10, Z = 2 s, c = 2, S = 100 ms: N S / (c Z) = 0.25; X = 4.76/s, L = 0.48.
    let q = FiniteSource {
        n: 10,
        z: 2.0,
        s: 0.1,
        c: 2,
        k: None,
    };
    let s = run_model(
        &closed(10, "2s", 2, "100ms", "1h", "closed"),
        &["--reps", REPS],
    );
    assert_finite_source(&s, q);
}

#[test]
fn heavy_load_matches_the_finite_source_queue_where_open_arrivals_diverge() {
    // N = 100, Z = 1 s, c = 4, S = 100 ms: N S / (c Z) = 2.5. The servers are saturated
    // (X = 40/s), the tier holds L = 60 requests and the response time is R = 1.5 s.
    let q = FiniteSource {
        n: 100,
        z: 1.0,
        s: 0.1,
        c: 4,
        k: None,
    };
    let r = q.solve().unwrap();
    assert!((r.mean_in_system - 60.0).abs() < 1e-3 && (r.mean_response - 1.5).abs() < 1e-4);
    let s = run_model(
        &closed(100, "1s", 4, "100ms", "20m", "closed"),
        &["--reps", REPS],
    );
    assert_finite_source(&s, q);
    // The same users as an open source: sessions keep beginning at 100 / (5 x 1.1 s) = 18 a
    // second however slow the pages get, so users and their requests pile up without bound
    // (about 600 more a minute) where the closed population stays at 100 users and 60 requests.
    let open = run_model(&closed(100, "1s", 4, "100ms", "10m", "open"), &[]);
    let left = open["tiers"][0]["in_tier_at_end"].as_f64().unwrap();
    let users = open["peak_concurrent_users"].as_f64().unwrap();
    assert!(
        left > 5_000.0 && users > 5_000.0,
        "open: {left} requests, {users} users"
    );
}

#[test]
fn the_think_time_matters_only_by_its_mean() {
    // The thinking users are an infinite-server station, whose service distribution does not
    // change the stationary law of a product-form network (BCMP): lognormal thinks of cv 2,
    // each user with an event of its own (no pool), give M/M/2//20 all the same. N = 20,
    // Z = 1 s, c = 2, S = 100 ms: N S / (c Z) = 1, the knee.
    let q = FiniteSource {
        n: 20,
        z: 1.0,
        s: 0.1,
        c: 2,
        k: None,
    };
    let think = "{ dist = \"lognormal\", mean = \"1s\", cv = 2 }";
    let s = run_model(
        &closed_thinking(20, think, 2, "100ms", "30m", "closed"),
        &["--reps", REPS],
    );
    assert_finite_source(&s, q);
}

#[test]
fn the_population_follows_a_target_that_doubles_and_halves() {
    // 100 users, 200 from 10 to 20 minutes, then 100 again; pages take 50 ms on 40 threads.
    let model = "[scenario]\nduration = \"30m\"\nbucket = \"1m\"\nseed = 5\n\
                 [[source]]\nkind = \"users\"\npopulation = \"closed\"\nusers = 100\n\
                 profile = [[\"0s\", 1], [\"10m\", 1], [\"10m\", 2], [\"20m\", 2], [\"20m\", 1]]\n\
                 pages = { dist = \"geometric\", mean = 4 }\n\
                 think = { dist = \"exponential\", mean = \"2s\" }\n\
                 [[tier]]\nname = \"web\"\ninstances = 1\nthreads = 40\n\
                 service = { dist = \"exponential\", mean = \"50ms\" }\n";
    let (dir, s) = run_model_keep(model, &[]);
    let users = column(dir.path(), "users");
    assert_eq!(users.len(), 30);
    for (i, &u) in users.iter().enumerate() {
        match i {
            // A rise is met at once; users above a fall leave as their thinks end (the first
            // 100 of 200 users to finish a 2 s think: a few seconds).
            0..=9 | 21.. => assert_eq!(u, 100.0, "minute {i}"),
            10..=19 => assert_eq!(u, 200.0, "minute {i}"),
            _ => assert!(u > 100.0 && u < 110.0, "minute {i}: {u}"),
        }
    }
    assert_eq!(s["peak_concurrent_users"].as_f64(), Some(200.0));
    // Pages follow the users: N / (R + Z) = 100 / 2.05 = 48.8/s, twice that at 200 users.
    let pages = column(dir.path(), "offered");
    let mean =
        |r: std::ops::Range<usize>| pages[r.clone()].iter().sum::<f64>() / (60.0 * r.len() as f64);
    let (low, high) = (mean(0..10), mean(10..20));
    assert!((low - 48.78).abs() < 1.5, "{low} pages/s at 100 users");
    assert!(
        (high / low - 2.0).abs() < 0.06,
        "{high} pages/s at 200 users vs {low}"
    );
}

#[test]
fn check_prints_the_finite_source_prediction_and_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("closed.toml");
    std::fs::write(&file, closed(100, "1s", 4, "100ms", "20m", "closed")).unwrap();
    let out = crate::common::check_ok(&file);
    for line in [
        "closed population of N = 100 users",
        "at most N / (R0 + Z) = 90.91 pages/s",
        "exact prediction (M/M/4//100",
        "mean_in_system               60.00",
        "mean_response_s              1.500",
    ] {
        assert!(out.contains(line), "`{line}` not in:\n{out}");
    }
}
