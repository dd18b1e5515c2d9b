//! The crossing of 0.5 by a failure probability against a parameter: a logistic curve fitted
//! by maximum likelihood to 0/1 outcomes grouped by replication, and the profile-likelihood
//! (likelihood-ratio) interval of its crossing.
//!
//! The model: the failure probability is logistic in the parameter, with crossing `m` and
//! slope `s`. Runs of different replications are independent. Runs of one replication at
//! several values (common seeds: replication r draws the same numbers at every value) are not:
//! they tend to fail alike, and say less than as many independent runs (at the extreme, a
//! replication fails at every value past a threshold of its own, and all its runs together
//! place that one threshold). So each replication counts once: its runs' log-likelihoods are
//! averaged (a weight of 1/n on each of its n runs), which never credits it with more than
//! its most informative run, however alike its runs are. With one run per replication
//! (independent seeds) this is the usual logistic regression.
//!
//! The interval is every crossing `m` whose profile log-likelihood (the most over `s`) is
//! within `t^2 / 2` of the best (t, the two-sided quantile of Student's t at `confidence` with
//! the replications less two for degrees of freedom: chi2_1 for many replications, wider for
//! few), clipped to the range searched: unlike the delta method it needs no curvature at the
//! best fit, so it stays honest with few runs, nearly separated outcomes, and a slope poorly
//! known. Its coverage, measured, is in `docs/crashpoint-search.md`.
//!
//! Not here: which runs to do (`crate::experiment::search`).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// A fitted crossing: the crossing, its interval, and the curve in the parameter's units,
/// `P(failure at x) = 1 / (1 + exp(-(intercept + slope x)))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Crossing {
    pub x50: f64,
    pub ci: [f64; 2],
    pub intercept: f64,
    pub slope: f64,
}

impl Crossing {
    /// Where the fitted failure probability is `p`.
    pub(crate) fn at(&self, p: f64) -> f64 {
        ((p / (1.0 - p)).ln() - self.intercept) / self.slope
    }
}

/// The slope's bounds on the scaled axis (the range searched in tenths): a slope at the upper
/// bound is a step.
const SLOPE_MIN: f64 = 1e-3;
const SLOPE_MAX: f64 = 1e3;

/// Runs alike on the scaled axis (oriented so that runs fail below the crossing), with their
/// weight in the likelihood.
struct Runs {
    z: f64,
    failed: bool,
    weight: f64,
}

/// `ln(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// The log-likelihood of crossing `m` and slope `s` (scaled axis): a run at `z` fails with
/// probability L(-s (z - m)), L the logistic function.
fn log_likelihood(data: &[Runs], m: f64, s: f64) -> f64 {
    data.iter()
        .map(|r| {
            let a = s * (r.z - m);
            -r.weight * if r.failed { softplus(a) } else { softplus(-a) }
        })
        .sum()
}

/// The most log-likelihood at crossing `m` over the slope, and that slope (golden-section
/// search on the slope's logarithm).
fn profile(data: &[Runs], m: f64) -> (f64, f64) {
    let f = |u: f64| log_likelihood(data, m, u.exp());
    let (mut a, mut b) = (SLOPE_MIN.ln(), SLOPE_MAX.ln());
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..36 {
        if fc >= fd {
            b = d;
            (d, fd) = (c, fc);
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            (c, fc) = (d, fd);
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    let (u, fu) = if fc >= fd { (c, fc) } else { (d, fd) };
    // The bounds themselves: a step (separated outcomes) peaks at the upper one.
    [
        (SLOPE_MIN.ln(), f(SLOPE_MIN.ln())),
        (SLOPE_MAX.ln(), f(SLOPE_MAX.ln())),
    ]
    .into_iter()
    .fold((fu, u.exp()), |best, (u, fu)| {
        if fu > best.0 { (fu, u.exp()) } else { best }
    })
}

/// The fit of `groups` (each one replication's runs, counted once: (value, failed)) on the range
/// `[lo, hi]`, larger values failing more if `larger_fails`, with the interval of its crossing
/// at `confidence`. `None` where the outcomes are separated (the slope is unbounded: no curve
/// to fit, the search brackets instead) or there are no runs.
pub(crate) fn fit_crossing(
    groups: &[Vec<(f64, bool)>],
    larger_fails: bool,
    lo: f64,
    hi: f64,
    confidence: f64,
) -> Option<Crossing> {
    let scale = ((hi - lo) / 10.0).max(1e-9);
    let centre = 0.5 * (lo + hi);
    // Oriented so that runs fail below the crossing.
    let sign = if larger_fails { -1.0 } else { 1.0 };
    let axis = |x: f64| sign * (x - centre) / scale;
    let mut data: Vec<Runs> = Vec::new();
    for g in groups.iter().filter(|g| !g.is_empty()) {
        let weight = 1.0 / g.len() as f64;
        for &(x, failed) in g {
            let z = axis(x);
            match data.iter_mut().find(|r| r.z == z && r.failed == failed) {
                Some(r) => r.weight += weight,
                None => data.push(Runs { z, failed, weight }),
            }
        }
    }
    // Separated outcomes (every failure below every success: a step anywhere between fits
    // them all) have no curve.
    let last_fail = data
        .iter()
        .filter(|r| r.failed)
        .map(|r| r.z)
        .fold(f64::NEG_INFINITY, f64::max);
    let first_hold = data
        .iter()
        .filter(|r| !r.failed)
        .map(|r| r.z)
        .fold(f64::INFINITY, f64::min);
    if last_fail <= first_hold {
        return None;
    }
    // The best crossing: a grid over the range, then a golden-section search around the best
    // point of the grid.
    let (zlo, zhi) = (axis(lo).min(axis(hi)), axis(lo).max(axis(hi)));
    const GRID: usize = 40;
    let grid: Vec<f64> = (0..=GRID)
        .map(|i| zlo + (zhi - zlo) * i as f64 / GRID as f64)
        .collect();
    let values: Vec<f64> = grid.iter().map(|&m| profile(&data, m).0).collect();
    let best = (0..=GRID).max_by(|&i, &j| values[i].total_cmp(&values[j]))?;
    let (mut a, mut b) = (grid[best.saturating_sub(1)], grid[(best + 1).min(GRID)]);
    let g = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..30 {
        let (c, d) = (b - g * (b - a), a + g * (b - a));
        if profile(&data, c).0 >= profile(&data, d).0 {
            b = d;
        } else {
            a = c;
        }
    }
    let m = 0.5 * (a + b);
    let (top, s) = profile(&data, m);
    if s >= 0.5 * SLOPE_MAX {
        return None;
    }
    // The interval: from each end of the range, the first crossing within the cut of the best,
    // its edge found by bisection from the point before it.
    // The cut: t^2 with the replications less the two parameters for degrees of freedom, the
    // small-sample form of chi2_1 (as a mean's interval takes t for z).
    let df = data.iter().map(|r| r.weight).sum::<f64>() - 2.0;
    if df < 1.0 {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, df)
        .ok()?
        .inverse_cdf(0.5 + confidence / 2.0);
    let cut = top - 0.5 * t * t;
    let mut points: Vec<(f64, f64)> = grid.iter().copied().zip(values).collect();
    points.push((m, top));
    points.sort_by(|x, y| x.0.total_cmp(&y.0));
    let inside = |p: &(f64, f64)| p.1 >= cut;
    let edge = |out: f64, mut inn: f64| {
        let mut out = out;
        for _ in 0..30 {
            let mid = 0.5 * (out + inn);
            if profile(&data, mid).0 >= cut {
                inn = mid;
            } else {
                out = mid;
            }
        }
        inn
    };
    let first = points.iter().position(inside)?;
    let last = points.iter().rposition(inside)?;
    let left = if first == 0 {
        points[0].0
    } else {
        edge(points[first - 1].0, points[first].0)
    };
    let right = if last + 1 == points.len() {
        points[last].0
    } else {
        edge(points[last + 1].0, points[last].0)
    };
    // Back to the parameter's units (the orientation may swap the ends).
    let back = |u: f64| centre + sign * u * scale;
    let (x50, e1, e2) = (back(m), back(left), back(right));
    // P(failure at x) = L(-s (axis(x) - m)) = L(intercept + slope x).
    let slope = -s * sign / scale;
    Some(Crossing {
        x50,
        ci: [e1.min(e2), e1.max(e2)],
        intercept: -slope * x50,
        slope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One run per group.
    fn runs(data: &[(f64, bool)]) -> Vec<Vec<(f64, bool)>> {
        data.iter().map(|r| vec![*r]).collect()
    }

    #[test]
    fn a_known_crossing_is_found_and_its_interval_holds_it() {
        // p(x) = 1 / (1 + exp(-(x - 3) * 2)), sampled deterministically.
        let mut data = Vec::new();
        let mut u: u64 = 7;
        for i in 0..4000 {
            let x = f64::from(i % 40) * 0.15;
            u = u
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (u >> 11) as f64 / (1u64 << 53) as f64;
            let p = 1.0 / (1.0 + (-(x - 3.0) * 2.0).exp());
            data.push((x, r < p));
        }
        let c = fit_crossing(&runs(&data), true, 0.0, 6.0, 0.95).unwrap();
        assert!((c.x50 - 3.0).abs() < 0.1, "crossing at {}", c.x50);
        assert!(c.ci[0] < c.x50 && c.x50 < c.ci[1], "{c:?}");
        assert!(c.ci[1] - c.ci[0] < 0.3, "{c:?}");
        assert!((c.slope - 2.0).abs() < 0.3, "slope {}", c.slope);
        assert!((c.intercept + c.slope * c.x50).abs() < 1e-9);
        assert!((c.at(0.5) - c.x50).abs() < 1e-9);
        // Larger values holding: the same curve mirrored.
        let mirrored: Vec<(f64, bool)> = data.iter().map(|&(x, y)| (6.0 - x, y)).collect();
        let m = fit_crossing(&runs(&mirrored), false, 0.0, 6.0, 0.95).unwrap();
        assert!((m.x50 - (6.0 - c.x50)).abs() < 1e-3, "{m:?} {c:?}");
        assert!((m.slope + c.slope).abs() < 1e-2, "{m:?} {c:?}");
    }

    #[test]
    fn separated_outcomes_have_no_fit() {
        let separated = [(1.0, false), (2.0, false), (3.0, true), (4.0, true)];
        assert!(fit_crossing(&runs(&separated), true, 0.0, 5.0, 0.95).is_none());
    }

    #[test]
    fn few_runs_give_a_wide_interval_and_one_replication_counts_once() {
        // Five runs, one overlap: the crossing is poorly known, and the interval says so.
        let few = [
            (1.0, false),
            (2.0, true),
            (3.0, false),
            (4.0, true),
            (5.0, true),
        ];
        let c = fit_crossing(&runs(&few), true, 0.0, 6.0, 0.95).unwrap();
        assert!(c.ci[1] - c.ci[0] > 2.0, "{c:?}");
        // Three replications run at the same five values, each failing past a threshold of
        // its own (common seeds): grouped by replication they count as three, and know less
        // than fifteen independent runs with the same outcomes.
        let groups: Vec<Vec<(f64, bool)>> = [2.5, 3.5, 1.5]
            .iter()
            .map(|t| (1..=5).map(|x| (f64::from(x), f64::from(x) > *t)).collect())
            .collect();
        let paired = fit_crossing(&groups, true, 0.0, 6.0, 0.95).unwrap();
        let flat: Vec<(f64, bool)> = groups.concat();
        let independent = fit_crossing(&runs(&flat), true, 0.0, 6.0, 0.95).unwrap();
        assert!((paired.x50 - 2.5).abs() < 0.2, "{paired:?}");
        assert!(
            paired.ci[1] - paired.ci[0] > independent.ci[1] - independent.ci[0],
            "{paired:?} {independent:?}"
        );
    }
}
