//! Helpers shared by the tests that interrupt, kill or resume surge (tests/it/faults_*.rs): a
//! surge process to signal, the rows of its journal, the crash-point search and the two-shard
//! sweep they interrupt. Not for plain runs: those go through `common`.

use crate::common::{assert_success, repo_file, surge};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The surge binary, stdout and stderr piped.
pub(crate) fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_surge"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The surge binary run to its end.
pub(crate) fn run(args: &[&str]) -> Output {
    spawn(args).wait_with_output().unwrap()
}

/// Whole rows in a journal (its first line and header aside).
pub(crate) fn rows(path: &Path) -> usize {
    std::fs::read(path)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(2)
}

/// Wait until `ready` holds (at most a minute).
pub(crate) fn wait_for(what: &str, ready: &dyn Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(60), "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Send `sig` (`-INT`, `-TERM`) to the child.
pub(crate) fn signal(child: &Child, sig: &str) {
    let s = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(s.success());
}

/// Run `args` until `journal` holds `n` rows, then kill it: the journal's lines.
pub(crate) fn journal_of_killed(args: &[&str], journal: &Path, n: usize) -> Vec<String> {
    let mut child = spawn(args);
    wait_for("journal rows", &|| rows(journal) >= n);
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The crash-point search these tests interrupt: `surge.peak` from 1 to 4 on the model in
/// `file` (`common::MEMORY_CRASH`) over 6 hours, one run at a time, into `out`.
pub(crate) fn crash_search_args<'a>(file: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "crashpoint",
        file,
        "--vary",
        "surge.peak=1..4",
        "--jobs",
        "1",
        "--set",
        "scenario.duration=6h",
        "--out",
        out,
    ]
}

/// A finished two-shard sweep of mmck in `dir` (shards 0 and 1 of 2).
pub(crate) fn two_shards(dir: &Path) {
    let mmck = repo_file("models/mmck.toml");
    for s in ["0/2", "1/2"] {
        let o = surge()
            .args([
                "sweep",
                mmck.to_str().unwrap(),
                "--vary",
                "tier.server.threads=8..11:1",
            ])
            .args([
                "--reps",
                "1",
                "--set",
                "scenario.duration=2m",
                "--quiet",
                "--shard",
                s,
            ])
            .arg("--out")
            .arg(dir)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .output()
            .unwrap();
        assert_success(&o);
    }
}
