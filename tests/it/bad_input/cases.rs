//! The cases of `bad_input`: each a small edit of `BASE` (or a missing file) and the fragments
//! its error must contain. The runner and the model are in `tests/it/bad_input.rs`.

use super::Model::{Edit, EditWith, Missing};
use super::{BASE, Case, LAST, check, run};

/// (name, model, extra args, expected fragments of stderr).
pub(super) const CASES: &[Case] = &[
    // TOML syntax.
    run(
        "toml_unclosed_table_header",
        Edit(&[("[scenario]", "[scenario")]),
        &[],
        &["{file}:1:10:", "not valid TOML", "`]`"],
    ),
    run(
        "toml_unterminated_string",
        Edit(&[(r#"name = "web""#, r#"name = "web"#)]),
        &[],
        &["{file}:9:", "not valid TOML"],
    ),
    run(
        "toml_unclosed_inline_table",
        Edit(&[(r#""100ms" }"#, r#""100ms""#)]),
        &[],
        &["{file}:12:", "not valid TOML", "`}`"],
    ),
    run(
        "toml_duplicate_key",
        Edit(&[("threads = 2", "threads = 2\nthreads = 3")]),
        &[],
        &["{file}:12:1:", "duplicate key"],
    ),
    run(
        "empty_file",
        Edit(&[(BASE, "")]),
        &[],
        &["missing required key `scenario`"],
    ),
    // Unknown keys and tables.
    run(
        "unknown_key_typo_in_tier",
        Edit(&[("instances = 1", "instnaces = 2")]),
        &[],
        &["{file}:10:1:", "instnaces", "did you mean `instances`"],
    ),
    check(
        "check_unknown_key_typo_in_tier",
        Edit(&[("instances = 1", "instnaces = 2")]),
        &[],
        &["{file}:10:1:", "instnaces", "did you mean `instances`"],
    ),
    run(
        "unknown_top_level_table",
        Edit(&[(
            LAST,
            "service = { dist = \"exponential\", mean = \"100ms\" }\n\n[sruge]\npeak = 2",
        )]),
        &[],
        &["{file}:14:", "sruge", "did you mean `surge`"],
    ),
    run(
        "unknown_key_in_scenario",
        Edit(&[(r#"duration = "10m""#, "duration = \"10m\"\nseeed = 7")]),
        &[],
        &["{file}:3:1:", "seeed", "did you mean `seed`"],
    ),
    run(
        "unknown_value_with_hint",
        Edit(&[("threads = 2", "threads = 2\nbalancer = \"roundrobin\"")]),
        &[],
        &["{file}:12:", "roundrobin", "did you mean `round_robin`"],
    ),
    run(
        "unknown_source_kind",
        Edit(&[(r#"kind = "requests""#, r#"kind = "request""#)]),
        &[],
        &["{file}:5:", "did you mean `requests`"],
    ),
    // Wrong types.
    run(
        "threads_is_a_string",
        Edit(&[("threads = 2", r#"threads = "many""#)]),
        &[],
        &["{file}:11:11:", "threads", "whole number"],
    ),
    run(
        "threads_is_fractional",
        Edit(&[("threads = 2", "threads = 2.5")]),
        &[],
        &["{file}:11:11:", "threads", "whole number"],
    ),
    run(
        "duration_is_a_boolean",
        Edit(&[(r#"duration = "10m""#, "duration = true")]),
        &[],
        &["{file}:2:12:", "duration", "wrong type"],
    ),
    run(
        "service_is_a_duration_not_a_distribution",
        Edit(&[(LAST, r#"service = "100ms""#)]),
        &[],
        &["{file}:12:", "service", "distribution"],
    ),
    run(
        "scenario_is_an_array_of_tables",
        Edit(&[("[scenario]", "[[scenario]]")]),
        &[],
        &["{file}:1:", "scenario", "table"],
    ),
    // `[tier]` for `[[tier]]` is an easy slip: say so in TOML's words, not serde's "map"/"sequence".
    run(
        "tier_is_a_single_table",
        Edit(&[("[[tier]]", "[tier]")]),
        &[],
        &["{file}:8:1:", "[[tier]]"],
    ),
    // Missing required keys.
    run(
        "missing_scenario_duration",
        Edit(&[("duration = \"10m\"\n", "")]),
        &[],
        &["scenario", "missing required key `duration`"],
    ),
    run(
        "tier_without_service",
        Edit(&[(LAST, "")]),
        &[],
        &["tier", "missing required key `service`"],
    ),
    run(
        "tier_without_threads",
        Edit(&[("threads = 2\n", "")]),
        &[],
        &["tier", "missing required key `threads`"],
    ),
    run(
        "source_without_kind",
        Edit(&[("kind = \"requests\"\n", "")]),
        &[],
        &["source", "missing required key `kind`"],
    ),
    // Signs and ranges.
    run(
        "threads_zero",
        Edit(&[("threads = 2", "threads = 0")]),
        &[],
        &["{file}:11:11:", "threads", "1 or more"],
    ),
    run(
        "instances_negative",
        Edit(&[("instances = 1", "instances = -1")]),
        &[],
        &["{file}:10:13:", "instances", "1 or more"],
    ),
    run(
        "rate_zero",
        Edit(&[("rate = 5", "rate = 0")]),
        &[],
        &["{file}:6:8:", "rate", "greater than 0"],
    ),
    run(
        "rate_negative",
        Edit(&[("rate = 5", "rate = -5")]),
        &[],
        &["{file}:6:8:", "rate", "greater than 0"],
    ),
    run(
        "service_mean_negative",
        Edit(&[(r#"mean = "100ms""#, "mean = -1")]),
        &[],
        &["{file}:12:", "mean", "greater than 0"],
    ),
    run(
        "rate_nan",
        Edit(&[("rate = 5", "rate = nan")]),
        &[],
        &["{file}:6:8:", "rate", "greater than 0"],
    ),
    run(
        "rate_inf",
        Edit(&[("rate = 5", "rate = inf")]),
        &[],
        &["{file}:6:8:", "rate", "greater than 0"],
    ),
    run(
        "instances_absurd",
        Edit(&[("instances = 1", "instances = 1e10")]),
        &[],
        &["{file}:10:13:", "instances", "absurdly large"],
    ),
    run(
        "visit_above_one",
        Edit(&[("threads = 2", "threads = 2\nvisit = 1.5")]),
        &[],
        &["{file}:12:9:", "visit", "between 0 and 1"],
    ),
    run(
        "outage_below_negative",
        Edit(&[(
            LAST,
            "service = { dist = \"exponential\", mean = \"100ms\" }\n\n[slo]\noutage_below = -0.1",
        )]),
        &[],
        &["{file}:15:16:", "outage_below", "between 0 and 1"],
    ),
    // Units.
    run(
        "duration_unknown_unit",
        Edit(&[(r#""10m""#, r#""5 parsecs""#)]),
        &[],
        &["{file}:2:12:", "unknown time unit `parsecs`"],
    ),
    run(
        "duration_not_a_duration",
        Edit(&[(r#""10m""#, r#""abc""#)]),
        &[],
        &["{file}:2:12:", "`abc` is not a duration"],
    ),
    run(
        "duration_missing_last_unit",
        Edit(&[(r#""10m""#, r#""1h30""#)]),
        &[],
        &["{file}:2:12:", "needs a unit"],
    ),
    run(
        "duration_negative_number",
        Edit(&[(r#""10m""#, "-3")]),
        &[],
        &["{file}:2:12:", "negative"],
    ),
    // "-3s" is a negative duration: say so, as for `duration = -3`, not just "not a duration".
    run(
        "duration_negative_string",
        Edit(&[(r#""10m""#, r#""-3s""#)]),
        &[],
        &["{file}:2:12:", "-3s", "negative"],
    ),
    run(
        "memory_size_misspelled_unit",
        Edit(&[(
            LAST,
            "service = { dist = \"exponential\", mean = \"100ms\" }\n\n[tier.memory]\nper_request = \"4MB8\"",
        )]),
        &[],
        &["{file}:15:15:", "per_request", "unknown size unit", "4MB8"],
    ),
    // Distributions.
    run(
        "unknown_distribution",
        Edit(&[(r#""exponential""#, r#""exponental""#)]),
        &[],
        &[
            "{file}:12:",
            "unknown distribution `exponental`",
            "did you mean `exponential`",
        ],
    ),
    run(
        "wrong_distribution_parameter",
        Edit(&[(r#"mean = "100ms""#, r#"mean = "100ms", cv = 1.0"#)]),
        &[],
        &[
            "{file}:12:",
            "`cv` is not a parameter of the exponential distribution",
        ],
    ),
    run(
        "empirical_file_missing",
        Edit(&[(
            LAST,
            r#"service = { dist = "empirical", file = "no-such-samples.csv" }"#,
        )]),
        &[],
        &[
            "{file}:12:",
            "cannot read samples file",
            "no-such-samples.csv",
        ],
    ),
    run(
        "empirical_file_bad_sample",
        EditWith(
            &[(
                LAST,
                r#"service = { dist = "empirical", file = "samples.csv" }"#,
            )],
            &[("samples.csv", "0.1\nfast\n")],
        ),
        &[],
        &["{file}:12:", "samples.csv:2", "`fast` is not a sample"],
    ),
    // Sources and tiers.
    run(
        "no_source",
        Edit(&[("[[source]]\nkind = \"requests\"\nrate = 5\n", "")]),
        &[],
        &["no [[source]]"],
    ),
    run(
        "no_tier",
        Edit(&[
            ("[[tier]]\nname = \"web\"\ninstances = 1\nthreads = 2\n", ""),
            (LAST, ""),
        ]),
        &[],
        &["no [[tier]]"],
    ),
    run(
        "requests_source_without_rate",
        Edit(&[("rate = 5\n", "")]),
        &[],
        &["{file}:4:", "needs `rate`"],
    ),
    run(
        "users_source_without_pages",
        Edit(&[(
            "kind = \"requests\"\nrate = 5",
            "kind = \"users\"\nusers = 100\nthink = { dist = \"exponential\", mean = \"30s\" }",
        )]),
        &[],
        &["{file}:4:", "needs `pages`"],
    ),
    // --set.
    run(
        "set_unknown_tier",
        Edit(&[]),
        &["--set", "tier.nosuch.instances=3"],
        &[
            "--set tier.nosuch.instances=3",
            "no tier named `nosuch`",
            "web",
        ],
    ),
    run(
        "set_bad_value",
        Edit(&[]),
        &["--set", "tier.web.threads=0"],
        &["--set tier.web.threads=0", "threads", "1 or more"],
    ),
    check(
        "check_set_bad_value",
        Edit(&[]),
        &["--set", "tier.web.instances=0"],
        &["--set tier.web.instances=0", "instances", "1 or more"],
    ),
    run(
        "set_unknown_key_typo",
        Edit(&[]),
        &["--set", "tier.web.thraeds=4"],
        &["--set tier.web.thraeds=4", "did you mean `threads`"],
    ),
    run(
        "set_into_a_value",
        Edit(&[]),
        &["--set", "scenario.duration.x=5"],
        &["--set scenario.duration.x=5", "holds a value"],
    ),
    // A malformed --set is reported as a --set, like every other override error.
    run(
        "set_without_equals",
        Edit(&[]),
        &["--set", "tier.web.threads"],
        &["--set", "tier.web.threads", "KEY=VALUE"],
    ),
    run(
        "set_empty_key",
        Edit(&[]),
        &["--set", "=5"],
        &["--set", "=5", "key path"],
    ),
    // The model file itself.
    run(
        "model_file_missing",
        Missing,
        &[],
        &["cannot read the model file"],
    ),
];
