//! The simulator against exact queueing results: each exact value must
//! lie inside the 99.9% interval of 20 replications, and the 95% interval must be narrower than
//! 3% of the value. Every run is also checked for conservation and Little's law.

use crate::common::{assert_exact, open_queue, run_model};
use surge::analytic::{self, Mmc, Mmck};

const REPS: &str = "20";

#[test]
fn mm1_matches_l_w_and_wq() {
    // l = 500/s, m = 1000/s: r = 0.5, L = 1, W = 2 ms, Wq = 1 ms.
    let s = run_model(
        &open_queue(
            500.0,
            1,
            None,
            "{ dist = \"exponential\", mean = \"1ms\" }",
            "10m",
        ),
        &["--reps", REPS],
    );
    let (l, m) = (500.0, 1000.0);
    let r = l / m;
    assert_exact(&s, "tiers.0.mean_in_system", r / (1.0 - r));
    assert_exact(&s, "tiers.0.mean_response_s", 1.0 / (m - l));
    assert_exact(&s, "tiers.0.mean_queue_wait_s", r / (m - l));
    assert_exact(&s, "tiers.0.utilization", r);
}

#[test]
fn mmc_matches_erlang_c_and_the_wait_distribution() {
    // c = 10, l = 800/s, m = 100/s: a = 8, r = 0.8.
    let q = Mmc {
        l: 800.0,
        m: 100.0,
        c: 10,
    };
    let s = run_model(
        &open_queue(
            800.0,
            10,
            None,
            "{ dist = \"exponential\", mean = \"10ms\" }",
            "10m",
        ),
        &["--reps", REPS],
    );
    let c = q.prob_wait().unwrap();
    assert_exact(&s, "tiers.0.prob_wait", c);
    assert_exact(
        &s,
        "tiers.0.mean_queue_wait_s",
        q.mean_wait_queue().unwrap(),
    );
    assert_exact(&s, "tiers.0.mean_response_s", q.mean_response().unwrap());
    assert_exact(&s, "tiers.0.mean_in_system", q.mean_in_system().unwrap());
    // P(wait > t) = C exp(-(c m - l) t): the q-quantile of the wait is ln(C / (1 - q)) / (c m - l).
    let decay = 10.0 * 100.0 - 800.0;
    for (path, p) in [("tiers.0.wait_p90_s", 0.90), ("tiers.0.wait_p99_s", 0.99)] {
        let t = (c / (1.0 - p)).ln() / decay;
        assert!((q.prob_wait_longer_than(t).unwrap() - (1.0 - p)).abs() < 1e-12);
        assert_exact(&s, path, t);
    }
}

#[test]
fn mmck_matches_blocking_and_response() {
    // c = 10, K = 20, l = 95/s, m = 10/s: a = 9.5, blocking about 5%.
    let q = Mmck {
        l: 95.0,
        m: 10.0,
        c: 10,
        k: 20,
    };
    let s = run_model(
        &open_queue(
            95.0,
            10,
            Some(10),
            "{ dist = \"exponential\", mean = \"100ms\" }",
            "1h",
        ),
        &["--reps", REPS],
    );
    assert_exact(&s, "tiers.0.blocking_probability", q.blocking().unwrap());
    assert_exact(&s, "tiers.0.mean_response_s", q.mean_response().unwrap());
    assert_exact(&s, "tiers.0.mean_in_system", q.mean_in_system().unwrap());
    assert_exact(&s, "tiers.0.utilization", q.utilization().unwrap());
}

#[test]
fn erlang_b_loss_system() {
    // c = 10, no waiting room, a = 8: B(10, 8) = 0.1217.
    let s = run_model(
        &open_queue(
            80.0,
            10,
            Some(0),
            "{ dist = \"exponential\", mean = \"100ms\" }",
            "1h",
        ),
        &["--reps", REPS],
    );
    let b = analytic::erlang_b(10, 8.0);
    assert!((b - 0.12166).abs() < 1e-4);
    assert_exact(&s, "tiers.0.blocking_probability", b);
    assert_exact(&s, "tiers.0.mean_response_s", 0.1);
}

#[test]
fn md1_waits_half_as_long_as_mm1() {
    // r = 0.7 with a 1 ms service: Pollaczek-Khinchine gives Wq(M/D/1) = Wq(M/M/1) / 2.
    let (l, es) = (700.0, 0.001);
    let md1 = run_model(
        &open_queue(
            l,
            1,
            None,
            "{ dist = \"deterministic\", value = \"1ms\" }",
            "10m",
        ),
        &["--reps", REPS],
    );
    let mm1 = run_model(
        &open_queue(
            l,
            1,
            None,
            "{ dist = \"exponential\", mean = \"1ms\" }",
            "10m",
        ),
        &["--reps", REPS],
    );
    let wq_d = analytic::mg1_mean_wait_queue(l, es, 0.0).unwrap();
    let wq_m = analytic::mg1_mean_wait_queue(l, es, 1.0).unwrap();
    assert!((wq_m / wq_d - 2.0).abs() < 1e-12);
    assert_exact(&md1, "tiers.0.mean_queue_wait_s", wq_d);
    assert_exact(&mm1, "tiers.0.mean_queue_wait_s", wq_m);
    let ratio = md1["tiers"][0]["mean_queue_wait_s"].as_f64().unwrap()
        / mm1["tiers"][0]["mean_queue_wait_s"].as_f64().unwrap();
    assert!(
        (ratio - 0.5).abs() < 0.03,
        "M/D/1 over M/M/1 wait ratio {ratio}"
    );
}

#[test]
fn mg1_with_lognormal_service_matches_pollaczek_khinchine() {
    // r = 0.6, lognormal service with mean 1 ms and cv 1.5.
    let (l, es, cv) = (600.0, 0.001, 1.5);
    let s = run_model(
        &open_queue(
            l,
            1,
            None,
            "{ dist = \"lognormal\", mean = \"1ms\", cv = 1.5 }",
            "20m",
        ),
        &["--reps", REPS],
    );
    assert_exact(
        &s,
        "tiers.0.mean_queue_wait_s",
        analytic::mg1_mean_wait_queue(l, es, cv).unwrap(),
    );
    assert_exact(
        &s,
        "tiers.0.mean_response_s",
        analytic::mg1_mean_response(l, es, cv).unwrap(),
    );
}

/// Two single-thread instances behind a balancer, l = 1,000/s in all, m = 1,000/s each.
fn two_instances(balancer: &str) -> String {
    open_queue(
        1000.0,
        1,
        None,
        "{ dist = \"exponential\", mean = \"1ms\" }",
        "5m",
    )
    .replace(
        "instances = 1",
        &format!("instances = 2\nbalancer = \"{balancer}\""),
    )
}

#[test]
fn random_balancer_splits_into_independent_mm1_queues() {
    // A random split of a Poisson stream is Poisson: each instance is M/M/1 with l = 500/s.
    let s = run_model(&two_instances("random"), &["--reps", REPS]);
    let (l, m) = (500.0, 1000.0);
    assert_exact(&s, "tiers.0.mean_response_s", 1.0 / (m - l));
    assert_exact(&s, "tiers.0.mean_queue_wait_s", (l / m) / (m - l));
}

#[test]
fn round_robin_balancer_gives_each_instance_erlang_2_arrivals() {
    // Every second arrival of a Poisson stream of rate 2l: Erlang-2 gaps, an E2/M/1 queue.
    // GI/M/1: sigma solves sigma = A*(m (1 - sigma)) with A*(s) = (2l / (2l + s))^2;
    // W = 1 / (m (1 - sigma)), Wq = sigma / (m (1 - sigma)).
    let (l, m) = (500.0, 1000.0);
    let mut sigma: f64 = 0.5;
    for _ in 0..200 {
        sigma = (2.0 * l / (2.0 * l + m * (1.0 - sigma))).powi(2);
    }
    let s = run_model(&two_instances("round_robin"), &["--reps", REPS]);
    assert_exact(&s, "tiers.0.mean_response_s", 1.0 / (m * (1.0 - sigma)));
    assert_exact(&s, "tiers.0.mean_queue_wait_s", sigma / (m * (1.0 - sigma)));
    assert_exact(&s, "tiers.0.prob_wait", sigma);
}

#[test]
fn load_aware_balancers_beat_random_splitting() {
    // Join-the-shortest-queue and power-of-two choices must wait less than a random split
    // (M/M/1 each: Wq = 1 ms); they differ from it by far more than the intervals.
    let random = run_model(&two_instances("random"), &["--reps", "10"]);
    let wq = |s: &serde_json::Value| s["tiers"][0]["mean_queue_wait_s"].as_f64().unwrap();
    for b in ["least_connections", "power_of_two"] {
        let s = run_model(&two_instances(b), &["--reps", "10"]);
        assert!(
            wq(&s) < 0.6 * wq(&random),
            "{b}: Wq {} vs random {}",
            wq(&s),
            wq(&random)
        );
    }
}

#[test]
fn codel_with_target_equal_to_interval_is_mm1_with_deterministic_patience() {
    // M/M/1, l = 12/s, m = 10/s (overloaded: only CoDel's drops keep it stable), target =
    // interval = 100 ms: a request that waited over 100 ms when it reaches the head is turned
    // away, so the drop probability is P(V > d) of M/M/1+D and utilisation 1 - P(V = 0).
    let model = open_queue(
        12.0,
        1,
        None,
        "{ dist = \"exponential\", mean = \"100ms\" }",
        "2h",
    ) + "discipline = \"codel\"\ncodel = { target = \"100ms\", interval = \"100ms\" }\n";
    let s = run_model(&model, &["--reps", REPS]);
    let (p0, drop) = analytic::mm1_deterministic_patience(12.0, 10.0, 0.1);
    assert_exact(&s, "tiers.0.blocking_probability", drop);
    assert_exact(&s, "tiers.0.utilization", 1.0 - p0);
    // Nobody served waited longer than the limit (histogram resolution 1%).
    let p99 = s["tiers"][0]["wait_p99_s"].as_f64().unwrap();
    assert!(p99 <= 0.101, "p99 wait {p99}");
}

#[test]
fn codel_bounds_the_wait_under_overload_where_fifo_grows() {
    // Ten threads at 120% load for ten minutes. FIFO's queue grows without bound; CoDel (5 ms
    // target, 100 ms interval) serves no request that waited over the interval, turns away at
    // least the excess (1/6 of the offered load) and not much more, and keeps the threads busy.
    let base = open_queue(
        120.0,
        10,
        None,
        "{ dist = \"exponential\", mean = \"100ms\" }",
        "10m",
    );
    let fifo = run_model(&base, &[]);
    let codel = run_model(&(base + "discipline = \"codel\"\n"), &[]);
    let tier = |s: &serde_json::Value, k: &str| s["tiers"][0][k].as_f64().unwrap();
    assert!(tier(&fifo, "mean_queue_wait_s") > 10.0, "{fifo}");
    assert!(tier(&codel, "mean_queue_wait_s") < 0.05, "{codel}");
    assert!(tier(&codel, "wait_p99_s") <= 0.101, "{codel}");
    let shed = tier(&codel, "blocking_probability");
    assert!((0.15..0.30).contains(&shed), "turned away {shed}");
    assert!(tier(&codel, "utilization") > 0.9, "{codel}");
}
