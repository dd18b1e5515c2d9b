//! The crash point: the value of a monotone parameter (surge peak, instances, threads, memory)
//! at which the probability of an outage crosses 0.5. Bracket it, bisect with replications at
//! each value tried, then fit a logistic curve to every replication's outcome and add
//! replications near the crossing until its 95% interval is narrower than the tolerance.
//! Whether a larger value crashes (surge peak) or saves (instances) is found from the ends.

use anyhow::{Result, bail};
use serde::Serialize;

use super::run_once;
use super::sweep::{format_number, point_seed};
use crate::model::error::BadInput;
use crate::model::{self, Model};

/// Keys whose values are whole numbers: the search tries only those.
pub const COUNT_KEYS: &[&str] = &[
    "instances",
    "threads",
    "queue",
    "max_crashes",
    "max_attempts",
    "give_up_after",
    "unhealthy_after",
    "healthy_after",
    "max_instances",
    "k",
];

/// One value tried.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Try {
    pub value: f64,
    pub reps: u32,
    pub outages: u32,
    pub probability: f64,
}

/// What `crashpoint.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct CrashPoint {
    pub parameter: String,
    /// "larger crashes" or "larger saves".
    pub direction: String,
    pub crash_point: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub p10: Option<f64>,
    pub p90: Option<f64>,
    /// How the interval was obtained: "logistic fit" or "bracket" (no mixed outcomes to fit).
    pub method: String,
    pub runs: u32,
    pub points: Vec<Try>,
}

/// Search settings.
pub struct Search<'a> {
    pub path: &'a std::path::Path,
    pub sets: &'a [String],
    pub key: &'a str,
    pub lo: f64,
    pub hi: f64,
    pub integer: bool,
    pub reps: u32,
    pub seed: Option<u64>,
    /// Stop once the 95% interval is narrower than this share of the crash point.
    pub tolerance: f64,
    pub max_runs: u32,
    pub jobs: usize,
    /// Two-sided confidence of the interval (0.95).
    pub confidence: f64,
    /// When a run counts as failed (an outage, or any break of the SLO).
    pub criterion: crate::metrics::slo::Criterion,
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

struct State<'a> {
    s: &'a Search<'a>,
    seed: u64,
    /// Every replication's (value, outage) so far, per value tried.
    tries: Vec<(f64, Vec<bool>)>,
    runs: u32,
    pool: rayon::ThreadPool,
}

impl State<'_> {
    fn model_at(&self, v: f64) -> Result<Model> {
        let mut sets = self.s.sets.to_vec();
        sets.push(format!("{}={}", self.s.key, format_number(v)));
        Ok(model::load(Some(self.s.path), &sets)?)
    }

    /// Run `n` more replications at `v`. Replication r of a value uses the seed derived from
    /// (seed, the value's bits, r): the same however the search got there.
    fn run(&mut self, v: f64, n: u32) -> Result<()> {
        use rayon::prelude::*;
        let model = self.model_at(v)?;
        let idx = match self.tries.iter().position(|t| t.0 == v) {
            Some(i) => i,
            None => {
                self.tries.push((v, Vec::new()));
                self.tries.len() - 1
            }
        };
        let start = self.tries[idx].1.len() as u64;
        let seed = self.seed;
        let criterion = self.s.criterion;
        let outs: Vec<bool> = self.pool.install(|| {
            (start..start + u64::from(n))
                .into_par_iter()
                .map(|r| {
                    criterion.failed(&run_once(&model, point_seed(seed, v.to_bits(), r)).summary)
                })
                .collect()
        });
        self.tries[idx].1.extend(outs);
        self.runs += n;
        Ok(())
    }

    fn prob(&self, v: f64) -> f64 {
        let t = self.tries.iter().find(|t| t.0 == v).expect("value was run");
        t.1.iter().filter(|x| **x).count() as f64 / t.1.len() as f64
    }
}

/// Logistic regression of outage (0/1) on the value by Newton's method: (b0, b1, covariance).
fn logistic(data: &[(f64, bool)], centre: f64, scale: f64) -> Option<(f64, f64, [[f64; 2]; 2])> {
    let (mut b0, mut b1) = (0.0_f64, 0.0_f64);
    for _ in 0..100 {
        let (mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(x, y) in data {
            let z = (x - centre) / scale;
            let p = 1.0 / (1.0 + (-(b0 + b1 * z)).exp());
            let r = f64::from(u8::from(y)) - p;
            g0 += r;
            g1 += r * z;
            let w = (p * (1.0 - p)).max(1e-12);
            h00 += w;
            h01 += w * z;
            h11 += w * z * z;
        }
        let det = h00 * h11 - h01 * h01;
        if det.abs() < 1e-12 {
            return None;
        }
        let d0 = (h11 * g0 - h01 * g1) / det;
        let d1 = (h00 * g1 - h01 * g0) / det;
        b0 += d0;
        b1 += d1;
        if !(b0.is_finite() && b1.is_finite()) || b1.abs() > 1e3 {
            return None;
        }
        if d0.abs() + d1.abs() < 1e-10 {
            let cov = [[h11 / det, -h01 / det], [-h01 / det, h00 / det]];
            return Some((b0, b1, cov));
        }
    }
    None
}

/// Find the crash point.
pub fn search(s: &Search) -> Result<CrashPoint> {
    if s.hi <= s.lo || s.hi.is_nan() || s.lo.is_nan() {
        bail!(BadInput(format!(
            "--vary {}: the range must go up (got {}..{})",
            s.key, s.lo, s.hi
        )));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.jobs.max(1))
        .build()?;
    let base = model::load(Some(s.path), s.sets)?;
    let mut st = State {
        s,
        seed: s.seed.unwrap_or(base.scenario.seed),
        tries: Vec::new(),
        runs: 0,
        pool,
    };
    st.run(s.lo, s.reps)?;
    st.run(s.hi, s.reps)?;
    let (plo, phi) = (st.prob(s.lo), st.prob(s.hi));
    if plo == phi || (plo < 0.5) == (phi < 0.5) {
        bail!(BadInput(format!(
            "the outage probability does not cross 0.5 between {} = {} ({plo:.2}) and {} ({phi:.2}): widen the range",
            s.key, s.lo, s.hi
        )));
    }
    let larger_crashes = phi > plo;
    // Bisection: keep `safe` (below 0.5) and `down` (at or above) on either side.
    let (mut safe, mut down) = if larger_crashes {
        (s.lo, s.hi)
    } else {
        (s.hi, s.lo)
    };
    let close_enough = |a: f64, b: f64| {
        let width = (a - b).abs();
        if s.integer {
            width <= 1.0
        } else {
            width <= s.tolerance * 0.5 * (a.abs() + b.abs()) / 2.0
        }
    };
    while !close_enough(safe, down) && st.runs < s.max_runs {
        let mut m = 0.5 * (safe + down);
        if s.integer {
            m = m.round();
            if m == safe || m == down {
                break;
            }
        }
        st.run(m, s.reps)?;
        if st.prob(m) >= 0.5 {
            down = m;
        } else {
            safe = m;
        }
    }
    // Fit a logistic curve to every replication; add replications near the crossing until the
    // interval is tight.
    let data = |st: &State| -> Vec<(f64, bool)> {
        st.tries
            .iter()
            .flat_map(|(v, outs)| outs.iter().map(move |o| (*v, *o)))
            .collect()
    };
    let centre = 0.5 * (safe + down);
    let scale = ((s.hi - s.lo) / 10.0).max(1e-9);
    let estimate = |st: &State| -> Option<(f64, [f64; 2], f64, f64)> {
        let (b0, b1, cov) = logistic(&data(st), centre, scale)?;
        if b1 == 0.0 {
            return None;
        }
        let at = |p: f64| centre + scale * (((p / (1.0 - p)).ln() - b0) / b1);
        let z50 = -b0 / b1;
        // Delta method for z50 = -b0 / b1.
        let (d0, d1) = (-1.0 / b1, b0 / (b1 * b1));
        let var = d0 * d0 * cov[0][0] + 2.0 * d0 * d1 * cov[0][1] + d1 * d1 * cov[1][1];
        let half = normal_quantile(0.5 + s.confidence / 2.0) * var.max(0.0).sqrt() * scale;
        let x50 = centre + scale * z50;
        Some((x50, [x50 - half, x50 + half], at(0.1), at(0.9)))
    };
    let mut fit = estimate(&st);
    while let Some((x50, ci, _, _)) = fit {
        let tight = ci[1] - ci[0] <= s.tolerance * x50.abs().max(1e-9);
        if tight || st.runs >= s.max_runs {
            break;
        }
        let around = [x50, ci[0], ci[1]];
        for v in around {
            let v = if s.integer { v.round() } else { v };
            let v = v.clamp(s.lo, s.hi);
            st.run(v, s.reps)?;
        }
        fit = estimate(&st);
    }
    let mut points: Vec<Try> = st
        .tries
        .iter()
        .map(|(v, outs)| {
            let outages = outs.iter().filter(|x| **x).count() as u32;
            Try {
                value: *v,
                reps: outs.len() as u32,
                outages,
                probability: f64::from(outages) / outs.len() as f64,
            }
        })
        .collect();
    points.sort_by(|a, b| a.value.total_cmp(&b.value));
    let direction = if larger_crashes {
        "larger crashes"
    } else {
        "larger saves"
    }
    .to_string();
    let inside = |x: f64| x >= s.lo && x <= s.hi;
    Ok(match fit.filter(|f| inside(f.0)) {
        Some((x50, ci, p10, p90)) => CrashPoint {
            parameter: s.key.to_string(),
            direction,
            crash_point: Some(x50),
            ci95: Some(ci),
            p10: Some(p10),
            p90: Some(p90),
            method: "logistic fit".into(),
            runs: st.runs,
            points,
        },
        None => {
            // Every value tried was all-or-nothing: the crossing lies between the nearest two.
            let (a, b) = (safe.min(down), safe.max(down));
            CrashPoint {
                parameter: s.key.to_string(),
                direction,
                crash_point: Some(0.5 * (a + b)),
                ci95: Some([a, b]),
                p10: None,
                p90: None,
                method: "bracket".into(),
                runs: st.runs,
                points,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.005) + 2.575829).abs() < 1e-5);
    }

    #[test]
    fn logistic_fit_finds_a_known_crossing() {
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
        let (b0, b1, _) = logistic(&data, 3.0, 1.0).unwrap();
        assert!((-b0 / b1).abs() < 0.1, "crossing at {}", 3.0 - b0 / b1);
        assert!((b1 - 2.0).abs() < 0.3, "slope {b1}");
    }
}
