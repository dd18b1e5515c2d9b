//! Probability distributions of a model: how they are written in TOML (`RawDist`), checked and
//! turned into a sampler (`Dist`), and sampled. Durations come out in seconds; `geometric` gives
//! counts (1, 2, 3, ...).

use crate::engine::rng::open01;
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};
use serde::Deserialize;

use super::units::Quantity;

/// A distribution as written: `{ dist = "lognormal", mean = "120ms", cv = 1.0 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a distribution such as { dist = \"exponential\", mean = \"100ms\" }"
)]
pub(crate) struct RawDist {
    pub dist: String,
    pub mean: Option<Quantity>,
    pub cv: Option<f64>,
    pub sd: Option<Quantity>,
    pub value: Option<Quantity>,
    pub min: Option<Quantity>,
    pub max: Option<Quantity>,
    pub mu: Option<f64>,
    pub sigma: Option<f64>,
    pub shape: Option<f64>,
    pub scale: Option<Quantity>,
    pub k: Option<u32>,
    pub p: Option<Vec<f64>>,
    pub means: Option<Vec<Quantity>>,
    pub file: Option<String>,
    pub column: Option<String>,
}

/// A ready-to-sample distribution.
#[derive(Debug, Clone)]
pub enum Dist {
    Exponential {
        mean: f64,
    },
    Deterministic {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// Normal truncated at 0 (negative draws are redrawn).
    Normal {
        mean: f64,
        sd: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma {
        gamma: Gamma<f64>,
        shape: f64,
        scale: f64,
    },
    Weibull {
        shape: f64,
        scale: f64,
    },
    Pareto {
        shape: f64,
        scale: f64,
    },
    /// Counts 1, 2, ... with success probability `p` (mean 1/p).
    Geometric {
        p: f64,
        ln_q: f64,
    },
    HyperExponential {
        p: Vec<f64>,
        means: Vec<f64>,
    },
    Empirical {
        samples: Vec<f64>,
    },
}

pub(crate) const KINDS: &[&str] = &[
    "exponential",
    "deterministic",
    "uniform",
    "normal",
    "lognormal",
    "gamma",
    "erlang",
    "weibull",
    "pareto",
    "geometric",
    "hyperexponential",
    "empirical",
];

fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

fn gamma_fn(x: f64) -> f64 {
    ln_gamma(x).exp()
}

impl Dist {
    /// Draw one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::Deterministic { value } => *value,
            Dist::Uniform { min, max } => min + (max - min) * open01(rng),
            Dist::Normal { mean, sd } => {
                for _ in 0..64 {
                    let z: f64 = StandardNormal.sample(rng);
                    let x = mean + sd * z;
                    if x >= 0.0 {
                        return x;
                    }
                }
                0.0
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Gamma { gamma, .. } => gamma.sample(rng),
            Dist::Weibull { shape, scale } => scale * (-open01(rng).ln()).powf(1.0 / shape),
            Dist::Pareto { shape, scale } => scale * open01(rng).powf(-1.0 / shape),
            Dist::Geometric { p, ln_q } => {
                if *p >= 1.0 {
                    1.0
                } else {
                    1.0 + (open01(rng).ln() / ln_q).floor()
                }
            }
            Dist::HyperExponential { p, means } => {
                let u = open01(rng);
                let mut acc = 0.0;
                let mut m = means[means.len() - 1];
                for (pi, mi) in p.iter().zip(means) {
                    acc += pi;
                    if u < acc {
                        m = *mi;
                        break;
                    }
                }
                let e: f64 = Exp1.sample(rng);
                e * m
            }
            Dist::Empirical { samples } => {
                let i = (open01(rng) * samples.len() as f64) as usize;
                samples[i.min(samples.len() - 1)]
            }
        }
    }

    /// The mean (for a truncated normal, the mean of the truncated distribution).
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => *mean,
            Dist::Deterministic { value } => *value,
            Dist::Uniform { min, max } => 0.5 * (min + max),
            Dist::Normal { mean, sd } => {
                if *sd == 0.0 {
                    return *mean;
                }
                let a = -mean / sd;
                mean + sd * std_normal_pdf(a) / (1.0 - std_normal_cdf(a))
            }
            Dist::LogNormal { mu, sigma } => (mu + 0.5 * sigma * sigma).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Weibull { shape, scale } => scale * gamma_fn(1.0 + 1.0 / shape),
            Dist::Pareto { shape, scale } => {
                if *shape > 1.0 {
                    shape * scale / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            Dist::Geometric { p, .. } => 1.0 / p,
            Dist::HyperExponential { p, means } => p.iter().zip(means).map(|(p, m)| p * m).sum(),
            Dist::Empirical { samples } => samples.iter().sum::<f64>() / samples.len() as f64,
        }
    }

    /// The second moment E[X^2] (infinite where it does not exist).
    pub fn second_moment(&self) -> f64 {
        match self {
            Dist::Exponential { mean } => 2.0 * mean * mean,
            Dist::Deterministic { value } => value * value,
            Dist::Uniform { min, max } => (min * min + min * max + max * max) / 3.0,
            Dist::Normal { mean, sd } => {
                if *sd == 0.0 {
                    return mean * mean;
                }
                let a = -mean / sd;
                let lam = std_normal_pdf(a) / (1.0 - std_normal_cdf(a));
                let var = sd * sd * (1.0 + a * lam - lam * lam);
                let m = mean + sd * lam;
                var + m * m
            }
            Dist::LogNormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            Dist::Gamma { shape, scale, .. } => shape * (shape + 1.0) * scale * scale,
            Dist::Weibull { shape, scale } => scale * scale * gamma_fn(1.0 + 2.0 / shape),
            Dist::Pareto { shape, scale } => {
                if *shape > 2.0 {
                    shape * scale * scale / (shape - 2.0)
                } else {
                    f64::INFINITY
                }
            }
            Dist::Geometric { p, .. } => (2.0 - p) / (p * p),
            Dist::HyperExponential { p, means } => {
                p.iter().zip(means).map(|(p, m)| 2.0 * p * m * m).sum()
            }
            Dist::Empirical { samples } => {
                samples.iter().map(|x| x * x).sum::<f64>() / samples.len() as f64
            }
        }
    }

    /// Coefficient of variation.
    pub fn cv(&self) -> f64 {
        let m = self.mean();
        ((self.second_moment() - m * m).max(0.0)).sqrt() / m
    }

    /// Is this the exponential distribution (for analytic M/M/c predictions)?
    pub fn is_exponential(&self) -> bool {
        matches!(self, Dist::Exponential { .. })
    }
}

fn std_normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

fn std_normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

mod build;
#[cfg(test)]
mod tests;
