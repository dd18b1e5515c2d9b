//! `surge sensitivity` checked the hard way and interrupted: every mean, elementary effect, mu,
//! mu* and sigma of sensitivity.json equals the one computed from a `surge sweep --seeds common`
//! of the design's grid (exactly: the same seeds, the same cells); the ranking is that of a
//! one-key-at-a-time sweep's range of the p95; a killed screening resumed with `--resume` runs
//! only what is missing and writes the same bytes; a budget too small gives the trajectories
//! finished, says how many of how many, and `--resume` goes on; `surge plot` redraws the
//! tornado chart.

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

use crate::common::{assert_bad_input, assert_success, surge, write_file};
use crate::journal_common::{rows, wait_for};
use crate::sensitivity::mmc;

/// The three keys screened: levels 5, 6, 7, 8 threads; 30, 33, 36, 39 requests/s; 100, 130, 160,
/// 190 s of timeout (which no request reaches).
const VARY: [&str; 6] = [
    "--vary",
    "tier.server.threads=5..8",
    "--vary",
    "source.clients.rate=30..39",
    "--vary",
    "tier.server.request_timeout=100s..190s",
];
const LEVELS: [&str; 3] = ["5,6,7,8", "30,33,36,39", "100,130,160,190"];
const KEYS: [&str; 3] = [
    "tier.server.threads",
    "source.clients.rate",
    "tier.server.request_timeout",
];

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `surge sweep` of `varies` (key, values) with `--seeds common` and 2 replications into `out`:
/// each row of points.csv as (the keys' values, rep, metric -> cell).
fn sweep(model: &Path, out: &Path, varies: &[(&str, &str)]) -> Vec<(Vec<f64>, u32, Row)> {
    let mut cmd = surge();
    cmd.arg("sweep").arg(model);
    for (k, v) in varies {
        cmd.args(["--vary", &format!("{k}={v}")]);
    }
    let o = cmd
        .args(["--reps", "2", "--seeds", "common", "--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert_success(&o);
    let mut rdr = csv::Reader::from_path(out.join("points.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let n = varies.len();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let values = (1..=n).map(|i| r[i].parse().unwrap()).collect();
            let cells = (n + 3..header.len())
                .map(|i| (header[i].clone(), r[i].to_string()))
                .collect();
            (values, r[n + 1].parse().unwrap(), cells)
        })
        .collect()
}

type Row = HashMap<String, String>;

/// The mean of the cells that hold a number, summed in the order given, as the screening does.
fn mean(cells: &[&str]) -> Option<f64> {
    let (sum, n) = (cells.iter())
        .filter_map(|c| c.parse::<f64>().ok())
        .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[test]
fn every_effect_is_the_one_a_common_seed_sweep_of_the_grid_gives() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "mmc.toml", &mmc(1));
    let out = dir.path().join("screen");
    let o = surge()
        .arg("sensitivity")
        .arg(&model)
        .args(VARY)
        .args(["--trajectories", "4", "--reps", "2", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let doc = json(&out.join("sensitivity.json"));
    let grid: Vec<(&str, &str)> = KEYS.iter().copied().zip(LEVELS).collect();
    let rows = sweep(&model, &dir.path().join("grid"), &grid);
    assert_eq!(rows.len(), 64 * 2);
    let outcomes: Vec<String> = (doc["outcomes"].as_array().unwrap().iter())
        .map(|o| o["key"].as_str().unwrap().to_string())
        .collect();
    assert!(
        outcomes.contains(&"latency_s.p95".to_string()),
        "{outcomes:?}"
    );
    // Each point's means: those of the sweep's rows at the same values.
    let points = doc["points"].as_array().unwrap();
    for p in points {
        let values: Vec<f64> = (p["values"].as_array().unwrap().iter())
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mine: Vec<&Row> = (0..2)
            .map(|rep| {
                &rows
                    .iter()
                    .find(|(v, r, _)| *v == values && *r == rep)
                    .unwrap_or_else(|| panic!("{values:?} is not in the sweep"))
                    .2
            })
            .collect();
        for (m, key) in outcomes.iter().enumerate() {
            let cells: Vec<&str> = mine.iter().map(|r| r[key].as_str()).collect();
            assert_eq!(f(&p["means"][m]), mean(&cells), "{key} at {values:?}");
        }
    }
    // Each step's elementary effect from those means, and each key's mu, mu* and sigma.
    let factors = doc["factors"].as_array().unwrap();
    let steps = doc["steps"].as_array().unwrap();
    let mut ees: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); outcomes.len()]; KEYS.len()];
    for s in steps {
        let i = s["factor"].as_u64().unwrap() as usize;
        let (lo, hi) = (f(&factors[i]["lo"]).unwrap(), f(&factors[i]["hi"]).unwrap());
        let share = |v: f64| (v - lo) / (hi - lo);
        let (a, b) = (
            &points[s["from"].as_u64().unwrap() as usize],
            &points[s["to"].as_u64().unwrap() as usize],
        );
        let moved = share(f(&b["values"][i]).unwrap()) - share(f(&a["values"][i]).unwrap());
        for m in 0..outcomes.len() {
            let ee = f(&b["means"][m])
                .zip(f(&a["means"][m]))
                .map(|(y1, y0)| (y1 - y0) / moved);
            assert_eq!(f(&s["effects"][m]), ee, "step {s}");
            ees[i][m].extend(ee);
        }
    }
    let ranking = doc["ranking"].as_array().unwrap();
    for (i, key) in KEYS.iter().enumerate() {
        let k = ranking.iter().find(|k| k["factor"]["key"] == *key).unwrap();
        for (m, e) in ees[i].iter().enumerate() {
            let n = e.len() as f64;
            let mu = e.iter().sum::<f64>() / n;
            let mu_star = e.iter().map(|x| x.abs()).sum::<f64>() / n;
            let sigma = (e.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            let got = &k["metrics"][m];
            assert_eq!(got["effects"].as_u64(), Some(4), "{key}");
            assert_eq!(f(&got["mu"]), Some(mu), "{key} {}", outcomes[m]);
            assert_eq!(f(&got["mu_star"]), Some(mu_star), "{key} {}", outcomes[m]);
            assert_eq!(f(&got["sigma"]), Some(sigma), "{key} {}", outcomes[m]);
        }
    }
    // The ranking against each key's range of the p95 when it alone moves over its levels.
    let p95 = outcomes.iter().position(|o| o == "latency_s.p95").unwrap();
    let mut span: Vec<(f64, &str)> = (KEYS.iter().zip(LEVELS).enumerate())
        .map(|(i, (key, levels))| {
            let oat = sweep(
                &model,
                &dir.path().join(format!("oat{i}")),
                &[(key, levels)],
            );
            let means: Vec<f64> = (0..4)
                .map(|j| {
                    let cells: Vec<&str> = (oat[2 * j..2 * j + 2].iter())
                        .map(|r| r.2["latency_s.p95"].as_str())
                        .collect();
                    mean(&cells).unwrap()
                })
                .collect();
            let hi = means.iter().copied().fold(f64::MIN, f64::max);
            let lo = means.iter().copied().fold(f64::MAX, f64::min);
            (hi - lo, *key)
        })
        .collect();
    span.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert_eq!(span[2].0, 0.0, "the timeout moves nothing: {span:?}");
    assert!(span[0].0 > 2.0 * span[1].0, "{span:?}");
    let by_span: Vec<&str> = span.iter().map(|s| s.1).collect();
    let by_mu_star: Vec<&str> = ranking
        .iter()
        .map(|k| k["factor"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(by_mu_star, by_span);
    let mu_star = |k: &Value| f(&k["metrics"][p95]["mu_star"]).unwrap();
    assert!(mu_star(&ranking[0]) > mu_star(&ranking[1]));
    assert_eq!(mu_star(&ranking[2]), 0.0);
}

/// The screening these tests cut short: 3 keys, 2 replications, one run at a time, in the
/// working folder `cwd` (the model `mmc.toml` there, the output in `out/`), so that two
/// screenings in two folders have the same command line.
fn screening(cwd: &Path, extra: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_surge"));
    cmd.current_dir(cwd)
        .args(["sensitivity", "mmc.toml"])
        .args(VARY)
        .args(["--reps", "2", "--jobs", "1", "--out", "out"])
        .args(extra);
    cmd
}

#[test]
fn a_killed_screening_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, cut) = (tmp.path().join("whole"), tmp.path().join("cut"));
    for d in [&whole, &cut] {
        std::fs::create_dir(d).unwrap();
        write_file(d, "mmc.toml", &mmc(2));
    }
    let args = ["--trajectories", "5", "--resume"];
    let o = screening(&whole, &args).output().unwrap();
    assert_success(&o);
    assert!(!whole.join("out").join("sensitivity.partial.csv").exists());
    let total = json(&whole.join("out/sensitivity.json"))["runs"]
        .as_u64()
        .unwrap() as usize;
    // The same command in the other folder, killed once 5 runs are journaled.
    let journal = cut.join("out").join("sensitivity.partial.csv");
    let mut child = screening(&cut, &args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("5 journaled runs", &|| rows(&journal) >= 5);
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = rows(&journal);
    assert!(
        (5..total).contains(&kept),
        "{kept} of {total} runs journaled"
    );
    assert!(!cut.join("out/sensitivity.json").exists());
    let killed = std::fs::read(&journal).unwrap();
    let o = screening(&cut, &args).output().unwrap();
    assert_success(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "resuming: {kept} of {total} runs already done, running the other {}",
            total - kept
        )),
        "{err}"
    );
    assert!(
        !journal.exists(),
        "the journal goes once the files are written"
    );
    for file in ["sensitivity.json", "sensitivity.csv"] {
        let read = |d: &Path| std::fs::read(d.join("out").join(file)).unwrap();
        assert!(read(&whole) == read(&cut), "{file} differs");
    }
    // The journal of another screening (another design) is refused, and left in place.
    std::fs::write(&journal, &killed).unwrap();
    let o = screening(&cut, &["--trajectories", "4", "--resume"])
        .output()
        .unwrap();
    assert_bad_input(
        &o,
        &["journal of another sensitivity screening", "--trajectories"],
    );
    assert_eq!(std::fs::read(&journal).unwrap(), killed);
}

#[test]
fn a_budget_too_small_gives_the_trajectories_finished_and_resume_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, cut) = (tmp.path().join("whole"), tmp.path().join("cut"));
    for d in [&whole, &cut] {
        std::fs::create_dir(d).unwrap();
        write_file(d, "mmc.toml", &mmc(3));
    }
    let o = screening(&cut, &["--trajectories", "3", "--budget", "1s"])
        .output()
        .unwrap();
    assert_success(&o);
    let doc = json(&cut.join("out/sensitivity.json"));
    let done = doc["trajectories_done"].as_u64().unwrap();
    assert!((1..3).contains(&done), "{done} trajectories in 1 s");
    assert_eq!(doc["budget_reached"], true);
    assert_eq!(doc["trajectories"], 3);
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len() as u64, 3 * done);
    assert!(
        steps
            .iter()
            .all(|s| s["trajectory"].as_u64().unwrap() < done)
    );
    let points = doc["points"].as_array().unwrap().len() as u64;
    assert_eq!(doc["runs"].as_u64(), Some(2 * points));
    // Never a blank table: every key has its effect on the p95 from the trajectories done.
    let p95 = (doc["outcomes"].as_array().unwrap().iter())
        .position(|o| o["key"] == "latency_s.p95")
        .unwrap();
    for k in doc["ranking"].as_array().unwrap() {
        assert_eq!(k["metrics"][p95]["effects"].as_u64(), Some(done));
        assert!(k["metrics"][p95]["mu_star"].as_f64().is_some(), "{k}");
    }
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!(
            "budget reached: {done} of 3 trajectories finished, the effects below rest on those"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Morris elementary effects (mu*, mu, sigma): {} x 3 keys",
            if done == 1 {
                "1 trajectory".to_string()
            } else {
                format!("{done} trajectories")
            }
        )),
        "{out}"
    );
    assert!(
        out.contains("tier.server.threads, 5 to 8 threads   score"),
        "{out}"
    );
    assert!(out.contains("30 to 39 requests/s"), "{out}");
    assert!(out.contains("1 min 40 s to 3 min 10 s"), "{out}");
    let journal = cut.join("out/sensitivity.partial.csv");
    assert!(journal.exists(), "kept for --resume");
    let md = std::fs::read_to_string(cut.join("out/report.md")).unwrap();
    assert!(md.contains(&format!("budget reached: {done} of 3")), "{md}");
    // --resume goes on with the others: the same files as a screening run at once.
    let o = screening(&cut, &["--trajectories", "3", "--resume", "--quiet"])
        .output()
        .unwrap();
    assert_success(&o);
    assert!(!journal.exists());
    let o = screening(&whole, &["--trajectories", "3", "--quiet"])
        .output()
        .unwrap();
    assert_success(&o);
    let read = |d: &Path| std::fs::read(d.join("out/sensitivity.csv")).unwrap();
    assert!(read(&whole) == read(&cut), "sensitivity.csv differs");
    let answer = |d: &Path| {
        let mut v = json(&d.join("out/sensitivity.json"));
        v.as_object_mut().unwrap().remove("provenance");
        v
    };
    assert_eq!(answer(&whole), answer(&cut));
    assert_eq!(answer(&cut)["trajectories_done"], 3);
    assert_eq!(answer(&cut)["budget_reached"], false);
}

#[test]
fn plot_redraws_the_tornado_from_sensitivity_json() {
    let tmp = tempfile::tempdir().unwrap();
    write_file(tmp.path(), "mmc.toml", &mmc(1));
    let folder = tmp.path().join("report");
    let out = folder.join("sensitivity");
    let o = surge()
        .current_dir(tmp.path())
        .args(["sensitivity", "mmc.toml"])
        .args(VARY)
        .args(["--trajectories", "3", "--reps", "1", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&o);
    let drawn = std::fs::read(out.join("tornado.svg")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    // report.md stays: the model's text is kept from it, as for the other charts.
    for f in ["tornado.svg", "tornado.png", "report.html"] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let o = surge().arg("plot").arg(&out).output().unwrap();
    assert_success(&o);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("redrew the tornado chart"), "{said}");
    assert_eq!(std::fs::read(out.join("tornado.svg")).unwrap(), drawn);
    assert!(out.join("tornado.png").is_file());
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), md);
    let svg = String::from_utf8(drawn).unwrap();
    let doc = json(&out.join("sensitivity.json"));
    for text in [
        "mmc: which keys move the outcome most",
        "Morris screening: 3 trajectories x 3 keys, 1 replication per point",
        "key (range screened)",
        "p95 latency of successful attempts",
        "time (h, min, s, ms), attempt level",
        "percentage points, call level",
        "1. tier.server.threads",
        "5 to 8 threads",
        "30 to 39 requests/s",
        "1 min 40 s to 3 min 10 s",
        "0 in this design",
    ] {
        assert!(svg.contains(text), "{text} not in the chart");
    }
    // The strongest key's p95 effect, in milliseconds, under its bar.
    let p95 = (doc["outcomes"].as_array().unwrap().iter())
        .position(|o| o["key"] == "latency_s.p95")
        .unwrap();
    let top = doc["ranking"][0]["metrics"][p95]["mu_star"]
        .as_f64()
        .unwrap();
    assert!(top > 0.01 && top < 1.0, "{top}");
    let ms = format!("{:.0} ms", top * 1000.0);
    assert!(svg.contains(&ms), "{ms} not in the chart");
    // The folder of a report: its sensitivity/ is redrawn, the whole left as it was.
    std::fs::remove_file(out.join("tornado.svg")).unwrap();
    let o = surge().arg("plot").arg(&folder).output().unwrap();
    assert_success(&o);
    assert!(out.join("tornado.svg").is_file());
}
