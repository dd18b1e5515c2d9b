//! Checking a distribution as written in TOML (`RawDist`) and building its sampler (`Dist`):
//! which parameters each kind takes, the conversions between parameterisations (mean and cv to
//! shape and scale), and reading an empirical distribution's samples file. Sampling and moments
//! are not here (`model::dist`).

use std::path::Path;

use rand_distr::Gamma;

use super::super::units::Quantity;
use super::{Dist, KINDS, RawDist, gamma_fn};

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

/// The checks of one distribution's parameters, with its kind for the messages.
struct Check<'a> {
    kind: &'a str,
}

impl Check<'_> {
    /// A parameter that must be given and greater than 0.
    fn pos(&self, name: &str, v: Option<f64>) -> Result<f64, String> {
        let kind = self.kind;
        match v {
            None => Err(format!("the {kind} distribution needs `{name}`")),
            Some(x) if x.is_finite() && x > 0.0 => Ok(x),
            Some(x) => Err(format!(
                "`{name}` of the {kind} distribution must be greater than 0, got {x}"
            )),
        }
    }

    /// A parameter that must be at least 0.
    fn nonneg(&self, name: &str, v: f64) -> Result<f64, String> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(format!(
                "`{name}` of the {} distribution must be at least 0, got {v}",
                self.kind
            ))
        }
    }
}

/// A quantity's value in base units.
fn q(x: Option<Quantity>) -> Option<f64> {
    x.map(|q| q.0)
}

impl RawDist {
    /// Check the parameters and build the sampler. `base_dir` resolves `file` for `empirical`.
    pub(crate) fn build(&self, base_dir: &Path) -> Result<Dist, String> {
        let kind = self.dist.as_str();
        self.check_names(kind)?;
        let c = Check { kind };
        let mean = q(self.mean);
        Ok(match kind {
            "exponential" => Dist::Exponential {
                mean: c.pos("mean", mean)?,
            },
            "deterministic" => {
                let v = q(self.value)
                    .or(mean)
                    .ok_or("the deterministic distribution needs `value`")?;
                Dist::Deterministic {
                    value: c.nonneg("value", v)?,
                }
            }
            "uniform" => {
                let min = c.nonneg(
                    "min",
                    q(self.min).ok_or("the uniform distribution needs `min`")?,
                )?;
                let max = c.nonneg(
                    "max",
                    q(self.max).ok_or("the uniform distribution needs `max`")?,
                )?;
                if max < min {
                    return Err(format!("uniform `max` ({max}) is below `min` ({min})"));
                }
                Dist::Uniform { min, max }
            }
            "normal" => {
                let m = c.pos("mean", mean)?;
                let sd = match (q(self.sd), self.cv) {
                    (Some(sd), None) => c.nonneg("sd", sd)?,
                    (None, Some(cv)) => m * c.nonneg("cv", cv)?,
                    _ => {
                        return Err(
                            "the normal distribution needs `mean` and one of `sd` or `cv`".into(),
                        );
                    }
                };
                Dist::Normal { mean: m, sd }
            }
            "lognormal" => self.lognormal(&c)?,
            "gamma" | "erlang" => self.gamma(&c)?,
            "weibull" => self.weibull(&c)?,
            "pareto" => self.pareto(&c)?,
            "geometric" => self.geometric()?,
            "hyperexponential" => self.hyperexponential(&c)?,
            "empirical" => {
                let file = self
                    .file
                    .as_ref()
                    .ok_or("the empirical distribution needs `file` (a CSV of samples)")?;
                let samples = read_samples(&base_dir.join(file), self.column.as_deref())?;
                Dist::Empirical { samples }
            }
            _ => unreachable!("kind checked by check_names"),
        })
    }

    /// An unknown kind, or a parameter the kind does not take, is an error.
    fn check_names(&self, kind: &str) -> Result<(), String> {
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
                let hint = super::super::hint::did_you_mean(other, KINDS)
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
        Ok(())
    }

    fn lognormal(&self, c: &Check) -> Result<Dist, String> {
        let mean = q(self.mean);
        Ok(match (mean, self.cv, self.mu, self.sigma) {
            (Some(_), Some(cv), None, None) => {
                let m = c.pos("mean", mean)?;
                let cv = c.pos("cv", Some(cv))?;
                let s2 = (1.0 + cv * cv).ln();
                Dist::LogNormal {
                    mu: m.ln() - 0.5 * s2,
                    sigma: s2.sqrt(),
                }
            }
            (None, None, Some(mu), Some(sigma)) if mu.is_finite() => Dist::LogNormal {
                mu,
                sigma: c.pos("sigma", Some(sigma))?,
            },
            _ => {
                return Err(
                    "the lognormal distribution takes either `mean` and `cv`, or `mu` and `sigma`"
                        .into(),
                );
            }
        })
    }

    /// Gamma from `mean` and `cv` or `shape` and `scale`; erlang from `k` and `mean`.
    fn gamma(&self, c: &Check) -> Result<Dist, String> {
        let (kind, mean) = (c.kind, q(self.mean));
        let (shape, scale) = if kind == "erlang" {
            let k = self
                .k
                .ok_or("the erlang distribution needs `k` (phases) and `mean`")?;
            if k == 0 {
                return Err("`k` of the erlang distribution must be at least 1".into());
            }
            let m = c.pos("mean", mean)?;
            (f64::from(k), m / f64::from(k))
        } else {
            match (mean, self.cv, self.shape, q(self.scale)) {
                (Some(_), Some(cv), None, None) => {
                    let m = c.pos("mean", mean)?;
                    let cv = c.pos("cv", Some(cv))?;
                    let shape = 1.0 / (cv * cv);
                    (shape, m / shape)
                }
                (None, None, Some(k), Some(s)) => {
                    (c.pos("shape", Some(k))?, c.pos("scale", Some(s))?)
                }
                _ => {
                    return Err(
                        "the gamma distribution takes `mean` and `cv`, or `shape` and `scale`"
                            .into(),
                    );
                }
            }
        };
        let gamma = Gamma::new(shape, scale).map_err(|e| format!("bad gamma parameters: {e}"))?;
        Ok(Dist::Gamma {
            gamma,
            shape,
            scale,
        })
    }

    fn weibull(&self, c: &Check) -> Result<Dist, String> {
        let mean = q(self.mean);
        let (shape, scale) = match (self.shape, q(self.scale), mean, self.cv) {
            (Some(k), Some(s), None, None) => (c.pos("shape", Some(k))?, c.pos("scale", Some(s))?),
            (Some(k), None, Some(m), None) => {
                let k = c.pos("shape", Some(k))?;
                (k, c.pos("mean", Some(m))? / gamma_fn(1.0 + 1.0 / k))
            }
            (None, None, Some(m), Some(cv)) => {
                let cv = c.pos("cv", Some(cv))?;
                if !(0.05..=20.0).contains(&cv) {
                    return Err(format!(
                        "weibull `cv` must be between 0.05 and 20, got {cv}"
                    ));
                }
                let k = weibull_shape_for_cv(cv);
                (k, c.pos("mean", Some(m))? / gamma_fn(1.0 + 1.0 / k))
            }
            _ => {
                return Err(
                            "the weibull distribution takes `shape` with `scale` or `mean`, or `mean` and `cv`".into()
                        );
            }
        };
        Ok(Dist::Weibull { shape, scale })
    }

    fn pareto(&self, c: &Check) -> Result<Dist, String> {
        let mean = q(self.mean);
        let shape = c.pos("shape", self.shape)?;
        let scale = match (q(self.scale), mean) {
            (Some(s), None) => c.pos("scale", Some(s))?,
            (None, Some(m)) => {
                if shape <= 1.0 {
                    return Err(
                        "a pareto distribution with shape <= 1 has no mean: give `scale`".into(),
                    );
                }
                c.pos("mean", Some(m))? * (shape - 1.0) / shape
            }
            _ => {
                return Err(
                    "the pareto distribution takes `shape` and one of `scale` or `mean`".into(),
                );
            }
        };
        Ok(Dist::Pareto { shape, scale })
    }

    fn geometric(&self) -> Result<Dist, String> {
        let mean = q(self.mean);
        let p = match (mean, &self.p) {
            (Some(m), None) => {
                if !(m.is_finite() && m >= 1.0) {
                    return Err(format!(
                        "geometric `mean` counts 1, 2, ... so must be at least 1, got {m}"
                    ));
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
            _ => {
                return Err(
                    "the geometric distribution takes `mean` (at least 1) or `p` = [prob]".into(),
                );
            }
        };
        Ok(Dist::Geometric {
            p,
            ln_q: (1.0 - p).ln(),
        })
    }

    fn hyperexponential(&self, c: &Check) -> Result<Dist, String> {
        let mean = q(self.mean);
        Ok(match (&self.p, &self.means, mean, self.cv) {
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
                    .map(|m| c.pos("means", Some(m.0)))
                    .collect::<Result<Vec<_>, _>>()?;
                Dist::HyperExponential {
                    p: p.clone(),
                    means,
                }
            }
            (None, None, Some(m), Some(cv)) => {
                // Two balanced branches (p1 m1 = p2 m2) matching the mean and cv.
                let m = c.pos("mean", Some(m))?;
                if !(cv.is_finite() && cv >= 1.0) {
                    return Err(format!("a hyperexponential has cv of at least 1, got {cv}"));
                }
                let c2 = cv * cv;
                let p1 = 0.5 * (1.0 + ((c2 - 1.0) / (c2 + 1.0)).sqrt());
                let p2 = 1.0 - p1;
                Dist::HyperExponential {
                    p: vec![p1, p2],
                    means: vec![m / (2.0 * p1), m / (2.0 * p2)],
                }
            }
            _ => return Err(
                "the hyperexponential distribution takes `p` and `means` lists, or `mean` and `cv`"
                    .into(),
            ),
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
    super::super::trace::regular_file(path)
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
        let v = super::super::units::parse_duration(cell)
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
