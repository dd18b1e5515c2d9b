//! Maximum-likelihood fits of the service-time candidates (exponential, lognormal, gamma,
//! Weibull) to a sample of positive times, each with its log-likelihood, AIC (2k - 2 ln L) and
//! Kolmogorov-Smirnov distance (largest gap between the empirical and the fitted CDF); the best
//! is the one with the lowest AIC. Gamma: shape from ln k - digamma(k) = ln(mean) - mean(ln x)
//! (bisection, the left side falls as k grows); Weibull: Newton on the shape.
//!
//! Turning a fit into a model line is `model_toml`'s business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc;
use statrs::function::gamma::{digamma, gamma, gamma_lr, ln_gamma};

/// A fitted distribution of times in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fitted {
    Exponential { mean: f64 },
    LogNormal { mu: f64, sigma: f64 },
    Gamma { shape: f64, scale: f64 },
    Weibull { shape: f64, scale: f64 },
}

/// The distribution of a candidate read back from fit.json, which holds its name and parameters
/// but not the distribution itself: an exponential of NaN mean (every probability NaN).
pub(crate) fn unfitted() -> Fitted {
    Fitted::Exponential { mean: f64::NAN }
}

impl Fitted {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Fitted::Exponential { .. } => "exponential",
            Fitted::LogNormal { .. } => "lognormal",
            Fitted::Gamma { .. } => "gamma",
            Fitted::Weibull { .. } => "weibull",
        }
    }

    pub(crate) fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        match *self {
            Fitted::Exponential { mean } => 1.0 - (-x / mean).exp(),
            Fitted::LogNormal { mu, sigma } => {
                0.5 * erfc(-(x.ln() - mu) / (sigma * std::f64::consts::SQRT_2))
            }
            Fitted::Gamma { shape, scale } => gamma_lr(shape, x / scale),
            Fitted::Weibull { shape, scale } => 1.0 - (-(x / scale).powf(shape)).exp(),
        }
    }

    pub(crate) fn mean(&self) -> f64 {
        match *self {
            Fitted::Exponential { mean } => mean,
            Fitted::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Fitted::Gamma { shape, scale } => shape * scale,
            Fitted::Weibull { shape, scale } => scale * gamma(1.0 + 1.0 / shape),
        }
    }

    pub(crate) fn cv(&self) -> f64 {
        match *self {
            Fitted::Exponential { .. } => 1.0,
            Fitted::LogNormal { sigma, .. } => ((sigma * sigma).exp() - 1.0).sqrt(),
            Fitted::Gamma { shape, .. } => 1.0 / shape.sqrt(),
            Fitted::Weibull { shape, .. } => {
                let g1 = gamma(1.0 + 1.0 / shape);
                (gamma(1.0 + 2.0 / shape) / (g1 * g1) - 1.0).max(0.0).sqrt()
            }
        }
    }

    /// Parameters by the names a model file uses (seconds for scale and mean).
    pub(crate) fn params(&self) -> BTreeMap<String, f64> {
        let v: Vec<(&str, f64)> = match *self {
            Fitted::Exponential { mean } => vec![("mean", mean)],
            Fitted::LogNormal { mu, sigma } => vec![("mu", mu), ("sigma", sigma)],
            Fitted::Gamma { shape, scale } | Fitted::Weibull { shape, scale } => {
                vec![("shape", shape), ("scale", scale)]
            }
        };
        v.into_iter().map(|(k, x)| (k.to_string(), x)).collect()
    }

    fn n_params(&self) -> f64 {
        if matches!(self, Fitted::Exponential { .. }) {
            1.0
        } else {
            2.0
        }
    }

    fn ln_pdf_sum(&self, s: &Stats, x: &[f64]) -> f64 {
        let n = s.n;
        match *self {
            Fitted::Exponential { mean } => -n * mean.ln() - s.sum / mean,
            Fitted::LogNormal { mu, sigma } => {
                let ss: f64 = x.iter().map(|v| (v.ln() - mu).powi(2)).sum();
                -s.sum_ln
                    - n * sigma.ln()
                    - 0.5 * n * (2.0 * std::f64::consts::PI).ln()
                    - ss / (2.0 * sigma * sigma)
            }
            Fitted::Gamma { shape, scale } => {
                (shape - 1.0) * s.sum_ln
                    - n * shape * scale.ln()
                    - n * ln_gamma(shape)
                    - s.sum / scale
            }
            Fitted::Weibull { shape, scale } => {
                let sp: f64 = x.iter().map(|v| (v / scale).powf(shape)).sum();
                n * shape.ln() - n * shape * scale.ln() + (shape - 1.0) * s.sum_ln - sp
            }
        }
    }
}

/// One candidate's fit and how well it fits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Candidate {
    pub dist: String,
    pub mean_s: f64,
    pub cv: f64,
    pub params: BTreeMap<String, f64>,
    pub log_likelihood: f64,
    pub aic: f64,
    pub ks: f64,
    #[serde(skip, default = "unfitted")]
    pub fitted: Fitted,
}

struct Stats {
    n: f64,
    sum: f64,
    sum_ln: f64,
}

/// Fit every candidate to `x` (times in seconds, all > 0), best (lowest AIC) first; `None` for
/// fewer than 10 values.
pub(crate) fn fit_all(x: &[f64]) -> Option<Vec<Candidate>> {
    if x.len() < 10 || x.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return None;
    }
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let s = Stats {
        n,
        sum: x.iter().sum(),
        sum_ln: x.iter().map(|v| v.ln()).sum(),
    };
    let mean = s.sum / n;
    let mean_ln = s.sum_ln / n;
    let var_ln = x.iter().map(|v| (v.ln() - mean_ln).powi(2)).sum::<f64>() / n;
    let mut fits = vec![
        Fitted::Exponential { mean },
        Fitted::LogNormal {
            mu: mean_ln,
            // Times with no spread at all (a stub that always answers alike) keep a sigma that
            // model.toml writes as a positive number (six decimals).
            sigma: var_ln.sqrt().max(SIGMA_MIN),
        },
    ];
    let shape = gamma_shape((mean.ln() - mean_ln).max(1e-12));
    fits.push(Fitted::Gamma {
        shape,
        scale: mean / shape,
    });
    if let Some(w) = weibull(x, mean_ln, var_ln) {
        fits.push(w);
    }
    let mut out: Vec<Candidate> = fits
        .into_iter()
        .map(|f| {
            let ll = f.ln_pdf_sum(&s, x);
            Candidate {
                dist: f.name().into(),
                mean_s: f.mean(),
                cv: f.cv(),
                params: f.params(),
                log_likelihood: ll,
                aic: 2.0 * f.n_params() - 2.0 * ll,
                ks: ks_distance(&sorted, |v| f.cdf(v)),
                fitted: f,
            }
        })
        .filter(|c| c.aic.is_finite())
        .collect();
    out.sort_by(|a, b| a.aic.total_cmp(&b.aic));
    Some(out)
}

/// Kolmogorov-Smirnov distance of a sorted sample from `cdf`.
pub(crate) fn ks_distance(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        // a run of ties jumps the empirical CDF at once
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[i] {
            j += 1;
        }
        let f = cdf(sorted[i]);
        d = d
            .max((f - i as f64 / n).abs())
            .max(((j + 1) as f64 / n - f).abs());
        i = j + 1;
    }
    d
}

/// Gamma shape k with ln k - digamma(k) = `s` (> 0).
fn gamma_shape(s: f64) -> f64 {
    let (mut lo, mut hi) = (1e-4_f64.ln(), 1e7_f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let k = mid.exp();
        if k.ln() - digamma(k) > s {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// The least lognormal sigma and the largest Weibull shape fitted: times with no spread (all
/// equal) would otherwise drive them to 0 and to infinity (a shape of 10^32 that model.toml
/// cannot hold); at these bounds the coefficient of variation is about 10^-4 to 10^-6, a
/// constant for every purpose of the model.
const SIGMA_MIN: f64 = 1e-6;
const SHAPE_MAX: f64 = 1e4;

/// Weibull MLE: Newton on the shape k of sum(x^k ln x)/sum(x^k) - 1/k - mean(ln x) = 0, with
/// the times divided by their geometric mean so that the powers stay in range.
fn weibull(x: &[f64], mean_ln: f64, var_ln: f64) -> Option<Fitted> {
    let l: Vec<f64> = x.iter().map(|v| v.ln() - mean_ln).collect();
    let lmax = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let sums = |k: f64| {
        let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
        for &li in &l {
            let e = (k * (li - lmax)).exp();
            a += e;
            b += e * li;
            c += e * li * li;
        }
        (a, b, c)
    };
    let mut k = (1.2825 / var_ln.sqrt().max(1e-9)).clamp(0.02, 500.0);
    for _ in 0..100 {
        let (a, b, c) = sums(k);
        let g = b / a - 1.0 / k;
        let dg = (c * a - b * b) / (a * a) + 1.0 / (k * k);
        let mut next = k - g / dg;
        if next.is_nan() || next <= 0.0 {
            next = k / 2.0;
        }
        // After the NaN check: `f64::min` would turn a NaN step into the cap.
        next = next.min(SHAPE_MAX);
        let done = ((next - k) / k).abs() < 1e-12;
        k = next;
        if done {
            break;
        }
    }
    if !(k.is_finite() && k > 0.0) {
        return None;
    }
    let (a, _, _) = sums(k);
    // mean of exp(k L) = exp(k lmax) * a / n
    let ln_scale_y = lmax + (a / x.len() as f64).ln() / k;
    Some(Fitted::Weibull {
        shape: k,
        scale: (mean_ln + ln_scale_y).exp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Gamma, LogNormal, Weibull};

    fn sample<D: Distribution<f64>>(d: D, n: usize) -> Vec<f64> {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        (0..n).map(|_| d.sample(&mut rng)).collect()
    }

    #[test]
    fn each_candidate_recovers_itself() {
        let x = sample(Gamma::new(2.5, 0.04).unwrap(), 50_000);
        let best = &fit_all(&x).unwrap()[0];
        assert_eq!(best.dist, "gamma");
        assert!((best.params["shape"] - 2.5).abs() < 0.05, "{best:?}");
        let x = sample(Weibull::new(0.2, 0.7).unwrap(), 50_000); // scale 0.2, shape 0.7
        let best = &fit_all(&x).unwrap()[0];
        assert_eq!(best.dist, "weibull");
        assert!((best.params["shape"] - 0.7).abs() < 0.01, "{best:?}");
        assert!((best.params["scale"] - 0.2).abs() < 0.005, "{best:?}");
        let x = sample(LogNormal::new(-2.0, 0.8).unwrap(), 50_000);
        let fits = fit_all(&x).unwrap();
        assert_eq!(fits[0].dist, "lognormal");
        assert!(fits[0].ks < 0.01);
        assert!(fits.iter().find(|c| c.dist == "exponential").unwrap().ks > 0.05);
    }
}
