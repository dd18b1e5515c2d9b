//! What the answer of `surge optimize` cannot see past: an optimum on the edge of a `--vary`
//! range (a value outside it, smaller or larger, might make a cheaper configuration that holds;
//! the high end of an unpriced key such as `tier.X.pool.connections` too),
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

/// A key of the optimum at an end of its range (the high end whatever its price: more
/// connections, unpriced, may let fewer priced instances hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RangeEdge {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) end: End,
}

/// The keys of the optimum at an end of their range (a key of one value is at neither; a low
/// end below which the model allows nothing, `nothing_below(key index)`, is no edge, nor is an
/// unpriced key's low end, as a smaller value costs the same; a high end is one priced or not),
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
            if last == 0 {
                continue;
            }
            let end = match c[i] {
                // An unpriced key's smaller value costs the same: no cheaper answer below.
                0 if nothing_below(i) || unpriced.contains(&i) => continue,
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
    use crate::experiment::optimize::{Config, Key, Status};
    use crate::metrics::slo::Criterion;

    /// Instances 1, 2 at 1/h each x connections 5, 10 (unpriced), the optimum at `optimum`.
    fn optimization(optimum: usize) -> Optimization {
        let config = |point: usize, v: [&str; 2], cost: f64| {
            Config::unrun(point, &v, cost, Status::ImpliedHolds)
        };
        let key = |k: &str, v: [&str; 2]| Key::monotone(k, &v);
        Optimization {
            keys: vec![
                key("tier.app.instances", ["1", "2"]),
                key("tier.app.pool.connections", ["5", "10"]),
            ],
            criterion: Criterion::Outage,
            seed: 1,
            seeds: "common".into(),
            confidence: 0.95,
            max_reps: 12,
            cost_basis: String::new(),
            optimum: Some(optimum),
            neighbours: Vec::new(),
            same_cost: Vec::new(),
            configs: vec![
                config(0, ["1", "5"], 1.0),
                config(1, ["1", "10"], 1.0),
                config(2, ["2", "5"], 2.0),
                config(3, ["2", "10"], 2.0),
            ],
            pareto: Vec::new(),
            contradictions: Vec::new(),
            configs_run: 0,
            runs: 0,
            runs_simulated: 0,
            runs_from_journal: 0,
            budget_reached: false,
            range_edges: Vec::new(),
            unpriced_keys: Vec::new(),
            headroom: None,
        }
    }

    /// An unpriced key (a pool's connections) at the top of its range is at the edge as a
    /// priced one is (more connections might let fewer instances hold); at the bottom it is
    /// not (a smaller pool costs the same). It is also said to have no price (issue 29).
    #[test]
    fn an_unpriced_key_at_the_top_of_its_range_is_at_the_edge() {
        let lat = Lattice { sizes: vec![2, 2] };
        let (edges, unpriced) = notes(&optimization(1), &lat, &|_| false);
        assert_eq!(unpriced, ["tier.app.pool.connections"]);
        let got: Vec<(&str, &str, End)> = (edges.iter())
            .map(|e| (e.key.as_str(), e.value.as_str(), e.end))
            .collect();
        assert_eq!(
            got,
            [
                ("tier.app.instances", "1", End::Low),
                ("tier.app.pool.connections", "10", End::High),
            ]
        );
        let (edges, _) = notes(&optimization(0), &lat, &|_| true);
        assert!(edges.is_empty(), "{edges:?}");
    }

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
