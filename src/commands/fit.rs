//! `surge fit FILE...`: read access logs or load-test results, fit arrivals, service time and
//! contention, and write model.toml, arrivals.csv, fit.json and fit.png/.svg.

use anyhow::Result;
use std::path::PathBuf;

use crate::cli::FitArgs;
use crate::fit::{self, Options, model_toml, report};
use crate::model::error::BadInput;
use crate::model::units::parse_duration;
use crate::output::{write_atomic, write_json};

pub fn fit(args: &FitArgs) -> Result<()> {
    let bucket_s = parse_duration(&args.bucket).map_err(|e| BadInput(format!("--bucket: {e}")))?;
    if bucket_s < 1.0 || bucket_s.fract() != 0.0 {
        return Err(BadInput(format!(
            "--bucket must be a whole number of seconds, at least 1 s (got {})",
            args.bucket
        ))
        .into());
    }
    let opts = Options {
        format: args.format,
        log_format: args.log_format.clone(),
        bucket_s,
        endpoints: args.endpoints,
    };
    let reading = fit::read(&args.files, &opts)?;
    let fitted = report::analyse(&reading, &opts);
    let files: Vec<String> = reading
        .files
        .iter()
        .map(|f| format!("{} ({})", f.path.display(), f.format))
        .collect();
    let model = model_toml::write(&fitted, &files.join(", "), "fitted").map_err(BadInput)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs/fit"));
    std::fs::create_dir_all(&out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    write_atomic(
        &out.join("arrivals.csv"),
        fitted.arrivals.trace_csv().as_bytes(),
    )?;
    write_atomic(&out.join("model.toml"), model.as_bytes())?;
    let doc = serde_json::to_value(&fitted)?;
    write_json(&out.join("fit.json"), &doc)?;
    crate::output::chart::draw_fit(
        &fitted,
        &format!("surge fit: {}", files.join(", ")),
        &out.join("fit.png"),
        &out.join("fit.svg"),
    )?;
    crate::report::write(&out, &crate::report::fit::build(&doc, &model, &out))?;
    if !args.quiet {
        print_summary(&fitted);
        println!(
            "outputs: {}/ (model.toml, arrivals.csv, fit.json, fit.png, fit.svg, report.html, report.md)",
            out.display()
        );
    }
    Ok(())
}

fn ms(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

fn print_summary(f: &report::Fit) {
    for file in &f.files {
        println!(
            "{}: {} — {} lines, {} parsed, {} skipped",
            file.path.display(),
            file.format,
            file.lines.read,
            file.lines.parsed,
            file.lines.skipped
        );
        for b in &file.bad_lines {
            println!("  skipped line {}: {}", b.line, b.why);
        }
        if let Some(n) = file.notes.get("nul_bytes_dropped") {
            println!(
                "  dropped {} NUL bytes (the hole a copytruncate log rotation leaves)",
                super::human_count(*n)
            );
        }
    }
    if f.requests.out_of_span > 0 {
        println!(
            "dropped {} requests dated more than {} days from the bulk of the data (the median start of the first {} requests): a stray clock or date, not traffic",
            super::human_count(f.requests.out_of_span as f64),
            crate::fit::collect::MAX_SPAN_S / 86_400,
            crate::fit::collect::ANCHOR_SAMPLE
        );
    }
    let a = &f.arrivals;
    println!(
        "arrivals: {} requests over {} ({} failed); mean {:.2}/s, peak {:.2}/s, median {:.2}/s per {} s bucket: the data hold a {:.2}x surge",
        super::human_count(a.requests as f64),
        super::human_duration(a.span_s),
        super::human_count(f.requests.failed as f64),
        a.mean_rate_per_s,
        a.peak_rate_per_s,
        a.median_rate_per_s,
        a.bucket_s,
        a.surge_in_data
    );
    match &f.service {
        Some(s) => {
            println!(
                "service: {} mean {}, cv {:.2} (KS {:.4}), fitted to {} {}",
                s.dist,
                ms(s.mean_s),
                s.cv,
                s.ks,
                s.fitted_on,
                s.basis
            );
            for c in &s.candidates {
                println!(
                    "  {:<12} mean {:>9}  cv {:.2}  AIC {:>12.1}  KS {:.4}",
                    c.dist,
                    ms(c.mean_s),
                    c.cv,
                    c.aic,
                    c.ks
                );
            }
            println!(
                "measured: mean {}, cv {:.2}, p50 {}, p95 {}, p99 {}",
                ms(s.observed.mean_s),
                s.observed.cv,
                ms(s.observed.p50_s),
                ms(s.observed.p95_s),
                ms(s.observed.p99_s)
            );
        }
        None => println!("service: fewer than 10 successful responses with a time: no fit"),
    }
    for e in &f.endpoints {
        let fit = match (&e.dist, e.mean_s, e.cv) {
            (Some(d), Some(m), Some(cv)) => format!(", {d} mean {}, cv {cv:.2}", ms(m)),
            _ => String::new(),
        };
        println!(
            "  endpoint {:<30} {:>5.1}% of requests{fit}",
            e.endpoint,
            100.0 * e.share
        );
    }
    match &f.contention {
        Some(c) => {
            if let (Some(k), Some(se)) = (c.coefficient, c.coefficient_se) {
                println!(
                    "contention: {k:.5} +- {se:.5} per request in progress{}; alone a request takes {}",
                    if c.significant {
                        ""
                    } else {
                        " (not distinguishable from 0: the model uses 0)"
                    },
                    ms(c.low_concurrency_mean_s.unwrap_or(f64::NAN))
                );
            }
            println!("concurrency: {}", c.note);
        }
        None => println!("contention: too few 10 s windows with responses to tell"),
    }
}
