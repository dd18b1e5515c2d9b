//! Unit tests of the exact results: known values from the literature, limits and identities.

use super::*;

#[test]
fn deterministic_patience_balances_and_tends_to_mm1() {
    // Served throughput equals the busy fraction times m, for over- and underload.
    for (l, m, d) in [(12.0, 10.0, 0.1), (5.0, 10.0, 0.3), (10.0, 10.0, 1.0)] {
        let (p0, drop) = mm1_deterministic_patience(l, m, d);
        assert!((l * (1.0 - drop) - m * (1.0 - p0)).abs() < 1e-12);
    }
    // Infinite patience: plain M/M/1.
    let (p0, drop) = mm1_deterministic_patience(5.0, 10.0, 1e3);
    assert!((p0 - 0.5).abs() < 1e-12 && drop < 1e-12);
    // Worked example for the CoDel test: l = 12, m = 10, d = 100 ms.
    let (p0, drop) = mm1_deterministic_patience(12.0, 10.0, 0.1);
    assert!((p0 - 0.263_57).abs() < 1e-5 && (drop - 0.386_31).abs() < 1e-5);
}

fn close(x: f64, y: f64, tol: f64) -> bool {
    (x - y).abs() <= tol * (1.0 + y.abs())
}

macro_rules! assert_close {
    ($x:expr, $y:expr, $tol:expr) => {{
        let (x, y): (f64, f64) = ($x, $y);
        assert!(
            close(x, y, $tol),
            "{} = {x} vs {y} (tol {})",
            stringify!($x),
            $tol
        );
    }};
}

#[test]
fn erlang_b_known_values() {
    assert_close!(erlang_b(10, 5.0), 0.018_384, 1e-6);
    assert_close!(erlang_b(1, 3.0), 0.75, 1e-15);
    assert_eq!(erlang_b(0, 2.0), 1.0);
    assert_eq!(erlang_b(5, 0.0), 0.0);
    assert_eq!(erlang_b(5, f64::INFINITY), 1.0);
    assert!(erlang_b(5, -1.0).is_nan());
}

#[test]
fn erlang_b_large_arguments() {
    for (c, a) in [
        (10_000, 10_000.0),
        (10_000, 1.0),
        (1, 10_000.0),
        (10_000, 9_000.0),
    ] {
        let b = erlang_b(c, a);
        assert!(
            b.is_finite() && (0.0..=1.0).contains(&b),
            "B({c}, {a}) = {b}"
        );
    }
    // Heavy overload: B -> 1 - c/a.
    assert_close!(erlang_b(100, 10_000.0), 0.99, 1e-3);
    // c = a = 10000: B is about 0.0079 (sqrt(2/(pi a)) ~ 0.00798).
    let b = erlang_b(10_000, 10_000.0);
    assert!(b > 0.007 && b < 0.0085, "{b}");
}

#[test]
fn erlang_c_known_values() {
    assert_close!(erlang_c(2, 1.0).unwrap(), 1.0 / 3.0, 1e-14);
    assert_close!(erlang_c(1, 0.5).unwrap(), 0.5, 1e-14);
    assert_eq!(erlang_c(2, 2.0), None);
    assert_eq!(erlang_c(2, 3.0), None);
    assert_eq!(erlang_c(0, 0.0), None);
    assert_eq!(erlang_c(3, f64::NAN), None);
    assert_eq!(erlang_c(3, 0.0), Some(0.0));
    let cc = erlang_c(10_000, 9_990.0).unwrap();
    assert!(cc > 0.0 && cc < 1.0);
}

#[test]
fn mmc_two_servers() {
    let q = Mmc {
        l: 1.0,
        m: 1.0,
        c: 2,
    };
    assert_close!(q.prob_wait().unwrap(), 1.0 / 3.0, 1e-14);
    assert_close!(q.mean_wait_queue().unwrap(), 1.0 / 3.0, 1e-14);
    assert_close!(q.mean_response().unwrap(), 4.0 / 3.0, 1e-14);
    assert_close!(q.mean_in_system().unwrap(), 4.0 / 3.0, 1e-14);
    assert_close!(q.mean_queue_length().unwrap(), 1.0 / 3.0, 1e-14);
    assert_close!(q.utilization(), 0.5, 1e-15);
    assert_close!(q.prob_wait_longer_than(0.0).unwrap(), 1.0 / 3.0, 1e-14);
    assert_close!(
        q.prob_wait_longer_than(2.0).unwrap(),
        (-2.0f64).exp() / 3.0,
        1e-14
    );
    assert_eq!(q.prob_wait_longer_than(-1.0), Some(1.0));
}

#[test]
fn mmc_unstable_or_invalid_is_none() {
    let q = Mmc {
        l: 2.0,
        m: 1.0,
        c: 2,
    };
    assert_eq!(q.prob_wait(), None);
    assert_eq!(q.mean_response(), None);
    assert_eq!(q.mean_in_system(), None);
    assert_eq!(q.prob_wait_longer_than(1.0), None);
    assert_eq!(
        Mmc {
            l: 1.0,
            m: 0.0,
            c: 2
        }
        .mean_response(),
        None
    );
    assert_eq!(
        Mmc {
            l: -1.0,
            m: 1.0,
            c: 2
        }
        .mean_response(),
        None
    );
    assert_eq!(
        Mmc {
            l: 1.0,
            m: 1.0,
            c: 0
        }
        .mean_response(),
        None
    );
}

#[test]
fn mm1_closed_forms() {
    for (l, m) in [(0.3, 1.0), (0.9, 1.0), (4.0, 5.0), (0.0, 2.0)] {
        let q = Mmc { l, m, c: 1 };
        let r = l / m;
        assert_close!(q.utilization(), r, 1e-15);
        assert_close!(q.prob_wait().unwrap(), r, 1e-14);
        assert_close!(q.mean_in_system().unwrap(), r / (1.0 - r), 1e-13);
        assert_close!(q.mean_response().unwrap(), 1.0 / (m - l), 1e-13);
        assert_close!(q.mean_wait_queue().unwrap(), r / (m - l), 1e-13);
        assert_close!(q.mean_queue_length().unwrap(), r * r / (1.0 - r), 1e-13);
    }
}

#[test]
fn mmck_single_server_closed_form() {
    for (l, m, k) in [(0.5, 1.0, 5), (2.0, 1.0, 10), (0.9, 1.0, 1), (3.0, 4.0, 40)] {
        let q = Mmck { l, m, c: 1, k };
        let r: f64 = l / m;
        let rk = r.powf(f64::from(k));
        let rk1 = r.powf(f64::from(k + 1));
        let pk = (1.0 - r) * rk / (1.0 - rk1);
        assert_close!(q.blocking().unwrap(), pk, 1e-13);
        // L = r/(1-r) - (K+1) r^(K+1) / (1 - r^(K+1)).
        let l_sys = r / (1.0 - r) - f64::from(k + 1) * rk1 / (1.0 - rk1);
        assert_close!(q.mean_in_system().unwrap(), l_sys, 1e-12);
    }
    // r = 1: uniform distribution.
    let q = Mmck {
        l: 1.0,
        m: 1.0,
        c: 1,
        k: 9,
    };
    assert_close!(q.blocking().unwrap(), 0.1, 1e-14);
    assert_close!(q.mean_in_system().unwrap(), 4.5, 1e-13);
}

#[test]
fn mmck_k_equals_c_is_erlang_b() {
    for (c, a) in [(1, 0.5), (10, 5.0), (50, 60.0), (200, 150.0)] {
        let q = Mmck {
            l: a * 2.0,
            m: 2.0,
            c,
            k: c,
        };
        assert_close!(q.blocking().unwrap(), erlang_b(c, a), 1e-12);
        assert_close!(q.mean_queue_length().unwrap(), 0.0, 1e-15);
        assert_close!(q.mean_wait_queue().unwrap(), 0.0, 1e-15);
        assert_close!(q.mean_response().unwrap(), 0.5, 1e-12);
    }
}

#[test]
fn mmck_large_k_approaches_mmc() {
    for (l, m, c) in [
        (1.0, 1.0, 2),
        (9.0, 1.0, 10),
        (90.0, 1.0, 100),
        (0.7, 1.0, 1),
    ] {
        let inf = Mmc { l, m, c };
        let fin = Mmck {
            l,
            m,
            c,
            k: c + 2000,
        };
        assert!(fin.blocking().unwrap() < 1e-12);
        assert_close!(fin.prob_wait().unwrap(), inf.prob_wait().unwrap(), 1e-10);
        assert_close!(
            fin.mean_queue_length().unwrap(),
            inf.mean_queue_length().unwrap(),
            1e-9
        );
        assert_close!(
            fin.mean_wait_queue().unwrap(),
            inf.mean_wait_queue().unwrap(),
            1e-9
        );
        assert_close!(
            fin.mean_response().unwrap(),
            inf.mean_response().unwrap(),
            1e-9
        );
        assert_close!(
            fin.mean_in_system().unwrap(),
            inf.mean_in_system().unwrap(),
            1e-9
        );
        assert_close!(fin.utilization().unwrap(), inf.utilization(), 1e-10);
    }
}

#[test]
fn mmck_stability_and_little() {
    for (a, c, k) in [
        (90.0, 100, 1000),
        (150.0, 100, 1000),
        (10_000.0, 10_000, 20_000),
        (0.0, 3, 7),
    ] {
        let q = Mmck { l: a, m: 1.0, c, k };
        let p = q.distribution().unwrap();
        assert_eq!(p.len(), k as usize + 1);
        assert!(p.iter().all(|x| x.is_finite() && *x >= 0.0));
        assert_close!(p.iter().sum::<f64>(), 1.0, 1e-12);
        let eff = q.effective_arrival().unwrap();
        // Busy servers = L - Lq = eff / m.
        let busy = q.mean_in_system().unwrap() - q.mean_queue_length().unwrap();
        assert_close!(busy, eff, 1e-9);
        assert!(q.mean_response().unwrap().is_finite());
        assert!(q.utilization().unwrap() <= 1.0 + 1e-12);
    }
    // Overloaded with a long buffer: the servers saturate, B -> 1 - c/a.
    let q = Mmck {
        l: 150.0,
        m: 1.0,
        c: 100,
        k: 1000,
    };
    assert_close!(q.blocking().unwrap(), 1.0 / 3.0, 1e-9);
    assert_close!(q.utilization().unwrap(), 1.0, 1e-9);
    // Idle system limits.
    let idle = Mmck {
        l: 0.0,
        m: 2.0,
        c: 3,
        k: 7,
    };
    assert_eq!(idle.mean_response(), Some(0.5));
    assert_eq!(idle.mean_wait_queue(), Some(0.0));
    assert_eq!(
        Mmck {
            l: 1.0,
            m: 1.0,
            c: 3,
            k: 2
        }
        .blocking(),
        None
    );
}

#[test]
fn erlang_a_flow_balance() {
    for (l, m, c, theta) in [
        (8.0, 1.0, 10, 0.5),
        (15.0, 1.0, 10, 0.5),
        (100.0, 1.0, 90, 2.0),
        (3.0, 2.0, 1, 0.1),
    ] {
        let q = ErlangA { l, m, c, theta };
        let lq = q.mean_queue_length().unwrap();
        let pa = q.prob_abandon().unwrap();
        // Arrivals = abandonments + services.
        assert_close!(l * pa, theta * lq, 1e-12);
        let served = f64::from(c) * m * q.utilization().unwrap();
        assert_close!(l - served, theta * lq, 1e-9);
        assert_close!(q.throughput().unwrap(), served, 1e-9);
        assert_close!(q.mean_wait_queue().unwrap(), lq / l, 1e-14);
        let ls = q.mean_in_system().unwrap();
        assert_close!(ls - lq, served / m, 1e-9);
        let pw = q.prob_wait().unwrap();
        assert!((0.0..=1.0).contains(&pw) && (0.0..=1.0).contains(&pa));
    }
}

#[test]
fn erlang_a_small_theta_is_erlang_c() {
    for (l, m, c) in [(1.0, 1.0, 2), (9.0, 1.0, 10), (0.5, 1.0, 1)] {
        let mmc = Mmc { l, m, c };
        let exact = ErlangA {
            l,
            m,
            c,
            theta: 0.0,
        };
        assert_close!(exact.prob_wait().unwrap(), mmc.prob_wait().unwrap(), 1e-12);
        assert_close!(
            exact.mean_queue_length().unwrap(),
            mmc.mean_queue_length().unwrap(),
            1e-12
        );
        assert_close!(
            exact.mean_in_system().unwrap(),
            mmc.mean_in_system().unwrap(),
            1e-12
        );
        let near = ErlangA {
            l,
            m,
            c,
            theta: 1e-7,
        };
        assert_close!(near.prob_wait().unwrap(), mmc.prob_wait().unwrap(), 1e-5);
        assert_close!(
            near.mean_wait_queue().unwrap(),
            mmc.mean_wait_queue().unwrap(),
            1e-5
        );
        assert!(near.prob_abandon().unwrap() < 1e-5);
    }
    assert_eq!(
        ErlangA {
            l: 2.0,
            m: 1.0,
            c: 2,
            theta: 0.0
        }
        .prob_wait(),
        None
    );
}

#[test]
fn erlang_a_theta_equal_mu_is_mm_infinity() {
    for (l, m, c) in [(5.0, 1.0, 3), (20.0, 2.0, 12), (50.0, 1.0, 60)] {
        let a: f64 = l / m;
        let q = ErlangA { l, m, c, theta: m };
        assert_close!(q.mean_in_system().unwrap(), a, 1e-12);
        // P(n >= c) for Poisson(a).
        let mut term = (-a).exp();
        let mut below = 0.0;
        for n in 0..c {
            below += term;
            term *= a / f64::from(n + 1);
        }
        assert_close!(q.prob_wait().unwrap(), 1.0 - below, 1e-10);
    }
}

#[test]
fn erlang_a_impatient_is_erlang_b() {
    let q = ErlangA {
        l: 2.0,
        m: 1.0,
        c: 3,
        theta: 1e7,
    };
    assert_close!(q.prob_abandon().unwrap(), erlang_b(3, 2.0), 1e-6);
    let big = ErlangA {
        l: 12_000.0,
        m: 1.0,
        c: 10_000,
        theta: 1.0,
    };
    let pa = big.prob_abandon().unwrap();
    assert_close!(pa, 1.0 - 10_000.0 / 12_000.0, 1e-2);
    assert_eq!(
        ErlangA {
            l: 0.0,
            m: 1.0,
            c: 3,
            theta: 1.0
        }
        .prob_abandon(),
        Some(0.0)
    );
}

#[test]
fn mg1_pollaczek_khinchine() {
    let md1 = mg1_mean_wait_queue(0.8, 1.0, 0.0).unwrap();
    let mm1 = mg1_mean_wait_queue(0.8, 1.0, 1.0).unwrap();
    assert_close!(md1, 0.5 * mm1, 1e-15);
    let mmc = Mmc {
        l: 0.8,
        m: 1.0,
        c: 1,
    };
    assert_close!(mm1, mmc.mean_wait_queue().unwrap(), 1e-13);
    assert_close!(
        mg1_mean_response(0.8, 1.0, 1.0).unwrap(),
        mmc.mean_response().unwrap(),
        1e-13
    );
    assert_eq!(mg1_mean_wait_queue(1.0, 1.0, 1.0), None);
    assert_eq!(mg1_mean_response(0.5, 0.0, 1.0), None);
}

#[test]
fn fluid_drain() {
    assert_eq!(fluid_drain_time(100.0, 10.0, 5.0), Some(20.0));
    assert_eq!(fluid_drain_time(0.0, 10.0, 5.0), Some(0.0));
    assert_eq!(fluid_drain_time(100.0, 5.0, 5.0), None);
    assert_eq!(fluid_drain_time(-1.0, 10.0, 5.0), None);
}

#[test]
fn t_quantiles() {
    assert_close!(t_quantile_975(1), 12.706, 1e-4);
    assert_close!(t_quantile_975(9), 2.262, 1e-4);
    assert_close!(t_quantile_975(30), 2.042_272, 1e-6);
    assert_close!(t_quantile_975(31), 2.039_513_446, 1e-6);
    assert_close!(t_quantile_975(40), 2.021_075_39, 1e-6);
    assert_close!(t_quantile_975(60), 2.000_297_822, 1e-7);
    assert_close!(t_quantile_975(1000), 1.962_339_081, 1e-9);
    assert_close!(t_quantile_975(u32::MAX), 1.960, 1e-4);
    assert!(t_quantile_975(0).is_nan());
    let ts: Vec<f64> = (1..200).map(t_quantile_975).collect();
    assert!(ts.windows(2).all(|w| w[1] < w[0]));
}

#[test]
fn confidence_interval() {
    let (mean, half) = mean_ci95(&[1.0, 2.0, 3.0]);
    assert_close!(mean, 2.0, 1e-15);
    assert_close!(half, 4.302_652_73 / 3f64.sqrt(), 1e-9);
    let (mean, half) = mean_ci95(&[5.0]);
    assert_eq!(mean, 5.0);
    assert!(half.is_nan());
    let (mean, half) = mean_ci95(&[]);
    assert!(mean.is_nan() && half.is_nan());
    let (_, half) = mean_ci95(&[7.0; 10]);
    assert_eq!(half, 0.0);
}
