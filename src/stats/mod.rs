//! Statistics of simulated results: the t and normal quantiles, the mean of replications with
//! its 95% confidence interval, the Wilson interval of a share, and the logistic fit of an
//! outcome (outage or not) against a parameter (`crossing`). Pure functions on numbers; nothing
//! here knows what a run or a model is. The normal distribution comes from `statrs`; the t
//! quantile keeps its exact table (and so the bytes of every interval written so far).

use statrs::distribution::{ContinuousCDF, Normal};

mod crossing;
pub(crate) mod histogram;

pub(crate) use crossing::fit_crossing;

/// Two-sided 95% Student t quantiles `t_{0.975, df}` for `df = 1..=30`.
const T975: [f64; 30] = [
    12.706_204_74,
    4.302_652_73,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// The 0.975 quantile of Student's t distribution with `df` degrees of
/// freedom (the multiplier of a two-sided 95% confidence interval).
///
/// Exact table values for `df = 1..=30` (e.g. `df = 1` gives 12.706,
/// `df = 9` gives 2.262); above that the Cornish-Fisher expansion in `1/df`
/// about the normal quantile 1.959964, accurate to better than `1e-6`, which
/// tends to 1.960 as `df` grows. `df = 0` is undefined and gives NaN.
pub fn t_quantile_975(df: u32) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if let Some(&t) = T975.get(df as usize - 1) {
        return t;
    }
    let z = 1.959_963_984_540_054_f64;
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92_160.0;
    let v = 1.0 / f64::from(df);
    z + v * (g1 + v * (g2 + v * (g3 + v * g4)))
}

/// Sample mean and half-width of its 95% confidence interval,
/// `t_{0.975, n-1} s / sqrt(n)` with `s` the sample standard deviation.
///
/// With fewer than two values the half-width is undefined and returned as
/// `f64::NAN` (the mean of an empty slice is NaN as well).
pub fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let nf = n as f64;
    let mean = xs.iter().sum::<f64>() / nf;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (nf - 1.0);
    let df = u32::try_from(n - 1).unwrap_or(u32::MAX);
    (mean, t_quantile_975(df) * (var / nf).sqrt())
}

/// An `f64` field as a result file holds it: a number, or `null` for one that was not finite
/// (JSON has no NaN: serde_json writes NaN and the infinities as `null`), read back as NaN.
pub(crate) fn number_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A mean over replications and the half-width of its 95% confidence interval (Student t);
/// `ci95` is `None` with fewer than two values.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Estimate {
    pub mean: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci95: Option<f64>,
}

impl Estimate {
    /// The estimate from `xs` ([`mean_ci95`]); `None` without any value.
    pub(crate) fn of(xs: &[f64]) -> Option<Estimate> {
        let (mean, half) = mean_ci95(xs);
        mean.is_finite().then(|| Estimate {
            mean,
            ci95: half.is_finite().then_some(half),
        })
    }

    /// The paired difference `b - a` over the pairs where both have a value: its mean and
    /// interval (a paired t interval), and the number of pairs used.
    pub(crate) fn paired(a: &[Option<f64>], b: &[Option<f64>]) -> (Option<Estimate>, usize) {
        let d: Vec<f64> = a
            .iter()
            .zip(b)
            .filter_map(|(x, y)| Some((*y)? - (*x)?))
            .collect();
        (Estimate::of(&d), d.len())
    }

    /// The interval's ends, `None` without an interval.
    pub(crate) fn interval(&self) -> Option<(f64, f64)> {
        self.ci95.map(|h| (self.mean - h, self.mean + h))
    }
}

/// The quantile of the standard normal distribution at `p` (0 < p < 1).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The observed share `k / n` and its 95% Wilson score interval; `None` without any trial.
/// `k` above `n` counts as `n`.
pub(crate) fn wilson(k: u32, n: u32) -> Option<(f64, f64, f64)> {
    if n == 0 {
        return None;
    }
    let nf = f64::from(n);
    let kf = f64::from(k.min(n));
    let p = kf / nf;
    let z = normal_quantile(0.975);
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    let lo = if kf == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if kf == nf {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((p, lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles() {
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-6);
        assert!(normal_quantile(0.5).abs() < 1e-12);
        assert!((normal_quantile(0.005) + 2.575_829).abs() < 1e-6);
    }

    #[test]
    fn means_and_intervals() {
        let (mean, half) = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!(mean, 2.0);
        assert!((half - 4.302_652_73 / 3f64.sqrt()).abs() < 1e-9);
        let (_, half) = mean_ci95(&[5.0]);
        assert!(half.is_nan());
        assert!(mean_ci95(&[]).0.is_nan());
        let e = Estimate::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((e.mean, e.ci95.unwrap()), (2.0, half_of_three()));
        assert_eq!(Estimate::of(&[5.0]).unwrap().ci95, None);
        assert!(Estimate::of(&[]).is_none());
    }

    fn half_of_three() -> f64 {
        mean_ci95(&[1.0, 2.0, 3.0]).1
    }

    #[test]
    fn paired_differences_use_complete_pairs_only() {
        let a = [Some(1.0), Some(2.0), None, Some(4.0)];
        let b = [Some(2.0), Some(4.0), Some(9.0), None];
        let (d, n) = Estimate::paired(&a, &b);
        assert_eq!(n, 2);
        assert_eq!(d.unwrap().mean, 1.5);
        let (same, n) = Estimate::paired(&a, &a);
        assert_eq!(
            (same.unwrap().mean, same.unwrap().ci95, n),
            (0.0, Some(0.0), 3)
        );
    }

    #[test]
    fn wilson_intervals() {
        let (p, lo, hi) = wilson(0, 10).unwrap();
        assert_eq!((p, lo), (0.0, 0.0));
        assert!((hi - 0.2775).abs() < 1e-3, "{hi}");
        let (p, lo, hi) = wilson(10, 10).unwrap();
        assert_eq!((p, hi), (1.0, 1.0));
        assert!((lo - 0.7225).abs() < 1e-3, "{lo}");
        let (_, lo, hi) = wilson(21, 40).unwrap();
        assert!(lo < 0.525 && hi > 0.525);
        assert!(wilson(3, 0).is_none());
        assert_eq!(wilson(9, 5).unwrap().0, 1.0);
    }
}
