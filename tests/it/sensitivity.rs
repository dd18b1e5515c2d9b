//! `surge sensitivity`: Morris elementary effects on common random numbers. A key that does not
//! touch the simulation has an effect of exactly 0; the key that drives the latency ranks first;
//! on an M/M/c queue the effect of the servers on the p95 latency has the sign and size the
//! Erlang C formula gives at the design's points; the result does not depend on --jobs; bad
//! input exits 2.

use serde_json::Value;
use std::path::Path;

use crate::common::{assert_bad_input, assert_success, read_json, surge, surge_on, write_file};

/// An M/M/c queue: 40 requests/s, 100 ms mean service, `threads` servers.
pub(crate) fn mmc(hours: u32) -> String {
    format!(
        "[scenario]\nname = \"mmc\"\nduration = \"{hours}h\"\nwarmup = \"2m\"\nseed = 5\n\
         bucket = \"1m\"\n\n[[source]]\nname = \"clients\"\nkind = \"requests\"\nrate = 40\n\n\
         [[tier]]\nname = \"server\"\ninstances = 1\nthreads = 6\n\
         service = {{ dist = \"exponential\", mean = \"100ms\" }}\n"
    )
}

/// `surge sensitivity MODEL ARGS --out OUT`, checked to succeed: its `sensitivity.json`.
fn screen(model: &Path, out: &Path, args: &[&str]) -> Value {
    assert_success(&surge_on("sensitivity", model, args, out));
    read_json(&out.join("sensitivity.json"))
}

fn key<'a>(doc: &'a Value, k: &str) -> &'a Value {
    doc["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["factor"]["key"] == k)
        .unwrap_or_else(|| panic!("{k} not ranked"))
}

fn metric_index(doc: &Value, key: &str) -> usize {
    doc["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|o| o["key"] == key)
        .unwrap()
}

#[test]
fn a_key_with_no_effect_gets_zero_and_the_driver_ranks_first() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "mmc.toml", &mmc(1));
    let out = dir.path().join("out");
    let doc = screen(
        &model,
        &out,
        &[
            "--vary",
            "tier.server.request_timeout=100s..200s",
            "--vary",
            "tier.server.threads=5..8",
            "--trajectories",
            "4",
            "--reps",
            "2",
        ],
    );
    // No request lasts 100 s: on the same seeds the timeout changes nothing, exactly.
    let idle = key(&doc, "tier.server.request_timeout");
    assert_eq!(idle["score"], 0.0);
    for e in idle["metrics"].as_array().unwrap() {
        assert_eq!(e["mu_star"], 0.0, "{e}");
        assert_eq!(e["sigma"], 0.0, "{e}");
    }
    // A 0 is "none measured in this design", with why, never a flat "no effect" (issue 29).
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("No effect measured in this design on any metric screened")
            && md.contains("another key may cap it")
            && md.contains("4 trajectories see few combinations"),
        "{md}"
    );
    assert!(md.contains("0: none measured in this design"), "{md}");
    assert!(!md.contains("no effect (0)"), "{md}");
    let p95 = metric_index(&doc, "latency_s.p95");
    let top = &doc["ranking"][0];
    assert_eq!(top["factor"]["key"], "tier.server.threads");
    assert_eq!(
        (top["rank"].as_u64(), top["score"].as_f64()),
        (Some(1), Some(1.0))
    );
    assert!(top["metrics"][p95]["mu"].as_f64().unwrap() < 0.0);
    assert_eq!(top["metrics"][p95]["effects"], 4);
    // Two keys, 4 trajectories: 3 points each, some shared; 2 replications of each.
    let points = doc["points"].as_array().unwrap().len() as u64;
    assert!(points <= 12);
    assert_eq!(doc["runs"].as_u64(), Some(points * 2));
    let csv = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("rank,key,lo,hi,score,outage.downtime_s.mu_star,"),
        "{header}"
    );
    assert!(header.ends_with(",effects,runs"), "{header}");
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("1,tier.server.threads,5,8,1,")
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("2,tier.server.request_timeout,100,200,0,")
    );
    for f in ["tornado.png", "tornado.svg", "report.html", "report.md"] {
        assert!(out.join(f).is_file(), "{f}");
    }
}

/// The p95 of the response time of M/M/c (40/s, 10/s per server, `c` servers): P(T > t) =
/// (1 - C) e^(-mu t) + C (mu e^(-th t) - th e^(-mu t)) / (mu - th), th = c mu - lambda, C the
/// Erlang C probability of waiting.
fn erlang_p95(c: u32) -> f64 {
    let (l, m) = (40.0_f64, 10.0_f64);
    let a = l / m;
    let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
    let s: f64 = (0..c).map(|k| a.powi(k as i32) / fact(k)).sum();
    let t = a.powi(c as i32) / fact(c) * f64::from(c) / (f64::from(c) - a);
    let cw = t / (s + t);
    let th = f64::from(c) * m - l;
    // With th = mu (c = 5 here) the sum of the two exponentials is an Erlang-2.
    let surv = |x: f64| {
        let waited = if (m - th).abs() < 1e-12 {
            (1.0 + m * x) * (-m * x).exp()
        } else {
            (m * (-th * x).exp() - th * (-m * x).exp()) / (m - th)
        };
        (1.0 - cw) * (-m * x).exp() + cw * waited
    };
    let (mut lo, mut hi) = (0.0, 100.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if surv(mid) > 0.05 { lo = mid } else { hi = mid }
    }
    lo
}

#[test]
fn servers_move_the_p95_as_erlang_c_says() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "mmc.toml", &mmc(2));
    let doc = screen(
        &model,
        &dir.path().join("out"),
        &[
            "--vary",
            "tier.server.threads=5..8",
            "--trajectories",
            "6",
            "--reps",
            "2",
        ],
    );
    let p95 = metric_index(&doc, "latency_s.p95");
    // Each point's p95 against the formula (the histogram keeps 3 significant digits).
    let points = doc["points"].as_array().unwrap();
    for p in points {
        let c = p["values"][0].as_f64().unwrap() as u32;
        let (got, want) = (p["means"][p95].as_f64().unwrap(), erlang_p95(c));
        assert!(
            (got - want).abs() < 0.04 * want,
            "c = {c}: p95 {got} s, Erlang {want} s"
        );
    }
    // The expected effect of each step (its two ends by the formula, over two thirds of the
    // range), averaged as the screening averages the measured ones.
    let steps = doc["steps"].as_array().unwrap();
    let expected: f64 = steps
        .iter()
        .map(|s| {
            let v = |i: &Value| {
                points[i.as_u64().unwrap() as usize]["values"][0]
                    .as_f64()
                    .unwrap()
            };
            let (a, b) = (v(&s["from"]), v(&s["to"]));
            (erlang_p95(b as u32) - erlang_p95(a as u32)) / ((b - a) / 3.0)
        })
        .sum::<f64>()
        / steps.len() as f64;
    let e = &key(&doc, "tier.server.threads")["metrics"][p95];
    let mu = e["mu"].as_f64().unwrap();
    assert!(expected < -0.03, "{expected}");
    assert!(
        (mu - expected).abs() < 0.2 * expected.abs() + 0.01,
        "measured mu {mu} s, Erlang C {expected} s"
    );
    assert_eq!(
        e["mu_star"].as_f64(),
        Some(-mu),
        "every step lowers the p95"
    );
}

#[test]
fn the_answer_does_not_depend_on_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "mmc.toml", &mmc(1));
    let args = |j: &'static str| {
        [
            "--vary",
            "tier.server.threads=5..8",
            "--vary",
            "source.clients.rate=30..40",
            "--trajectories",
            "3",
            "--reps",
            "2",
            "--jobs",
            j,
        ]
    };
    let one = screen(&model, &dir.path().join("j1"), &args("1"));
    let two = screen(&model, &dir.path().join("j2"), &args("2"));
    for field in ["ranking", "points", "steps", "runs"] {
        assert_eq!(one[field], two[field], "{field}");
    }
}

#[test]
fn bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "mmc.toml", &mmc(1));
    let run = |args: &[&str]| {
        surge()
            .arg("sensitivity")
            .arg(&model)
            .args(args)
            .arg("--out")
            .arg(dir.path().join("bad"))
            .output()
            .unwrap()
    };
    assert_bad_input(
        &run(&["--vary", "tier.server.threads=8..5"]),
        &["must go up"],
    );
    assert_bad_input(
        &run(&["--vary", "tier.nope.threads=1..4"]),
        &["--vary tier.nope.threads"],
    );
    assert_bad_input(
        &run(&[
            "--vary",
            "tier.server.threads=5..8",
            "--vary",
            "tier.server.threads=2..3",
        ]),
        &["given twice"],
    );
    assert_bad_input(
        &run(&["--vary", "tier.server.threads=5..8", "--levels", "3"]),
        &["--levels 3", "even"],
    );
    assert_bad_input(
        &run(&["--vary", "tier.server.threads=5.5..8"]),
        &["whole numbers"],
    );
    // A level between the ends refused by the model (with seed 2 the design loads the level
    // 1.0333333 of 0.1..1.5 first): named as a planner would write it, rounded and said so.
    let o = run(&[
        "--vary",
        "slo.outage_below=0.1..1.5",
        "--vary",
        "tier.server.threads=5..8",
        "--trajectories",
        "2",
        "--seed",
        "2",
    ]);
    assert_bad_input(
        &o,
        &[
            "(in --vary slo.outage_below, at the value 1.03 (rounded: level 3 of 4 on 0.1..1.5))",
            "got 1.03",
        ],
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("1.0333"));
    assert!(!dir.path().join("bad").join("sensitivity.json").exists());
}

#[test]
fn the_report_screens_after_the_crash_point() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "mmc.toml", &mmc(1));
    let out = dir.path().join("report");
    let o = surge()
        .arg("report")
        .arg(&model)
        .args([
            "--vary",
            "tier.server.threads=4..8",
            "--budget",
            "3m",
            "--quiet",
        ])
        .args(["--sensitivity", "tier.server.threads=5..8"])
        .args(["--sensitivity", "tier.server.request_timeout=100s..200s"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Sensitivity: Ranking"), "{md}");
    assert!(
        md.contains("tier.server.threads moves the outcome most"),
        "{md}"
    );
    assert!(md.contains("sensitivity/tornado.png"), "{md}");
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("sensitivity/sensitivity.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["reps"], 2);
    assert_eq!(key(&doc, "tier.server.request_timeout")["score"], 0.0);
    // A bad key is refused before anything runs.
    let o = surge()
        .arg("report")
        .arg(&model)
        .args(["--sensitivity", "tier.server.threads=8..5", "--out"])
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert_bad_input(&o, &["--sensitivity tier.server.threads=8..5"]);
}
