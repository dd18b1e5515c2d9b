//! Shared helpers of the integration tests: run the `surge` binary on a model text, read its
//! `summary.json`, and check the invariants every run must satisfy (conservation of requests,
//! of users through a waiting room, and Little's law per tier).

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

mod invariants;
pub(crate) use invariants::check_invariants;

/// The `surge` binary built for these tests, with `RUST_BACKTRACE=1` so that a panic would show
/// its backtrace in stderr (where the tests look for one).
pub(crate) fn surge() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_surge"));
    cmd.env("RUST_BACKTRACE", "1").env_remove("RUST_LOG");
    cmd
}

/// The command succeeded; else fail with its stderr.
pub(crate) fn assert_success(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "surge failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `surge ARGS...`, which must succeed.
pub(crate) fn surge_ok(args: &[&str]) {
    assert_success(&surge().args(args).output().unwrap());
}

/// `surge COMMAND FILE ARGS... --out OUT`: its output, whatever its exit code.
pub(crate) fn surge_on(
    command: &str,
    file: &Path,
    args: &[&str],
    out: &Path,
) -> std::process::Output {
    surge()
        .arg(command)
        .arg(file)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// `surge plot DIR`, which must succeed; its stdout.
pub(crate) fn plot_ok(dir: &Path) -> String {
    let o = surge().arg("plot").arg(dir).output().unwrap();
    assert_success(&o);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `surge check ARGS... FILE`: its output, whatever its exit code.
pub(crate) fn check_output(file: &Path, args: &[&str]) -> std::process::Output {
    surge().arg("check").args(args).arg(file).output().unwrap()
}

/// `surge check FILE`, which must succeed; its stdout.
pub(crate) fn check_ok(file: &Path) -> String {
    let o = check_output(file, &[]);
    assert_success(&o);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The stderr of a finished command, as text.
pub(crate) fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Bad input: exit code 2, no panic, and a message holding every fragment.
pub(crate) fn assert_bad_input(o: &std::process::Output, fragments: &[&str]) {
    let err = refused(o, "");
    for f in fragments {
        assert!(err.contains(f), "`{f}` not in: {err}");
    }
}

/// A file of the repository, e.g. `models/mmck.toml`.
pub(crate) fn repo_file(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The M/M/c/K model of the repository, `models/mmck.toml`.
pub(crate) fn mmck() -> std::path::PathBuf {
    repo_file("models/mmck.toml")
}

/// A summary (or any document holding summaries) without the fields that measure the computer
/// rather than the model, at any depth.
pub(crate) fn without_wall_clock(mut v: Value) -> Value {
    wall_clock_fields(&mut v, None);
    v
}

/// The same document with those fields kept but their values replaced by `[wall clock]` (a
/// snapshot then still shows that they are there).
pub(crate) fn wall_clock_marked(mut v: Value) -> Value {
    wall_clock_fields(&mut v, Some("[wall clock]"));
    v
}

/// Write `text` as the file `name` in `dir`; its path.
/// A `[[tier]]` table: `name`, (instances, threads, queue), a service time of distribution
/// `dist`, mean `mean` (a duration) and coefficient of variation `cv`; one line of code, so
/// that the model texts built from it do not repeat the same six lines.
pub(crate) fn tier(
    name: &str,
    (n, threads, queue): (u32, u32, u32),
    dist: &str,
    mean: &str,
    cv: f64,
) -> String {
    format!(
        "[[tier]]\nname = \"{name}\"\ninstances = {n}\nthreads = {threads}\nqueue = {queue}\nservice = {{ dist = \"{dist}\", mean = \"{mean}\", cv = {cv:?} }}\n"
    )
}

pub(crate) fn write_file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    file
}

/// Remove every wall-clock field at any depth, or with `mark`, replace its value by it.
fn wall_clock_fields(v: &mut Value, mark: Option<&str>) {
    match v {
        Value::Object(m) => {
            for k in surge::metrics::summary::WALL_CLOCK_FIELDS {
                match (mark, m.get_mut(*k)) {
                    (Some(mark), Some(value)) => *value = Value::String(mark.into()),
                    (None, Some(_)) => drop(m.remove(*k)),
                    (_, None) => {}
                }
            }
            for (k, value) in m.iter_mut() {
                if !surge::metrics::summary::WALL_CLOCK_FIELDS.contains(&k.as_str()) {
                    wall_clock_fields(value, mark);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| wall_clock_fields(x, mark)),
        _ => {}
    }
}

/// A JSON file, parsed.
pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What `compare_in_temp` ran: the temp folder (removed when this is dropped), the model file
/// in it, the output folder and the command's output.
pub(crate) struct Compared {
    pub dir: tempfile::TempDir,
    pub file: std::path::PathBuf,
    pub out: std::path::PathBuf,
    pub output: std::process::Output,
}

/// `surge compare` on `model` (TOML text), written as `model.toml` in a new temp folder, with
/// `--out FOLDER/cmp` and `args`; checked to succeed.
pub(crate) fn compare_in_temp(model: &str, args: &[&str]) -> Compared {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "model.toml", model);
    let out = dir.path().join("cmp");
    let output = run_compare(&file, &out, args);
    Compared {
        dir,
        file,
        out,
        output,
    }
}

/// `surge compare FILE --out OUT ARGS`: its output, whatever the outcome.
pub(crate) fn compare_output(file: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    surge()
        .arg("compare")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

/// `surge compare FILE --out OUT ARGS`, checked to succeed: its output.
pub(crate) fn run_compare(file: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    let o = compare_output(file, out, args);
    assert_success(&o);
    o
}

/// The variant `name` of a `compare.json`.
pub(crate) fn variant<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no variant {name}"))
}

/// Run `surge run` on `model` (TOML text) with extra arguments; return `summary.json`.
pub(crate) fn run_model(model: &str, args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, model).unwrap();
    run_file(&file, dir.path(), args)
}

/// `surge run FILE --out DIR/out --quiet ARGS`: its output, whatever the outcome.
pub(crate) fn run_output(file: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    surge()
        .arg("run")
        .arg(file)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap()
}

/// Run `surge run FILE --out DIR/out --quiet ARGS` and return `summary.json`, checking invariants.
pub(crate) fn run_file(file: &Path, dir: &Path, args: &[&str]) -> Value {
    assert_success(&run_output(file, dir, args));
    let summary = read_json(&dir.join("out").join("summary.json"));
    check_invariants(&summary);
    summary
}

/// The number at a dotted path of object keys (`status_codes.403` is a key, not an index), or
/// fail naming the path.
pub(crate) fn num(v: &Value, path: &str) -> f64 {
    let mut at = v;
    for key in path.split('.') {
        at = &at[key];
    }
    at.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {at}"))
}

/// `got` lies within `tol` (absolute) of `want`; else fail naming `what`.
pub(crate) fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got} (want {want} +- {tol})"
    );
}

pub(crate) fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) => &v[i],
        Err(_) => &v[k],
    })
}

/// The exact value lies inside the simulator's 95% interval `ci95` widened by 3.29 / 1.96 (the
/// normal 99.9% over 95% ratio; with the Student t of 20 replications that is about a 99.7%
/// interval), and the 95% interval is narrower than 3% of the value (no passing by a wide
/// interval). Not 95%: the suite checks some thirty exact values, and at 95% each, about four
/// seeds in five would fail one of them by chance alone.
pub(crate) fn assert_exact(summary: &Value, path: &str, exact: f64) {
    let mean = at(summary, path)
        .as_f64()
        .unwrap_or_else(|| panic!("{path} missing"));
    let half = at(&summary["ci95"], path)
        .as_f64()
        .unwrap_or_else(|| panic!("ci95.{path} missing"));
    let wide = half * 3.29 / 1.96;
    assert!(
        (mean - exact).abs() <= wide,
        "{path}: exact {exact:.6} is outside the 99.9% interval {mean:.6} ± {wide:.6}"
    );
    assert!(
        half < 0.03 * exact.abs(),
        "{path}: the 95% interval ± {half:.6} is wider than 3% of {exact:.6}"
    );
    eprintln!(
        "{path}: exact {exact:.6}, simulated {mean:.6} ± {half:.6} ({:.2}%)",
        100.0 * half / exact.abs()
    );
}

/// A one-tier open model: Poisson arrivals at `rate`, `threads` servers, a service distribution.
pub(crate) fn open_queue(
    rate: f64,
    threads: u32,
    queue: Option<u32>,
    service: &str,
    duration: &str,
) -> String {
    let queue = queue.map(|q| format!("queue = {q}\n")).unwrap_or_default();
    format!(
        "[scenario]\nname = \"q\"\nduration = \"{duration}\"\nwarmup = \"30s\"\nseed = 11\nbucket = \"1m\"\n\n\
         [[source]]\nkind = \"requests\"\nrate = {rate}\n\n\
         [[tier]]\nname = \"server\"\ninstances = 1\nthreads = {threads}\n{queue}service = {service}\n"
    )
}

/// Like `run_model`, but keep the output folder (for `timeseries.csv`).
pub(crate) fn run_model_keep(model: &str, args: &[&str]) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, model).unwrap();
    let s = run_file(&file, dir.path(), args);
    (dir, s)
}

/// A column of `timeseries.csv` in a run's output folder (an empty cell is NaN).
pub(crate) fn column(dir: &Path, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(dir.join("out").join("timeseries.csv")).unwrap();
    (csv_column(&text, name).iter())
        .map(|x| x.parse().unwrap_or(f64::NAN))
        .collect()
}

/// The cells of the column `name` of a CSV text (no quoted commas), its header aside.
pub(crate) fn csv_column(csv: &str, name: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let k = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no column {name}: {header:?}"));
    lines
        .map(|l| l.split(',').nth(k).unwrap().to_string())
        .collect()
}

/// The whole number at a dotted path of a JSON document (`tiers.0.pool_timeouts`).
pub(crate) fn count(v: &Value, path: &str) -> u64 {
    at(v, path)
        .as_u64()
        .unwrap_or_else(|| panic!("{path} is not a count: {v}"))
}

/// Mean and 95% half-width over the replications of a quantity computed from each one.
pub(crate) fn over_reps(summary: &Value, f: impl Fn(&Value) -> f64) -> (f64, f64) {
    let xs: Vec<f64> = summary["replications"]
        .as_array()
        .expect("replications")
        .iter()
        .map(f)
        .collect();
    surge::analytic::mean_ci95(&xs)
}

/// The memory-crash model of the sweep and crash-point tests: one instance of c = 10 threads at
/// m = 10 req/s each (capacity c m = 100 req/s), base load l = 50 req/s, and a memory limit
/// reached once 200 requests are in it. A surge held for 30 minutes crashes it once the offered
/// load passes c m: the crash point in `surge.peak` is c m / l = 2.
pub(crate) const MEMORY_CRASH: &str = r#"
[scenario]
duration = "40m"
seed = 3
[surge]
start = "5m"
ramp = "0s"
hold = "30m"
decay = "0s"
[[source]]
kind = "requests"
rate = 50
[[tier]]
name = "app"
instances = 1
threads = 10
service = { dist = "exponential", mean = "100ms" }
[tier.memory]
base = "0"
per_request = "1MiB"
limit = "200MiB"
"#;

/// Write `MEMORY_CRASH` as `dir/model.toml` and run `surge COMMAND model.toml REST...` on it
/// (`args` is COMMAND then REST): its output, whatever the outcome.
pub(crate) fn memory_crash_output(dir: &Path, args: &[&str]) -> std::process::Output {
    let file = write_file(dir, "model.toml", MEMORY_CRASH);
    surge()
        .arg(args[0])
        .arg(&file)
        .args(&args[1..])
        .output()
        .unwrap()
}

/// `memory_crash_output`, checked to succeed.
pub(crate) fn run_memory_crash(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = memory_crash_output(dir, args);
    assert_success(&out);
    out
}

/// `surge run` on `model` (TOML text) written as `model.toml` in a new temp folder, with
/// `--out FOLDER/out` and `args`, checked to succeed: (the folder, stdout).
pub(crate) fn run_text(model: &str, args: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "model.toml", model);
    let out = surge()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(args)
        .output()
        .unwrap();
    assert_success(&out);
    (dir, String::from_utf8(out.stdout).unwrap())
}

/// The command was refused as bad input (exit code 2, no panic; `what` says which case, may be
/// empty): its stderr, for the caller's own checks on the message.
pub(crate) fn refused(o: &std::process::Output, what: &str) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    err
}

/// What a bad-input corpus would have said: stderr and stdout must not hold these (a panic, a
/// backtrace, a Rust type's name).
pub(crate) const FORBIDDEN: &[&str] = &["panicked", "backtrace", "struct Raw", "RUST_BACKTRACE"];

/// What is wrong with a refusal, as the bad-input corpora list it (empty when nothing): exit
/// code not 2, stderr not opening with `error: `, the file `file` not named, a fragment of
/// `expect` missing from `message` (stderr, perhaps with paths taken out), a `FORBIDDEN` word,
/// anything on stdout.
pub(crate) fn refusal_problems(
    o: &std::process::Output,
    file: &str,
    message: &str,
    expect: &[&str],
) -> Vec<String> {
    let err = stderr(o);
    let mut problems = Vec::new();
    if o.status.code() != Some(2) {
        problems.push(format!("exit code {:?}, expected 2", o.status.code()));
    }
    if !err.starts_with("error: ") {
        problems.push("stderr does not start with `error: `".to_string());
    }
    if !err.contains(file) {
        problems.push(format!("stderr does not name the file {file}"));
    }
    for fragment in expect {
        if !message.contains(fragment) {
            problems.push(format!("stderr lacks `{fragment}`"));
        }
    }
    let lower = message.to_lowercase();
    for bad in FORBIDDEN {
        if lower.contains(&bad.to_lowercase()) {
            problems.push(format!("stderr contains `{bad}`"));
        }
    }
    if !o.stdout.is_empty() {
        let out = String::from_utf8_lossy(&o.stdout);
        problems.push(format!("stdout is not empty: {out:?}"));
    }
    problems
}

/// The small site of the browser tests (tests/browser/small.toml), written into `dir`.
pub(crate) fn small_model(dir: &Path) -> std::path::PathBuf {
    write_file(dir, "small.toml", include_str!("../browser/small.toml"))
}

/// `surge compare` of the small site in `dir` against two app instances (2 replications), with
/// the check `outage.crashed==false` (the baseline fails it), into `out`.
pub(crate) fn small_compare(dir: &Path, out: &Path) -> std::process::Output {
    surge()
        .arg("compare")
        .arg(small_model(dir))
        .args([
            "--variant",
            "two:tier.app.instances=2",
            "--reps",
            "2",
            "--quiet",
        ])
        .args(["--assert", "outage.crashed==false", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

/// A summary's replications, or the summary itself when it is one run.
pub(crate) fn reps(s: &Value) -> Vec<&Value> {
    match s["replications"].as_array() {
        Some(r) => r.iter().collect(),
        None => vec![s],
    }
}
