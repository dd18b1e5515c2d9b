//! `surge fit` on this project's own vegeta and k6 runs (tests/fit-data/real/README.md: real
//! load generators attacking a real nginx in front of 4 gunicorn workers whose handler sleeps a
//! lognormal of mean 100 ms, cv 0.5). vegeta sends on a fixed schedule; `fit` must say so, and
//! the miss of the 85% run's round trip with the true thread count is taken apart into its two
//! causes, each measured: the schedule (the model's arrivals are Poisson) and the service fitted
//! from response times that hold the run's own waiting. k6's closed loop of 30 users saturates
//! the 4 workers: given the threads, the fit takes the waiting out (machine-repairman model) and
//! finds the app's service.

use crate::common::{num, run_file};
use crate::fit_common::{fit_model, real};
use std::path::Path;

/// The data's p95 of successful responses, as Python reads the file (README).
const DATA_P95_85: f64 = 0.212_940_143;

/// The requests of a vegeta CSV sent in order, as a `time` trace: seconds after the first.
fn send_instants(name: &str) -> String {
    let text = std::fs::read_to_string(real(name)).unwrap();
    let mut ns: Vec<i128> = text
        .lines()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    ns.sort_unstable();
    let mut csv = String::from("time\n");
    for t in &ns {
        csv.push_str(&format!("{:.9}\n", (t - ns[0]) as f64 / 1e9));
    }
    csv
}

/// model.toml with its requests source replaced by the trace `times.csv` (written beside it).
fn on_the_data_instants(model: &str, dir: &Path, name: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("times.csv"), send_instants(name)).unwrap();
    let mut out = String::new();
    let mut in_source = false;
    for line in model.lines() {
        if line.starts_with("[[source]]") {
            in_source = true;
            out.push_str(
                "[[source]]\nname = \"recorded\"\nkind = \"trace\"\nfile = \"times.csv\"\n",
            );
            continue;
        }
        if in_source && line.starts_with('[') {
            in_source = false;
        }
        if !in_source {
            out.push_str(line);
            out.push('\n');
        }
    }
    let path = dir.join("on-instants.toml");
    std::fs::write(&path, out).unwrap();
    path
}

/// Every vegeta run is found sent on a schedule (dispersion 0: the same count in every whole
/// second), said on the terminal and in model.toml; the reality check's nginx log of Locust
/// users is not (0.3598, as Python computes it: closed-loop clients, smoother than Poisson).
#[test]
fn a_constant_rate_load_test_is_told_from_users() {
    for name in [
        "vegeta-loopback-50pct.csv",
        "vegeta-loopback-85pct.csv",
        "vegeta-loopback-120pct.csv",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (f, model, stdout) = fit_model(&[&real(name)], &[], &dir.path().join("fit"));
        assert_eq!(num(&f, "arrivals.dispersion"), 0.0, "{name}");
        assert!(stdout.contains("sent on a schedule"), "{name}: {stdout}");
        assert!(model.contains("sent on a schedule"), "{name}");
        // the 120% run's 397 refusals go to the queue, which its ASSUMED threads never fill
        let overloaded = name == "vegeta-loopback-120pct.csv";
        assert_eq!(f["round_trip"]["within"], !overloaded, "{name}");
    }
    let dir = tempfile::tempdir().unwrap();
    let name = "reality-nginx-80pct.log";
    let (f, model, stdout) =
        fit_model(&[&real(name)], &["--threads", "4"], &dir.path().join("fit"));
    let d = num(&f, "arrivals.dispersion");
    assert!((d - 0.359_834_807_374_268_8).abs() < 1e-9, "{d}");
    assert!(!stdout.contains("sent on a schedule"));
    assert!(!model.contains("sent on a schedule"));
}

/// With the true thread count the 85% run's round trip misses (p95 about 1 s against 213 ms).
/// The same model fed the run's own send instants still misses (its service, 113 ms, holds the
/// run's waiting); with the app's true service as well it gives the data's p95 within 10%.
#[test]
fn the_85_percent_miss_taken_apart() {
    let dir = tempfile::tempdir().unwrap();
    let name = "vegeta-loopback-85pct.csv";
    let (f, model, _) = fit_model(&[&real(name)], &["--threads", "4"], &dir.path().join("fit"));
    assert_eq!(f["round_trip"]["within"], false);
    assert!(num(&f, "round_trip.p95_off") > 1.0, "{}", f["round_trip"]);
    let service = num(&f, "service.mean_s");
    assert!((0.11..0.117).contains(&service), "{service}");

    let paced = on_the_data_instants(&model, dir.path(), name);
    let s = run_file(&paced, &dir.path().join("a"), &["--reps", "3"]);
    let p95 = num(&s, "latency_s.p95");
    assert!(p95 > 1.25 * DATA_P95_85, "on the data's instants {p95}");
    assert!(p95 < 0.6, "a schedule queues far less than Poisson: {p95}");

    let truth = std::fs::read_to_string(&paced)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("service =") {
                "service = { dist = \"lognormal\", mean = \"100ms\", cv = 0.5 }".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let both = dir.path().join("truth.toml");
    std::fs::write(&both, truth).unwrap();
    let s = run_file(&both, &dir.path().join("b"), &["--reps", "3"]);
    let p95 = num(&s, "latency_s.p95");
    assert!(
        (p95 / DATA_P95_85 - 1.0).abs() < 0.10,
        "true service on the data's instants: {p95} against {DATA_P95_85}"
    );
}

/// 30 k6 users on 4 workers of 100 ms: the mean response (265.6 ms, Python over the bytes) is
/// mostly waiting. With `--threads 4` the fit takes each window's machine-repairman waiting out
/// and finds the app's 100 ms plus the stack's few (108.3 ms measured), and the round trip
/// passes (it gave a p95 of 1.78 s against 414 ms on the service of 265.6 ms before). The 5-user
/// run hardly waits: its service stays the response time.
#[test]
fn a_saturated_closed_test_given_its_threads_finds_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let name = "k6-loopback-30vus.csv.gz";
    let (f, model, _) = fit_model(&[&real(name)], &["--threads", "4"], &dir.path().join("fit"));
    assert_eq!(num(&f, "requests.total"), 3536.0);
    let service = num(&f, "service.mean_s");
    assert!((0.100..0.115).contains(&service), "{service}");
    assert!(
        f["service"]["basis"]
            .as_str()
            .unwrap()
            .contains("machine-repairman M/M/4//N"),
        "{}",
        f["service"]["basis"]
    );
    assert_eq!(f["round_trip"]["within"], true, "{}", f["round_trip"]);
    assert!(model.contains("threads = 4"), "{model}");
    let think = num(&f, "closed.think_mean_s");
    assert!((0.5..0.52).contains(&think), "k6 slept 0.5 s: {think}");

    let dir = tempfile::tempdir().unwrap();
    let name = "k6-loopback-5vus.csv.gz";
    let (f, _, _) = fit_model(&[&real(name)], &["--threads", "4"], &dir.path().join("fit"));
    let service = num(&f, "service.mean_s");
    // Python over the bytes: mean response 102.12 ms; 5 users rarely find 4 workers busy
    assert!((0.098..0.1022).contains(&service), "{service}");
    assert_eq!(f["round_trip"]["within"], true, "{}", f["round_trip"]);
}
