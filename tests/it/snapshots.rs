//! Snapshots of results for fixed seeds (`summary.json`, `timeseries.csv`) and of `surge check`'s
//! text, so that any change in what surge computes or prints shows up as a reviewed diff of the
//! `.snap` files in `tests/it/snapshots/`. Wall-clock fields (`WALL_CLOCK_FIELDS`) differ from run
//! to run and are redacted.
//!
//! When a change of results is intended, re-accept the snapshots and review the diff:
//!
//! ```text
//! INSTA_UPDATE=always cargo test --release --test it snapshots
//! git diff tests/it/snapshots/
//! ```
//!
//! (or `cargo insta test --release --test it -- snapshots` then `cargo insta review`, where
//! `cargo-insta` is installed). Without `INSTA_UPDATE=always` a mismatch fails the test and
//! leaves the new value beside the old one as a `.snap.new` file.

use crate::common::{read_json, surge, wall_clock_marked};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The repository root: models are named relative to it.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run `surge run MODEL --out DIR/out --quiet ARGS` from the repository root; return the output
/// folder (kept alive by the returned temporary directory).
fn run(model: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = surge()
        .current_dir(root())
        .args(["run", model, "--out"])
        .arg(&out)
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (dir, out)
}

/// `summary.json` of a run, with every wall-clock field (at any depth) replaced by a marker.
fn summary(out: &Path) -> Value {
    wall_clock_marked(read_json(&out.join("summary.json")))
}

/// The text `surge check MODEL` prints.
fn check(model: &str) -> String {
    let o = surge()
        .current_dir(root())
        .args(["check", model])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

const MMCK: &[&str] = &["--seed", "1", "--set", "scenario.duration=10m"];

#[test]
fn mmck_summary_and_timeseries() {
    let (_dir, out) = run("models/mmck.toml", MMCK);
    insta::assert_json_snapshot!("mmck_summary", summary(&out));
    let series = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    insta::assert_snapshot!("mmck_timeseries", series);
}

#[test]
fn mmck_three_replications_summary() {
    let mut args = MMCK.to_vec();
    args.extend(["--reps", "3"]);
    let (_dir, out) = run("models/mmck.toml", &args);
    insta::assert_json_snapshot!("mmck_reps3_summary", summary(&out));
}

/// A 30-minute slice of election night with the surge brought forward (from 1 min, at its peak
/// by 11 min): the web tier runs out of memory, crashes, restarts and is still down at the end,
/// so crashes, the outage interval and a censored recovery are all in the snapshot.
#[test]
fn ircc_2016_short_slice_summary() {
    let (_dir, out) = run(
        "models/ircc-2016.toml",
        &[
            "--seed",
            "7",
            "--set",
            "scenario.duration=30m",
            "--set",
            "surge.start=1m",
            "--set",
            "surge.ramp=10m",
        ],
    );
    let summary = summary(&out);
    assert_eq!(
        summary["outage"]["crashed"], true,
        "the slice must exercise the failure mechanics"
    );
    insta::assert_json_snapshot!("ircc_2016_slice_summary", summary);
}

#[test]
fn check_text_of_the_shipped_models() {
    insta::assert_snapshot!("check_mmck", check("models/mmck.toml"));
    insta::assert_snapshot!("check_ircc_2016", check("models/ircc-2016.toml"));
}
