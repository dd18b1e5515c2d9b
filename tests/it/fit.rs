//! `surge fit`: parameters recovered from data generated with known parameters (Poisson
//! arrivals with a profile, lognormal service, contention), the round trip through `surge run`,
//! and errors kept out of the service fit. Each tool's format: `fit_formats`.

use crate::fit_common::{f, traced, within};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1, LogNormal, StandardUniform};
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};

/// A generated request.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) start: f64,
    pub(crate) time: f64,
    pub(crate) ok: bool,
    pub(crate) path: &'static str,
}

/// Known parameters of generated traffic.
pub(crate) struct Truth {
    /// Requests per second at t seconds.
    pub(crate) rate: fn(f64) -> f64,
    pub(crate) max_rate: f64,
    pub(crate) duration: f64,
    pub(crate) mean: f64,
    pub(crate) cv: f64,
    pub(crate) contention: f64,
    pub(crate) error_rate: f64,
    /// Threads serving first come, first served (0: as many as needed, no waiting).
    pub(crate) threads: usize,
    pub(crate) seed: u64,
}

impl Truth {
    /// Arrivals at `rate` (at most `max_rate`) for `duration` seconds, served by `threads`
    /// threads (0: no waiting) in a lognormal time of mean `mean` and cv 1, without contention
    /// or errors, from `seed`.
    pub(crate) fn served(
        (rate, max_rate): (fn(f64) -> f64, f64),
        duration: f64,
        mean: f64,
        threads: usize,
        seed: u64,
    ) -> Truth {
        Truth {
            rate,
            max_rate,
            duration,
            mean,
            cv: 1.0,
            contention: 0.0,
            error_rate: 0.0,
            threads,
            seed,
        }
    }
}

pub(crate) const EPOCH: f64 = 1_700_000_000.0; // 2023-11-14 22:13:20 UTC

/// Poisson arrivals (thinning) served without queueing, each taking s x (1 + contention x n)
/// with n the requests in progress counting itself, as the simulator does.
pub(crate) fn generate(t: &Truth) -> Vec<Req> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(t.seed);
    let s2 = (1.0 + t.cv * t.cv).ln();
    let ln = LogNormal::new(t.mean.ln() - s2 / 2.0, s2.sqrt()).unwrap();
    let mut now = 0.0;
    let mut ends: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut free: BinaryHeap<Reverse<u64>> = (0..t.threads).map(|_| Reverse(0)).collect();
    let mut out = Vec::new();
    let paths = ["/", "/search", "/item", "/cart"];
    loop {
        let e: f64 = Exp1.sample(&mut rng);
        now += e / t.max_rate;
        if now >= t.duration {
            break;
        }
        let u: f64 = StandardUniform.sample(&mut rng);
        if u * t.max_rate > (t.rate)(now) {
            continue;
        }
        while ends
            .peek()
            .is_some_and(|Reverse(x)| (*x as f64) * 1e-9 <= now)
        {
            ends.pop();
        }
        let n = ends.len() as f64 + 1.0;
        let err: f64 = StandardUniform.sample(&mut rng);
        let ok = err >= t.error_rate;
        let time = if ok && t.threads > 0 {
            // wait for the first thread free, then the service
            let Reverse(at) = free.pop().unwrap();
            let begin = now.max(at as f64 * 1e-9);
            let end = begin + ln.sample(&mut rng);
            free.push(Reverse((end * 1e9) as u64));
            end - now
        } else if ok {
            ln.sample(&mut rng) * (1.0 + t.contention * n)
        } else {
            5.0 // errors are slow, so that letting them into the fit would show
        };
        ends.push(Reverse(((now + time) * 1e9) as u64));
        let which: f64 = StandardUniform.sample(&mut rng);
        let path = paths[((which * which) * 4.0) as usize];
        out.push(Req {
            start: now,
            time,
            ok,
            path,
        });
    }
    out
}

pub(crate) fn clf(epoch: f64) -> String {
    let secs = epoch.floor() as i64;
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{d:02}/{mon}/{y}:{:02}:{:02}:{:02} +0000",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    )
}

/// nginx combined + $request_time, one line per request written when it ends (in end order).
pub(crate) fn nginx_log(reqs: &[Req]) -> String {
    let mut by_end: Vec<&Req> = reqs.iter().collect();
    by_end.sort_by(|a, b| (a.start + a.time).total_cmp(&(b.start + b.time)));
    let mut s = String::with_capacity(reqs.len() * 150);
    for (i, r) in by_end.iter().enumerate() {
        s.push_str(&format!(
            "10.0.{}.{} - - [{}] \"GET {}?id={i} HTTP/1.1\" {} 512 \"-\" \"Mozilla/5.0 (gen)\" {:.3}\n",
            i % 200,
            i % 250,
            clf(EPOCH + r.start + r.time),
            r.path,
            if r.ok { 200 } else { 503 },
            r.time
        ));
    }
    s
}

/// Requests generated from `truth`, written as an nginx log `access.log` in a fresh folder.
pub(crate) fn generated_log(truth: &Truth) -> (tempfile::TempDir, PathBuf, Vec<Req>) {
    let reqs = generate(truth);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(&log, nginx_log(&reqs)).unwrap();
    (dir, log, reqs)
}

/// Run `surge fit --quiet` and return fit.json.
fn fit(files: &[&Path], extra: &[&str], out: &Path) -> Value {
    let mut args = extra.to_vec();
    args.push("--quiet");
    crate::fit_common::fit_with_stdout(files, &args, out).0
}

fn percentile(mut x: Vec<f64>, p: f64) -> f64 {
    x.sort_by(f64::total_cmp);
    x[((p * x.len() as f64).ceil() as usize).clamp(1, x.len()) - 1]
}

fn daily(t: f64) -> f64 {
    // a morning rise and an afternoon fall over one hour: 20/s to 60/s and back to 30/s
    20.0 + 40.0 * (t / 1500.0).min(1.0) - 30.0 * ((t - 2400.0) / 1200.0).clamp(0.0, 1.0)
}

#[test]
fn recovers_arrivals_and_lognormal_service_from_an_nginx_log() {
    let truth = Truth {
        cv: 1.5,
        error_rate: 0.05,
        ..Truth::served((daily, 60.0), 3600.0, 0.120, 0, 11)
    };
    let (dir, log, reqs) = generated_log(&truth);
    let j = fit(&[&log], &[], &dir.path().join("out"));
    // every request counted, errors counted and kept out of the fit
    assert_eq!(j["lines"]["read"], reqs.len() as u64);
    assert_eq!(j["lines"]["skipped"], 0);
    assert_eq!(j["arrivals"]["requests"], reqs.len() as u64);
    let failed = reqs.iter().filter(|r| !r.ok).count() as u64;
    assert_eq!(j["requests"]["failed"], failed);
    // the failures are 503s: requests turned away, so the model keeps a bounded queue
    assert_eq!(j["requests"]["refusals"]["turned_away"], failed);
    let model = std::fs::read_to_string(dir.path().join("out/model.toml")).unwrap();
    let threads = j["capacity"]["threads"].as_u64().unwrap();
    assert!(
        model.contains(&format!(
            "queue = {threads}   # ASSUMPTION: as many waiting places as threads; the data show {} requests turned away",
            thousands(failed)
        )),
        "{model}"
    );
    let s = &j["service"];
    assert_eq!(s["dist"], "lognormal", "{s}");
    within(f(&s["mean_s"]), truth.mean, 0.03, "service mean");
    within(f(&s["cv"]), truth.cv, 0.05, "service cv");
    assert_eq!(s["candidates"].as_array().unwrap().len(), 4);
    assert!(f(&s["ks"]) < 0.01, "KS {}", s["ks"]);
    // the profile follows the known rate (Poisson error of a 150 s run of buckets is ~2%)
    let base = f(&j["arrivals"]["baseline_rate_per_s"]);
    for k in j["arrivals"]["profile"].as_array().unwrap() {
        let (t, factor) = (f(&k[0]), f(&k[1]));
        within(base * factor, daily(t), 0.12, &format!("rate at {t} s"));
    }
    within(f(&j["arrivals"]["peak_rate_per_s"]), 60.0, 0.1, "peak rate");
    assert!(j["arrivals"]["profile"].as_array().unwrap().len() <= 24);
    // endpoint shares
    let eps = j["endpoints"].as_array().unwrap();
    assert_eq!(eps[0]["endpoint"], "/");
    within(f(&eps[0]["share"]), 0.5, 0.05, "share of /");
    // arrivals.csv replays: a trace source reads it and holds every request
    let csv = std::fs::read_to_string(dir.path().join("out/arrivals.csv")).unwrap();
    let total: u64 = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, reqs.len() as u64);
    assert!(dir.path().join("out/fit.png").exists());
    // The chart: its title names the log, its panels and axes, and its legends the responses
    // fitted (at most the 100,000 of the reservoir), the model's rate and profile of fit.json,
    // and each candidate with its AIC and KS.
    let chart = crate::svg::Chart::read(&dir.path().join("out/fit.svg"));
    let title = format!("surge fit: {} (nginx", log.display());
    assert!(
        chart.texts().iter().any(|t| t.starts_with(&title)),
        "{:?}",
        chart.texts()
    );
    let ok = format!(
        "data ({} responses)",
        (reqs.len() - failed as usize).min(100_000)
    );
    let rate = format!(
        "model: rate {:.2}/s x profile ({} knots)",
        base,
        j["arrivals"]["profile"].as_array().unwrap().len()
    );
    chart.assert_shows(&[
        "Service time: empirical CDF against the fitted candidates (lowest AIC first)",
        "time (s, log scale)",
        "share of responses at or below",
        &ok,
        "minutes since the first request",
        "requests per second",
        &rate,
        "Response time against requests in progress (10 s windows pooled by load)",
        "mean response time (ms)",
    ]);
    for c in s["candidates"].as_array().unwrap() {
        let label = format!(
            "{} (AIC {:.0}, KS {:.3})",
            c["dist"].as_str().unwrap(),
            f(&c["aic"]),
            f(&c["ks"])
        );
        chart.assert_shows(&[&label]);
    }
}

#[test]
fn recovers_contention_and_the_knee_is_absent_below_saturation() {
    let truth = Truth {
        contention: 0.02,
        ..Truth::served((|t| 10.0 + 290.0 * t / 3600.0, 300.0), 3600.0, 0.050, 0, 5)
    };
    let (dir, log, _) = generated_log(&truth);
    let j = fit(&[&log], &[], &dir.path().join("out"));
    let c = &j["contention"];
    within(f(&c["coefficient"]), truth.contention, 0.10, "contention");
    assert_eq!(c["significant"], true);
    assert!(c["knee"].is_null(), "{c}");
    // the model's service is the time before contention
    within(
        f(&j["service"]["mean_s"]),
        truth.mean,
        0.03,
        "base service mean",
    );
    within(f(&j["service"]["cv"]), truth.cv, 0.05, "base service cv");
    let model = std::fs::read_to_string(dir.path().join("out/model.toml")).unwrap();
    assert!(model.contains("contention = 0.0"), "{model}");
}

#[test]
fn the_knee_is_found_where_throughput_stops_growing() {
    // 10 threads of 100 ms: 100 requests/s at most; the arrivals ramp from 20/s to 120/s
    let truth = Truth::served((|t| 20.0 + 100.0 * t / 1200.0, 120.0), 1200.0, 0.100, 10, 8);
    let (dir, log, _) = generated_log(&truth);
    let j = fit(&[&log], &[], &dir.path().join("out"));
    let c = &j["contention"];
    let knee = c["knee"].as_f64().unwrap_or_else(|| panic!("no knee: {c}"));
    assert!((8.0..=20.0).contains(&knee), "knee {knee}: {c}");
    within(
        f(&c["knee_throughput_per_s"]),
        100.0,
        0.15,
        "throughput at the knee",
    );
    let model = std::fs::read_to_string(dir.path().join("out/model.toml")).unwrap();
    assert!(
        model.contains(&format!("threads = {}", knee.round())),
        "{model}"
    );
    // a request alone takes the service time, not the waiting: the M/M/N waiting of the fitted
    // threads is taken out below the knee (about 3,500 responses in the lowest bins: the
    // standard error of their mean is under 2%)
    assert_eq!(c["threads_fitted"], 10, "{c}");
    within(
        f(&c["low_concurrency_mean_s"]),
        truth.mean,
        0.05,
        "time of a request alone",
    );
    within(
        f(&j["service"]["mean_s"]),
        truth.mean,
        0.05,
        "service mean below the knee",
    );
}

#[test]
fn round_trip_the_written_model_reproduces_throughput_and_latency() {
    let truth = Truth {
        cv: 1.5,
        ..Truth::served((daily, 60.0), 3600.0, 0.120, 0, 21)
    };
    let (dir, log, reqs) = generated_log(&truth);
    // SURGE_FIT_EXAMPLE=access.log keeps a copy of the generated log.
    if let Ok(keep) = std::env::var("SURGE_FIT_EXAMPLE") {
        std::fs::copy(&log, keep).unwrap();
    }
    let out = dir.path().join("out");
    let j = fit(&[&log], &[], &out);
    // no request turned away: the model's queue has no bound, and says why
    assert_eq!(j["requests"]["refusals"]["turned_away"], 0);
    let model = std::fs::read_to_string(out.join("model.toml")).unwrap();
    assert!(!model.lines().any(|l| l.starts_with("queue")), "{model}");
    assert!(
        model.contains("# queue: no bound (no `queue` key). ASSUMPTION: none of the"),
        "{model}"
    );
    // fit's own round trip agrees
    let rt = &j["round_trip"];
    assert_eq!(rt["within"], true, "{rt}");
    assert_eq!(rt["whole_span"], true, "{rt}");
    let times: Vec<f64> = reqs
        .iter()
        .map(|r| (r.time * 1000.0).round() / 1000.0)
        .collect();
    let data_p50 = percentile(times.clone(), 0.5);
    let data_p95 = percentile(times, 0.95);
    let data_rate = f(&j["arrivals"]["mean_rate_per_s"]);
    let summary = crate::common::run_file(&out.join("model.toml"), dir.path(), &[]);
    let sim = &summary["tiers"][0];
    within(f(&sim["throughput_per_s"]), data_rate, 0.05, "throughput");
    within(f(&summary["latency_s"]["p50"]), data_p50, 0.05, "p50");
    within(f(&summary["latency_s"]["p95"]), data_p95, 0.05, "p95");
    // the recorded arrivals replay through a trace source too
    let traced = traced(&model, &["requests"], &["rate = ", "profile = "]);
    let traced_file = out.join("traced.toml");
    std::fs::write(&traced_file, traced).unwrap();
    let summary = crate::common::run_file(&traced_file, dir.path(), &[]);
    within(
        f(&summary["requests"]["offered"]),
        reqs.len() as f64,
        0.01,
        "trace replay",
    );
}

/// `n` with a comma between thousands, as the model's comments write counts ("8,361").
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
