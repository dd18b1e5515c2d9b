//! What the answer of `surge optimize` cannot see past: an optimum on the edge of a `--vary`
//! range (a value outside it, smaller or larger, might make a cheaper configuration that holds),
//! and a varied key with no price (its cost counts 0, so the configurations along it cost the
//! same and which of them is "cheapest" is arbitrary).
//!
//! Not here: the search (`super::search`), the wording (`commands::optimize`).

use serde::{Deserialize, Serialize};

use super::Optimization;
use super::lattice::Lattice;
use crate::experiment::vary::Vary;

/// Which end of its range a key of the optimum sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum End {
    /// Its smallest value: a smaller one, outside the range, might hold too, for less.
    Low,
    /// Its largest value: more of it with less of another key, outside the range, might hold
    /// for less.
    High,
}

/// A priced key of the optimum at an end of its range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RangeEdge {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) end: End,
}

/// The priced keys of the optimum at an end of their range (a key of one value is at neither,
/// and a low end below which the model allows nothing, `nothing_below(key index)`, is no edge),
/// and the keys whose value changes no configuration's cost, in the order of the keys.
pub(crate) fn notes(
    o: &Optimization,
    lat: &Lattice,
    nothing_below: &dyn Fn(usize) -> bool,
) -> (Vec<RangeEdge>, Vec<String>) {
    let unpriced: Vec<usize> = (0..o.keys.len())
        .filter(|&i| o.keys[i].values.len() > 1 && !priced(o, lat, i))
        .collect();
    let mut edges = Vec::new();
    if let Some(p) = o.optimum {
        let c = lat.coords(p);
        for (i, k) in o.keys.iter().enumerate() {
            let last = k.values.len() - 1;
            if last == 0 || unpriced.contains(&i) {
                continue;
            }
            let end = match c[i] {
                0 if nothing_below(i) => continue,
                0 => End::Low,
                x if x == last => End::High,
                _ => continue,
            };
            edges.push(RangeEdge {
                key: k.key.clone(),
                value: k.values[c[i]].clone(),
                end,
            });
        }
    }
    let unpriced = unpriced.iter().map(|&i| o.keys[i].key.clone()).collect();
    (edges, unpriced)
}

/// The values below the range `values` (increasing) to try: one step below its lowest (the
/// step between its first two), and half a step below (whole where the range is whole, when
/// that differs from both); none where the values are not plain numbers (`100ms`) or the
/// range has one value.
pub(crate) fn below_range(values: &[String]) -> Vec<String> {
    let nums: Option<Vec<f64>> = values.iter().take(2).map(|v| v.parse().ok()).collect();
    let Some([lo, next]) = nums.as_deref().and_then(|n| <[f64; 2]>::try_from(n).ok()) else {
        return Vec::new();
    };
    let step = next - lo;
    let whole = values.iter().take(2).all(|v| !v.contains(['.', 'e', 'E']));
    let text = |x: f64| crate::fmt::format_number(x);
    let half = if whole {
        lo - (step / 2.0).floor()
    } else {
        lo - step / 2.0
    };
    let mut out = vec![text(lo - step)];
    if half != lo && half != lo - step {
        out.push(text(half));
    }
    out
}

/// Whether the model refuses key `i` at every value of `below_range`, the optimum's other keys
/// at `point`: the model's own validation says nothing below the range exists (1 instance,
/// a memory limit just above its base), not a rule on the key's name. False where nothing
/// below can be tried (the answer then says a smaller value might hold).
pub(crate) fn refused_below(
    path: Option<&std::path::Path>,
    sets: &[String],
    varies: &[Vary],
    point: &[String],
    i: usize,
) -> bool {
    let tries = below_range(&varies[i].values);
    !tries.is_empty()
        && tries.iter().all(|v| {
            let mut at = point.to_vec();
            at[i] = v.clone();
            crate::experiment::vary::load_point(path, sets, varies, &at).is_err()
        })
}

/// Whether some two configurations that differ only in key `i` differ in cost.
fn priced(o: &Optimization, lat: &Lattice, i: usize) -> bool {
    (0..lat.len()).any(|p| {
        let mut c = lat.coords(p);
        if c[i] != 0 {
            return false;
        }
        let base = o.configs[p].cost_per_hour;
        (1..lat.sizes[i]).any(|x| {
            c[i] = x;
            (o.configs[lat.point(&c)].cost_per_hour - base).abs() > 1e-9 * base.abs().max(1.0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_values_tried_below_a_range() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(below_range(&v(&["1", "2", "3"])), ["0"]);
        assert_eq!(below_range(&v(&["2", "4"])), ["0", "1"]);
        assert_eq!(below_range(&v(&["0.2", "0.4"])), ["0", "0.1"]);
        assert!(below_range(&v(&["100ms", "200ms"])).is_empty());
        assert!(below_range(&v(&["3"])).is_empty());
    }

    /// The model's validation decides, not the key's name: a count at 1 (0 instances refused),
    /// a queue at 5 (0 places allowed), and a memory limit whose name says nothing, just above
    /// its base (a limit at or below the base refused).
    #[test]
    fn what_is_below_a_range_is_what_the_model_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.toml");
        std::fs::write(
            &file,
            "[scenario]\nduration = \"10m\"\n[[source]]\nkind = \"requests\"\nrate = 10\n\
             [[tier]]\nname = \"app\"\ninstances = 2\nthreads = 4\nqueue = 10\n\
             service = { dist = \"exponential\", mean = \"100ms\" }\n\
             memory = { base = \"1GiB\", per_request = \"1MiB\", limit = \"2GiB\" }\n",
        )
        .unwrap();
        let vary = |key: &str, values: &[&str]| Vary {
            key: key.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
        };
        let refused = |v: Vary| {
            let point = vec![v.values[0].clone()];
            refused_below(Some(&file), &[], &[v], &point, 0)
        };
        assert!(refused(vary("tier.app.instances", &["1", "2", "3"])));
        assert!(
            !refused(vary("tier.app.instances", &["2", "4"])),
            "1 is allowed"
        );
        assert!(
            !refused(vary("tier.app.queue", &["5", "10"])),
            "0 places is allowed"
        );
        assert!(refused(vary("tier.app.threads", &["1", "2"])));
        // A limit 1 byte above the base, in steps of 2 bytes: 1 byte below the base and the
        // base itself are refused (a limit must be above it); from 1.5 GiB in steps of half a
        // GiB, 1 GiB is refused but 1.25 GiB is allowed.
        let base: u64 = 1 << 30;
        let (a, b) = ((base + 1).to_string(), (base + 3).to_string());
        assert!(refused(vary("tier.app.memory.limit", &[&a, &b])));
        let (a, b) = ((base * 3 / 2).to_string(), (base * 2).to_string());
        assert!(!refused(vary("tier.app.memory.limit", &[&a, &b])));
    }
}
