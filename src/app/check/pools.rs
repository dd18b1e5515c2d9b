//! Connection pools in `surge check`'s static estimate. A pool lets the calling tier's
//! instances have at most `connections` x instances requests in the tier it calls at once
//! (`cap`), so the callee's offered concurrency is capped there; and a request that finds every
//! connection in use waits for one holding its thread in the caller (and in every tier above),
//! so the callers' loads grow by the requests held waiting (and lose the callee's part of those
//! beyond the cap: they are the ones waiting). The wait is that of an M/M/P queue
//! with P = `cap` servers (Erlang C: `C(P, a) h / (P - a)`, `a` the callee's offered Erlangs, `h`
//! the time a connection is held) while the callee's load stays under the cap; at or above it
//! the waiting line grows until requests time out, so each waits about the pool's timeout
//! (Little's law: the caller holds `rate x timeout` requests waiting).
//!
//! ASSUMPTIONS: the connections of the caller's instances act as one shared pool (exact with one
//! caller instance; with several, as good as the balancer spreads the requests); the time a
//! connection is held is the callee's nominal hold (no queueing in the callee); exponential
//! enough for Erlang C. Pools are applied from the deepest up, so a deeper pool's waits count in
//! the hold of the pools above.
//!
//! Not here: the nominal loads (`model::offered`), the wording (`commands::check`).

use crate::analytic::erlang_c;
use crate::model::Model;
use crate::model::offered::TierLoad;

/// What one connection pool does to the loads of its tiers, at baseline (`[0]`) and at the
/// surge peak (`[1]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PoolLoad {
    /// The calling tier (the callee is the next one).
    pub(crate) caller: usize,
    /// Connections in all: per instance x the caller's instances.
    pub(crate) cap: u32,
    /// The callee's offered load in Erlangs before the cap (after it: at most `cap`).
    pub(crate) uncapped: [f64; 2],
    /// Mean wait for a connection, seconds: Erlang C's while the callee's load is under the
    /// cap, `None` at or above it (the requests wait up to the pool's timeout).
    pub(crate) wait_s: [Option<f64>; 2],
    /// Erlangs added to the caller and every tier above it: requests holding a thread while
    /// waiting for a connection.
    pub(crate) held: [f64; 2],
}

impl PoolLoad {
    /// The callee's load reaches the cap at the surge peak: its concurrency is the pool's.
    pub(crate) fn capped_at_peak(&self) -> bool {
        self.uncapped[1] >= f64::from(self.cap)
    }
}

/// Apply each pool of `model` to `loads` (the nominal loads, in the model's order): the callee's
/// loads capped at the pool's connections, the callers' grown by the requests held waiting.
/// Returns one `PoolLoad` per pool, from the deepest up.
pub(crate) fn apply(model: &Model, loads: &mut [TierLoad]) -> Vec<PoolLoad> {
    // Arrivals a second at each tier, from the nominal loads (Erlangs over the hold).
    let rate: Vec<[f64; 2]> = (loads.iter())
        .map(|l| {
            let per = |x: f64| if l.hold_s > 0.0 { x / l.hold_s } else { 0.0 };
            [per(l.base), per(l.peak)]
        })
        .collect();
    let mut out = Vec::new();
    for k in (0..model.tiers.len().saturating_sub(1)).rev() {
        let t = &model.tiers[k];
        let Some(pool) = t.pool else { continue };
        let cap = pool.connections.saturating_mul(t.instances);
        let p = f64::from(cap);
        let mut one = PoolLoad {
            caller: k,
            cap,
            uncapped: [loads[k + 1].base, loads[k + 1].peak],
            wait_s: [None; 2],
            held: [0.0; 2],
        };
        for (j, &l) in rate[k + 1].iter().enumerate() {
            let a = one.uncapped[j];
            if l <= 0.0 {
                one.wait_s[j] = Some(0.0);
                continue;
            }
            // The time a connection is held: the callee's hold, deeper pools' waits included.
            let h = a / l;
            let wait = match erlang_c(cap, a) {
                Some(c) if a < p => c * h / (p - a),
                _ => pool.timeout_s,
            };
            one.wait_s[j] = (a < p).then_some(wait);
            one.held[j] = l * wait;
        }
        let callee = &mut loads[k + 1];
        (callee.base, callee.peak) = (callee.base.min(p), callee.peak.min(p));
        // The callers hold a thread through the callee's part of the time too: only the capped
        // part of it is in the callee; the rest of the requests are the ones waiting (`held`).
        let over = |j: usize| (one.uncapped[j] - p).max(0.0);
        for caller in &mut loads[..=k] {
            caller.base += one.held[0] - over(0);
            caller.peak += one.held[1] - over(1);
        }
        out.push(one);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::offered::{PerCall, tier_loads};

    fn model(extra: &str) -> Model {
        let text = format!(
            "[scenario]\nduration = \"10m\"\n[[source]]\nkind = \"requests\"\nrate = 40\n\
             [[tier]]\nname = \"api\"\ninstances = 1\nthreads = 200\n\
             service = {{ dist = \"exponential\", mean = \"1ms\" }}\n{extra}\
             [[tier]]\nname = \"db\"\ninstances = 1\nthreads = 50\n\
             service = {{ dist = \"exponential\", mean = \"100ms\" }}\n"
        );
        crate::model::parse_text(&text, "m.toml", std::path::Path::new(".")).unwrap()
    }

    /// A pool of 5 connections in front of a db offered 4 Erlangs is an M/M/5 queue: the
    /// wait for a connection is Erlang C's, `C(5, 4) x 0.1 s / (5 - 4)`, and the api holds
    /// `40/s x` that wait more threads, on top of its nominal load.
    #[test]
    fn a_pool_under_its_cap_waits_as_an_mm_p_queue() {
        let m = model("pool = { connections = 5, timeout = \"10s\" }\n");
        let mut loads = tier_loads(&m);
        let nominal = loads[0].base;
        let pools = apply(&m, &mut loads);
        assert_eq!(pools.len(), 1);
        let c = erlang_c(5, 4.0).unwrap();
        // C(5, 4) = 0.5541 (tables of Erlang C).
        assert!((c - 0.5541).abs() < 1e-4, "{c}");
        let w = pools[0].wait_s[0].unwrap();
        assert!((w - c * 0.1).abs() < 1e-12, "{w}");
        assert!((loads[0].base - (nominal + 40.0 * w)).abs() < 1e-9);
        assert!((loads[1].base - 4.0).abs() < 1e-9);
        assert_eq!(loads[0].per_call, PerCall::Visits);
    }

    /// A pool smaller than the callee's load caps the callee there (it is not overloaded:
    /// 3 of its 50 threads at most), and the caller's threads are held waiting up to the
    /// pool's timeout: 40/s x 2 s = 80 Erlangs more, and 1 Erlang less of the db's 4 counted
    /// through it (only 3 are in the db; the others are the ones waiting).
    #[test]
    fn a_pool_below_the_load_caps_the_callee_and_holds_the_callers_threads() {
        let m = model("pool = { connections = 3, timeout = \"2s\" }\n");
        let mut loads = tier_loads(&m);
        let nominal = loads[0].base;
        let pools = apply(&m, &mut loads);
        assert_eq!(pools[0].wait_s[0], None);
        assert!((pools[0].uncapped[0] - 4.0).abs() < 1e-9);
        assert!((loads[1].base - 3.0).abs() < 1e-12);
        assert!((loads[0].base - (nominal + 80.0 - 1.0)).abs() < 1e-9);
        // Without a pool nothing changes.
        let m = model("");
        let mut loads = tier_loads(&m);
        let before = loads.clone();
        assert!(apply(&m, &mut loads).is_empty());
        assert_eq!(loads, before);
    }
}
