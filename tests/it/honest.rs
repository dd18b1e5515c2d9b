//! What `surge run` tells a planner: a partial run says what it simulated and concludes nothing
//! about the rest; replicated outage figures are means with intervals; "lost" means rejected,
//! timed out or failed; the SLO figures; provenance; the output folder checked and locked.

use crate::common::surge;
use std::path::Path;

/// One server of capacity 20 req/s offered 10 req/s, with a surge from `surge_at` to `peak`x
/// lasting `hold` (then back over a minute), over `duration`.
fn surging(surge_at: &str, peak: f64, hold: &str, duration: &str) -> String {
    format!(
        "[scenario]\nname = \"surging\"\nduration = \"{duration}\"\nseed = 5\nbucket = \"1m\"\n\n\
         [surge]\npeak = {peak}\nstart = \"{surge_at}\"\nramp = \"1m\"\nhold = \"{hold}\"\ndecay = \"1m\"\n\n\
         [[source]]\nkind = \"requests\"\nrate = 10\n\n\
         [[tier]]\nname = \"server\"\ninstances = 1\nthreads = 2\nqueue = 5\n\
         service = {{ dist = \"exponential\", mean = \"100ms\" }}\n"
    )
}

/// Run `surge run` on model text in a fresh folder; return (folder, stdout).
fn run_text(model: &str, args: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, model).unwrap();
    let out = surge()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "surge run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, String::from_utf8(out.stdout).unwrap())
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).unwrap()).unwrap()
}

#[test]
fn a_partial_run_says_what_it_simulated_and_concludes_nothing_about_the_rest() {
    // The surge at 3 h would take the site down; the run stops long before it.
    let model = surging("3h", 10.0, "30m", "4h");
    let (_dir, text) = run_text(&model, &["--max-events", "20000"]);
    assert!(
        text.contains("stopped by --max-events"),
        "no bound named:\n{text}"
    );
    assert!(
        text.contains("simulated the first ") && text.contains(" of 4 h 0 min"),
        "the simulated span is not stated:\n{text}"
    );
    assert!(
        !text.contains("4 h 0 min simulated"),
        "the full horizon claimed as simulated:\n{text}"
    );
    assert!(
        !text.contains("stayed up"),
        "a conclusion about time not simulated:\n{text}"
    );
    assert!(
        text.contains("no outage in the simulated time")
            && text.contains("the surge starting at t = 3 h 0 min was not simulated"),
        "the unsimulated surge is not named:\n{text}"
    );
}

/// `surging` with a light base load (5 req/s against 20) and a short `slo.stable`, so that the
/// site recovers once the surge is over.
fn recovering(hold: &str, duration: &str) -> String {
    surging("20m", 10.0, hold, duration).replace("rate = 10", "rate = 5")
        + "\n[slo]\nstable = \"5m\"\n"
}

fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn replicated_outage_figures_are_means_over_replications() {
    let (dir, text) = run_text(&recovering("15m", "1h"), &["--reps", "4"]);
    let s = summary(dir.path());
    let reps = s["replications"].as_array().unwrap();
    assert!(reps.iter().all(|r| r["outage"]["crashed"] == true));
    let line = text
        .lines()
        .find(|l| l.starts_with("down "))
        .unwrap_or_else(|| panic!("no outage line:\n{text}"));
    assert!(
        line.starts_with("down in 4 of 4 replications, at t = ")
            && line.contains(" ± ")
            && line.contains("(mean, 95% interval)"),
        "the crash is not a mean with its interval over replications: {line}"
    );
    assert!(
        line.contains("(mean over the 4 recovered)") && !line.contains("not recovered"),
        "{line}"
    );
    // The mean crash time printed is the mean of the replications' crash times.
    let crash: Vec<f64> = reps
        .iter()
        .map(|r| r["outage"]["crash_time_s"].as_f64().unwrap())
        .collect();
    let mean_min = (crash.iter().sum::<f64>() / crash.len() as f64 / 60.0).round();
    assert!(
        line.contains(&format!("at t = {mean_min} min ±")),
        "mean crash at {mean_min} min not printed: {line}"
    );
}

#[test]
fn recovery_is_averaged_over_recovered_replications_only() {
    // The surge holds to the end: no replication recovers.
    let (_dir, text) = run_text(&recovering("5h", "50m"), &["--reps", "3"]);
    let line = text.lines().find(|l| l.starts_with("down ")).unwrap();
    assert!(
        line.contains("not recovered in 3 of 3 by the end") && !line.contains("back at"),
        "{line}"
    );
    assert!(
        line.contains("at least"),
        "downtime cut by the horizon not marked: {line}"
    );
}

#[test]
fn lost_means_rejected_timed_out_or_failed_on_every_line() {
    let (dir, text) = run_text(&recovering("15m", "1h"), &[]);
    let s = summary(dir.path());
    let r = &s["requests"];
    let n = |k: &str| r[k].as_u64().unwrap();
    let lost = n("rejected") + n("timed_out") + n("failed");
    let line = text.lines().find(|l| l.starts_with("down ")).unwrap();
    assert!(
        !line.contains("failed;") && !line.ends_with("requests failed"),
        "{line}"
    );
    assert!(
        line.ends_with(&format!(
            "{} requests lost (rejected, timed out or failed)",
            grouped(lost)
        )),
        "{line}"
    );
    let requests = text.lines().find(|l| l.starts_with("requests:")).unwrap();
    let share = 100.0 * lost as f64 / n("offered") as f64;
    assert!(
        requests.contains(&format!("{share:.1}% lost (")),
        "{requests}"
    );
}
