//! The waiting of a closed load test, taken out of its response times: the machine-repairman
//! model (M/M/c//N; Kleinrock, Queueing Systems vol. 1, 1975, section 3.10), N users who each
//! think an exponential Z, then ask one of c threads for an exponential service S, waiting in
//! line when all are busy. Its states are the k users at the site, with birth rate (N - k) / Z
//! and death rate min(k, c) / S, so the stationary distribution is a product and the
//! throughput X = sum p_k min(k, c) / S, the mean response N / X - Z, exactly.
//!
//! `fit` uses it where a closed test is given its thread count (`--threads`): in each 10 s
//! window, the S whose model gives the window's mean response at the window's users and
//! throughput is the service part of that mean. It is not a model of the test's think time
//! (exponential here, whatever the tool slept: the mean response barely depends on it) nor of
//! contention.

/// Mean response, s, of `users` users thinking `think_s` on average and served by `threads`
/// threads with a mean service of `service_s`.
pub(crate) fn mean_response(threads: u32, users: u32, think_s: f64, service_s: f64) -> f64 {
    let ratio = service_s / think_s;
    // p_k / p_0, built up state by state; scaled down whenever it grows large (the ratio of
    // sums is unchanged).
    let (mut weight, mut total, mut busy) = (1.0_f64, 1.0_f64, 0.0_f64);
    for k in 1..=users {
        weight *= f64::from(users - k + 1) * ratio / f64::from(k.min(threads));
        total += weight;
        busy += weight * f64::from(k.min(threads));
        if total > 1e250 {
            weight /= total;
            busy /= total;
            total = 1.0;
        }
    }
    let throughput = busy / total / service_s;
    f64::from(users) / throughput - think_s
}

/// The service part of a window's mean response `response_s` when `users` (mean recorded; the
/// model takes the nearest whole count, at least 1) sent `throughput` requests a second to
/// `threads` threads: the S with mean_response(S) = `response_s`, by bisection (the response
/// grows with S). None when the window's figures leave no think time (N / X <= R).
pub(crate) fn service_part(
    threads: u32,
    users: f64,
    throughput: f64,
    response_s: f64,
) -> Option<f64> {
    let think_s = users / throughput - response_s;
    if !(think_s > 0.0 && response_s > 0.0) {
        return None;
    }
    let n = (users.round() as u32).max(1);
    let (mut lo, mut hi) = (0.0, response_s);
    while hi - lo > response_s * f64::EPSILON * 4.0 {
        let m = 0.5 * (lo + hi);
        if mean_response(threads, n, think_s, m) > response_s {
            hi = m;
        } else {
            lo = m;
        }
    }
    Some(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two users, one thread, Z = S = 1: p = (0.2, 0.4, 0.4) by hand, X = 0.8, R = 2 / 0.8 - 1
    /// = 1.5; and back: the service part of R = 1.5 at X = 0.8 is S = 1.
    #[test]
    fn two_users_one_thread_by_hand() {
        assert!((mean_response(1, 2, 1.0, 1.0) - 1.5).abs() < 1e-12);
        let s = service_part(1, 2.0, 0.8, 1.5).unwrap();
        assert!((s - 1.0).abs() < 1e-12, "{s}");
    }

    /// As many threads as users: nobody waits, the response is the service.
    #[test]
    fn enough_threads_no_waiting() {
        assert!((mean_response(30, 30, 0.5, 0.1) - 0.1).abs() < 1e-12);
        let s = service_part(30, 30.0, 30.0 / 0.6, 0.1).unwrap();
        assert!((s - 0.1).abs() < 1e-12, "{s}");
    }

    /// Nearly saturated: 30 users on 4 threads of 100 ms keep the threads 98% busy; the
    /// response is 0.263796 s (the same product form summed in Python, independently), above
    /// the bound of the utilisation law at full use, N / 40 - Z = 0.25 s; and the service part
    /// of that response comes back to 100 ms.
    #[test]
    fn saturated_threads_give_the_utilisation_law() {
        let r = mean_response(4, 30, 0.5, 0.1);
        assert!((r - 0.263_795_699_906_226_3).abs() < 1e-9, "{r}");
        assert!(r > 0.25);
        let x = 30.0 / (r + 0.5);
        let s = service_part(4, 30.0, x, r).unwrap();
        assert!((s - 0.1).abs() < 1e-9, "{s}");
        assert_eq!(service_part(4, 30.0, 100.0, 0.5), None);
    }
}
