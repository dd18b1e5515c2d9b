//! What `surge run` tells a planner: a partial run says what it simulated and concludes nothing
//! about the rest; replicated outage figures are means with intervals; "lost" means rejected,
//! timed out or failed; the SLO figures; provenance; the output folder checked and locked.

use assert_cmd::Command;
use std::path::Path;

fn surge() -> Command {
    Command::cargo_bin("surge").unwrap()
}

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
