//! Sweeps beyond one machine and beyond one try: shards run separately (by `--shard`, by the
//! Slurm, Kubernetes and AWS Batch job-array variables) and merged give the single-machine
//! sweep byte for byte; `merge` refuses shards of different sweeps, missing shards and
//! conflicting duplicates; a sweep or shard killed midway (SIGKILL or Ctrl-C) resumes without
//! redoing its finished runs and ends with the same `points.csv` as an uninterrupted one.

use crate::common::{assert_bad_input, assert_success, mmck, stderr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The job-array variables, removed from every child so that the tests do not depend on
/// whether they themselves run inside a job array.
const ARRAY_VARS: &[&str] = &[
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_CPUS_PER_TASK",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
    "AWS_BATCH_JOB_ARRAY_SIZE",
];

/// `surge sweep models/mmck.toml` over 5 thread counts, 2 replications, 5 simulated minutes.
const SWEEP: &[&str] = &[
    "--vary",
    "tier.server.threads=8..12:1",
    "--reps",
    "2",
    "--set",
    "scenario.duration=5m",
];

/// The surge binary with a clean job-array environment.
fn surge(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_surge"));
    for v in ARRAY_VARS {
        c.env_remove(v);
    }
    c.args(args).envs(env.iter().copied());
    c
}

fn sweep(out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let model = mmck();
    let mut args = vec!["sweep", model.to_str().unwrap()];
    args.extend(SWEEP);
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    let o = surge(&args, env).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn merge(dirs: &[&Path], out: &Path) -> Output {
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
    args.extend(["--out", out.to_str().unwrap(), "--quiet"]);
    surge(&args, &[]).output().unwrap()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The sweep in `dir` wrote the same `points.csv` as the one in `whole`, byte for byte.
fn assert_same_points(dir: &Path, whole: &Path) {
    assert_eq!(
        read(&dir.join("points.csv")),
        read(&whole.join("points.csv"))
    );
}

/// ... and the same `sweep.json`.
fn assert_same_sweep(dir: &Path, whole: &Path) {
    assert_same_points(dir, whole);
    assert_eq!(
        read(&dir.join("sweep.json")),
        read(&whole.join("sweep.json"))
    );
}

#[test]
fn shards_from_the_flag_and_job_arrays_merge_into_the_single_machine_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    sweep(&whole, &["--quiet"], &[]);

    // Three shards, each told its share another way, all writing to one shared folder.
    let shared = dir.path().join("shared");
    sweep(&shared, &["--shard", "0/3", "--quiet"], &[]);
    let slurm = sweep(
        &shared,
        &[],
        &[
            ("SLURM_ARRAY_TASK_ID", "11"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_CPUS_PER_TASK", "1"),
        ],
    );
    let said = stderr(&slurm);
    assert!(said.contains("shard 1 of 3"), "{said}");
    assert!(said.contains("on 1 thread (SLURM_CPUS_PER_TASK)"), "{said}");
    sweep(
        &shared,
        &["--shards", "3", "--quiet"],
        &[("JOB_COMPLETION_INDEX", "2")],
    );
    for i in 0..3 {
        for ext in ["csv", "json"] {
            assert!(shared.join(format!("shard-000{i}-of-0003.{ext}")).is_file());
        }
    }
    assert!(
        std::fs::read_dir(&shared).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial")),
        "the journals are removed once a shard is done"
    );
    // A shard's CSV has the header of points.csv and its own points only (p mod 3 = 1).
    let shard1 = String::from_utf8(read(&shared.join("shard-0001-of-0003.csv"))).unwrap();
    let whole_csv = String::from_utf8(read(&whole.join("points.csv"))).unwrap();
    assert_eq!(shard1.lines().next(), whole_csv.lines().next());
    let points: Vec<&str> = shard1
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(points, ["1", "1", "4", "4"]);

    let merged = dir.path().join("merged");
    let o = merge(&[&shared], &merged);
    assert_success(&o);
    assert_same_sweep(&merged, &whole);
    assert!(merged.join("sweep.png").exists());
    // The merged chart draws every point of the grid, not only one shard's.
    crate::svg::Chart::read(&merged.join("sweep.svg")).assert_shows(&[
        "outage probability",
        "tier.server.threads",
        "8",
        "12",
    ]);

    // AWS Batch, two shards in two folders (each node its own disk), merged into the first.
    let (a0, a1) = (dir.path().join("aws0"), dir.path().join("aws1"));
    for (i, out) in [("0", &a0), ("1", &a1)] {
        sweep(
            out,
            &["--quiet"],
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", i),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "2"),
            ],
        );
    }
    let o = surge(
        &[
            "merge",
            a0.to_str().unwrap(),
            a1.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    )
    .output()
    .unwrap();
    assert_success(&o);
    assert_same_sweep(&a0, &whole);
}

#[test]
fn merge_refuses_mixed_missing_and_conflicting_shards() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all");
    for i in 0..3 {
        sweep(&all, &["--shard", &format!("{i}/3"), "--quiet"], &[]);
    }
    let copy = |to: &Path, shard: u32| {
        std::fs::create_dir_all(to).unwrap();
        for ext in ["csv", "json"] {
            let name = format!("shard-000{shard}-of-0003.{ext}");
            std::fs::copy(all.join(&name), to.join(&name)).unwrap();
        }
    };

    // One missing.
    let partial = dir.path().join("partial");
    copy(&partial, 0);
    copy(&partial, 2);
    let o = merge(&[&partial], &dir.path().join("m1"));
    assert_bad_input(&o, &["3 shards", "1 of them", "missing", "shard 1"]);
    assert!(!dir.path().join("m1/points.csv").exists());

    // A copy with the same bytes (a re-run pod) is harmless.
    let again = dir.path().join("again");
    copy(&again, 1);
    let o = merge(&[&all, &again], &dir.path().join("m2"));
    assert_success(&o);

    // Two different results for one shard are not.
    let forged = dir.path().join("forged");
    copy(&forged, 1);
    let csv = forged.join("shard-0001-of-0003.csv");
    let text = String::from_utf8(read(&csv)).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let last = lines.len() - 1;
    lines[last] = lines[last].replacen(",0.", ",1.", 1);
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    let o = merge(&[&all, &forged], &dir.path().join("m3"));
    assert_bad_input(
        &o,
        &["conflicting", "shard 1 of 3", "shard-0001-of-0003.csv"],
    );

    // A shard of another sweep (another --set: another model hash).
    let other = dir.path().join("other");
    sweep(
        &other,
        &["--shard", "1/3", "--set", "tier.server.queue=12", "--quiet"],
        &[],
    );
    copy(&partial, 0);
    let o = merge(&[&partial, &other], &dir.path().join("m4"));
    assert_bad_input(&o, &["different sweeps", "model hash"]);

    // An empty folder.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = merge(&[&empty], &dir.path().join("m5"));
    assert_bad_input(&o, &["no shard files"]);
}

#[test]
fn bad_shards_are_input_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let model = mmck();
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["sweep", model.to_str().unwrap()];
        args.extend(SWEEP);
        args.extend(["--out", out.to_str().unwrap(), "--quiet"]);
        args.extend(extra);
        surge(&args, env).output().unwrap()
    };
    assert_bad_input(
        &run(&["--shard", "3/3"], &[]),
        &["--shard 3/3", "not below"],
    );
    assert_bad_input(&run(&["--shard", "0/0"], &[]), &["--shard 0/0", "0"]);
    assert_bad_input(&run(&["--shard", "two/3"], &[]), &["`two`", "I/N"]);
    assert_bad_input(
        &run(&["--shard", "0/6"], &[]),
        &["6 shards", "5 points", "--count-points"],
    );
    assert_bad_input(
        &run(
            &[],
            &[
                ("SLURM_ARRAY_TASK_ID", "x1"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
        ),
        &["SLURM_ARRAY_TASK_ID=`x1`", "not a whole number"],
    );
    assert_bad_input(
        &run(&[], &[("JOB_COMPLETION_INDEX", "1")]),
        &["JOB_COMPLETION_INDEX=1", "--shards N"],
    );
    assert_bad_input(
        &run(&["--shards", "3"], &[("JOB_COMPLETION_INDEX", "3")]),
        &["JOB_COMPLETION_INDEX=3", "not below"],
    );
    assert_bad_input(
        &run(
            &[],
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", "0"),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "0"),
            ],
        ),
        &["AWS_BATCH_JOB_ARRAY_INDEX=0", "0"],
    );
    assert!(!out.exists(), "nothing is written for bad input");
}

#[test]
fn points_are_listed_and_counted_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let model = mmck();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            model.to_str().unwrap(),
            "--vary",
            "tier.server.threads=8,10",
            "--vary",
            "surge.peak=1,1.5,2",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = surge(&args, &[]).output().unwrap();
        assert_success(&o);
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(run(&["--count-points"]), "6\n");
    assert_eq!(
        run(&["--list-points"]),
        "0 tier.server.threads=8 surge.peak=1\n\
         1 tier.server.threads=8 surge.peak=1.5\n\
         2 tier.server.threads=8 surge.peak=2\n\
         3 tier.server.threads=10 surge.peak=1\n\
         4 tier.server.threads=10 surge.peak=1.5\n\
         5 tier.server.threads=10 surge.peak=2\n"
    );
    assert_eq!(
        run(&["--list-points", "--shard", "1/4"]),
        "1 tier.server.threads=8 surge.peak=1.5\n5 tier.server.threads=10 surge.peak=2\n"
    );
    assert!(!out.exists(), "listing runs nothing and writes nothing");
}

/// The slow sweep of the interruption tests: 4 points x 3 replications of about 0.1 s each.
const SLOW: &[&str] = &[
    "--vary",
    "tier.server.threads=8..11:1",
    "--reps",
    "3",
    "--set",
    "scenario.duration=2h",
];

fn slow_args<'a>(model: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["sweep", model.to_str().unwrap()];
    args.extend(SLOW);
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    args
}

/// The slow sweep run whole, uninterrupted, into `dir/whole`: what an interrupted one must end as.
fn slow_whole(dir: &Path, model: &Path) -> PathBuf {
    let whole = dir.join("whole");
    let o = surge(&slow_args(model, &whole, &["--quiet"]), &[])
        .output()
        .unwrap();
    assert_success(&o);
    whole
}

/// Whole rows in a journal (header and first line aside; a torn last row does not count).
fn journal_rows(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(2)
}

/// Start a slow sweep, wait until its journal holds `rows` runs, then stop it with `signal`
/// ("KILL" or "INT", then a second INT); return its output and the rows journaled.
fn interrupt(args: &[&str], journal: &Path, rows: usize, signal: &str) -> (Output, usize) {
    let mut child = surge(args, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while journal_rows(journal) < rows {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the journal never reached {rows} rows"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    if signal == "KILL" {
        child.kill().unwrap();
    } else {
        let pid = child.id().to_string();
        let kill = |sig: &str| {
            let s = Command::new("kill").args([sig, &pid]).status().unwrap();
            assert!(s.success());
        };
        kill("-INT");
        // The first Ctrl-C lets the run in progress finish; a second stops at once.
        std::thread::sleep(Duration::from_millis(50));
        let _ = Command::new("kill").args(["-INT", &pid]).status();
    }
    let out = child.wait_with_output().unwrap();
    (out, journal_rows(journal))
}

/// The `resuming: K of N runs already done` line.
fn resumed(o: &Output) -> (usize, usize) {
    let err = stderr(o);
    let line = err
        .lines()
        .find(|l| l.starts_with("resuming: "))
        .unwrap_or_else(|| panic!("no resuming line in: {err}"));
    let w: Vec<&str> = line.split_whitespace().collect();
    (w[1].parse().unwrap(), w[3].parse().unwrap())
}

#[test]
fn a_killed_sweep_resumes_without_redoing_its_finished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let model = mmck();
    let whole = slow_whole(dir.path(), &model);

    // SIGKILL midway: the journal holds every finished run.
    let out = dir.path().join("killed");
    let journal = out.join("points.partial.csv");
    let (o, kept) = interrupt(
        &slow_args(&model, &out, &["--jobs", "1", "--quiet"]),
        &journal,
        3,
        "KILL",
    );
    assert!(!o.status.success());
    assert!((3..12).contains(&kept), "{kept} runs journaled");
    assert!(!out.join("points.csv").exists(), "no final output yet");
    let o = surge(&slow_args(&model, &out, &["--resume"]), &[])
        .output()
        .unwrap();
    assert_success(&o);
    assert_eq!(
        resumed(&o),
        (kept, 12),
        "resume reruns none of the finished runs"
    );
    assert_same_sweep(&out, &whole);
    assert!(!journal.exists(), "the journal goes once the sweep is done");
    // Resuming a finished sweep does nothing.
    let o = surge(&slow_args(&model, &out, &["--resume"]), &[])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(stderr(&o).contains("already complete"), "{}", stderr(&o));

    // Ctrl-C (twice): exit code 130, a line that says how to resume, the journal kept.
    let out = dir.path().join("ctrl-c");
    let journal = out.join("points.partial.csv");
    let (o, kept) = interrupt(
        &slow_args(&model, &out, &["--jobs", "1", "--quiet"]),
        &journal,
        2,
        "INT",
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    assert!((2..12).contains(&kept), "{kept} runs journaled");
    // A resume with another model is refused, and keeps the journal.
    let o = surge(
        &slow_args(
            &model,
            &out,
            &["--resume", "--set", "tier.server.queue=11", "--quiet"],
        ),
        &[],
    )
    .output()
    .unwrap();
    assert_bad_input(&o, &["journal of another sweep", "model_hash"]);
    assert_eq!(journal_rows(&journal), kept);
    let o = surge(&slow_args(&model, &out, &["--resume", "--jobs", "2"]), &[])
        .output()
        .unwrap();
    assert_success(&o);
    assert_eq!(resumed(&o), (kept, 12));
    assert_same_points(&out, &whole);
}

#[test]
fn a_killed_shard_resumes_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let model = mmck();
    let whole = slow_whole(dir.path(), &model);

    let shared = dir.path().join("shared");
    let o = surge(
        &slow_args(&model, &shared, &["--shard", "0/2", "--quiet"]),
        &[],
    )
    .output()
    .unwrap();
    assert_success(&o);
    // Shard 1 of 2 (points 1 and 3, 6 runs) as Slurm task 1, killed midway and requeued.
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
    ];
    let journal = shared.join("shard-0001-of-0002.partial.csv");
    let args = slow_args(&model, &shared, &["--jobs", "1", "--quiet"]);
    let mut child = surge(&args, &slurm).spawn().unwrap();
    let start = Instant::now();
    while journal_rows(&journal) < 2 {
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = journal_rows(&journal);
    assert!((2..6).contains(&kept), "{kept} runs journaled");
    let o = surge(&slow_args(&model, &shared, &["--resume"]), &slurm)
        .output()
        .unwrap();
    assert_success(&o);
    assert_eq!(resumed(&o), (kept, 6));
    let merged = dir.path().join("merged");
    let o = merge(&[&shared], &merged);
    assert_success(&o);
    assert_same_points(&merged, &whole);
}

/// The shards of one sweep share a folder, as a job array writes them: each locks only its own
/// files, so they run side by side (while the folder's lock would refuse the second), and a
/// shard whose lock another process holds is refused, with nothing of it written.
#[test]
fn shards_run_side_by_side_in_one_folder() {
    use fs4::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let model = mmck();
    let args = |shard: &'static str| {
        let mut a = vec!["sweep", model.to_str().unwrap()];
        a.extend(SWEEP);
        a.extend(["--out", out.to_str().unwrap(), "--quiet", "--shard", shard]);
        surge(&a, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Another command is running shard 1 (this test holds its lock, as that command would).
    let held = std::fs::File::create(out.join(".shard-0001-of-0002.lock")).unwrap();
    FileExt::try_lock(&held).unwrap();
    let (a, again) = (args("0/2"), args("1/2"));
    let (a, again) = (
        a.wait_with_output().unwrap(),
        again.wait_with_output().unwrap(),
    );
    assert!(a.status.success(), "{a:?}");
    assert_bad_input(&again, &["another surge command is writing to it"]);
    assert!(out.join("shard-0000-of-0002.csv").exists());
    assert!(
        !out.join("shard-0001-of-0002.csv").exists(),
        "refused, nothing written"
    );
    // Once the other command has ended, the shard runs.
    drop(held);
    let b = args("1/2").wait_with_output().unwrap();
    assert!(b.status.success(), "{b:?}");
    assert!(out.join("shard-0001-of-0002.csv").exists());
}
