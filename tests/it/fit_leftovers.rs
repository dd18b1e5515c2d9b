//! `surge fit`'s leftovers from the trial against generated truth (issue 24): the spread of the
//! service time with `--threads` (exponential and lognormal truths served first come first
//! served by a known number of threads), an open log at one steady rate flagged as agreeing by
//! construction, and k6's JSON output read as its CSV is, hostile lines included.

use crate::common::repo_file;
use crate::fit::{Req, nginx_log};
use crate::fit_common::{f, fit_with_stdout, within};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp, Exp1, LogNormal, StandardUniform};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};

/// Poisson arrivals at `rate(t)` a second (at most `max_rate`) for `duration` seconds, served
/// first come first served by `threads` threads, each service drawn from `service`; no queue
/// bound, no errors.
fn fcfs(
    rate: fn(f64) -> f64,
    max_rate: f64,
    duration: f64,
    threads: usize,
    service: &impl Distribution<f64>,
    seed: u64,
) -> Vec<Req> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut free: BinaryHeap<Reverse<u64>> = (0..threads).map(|_| Reverse(0)).collect();
    let (mut now, mut out) = (0.0, Vec::new());
    loop {
        let e: f64 = Exp1.sample(&mut rng);
        now += e / max_rate;
        if now >= duration {
            return out;
        }
        let u: f64 = StandardUniform.sample(&mut rng);
        if u * max_rate > rate(now) {
            continue;
        }
        let Reverse(at) = free.pop().unwrap();
        let end = now.max(at as f64 * 1e-9) + service.sample(&mut rng);
        free.push(Reverse((end * 1e9) as u64));
        out.push(Req {
            start: now,
            time: end - now,
            ok: true,
            path: "/",
        });
    }
}

/// [`fcfs`] with `queue` waiting places: an arrival that finds `threads + queue` requests in
/// the system is turned away at once (a 503 of 1 ms).
fn fcfs_bounded(
    rate: fn(f64) -> f64,
    max_rate: f64,
    duration: f64,
    (threads, queue): (usize, usize),
    service: &impl Distribution<f64>,
    seed: u64,
) -> Vec<Req> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut free: BinaryHeap<Reverse<u64>> = (0..threads).map(|_| Reverse(0)).collect();
    let mut ends: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let (mut now, mut out) = (0.0, Vec::new());
    loop {
        let e: f64 = Exp1.sample(&mut rng);
        now += e / max_rate;
        if now >= duration {
            return out;
        }
        let u: f64 = StandardUniform.sample(&mut rng);
        if u * max_rate > rate(now) {
            continue;
        }
        while ends
            .peek()
            .is_some_and(|Reverse(x)| *x as f64 * 1e-9 <= now)
        {
            ends.pop();
        }
        if ends.len() >= threads + queue {
            out.push(Req {
                start: now,
                time: 0.001,
                ok: false,
                path: "/",
            });
            continue;
        }
        let Reverse(at) = free.pop().unwrap();
        let end = now.max(at as f64 * 1e-9) + service.sample(&mut rng);
        free.push(Reverse((end * 1e9) as u64));
        ends.push(Reverse((end * 1e9) as u64));
        out.push(Req {
            start: now,
            time: end - now,
            ok: true,
            path: "/",
        });
    }
}

fn write_log(dir: &Path, reqs: &[Req]) -> PathBuf {
    let log = dir.join("access.log");
    std::fs::write(&log, nginx_log(reqs)).unwrap();
    log
}

/// 6 threads of 100 ms (60 a second at most), arrivals from 15/s to 45/s over 20 min (25% to
/// 75% busy): responses wait, the more the busier.
fn ramp(t: f64) -> f64 {
    15.0 + 30.0 * t / 1200.0
}

/// The fit with `--threads 6` of a log served by 6 threads from `service`: the fitted
/// service's cv, and the round trip's p95 (simulated, data).
fn fit_with_threads(service: &impl Distribution<f64>, seed: u64) -> (f64, f64, f64, String) {
    let reqs = fcfs(ramp, 45.0, 1200.0, 6, service, seed);
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), &reqs);
    let (j, stdout) = fit_with_stdout(&[&log], &["--threads", "6"], &dir.path().join("out"));
    let rt = &j["round_trip"];
    (
        f(&j["service"]["cv"]),
        f(&rt["simulated"]["p95_s"]),
        f(&rt["data"]["p95_s"]),
        stdout,
    )
}

#[test]
fn with_threads_the_spread_of_an_exponential_service_is_recovered() {
    let (cv, sim, data, stdout) = fit_with_threads(&Exp::new(10.0).unwrap(), 61);
    assert!((cv - 1.0).abs() <= 0.15, "cv {cv}: {stdout}");
    within(sim, data, 0.10, "round trip p95");
    assert!(
        stdout.contains("their spread set to the service's cv"),
        "{stdout}"
    );
}

#[test]
fn with_threads_the_spread_of_a_lognormal_service_is_recovered() {
    // lognormal, mean 100 ms, cv 0.5
    let s2 = (1.0_f64 + 0.25).ln();
    let ln = LogNormal::new(0.1_f64.ln() - s2 / 2.0, s2.sqrt()).unwrap();
    let (cv, sim, data, stdout) = fit_with_threads(&ln, 62);
    assert!((cv - 0.5).abs() <= 0.15, "cv {cv}: {stdout}");
    within(sim, data, 0.10, "round trip p95");
}

#[test]
fn an_open_log_at_one_steady_rate_without_threads_agrees_by_construction_and_says_so() {
    let reqs = fcfs(|_| 30.0, 30.0, 600.0, 4, &Exp::new(10.0).unwrap(), 63);
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), &reqs);
    let (j, stdout) = fit_with_stdout(&[&log], &[], &dir.path().join("bare"));
    let why = j["round_trip"]["by_construction"]
        .as_str()
        .unwrap_or_default();
    assert!(
        why.starts_with(
            "the arrivals came at one steady rate (every 1 min bucket within 10% of the busiest,"
        ),
        "{}",
        j["round_trip"]
    );
    assert!(why.contains("no --threads was given"), "{why}");
    assert!(
        stdout.contains(
            "WARNING: the round trip proves nothing here: the arrivals came at one steady rate"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("they agree by construction, not as a check (see the WARNING)"),
        "{stdout}"
    );
    // with the threads given, or a rate that varies, no such warning
    let (j, stdout) = fit_with_stdout(&[&log], &["--threads", "4"], &dir.path().join("given"));
    assert!(
        j["round_trip"]["by_construction"].is_null(),
        "{}",
        j["round_trip"]
    );
    assert!(!stdout.contains("by construction"), "{stdout}");
    let reqs = fcfs(ramp, 45.0, 600.0, 6, &Exp::new(10.0).unwrap(), 64);
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), &reqs);
    let (j, _) = fit_with_stdout(&[&log], &[], &dir.path().join("ramp"));
    assert!(
        j["round_trip"]["by_construction"].is_null(),
        "{}",
        j["round_trip"]
    );
}

fn k6_json() -> PathBuf {
    repo_file("tests/fit-data/k6.json")
}

#[test]
fn k6_json_output_is_read_as_its_csv_is() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, _) = fit_with_stdout(
        &[&repo_file("tests/fit-data/k6.csv")],
        &[],
        &dir.path().join("csv"),
    );
    for extra in [vec![], vec!["--format", "k6json"], vec!["--format", "k6"]] {
        let out = dir.path().join(format!("json{}", extra.len()));
        let (j, stdout) = fit_with_stdout(&[&k6_json()], &extra, &out);
        assert_eq!(j["files"][0]["format"], "k6 (--out json)", "{extra:?}");
        assert_eq!(j["lines"]["skipped"], 0, "{}", j["files"][0]["bad_lines"]);
        for key in ["arrivals", "requests", "closed", "capacity", "endpoints"] {
            assert_eq!(j[key], csv[key], "{key}: {stdout}");
        }
        assert_eq!(j["service"]["mean_s"], csv["service"]["mean_s"]);
        assert_eq!(
            j["files"][0]["notes"]["http_req_waiting_mean_s"],
            csv["files"][0]["notes"]["http_req_waiting_mean_s"]
        );
        assert_eq!(j["requests"]["total"], 30);
    }
}

#[test]
fn k6_json_with_a_truncated_line_and_absurd_values_skips_and_counts_them() {
    let text = std::fs::read_to_string(k6_json()).unwrap();
    let point = text
        .lines()
        .find(|l| l.contains("\"metric\":\"http_req_duration\"") && l.contains("Point"))
        .unwrap();
    let huge = point.replacen("\"value\":163.22403", "\"value\":1e400", 1);
    let absurd = point.replacen("\"value\":163.22403", "\"value\":1e30", 1);
    assert_ne!(huge, point);
    let truncated = &point[..point.len() / 2];
    let hostile = format!("{text}{huge}\n{absurd}\n{truncated}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.json");
    std::fs::write(&file, hostile).unwrap();
    let (j, _) = fit_with_stdout(&[&file], &[], &dir.path().join("out"));
    assert_eq!(j["lines"]["skipped"], 3, "{}", j["files"][0]["bad_lines"]);
    assert_eq!(j["requests"]["total"], 30);
    let why: Vec<&str> = j["files"][0]["bad_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["why"].as_str().unwrap())
        .collect();
    assert!(
        why[0] == "not a line of k6's JSON output: number out of range at column 82",
        "{why:?}"
    );
    assert!(
        why[1].ends_with("is not a date between 1970 and 9999"),
        "{why:?}"
    );
    assert!(
        why[2].starts_with("not a line of k6's JSON output: EOF while parsing"),
        "{why:?}"
    );
}

#[test]
fn the_queue_is_fitted_where_the_refusals_come_with_a_full_queue() {
    // 4 threads of 100 ms (40 a second at most) and 20 waiting places; arrivals from 20/s to
    // 60/s over 20 min: from about 27 a second on, the queue fills and turns requests away
    let reqs = fcfs_bounded(
        |t| 20.0 + 40.0 * t / 1200.0,
        60.0,
        1200.0,
        (4, 20),
        &Exp::new(10.0).unwrap(),
        65,
    );
    let refused = reqs.iter().filter(|r| !r.ok).count();
    assert!(refused > 1000, "{refused}");
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), &reqs);
    let (j, stdout) = fit_with_stdout(&[&log], &["--threads", "4"], &dir.path().join("out"));
    let q = &j["capacity"]["queue"];
    let places = q["places"]
        .as_u64()
        .unwrap_or_else(|| panic!("no queue fitted: {stdout}"));
    assert!((18..=22).contains(&places), "{q}");
    assert_eq!(q["turned_away_data"], refused as u64, "{q}");
    let model = std::fs::read_to_string(dir.path().join("out/model.toml")).unwrap();
    assert!(
        model.contains(&format!("\nqueue = {places}   # fitted: M/M/N/K")),
        "{model}"
    );
    assert!(
        stdout.contains(&format!("queue: {places} places, fitted: ")),
        "{stdout}"
    );
}

#[test]
fn refusals_at_random_leave_the_queue_an_assumption() {
    // 5% of requests turned away whatever the load, on 8 threads hardly ever all busy
    let mut reqs = fcfs(ramp, 45.0, 600.0, 8, &Exp::new(10.0).unwrap(), 66);
    for (i, r) in reqs.iter_mut().enumerate() {
        if i % 20 == 7 {
            r.ok = false;
            r.time = 0.001;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), &reqs);
    let (j, stdout) = fit_with_stdout(&[&log], &["--threads", "8"], &dir.path().join("out"));
    assert!(j["capacity"]["queue"].is_null(), "{}", j["capacity"]);
    assert!(stdout.contains("ASSUMED (as many as threads)"), "{stdout}");
}
