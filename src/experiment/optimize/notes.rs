//! What the answer of `surge optimize` cannot see past: an optimum on the edge of a `--vary`
//! range (a value outside it, smaller or larger, might make a cheaper configuration that holds),
//! and a varied key with no price (its cost counts 0, so the configurations along it cost the
//! same and which of them is "cheapest" is arbitrary).
//!
//! Not here: the search (`super::search`), the wording (`commands::optimize`).

use serde::{Deserialize, Serialize};

use super::Optimization;
use super::lattice::Lattice;

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
/// and a low end below which the key allows nothing is no edge),
/// and the keys whose value changes no configuration's cost, in the order of the keys.
pub(crate) fn notes(o: &Optimization, lat: &Lattice) -> (Vec<RangeEdge>, Vec<String>) {
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
                0 if nothing_below(&k.key, &k.values[0]) => continue,
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

/// No smaller value of `key` than `value` is allowed (the new-user trial was told "a smaller
/// one might hold" at 1 instance, which the model refuses to go below): nothing below 0, and
/// nothing below 1 for a count of instances, threads or connections.
fn nothing_below(key: &str, value: &str) -> bool {
    let Ok(x) = value.parse::<f64>() else {
        return false;
    };
    let count = ["instances", "threads", "connections"]
        .iter()
        .any(|k| key.ends_with(k));
    x <= 0.0 || (count && x <= 1.0)
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
    use super::nothing_below;

    #[test]
    fn a_count_at_one_and_anything_at_zero_have_nothing_below() {
        assert!(nothing_below("tier.front.instances", "1"));
        assert!(nothing_below("tier.app.pool.connections", "1"));
        assert!(nothing_below("tier.db.threads", "1"));
        assert!(nothing_below("tier.db.queue", "0"));
        assert!(!nothing_below("tier.db.queue", "1"));
        assert!(!nothing_below("tier.front.instances", "2"));
        assert!(!nothing_below("tier.db.service.mean", "0.1"));
        assert!(!nothing_below("tier.db.service.mean", "100ms"));
    }
}
