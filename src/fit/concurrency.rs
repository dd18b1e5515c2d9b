//! Contention and the knee: response time against concurrency. Each 10 s window of the data
//! gives one point: its concurrency n (the mean the file records with its requests, JMeter
//! `allThreads`, k6 VUs, Locust users; else, for logs, 1 + the mean number of requests in
//! progress by Little's law, sum of response times / window length: the requests an arrival
//! finds plus itself), its mean successful response time W and its arrival rate X. Points are
//! pooled into at most 30 bins of equal size, in the order of n where the tool records it, else
//! of X. Then:
//!
//! - time = s x (1 + contention x n) is fitted as a line (weights: requests; see [`line`] for
//!   why n from Little's law needs the arrival rate as an instrument) over the bins up to the
//!   knee, as in the simulator, where a thread's service is multiplied by 1 + contention x busy
//!   threads;
//! - the knee, where throughput stops growing: above N requests in progress W = n / X_max (more
//!   requests only wait, Little's law) with X_max = N / (s (1 + contention N)); N is the split
//!   that fits best, kept only when it halves the misfit of the straight line and at least two
//!   bins lie above it.
//! - With n from Little's law (open arrivals, as in an access log) the times below the knee
//!   include waiting too: arrivals at random find every thread busy now and then well before the
//!   threads are saturated, more often the nearer they are, so a line through them reads the
//!   waiting as contention and puts s too low. There the thread count N is fitted: for each N,
//!   the mean wait of M/M/N (Erlang C, exact for exponential service, an approximation for
//!   others) is taken out of each bin's mean time (the service part S with S + wait(N, X, S) =
//!   W), the line is fitted to what is left against 1 + X S (requests in service), and the N
//!   whose remainder is straightest (least misfit) is kept: the knee is then N and the line is
//!   the service and contention without waiting. With concurrency recorded by a load tool (a
//!   closed test: n users, each with one request) nobody waits below the knee, and the split
//!   stands as it is.
//!
//! What the model makes of it is `model_toml`'s business.

use serde::Serialize;

use super::collect::{Grid, WINDOW_S, Window};

const MAX_BINS: usize = 30;
/// Windows with fewer successful timed requests are left out.
const MIN_PER_WINDOW: u32 = 5;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Point {
    /// Concurrency (requests in progress, counting the one arriving).
    pub n: f64,
    /// Mean successful response time, s.
    pub mean_s: f64,
    /// Requests per second.
    pub throughput_per_s: f64,
    pub requests: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contention {
    /// Where n comes from.
    pub concurrency_from: String,
    /// Contention per request in progress (None when the data do not vary enough in n).
    pub coefficient: Option<f64>,
    pub coefficient_se: Option<f64>,
    /// Whether the coefficient is more than two standard errors above 0.
    pub significant: bool,
    /// s: the service time before contention (the model's service mean).
    pub base_service_s: Option<f64>,
    /// s x (1 + contention): mean response time of a request alone.
    pub low_concurrency_mean_s: Option<f64>,
    /// Requests in progress where throughput stops growing: a first estimate of threads x
    /// instances. None when the data never reach it.
    pub knee: Option<f64>,
    pub knee_throughput_per_s: Option<f64>,
    /// Threads whose M/M/N waiting was taken out of the times below the knee (n from Little's
    /// law only; None with concurrency recorded by the tool, or with no knee).
    pub threads_fitted: Option<u32>,
    pub max_concurrency_seen: f64,
    pub note: String,
    pub points: Vec<Point>,
}

/// Concurrency of each window (None for windows left out).
pub fn window_concurrency(w: &Window, recorded: bool) -> Option<f64> {
    if recorded {
        (w.n_conc > 0).then(|| w.sum_conc / f64::from(w.n_conc))
    } else {
        Some(1.0 + w.sum_time_all / WINDOW_S as f64)
    }
}

/// The line W = a + b n through the bins, weighted by requests: (a, b, se of b). With
/// concurrency recorded by the tool, n is set by the test and ordinary least squares serves.
/// With n from Little's law, n carries the noise of W itself (a window of slow responses has
/// both a high W and a high n), which would bias the slope up; the window's arrival rate,
/// which that noise does not touch, is then the instrument: b = cov(W, X) / cov(n, X).
fn line(pts: &[Point], recorded: bool) -> Option<(f64, f64, f64)> {
    let sw: f64 = pts.iter().map(|p| p.requests as f64).sum();
    if pts.len() < 3 || sw <= 0.0 {
        return None;
    }
    let mean =
        |f: &dyn Fn(&Point) -> f64| pts.iter().map(|p| p.requests as f64 * f(p)).sum::<f64>() / sw;
    let z = |p: &Point| if recorded { p.n } else { p.throughput_per_s };
    let (mn, mw, mz) = (mean(&|p| p.n), mean(&|p| p.mean_s), mean(&z));
    let szn: f64 = pts
        .iter()
        .map(|p| p.requests as f64 * (z(p) - mz) * (p.n - mn))
        .sum();
    let szw: f64 = pts
        .iter()
        .map(|p| p.requests as f64 * (z(p) - mz) * (p.mean_s - mw))
        .sum();
    let szz: f64 = pts
        .iter()
        .map(|p| p.requests as f64 * (z(p) - mz).powi(2))
        .sum();
    let snn: f64 = pts
        .iter()
        .map(|p| p.requests as f64 * (p.n - mn).powi(2))
        .sum();
    // n must vary, and along the instrument
    if snn <= 1e-12 * sw || szn.abs() <= 1e-9 * (szz * snn).sqrt() {
        return None;
    }
    let b = szw / szn;
    let a = mw - b * mn;
    let rss: f64 = pts
        .iter()
        .map(|p| p.requests as f64 * (p.mean_s - a - b * p.n).powi(2))
        .sum();
    // residual variance per unit weight, and the slope's variance (IV: s2 Szz / Szn^2)
    let k = pts.len() as f64;
    let s2 = rss / (k - 2.0) / (sw / k) * (sw / k);
    let var_b = s2 * szz / (szn * szn);
    Some((a, b, var_b.sqrt()))
}

fn misfit(pts: &[Point], pred: impl Fn(f64) -> f64) -> f64 {
    pts.iter()
        .map(|p| {
            let q = pred(p.n);
            p.requests as f64 * ((p.mean_s - q) / q).powi(2)
        })
        .sum()
}

/// Contention and knee from the windows; None when fewer than 3 windows qualify.
pub fn analyse(windows: &Grid<Window>, recorded: bool) -> Option<Contention> {
    let len = windows.cells.len();
    let mut pts: Vec<Point> = windows
        .cells
        .iter()
        .enumerate()
        // the first and last windows are partial
        .filter(|(i, w)| *i > 0 && *i + 1 < len && w.timed_ok >= MIN_PER_WINDOW)
        .filter_map(|(_, w)| {
            Some(Point {
                n: window_concurrency(w, recorded)?,
                mean_s: w.sum_time_ok / f64::from(w.timed_ok),
                throughput_per_s: f64::from(w.requests) / WINDOW_S as f64,
                requests: u64::from(w.timed_ok),
            })
        })
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let max_seen = pts.iter().map(|p| p.n).fold(0.0, f64::max);
    let min_seen = pts.iter().map(|p| p.n).fold(f64::INFINITY, f64::min);
    // Pool windows in the order of what sets their load: the recorded concurrency, or the
    // arrival rate (sorting by n from Little's law would sort by the noise of W too).
    if recorded {
        pts.sort_by(|a, b| a.n.total_cmp(&b.n));
    } else {
        pts.sort_by(|a, b| a.throughput_per_s.total_cmp(&b.throughput_per_s));
    }
    let bins = pool(&pts);
    let from = if recorded {
        "concurrency recorded with each request (JMeter allThreads, k6 VUs or Locust users), mean per 10 s window".to_string()
    } else {
        "1 + requests in progress by Little's law (sum of response times / 10 s window)".to_string()
    };
    let mut c = Contention {
        concurrency_from: from,
        coefficient: None,
        coefficient_se: None,
        significant: false,
        base_service_s: None,
        low_concurrency_mean_s: None,
        knee: None,
        knee_throughput_per_s: None,
        threads_fitted: None,
        max_concurrency_seen: max_seen,
        note: String::new(),
        points: bins.clone(),
    };
    let Some(whole) = line(&bins, recorded) else {
        c.note = format!(
            "concurrency hardly varies in the data (n from {:.1} to {:.1}): contention cannot be told from service time",
            min_seen, max_seen
        );
        return Some(c);
    };
    let straight = misfit(&bins, |n| whole.0 + whole.1 * n);
    // The split that fits best, with at least 3 bins below and 2 above, where the bins above
    // are slower than the line below would have them by at least a quarter on average (so
    // that noise is not taken for a knee).
    let mut best: Option<(usize, f64)> = None;
    for j in 2..bins.len().saturating_sub(2) {
        let Some((a, b, _)) = line(&bins[..=j], recorded) else {
            continue;
        };
        let above = &bins[j + 1..];
        let excess = above
            .iter()
            .map(|p| p.mean_s / (a + b * p.n) - 1.0)
            .sum::<f64>()
            / above.len() as f64;
        if excess < 0.25 {
            continue;
        }
        let n_k = bins[j].n;
        let x_max = n_k / (a + b * n_k);
        if !(a > 0.0 && x_max > 0.0 && x_max.is_finite()) {
            continue;
        }
        let m = misfit(&bins[..=j], |n| a + b * n) + misfit(&bins[j + 1..], |n| n / x_max);
        if best.is_none_or(|(_, bm)| m < bm) {
            best = Some((j, m));
        }
    }
    let (a, b, se_b) = match best {
        Some((j, m)) if m < 0.5 * straight => {
            let mut fit = line(&bins[..=j], recorded).expect("fitted above");
            let mut n_k = bins[j].n;
            if !recorded {
                if let Some((threads, without_waiting)) = fit_threads(&bins[..=j], fit) {
                    c.threads_fitted = Some(threads);
                    n_k = f64::from(threads);
                    fit = without_waiting;
                }
            }
            c.knee = Some(n_k);
            c.knee_throughput_per_s = Some(n_k / (fit.0 + fit.1 * n_k));
            c.note = format!(
                "throughput stops growing at about {n_k:.0} requests in progress ({:.1}/s); above it requests wait",
                n_k / (fit.0 + fit.1 * n_k)
            );
            if let Some(t) = c.threads_fitted {
                c.note.push_str(&format!(
                    "; below it, the waiting of {t} threads (M/M/{t}) is taken out of the times"
                ));
            }
            fit
        }
        _ => {
            c.note = format!(
                "no knee: throughput still grows at the highest concurrency seen (n = {max_seen:.1})"
            );
            whole
        }
    };
    if a <= 0.0 {
        c.note
            .push_str("; the fitted line crosses 0 before n = 0: no contention estimate");
        return Some(c);
    }
    let coef = b / a;
    let se = se_b / a;
    c.coefficient = Some(coef);
    c.coefficient_se = Some(se);
    c.significant = coef > 2.0 * se && coef > 0.0;
    c.base_service_s = Some(a);
    c.low_concurrency_mean_s = Some(a + b);
    Some(c)
}

/// Erlang C: the probability that an arrival waits in M/M/`threads` with offered load `a` (in
/// threads) below `threads`; Erlang B by its recursion, then C from B.
fn erlang_c(threads: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=threads {
        b = a * b / (f64::from(k) + a * b);
    }
    let n = f64::from(threads);
    n * b / (n - a * (1.0 - b))
}

/// Mean wait in M/M/`threads` with `x` arrivals a second and a mean service of `s` seconds;
/// infinite at and past saturation.
pub fn mmn_wait(threads: u32, x: f64, s: f64) -> f64 {
    let a = x * s;
    if a >= f64::from(threads) {
        return f64::INFINITY;
    }
    erlang_c(threads, a) * s / (f64::from(threads) - a)
}

/// The service part of a mean response time `w` at `x` arrivals a second with `threads`
/// threads: the S with S + wait(threads, x, S) = w (bisection to the float's resolution; the
/// wait grows with S).
pub fn service_part(threads: u32, x: f64, w: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, w);
    while hi - lo > w * f64::EPSILON * 4.0 {
        let m = 0.5 * (lo + hi);
        if m + mmn_wait(threads, x, m) > w {
            hi = m;
        } else {
            lo = m;
        }
    }
    lo
}

/// The thread count whose M/M/N waiting, taken out of the bins below the knee, leaves the
/// straightest line (least misfit) of time against requests in service; with that line. Counts
/// from 1 to the most requests in progress of a bin below the knee: with more threads than that
/// hardly anyone there waited, and the line through the times as they are (`as_measured`, the
/// limit of ever more threads) is the candidate for all of them; None when it fits best.
fn fit_threads(below: &[Point], as_measured: (f64, f64, f64)) -> Option<(u32, (f64, f64, f64))> {
    let most = below.iter().map(|p| p.n).fold(1.0, f64::max);
    let mut best: Option<(f64, u32, (f64, f64, f64))> = None;
    for threads in 1..=(most.ceil() as u32) {
        let served: Vec<Point> = below
            .iter()
            .map(|p| {
                let s = service_part(threads, p.throughput_per_s, p.mean_s);
                Point {
                    n: 1.0 + p.throughput_per_s * s,
                    mean_s: s,
                    ..*p
                }
            })
            .collect();
        let Some(fit) = line(&served, false) else {
            continue;
        };
        if fit.0 <= 0.0 {
            continue;
        }
        let m = misfit(&served, |n| fit.0 + fit.1 * n);
        if best.as_ref().is_none_or(|(bm, _, _)| m < *bm) {
            best = Some((m, threads, fit));
        }
    }
    let (a, b, _) = as_measured;
    let unbounded = misfit(below, |n| a + b * n);
    best.filter(|(m, _, _)| *m < unbounded)
        .map(|(_, t, f)| (t, f))
}

/// At most 30 bins of consecutive points, of equal numbers of points.
fn pool(pts: &[Point]) -> Vec<Point> {
    let m = pts.len();
    let bins = m.min(MAX_BINS);
    (0..bins)
        .map(|g| {
            let part = &pts[g * m / bins..(g + 1) * m / bins];
            let req: u64 = part.iter().map(|p| p.requests).sum();
            let w = req as f64;
            Point {
                n: part.iter().map(|p| p.requests as f64 * p.n).sum::<f64>() / w,
                mean_s: part
                    .iter()
                    .map(|p| p.requests as f64 * p.mean_s)
                    .sum::<f64>()
                    / w,
                throughput_per_s: part.iter().map(|p| p.throughput_per_s).sum::<f64>()
                    / part.len() as f64,
                requests: req,
            }
        })
        .collect()
}
