//! Property tests over random small models (1-3 tiers, 1-4 instances, 1-20 threads, optional
//! bounded queues, exponential, lognormal or deterministic service, open or user traffic,
//! optional client timeout, retries and refreshes, short horizons): every run conserves
//! requests and satisfies Little's law (`common::check_invariants`), and a run is a pure
//! function of (model, seed). And random mutations of model text never make surge panic: of a
//! small model, and of one with every policy section, variants and a sweep grid (the fuzz
//! target's `# vary:` comments, counted as `sweep --count-points` counts them).

use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

use surge::experiment::guard::Limits;
use surge::experiment::run_bounded;
use surge::metrics::summary::WALL_CLOCK_FIELDS;

#[derive(Debug, Clone)]
struct TierSpec {
    instances: u32,
    threads: u32,
    queue: Option<u32>,
    service: String,
    visit: f64,
}

fn service() -> impl Strategy<Value = String> {
    let mean = 5u32..200;
    prop_oneof![
        mean.clone()
            .prop_map(|m| format!("{{ dist = \"exponential\", mean = \"{m}ms\" }}")),
        (mean.clone(), 0.3f64..2.0).prop_map(|(m, cv)| format!(
            "{{ dist = \"lognormal\", mean = \"{m}ms\", cv = {cv:.3} }}"
        )),
        mean.prop_map(|m| format!("{{ dist = \"deterministic\", value = \"{m}ms\" }}")),
    ]
}

fn tier() -> impl Strategy<Value = TierSpec> {
    (
        1u32..=4,
        1u32..=20,
        proptest::option::of(0u32..30),
        service(),
        prop_oneof![Just(1.0), 0.2f64..1.0],
    )
        .prop_map(|(instances, threads, queue, service, visit)| TierSpec {
            instances,
            threads,
            queue,
            service,
            visit,
        })
}

#[derive(Debug, Clone)]
enum Traffic {
    Requests {
        rate: f64,
    },
    Users {
        users: u32,
        think_s: f64,
        pages: f64,
    },
}

fn traffic() -> impl Strategy<Value = Traffic> {
    prop_oneof![
        (5.0f64..150.0).prop_map(|rate| Traffic::Requests { rate }),
        (10u32..300, 0.5f64..5.0, 1.0f64..6.0).prop_map(|(users, think_s, pages)| {
            Traffic::Users {
                users,
                think_s,
                pages,
            }
        }),
    ]
}

#[derive(Debug, Clone)]
struct ModelSpec {
    horizon_s: u32,
    warmup_s: u32,
    seed: u64,
    traffic: Traffic,
    tiers: Vec<TierSpec>,
    timeout_ms: Option<u32>,
    retries: Option<u32>,
    refresh: Option<f64>,
    surge: Option<f64>,
}

fn model() -> impl Strategy<Value = ModelSpec> {
    (
        20u32..120,
        prop_oneof![Just(0u32), 1u32..10],
        any::<u64>(),
        traffic(),
        proptest::collection::vec(tier(), 1..=3),
        proptest::option::of(200u32..5000),
        proptest::option::of(2u32..=3),
        proptest::option::of(0.0f64..0.9),
        proptest::option::of(1.0f64..4.0),
    )
        .prop_map(
            |(horizon_s, warmup_s, seed, traffic, tiers, timeout_ms, retries, refresh, surge)| {
                ModelSpec {
                    horizon_s,
                    warmup_s,
                    seed,
                    traffic,
                    tiers,
                    timeout_ms,
                    retries,
                    refresh,
                    surge,
                }
            },
        )
}

fn text(m: &ModelSpec) -> String {
    let mut t = format!(
        "[scenario]\nduration = \"{}s\"\nwarmup = \"{}s\"\nseed = {}\nbucket = \"5s\"\n\n",
        m.horizon_s, m.warmup_s, m.seed
    );
    if let Some(peak) = m.surge {
        t += &format!(
            "[surge]\npeak = {peak:.3}\nstart = \"{}s\"\nramp = \"5s\"\nhold = \"10s\"\ndecay = \"5s\"\n\n",
            m.horizon_s / 3
        );
    }
    t += "[client]\n";
    if let Some(ms) = m.timeout_ms {
        t += &format!("timeout = \"{ms}ms\"\n");
    }
    match m.traffic {
        Traffic::Requests { rate } => {
            if let Some(n) = m.retries {
                t += &format!(
                    "[client.retry]\nmax_attempts = {n}\nbase = \"100ms\"\njitter = \"full\"\n"
                );
            }
            t += &format!("\n[[source]]\nkind = \"requests\"\nrate = {rate:.3}\n");
        }
        Traffic::Users {
            users,
            think_s,
            pages,
        } => {
            if let Some(p) = m.refresh {
                t += &format!(
                    "refresh = {p:.3}\nrefresh_after = {{ dist = \"exponential\", mean = \"1s\" }}\ngive_up_after = 3\n"
                );
            }
            t += &format!(
                "\n[[source]]\nkind = \"users\"\nusers = {users}\n\
                 pages = {{ dist = \"geometric\", mean = {pages:.3} }}\n\
                 think = {{ dist = \"exponential\", mean = \"{think_s:.3}s\" }}\n"
            );
        }
    }
    for (i, tier) in m.tiers.iter().enumerate() {
        t += &format!(
            "\n[[tier]]\nname = \"t{i}\"\ninstances = {}\nthreads = {}\nservice = {}\nvisit = {:.3}\n",
            tier.instances, tier.threads, tier.service, tier.visit
        );
        if let Some(q) = tier.queue {
            t += &format!("queue = {q}\n");
        }
    }
    t
}

/// The summary as JSON without the fields that measure the computer.
fn summary(text: &str, max_events: Option<u64>) -> Value {
    let model = surge::model::parse_text(text, "prop.toml", Path::new("."))
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let limits = Limits {
        max_events,
        ..Limits::default()
    };
    let out = run_bounded(&model, model.scenario.seed, &limits);
    let mut v = serde_json::to_value(&out.summary).unwrap();
    for k in WALL_CLOCK_FIELDS {
        v.as_object_mut().unwrap().remove(*k);
    }
    v
}

/// Cases of a property: `default`, or PROPTEST_CASES for a longer run by hand.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Conservation and Little's law hold, and the same seed gives the same summary; also for
    /// a run cut short by `--max-events` (its partial summary balances its books too).
    #[test]
    fn random_models_conserve_obey_littles_law_and_repeat(
        m in model(),
        cut in proptest::option::of(500u64..20_000),
    ) {
        let t = text(&m);
        let a = summary(&t, cut);
        prop_assert!(a["events"].as_u64().unwrap() > 0);
        crate::common::check_invariants(&a);
        let b = summary(&t, cut);
        prop_assert_eq!(&a, &b, "same model and seed, different summaries:\n{}", t);
        if a["partial"] == true {
            prop_assert_eq!(a["events"].as_u64(), cut);
        }
    }
}

/// A small valid model to mutate.
const SEED_MODEL: &str = r#"[scenario]
duration = "2m"
seed = 3

[client]
timeout = "2s"

[[source]]
kind = "requests"
rate = 20
profile = [["0s", 1.0], ["1m", 2.0]]

[[tier]]
name = "web"
instances = 2
threads = 4
queue = 10
service = { dist = "lognormal", mean = "80ms", cv = 1.5 }

[tier.memory]
limit = "1GiB"
per_request = "100MiB"

[[operator]]
action = "restart"
detect = "10s"
"#;

/// Edits a fuzzer would make: replace a span with a token (weird numbers, units, brackets).
fn mutation() -> impl Strategy<Value = (usize, usize, &'static str)> {
    let tokens = prop::sample::select(vec![
        "0",
        "-1",
        "1e400",
        "nan",
        "inf",
        "-inf",
        "1e-300",
        "18446744073709551616",
        "0.0",
        "\"\"",
        "\"0s\"",
        "\"1e9d\"",
        "\"-5s\"",
        "\"1us\"",
        "[",
        "]",
        "{",
        "}",
        "=",
        "\n",
        "[[tier]]",
        "[[source]]",
        "[surge]\npeak = 1e4\n",
        "\"1e18B\"",
        "true",
        "[]",
        "{ dist = \"pareto\", shape = 0.5, scale = 1 }",
        "{ dist = \"deterministic\", value = 0 }",
        "kind = \"trace\"",
        "users = 1e7",
        "threads = 10000000",
        "instances = 10000000",
    ]);
    (0usize..SEED_MODEL.len(), 0usize..12, tokens)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever the edit, reading and a bounded run return without a panic.
    #[test]
    fn mutated_models_never_panic(edits in proptest::collection::vec(mutation(), 1..4)) {
        let mut text = SEED_MODEL.to_string();
        for (at, len, token) in edits {
            let at = at.min(text.len());
            let end = (at + len).min(text.len());
            if text.is_char_boundary(at) && text.is_char_boundary(end) {
                text.replace_range(at..end, token);
            }
        }
        let t = text.clone();
        let r = std::panic::catch_unwind(move || {
            surge::experiment::guard::try_text(&t, Path::new("."), 20_000).map(|s| s.is_some())
        });
        prop_assert!(r.is_ok(), "panicked on:\n{}", text);
    }
}

/// Every policy section, two variants and a grid in `# vary:` comments (also a seed of the fuzz
/// corpus).
const POLICY_MODEL: &str = include_str!("../fuzz-regressions/policies-every-section.toml");

/// Edits aimed at the policy keys, the variants and the grid: crossed bounds, extreme durations
/// and grids past counting (issue 27, items 1-4).
fn policy_mutation() -> impl Strategy<Value = (usize, usize, &'static str)> {
    let tokens = prop::sample::select(vec![
        "0",
        "-1",
        "1e308",
        "nan",
        "\"1e308s\"",
        "\"1ns\"",
        "\"0s\"",
        "\"\"",
        "\n",
        "=",
        "max_limit = 10\n",
        "min_limit = 500\n",
        "initial_limit = 0\n",
        "algorithm = \"aimd\"\n",
        "algorithm = \"vegas\"\n",
        "backoff_ratio = 1\n",
        "max_instances = 4294967295\n",
        "window = \"1ns\"\n",
        "bucket = \"1ns\"\n",
        "active_users = 0\n",
        "\n# vary: tier.web.threads=1..1000000000:1\n",
        "\n# vary: surge.peak=1..2\n# points: 18446744073709551615\n",
        "\n# vary: tier.api.instances=1,1\n",
        "[tier.concurrency_limit]\n",
        "[[variant]]\nname = \"x.y\"\nset = { \"scenario.seed\" = 3 }\n",
        "set = { \"tier.web.autoscale.max_instances\" = 0 }\n",
    ]);
    (0usize..POLICY_MODEL.len(), 0usize..16, tokens)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(128),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever the edit to a policy section, a variant or the grid, loading, the guards and a
    /// bounded run return without a panic.
    #[test]
    fn mutated_policy_models_never_panic(
        edits in proptest::collection::vec(policy_mutation(), 1..4)
    ) {
        let mut text = POLICY_MODEL.to_string();
        for (at, len, token) in edits {
            let at = at.min(text.len());
            let end = (at + len).min(text.len());
            if text.is_char_boundary(at) && text.is_char_boundary(end) {
                text.replace_range(at..end, token);
            }
        }
        let t = text.clone();
        let r = std::panic::catch_unwind(move || {
            surge::experiment::guard::try_text(&t, Path::new("."), 20_000).map(|s| s.is_some())
        });
        prop_assert!(r.is_ok(), "panicked on:\n{}", text);
    }
}
