//! Probability distributions of a model: how they are written in TOML (`RawDist`), checked and
//! turned into a sampler (`Dist`), and sampled. Durations come out in seconds; `geometric` gives
//! counts (1, 2, 3, ...).

use crate::engine::rng::open01;
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};
use serde::Deserialize;
use std::path::Path;

use super::units::Quantity;

/// A distribution as written: `{ dist = "lognormal", mean = "120ms", cv = 1.0 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a distribution such as { dist = \"exponential\", mean = \"100ms\" }"
)]
pub struct RawDist {
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

pub const KINDS: &[&str] = &[
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

/// Solve for the Weibull shape k with coefficient of variation `cv` (bisection on ln k).
fn weibull_shape_for_cv(cv: f64) -> f64 {
    let cv_of = |k: f64| {
        let g1 = gamma_fn(1.0 + 1.0 / k);
        let g2 = gamma_fn(1.0 + 2.0 / k);
        (g2 / (g1 * g1) - 1.0).max(0.0).sqrt()
    };
    let (mut lo, mut hi) = (0.05_f64.ln(), 200.0_f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        // cv falls as k grows
        if cv_of(mid.exp()) > cv {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

impl RawDist {
    /// Check the parameters and build the sampler. `base_dir` resolves `file` for `empirical`.
    pub fn build(&self, base_dir: &Path) -> Result<Dist, String> {
        let kind = self.dist.as_str();
        let allowed: &[&str] = match kind {
            "exponential" => &["mean"],
            "deterministic" => &["value", "mean"],
            "uniform" => &["min", "max"],
            "normal" => &["mean", "sd", "cv"],
            "lognormal" => &["mean", "cv", "mu", "sigma"],
            "gamma" => &["mean", "cv", "shape", "scale"],
            "erlang" => &["k", "mean"],
            "weibull" => &["shape", "scale", "mean", "cv"],
            "pareto" => &["shape", "scale", "mean"],
            "geometric" => &["mean", "p"],
            "hyperexponential" => &["p", "means", "mean", "cv"],
            "empirical" => &["file", "column"],
            other => {
                let hint = super::error::did_you_mean(other, KINDS)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(format!(
                    "unknown distribution `{other}`{hint}; expected one of {}",
                    KINDS.join(", ")
                ));
            }
        };
        let present: Vec<&str> = [
            ("mean", self.mean.is_some()),
            ("cv", self.cv.is_some()),
            ("sd", self.sd.is_some()),
            ("value", self.value.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("mu", self.mu.is_some()),
            ("sigma", self.sigma.is_some()),
            ("shape", self.shape.is_some()),
            ("scale", self.scale.is_some()),
            ("k", self.k.is_some()),
            ("p", self.p.is_some()),
            ("means", self.means.is_some()),
            ("file", self.file.is_some()),
            ("column", self.column.is_some()),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
        if let Some(bad) = present.iter().find(|n| !allowed.contains(n)) {
            return Err(format!(
                "`{bad}` is not a parameter of the {kind} distribution (it takes {})",
                allowed.join(", ")
            ));
        }
        let pos = |name: &str, v: Option<f64>| -> Result<f64, String> {
            match v {
                None => Err(format!("the {kind} distribution needs `{name}`")),
                Some(x) if x.is_finite() && x > 0.0 => Ok(x),
                Some(x) => Err(format!(
                    "`{name}` of the {kind} distribution must be greater than 0, got {x}"
                )),
            }
        };
        let nonneg = |name: &str, v: f64| -> Result<f64, String> {
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(format!(
                    "`{name}` of the {kind} distribution must be at least 0, got {v}"
                ))
            }
        };
        let q = |x: Option<Quantity>| x.map(|q| q.0);
        let mean = q(self.mean);
        Ok(match kind {
            "exponential" => Dist::Exponential { mean: pos("mean", mean)? },
            "deterministic" => {
                let v = q(self.value).or(mean).ok_or("the deterministic distribution needs `value`")?;
                Dist::Deterministic { value: nonneg("value", v)? }
            }
            "uniform" => {
                let min = nonneg("min", q(self.min).ok_or("the uniform distribution needs `min`")?)?;
                let max = nonneg("max", q(self.max).ok_or("the uniform distribution needs `max`")?)?;
                if max < min {
                    return Err(format!("uniform `max` ({max}) is below `min` ({min})"));
                }
                Dist::Uniform { min, max }
            }
            "normal" => {
                let m = pos("mean", mean)?;
                let sd = match (q(self.sd), self.cv) {
                    (Some(sd), None) => nonneg("sd", sd)?,
                    (None, Some(cv)) => m * nonneg("cv", cv)?,
                    _ => return Err("the normal distribution needs `mean` and one of `sd` or `cv`".into()),
                };
                Dist::Normal { mean: m, sd }
            }
            "lognormal" => match (mean, self.cv, self.mu, self.sigma) {
                (Some(_), Some(cv), None, None) => {
                    let m = pos("mean", mean)?;
                    let cv = pos("cv", Some(cv))?;
                    let s2 = (1.0 + cv * cv).ln();
                    Dist::LogNormal { mu: m.ln() - 0.5 * s2, sigma: s2.sqrt() }
                }
                (None, None, Some(mu), Some(sigma)) if mu.is_finite() => {
                    Dist::LogNormal { mu, sigma: pos("sigma", Some(sigma))? }
                }
                _ => {
                    return Err(
                        "the lognormal distribution takes either `mean` and `cv`, or `mu` and `sigma`".into()
                    );
                }
            },
            "gamma" | "erlang" => {
                let (shape, scale) = if kind == "erlang" {
                    let k = self.k.ok_or("the erlang distribution needs `k` (phases) and `mean`")?;
                    if k == 0 {
                        return Err("`k` of the erlang distribution must be at least 1".into());
                    }
                    let m = pos("mean", mean)?;
                    (f64::from(k), m / f64::from(k))
                } else {
                    match (mean, self.cv, self.shape, q(self.scale)) {
                        (Some(_), Some(cv), None, None) => {
                            let m = pos("mean", mean)?;
                            let cv = pos("cv", Some(cv))?;
                            let shape = 1.0 / (cv * cv);
                            (shape, m / shape)
                        }
                        (None, None, Some(k), Some(s)) => (pos("shape", Some(k))?, pos("scale", Some(s))?),
                        _ => return Err("the gamma distribution takes `mean` and `cv`, or `shape` and `scale`".into()),
                    }
                };
                let gamma = Gamma::new(shape, scale).map_err(|e| format!("bad gamma parameters: {e}"))?;
                Dist::Gamma { gamma, shape, scale }
            }
            "weibull" => {
                let (shape, scale) = match (self.shape, q(self.scale), mean, self.cv) {
                    (Some(k), Some(s), None, None) => (pos("shape", Some(k))?, pos("scale", Some(s))?),
                    (Some(k), None, Some(m), None) => {
                        let k = pos("shape", Some(k))?;
                        (k, pos("mean", Some(m))? / gamma_fn(1.0 + 1.0 / k))
                    }
                    (None, None, Some(m), Some(cv)) => {
                        let cv = pos("cv", Some(cv))?;
                        if !(0.05..=20.0).contains(&cv) {
                            return Err(format!("weibull `cv` must be between 0.05 and 20, got {cv}"));
                        }
                        let k = weibull_shape_for_cv(cv);
                        (k, pos("mean", Some(m))? / gamma_fn(1.0 + 1.0 / k))
                    }
                    _ => {
                        return Err(
                            "the weibull distribution takes `shape` with `scale` or `mean`, or `mean` and `cv`".into()
                        );
                    }
                };
                Dist::Weibull { shape, scale }
            }
            "pareto" => {
                let shape = pos("shape", self.shape)?;
                let scale = match (q(self.scale), mean) {
                    (Some(s), None) => pos("scale", Some(s))?,
                    (None, Some(m)) => {
                        if shape <= 1.0 {
                            return Err("a pareto distribution with shape <= 1 has no mean: give `scale`".into());
                        }
                        pos("mean", Some(m))? * (shape - 1.0) / shape
                    }
                    _ => return Err("the pareto distribution takes `shape` and one of `scale` or `mean`".into()),
                };
                Dist::Pareto { shape, scale }
            }
            "geometric" => {
                let p = match (mean, &self.p) {
                    (Some(m), None) => {
                        if !(m.is_finite() && m >= 1.0) {
                            return Err(format!("geometric `mean` counts 1, 2, ... so must be at least 1, got {m}"));
                        }
                        1.0 / m
                    }
                    (None, Some(p)) if p.len() == 1 => {
                        let p = p[0];
                        if !(p > 0.0 && p <= 1.0) {
                            return Err(format!("geometric `p` must be in (0, 1], got {p}"));
                        }
                        p
                    }
                    _ => return Err("the geometric distribution takes `mean` (at least 1) or `p` = [prob]".into()),
                };
                Dist::Geometric { p, ln_q: (1.0 - p).ln() }
            }
            "hyperexponential" => match (&self.p, &self.means, mean, self.cv) {
                (Some(p), Some(means), None, None) => {
                    if p.len() != means.len() || p.is_empty() {
                        return Err("hyperexponential `p` and `means` must be lists of the same, non-zero length".into());
                    }
                    let total: f64 = p.iter().sum();
                    if p.iter().any(|x| !(0.0..=1.0).contains(x)) || (total - 1.0).abs() > 1e-9 {
                        return Err(format!(
                            "hyperexponential `p` must be probabilities between 0 and 1 summing to 1 (they sum to {total})"
                        ));
                    }
                    let means = means
                        .iter()
                        .map(|m| pos("means", Some(m.0)))
                        .collect::<Result<Vec<_>, _>>()?;
                    Dist::HyperExponential { p: p.clone(), means }
                }
                (None, None, Some(m), Some(cv)) => {
                    // Two balanced branches (p1 m1 = p2 m2) matching the mean and cv.
                    let m = pos("mean", Some(m))?;
                    if !(cv.is_finite() && cv >= 1.0) {
                        return Err(format!("a hyperexponential has cv of at least 1, got {cv}"));
                    }
                    let c2 = cv * cv;
                    let p1 = 0.5 * (1.0 + ((c2 - 1.0) / (c2 + 1.0)).sqrt());
                    let p2 = 1.0 - p1;
                    Dist::HyperExponential { p: vec![p1, p2], means: vec![m / (2.0 * p1), m / (2.0 * p2)] }
                }
                _ => return Err("the hyperexponential distribution takes `p` and `means` lists, or `mean` and `cv`".into()),
            },
            "empirical" => {
                let file = self.file.as_ref().ok_or("the empirical distribution needs `file` (a CSV of samples)")?;
                let samples = read_samples(&base_dir.join(file), self.column.as_deref())?;
                Dist::Empirical { samples }
            }
            _ => unreachable!("kind checked above"),
        })
    }
}

/// The most samples an empirical distribution holds (80 MB of memory), and the largest file read
/// for them (a sample's line is seldom over 25 bytes).
const MAX_SAMPLES: usize = 10_000_000;
const MAX_SAMPLES_FILE_BYTES: u64 = 256 << 20;

/// Read a CSV column of non-negative samples (the first column unless `column` names one).
fn read_samples(path: &Path, column: Option<&str>) -> Result<Vec<f64>, String> {
    let shown = path.display();
    super::trace::regular_file(path)
        .map_err(|e| format!("cannot read samples file {shown}: {e}"))?;
    // Samples are held in memory: a file past the cap (a log's leftovers, a hole of NULs) is
    // refused before it is read, and so are more samples than the cap.
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > MAX_SAMPLES_FILE_BYTES {
        return Err(format!(
            "samples file {shown} is {} bytes; a samples file is at most {} MiB ({} samples): \
             draw a random subset of it",
            size,
            MAX_SAMPLES_FILE_BYTES >> 20,
            MAX_SAMPLES
        ));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(column.is_some())
        .from_path(path)
        .map_err(|e| format!("cannot read samples file {shown}: {e}"))?;
    let idx = match column {
        Some(c) => rdr
            .headers()
            .map_err(|e| format!("cannot read the header of {shown}: {e}"))?
            .iter()
            .position(|h| h.trim() == c)
            .ok_or_else(|| format!("{shown} has no column `{c}`"))?,
        None => 0,
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{shown}: {e}"))?;
        let cell = rec.get(idx).unwrap_or("").trim();
        let line = i + 1 + usize::from(column.is_some());
        let v = super::units::parse_duration(cell)
            .map_err(|e| format!("{shown}:{line}: `{cell}` is not a sample ({e})"))?;
        out.push(v);
        if out.len() > MAX_SAMPLES {
            return Err(format!(
                "{shown}: more than {MAX_SAMPLES} samples; draw a random subset"
            ));
        }
    }
    if out.is_empty() {
        return Err(format!("{shown} holds no samples"));
    }
    Ok(out)
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

#[cfg(test)]
mod tests;
