//! `surge compare`: the baseline is `surge run --reps N` replication by replication, every
//! variant runs the same seeds, a variant that changes nothing differs by exactly 0, bad variant
//! keys exit 2 naming the variant, and a ranking whose answer is known comes out right.

use serde_json::Value;
use std::path::Path;

use crate::common::{compare_in_temp, read_json, run_compare, surge, variant, write_file};
use crate::svg::{Chart, Element, parse_tick};

/// One web tier of 2 threads, no queue, 40 requests/s of 100 ms: offered load 4 erlangs on 2
/// servers loses 8/13 of the requests (Erlang B), so the site is down throughout; round robin
/// over 4 instances (1 erlang on each) loses about a tenth and stays up.
const MODEL: &str = r#"
[scenario]
name = "compare-test"
duration = "30m"
bucket = "1m"
seed = 11

[[source]]
name = "load"
kind = "requests"
rate = 40.0

[[tier]]
name = "web"
instances = 1
threads = 2
queue = 0
service = { dist = "exponential", mean = "100ms" }

[slo]
window = "5m"
outage_below = 0.5

[[variant]]
name = "4 instances"
set = { "tier.web.instances" = 4 }

[[variant]]
name = "unchanged"

[[variant]]
name = "2 instances"
set = { tier.web.instances = 2 }
"#;

fn write_model(dir: &Path, text: &str) -> std::path::PathBuf {
    write_file(dir, "model.toml", text)
}

#[test]
fn variants_share_seeds_baseline_equals_run() {
    let cmp = compare_in_temp(MODEL, &["--reps", "3", "--quiet", "--jobs", "2"]);
    let (dir, file, out) = (&cmp.dir, &cmp.file, &cmp.out);
    let run_out = dir.path().join("run");
    let ok = surge()
        .arg("run")
        .arg(file)
        .args(["--reps", "3", "--quiet", "--out"])
        .arg(&run_out)
        .assert();
    assert!(ok.get_output().status.success());
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(run_out.join("summary.json")).unwrap())
            .unwrap();
    let doc = read_json(&out.join("compare.json"));
    let base = variant(&doc, "baseline");
    let run_reps = run["replications"].as_array().unwrap();
    let cmp_reps = base["replications"].as_array().unwrap();
    assert_eq!(run_reps.len(), 3);
    assert_eq!(cmp_reps.len(), 3);
    for (a, b) in run_reps.iter().zip(cmp_reps) {
        assert_eq!(
            crate::common::without_wall_clock(a.clone()),
            crate::common::without_wall_clock(b.clone())
        );
    }
    // Every variant ran the seeds of `run --reps 3`, replication by replication.
    let seeds: Vec<&Value> = run_reps.iter().map(|s| &s["seed"]).collect();
    for v in doc["variants"].as_array().unwrap() {
        let theirs: Vec<&Value> = v["replications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["seed"])
            .collect();
        assert_eq!(theirs, seeds, "variant {}", v["name"]);
    }
    // compare.csv: the same seeds in every variant's rows, and the same bytes with one thread.
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("variant,rep,seed,events,")
    );
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let rep: usize = f[1].parse().unwrap();
        assert_eq!(f[2], seeds[rep].to_string(), "{line}");
    }
    let one = dir.path().join("cmp1");
    run_compare(file, &one, &["--reps", "3", "--quiet", "--jobs", "1"]);
    assert_eq!(
        csv,
        std::fs::read_to_string(one.join("compare.csv")).unwrap()
    );
    assert!(std::fs::metadata(out.join("compare.png")).unwrap().len() > 1000);
    shows_the_comparison(&out.join("compare.svg"));
}

/// The chart of `MODEL`'s comparison over 3 replications: its title, axes and variants, and
/// the instance-hours bars, known exactly: 1, 4, 1 and 2 instances over half an hour.
fn shows_the_comparison(svg: &Path) {
    let chart = Chart::read(svg);
    let variants = ["baseline", "4 instances", "unchanged", "2 instances"];
    chart.assert_shows(&[
        "compare-test: 4 variants, 3 replications each on the same seeds",
        "success rate over a 5 min window (mean over the replications)",
        "time since start",
        "success rate",
        "down below 50%",
        "downtime (min)",
        "p95 latency (s)",
        "web: instance-hours",
    ]);
    chart.assert_shows(&variants);
    let panel = chart.panel("web: instance-hours", &[]);
    let names: Vec<&str> = (panel.0.iter())
        .filter_map(|e| match e {
            Element::Text { content, .. } if variants.contains(&content.as_str()) => {
                Some(content.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(names, variants, "one row per variant, in order");
    let to_hours = panel.x_scale(parse_tick);
    let bars = panel.bars();
    assert_eq!(bars.len(), 4, "{bars:?}");
    for ((left, right, _), want) in bars.iter().zip([0.5, 2.0, 0.5, 1.0]) {
        let got = to_hours(*right) - to_hours(*left);
        assert!(
            (got - want).abs() < 0.02,
            "a bar of {got} instance-hours, want {want}"
        );
    }
}

#[test]
fn a_variant_that_changes_nothing_differs_by_exactly_zero_and_ranking_is_known() {
    let cmp = compare_in_temp(MODEL, &["--reps", "3"]);
    let table = String::from_utf8_lossy(&cmp.output.stdout).to_string();
    let doc = read_json(&cmp.out.join("compare.json"));
    let same = variant(&doc, "unchanged");
    let mut checked = 0;
    for k in same["key"].as_array().unwrap() {
        let d = &k["difference"];
        if d["pairs"].as_u64().unwrap() > 0 {
            assert_eq!(d["estimate"]["mean"].as_f64(), Some(0.0), "{k}");
            assert_eq!(d["estimate"]["ci95"].as_f64(), Some(0.0), "{k}");
            checked += 1;
        }
    }
    assert!(checked >= 3, "{same}");
    // One instance is down throughout (Erlang B loses 8/13); four never go down.
    let down = |name: &str| {
        let v = variant(&doc, name);
        let k = v["key"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["key"] == "outage.downtime_s")
            .unwrap();
        (
            k["estimate"]["mean"].as_f64().unwrap(),
            v["outage"]["with_outage"].as_u64().unwrap(),
        )
    };
    assert_eq!(down("4 instances"), (0.0, 0));
    assert_eq!(down("baseline").1, 3);
    assert!(down("baseline").0 > 20.0 * 60.0, "{:?}", down("baseline"));
    // The table ranks by downtime: 4 instances first, and says what its columns measure.
    let rows: Vec<&str> = table.lines().collect();
    let first = rows.iter().position(|l| l.starts_with("1 ")).unwrap();
    assert!(rows[first].contains("4 instances"), "{table}");
    assert!(
        table.contains("downtime: time down per replication"),
        "{table}"
    );
    let base_rank = rows.iter().find(|l| l.contains("baseline")).unwrap();
    assert!(!base_rank.starts_with("1 "), "{table}");
}

#[test]
fn bad_variant_keys_exit_2_naming_the_variant() {
    let dir = tempfile::tempdir().unwrap();
    let bad = MODEL.replace(
        "set = { \"tier.web.instances\" = 4 }",
        "set = { \"tier.web.instanses\" = 4 }",
    );
    let file = write_model(dir.path(), &bad);
    let out = dir.path().join("cmp");
    let assert = surge()
        .arg("compare")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("4 instances"), "{err}");
    assert!(err.contains("tier.web.instanses"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.join("compare.json").exists());

    // On the command line: a bad value, and a malformed variant.
    let good = write_model(dir.path(), MODEL);
    for (arg, want) in [
        ("wide:tier.web.threads=-3", "wide"),
        ("wide:tier.wbe.threads=3", "did you mean `web`"),
        ("no-colon", "NAME:KEY=VALUE"),
        ("baseline:tier.web.threads=3", "baseline"),
    ] {
        let assert = surge()
            .arg("compare")
            .arg(&good)
            .args(["--variant", arg, "--out"])
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(err.contains(want), "--variant {arg}: {err}");
    }
    assert!(!out.join("compare.json").exists());
}

#[test]
fn check_loads_every_variant_and_refuses_a_bad_key_in_one() {
    // A misspelt key in a [[variant]] used to pass `surge check` and `surge run`, and fail only
    // at `surge compare`.
    let dir = tempfile::tempdir().unwrap();
    let model = "[scenario]\nduration = \"10m\"\n[[source]]\nname = \"api\"\nkind = \"requests\"\n\
                 rate = 5\n[[tier]]\nname = \"web\"\ninstances = 1\nthreads = 4\n\
                 service = { dist = \"exponential\", mean = \"100ms\" }\n\
                 [[variant]]\nname = \"two\"\nset = { \"tier.web.instances\" = 2 }\n\
                 [[variant]]\nname = \"typo\"\nset = { \"tier.web.instancs\" = 3 }\n";
    let file = crate::common::write_file(dir.path(), "model.toml", model);
    let o = crate::common::check_output(&file, &[]);
    crate::common::assert_bad_input(
        &o,
        &[
            "variant \"typo\"",
            "unknown key `instancs`",
            "did you mean `instances`",
        ],
    );
    let good = model.replace("instancs", "instances");
    let file = crate::common::write_file(dir.path(), "model.toml", &good);
    let out = crate::common::check_ok(&file);
    assert!(
        out.contains("variants: two, typo (each loads and checks"),
        "{out}"
    );
}
