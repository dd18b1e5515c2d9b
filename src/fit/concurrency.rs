//! Contention and the knee: response time against load. Each 10 s window of the data gives one
//! point: its load z, which does not contain the response times (the concurrency the load tool
//! records with its requests, JMeter `allThreads`, k6 VUs, Locust users; else, for logs, the
//! arrival rate), the requests in progress n (1 + sum of response times / window length,
//! Little's law: the requests an arrival finds plus itself, as the simulator counts busy
//! threads), its mean successful response time W and its arrival rate X. Points are pooled into
//! at most 30 bins of equal size in the order of z. Then:
//!
//! - whether response times grow with the load at all is the weighted least-squares slope of W
//!   on z, with its standard error (exact under "no growth": z holds none of W's noise). Only a
//!   slope above the one-sided 2.5% point of Student's t with bins - 2 degrees of freedom is
//!   significant (2.26 standard errors with 11 bins, 2.05 with 30: with few bins the normal's
//!   2.0 read about 4% of data without contention as significant, and a reality-check
//!   calibration at 30% load, t = 2.16 on 11 bins, put a collapse at 80% load where the real
//!   server held); when z hardly varies it cannot be told;
//! - the coefficient of time = s x (1 + contention x n), as the simulator applies it (a
//!   thread's service multiplied by 1 + contention x busy threads), is that slope carried over
//!   to n by z as the instrument (see [`line`]): n holds W itself (a window of slow responses
//!   has both a high W and a high n), so a regression on n would slope upward by construction;
//! - the knee, where throughput stops growing: above N requests in progress W = n / X_max (more
//!   requests only wait, Little's law) with X_max = N / (s (1 + contention N)); N is the split
//!   that fits best, kept only when it halves the misfit of the straight line and at least two
//!   bins lie above it.
//! - Waiting is not contention, but both make times grow with load. With open arrivals (logs)
//!   arrivals at random find every thread busy now and then well before the threads are
//!   saturated. With the thread count given (`--threads`), the mean wait of M/M/N (Erlang C,
//!   exact for exponential service, an approximation for others) is taken out of each bin's
//!   mean time first (the service part S with S + wait(N, X, S) = W) and the test and line are
//!   about what is left. Below a knee without `--threads` the N whose remainder is straightest
//!   is fitted (the capacity is then seen in the data). Otherwise a significant slope may be
//!   waiting for threads the data do not show, and the note says so. With concurrency recorded
//!   by a load tool (a closed test: n users, each with one request) nobody waits while the
//!   threads are at least the users.
//!
//! What the model makes of it is `model_toml`'s business.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::collect::{Grid, WINDOW_S, Window};

const MAX_BINS: usize = 30;
/// Windows with fewer successful timed requests are left out.
const MIN_PER_WINDOW: u32 = 5;
/// A slope is significant when its t lies above this quantile of Student's t (one-sided 2.5%).
const SIGNIFICANT_QUANTILE: f64 = 0.975;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Point {
    /// The load that sets the window: recorded concurrency, or arrivals per second.
    pub load: f64,
    /// Requests in progress by Little's law, counting the one arriving.
    pub n: f64,
    /// Mean successful response time, s.
    pub mean_s: f64,
    /// Requests per second.
    pub throughput_per_s: f64,
    pub requests: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Contention {
    /// Where n comes from.
    pub concurrency_from: String,
    /// What the load z against which growth is tested is.
    pub load_from: String,
    /// Contention per request in progress (None when it cannot be told).
    pub coefficient: Option<f64>,
    pub coefficient_se: Option<f64>,
    /// Slope of the mean response time against the load z, s per unit of z, with its
    /// standard error: the test of whether times grow with the load.
    pub slope_vs_load: Option<f64>,
    pub slope_vs_load_se: Option<f64>,
    /// Whether the slope on the load is significantly above 0 (Student's t, one-sided 2.5%).
    pub significant: bool,
    /// "significant", "not distinguishable from 0", "cannot be told", [`FASTER`] (a slope
    /// significantly below 0: not contention) or [`BELOW_ONCE_WAITING_IS_OUT`] (the same once
    /// the waiting for threads was taken out).
    pub verdict: String,
    /// t of the slope on the load (slope / its standard error), and the t it must pass to be
    /// significant (Student's t, bins - 2 degrees of freedom, one-sided 2.5%).
    #[serde(default)]
    pub t: Option<f64>,
    #[serde(default)]
    pub t_needed: Option<f64>,
    /// Threads whose M/M/N waiting was taken out before the test (`--threads`, or fitted
    /// below a knee); None when waiting was not taken out.
    pub waiting_taken_out_for: Option<u32>,
    /// s: the service time before contention (the model's service mean).
    pub base_service_s: Option<f64>,
    /// s x (1 + contention): mean response time of a request alone.
    pub low_concurrency_mean_s: Option<f64>,
    /// Requests in progress where throughput stops growing: a first estimate of threads x
    /// instances. None when the data never reach it.
    pub knee: Option<f64>,
    pub knee_throughput_per_s: Option<f64>,
    /// Threads whose M/M/N waiting was taken out of the times below the knee (open arrivals
    /// only, without `--threads`; None with concurrency recorded by the tool, or with no knee).
    pub threads_fitted: Option<u32>,
    /// Most requests in progress of a window (Little's law), and of the load z.
    pub max_concurrency_seen: f64,
    pub max_load_seen: f64,
    pub note: String,
    pub points: Vec<Point>,
}

/// The verdict on a slope significantly below 0: responses faster under more load.
pub(crate) const FASTER: &str = "faster under load: not contention";
/// The verdict on a slope significantly below 0 once the waiting for threads was taken out: the
/// wait model (M/M/N, exact for exponential service only) took out more than the real wait.
pub(crate) const BELOW_ONCE_WAITING_IS_OUT: &str =
    "below 0 once the waiting is taken out: not contention";

impl Contention {
    /// The coefficient as the terminal and the report say it: with its standard error, its t
    /// against the t it needed, and the verdict by that rule; None when it was not estimated.
    pub(crate) fn verdict_line(&self) -> Option<String> {
        let (k, se) = (self.coefficient?, self.coefficient_se?);
        let rule = match (self.t, self.t_needed) {
            (Some(t), Some(bar)) => format!(
                " (t = {t:.2}; significant only above t = {bar:.2}, Student's t one-sided 2.5%)"
            ),
            _ => String::new(),
        };
        let verdict = if self.significant {
            "significant, the model uses it".to_string()
        } else if self.verdict == FASTER {
            "faster under load: not contention (likely caching or warm-up), the model uses 0".into()
        } else if self.verdict == BELOW_ONCE_WAITING_IS_OUT {
            "below 0 once the waiting for threads is taken out: not contention (the wait taken out, exact for exponential service only, exceeded the real one), the model uses 0".into()
        } else if k < 0.0 {
            format!(
                "{}: a negative slope is not contention, the model uses 0",
                self.verdict
            )
        } else {
            format!("{}, the model uses 0", self.verdict)
        };
        Some(format!(
            "{k:.5} +- {se:.5} s.e. per request in progress{rule}: {verdict}"
        ))
    }
}

/// Requests in progress of a window by Little's law, counting the one arriving.
pub(crate) fn window_concurrency(w: &Window) -> f64 {
    1.0 + w.sum_time_all / WINDOW_S as f64
}

/// Load of a window: the concurrency the tool recorded (None where it recorded none in this
/// window), or the arrival rate.
fn window_load(w: &Window, recorded: bool) -> Option<f64> {
    if recorded {
        (w.n_conc > 0).then(|| w.sum_conc / f64::from(w.n_conc))
    } else {
        Some(f64::from(w.requests) / WINDOW_S as f64)
    }
}

/// A line fitted to the bins.
#[derive(Debug, Clone, Copy)]
struct Line {
    /// W = a + b n: intercept and slope per request in progress, and the slope's s.e.
    a: f64,
    b: f64,
    se_b: f64,
    /// Slope of W on the load z and its standard error (the test).
    slope_z: f64,
    se_z: f64,
    /// Degrees of freedom of the slope's t: bins - 2.
    df: f64,
}

impl Line {
    fn t(&self) -> f64 {
        self.slope_z / self.se_z
    }

    /// The t a slope must pass: the one-sided 2.5% point of Student's t with `df` degrees.
    fn bar(&self) -> f64 {
        StudentsT::new(0.0, 1.0, self.df)
            .map_or(f64::INFINITY, |t| t.inverse_cdf(SIGNIFICANT_QUANTILE))
    }

    /// Whether the slope on the load is significantly above 0 (see the module doc).
    fn significant(&self) -> bool {
        self.t() > self.bar()
    }
}

/// The line W = a + b n through the bins, weighted by requests, with the load z as the
/// instrument: b = cov(W, z) / cov(n, z). n holds the noise of W itself (by Little's law), z
/// does not, so b is the slope of W on z (weighted least squares, whose standard error is exact
/// when W does not grow with z) carried over to n by the slope of n on z. None when z or n do
/// not vary, or do not vary together.
fn line(pts: &[Point]) -> Option<Line> {
    let sw: f64 = pts.iter().map(|p| p.requests as f64).sum();
    if pts.len() < 3 || sw <= 0.0 {
        return None;
    }
    let mean =
        |f: &dyn Fn(&Point) -> f64| pts.iter().map(|p| p.requests as f64 * f(p)).sum::<f64>() / sw;
    let (mn, mw, mz) = (mean(&|p| p.n), mean(&|p| p.mean_s), mean(&|p| p.load));
    let sum = |f: &dyn Fn(&Point) -> f64| pts.iter().map(|p| p.requests as f64 * f(p)).sum::<f64>();
    let szn = sum(&|p| (p.load - mz) * (p.n - mn));
    let szw = sum(&|p| (p.load - mz) * (p.mean_s - mw));
    let szz = sum(&|p| (p.load - mz).powi(2));
    let snn = sum(&|p| (p.n - mn).powi(2));
    // z must vary, and n with it
    if szz <= 1e-12 * sw * mz.abs().max(1e-9).powi(2)
        || snn <= 1e-12 * sw
        || szn.abs() <= 1e-9 * (szz * snn).sqrt()
    {
        return None;
    }
    let slope_z = szw / szz;
    // residual variance per unit weight (weights are requests: Var(mean) = sigma2 / requests)
    let k = pts.len() as f64;
    let rss_z = sum(&|p| (p.mean_s - mw - slope_z * (p.load - mz)).powi(2));
    let se_z = (rss_z / (k - 2.0) / szz).sqrt();
    let b = szw / szn;
    let a = mw - b * mn;
    Some(Line {
        a,
        b,
        se_b: se_z * szz / szn.abs(),
        slope_z,
        se_z,
        df: k - 2.0,
    })
}

fn misfit(pts: &[Point], pred: impl Fn(f64) -> f64) -> f64 {
    pts.iter()
        .map(|p| {
            let q = pred(p.n);
            p.requests as f64 * ((p.mean_s - q) / q).powi(2)
        })
        .sum()
}

/// The points of the windows (the first and last, partial, left out, and those with too few
/// successful timed requests), sorted by load.
fn points(windows: &Grid<Window>, recorded: bool) -> Vec<Point> {
    let len = windows.cells.len();
    let mut pts: Vec<Point> = windows
        .cells
        .iter()
        .enumerate()
        .filter(|(i, w)| *i > 0 && *i + 1 < len && w.timed_ok >= MIN_PER_WINDOW)
        .filter_map(|(_, w)| {
            Some(Point {
                load: window_load(w, recorded)?,
                n: window_concurrency(w),
                mean_s: w.sum_time_ok / f64::from(w.timed_ok),
                throughput_per_s: f64::from(w.requests) / WINDOW_S as f64,
                requests: u64::from(w.timed_ok),
            })
        })
        .collect();
    pts.sort_by(|a, b| a.load.total_cmp(&b.load));
    pts
}

/// The bins with the wait for `threads` threads taken out of each mean time: the service part
/// S and the requests in service 1 + X S. Open arrivals wait as in M/M/`threads`; the users of
/// a closed test (`recorded`: the bin's load is its mean users) as in the machine-repairman
/// model M/M/`threads`//N (`repairman`), the wait `fit` also takes out of the service times,
/// so that it is taken out once, from both. A closed bin whose figures leave its users no
/// think time is left out.
fn without_waiting(bins: &[Point], threads: u32, recorded: bool) -> Vec<Point> {
    bins.iter()
        .filter_map(|p| {
            let x = p.throughput_per_s;
            let s = if recorded {
                super::repairman::service_part(threads, p.load, x, p.mean_s)?
            } else {
                service_part(threads, x, p.mean_s)
            };
            Some(Point {
                n: 1.0 + x * s,
                mean_s: s,
                ..*p
            })
        })
        .collect()
}

/// Contention and knee from the windows; None when fewer than 3 windows qualify. `recorded`:
/// the files record the concurrency (a closed test); `threads`: the thread count given with
/// `--threads`, whose M/M/N wait is taken out of the times of open arrivals.
pub(crate) fn analyse(
    windows: &Grid<Window>,
    recorded: bool,
    threads: Option<u32>,
) -> Option<Contention> {
    let pts = points(windows, recorded);
    if pts.len() < 3 {
        return None;
    }
    let max_seen = pts.iter().map(|p| p.n).fold(0.0, f64::max);
    let max_load = pts.iter().map(|p| p.load).fold(0.0, f64::max);
    let min_load = pts.iter().map(|p| p.load).fold(f64::INFINITY, f64::min);
    let bins = pool(&pts);
    let load_from = if recorded {
        "concurrency recorded with each request (JMeter allThreads, k6 VUs or Locust users), mean per 10 s window"
    } else {
        "arrivals per second of the 10 s window"
    };
    let mut c = Contention {
        concurrency_from:
            "1 + requests in progress by Little's law (sum of response times / 10 s window)".into(),
        load_from: load_from.into(),
        coefficient: None,
        coefficient_se: None,
        slope_vs_load: None,
        slope_vs_load_se: None,
        significant: false,
        verdict: "cannot be told".into(),
        t: None,
        t_needed: None,
        waiting_taken_out_for: None,
        base_service_s: None,
        low_concurrency_mean_s: None,
        knee: None,
        knee_throughput_per_s: None,
        threads_fitted: None,
        max_concurrency_seen: max_seen,
        max_load_seen: max_load,
        note: String::new(),
        points: bins.clone(),
    };
    // the waiting of the threads given is taken out of open arrivals (M/M/N) and of a closed
    // test's users (M/M/N//users) alike
    let given = threads;
    let Some(whole) = line(&bins) else {
        c.note = format!(
            "the load hardly varies in the data ({} from {min_load:.1} to {max_load:.1}): contention cannot be told from service time",
            if recorded {
                "concurrency"
            } else {
                "arrivals per second"
            }
        );
        return Some(c);
    };
    let (fit, below) = match knee(&bins, whole) {
        Some(j) => {
            let below = &bins[..=j];
            let mut fit = line(below).expect("fitted in the knee search");
            let mut n_k = bins[j].n;
            let waited = match given {
                Some(t) => Some(t),
                None if !recorded => fit_threads(below, fit).map(|(t, _)| {
                    c.threads_fitted = Some(t);
                    t
                }),
                None => None,
            };
            let mut used = below.to_vec();
            if let Some(t) = waited {
                let served = without_waiting(below, t, recorded);
                if let Some(f) = line(&served) {
                    fit = f;
                    used = served;
                    n_k = f64::from(t);
                    c.waiting_taken_out_for = Some(t);
                }
            }
            let x_max = n_k / (fit.a + fit.b * n_k);
            c.knee = Some(n_k);
            c.knee_throughput_per_s = Some(x_max);
            c.note = format!(
                "throughput stops growing at about {n_k:.0} requests in progress ({x_max:.1}/s); above it requests wait"
            );
            if let Some(t) = c.waiting_taken_out_for {
                c.note.push_str(&format!(
                    "; below it, the waiting of {t} threads (M/M/{t}) is taken out of the times"
                ));
            }
            (fit, used)
        }
        None => {
            c.note = format!(
                "no knee: throughput still grows at the highest concurrency seen (n = {max_seen:.1})"
            );
            let mut fit = whole;
            let mut used = bins.clone();
            if let Some(t) = given {
                let served = without_waiting(&bins, t, recorded);
                if let Some(f) = line(&served) {
                    fit = f;
                    used = served;
                    c.waiting_taken_out_for = Some(t);
                    c.note.push_str(&format!(
                        "; the waiting of {t} threads ({}, from --threads) is taken out of the times",
                        if recorded { format!("machine-repairman M/M/{t}//users") } else { format!("M/M/{t}") }
                    ));
                }
            }
            (fit, used)
        }
    };
    judge(&mut c, fit, &below, recorded);
    Some(c)
}

/// The bin at the knee: the split that fits best, with at least 3 bins below and 2 above,
/// where the bins above are slower than the line below would have them by at least a quarter on
/// average (so that noise is not taken for a knee), kept when it halves the straight line's
/// misfit.
fn knee(bins: &[Point], whole: Line) -> Option<usize> {
    let straight = misfit(bins, |n| whole.a + whole.b * n);
    let mut best: Option<(usize, f64)> = None;
    for j in 2..bins.len().saturating_sub(2) {
        let Some(Line { a, b, .. }) = line(&bins[..=j]) else {
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
    best.filter(|&(_, m)| m < 0.5 * straight).map(|(j, _)| j)
}

/// The coefficient, its test and the verdict from the line fitted to `used`.
fn judge(c: &mut Contention, fit: Line, used: &[Point], recorded: bool) {
    c.slope_vs_load = Some(fit.slope_z);
    c.slope_vs_load_se = Some(fit.se_z);
    if fit.a <= 0.0 {
        c.note
            .push_str("; the fitted line crosses 0 before n = 0: no contention estimate");
        return;
    }
    let coef = fit.b / fit.a;
    let se = fit.se_b / fit.a;
    let hi = used.iter().map(|p| p.n).fold(0.0, f64::max);
    c.coefficient = Some(coef);
    c.coefficient_se = Some(se);
    c.base_service_s = Some(fit.a);
    c.low_concurrency_mean_s = Some(fit.a + fit.b);
    c.significant = fit.significant() && coef > 0.0;
    let bar = fit.bar();
    c.t = Some(fit.t());
    c.t_needed = Some(bar);
    // Not significant, but the data cannot rule out a contention that slows the busiest
    // window seen by half: it cannot be told.
    c.verdict = if c.significant {
        "significant".into()
    } else if fit.t() < -bar && coef < 0.0 && c.waiting_taken_out_for.is_some() {
        BELOW_ONCE_WAITING_IS_OUT.into()
    } else if fit.t() < -bar && coef < 0.0 {
        FASTER.into()
    } else if 2.0 * se * hi > 0.5 {
        "cannot be told".into()
    } else {
        "not distinguishable from 0".into()
    };
    if c.significant && c.waiting_taken_out_for.is_none() {
        c.note.push_str(if recorded {
            "; times grow with the users: contention, or waiting for fewer threads than users (the data cannot tell which)"
        } else {
            "; times grow with the load: contention, or waiting for threads the data do not show (give --threads N to take the waiting of N threads out)"
        });
    }
    if c.verdict == "cannot be told" {
        c.note.push_str(&format!(
            "; the load varies too little for contention to be told (+- {se:.4} per request in progress)"
        ));
    }
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
pub(crate) fn mmn_wait(threads: u32, x: f64, s: f64) -> f64 {
    let a = x * s;
    if a >= f64::from(threads) {
        return f64::INFINITY;
    }
    erlang_c(threads, a) * s / (f64::from(threads) - a)
}

/// The service part of a mean response time `w` at `x` arrivals a second with `threads`
/// threads: the S with S + wait(threads, x, S) = w (bisection to the float's resolution; the
/// wait grows with S).
pub(crate) fn service_part(threads: u32, x: f64, w: f64) -> f64 {
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
fn fit_threads(below: &[Point], as_measured: Line) -> Option<(u32, Line)> {
    let most = below.iter().map(|p| p.n).fold(1.0, f64::max);
    let mut best: Option<(f64, u32, Line)> = None;
    for threads in 1..=(most.ceil() as u32) {
        let served = without_waiting(below, threads, false);
        let Some(fit) = line(&served) else {
            continue;
        };
        if fit.a <= 0.0 {
            continue;
        }
        let m = misfit(&served, |n| fit.a + fit.b * n);
        if best.as_ref().is_none_or(|(bm, _, _)| m < *bm) {
            best = Some((m, threads, fit));
        }
    }
    let unbounded = misfit(below, |n| as_measured.a + as_measured.b * n);
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
                load: part.iter().map(|p| p.requests as f64 * p.load).sum::<f64>() / w,
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
