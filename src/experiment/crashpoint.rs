//! The crash point: the value of a monotone parameter (surge peak, instances, threads, memory)
//! at which the probability of an outage crosses 0.5. The search itself (bracket with one
//! replication per value, then replications only around the crossing, a logistic fit where a
//! value is too near 0.5 to tell) is in `super::search`; here are its settings, its result and
//! the statistics it uses. Whether a larger value crashes (surge peak) or saves (instances) is
//! found from the ends.

use anyhow::Result;
use serde::Serialize;

use super::sweep::Seeds;

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
    /// Runs the answer rests on (the replications in `points`).
    pub runs: u32,
    pub points: Vec<Try>,
    /// The base seed, and whether replication r used the same seed at every value ("common")
    /// or one of its own per value ("independent").
    pub seed: u64,
    pub seeds: String,
    /// `--max-runs` was reached before the interval was as tight as asked.
    pub max_runs_reached: bool,
    /// Runs simulated by this command, speculative ones included.
    pub runs_simulated: u32,
    /// Runs read back from the journal of an interrupted try (`--resume`).
    pub runs_from_journal: u32,
    /// Runs done that the answer does not rest on: speculation (a run started on a spare core
    /// for a step that the outcomes did not take).
    pub runs_unused: u32,
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
    /// Replication r's seed at each value.
    pub seeds: Seeds,
    /// Where every finished run is appended as it ends (removed once the answer is found).
    pub journal: Option<&'a std::path::Path>,
    /// Keep the runs of the journal of an earlier, interrupted try.
    pub resume: bool,
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

/// Logistic regression of outage (0/1) on the value by Newton's method: (b0, b1, covariance).
pub(super) fn logistic(
    data: &[(f64, bool)],
    centre: f64,
    scale: f64,
) -> Option<(f64, f64, [[f64; 2]; 2])> {
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
    super::search::crash_point(s)
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
