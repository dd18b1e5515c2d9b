//! Hostile input, round two (issue 27, items 1-8): inputs that panicked or exhausted memory must
//! exit 2 with a clear message (or work), refused before anything big is allocated: a
//! concurrency limit whose default bound crosses the other, an overloaded unbounded queue, a
//! nanosecond bucket, grids and runs past counting, merge manifests that claim a trillion
//! points, a million sources, a closed or full stdout, and `--jobs 4096`. Each size is made
//! small here: the guards are computed from the model, not found by allocating.

use crate::common::{assert_bad_input, assert_success, repo_file, stderr, surge, write_file};
use crate::journal_common::two_shards;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// An M/M/c-like model with one tier of 1 thread and a 1 s service, offered `rate` requests/s.
fn one_thread(rate: &str, duration: &str) -> String {
    format!(
        "[scenario]\nduration = \"{duration}\"\n[[source]]\nkind = \"requests\"\nrate = {rate}\n\
         [[tier]]\nname = \"web\"\ninstances = 1\nthreads = 1\n\
         service = {{ dist = \"deterministic\", value = \"1s\" }}\n"
    )
}

/// Item 1: the AIMD bounds of the corpus cases are refused by every command that loads a
/// model (the corpus itself checks `run`).
#[test]
fn a_concurrency_limit_with_crossed_bounds_is_refused_by_every_command() {
    let file = repo_file("tests/bad-models/faults-01-aimd-max-below-default-min.toml");
    let f = file.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    for args in [
        vec!["check", f],
        vec!["sweep", f, "--vary", "surge.peak=1,2", "--out", o, "-y"],
        vec![
            "compare",
            f,
            "--variant",
            "x:tier.web.threads=5",
            "--out",
            o,
        ],
        vec!["crashpoint", f, "--vary", "surge.peak=1..3", "--out", o],
        vec!["report", f, "--out", o],
    ] {
        let r = surge().args(&args).output().unwrap();
        assert_bad_input(
            &r,
            &[
                "min_limit (20, the default) is above max_limit (10)",
                "max_limit",
            ],
        );
    }
    assert!(!out.exists());
}

/// Item 2: 100,000 requests/s at a tier that serves 1 a second for 4 h would hold 1.4e9
/// requests (about 121 GiB): refused before it runs, naming the tier and a queue bound; the
/// suggested bound runs.
#[test]
fn an_overloaded_unbounded_queue_is_refused_before_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "over.toml", &one_thread("100000", "4h"));
    let out = dir.path().join("out");
    let started = Instant::now();
    for cmd in ["run", "compare"] {
        let mut c = surge();
        c.arg(cmd).arg(&file).arg("--out").arg(&out);
        if cmd == "compare" {
            c.args(["--variant", "x:tier.web.threads=2", "--reps", "2"]);
        }
        let o = c.output().unwrap();
        assert_bad_input(
            &o,
            &[
                "over.toml",
                "tier `web` would hold about 1.4e9 requests at once",
                "121 GiB",
                "--set tier.web.queue=100",
            ],
        );
    }
    let o = surge()
        .args([
            "sweep",
            file.to_str().unwrap(),
            "--vary",
            "tier.web.threads=1,2",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_bad_input(&o, &["tier `web` would hold about"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!out.exists());
    // The suggestion passes the guards and runs (bounded in wall time here: 4 h of it take
    // minutes), holding at most the 101 places of the tier.
    let o = surge()
        .args(["run", file.to_str().unwrap(), "--quiet", "--max-wall", "1s"])
        .args(["--set", "tier.web.queue=100", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let s = crate::common::read_json(&out.join("summary.json"));
    assert!(s["requests"]["in_flight"].as_u64().unwrap() <= 101, "{s}");
}

/// Item 2: a run that holds too many requests anyway is stopped at the cap, its results marked
/// partial (the cap is 20,000,000; set small here).
#[test]
fn a_run_that_holds_too_many_requests_stops_at_the_cap() {
    use surge::experiment::guard::Limits;
    let model =
        surge::model::parse_text(&one_thread("100000", "4h"), "m.toml", Path::new(".")).unwrap();
    let limits = Limits {
        max_held: Some(50_000),
        ..Limits::default()
    };
    let out = surge::experiment::run_bounded(&model, 1, &limits);
    let s = &out.summary;
    assert_eq!(s.ended_by, Some(surge::metrics::summary::EndedBy::MaxHeld));
    assert!(s.partial);
    let held = s.requests.in_flight;
    assert!((50_000..50_100).contains(&held), "{held} held");
    // About 0.5 s of arrivals at 100,000/s.
    let until = s.simulated_until_s.unwrap();
    assert!((0.45..0.55).contains(&until), "{until}");
}

/// Item 3: a 1 ns bucket keeps one latency histogram per bucket in the SLO window: refused (a
/// corpus case checks the message); the bucket the message suggests runs.
#[test]
fn the_bucket_a_window_refusal_suggests_runs() {
    let dir = tempfile::tempdir().unwrap();
    let model = "[scenario]\nduration = \"1ms\"\nbucket = \"1ns\"\n[[source]]\nkind = \"requests\"\n\
        rate = 100000\n[[tier]]\nname = \"web\"\ninstances = 1\nthreads = 4\n\
        service = { dist = \"exponential\", mean = \"10us\" }\n";
    let file = write_file(dir.path(), "m.toml", model);
    let o = crate::common::check_output(&file, &[]);
    assert_bad_input(&o, &["spans 1.0 M buckets of 1ns", "above 256 MiB"]);
    let err = stderr(&o);
    let at = err.find("bucket = \"").expect("a suggested bucket") + "bucket = \"".len();
    let suggested = &err[at..at + err[at..].find('"').unwrap()];
    assert_eq!(suggested, "168ns");
    let fixed = write_file(
        dir.path(),
        "fixed.toml",
        &model.replace("\"1ns\"", &format!("\"{suggested}\"")),
    );
    let o = surge()
        .arg("run")
        .arg(&fixed)
        .arg("--quiet")
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_success(&o);
}

/// Item 4: `--points` and grids are counted (checked) before anything is made.
#[test]
fn grids_past_counting_are_refused_before_they_are_made() {
    let mmck = repo_file("models/mmck.toml");
    let m = mmck.to_str().unwrap();
    let started = Instant::now();
    let o = surge()
        .args(["sweep", m, "--vary", "surge.peak=1..2", "--points"])
        .arg(u64::MAX.to_string())
        .arg("--count-points")
        .output()
        .unwrap();
    assert_bad_input(&o, &["--points 18446744073709551615 is too many values"]);
    let o = surge()
        .args(["sweep", m, "--count-points"])
        .args([
            "--vary",
            "surge.peak=1..100000:1",
            "--vary",
            "slo.success_rate=1..100000:1",
        ])
        .args(["--vary", "tier.server.threads=1..100000:1"])
        .output()
        .unwrap();
    assert_bad_input(&o, &["1000000000000000 points is too many for one sweep"]);
    let o = surge()
        .args([
            "sweep",
            m,
            "--vary",
            "surge.peak=1..20:1",
            "--reps",
            "100000",
            "-y",
        ])
        .output()
        .unwrap();
    assert_bad_input(&o, &["20 points x 100000 replications is 2000000 runs"]);
    // The count of runs is checked before a model is made for each point: 100,000 points whose
    // first is not even a valid model (0 threads) are refused for their runs, not for a point
    // (each point's model was loaded first, 600 MB and half a minute for 100,000).
    let o = surge()
        .args(["sweep", m, "--vary", "tier.server.threads=0..99999:1"])
        .args(["--reps", "100", "-y"])
        .output()
        .unwrap();
    assert_bad_input(&o, &["100000 points x 100 replications is 10000000 runs"]);
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Edit shard 0's manifest with `edit` and merge: the output.
fn merge_edited(
    edit: &dyn Fn(&mut serde_json::Value),
) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    two_shards(dir.path());
    let path = dir.path().join("shard-0000-of-0002.json");
    let mut doc = crate::common::read_json(&path);
    edit(&mut doc);
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    let o = surge()
        .arg("merge")
        .arg(dir.path())
        .arg("--quiet")
        .arg("--out")
        .arg(dir.path().join("merged"))
        .output()
        .unwrap();
    (dir, o)
}

/// Item 5: a manifest claiming 1e12 points is refused against its own grid, at once.
#[test]
fn a_merge_manifest_claiming_a_trillion_points_is_refused_before_allocating() {
    let started = Instant::now();
    let (_dir, o) = merge_edited(&|doc| doc["points"] = serde_json::json!(1_000_000_000_000u64));
    assert_bad_input(
        &o,
        &[
            "shard-0000-of-0002.json",
            "claims 1000000000000 points where its --vary values make 4",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// Item 6: a model of 100,000 `[[source]]` tables is refused at the 1,001st in one pass (the
/// parser took time quadratic in the count, and memory ran out at a million).
#[test]
fn a_hundred_thousand_sources_are_refused_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "[scenario]\nduration = \"10s\"\n[[tier]]\nname = \"web\"\ninstances = 1\nthreads = 4\n\
         service = { dist = \"exponential\", mean = \"10ms\" }\n",
    );
    for _ in 0..100_000 {
        text.push_str("[[source]]\nkind = \"requests\"\nrate = 0.001\n");
    }
    let file = write_file(dir.path(), "many.toml", &text);
    let started = Instant::now();
    let o = crate::common::check_output(&file, &[]);
    // The 1,001st source's header: 7 lines of scenario and tier, then 3 lines per source.
    assert_bad_input(
        &o,
        &["many.toml:3008:1", "a model has at most 1000 sources"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // A thousand load.
    let thousand: String = text
        .lines()
        .take(7 + 3 * 1000)
        .collect::<Vec<_>>()
        .join("\n");
    let file = write_file(dir.path(), "thousand.toml", &thousand);
    crate::common::check_ok(&file);
}

/// The surge binary as a plain `std::process::Command` (whose stdout can be any file).
fn plain() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_surge"));
    c.env("RUST_BACKTRACE", "1");
    c
}

/// The sweep of item 7: mmck, two points, two replications of 2 minutes, written to `out`.
fn small_sweep(out: &Path) -> std::process::Command {
    let mut c = plain();
    c.arg("sweep")
        .arg(repo_file("models/mmck.toml"))
        .args(["--vary", "surge.peak=1,2", "--reps", "2", "-y"])
        .args(["--set", "scenario.duration=2m", "--out"])
        .arg(out);
    c
}

/// Item 7: a closed pipe on stdout ends the printing quietly, and the sweep leaves its final
/// files without a journal beside them; a full device is an I/O error naming standard output.
#[test]
fn a_closed_or_full_stdout_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let mut child = small_sweep(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // `| head -0`
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(out.join("points.csv").exists());
    assert!(!out.join("points.partial.csv").exists());
    // `> /dev/full`: the files are written and the journal removed, then the error.
    let full = dir.path().join("full");
    let o = small_sweep(&full)
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
    assert_ne!(o.status.code(), Some(0));
    assert!(full.join("points.csv").exists());
    assert!(!full.join("points.partial.csv").exists());
    // `run` and `check` alike.
    let o = plain()
        .arg("check")
        .arg(repo_file("models/mmck.toml"))
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("cannot write to standard output"),
        "{}",
        stderr(&o)
    );
}

/// Item 8: `--jobs 4096` is capped at 4 per core, and says so.
#[test]
fn jobs_are_capped_at_four_per_core() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let o = small_sweep(&dir.path().join("s"))
        .args(["--jobs", "4096", "--quiet"])
        .output()
        .unwrap();
    assert_success(&o);
    assert!(
        stderr(&o).contains(&format!(
            "--jobs 4096 is more than 4 per core: running {} at once",
            4 * cores
        )),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}
