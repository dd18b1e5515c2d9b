//! `surge fit` on logs without response times (Common Log Format, combined): sessions of
//! known parameters (Poisson session starts, geometric pages, exponential think, a fixed number
//! of assets per page, a known share of returning visitors) recovered within tolerances derived
//! from the sample size; CLF and combined told from their first line; the service from
//! `--service`, from a load test given beside the log, or marked ASSUMPTION; the users source's
//! model offering the log's page views when run.

use crate::common::{assert_bad_input, repo_file, surge};
use crate::fit_common::{f, fit_with_stdout as fit, within};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1, StandardUniform};
use std::path::{Path, PathBuf};

/// Known parameters of generated browsing.
struct Browsing {
    /// New sessions per second.
    rate: f64,
    pages_mean: f64,
    think_mean: f64,
    assets_per_page: usize,
    duration: f64,
    /// Chance that a session comes from an address whose last session ended over 30 min ago.
    return_share: f64,
    /// Combined format with user agents (else CLF).
    combined: bool,
    seed: u64,
}

/// What was generated, counted within the horizon.
#[derive(Debug, Default)]
struct Counts {
    sessions: u64,
    pages: u64,
    assets: u64,
    returning: u64,
}

const EPOCH: f64 = 1_700_000_000.0;

fn u(rng: &mut rand_xoshiro::Xoshiro256PlusPlus) -> f64 {
    StandardUniform.sample(rng)
}

/// The log's lines (time order) and the counts of what they hold.
fn browse(b: &Browsing) -> (String, Counts) {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(b.seed);
    let mut lines: Vec<(f64, String)> = Vec::new();
    let mut c = Counts::default();
    // addresses and the end of their last session
    let mut ends: Vec<f64> = Vec::new();
    let mut t = 0.0;
    loop {
        let e: f64 = Exp1.sample(&mut rng);
        t += e / b.rate;
        if t >= b.duration {
            break;
        }
        // a return: an address whose last session ended more than the gap (+ 5 s) ago
        let mut addr = ends.len();
        if !ends.is_empty() && u(&mut rng) < b.return_share {
            let pick = (u(&mut rng) * ends.len() as f64) as usize;
            if ends[pick] < t - 1805.0 {
                addr = pick;
            }
        }
        if addr == ends.len() {
            ends.push(0.0);
        } else {
            c.returning += 1;
        }
        c.sessions += 1;
        let mut pages = 1;
        while u(&mut rng) >= 1.0 / b.pages_mean {
            pages += 1;
        }
        let ip = format!(
            "10.{}.{}.{}",
            addr / 65_536 % 256,
            addr / 256 % 256,
            addr % 256
        );
        let mut at = t;
        for k in 0..pages {
            if at >= b.duration {
                break;
            }
            c.pages += 1;
            lines.push((at, line(b, &ip, &format!("/page{}.html?x={k}", k % 7), at)));
            ends[addr] = at;
            for a in 0..b.assets_per_page {
                let when = at + 0.2 * (a + 1) as f64;
                if when < b.duration {
                    c.assets += 1;
                    lines.push((when, line(b, &ip, &format!("/img/{a}.PNG"), when)));
                    ends[addr] = when;
                }
            }
            let z: f64 = Exp1.sample(&mut rng);
            at += z * b.think_mean;
        }
    }
    lines.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut text = String::with_capacity(lines.len() * 110);
    for (_, l) in lines {
        text.push_str(&l);
    }
    (text, c)
}

fn line(b: &Browsing, ip: &str, target: &str, at: f64) -> String {
    let clock = crate::fit::clf(EPOCH + at);
    if b.combined {
        format!(
            "{ip} - - [{clock}] \"GET {target} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (gen {ip})\"\n"
        )
    } else {
        // NASA's layout: a `-` byte count now and then
        let bytes = if target.ends_with("3.html") {
            "-"
        } else {
            "6245"
        };
        format!("{ip} - - [{clock}] \"GET {target} HTTP/1.0\" 200 {bytes}\n")
    }
}

fn write_log(b: &Browsing, dir: &Path) -> (PathBuf, Counts) {
    let (text, c) = browse(b);
    let log = dir.join("access.log");
    std::fs::write(&log, text).unwrap();
    (log, c)
}

const CLF_BROWSING: Browsing = Browsing {
    rate: 0.5,
    pages_mean: 4.0,
    think_mean: 30.0,
    assets_per_page: 3,
    duration: 4.0 * 3600.0,
    return_share: 0.2,
    combined: false,
    seed: 7,
};

#[test]
fn sessions_of_known_parameters_are_recovered_from_a_common_log_format_log() {
    let b = CLF_BROWSING;
    let dir = tempfile::tempdir().unwrap();
    let (log, truth) = write_log(&b, dir.path());
    let out = dir.path().join("out");
    let (j, stdout) = fit(&[&log], &[], &out);
    // told from its first line; every line read
    assert_eq!(
        j["files"][0]["format"],
        "common log format (no response time)"
    );
    assert_eq!(j["lines"]["skipped"], 0);
    assert!(j["service"].is_null());
    let s = &j["sessions"];
    // exact counts: think times of mean 30 s never reach the 30 min gap (e^-60)
    assert_eq!(s["sessions"], truth.sessions, "{s}");
    assert_eq!(s["page_views"], truth.pages);
    assert_eq!(s["assets"], truth.assets);
    assert_eq!(s["returning"]["sessions"], truth.returning);
    assert_eq!(j["status_codes"]["200"], truth.pages + truth.assets);
    // new sessions per second: Poisson, N sessions, standard error 1/sqrt(N); 4 of them
    let n = truth.sessions as f64;
    within(
        f(&s["starts"]["mean_rate_per_s"]),
        b.rate,
        4.0 / n.sqrt(),
        "session rate",
    );
    // pages: geometric of mean 4, sd sqrt(1 - p) / p; its mean within 4 standard errors
    let p = 1.0 / b.pages_mean;
    let se_pages = (1.0 - p).sqrt() / p / n.sqrt() / b.pages_mean;
    within(
        f(&s["pages"]["mean"]),
        b.pages_mean,
        4.0 * se_pages,
        "pages",
    );
    assert_eq!(s["pages"]["model"], "geometric");
    assert!(f(&s["pages"]["geometric_ks"]) < 1.36 / n.sqrt(), "{s}");
    // think: exponential of mean 30 s, times to the second (up to 0.5 s off on average)
    let t = &s["think"];
    let gaps = f(&t["gaps"]);
    assert_eq!(gaps as u64, truth.pages - truth.sessions);
    let tol = 4.0 / gaps.sqrt() + 0.5 / b.think_mean;
    within(f(&t["best"]["mean_s"]), b.think_mean, tol, "think mean");
    within(f(&t["best"]["cv"]), 1.0, 0.05, "think cv");
    assert!(f(&t["best"]["ks"]) < 0.03, "think KS {}", t["best"]["ks"]);
    within(
        f(&s["assets_per_page"]),
        b.assets_per_page as f64,
        0.001,
        "assets per page",
    );
    // returning share: reported, not mapped (no server errors)
    assert_eq!(s["returning"]["mapped"], false);
    // the users source, by Little's law, and the placeholder service said to be one
    assert_eq!(j["model_source"]["kind"], "users");
    let users_truth = b.rate * b.pages_mean * (0.1 + b.think_mean);
    within(f(&j["model_source"]["users"]), users_truth, 0.08, "users");
    assert_eq!(j["service_given"]["from"], "assumption");
    let model = std::fs::read_to_string(out.join("model.toml")).unwrap();
    assert!(
        model.contains("# Service: ASSUMPTION: lognormal:100ms:1"),
        "{model}"
    );
    assert!(model.contains("kind = \"users\""));
    let assumption: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("service: ASSUMPTION"))
        .collect();
    assert_eq!(assumption.len(), 1, "{stdout}");
    assert!(stdout.contains("model source: users"), "{stdout}");
    assert!(out.join("fit.png").exists());

    // The model, run, offers the log's page views: the users source alone (the assets source
    // taken out) offers sessions x pages; Poisson sessions of geometric pages: the count's
    // standard deviation is sqrt(N E[pages^2]), 1.6% here; within 4 of them.
    let pages_only: String = model
        .split("[[source]]\nname = \"assets\"")
        .next()
        .unwrap()
        .to_string()
        + &model[model.find("[[tier]]").unwrap() - 1..];
    let pages_file = out.join("pages-only.toml");
    std::fs::write(&pages_file, pages_only).unwrap();
    let summary = crate::common::run_file(&pages_file, dir.path(), &[]);
    let offered = f(&summary["requests"]["offered"]);
    let e_p2 = (2.0 - p) / (p * p);
    let sd = (n * e_p2).sqrt() / truth.pages as f64;
    within(offered, truth.pages as f64, 4.0 * sd, "page views offered");
    // and with the assets source, every request of the log
    let all = crate::common::run_file(&out.join("model.toml"), &out.join("all"), &[]);
    within(
        f(&all["requests"]["offered"]),
        (truth.pages + truth.assets) as f64,
        4.0 * sd,
        "requests offered",
    );
}

#[test]
fn a_combined_log_takes_its_service_from_the_flag_or_from_a_load_test_beside_it() {
    let b = Browsing {
        rate: 0.3,
        // sessions within 30 min of either end are a third of them: the users source is chosen
        duration: 3.0 * 3600.0,
        combined: true,
        return_share: 0.0,
        seed: 3,
        ..CLF_BROWSING
    };
    let dir = tempfile::tempdir().unwrap();
    let (log, truth) = write_log(&b, dir.path());
    // --service
    let out = dir.path().join("given");
    let (j, stdout) = fit(&[&log], &["--service", "lognormal:120ms:0.8"], &out);
    assert_eq!(
        j["files"][0]["format"],
        "combined log format (no response time)"
    );
    assert_eq!(j["sessions"]["sessions"], truth.sessions);
    assert_eq!(j["service_given"]["from"], "--service");
    within(f(&j["service_given"]["mean_s"]), 0.12, 1e-9, "given mean");
    assert_eq!(j["provenance"]["service"], "--service lognormal:120ms:0.8");
    let model = std::fs::read_to_string(out.join("model.toml")).unwrap();
    assert!(
        model.contains(r#"service = { dist = "lognormal", mean = "120ms", cv = 0.8 }"#),
        "{model}"
    );
    assert!(!model.contains("ASSUMPTION: lognormal"), "{model}");
    assert!(stdout.contains("service: given by --service lognormal:120ms:0.8"));
    // users count the given response time per page
    let pages = f(&j["sessions"]["pages"]["mean"]);
    let think = f(&j["sessions"]["think"]["best"]["mean_s"]);
    let rate = f(&j["sessions"]["starts"]["baseline_rate_per_s"]);
    within(
        f(&j["model_source"]["users"]),
        rate * pages * (0.12 + think),
        1e-9,
        "users by Little's law",
    );
    // a load test beside the log: the service from it, the arrivals and sessions from the log
    let jtl = repo_file("tests/fit-data/results.jtl");
    let out = dir.path().join("two");
    let (j, stdout) = fit(&[&log, &jtl], &[], &out);
    let p = &j["provenance"];
    assert_eq!(p["arrivals"][0], log.display().to_string());
    assert_eq!(p["sessions"][0], log.display().to_string());
    assert_eq!(p["service"], jtl.display().to_string());
    assert!(j["service_given"].is_null());
    assert!(j["service"]["mean_s"].as_f64().unwrap() > 0.0);
    assert_eq!(j["arrivals"]["requests"], truth.pages + truth.assets);
    assert!(
        stdout.contains(&format!("service: {}", jtl.display())),
        "{stdout}"
    );
    // --source requests: open arrivals instead of users
    let out = dir.path().join("requests");
    let (j, _) = fit(&[&log], &["--source", "requests"], &out);
    assert_eq!(j["model_source"]["kind"], "requests");
    let model = std::fs::read_to_string(out.join("model.toml")).unwrap();
    assert!(model.contains("kind = \"requests\"") && !model.contains("kind = \"users\""));
}

#[test]
fn bad_service_and_source_flags_are_refused_with_the_flag_named() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = write_log(
        &Browsing {
            duration: 600.0,
            ..CLF_BROWSING
        },
        dir.path(),
    );
    for (args, frag) in [
        (
            vec!["--service", "lognormal:120ms"],
            "--service lognormal:120ms",
        ),
        (
            vec!["--service", "zipf:1s:2"],
            "unknown distribution `zipf`",
        ),
        (vec!["--service", "gamma:1s:-1"], "--service gamma:1s:-1"),
        (vec!["--session-gap", "0s"], "--session-gap"),
        (vec!["--assets", "(unclosed"], "--assets `(unclosed`"),
    ] {
        let a = surge()
            .arg("fit")
            .arg(&log)
            .args(&args)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert();
        assert_bad_input(a.get_output(), &[frag]);
    }
    // users from a load test that names no clients and records no users
    let a = surge()
        .arg("fit")
        .arg(repo_file("tests/fit-data/vegeta.csv"))
        .args(["--source", "users", "--out"])
        .arg(dir.path().join("out"))
        .assert();
    assert_bad_input(a.get_output(), &["--source users", "no clients"]);
    assert!(!dir.path().join("out/model.toml").exists());
    // a load test that records its users: they are the users source (a closed population)
    let a = surge()
        .arg("fit")
        .arg(repo_file("tests/fit-data/results.jtl"))
        .args(["--source", "users", "--quiet", "--out"])
        .arg(dir.path().join("closed"))
        .assert()
        .success();
    drop(a);
    let model = std::fs::read_to_string(dir.path().join("closed/model.toml")).unwrap();
    assert!(model.contains("population = \"closed\""), "{model}");
}
