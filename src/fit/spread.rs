//! The spread of the service time where `--threads` takes the waiting out of open arrivals'
//! response times. Scaling each response by its window's share of service keeps the mean of
//! the service but not its spread (the waiting of a busy window is much the same for all its
//! requests, so the scaled times vary too little). Here the spread is deconvolved by moments:
//! a response is its wait plus its service, independent under first come first served, so
//! E[R^2] = E[S^2] + 2 E[S] E[W] + E[W^2], with the wait of G/G/N at the window's load by the
//! Allen-Cunneen approximation (the M/M/N wait, Erlang C, times (ca^2 + cv^2) / 2, conditionally
//! exponential; ca^2 the arrivals' index of dispersion per second: 1 for Poisson, about 0.5 for
//! the closed Locust users of tests/fit-data/real/reality-nginx-80pct.log, where a Poisson wait
//! left a service cv of 0.12 against the handler's true 0.5). The squared cv of the service and each window's mean service are solved
//! together (fixed point). Windows at 90% of the threads' capacity or more are left out of the
//! spread: their queues are transient, or bounded, and no steady formula holds there.
//!
//! This is not a fit of the service distribution's family: [`reshape`] gives the scaled times
//! the spread found, keeping their mean and, by a power transform, their shape.

use super::concurrency::mmn_wait;

/// Busiest a window may be (offered load over threads) to count towards the spread.
const MAX_LOAD: f64 = 0.9;
/// Fewest responses the spread is estimated from (fewer: the scaled times are kept as they are).
const MIN_SAMPLES: usize = 30;
/// Bounds of the squared cv estimated (a service time from nearly constant to very skewed).
const CV2_BOUNDS: (f64, f64) = (0.01, 16.0);

/// Mean wait in G/G/`threads` with `x` arrivals a second of squared cv `ca2`, a mean service of
/// `s` and a squared cv of the service `cv2` (Allen-Cunneen); and the probability of waiting
/// (Erlang C). `ca2` is 1 for Poisson arrivals; the users of a closed load test arrive more
/// evenly (below 1), and taking out a Poisson wait there leaves too little spread.
fn mgn_wait(threads: u32, x: f64, s: f64, cv2: f64, ca2: f64) -> (f64, f64) {
    let mm = mmn_wait(threads, x, s);
    let free = f64::from(threads) - x * s;
    let c = if s > 0.0 { mm * free / s } else { 0.0 };
    (0.5 * (ca2 + cv2) * mm, c)
}

/// The mean service of a window whose mean response is `m` at `x` arrivals a second: the S
/// with S + wait(S) = m (bisection; the wait grows with S).
pub(crate) fn service_mean(threads: u32, x: f64, m: f64, cv2: f64, ca2: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, m);
    while hi - lo > m * f64::EPSILON * 4.0 {
        let s = 0.5 * (lo + hi);
        if s + mgn_wait(threads, x, s, cv2, ca2).0 > m {
            hi = s;
        } else {
            lo = s;
        }
    }
    lo
}

/// One window's responses: its arrivals a second, its mean response (of all its successful
/// requests), and the count and sum of squares of the responses sampled in it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Obs {
    pub(crate) x: f64,
    pub(crate) mean: f64,
    pub(crate) n: f64,
    pub(crate) sum_sq: f64,
}

/// The squared cv of the service that the responses' second moment leaves once the M/G/N wait
/// of each window is taken out; None with too few responses in windows below [`MAX_LOAD`].
pub(crate) fn fit_cv2(threads: u32, obs: &[Obs], ca2: f64) -> Option<f64> {
    let mut k = 1.0;
    for _ in 0..200 {
        let (mut r2, mut s2, mut rest, mut used) = (0.0, 0.0, 0.0, 0.0);
        for o in obs {
            let s = service_mean(threads, o.x, o.mean, k, ca2);
            let a = o.x * s;
            if s <= 0.0 || a >= MAX_LOAD * f64::from(threads) {
                continue;
            }
            let (ew, c) = mgn_wait(threads, o.x, s, k, ca2);
            let theta = if c > 0.0 { ew / c } else { 0.0 };
            r2 += o.sum_sq;
            s2 += o.n * s * s;
            rest += o.n * (2.0 * s * ew + 2.0 * c * theta * theta);
            used += o.n;
        }
        if used < MIN_SAMPLES as f64 || s2 <= 0.0 {
            return None;
        }
        let next = ((r2 - rest) / s2 - 1.0).clamp(CV2_BOUNDS.0, CV2_BOUNDS.1);
        let done = (next - k).abs() < 1e-9;
        k = 0.5 * (k + next);
        if done {
            break;
        }
    }
    Some(k)
}

fn mean_cv2(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, var / (m * m))
}

/// `times` made to have the squared cv `cv2` and their own mean: each raised to the power that
/// gives that spread (the shape kept as far as a power keeps it: a lognormal stays one), then
/// scaled back to the mean. Unchanged when they are fewer than two or not all above 0.
pub(crate) fn reshape(times: &mut [f64], cv2: f64) {
    if times.len() < 2 || times.iter().any(|&t| t <= 0.0 || !t.is_finite()) {
        return;
    }
    let (mean, _) = mean_cv2(times);
    // work on times / max so that powers neither overflow nor underflow to 0
    let top = times.iter().copied().fold(0.0, f64::max);
    let unit: Vec<f64> = times.iter().map(|t| t / top).collect();
    let cv2_at = |p: f64| mean_cv2(&unit.iter().map(|u| u.powf(p)).collect::<Vec<_>>()).1;
    let (mut lo, mut hi) = (0.02, 20.0);
    if cv2_at(lo) > cv2 || cv2_at(hi) < cv2 {
        return;
    }
    for _ in 0..60 {
        let p = 0.5 * (lo + hi);
        if cv2_at(p) > cv2 {
            hi = p;
        } else {
            lo = p;
        }
    }
    let p = 0.5 * (lo + hi);
    let powered: Vec<f64> = unit.iter().map(|u| u.powf(p)).collect();
    let (m, _) = mean_cv2(&powered);
    for (t, q) in times.iter_mut().zip(powered) {
        *t = q * mean / m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_power_gives_the_spread_asked_and_keeps_the_mean() {
        let mut v: Vec<f64> = (1..=1000).map(|i| f64::from(i) / 1000.0).collect();
        reshape(&mut v, 0.25);
        let (m, cv2) = mean_cv2(&v);
        assert!((m - 0.5005).abs() < 1e-9, "{m}");
        assert!((cv2 - 0.25).abs() < 1e-6, "{cv2}");
    }

    #[test]
    fn without_waiting_the_spread_is_the_responses() {
        // 1 arrival a second on 100 threads: nobody waits, the cv^2 is the responses'
        // times of 50 ms and 150 ms, as many of each
        let obs = [Obs {
            x: 1.0,
            mean: 0.1,
            n: 200.0,
            sum_sq: 100.0 * (0.05 * 0.05 + 0.15 * 0.15),
        }];
        let k = fit_cv2(100, &obs, 1.0).unwrap();
        assert!((k - 0.25).abs() < 1e-6, "{k}");
    }
}
