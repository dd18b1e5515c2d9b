//! The commands end to end: `surge` with no arguments, `surge run` outputs and their names,
//! `surge check` against `surge run`, `--set`, replications and determinism.

use crate::common::{
    assert_exact, assert_success, check_invariants, open_queue, read_json, run_file, run_model,
    surge,
};
use serde_json::Value;
use std::path::Path;

use crate::common::{repo_file as repo, without_wall_clock};

#[test]
fn check_agrees_with_run_on_the_mmck_model() {
    let text = crate::common::check_ok(&repo("models/mmck.toml"));
    assert!(text.contains("M/M/10/20"), "{text}");
    let predictions: Vec<(String, f64)> = text
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_string(), it.next()?.parse().ok()?))
        })
        .collect();
    assert!(predictions.len() >= 5, "{text}");
    let dir = tempfile::tempdir().unwrap();
    let s = run_file(&repo("models/mmck.toml"), dir.path(), &["--reps", "20"]);
    for (name, exact) in predictions {
        assert_exact(&s, &format!("tiers.0.{name}"), exact);
    }
}

#[test]
fn same_seed_same_results() {
    let model = open_queue(
        50.0,
        4,
        Some(5),
        "{ dist = \"lognormal\", mean = \"70ms\", cv = 2 }",
        "20m",
    );
    let a = without_wall_clock(run_model(&model, &["--seed", "5"]));
    let b = without_wall_clock(run_model(&model, &["--seed", "5"]));
    assert_eq!(a, b);
    let c = without_wall_clock(run_model(&model, &["--seed", "6"]));
    assert_ne!(a["requests"], c["requests"]);
    // Replications run in parallel but each has its own seed: the same summary every time, and
    // replication 0 is the plain run.
    let r1 = without_wall_clock(run_model(&model, &["--seed", "5", "--reps", "6"]));
    let r2 = without_wall_clock(run_model(&model, &["--seed", "5", "--reps", "6"]));
    assert_eq!(r1, r2);
    // Provenance (the command line) belongs to the file, not to a replication.
    let mut plain = a.clone();
    plain.as_object_mut().unwrap().remove("provenance");
    assert_eq!(r1["replications"][0], plain);
    assert_eq!(r1["replications"].as_array().unwrap().len(), 6);
}

#[test]
fn run_writes_the_documented_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // The election-night model at a tenth of its scale and a quarter of its night, with --set.
    let status = surge()
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .args([
            "--set",
            "source.canada.users=1530",
            "--set",
            "source.rest-of-world.users=170",
            "--set",
            "tier.web.instances=1",
            "--set",
            "tier.content.instances=1",
            "--set",
            "scenario.duration=6h",
        ])
        .output()
        .unwrap();
    assert_success(&status);
    let summary: Value = read_json(&out.join("summary.json"));
    check_invariants(&summary);
    for k in [
        "model",
        "seed",
        "sim_time_s",
        "wall_s",
        "events",
        "events_per_s",
        "requests",
        "latency_s",
        "peak_concurrent_users",
        "outage",
        "tiers",
    ] {
        assert!(summary.get(k).is_some(), "summary.json lacks `{k}`");
    }
    for k in [
        "crashed",
        "crash_time_s",
        "recovered",
        "recovery_time_s",
        "downtime_s",
        "episodes",
    ] {
        assert!(
            summary["outage"].get(k).is_some(),
            "summary.json lacks `outage.{k}`"
        );
    }
    for k in [
        "name",
        "utilization",
        "mean_in_system",
        "mean_queue_wait_s",
        "mean_response_s",
        "blocking_probability",
        "crashes",
    ] {
        assert!(
            summary["tiers"][0].get(k).is_some(),
            "summary.json lacks `tiers[].{k}`"
        );
    }
    assert_eq!(summary["sim_time_s"].as_f64(), Some(21_600.0));
    // The surge overloads the scaled-down site: requests are rejected.
    assert!(summary["requests"]["rejected"].as_u64().unwrap() > 0);
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with(
        "t_s,clock,users,offered,first_attempts,retries,succeeded,rejected,timed_out,failed,p50_s,p95_s,p99_s,\
         web.instances_up,web.busy_threads,web.queued,web.memory_max_bytes,\
         content.instances_up,content.busy_threads,content.queued,content.memory_max_bytes"
    ), "{header}");
    assert_eq!(csv.lines().count(), 1 + 360, "one row per 1-minute bucket");
    assert!(csv.lines().nth(1).unwrap().starts_with("0,18:00,"));
    for f in ["timeline.png", "timeline.svg"] {
        let len = std::fs::metadata(out.join(f)).unwrap().len();
        assert!(len > 10_000, "{f} is only {len} bytes");
    }
    // No temporary files are left behind.
    for e in std::fs::read_dir(&out).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(!name.contains("tmp"), "left over: {name}");
    }
}

#[test]
fn set_overrides_change_the_model() {
    let model = open_queue(
        50.0,
        10,
        None,
        "{ dist = \"exponential\", mean = \"100ms\" }",
        "10m",
    );
    let ten = run_model(&model, &[]);
    let five = run_model(&model, &["--set", "tier.server.threads=5"]);
    let u10 = ten["tiers"][0]["utilization"].as_f64().unwrap();
    let u5 = five["tiers"][0]["utilization"].as_f64().unwrap();
    assert!(
        (u5 / u10 - 2.0).abs() < 0.05,
        "halving threads doubles utilisation: {u10} -> {u5}"
    );
}

#[test]
fn bare_surge_runs_the_election_night_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = surge().current_dir(dir.path()).output().unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ircc-2016"), "{text}");
    assert!(text.contains("outputs/ircc-2016/run"), "{text}");
    let dir = dir.path().join("outputs/ircc-2016/run");
    let summary: Value = read_json(&dir.join("summary.json"));
    check_invariants(&summary);
    // 17,000 users at baseline, about 200,000 at the 12x peak.
    assert!(summary["requests"]["offered"].as_u64().unwrap() > 10_000_000);
    let users = summary["peak_concurrent_users"].as_f64().unwrap();
    assert!(
        (170_000.0..240_000.0).contains(&users),
        "peak users {users}"
    );
    // The night as it happened (t = 0 is 18:00): down between 22:30 and 23:30, flapping and
    // degraded for hours, healthy again between 07:30 and 09:30.
    let o = &summary["outage"];
    let crash = o["crash_time_s"].as_f64().expect("the site goes down");
    assert!(
        (4.5 * 3600.0..=5.5 * 3600.0).contains(&crash),
        "crash at {crash} s"
    );
    assert_eq!(o["recovered"].as_bool(), Some(true));
    let back = o["recovered_at_s"].as_f64().unwrap();
    assert!(
        (13.5 * 3600.0..=15.5 * 3600.0).contains(&back),
        "recovered at {back} s"
    );
    // Whether the site-level success rate climbs back over the threshold in between (two
    // episodes or one) depends on the seed; the servers flap in every run (crash count below).
    assert!(o["episodes"].as_u64().unwrap() >= 1, "{o}");
    assert!(
        o["downtime_s"].as_f64().unwrap() > 4.0 * 3600.0,
        "down for hours: {o}"
    );
    assert!(summary["tiers"][0]["crashes"].as_u64().unwrap() > 10);
    // The human summary tells it.
    assert!(text.contains("down at 22:"), "{text}");
    assert!(
        text.contains("users on the site; back within the SLO at 0"),
        "{text}"
    );
    for f in ["timeseries.csv", "timeline.png", "timeline.svg"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
}

#[test]
fn without_the_surge_the_election_night_site_is_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let status = surge()
        .args(["run", "--quiet", "--set", "surge.peak=1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&status);
    let summary: Value = read_json(&out.join("summary.json"));
    check_invariants(&summary);
    let r = &summary["requests"];
    let success = r["succeeded"].as_f64().unwrap() / r["offered"].as_f64().unwrap();
    assert!(success > 0.99, "success {success}");
    assert_eq!(summary["outage"]["crashed"].as_bool(), Some(false));
    assert_eq!(summary["tiers"][0]["crashes"].as_u64(), Some(0));
    assert!(summary["tiers"][0]["utilization"].as_f64().unwrap() < 0.2);
}

#[test]
fn bench_quick_prints_its_table_and_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = surge()
        .args(["bench", "--quick", "--repeat", "1", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    for row in [
        "hold model, 1000 pending events",
        "hold model, 100000 pending events",
        "M/M/c/K, 1 M arrivals",
        "fit: read 200 k log lines",
        "sweep of 4 runs, --jobs 2",
        "targets:",
        "M/M/c/K arrivals/s vs SimPy",
        "peak memory, 10x the horizon",
        "sweep speedup",
    ] {
        assert!(text.contains(row), "{row} missing from\n{text}");
    }
    let doc: Value = read_json(&json);
    let results = doc["results"].as_array().unwrap();
    // Two hold models, two M/M/c/K sizes, two log-reading sizes, two sweeps.
    assert_eq!(results.len(), 8);
    for r in results {
        assert!(r["events"].as_u64().unwrap() > 0, "{r}");
        assert!(r["wall_s_median"].as_f64().unwrap() > 0.0, "{r}");
    }
}

/// Durations read in the words people type, and `check` showing every one it read, so that a
/// bare `30000` meant as milliseconds is seen as 8 h 20 min.
#[test]
fn durations_in_words_and_check_shows_each_duration_read() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("words.toml");
    std::fs::write(
        &model,
        r#"[scenario]
duration = "1 hour 30 minutes"
warmup = "10 seconds"
bucket = "2 minutes"

[client]
timeout = 30000

[[source]]
kind = "requests"
rate = 5

[[tier]]
name = "web"
instances = 1
threads = 2
service = { dist = "exponential", mean = "500 milliseconds" }
restart = { after = "1.5 hours" }
"#,
    )
    .unwrap();
    let stdout = crate::common::check_ok(&model);
    assert!(stdout.contains("horizon 5400 s"), "{stdout}");
    let line = |key: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no line for {key} in:\n{stdout}"))
            .to_string()
    };
    assert!(line("scenario.duration").contains("1 h 30 min"), "{stdout}");
    assert!(line("scenario.warmup").contains("10 s"), "{stdout}");
    assert!(line("scenario.bucket").contains("2 min"), "{stdout}");
    assert!(line("tier.web.service.mean").contains("500 ms"), "{stdout}");
    assert!(
        line("tier.web.restart.after").contains("1 h 30 min"),
        "{stdout}"
    );
    let timeout = line("client.timeout");
    assert!(timeout.contains("8 h 20 min"), "{timeout}");
    assert!(timeout.contains("a bare number is seconds"), "{timeout}");
    assert!(timeout.contains("30000ms"), "{timeout}");
}

/// `surge check` on a trace takes the offered load from the trace (its mean and its busiest
/// bucket), not from the rate at the surge's hold; a surge does not scale a trace, and says so.
#[test]
fn check_reads_a_traces_load_from_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("buckets.csv"),
        "start,count\n0m,60\n1m,600\n2m,60\n3m,60\n4m,60\n",
    )
    .unwrap();
    let model = dir.path().join("trace.toml");
    std::fs::write(
        &model,
        r#"[scenario]
duration = "5m"
bucket = "1m"

[surge]
peak = 4
start = "3m"
ramp = "30s"

[[source]]
kind = "trace"
file = "buckets.csv"

[[tier]]
name = "web"
instances = 1
threads = 50
service = { dist = "deterministic", value = "10ms" }
"#,
    )
    .unwrap();
    let stdout = crate::common::check_ok(&model);
    // 840 arrivals over 300 s; the busiest minute has 600.
    assert!(
        stdout.contains("2.8/s on average over the horizon, 10.0/s in the busiest 1 min"),
        "{stdout}"
    );
    assert!(
        stdout.contains("surge.peak = 4 does not apply to trace sources"),
        "{stdout}"
    );
    // The tier sees the busiest minute: 10/s x 10 ms = 0.1 Erlangs.
    assert!(stdout.contains("0.1 at peak (0.2%)"), "{stdout}");
}

/// The guide (docs/guide.md, "Run it and read the answer") lists the columns of
/// `timeseries.csv` in order: they must be the header `surge run` writes (`TIER.` stands for
/// each tier's name, in the order listed per tier).
#[test]
fn the_guide_lists_the_timeseries_columns_in_order() {
    let readme = std::fs::read_to_string(repo("docs/guide.md")).unwrap();
    let marker = "columns, in order: ";
    let at = readme
        .find(marker)
        .expect("docs/guide.md lists the timeseries columns")
        + marker.len();
    let text = &readme[at..at + readme[at..].find(")").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("two.toml");
    std::fs::write(
        &model,
        "[scenario]\nduration = \"2m\"\n\n[[source]]\nkind = \"requests\"\nrate = 2\n\n\
[[tier]]\nname = \"front\"\ninstances = 1\nthreads = 2\nservice = { dist = \"exponential\", mean = \"10ms\" }\n\n\
[[tier]]\nname = \"db\"\ninstances = 1\nthreads = 2\nservice = { dist = \"exponential\", mean = \"10ms\" }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    surge()
        .arg("run")
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    // Expand the guide's list: a run of `TIER.x` names repeats for each tier.
    let names: Vec<&str> = text.split('`').skip(1).step_by(2).collect();
    let mut want = Vec::new();
    let mut i = 0;
    while i < names.len() {
        if names[i].starts_with("TIER.") {
            let j = (i..names.len())
                .find(|&j| !names[j].starts_with("TIER."))
                .unwrap_or(names.len());
            for tier in ["front", "db"] {
                for n in &names[i..j] {
                    want.push(n.replacen("TIER", tier, 1));
                }
            }
            i = j;
        } else {
            want.push(names[i].to_string());
            i += 1;
        }
    }
    assert_eq!(
        header, want,
        "docs/guide.md's timeseries columns are not the header"
    );
}

/// Every option of every command says what it does in `--help`.
#[test]
fn every_option_has_a_help_line() {
    for cmd in [
        "run",
        "check",
        "sweep",
        "crashpoint",
        "plot",
        "bench",
        "merge",
        "sensitivity",
        "new",
    ] {
        let out = surge().args([cmd, "-h"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = help.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            // An option starts a line near the margin; a wrapped help line that happens to
            // begin with "--" is indented as deep as the help column.
            if !t.starts_with('-') || l.len() - t.len() > 8 {
                continue;
            }
            // "--set <K=V>  Override ..." or the text on the next, more indented line.
            let same_line = t
                .split_once("  ")
                .is_some_and(|(_, h)| !h.trim().is_empty());
            let next_line = lines.get(i + 1).is_some_and(|n| {
                let nt = n.trim_start();
                !nt.is_empty() && !nt.starts_with('-') && n.len() - nt.len() > l.len() - t.len()
            });
            assert!(
                same_line || next_line,
                "`surge {cmd} -h`: `{}` has no help text:\n{help}",
                t.trim()
            );
        }
    }
}

/// Layers point one way: library code (everything but `src/commands/` and `src/main.rs`) never
/// calls into `commands`, and `src/cli.rs` holds the clap definitions only.
#[test]
fn library_code_never_calls_into_commands() {
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = repo("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut offenders = Vec::new();
    for f in all {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        // main.rs and api.rs (the facade a program embedding surge calls, `tests/it/layers.rs`'s
        // top layer) stand above the commands, whose settings they read.
        if rel.starts_with("commands/") || rel == "main.rs" || rel == "api.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("commands::") || code.contains("crate::commands") {
                offenders.push(format!("src/{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "library code calls into commands:\n{}",
        offenders.join("\n")
    );
}
