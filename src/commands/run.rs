//! `surge run` (and `surge` with no arguments): simulate, write `summary.json`,
//! `timeseries.csv`, `timeline.png` and `timeline.svg`, and tell the planner what happened.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{human_count, human_duration, levels, out_dir, outage_line};
use crate::cli::RunArgs;
use crate::experiment::{RunOutput, guard, mean_series, replicate, run_watched};
use crate::metrics::replicated::Replicated;
use crate::metrics::run_summary::RunSummary;
use crate::model::{self, Model};
use crate::output::{self, chart};
use crate::stats::mean_ci95;
use crate::store::json::Documented;
use crate::store::provenance::{self, Provenance};

pub fn run(args: &RunArgs) -> Result<()> {
    let model = model::load(args.model.as_deref(), &args.sets)?;
    if !args.quiet {
        for w in model::warnings::warnings(&model) {
            eprintln!("warning: {w}");
        }
    }
    let limits = args.bounds.limits();
    guard::check_size(
        &model,
        u64::from(args.reps),
        &limits,
        args.bounds.allow_huge,
    )?;
    let asserts = crate::report::assert::prepare(
        &args.asserts,
        &crate::report::assert::summary_template(&model),
        "summary.json",
    )?;
    let seed = args.seed.unwrap_or(model.scenario.seed);
    let dir = out_dir(&args.out, &model, "run");
    let _lock = crate::store::lock::lock(&dir)?;
    let provenance = Provenance::of(args.model.as_deref(), &args.sets)?;
    if let Some(file) = &args.save_model {
        let text = provenance::effective_text(args.model.as_deref(), &args.sets)?;
        crate::store::atomic::write_atomic(file, text.as_bytes())
            .with_context(|| format!("--save-model {}", file.display()))?;
    }

    let progress = (args.reps > 1 && !args.quiet).then(|| {
        let p =
            ProgressBar::with_draw_target(Some(u64::from(args.reps)), ProgressDrawTarget::stderr());
        p.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} replications, ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        p.set_message(model.scenario.name.clone());
        p
    });
    let outs = if args.reps == 1 {
        vec![run_with_bar(&model, seed, &limits, args.quiet)]
    } else {
        replicate(&model, seed, args.reps, &limits, progress.as_ref())
    };
    if let Some(p) = progress {
        p.finish_and_clear();
    }

    let summaries: Vec<&crate::metrics::Summary> = outs.iter().map(|o| &o.summary).collect();
    let summary = serde_json::to_value(Documented {
        doc: RunSummary::of(&summaries),
        provenance: Some(provenance),
    })?;
    let series = mean_series(&outs);
    let first = &outs[0].summary.outage;
    crate::store::atomic::write_json(&dir.join("summary.json"), &summary)?;
    crate::store::atomic::write_atomic(
        &dir.join("timeseries.csv"),
        &output::timeseries_csv(&series)?,
    )?;
    let outages: Vec<(f64, f64)> = first.intervals.iter().map(|i| (i[0], i[1])).collect();
    let title = if args.reps > 1 {
        format!(
            "{} — mean of {} replications (outages of replication 0 shaded)",
            model.scenario.name, args.reps
        )
    } else {
        format!("{} — seed {seed}", model.scenario.name)
    };
    let span = Simulated::of(&model, &outs);
    let title = if span.stopped > 0 {
        format!(
            "{title} — PARTIAL: {}",
            span.describe(&model)
                .replace(" (stopped", ", stopped")
                .replace(')', "")
        )
    } else {
        title
    };
    let timeline = chart::Timeline {
        title: &title,
        series: &series,
        outages: &outages,
        crash_time_s: first.crash_time_s,
        recovered_at_s: first.recovered_at_s,
        instance_crashes: chart::first_crashes(&outs[0].summary.tiers),
        slo_lines: Some((model.slo.success_rate, model.slo.outage_below)),
    };
    chart::draw_timeline(
        &timeline,
        &dir.join("timeline.png"),
        &dir.join("timeline.svg"),
    )?;
    let checks = crate::report::assert::evaluate_all(&asserts, &summary);
    let model_text = provenance::effective_text(args.model.as_deref(), &args.sets)?;
    let page = crate::report::run::build(
        &crate::report::run::RunFolder::read(&dir)?,
        Some(&model_text),
        checks.clone(),
    );
    crate::report::write(&dir, &page)?;
    if !args.quiet {
        say(&format!(
            "{}outputs: {}/ (summary.json, timeseries.csv, timeline.png, timeline.svg, report.html, report.md)\n",
            report(&model, &outs),
            dir.display()
        ))?;
    }
    say_verdict(&checks)
}

/// One replication, with a bar over simulated time on a terminal (none on a pipe or `--quiet`).
fn run_with_bar(model: &Model, seed: u64, limits: &guard::Limits, quiet: bool) -> RunOutput {
    let horizon = model.scenario.duration_s;
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(horizon.ceil() as u64), target);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {msg}, ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(model.scenario.name.clone());
    let total = human_duration(horizon);
    let show = |t: f64| {
        bar.set_position(t as u64);
        bar.set_message(format!("simulated {} of {total}", human_duration(t)));
    };
    let out = if bar.is_hidden() {
        run_watched(model, seed, limits, None)
    } else {
        run_watched(model, seed, limits, Some(&show))
    };
    bar.finish_and_clear();
    out
}

/// Print to stdout; a reader that went away (`surge run | head`) is not an error worth a panic:
/// the outputs are already written.
pub fn say(text: &str) -> Result<()> {
    crate::output::stdout::print(text)
}

/// Print the lines of the `--assert` checks; an error when any failed.
pub fn say_verdict(checks: &[crate::report::assert::Outcome]) -> Result<()> {
    let (lines, failed) = crate::report::assert::verdict(checks);
    say(&lines)?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn pct(x: f64) -> String {
    if x > 0.0 && x < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", 100.0 * x)
    }
}

/// The human summary printed after a run: means and 95% intervals over the replications
/// (`metrics::replicated`).
pub fn report(model: &Model, outs: &[RunOutput]) -> String {
    let mut s = String::new();
    let n = outs.len();
    let runs: Vec<_> = outs
        .iter()
        .map(|o| o.as_run(model.slo.outage_below))
        .collect();
    let est = Replicated::of(&runs);
    let f = |key: &str| est.mean(key);
    let ci = |key: &str| est.get(key).and_then(|e| e.ci95);
    let with_ci = |v: Option<f64>, c: Option<f64>, fmt: &dyn Fn(f64) -> String| match (v, c) {
        (Some(v), Some(c)) if n > 1 => crate::fmt::plus_minus(fmt(v), c, fmt),
        (Some(v), _) => fmt(v),
        _ => "-".into(),
    };
    let sc = &model.scenario;
    let wall: f64 = outs.iter().map(|o| o.summary.wall_s).sum();
    let events: u64 = outs.iter().map(|o| o.summary.events).sum();
    let label = |t: f64| match sc.start_clock_s {
        Some(_) => chart::clock_label(t, sc.start_clock_s),
        None => format!("t = {}", human_duration(t)),
    };
    let span = Simulated::of(model, outs);
    s.push_str(&format!(
        "{}: {}{}, {} events in {:.2} s{} ({:.1} M events/s)\n",
        sc.name,
        span.describe(model),
        if n > 1 {
            format!(", {n} replications")
        } else {
            format!(", seed {}", outs[0].summary.seed)
        },
        human_count(events as f64),
        wall,
        // Wall-clock time of the simulation loop (not CPU time: a loaded machine shows here).
        if n > 1 {
            " of simulation, the replications' wall times summed"
        } else {
            " of simulation wall time"
        },
        events as f64 / wall.max(1e-9) / 1e6
    ));
    if span.stopped > 0 {
        s.push_str(
            "PARTIAL: every figure below covers only the time simulated; nothing is said about the rest\n",
        );
    }
    s.push_str(&levels::levels_line(model));
    let offered = f("requests.offered").unwrap_or(0.0);
    let share = |k: &str| f(&format!("requests.{k}")).unwrap_or(0.0) / offered.max(1.0);
    // The clients' own failures, where the model has a breaker or a throttle.
    let mut local = String::new();
    let mut local_share = 0.0;
    for (k, what) in [
        ("short_circuited", "short-circuited"),
        ("throttled", "throttled"),
    ] {
        if f(&format!("requests.{k}")).is_some() {
            local.push_str(&format!(", {} {what}", pct(share(k))));
            local_share += share(k);
        }
    }
    s.push_str(&format!(
        "requests: {} offered; of the offered, {} succeeded and {} were lost ({} rejected, {} timed out, {} failed{local}); latency p50 {}, p95 {}, p99 {}\n",
        human_count(offered),
        pct(share("succeeded")),
        pct(share("rejected") + share("timed_out") + share("failed") + local_share),
        pct(share("rejected")),
        pct(share("timed_out")),
        pct(share("failed")),
        with_ci(f("latency_s.p50"), ci("latency_s.p50"), &human_duration),
        with_ci(f("latency_s.p95"), ci("latency_s.p95"), &human_duration),
        with_ci(f("latency_s.p99"), ci("latency_s.p99"), &human_duration),
    ));
    s.push_str(&levels::calls_line(model, &est, n));
    if let Some(users) = levels::users_line(model, &est, n) {
        s.push_str(&users);
    }
    // Over the replications: (a tier's summary) -> one figure, averaged.
    let tier_mean = |k: usize, f: fn(&crate::metrics::summary::TierSummary) -> f64| {
        let xs: Vec<f64> = (outs.iter())
            .filter_map(|o| o.summary.tiers.get(k).map(f))
            .collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    };
    for (k, t) in model.tiers.iter().enumerate() {
        let g = |k: &str| f(&format!("tiers.{}.{k}", t.name));
        let c = |k: &str| ci(&format!("tiers.{}.{k}", t.name));
        s.push_str(&format!(
            "tier {}: {} x {} threads, utilisation {}, mean in tier {}, mean wait {}, blocking {}\n",
            t.name,
            instances_text(
                t.instances,
                tier_mean(k, |s| f64::from(s.instances_min)),
                tier_mean(k, |s| f64::from(s.instances_max)),
                tier_mean(k, |s| s.instances_mean)
            ),
            t.threads,
            with_ci(g("utilization"), c("utilization"), &pct),
            with_ci(g("mean_in_system"), c("mean_in_system"), &|x| format!("{x:.2}")),
            with_ci(g("mean_queue_wait_s"), c("mean_queue_wait_s"), &human_duration),
            with_ci(g("blocking_probability"), c("blocking_probability"), &pct),
        ));
    }
    s.push_str(&slo_line(model, outs));
    let mut levels = vec![outage_line::Level::Requests, outage_line::Level::Calls];
    if levels::has_users(model) {
        levels.push(outage_line::Level::Users);
    }
    for level in levels {
        s.push_str(&outage_line::story(model, outs, &span, &label, level));
    }
    s
}

/// A tier's instances: the count where it stayed at the model's, else the range over the
/// measured period and the time-average ("4 to 16 instances (time-average 9.3; 4 at the
/// start)"), means over replications.
fn instances_text(start: u32, min: Option<f64>, max: Option<f64>, mean: Option<f64>) -> String {
    let start_f = f64::from(start);
    match (min, max, mean) {
        (Some(lo), Some(hi), Some(m))
            if lo != start_f || hi != start_f || (m - start_f).abs() > 0.005 =>
        {
            let n = |x: f64| crate::fmt::format_number((x * 10.0).round() / 10.0);
            format!(
                "{} to {} instances (time-average {}; {start} at the start)",
                n(lo),
                n(hi),
                n(m)
            )
        }
        _ => start.to_string(),
    }
}

/// The SLO line: success rate over the measured period, share of windows that met the SLO,
/// time out of it and error budget used (means and 95% intervals over replications).
fn slo_line(model: &Model, outs: &[RunOutput]) -> String {
    let slo = &model.slo;
    let est = |f: &dyn Fn(&RunOutput) -> Option<f64>, fmt: &dyn Fn(f64) -> String| {
        let xs: Vec<f64> = outs.iter().filter_map(f).collect();
        let (mean, half) = mean_ci95(&xs);
        match (xs.is_empty(), half.is_finite()) {
            (true, _) => "-".to_string(),
            (false, true) => crate::fmt::plus_minus(fmt(mean), half, fmt),
            (false, false) => fmt(mean),
        }
    };
    let percent = |x: f64| format!("{:.1}%", 100.0 * x);
    format!(
        "SLO (success rate at least {}, p95 at most {}, over {} windows): success rate {} of the requests that ended in the measured period; {} of windows met the SLO, {} out of it; error budget used {}\n",
        pct(slo.success_rate),
        human_duration(slo.latency_s),
        human_duration(slo.window_s),
        est(&|o| o.summary.slo.success_rate, &pct),
        est(&|o| o.summary.slo.windows_met_share, &percent),
        est(&|o| Some(o.summary.slo.time_out_of_slo_s), &human_duration),
        est(&|o| o.summary.slo.error_budget_used, &|x| format!(
            "{:.0}%",
            100.0 * x
        )),
    )
}

/// How much of the horizon the replications simulated: all of it, or (stopped at a bound) up to
/// `until_s`, the earliest stop among the replications that stopped.
pub(crate) struct Simulated {
    pub(crate) until_s: f64,
    /// Replications stopped at a bound, and the option that stopped the first of them.
    pub(crate) stopped: usize,
    by: &'static str,
}

impl Simulated {
    fn of(model: &Model, outs: &[RunOutput]) -> Simulated {
        let stopped: Vec<&RunOutput> = outs.iter().filter(|o| o.summary.partial).collect();
        let until_s = stopped
            .iter()
            .map(|o| o.summary.simulated_until_s.unwrap_or(o.summary.sim_time_s))
            .fold(model.scenario.duration_s, f64::min);
        Simulated {
            until_s,
            stopped: stopped.len(),
            by: stopped
                .first()
                .and_then(|o| o.summary.ended_by)
                .map_or("a bound", |b| b.option()),
        }
    }

    /// "16 h 0 min simulated", or "simulated 18:00-19:23 (1 h 23 min) of 16 h 0 min (stopped
    /// by --max-events)".
    fn describe(&self, model: &Model) -> String {
        let sc = &model.scenario;
        if self.stopped == 0 {
            return format!("{} simulated", human_duration(sc.duration_s));
        }
        let span = match sc.start_clock_s {
            Some(_) => format!(
                "{}-{} ({})",
                chart::clock_label(0.0, sc.start_clock_s),
                chart::clock_label(self.until_s, sc.start_clock_s),
                human_duration(self.until_s)
            ),
            None => format!("the first {}", human_duration(self.until_s)),
        };
        let whose = if self.stopped == 1 {
            String::new()
        } else {
            format!(" in the shortest of {} stopped replications", self.stopped)
        };
        format!(
            "simulated {span} of {}{whose} (stopped by {})",
            human_duration(sc.duration_s),
            self.by
        )
    }

    /// What was not simulated, so no conclusion is drawn about it.
    pub(crate) fn not_simulated(&self, model: &Model, label: &dyn Fn(f64) -> String) -> String {
        let rest = human_duration(model.scenario.duration_s - self.until_s);
        let surge = &model.surge;
        if surge.peak != 1.0 && surge.start_s >= self.until_s {
            format!(
                "the surge starting at {} was not simulated ({rest} of the horizon left)",
                label(surge.start_s)
            )
        } else {
            format!("the last {rest} of the horizon were not simulated")
        }
    }
}
