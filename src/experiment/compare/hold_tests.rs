//! The hold rule in a comparison (`--reps auto`): replications that hold stop early, and the
//! comparison decides as it would on full runs.

use super::*;
use crate::experiment::runner::Stop;
use crate::experiment::variant;

/// A small night (as `tests/it/hold.rs`'s): 300 users, a surge to `surge.peak` x from 0:30 to
/// 1:50, two web servers that run out of memory with about 50 requests in them, restarts,
/// refreshes and returns. Its crash point is near a peak of 14.
const NIGHT: &str = r#"
[scenario]
name = "night"
duration = "3h"
bucket = "1m"
warmup = "10m"
seed = 3
[surge]
peak = 16
start = "30m"
ramp = "20m"
hold = "20m"
decay = "40m"
[[source]]
kind = "users"
users = 300
pages = { dist = "geometric", mean = 6 }
think = { dist = "exponential", mean = "30s" }
[[tier]]
name = "web"
instances = 2
threads = 10
queue = 100
service = { dist = "lognormal", mean = "120ms", cv = 1.0 }
contention = 0.002
request_timeout = "60s"
[tier.memory]
base = "1GiB"
per_request = "6MiB"
limit = "1.3GiB"
[tier.restart]
after = "2m"
cold = { factor = 2.0, warmup = "5m" }
max_crashes = 3
window = "5m"
[tier.health_check]
interval = "10s"
timeout = "5s"
unhealthy_after = 3
healthy_after = 2
[client]
timeout = "30s"
refresh = 0.8
refresh_after = { dist = "exponential", mean = "10s" }
give_up_after = 4
return = { probability = 0.6, after = { dist = "exponential", mean = "10m" } }
[[operator]]
detect = "10m"
action = "restart"
tier = "web"
delay = "5m"
[slo]
window = "5m"
stable = "30m"

"#;

fn run(vs: &[(Variant, Model)], hold: bool) -> Comparison {
    let rounds = Rounds {
        variants: vs,
        seed: 3,
        reps: Reps::Auto { max: 6 },
        confidence: CONFIDENCE,
        hold,
    };
    let finished = |_: usize, _: u32, _: &RunOutput| Ok(());
    let ran = (rounds.run(2, Done::new(), &Stop::new(), &finished, &|_, _, _| true))
        .unwrap()
        .unwrap();
    summarise_all(&rounds, &[], ran)
}

/// With the hold rule the decisions (verdict, metric, replications), the ranking, the outage
/// counts and the downtimes are those of full runs; the replications that held are marked
/// `held`, and their whole-horizon figures `shortened`.
#[test]
fn the_hold_rule_decides_a_comparison_as_full_runs_do() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("night.toml");
    std::fs::write(&file, NIGHT).unwrap();
    let v = |name: &str, set: &str| Variant {
        name: name.into(),
        set: vec![set.into()],
    };
    let extra = [
        v("three servers", "tier.web.instances=3"),
        v("near the crash point", "surge.peak=14"),
        v("a small surge", "surge.peak=6"),
    ];
    let vs = variant::load_all(Some(&file), &[], &extra).unwrap();
    assert_eq!(vs.len(), 4);
    let (early, full) = (run(&vs, true), run(&vs, false));
    assert!(early.hold_rule && !full.hold_rule);
    assert_eq!(early.ranking, full.ranking);
    let mut held = 0;
    for (e, f) in early.variants.iter().zip(&full.variants) {
        assert_eq!(e.decision, f.decision, "{}", e.name);
        assert_eq!(e.outage, f.outage, "{}", e.name);
        let down = |v: &VariantResult| v.stat(table::DOWNTIME).cloned();
        assert_eq!(down(e), down(f), "{}", e.name);
        assert!(f.held.iter().all(|&h| !h));
        for (s, &h) in e.replications.iter().zip(&e.held) {
            assert_eq!(
                h,
                s.ended_by == Some(crate::experiment::guard::EndedBy::Held)
            );
            if h {
                assert!(s.sim_time_s < 3.0 * 3600.0 && s.outage.recovered != Some(false));
            }
        }
        let n = e.held.iter().filter(|&&h| h).count() as u32;
        held += n;
        let lost = e.stat(table::USERS_LOST).unwrap();
        assert_eq!(lost.shortened, n, "{}", e.name);
    }
    // The small surge holds in every replication, and the baseline falls in them.
    let small = &early.variants[3];
    assert_eq!(small.held, vec![true; small.replications.len()]);
    assert!(held >= 2, "{held}");
    let doc = serde_json::to_value(&early).unwrap();
    assert_eq!(doc["hold_rule"], true);
    assert_eq!(doc["variants"][3]["held"][0], true);
    assert_eq!(doc["variants"][3]["replications"][0]["ended_by"], "held");
    assert!(serde_json::to_value(&full).unwrap()["variants"][3]["held"].is_null());
}
