//! The crash point: the value of a monotone parameter (surge peak, instances, threads, memory)
//! at which the probability of an outage crosses 0.5. Bracket it, bisect with replications at
//! each value tried, then fit a logistic curve to every replication's outcome and add
//! replications near the crossing until its 95% interval is narrower than the tolerance.
//! Whether a larger value crashes (surge peak) or saves (instances) is found from the ends.
//! When every value tried was all-or-nothing there is nothing to fit: the answer is then the
//! bracket between the nearest safe and down values, and says so.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::guard::{Limits, Until};
use super::run_bounded;
use super::sweep::{format_number, point_seed};
use crate::metrics::slo::Criterion;
use crate::model::error::BadInput;
use crate::model::{self, Model};
use crate::stats::Logistic;

pub use crate::model::COUNT_KEYS;

/// One value tried: in `points`, every replication run there; in `tries`, one batch of
/// replications, in the order the search ran them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Try {
    pub value: f64,
    pub reps: u32,
    pub outages: u32,
    pub probability: f64,
}

/// How the crash point and its interval were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// A logistic curve fitted to every replication: `ci95` is its confidence interval.
    #[serde(rename = "logistic fit")]
    LogisticFit,
    /// Every value tried was all-or-nothing: `ci95` is the bracket between the nearest value
    /// where no replication crashed and the nearest where all did, and the crash point its
    /// midpoint. Not a confidence interval.
    #[serde(rename = "bracket")]
    Bracket,
}

impl Method {
    /// How the interval is named in print and on the chart.
    pub fn interval_name(self, confidence: f64) -> String {
        match self {
            Method::LogisticFit => format!("{}% interval", (confidence * 100.0).round()),
            Method::Bracket => "bracket".to_string(),
        }
    }
}

/// The fitted curve, in the parameter's units: P(outage at x) = 1 / (1 + exp(-(intercept +
/// slope x))).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub intercept: f64,
    pub slope: f64,
}

impl Curve {
    pub fn probability(&self, x: f64) -> f64 {
        1.0 / (1.0 + (-(self.intercept + self.slope * x)).exp())
    }
}

/// What `crashpoint.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrashPoint {
    pub parameter: String,
    /// "larger crashes" or "larger saves".
    pub direction: String,
    pub crash_point: Option<f64>,
    /// The interval of the crash point: a confidence interval of `confidence` for a logistic
    /// fit, the bracket otherwise (see `method`). The name is kept for existing readers.
    pub ci95: Option<[f64; 2]>,
    pub p10: Option<f64>,
    pub p90: Option<f64>,
    pub method: Method,
    /// Two-sided confidence of the interval of a logistic fit (0.95).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// The fitted curve (absent for a bracket).
    #[serde(default)]
    pub logistic: Option<Curve>,
    pub runs: u32,
    /// Every value tried, with all its replications, by value.
    pub points: Vec<Try>,
    /// Each batch of replications, in the order the search ran them.
    #[serde(default)]
    pub tries: Vec<Try>,
}

fn default_confidence() -> f64 {
    0.95
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
    /// Called as each batch of replications ends (to show progress).
    pub on_try: Option<&'a (dyn Fn(&Try) + Sync)>,
    /// When a run counts as failed (an outage, or any break of the SLO).
    pub criterion: crate::metrics::slo::Criterion,
}

struct State<'a> {
    s: &'a Search<'a>,
    seed: u64,
    /// Every replication's (value, outage) so far, per value tried.
    tries: Vec<(f64, Vec<bool>)>,
    /// Each batch, in order.
    order: Vec<Try>,
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
                    // Whether it fails is all a try needs: with the outage criterion, stop at
                    // the first outage (the answer cannot change after it).
                    let stop = match criterion {
                        Criterion::Outage => Limits::until(Until::FirstOutage),
                        Criterion::Slo => Limits::default(),
                    };
                    criterion.failed(
                        &run_bounded(&model, point_seed(seed, v.to_bits(), r), &stop).summary,
                    )
                })
                .collect()
        });
        let outages = outs.iter().filter(|x| **x).count() as u32;
        self.tries[idx].1.extend(outs);
        self.runs += n;
        let batch = Try {
            value: v,
            reps: n,
            outages,
            probability: f64::from(outages) / f64::from(n.max(1)),
        };
        if let Some(f) = self.s.on_try {
            f(&batch);
        }
        self.order.push(batch);
        Ok(())
    }

    fn prob(&self, v: f64) -> f64 {
        let t = self.tries.iter().find(|t| t.0 == v).expect("value was run");
        t.1.iter().filter(|x| **x).count() as f64 / t.1.len() as f64
    }
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
        order: Vec::new(),
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
    let estimate = |st: &State| -> Option<(f64, [f64; 2], f64, f64, Curve)> {
        let fit = Logistic::fit(&data(st), centre, scale)?;
        let (x50, ci) = fit.crossing(s.confidence)?;
        let (intercept, slope) = fit.natural();
        let curve = Curve { intercept, slope };
        Some((x50, ci, fit.at(0.1)?, fit.at(0.9)?, curve))
    };
    let mut fit = estimate(&st);
    while let Some((x50, ci, _, _, _)) = fit {
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
        Some((x50, ci, p10, p90, curve)) => CrashPoint {
            parameter: s.key.to_string(),
            direction,
            crash_point: Some(x50),
            ci95: Some(ci),
            p10: Some(p10),
            p90: Some(p90),
            method: Method::LogisticFit,
            confidence: s.confidence,
            logistic: Some(curve),
            runs: st.runs,
            points,
            tries: st.order,
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
                method: Method::Bracket,
                confidence: s.confidence,
                logistic: None,
                runs: st.runs,
                points,
                tries: st.order,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_method_names_its_interval() {
        assert_eq!(Method::LogisticFit.interval_name(0.95), "95% interval");
        assert_eq!(Method::Bracket.interval_name(0.95), "bracket");
        assert_eq!(
            serde_json::to_value(Method::Bracket).unwrap(),
            serde_json::json!("bracket")
        );
        let c = Curve {
            intercept: -4.0,
            slope: 2.0,
        };
        assert!((c.probability(2.0) - 0.5).abs() < 1e-12);
    }
}
