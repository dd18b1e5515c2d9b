//! The design of a Morris screening (Morris 1991, "Factorial sampling plans for preliminary
//! computational experiments", Technometrics 33(2)): `r` trajectories on a grid of `p` levels
//! per key, each trajectory a random start and one step of `delta = p / (2 (p - 1))` of the
//! key's range in each key in turn, in a random order and a random direction. Two successive
//! points of a trajectory differ in one key only: their difference is one elementary effect of
//! that key. Points repeated across trajectories are run once.
//!
//! Not here: running the points, nor the effects computed from their results (`super`).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::engine::derive_seed;
use crate::error::BadInput;
use crate::fmt::format_number;

/// One key screened, over its range `lo..hi` (in the model's units: seconds for durations,
/// bytes for sizes); a count key takes whole values, each level rounded to the nearest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Factor {
    pub(crate) key: String,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) whole: bool,
    /// The range as the user wrote it (`5s..30s`).
    pub(crate) range: String,
    /// The key's unit (`model::key_units`): `s`, `share`, `bytes`, `×`, what a count counts
    /// (`threads`), `requests/s`...; empty for a plain number.
    #[serde(default)]
    pub(crate) unit: String,
}

impl Factor {
    /// The value at level `j` of `levels` (0 is `lo`, `levels - 1` is `hi`).
    pub(crate) fn at(&self, j: u32, levels: u32) -> f64 {
        let x = self.lo + (self.hi - self.lo) * f64::from(j) / f64::from(levels - 1);
        if self.whole { x.round() } else { x }
    }

    /// `value` as a share of the range: 0 at `lo`, 1 at `hi`.
    pub(crate) fn share(&self, value: f64) -> f64 {
        (value - self.lo) / (self.hi - self.lo)
    }

    /// The range for people, each end in the key's unit: `5 to 8 threads`, `1 min 40 s to
    /// 3 min 20 s`, `30 to 39 requests/s`, `50% to 90%`; plainly (`0.5 to 2`) without a unit.
    pub(crate) fn range_words(&self) -> String {
        let end = |x: f64| match self.unit.as_str() {
            "s" => crate::fmt::exact_duration(x),
            "share" => format!("{}%", format_number(100.0 * x)),
            "bytes" => crate::fmt::human_bytes(x),
            "×" => format!("{}×", format_number(x)),
            _ => format_number(x),
        };
        let (lo, hi) = (end(self.lo), end(self.hi));
        match self.unit.as_str() {
            "" | "s" | "share" | "bytes" | "×" => format!("{lo} to {hi}"),
            u => format!("{lo} to {hi} {u}"),
        }
    }

    /// `value`, a level of the grid, for people: as `text` where that is short ("4", "0.25"),
    /// else rounded to three significant digits and said so, with its level and the range the
    /// levels divide (`5.33 (rounded: level 2 of 4 on 2..10)`): not "5.333333333".
    pub(crate) fn value_words(&self, value: f64, levels: u32) -> String {
        let exact = self.text(value);
        let short = crate::fmt::significant(value, 3);
        if exact.len() <= short.len() + 1 || self.whole {
            return exact;
        }
        let j = (self.share(value) * f64::from(levels - 1)).round() as u32;
        format!(
            "{short} (rounded: level {} of {levels} on {})",
            j + 1,
            self.range
        )
    }

    /// `value` as `--set` takes it.
    pub(crate) fn text(&self, value: f64) -> String {
        if self.whole {
            format!("{}", value.round() as i64)
        } else {
            format_number(value)
        }
    }
}

/// One elementary effect to compute: trajectory `trajectory` moves key `factor` from point
/// `from` to point `to` (indices into `Design::points`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Step {
    pub(crate) trajectory: u32,
    pub(crate) factor: usize,
    pub(crate) from: usize,
    pub(crate) to: usize,
}

/// The distinct points to run (each a value per key, in the keys' order) and the steps between
/// them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Design {
    pub(crate) points: Vec<Vec<f64>>,
    pub(crate) steps: Vec<Step>,
}

/// Levels of the grid (`--levels`): 4, Morris's and Campolongo's usual choice.
pub(crate) const LEVELS: u32 = 4;
/// Trajectories (`--trajectories`): 10 is the usual lower end (Campolongo et al. 2007 use 10 to
/// 20); a first screening on a slow model may take fewer.
pub(crate) const TRAJECTORIES: u32 = 10;

/// A stream of the design's random draws: the design depends on the seed only.
const SALT: u64 = 0x5E45_1717_u64;

/// The Morris design of `r` trajectories on `levels` levels (even, 2 or more) over `factors`,
/// drawn from `seed`. Refused when a count key's range is too narrow for the levels (two
/// levels a step apart would round to one value, an effect of nothing).
pub(crate) fn morris(
    factors: &[Factor],
    r: u32,
    levels: u32,
    seed: u64,
) -> Result<Design, BadInput> {
    if levels < 2 || !levels.is_multiple_of(2) {
        return Err(BadInput(format!(
            "--levels {levels}: the Morris grid needs an even number of levels, 2 or more (4 \
             is usual)"
        )));
    }
    let half = levels / 2;
    for f in factors {
        if let Some(j) = (0..half).find(|&j| f.at(j, levels) == f.at(j + half, levels)) {
            return Err(BadInput(format!(
                "--vary {}={}..{}: with --levels {levels} the levels {} and {} round to the same \
                 whole value {}; widen the range or give fewer levels (--levels 2 steps from one \
                 end to the other)",
                f.key,
                f.text(f.lo),
                f.text(f.hi),
                j,
                j + half,
                f.text(f.at(j, levels))
            )));
        }
    }
    let mut points: Vec<Vec<f64>> = Vec::new();
    let mut index: HashMap<Vec<u64>, usize> = HashMap::new();
    let mut place = |p: Vec<f64>| -> usize {
        let bits: Vec<u64> = p.iter().map(|x| x.to_bits()).collect();
        *index.entry(bits).or_insert_with(|| {
            points.push(p);
            points.len() - 1
        })
    };
    let mut steps = Vec::new();
    let k = factors.len();
    for t in 0..r {
        let draw = |what: u64, i: u64| derive_seed(seed, &[SALT, u64::from(t), what, i]);
        // Each key's pair of levels (j, j + half) and the end the trajectory starts from.
        let low: Vec<u32> = (0..k)
            .map(|i| (draw(0, i as u64) % u64::from(half)) as u32)
            .collect();
        let up: Vec<bool> = (0..k).map(|i| draw(1, i as u64) % 2 == 0).collect();
        // The order of the keys: a Fisher-Yates shuffle.
        let mut order: Vec<usize> = (0..k).collect();
        for i in (1..k).rev() {
            let j = (draw(2, i as u64) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let mut level: Vec<u32> = (0..k)
            .map(|i| if up[i] { low[i] } else { low[i] + half })
            .collect();
        let value = |level: &[u32]| -> Vec<f64> {
            (factors.iter().zip(level))
                .map(|(f, &j)| f.at(j, levels))
                .collect()
        };
        let mut from = place(value(&level));
        for &i in &order {
            level[i] = if up[i] { low[i] + half } else { low[i] };
            let to = place(value(&level));
            steps.push(Step {
                trajectory: t,
                factor: i,
                from,
                to,
            });
            from = to;
        }
    }
    Ok(Design { points, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(key: &str, lo: f64, hi: f64, whole: bool) -> Factor {
        Factor {
            key: key.into(),
            lo,
            hi,
            whole,
            range: format!("{lo}..{hi}"),
            unit: String::new(),
        }
    }

    #[test]
    fn each_step_moves_one_key_by_half_the_levels() {
        let fs = [
            factor("a", 0.0, 3.0, false),
            factor("b", 10.0, 40.0, true),
            factor("c", 1.0, 2.0, false),
        ];
        let d = morris(&fs, 6, 4, 11).unwrap();
        assert_eq!(d.steps.len(), 6 * 3);
        for s in &d.steps {
            let (a, b) = (&d.points[s.from], &d.points[s.to]);
            for (i, f) in fs.iter().enumerate() {
                if i == s.factor {
                    // Two levels apart of three steps: two thirds of the range.
                    let moved = (f.share(b[i]) - f.share(a[i])).abs();
                    assert!((moved - 2.0 / 3.0).abs() < 1e-12, "{moved}");
                } else {
                    assert_eq!(a[i], b[i]);
                }
            }
        }
        // Each trajectory moves every key once.
        for t in 0..6 {
            let mut keys: Vec<usize> = (d.steps.iter())
                .filter(|s| s.trajectory == t)
                .map(|s| s.factor)
                .collect();
            keys.sort();
            assert_eq!(keys, [0, 1, 2]);
        }
        assert_eq!(d, morris(&fs, 6, 4, 11).unwrap());
        assert_ne!(d, morris(&fs, 6, 4, 12).unwrap());
    }

    #[test]
    fn ranges_read_in_the_keys_units() {
        let with = |unit: &str, lo: f64, hi: f64| Factor {
            unit: unit.into(),
            ..factor("k", lo, hi, false)
        };
        assert_eq!(with("threads", 5.0, 8.0).range_words(), "5 to 8 threads");
        assert_eq!(
            with("s", 100.0, 200.0).range_words(),
            "1 min 40 s to 3 min 20 s"
        );
        assert_eq!(with("s", 0.05, 0.2).range_words(), "50 ms to 200 ms");
        assert_eq!(
            with("requests/s", 30.0, 39.0).range_words(),
            "30 to 39 requests/s"
        );
        assert_eq!(with("share", 0.5, 0.9).range_words(), "50% to 90%");
        assert_eq!(with("×", 2.0, 12.0).range_words(), "2× to 12×");
        assert_eq!(with("", 0.5, 2.0).range_words(), "0.5 to 2");
    }

    #[test]
    fn odd_levels_are_refused_and_counts_step_by_whole_values() {
        assert!(morris(&[factor("x", 0.0, 1.0, false)], 4, 3, 1).is_err());
        assert!(morris(&[factor("x", 0.0, 1.0, false)], 4, 0, 1).is_err());
        let f = factor("tier.web.instances", 1.0, 2.0, true);
        let d = morris(std::slice::from_ref(&f), 8, 6, 1).unwrap();
        for s in &d.steps {
            let (a, b) = (d.points[s.from][0], d.points[s.to][0]);
            assert_eq!(a.fract(), 0.0);
            assert_eq!((a - b).abs(), 1.0);
        }
    }
}
