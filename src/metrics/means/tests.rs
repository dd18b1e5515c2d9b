//! The typed means against the walk over the JSON tree that `summary.json` was first computed
//! with (kept here as the reference): the same bytes for summaries with every kind of field.

use serde_json::{Map, Value};

use super::*;
use crate::metrics::summary::EndedBy;

/// Keys whose value is not averaged: the first replication's is kept.
const KEEP_FIRST: &[&str] = &["seed", "intervals", "name", "model"];

/// The reference: mean and 95% half-width over replications, field by field on the JSON tree.
/// Numbers are averaged, booleans give the share that were true, nulls are skipped, strings and
/// the kept keys keep the first value; the keys are the first replication's.
fn by_json(reps: &[Value]) -> (Value, Value) {
    fn go(items: &[&Value]) -> (Value, Value) {
        let first = items[0];
        match first {
            Value::Object(m) => {
                let mut mean = Map::new();
                let mut ci = Map::new();
                for k in m.keys() {
                    if KEEP_FIRST.contains(&k.as_str()) {
                        mean.insert(k.clone(), m[k].clone());
                        continue;
                    }
                    let sub: Vec<&Value> = items.iter().filter_map(|v| v.get(k)).collect();
                    let (a, b) = go(&sub);
                    mean.insert(k.clone(), a);
                    if !b.is_null() {
                        ci.insert(k.clone(), b);
                    }
                }
                (Value::Object(mean), Value::Object(ci))
            }
            Value::Array(a) => {
                let mut mean = Vec::new();
                let mut ci = Vec::new();
                for i in 0..a.len() {
                    let sub: Vec<&Value> = items.iter().filter_map(|v| v.get(i)).collect();
                    let (x, y) = go(&sub);
                    mean.push(x);
                    ci.push(y);
                }
                (Value::Array(mean), Value::Array(ci))
            }
            _ => {
                let nums: Vec<f64> = items
                    .iter()
                    .filter_map(|v| match v {
                        Value::Number(n) => n.as_f64(),
                        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                        _ => None,
                    })
                    .collect();
                if nums.is_empty() || matches!(first, Value::String(_)) {
                    return (first.clone(), Value::Null);
                }
                let (mean, half) = crate::stats::mean_ci95(&nums);
                let num =
                    |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
                (num(mean), num(half))
            }
        }
    }
    let refs: Vec<&Value> = reps.iter().collect();
    go(&refs)
}

fn same_as_json(reps: &[Summary]) {
    let values: Vec<Value> = reps
        .iter()
        .map(|s| serde_json::to_value(s).unwrap())
        .collect();
    let (mean, ci) = by_json(&values);
    let (m, c) = over_replications(&reps.iter().collect::<Vec<_>>());
    let text = |v: &Value| serde_json::to_string_pretty(v).unwrap();
    assert_eq!(text(&serde_json::to_value(&m).unwrap()), text(&mean));
    assert_eq!(text(&serde_json::to_value(&c).unwrap()), text(&ci));
}

/// A summary with every optional part, its numbers varied by `k`.
fn full(k: u64) -> Summary {
    let x = k as f64;
    let mut s = Summary {
        model: "m".into(),
        seed: 10 + k,
        sim_time_s: 3600.0,
        warmup_s: 60.0,
        wall_s: 0.5 + x,
        events: 1000 * k,
        events_per_s: 3.0 * x,
        peak_pending_events: 7 + k,
        peak_concurrent_users: 2.5 * x,
        mean_concurrent_users: 1.25 + x,
        tiers: vec![
            TierSummary {
                name: "web".into(),
                threads: 4,
                instances: 2 + k as u32,
                utilization: 0.1 * x,
                mean_queue_wait_s: (k != 1).then_some(0.2 * x),
                instance_hours: 2.0 * x,
                cost: Some(x),
                ejections: Some(k),
                limited: Some(2 * k),
                crashes: k,
                first_crash_s: (k == 2).then_some(100.0),
                ..TierSummary::default()
            },
            TierSummary {
                name: "db".into(),
                instance_hours: 1.0,
                ..TierSummary::default()
            },
        ],
        waiting_room: Some(RoomSummary {
            admitted: 5 * k,
            wait_p50_s: (k > 0).then_some(x),
            at_end: RoomState {
                waiting: k,
                ..RoomState::default()
            },
            ..RoomSummary::default()
        }),
        ..Summary::default()
    };
    s.requests.attempts.offered = 100 * k;
    s.requests.short_circuited = Some(k);
    s.requests.throttled = Some(3);
    s.latency_s.p95 = (k != 0).then_some(0.3 * x);
    s.outage.crashed = k % 2 == 1;
    s.outage.recovered = s.outage.crashed.then_some(k == 1);
    s.outage.intervals = vec![[x, x + 10.0]];
    s.slo.broken = k > 1;
    s.slo.success_rate = Some(1.0 - 0.01 * x);
    s
}

#[test]
fn the_same_as_the_walk_over_json_for_full_summaries() {
    same_as_json(&[full(0), full(1), full(2)]);
    same_as_json(&[full(1), full(3)]);
    same_as_json(&[full(2)]);
}

#[test]
fn the_same_as_the_walk_over_json_for_plain_summaries() {
    same_as_json(&[Summary::default(), Summary::default()]);
    let plain = |k: u64| Summary {
        waiting_room: None,
        ..full(k)
    };
    let mut a = plain(1);
    let mut b = plain(2);
    for s in [&mut a, &mut b] {
        s.requests.short_circuited = None;
        s.requests.throttled = None;
        for t in &mut s.tiers {
            (t.cost, t.ejections, t.limited) = (None, None, None);
        }
    }
    same_as_json(&[a.clone(), b.clone(), a]);
}

#[test]
fn the_same_as_the_walk_over_json_for_partial_runs() {
    let partial = |k: u64, by| {
        let mut s = full(k);
        s.partial = true;
        s.ended_by = Some(by);
        s.simulated_until_s = Some(100.0 * k as f64);
        s
    };
    // The first partial, then not; the first complete, then partial; two partial.
    same_as_json(&[partial(1, EndedBy::MaxEvents), full(2), full(3)]);
    same_as_json(&[full(2), partial(1, EndedBy::MaxWall), full(3)]);
    same_as_json(&[
        partial(1, EndedBy::FirstOutage),
        partial(2, EndedBy::FirstOutage),
        full(0),
    ]);
}

#[test]
fn shares_means_and_intervals() {
    let reps = [full(1), full(2), full(3), full(4)];
    let (m, c) = over_replications(&reps.iter().collect::<Vec<_>>());
    assert_eq!(m.outage.crashed, Some(0.5));
    assert_eq!(m.requests.attempts.offered, Some(250.0));
    assert_eq!(m.tiers[0].name, "web");
    assert_eq!(m.tiers[0].cost, Some(2.5));
    assert_eq!(m.waiting_room.as_ref().unwrap().at_end.waiting, Some(2.5));
    // Recovered only where there was an outage: replications 1 (yes) and 3 (no).
    assert_eq!(m.outage.recovered, Some(0.5));
    assert_eq!(c.tiers[1].instance_hours, Some(0.0));
    assert!(c.slo.time_out_of_slo_s.is_some());
    assert_eq!(m.seed, 11, "the first replication's seed");
}
