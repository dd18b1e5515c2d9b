//! What `surge run` tells a planner: a partial run says what it simulated and concludes nothing
//! about the rest; replicated outage figures are means with intervals; "lost" means rejected,
//! timed out or failed; the SLO figures; provenance; the output folder checked and locked.

use crate::common::{read_json, run_text, surge};
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

fn summary(dir: &Path) -> serde_json::Value {
    read_json(&dir.join("out/summary.json"))
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
        if i > 0 && (s.len() - i).is_multiple_of(3) {
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
        .find(|l| l.starts_with("outage by requests: down "))
        .unwrap_or_else(|| panic!("no outage line:\n{text}"));
    assert!(
        line.starts_with("outage by requests: down in 4 of 4 replications, at t = ")
            && (line.contains(" ± ") || line.contains("(all alike)"))
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
        // Every replication crashed in the same window here: "(all alike)", never "± 0 ms".
        line.contains(&format!("at t = {mean_min} min ±"))
            || line.contains(&format!("at t = {mean_min} min (all alike)")),
        "mean crash at {mean_min} min not printed: {line}"
    );
}

#[test]
fn recovery_is_averaged_over_recovered_replications_only() {
    // The surge holds to the end: no replication recovers.
    let (_dir, text) = run_text(&recovering("5h", "50m"), &["--reps", "3"]);
    let line = text
        .lines()
        .find(|l| l.starts_with("outage by requests: down "))
        .unwrap();
    assert!(
        line.contains("not recovered in 3 of 3: still down at the end")
            && !line.contains("back at"),
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
    let line = text
        .lines()
        .find(|l| l.starts_with("outage by requests: down "))
        .unwrap();
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
        requests.contains(&format!("{share:.1}% were lost (")),
        "{requests}"
    );
}

/// M/M/1/3 (one thread, two queue places) at rho = 0.5: a request is turned away with
/// probability P_3 = (1 - rho) rho^3 / (1 - rho^4) = 1/15, so the success rate is 14/15; against
/// a success target of 85% the error budget used is (1/15) / 0.15 = 4/9. The latency target of
/// 2 s and the margin of the window success rate over 85% (about 13 standard deviations for
/// 1,500 requests a window) make every window meet the SLO.
#[test]
fn the_slo_of_an_mm13_queue_is_exact() {
    let model = "[scenario]\nname = \"mm13\"\nduration = \"2h\"\nwarmup = \"1m\"\nseed = 3\nbucket = \"1m\"\n\n\
                 [[source]]\nkind = \"requests\"\nrate = 5\n\n\
                 [[tier]]\nname = \"server\"\ninstances = 1\nthreads = 1\nqueue = 2\n\
                 service = { dist = \"exponential\", mean = \"100ms\" }\n\n\
                 [slo]\nsuccess_rate = 0.85\nlatency = \"2s\"\n";
    let (dir, text) = run_text(model, &["--reps", "10"]);
    let s = summary(dir.path());
    let check = |key: &str, exact: f64| {
        let mean = s["slo"][key].as_f64().unwrap();
        let half = s["ci95"]["slo"][key].as_f64().unwrap();
        assert!(
            (mean - exact).abs() <= half && half < 0.03 * exact,
            "slo.{key}: exact {exact}, simulated {mean} ± {half}"
        );
    };
    check("success_rate", 14.0 / 15.0);
    check("error_budget_used", 4.0 / 9.0);
    for r in s["replications"].as_array().unwrap() {
        assert_eq!(r["slo"]["windows_met_share"], 1.0, "{}", r["slo"]);
        assert_eq!(r["slo"]["time_out_of_slo_s"], 0.0);
        assert_eq!(r["slo"]["broken"], false);
    }
    assert!(
        text.contains("100.0% (all alike) of windows met the SLO, 0 ms (all alike) out of it"),
        "{text}"
    );
}

#[test]
fn a_surge_breaks_the_slo_for_the_time_it_lasts() {
    let (dir, text) = run_text(&recovering("15m", "1h"), &[]);
    let s = summary(dir.path());
    let slo = &s["slo"];
    assert_eq!(slo["broken"], true);
    let out = slo["time_out_of_slo_s"].as_f64().unwrap();
    // At least the outage itself is out of SLO, and not the hour.
    let down = s["outage"]["downtime_s"].as_f64().unwrap();
    assert!(out >= down && out < 3600.0, "{slo} (down {down} s)");
    assert!(slo["error_budget_used"].as_f64().unwrap() > 1.0, "{slo}");
    assert!(text.contains("SLO (success rate at least 99.0%"), "{text}");
}

#[test]
fn a_sweep_can_count_slo_breaks_as_failures() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, recovering("15m", "40m")).unwrap();
    let out = dir.path().join("sweep");
    surge()
        .args(["sweep"])
        .arg(&file)
        .args([
            "--vary",
            "surge.peak=1,10",
            "--reps",
            "2",
            "--quiet",
            "--criterion",
            "slo",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let doc: serde_json::Value = read_json(&out.join("sweep.json"));
    assert_eq!(doc["criterion"], "slo");
    assert_eq!(doc["overrides"], serde_json::json!([]));
    let p = |i: usize| doc["points"][i]["mean"]["slo.broken"].as_f64().unwrap();
    assert_eq!((p(0), p(1)), (0.0, 1.0));
}

#[test]
fn provenance_is_recorded_and_the_saved_model_runs_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, recovering("15m", "40m")).unwrap();
    let saved = dir.path().join("saved.toml");
    let run = |model: &Path, out: &str, args: &[&str]| {
        surge()
            .arg("run")
            .arg(model)
            .args(["--quiet", "--seed", "9", "--out"])
            .arg(dir.path().join(out))
            .args(args)
            .assert()
            .success();
        let text = std::fs::read_to_string(dir.path().join(out).join("summary.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let saved_arg = saved.to_str().unwrap();
    let a = run(
        &file,
        "a",
        &["--set", "tier.server.threads=3", "--save-model", saved_arg],
    );
    let b = run(&saved, "b", &[]);
    let pa = &a["provenance"];
    assert_eq!(
        pa["overrides"],
        serde_json::json!(["tier.server.threads=3"])
    );
    assert_eq!(pa["surge_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        pa["command_line"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "--save-model")
    );
    assert_eq!(pa["model_hash"], b["provenance"]["model_hash"]);
    let strip = |mut v: serde_json::Value| {
        let m = v.as_object_mut().unwrap();
        for k in ["provenance", "wall_s", "events_per_s"] {
            m.remove(k);
        }
        v
    };
    assert_eq!(strip(a.clone()), strip(b));
    assert_eq!(a["tiers"][0]["threads"], 3);
    // Without the override the model differs, and so does its hash.
    let c = run(&file, "c", &[]);
    assert_ne!(c["provenance"]["model_hash"], pa["model_hash"]);
}

#[test]
fn run_is_silent_on_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, recovering("15m", "1h")).unwrap();
    let out = surge()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "progress drawn on a pipe"
    );
}

#[test]
fn an_output_folder_that_cannot_be_written_is_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, recovering("15m", "1h")).unwrap();
    let a_file = dir.path().join("plain-file");
    std::fs::write(&a_file, "x").unwrap();
    // /proc exists but no file can be created in it, even by root; a file cannot hold a folder.
    for out in [
        Path::new("/proc").to_path_buf(),
        a_file.join("out"),
        a_file.clone(),
    ] {
        for command in [
            &["run"][..],
            &["sweep", "--vary", "surge.peak=1,2", "--reps", "1"],
        ] {
            let o = surge()
                .args(&command[..1])
                .arg(&file)
                .args(&command[1..])
                .arg("--out")
                .arg(&out)
                .output()
                .unwrap();
            let err = crate::common::refused(&o, &format!("{command:?} --out {}", out.display()));
            assert!(err.contains("the output folder"), "{err}");
            assert!(
                o.stdout.is_empty(),
                "ran before refusing: {}",
                String::from_utf8_lossy(&o.stdout)
            );
        }
    }
}

#[test]
fn a_second_command_on_a_locked_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    std::fs::write(&file, recovering("15m", "1h")).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // Another surge command holds the folder.
    let held = std::fs::File::create(out.join(".surge.lock")).unwrap();
    fs4::FileExt::lock(&held).unwrap();
    let o = surge()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = crate::common::refused(&o, "locked");
    assert!(
        err.contains("another surge command is writing to it"),
        "{err}"
    );
    assert!(!out.join("summary.json").exists());
    held.unlock().unwrap();
    surge()
        .arg("run")
        .arg(&file)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
}

#[test]
fn two_commands_at_once_on_one_folder_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.toml");
    // Long enough (a few seconds) to still be running when the second starts.
    std::fs::write(
        &file,
        recovering("15m", "1h")
            .replace("rate = 5", "rate = 15")
            .replace("duration = \"1h\"", "duration = \"30h\""),
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("surge"))
        .arg("run")
        .arg(&file)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .spawn()
        .unwrap();
    let lock = out.join(".surge.lock");
    while !lock.exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    let o = surge()
        .arg("run")
        .arg(&file)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let still_running = first.try_wait().unwrap().is_none();
    assert!(first.wait().unwrap().success());
    if still_running {
        assert_eq!(
            o.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(
        still_running,
        "the first run ended too soon to test the lock"
    );
}
