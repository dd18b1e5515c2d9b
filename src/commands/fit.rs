//! `surge fit FILE...`: read access logs or load-test results, fit arrivals, service time and
//! contention (`app::fit`), and print what was fitted: these are the flags and the terminal lines.

use crate::output::stdout::outln;
use anyhow::Result;
use std::path::PathBuf;

use crate::app;
use crate::cli::FitArgs;
use crate::fit::{Options, report};
use crate::model::error::BadInput;
use crate::model::units::parse_duration;

/// The arrival buckets without `--bucket` (capped to the data's span).
const DEFAULT_BUCKET: &str = "1m";

pub fn fit(args: &FitArgs) -> Result<()> {
    let done = app::fit::fit(&settings(args)?)?;
    if !args.quiet {
        let fitted = &done.fit;
        print_summary(fitted)?;
        super::fit_logs::print(fitted)?;
        print_population(fitted, done.round_trip_error.as_ref())?;
        outln!(
            "outputs: {}/ (model.toml, arrivals.csv, fit.json, fit.png, fit.svg, report.html, report.md)",
            done.dir.display()
        );
    }
    Ok(())
}

/// The flags, checked and resolved: `--bucket` whole seconds, `--session-gap`, `--assets`.
pub(crate) fn settings(args: &FitArgs) -> Result<app::fit::FitSettings> {
    let bucket = args.bucket.as_deref().unwrap_or(DEFAULT_BUCKET);
    let bucket_s = parse_duration(bucket).map_err(|e| BadInput(format!("--bucket: {e}")))?;
    if bucket_s < 1.0 || bucket_s.fract() != 0.0 {
        return Err(BadInput(format!(
            "--bucket must be a whole number of seconds, at least 1 s (got {bucket})"
        ))
        .into());
    }
    Ok(app::fit::FitSettings {
        files: args.files.clone(),
        options: Options {
            format: args.format,
            log_format: args.log_format.clone(),
            bucket_s,
            bucket_given: args.bucket.is_some(),
            endpoints: args.endpoints,
            threads: args.threads,
            session_gap_s: super::fit_logs::session_gap(&args.session_gap)?,
            assets: super::fit_logs::assets(args.assets.as_deref())?,
            source: args.source,
        },
        asked: crate::fit::logs_fit::Asked {
            service: args.service.clone(),
            source: args.source,
        },
        out: args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from(app::fit::DEFAULT_OUT)),
    })
}

fn ms(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

fn print_summary(f: &report::Fit) -> anyhow::Result<()> {
    for file in &f.files {
        outln!(
            "{}: {} — {} lines, {} parsed, {} skipped",
            file.path.display(),
            file.format,
            file.lines.read,
            file.lines.parsed,
            file.lines.skipped
        );
        if let Some(u) = &file.used_for {
            outln!("  used for: {u}");
        }
        for w in &file.warnings {
            outln!("  WARNING: {w}");
        }
        for b in &file.bad_lines {
            outln!("  skipped line {}: {}", b.line, b.why);
        }
        if let Some(n) = file.notes.get("nul_bytes_dropped") {
            outln!(
                "  dropped {} NUL bytes (the hole a copytruncate log rotation leaves)",
                super::human_count(*n)
            );
        }
    }
    if f.requests.out_of_span > 0 {
        outln!(
            "dropped {} requests dated more than {} days from the bulk of the data (the median start of the first {} requests): a stray clock or date, not traffic",
            super::human_count(f.requests.out_of_span as f64),
            crate::fit::collect::MAX_SPAN_S / 86_400,
            crate::fit::collect::ANCHOR_SAMPLE
        );
    }
    print_arrivals(f)?;
    if let Some(s) = &f.service {
        let empirical = crate::fit::report::service_choice::empirical(f).is_some();
        outln!(
            "service: {}{} mean {}, cv {:.2} (KS {:.4}), fitted to {} {}",
            if empirical {
                "the model draws from the measured times (service.csv, see below); best fit "
            } else {
                ""
            },
            s.dist,
            ms(s.mean_s),
            s.cv,
            s.ks,
            s.fitted_on,
            s.basis
        );
        for c in &s.candidates {
            outln!(
                "  {:<12} mean {:>9}  cv {:.2}  AIC {:>12.1}  KS {:.4}",
                c.dist,
                ms(c.mean_s),
                c.cv,
                c.aic,
                c.ks
            );
        }
        outln!(
            "measured: mean {}, cv {:.2}, p50 {}, p95 {}, p99 {}",
            ms(s.observed.mean_s),
            s.observed.cv,
            ms(s.observed.p50_s),
            ms(s.observed.p95_s),
            ms(s.observed.p99_s)
        );
    }
    for e in &f.endpoints {
        let fit = match (&e.dist, e.mean_s, e.cv) {
            (Some(d), Some(m), Some(cv)) => format!(", {d} mean {}, cv {cv:.2}", ms(m)),
            _ => String::new(),
        };
        outln!(
            "  endpoint {:<30} {:>5.1}% of requests{fit}",
            e.endpoint,
            100.0 * e.share
        );
    }
    match &f.contention {
        Some(c) => {
            if let Some(v) = c.verdict_line() {
                outln!(
                    "contention: {v}; alone a request takes {}",
                    ms(c.low_concurrency_mean_s.unwrap_or(f64::NAN))
                );
            }
            outln!("concurrency: {}", c.note);
        }
        None if f.service.is_none() => {}
        None => outln!("contention: too few 10 s windows with responses to tell"),
    }
    Ok(())
}

/// The arrivals: counts, rates per bucket, the surge, the bucket's notes, a schedule.
fn print_arrivals(f: &report::Fit) -> anyhow::Result<()> {
    let a = &f.arrivals;
    outln!(
        "arrivals: {} over {} ({} failed); mean {:.2}/s, peak {:.2}/s, median {:.2}/s per {} s bucket; {}",
        crate::fmt::counted(a.requests, "request", "requests"),
        super::human_duration(a.span_s),
        super::human_count(f.requests.failed as f64),
        a.mean_rate_per_s,
        a.peak_rate_per_s,
        a.median_rate_per_s,
        a.bucket_s,
        crate::fit::surge::said(a.surge.as_ref())
    );
    if let Some(n) = &a.partial_bucket_note {
        outln!("arrivals: {n}");
    }
    if let Some(n) = &a.bucket_note {
        outln!("arrivals: {n}");
    }
    if a.paced() {
        outln!(
            "arrivals: sent on a schedule, not by independent clients (dispersion {:.2} of the requests per second; Poisson arrivals give 1): a constant-rate load generator or clients in a loop. {}",
            a.dispersion.unwrap_or(0.0),
            match &f.closed {
                Some(c) => format!(
                    "The model is a closed population of {} users ({}), each sending its next request after the last one's response and a think time, not Poisson arrivals",
                    c.users, c.users_from
                ),
                None => "The model's arrivals are Poisson (ASSUMPTION: what users make), which queue more than these did near capacity".into(),
            }
        );
    }
    Ok(())
}

/// What the load and the threads are and where each figure comes from, and the round trip.
fn print_population(f: &report::Fit, round_trip_failed: Option<&String>) -> anyhow::Result<()> {
    if let Some(c) = &f.closed {
        outln!(
            "users: a closed test, {} users at most ({}; {:.1} on average), each thinking {:.3} s (cv {:.2}) between requests, from {}",
            c.users,
            c.users_from,
            c.mean_users,
            c.think_mean_s,
            c.think_cv,
            c.think_from
        );
    }
    // Only where the model does draw from the times (not with --service).
    if let Some(w) =
        crate::fit::report::service_choice::empirical(f).and_then(|s| s.written.as_ref())
    {
        outln!("service in the model: {}", w.why);
    }
    let cap = &f.capacity;
    let source = match cap.from {
        crate::fit::capacity::ThreadsFrom::Flag => "from --threads",
        crate::fit::capacity::ThreadsFrom::Data => "from the data",
        crate::fit::capacity::ThreadsFrom::Assumption => "ASSUMED (confirm with --threads N)",
    };
    // a log without response times shows no requests in progress (its Little's law reads 0)
    let untimed = !f.files.is_empty()
        && f.files
            .iter()
            .all(|x| x.format.contains("no response time"));
    let shown = if untimed && f.logs.service_given.is_some() {
        "the data hold no response times, so they show no requests in progress".to_string()
    } else {
        format!(
            "the data show {:.1} requests in progress on average (Little's law over the span)",
            cap.in_progress_whole_span
        )
    };
    outln!(
        "threads: {} {source}; {shown}{}",
        cap.threads,
        cap.recorded_users
            .map(|u| format!(", {u} users recorded"))
            .unwrap_or_default()
    );
    if let Some(w) = &cap.warning {
        outln!("WARNING: {w}");
    }
    outln!(
        "{}",
        f.requests
            .refusals
            .terminal_line(cap.threads, cap.queue.as_ref().map(|q| (q.places, q.why())))
    );
    match (&f.round_trip, round_trip_failed) {
        (Some(rt), _) => {
            outln!("{}", rt.line());
            if let Some(w) = rt.warning() {
                outln!("{w}");
            }
            if let Some(m) = rt.more_load_line() {
                outln!("{m}");
            }
        }
        (None, Some(e)) => outln!("WARNING: the fitted model could not be simulated: {e}"),
        (None, None) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// fit.json read back through its type (`store::json::read_json::<Fit>`) and written again
    /// is the file `surge fit` wrote, byte for byte: no key is lost or renamed on the way.
    #[test]
    fn fit_json_reads_back_through_its_type() {
        let tmp = tempfile::tempdir().unwrap();
        let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fit-data/nginx.log");
        let cli = crate::cli::Cli::try_parse_from([
            "surge".as_ref(),
            "fit".as_ref(),
            log.as_os_str(),
            "--out".as_ref(),
            tmp.path().as_os_str(),
        ])
        .unwrap();
        let Some(crate::cli::Command::Fit(args)) = cli.command else {
            panic!("not a fit")
        };
        app::fit::fit(&settings(&args).unwrap()).unwrap();
        let path = tmp.path().join("fit.json");
        let written = std::fs::read_to_string(&path).unwrap();
        let back: crate::fit::report::Fit = crate::store::json::read_json(&path).unwrap();
        let again = tmp.path().join("again.json");
        crate::store::atomic::write_json(&again, &back).unwrap();
        assert_eq!(std::fs::read_to_string(&again).unwrap(), written);
    }
}
