//! `surge run` (and `surge` with no arguments): the flags resolved into `app::run::RunSettings`,
//! the run done by `app::run` (which writes the folder), and what happened told to the planner:
//! the summary lines (means and 95% intervals over the replications, the SLO and the outage
//! lines) and the verdict of the `--assert` checks. Not here: the simulation, the files, and the
//! figures over the replications (`app::run::RunFigures`), which it only words.

use anyhow::Result;

use super::{human_count, human_duration, levels};
use crate::app::run::{MeanCi, RequestFigures, SloFigures};
use crate::app::{self, ModelSource, run::RunSettings};
use crate::cli::RunArgs;
use crate::experiment::RunOutput;
use crate::fmt::pct;
use crate::metrics::means::TierMeans;
use crate::metrics::pool_verdict;
use crate::metrics::run_summary::RunSummary;
use crate::model::Model;
use crate::output::chart;
use crate::report::simulated::Simulated;
use crate::report::story::{Level, Medium, story};

pub fn run(args: &RunArgs) -> Result<()> {
    let s = settings(args);
    let done = app::run::run(&s)?;
    if !s.quiet {
        tell(&done)?;
    }
    say_verdict(&done.checks)
}

/// What happened in the run, and where its files are (also `surge report`'s first lines).
pub(crate) fn tell(done: &app::run::RunOutcome) -> Result<()> {
    say(&format!(
        "{}outputs: {}/ (summary.json, timeseries.csv, timeline.png, timeline.svg, report.html, report.md)\n",
        report(done),
        done.dir.display()
    ))
}

/// The flags as `app::run` reads them (`surge` with no arguments is a plain run of the
/// built-in model: `RunArgs` with one replication).
pub(crate) fn settings(args: &RunArgs) -> RunSettings {
    RunSettings {
        source: ModelSource::new(args.model.as_deref(), &args.overrides.list()),
        seed: args.seed,
        reps: args.reps,
        jobs: args.jobs,
        out: args.out.clone(),
        save_model: args.save_model.clone(),
        asserts: args.checks.asserts.clone(),
        limits: args.bounds.limits(),
        allow_huge: args.bounds.allow_huge,
        quiet: args.quiet,
        notes: super::stderr_notes(),
    }
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

/// Where the clients' rejected attempts were turned away: the share of them the edge rate limit
/// refused (429), where the model has one, and with more than one tier, the tiers that turned
/// attempts away, each with the share of the attempts reaching it (its callers' retries
/// included): a rejection deep in the chain reaches the client as its attempt's rejection.
fn where_rejected(model: &Model, r: &RequestFigures) -> String {
    let mut s = r.rate_limited.map_or(String::new(), |n| {
        format!(
            ", {} of those 429s of the edge rate limit",
            pct(n / r.rejected.max(1.0))
        )
    });
    if model.tiers.len() < 2 || r.rejected == 0.0 {
        return s;
    }
    let tiers: Vec<String> = (model.tiers.iter().zip(&r.blocking))
        .filter_map(|(t, &b)| {
            let b = b?;
            (b > 0.0).then(|| {
                format!(
                    "{}, which refused {} of the attempts reaching it (the tiers' retries included)",
                    t.name,
                    pct(b)
                )
            })
        })
        .collect();
    if !tiers.is_empty() {
        s.push_str(&format!(
            ": client attempts turned away at {}",
            tiers.join("; at ")
        ));
    }
    s
}

/// The human summary printed after a run: means and 95% intervals over the replications
/// (`app::run::RunFigures`), then the outage lines (`report::story`) over the typed summary.
fn report(done: &app::run::RunOutcome) -> String {
    let (model, summary, outs) = (&done.model, &done.summary, &done.outs[..]);
    let mut s = String::new();
    let n = outs.len();
    let est = &done.figures.estimates;
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
    let span = Simulated::of(model, &summary.runs());
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
    let tiers = summary.means().0.tiers;
    s.push_str(&requests_line(
        model,
        &done.figures.requests,
        &tiers,
        &with_ci,
    ));
    if let Some(words) =
        pool_verdict::bottleneck_words(&tiers).or_else(|| pool_verdict::saturated_words(&tiers))
    {
        s.push_str(&format!("bottleneck: {words}\n"));
    }
    s.push_str(&levels::calls_line(model, &done.figures.calls, n));
    if let Some(users) = levels::users_line(model, done.figures.users.as_ref(), n) {
        s.push_str(&users);
    }
    for (k, t) in model.tiers.iter().enumerate() {
        let [least, most, mean] = done.figures.instances[k];
        let g = |k: &str| f(&format!("tiers.{}.{k}", t.name));
        let c = |k: &str| ci(&format!("tiers.{}.{k}", t.name));
        s.push_str(&format!(
            "tier {}: {} x {} threads, utilisation {} mean over the run ({} in its busiest {} bucket), mean in tier {} attempts at once, mean wait {}, blocking {}\n",
            t.name,
            instances_text(t.instances, least, most, mean),
            t.threads,
            with_ci(g("utilization"), c("utilization"), &pct),
            done.figures.peak_utilisation[k].map_or("-".into(), pct),
            human_duration(sc.bucket_s),
            with_ci(g("mean_in_system"), c("mean_in_system"), &|x| format!("{x:.2}")),
            with_ci(g("mean_queue_wait_s"), c("mean_queue_wait_s"), &human_duration),
            with_ci(g("blocking_probability"), c("blocking_probability"), &pct),
        ));
        let key = "attempts_per_call";
        let per_call = with_ci(g(key), c(key), &three_places);
        let retries = g("retries").filter(|_| k > 0);
        s.push_str(&hop_line(&t.name, &per_call, retries, g("arrivals")));
        if let Some(line) = pool_verdict::pool_line(&tiers, k) {
            s.push_str(&format!("  {line}\n"));
        }
    }
    s.push_str(&slo_line(model, &done.figures.slo));
    s.push_str(&outage_lines(model, (summary, outs), &span, &label));
    s
}

/// Words a mean (and its interval's half-width) with a formatter: "24.8% +- 0.3%".
type WithCi<'a> = dyn Fn(Option<f64>, Option<f64>, &dyn Fn(f64) -> String) -> String + 'a;

/// "requests: 1,234 offered; of the offered, ...; latency p50 ..., p95 ..., p99 ...", from the
/// typed figures; `with_ci` words a mean with its interval.
fn requests_line(
    model: &Model,
    r: &RequestFigures,
    tiers: &[TierMeans],
    with_ci: &WithCi<'_>,
) -> String {
    let offered = r.offered;
    let share = |n: f64| n / offered.max(1.0);
    // The clients' own failures, where the model has a breaker or a throttle.
    let mut local = String::new();
    let mut local_share = 0.0;
    for (n, what) in [
        (r.short_circuited, "short-circuited"),
        (r.throttled, "throttled"),
    ] {
        if let Some(n) = n {
            local.push_str(&format!(", {} {what}", pct(share(n))));
            local_share += share(n);
        }
    }
    let mut edge = where_rejected(model, r);
    let latency = |q: usize| {
        let e = r.latency[q];
        with_ci(e.map(|e| e.mean), e.and_then(|e| e.ci95), &human_duration)
    };
    if let (Some(k), true) = (
        pool_verdict::bottleneck(tiers),
        edge.contains("turned away at"),
    ) {
        edge.push_str(&format!(
            " (waits for the {} -> {} pool's connections behind them: see the bottleneck line)",
            tiers[k].name,
            tiers[k + 1].name
        ));
    }
    format!(
        "requests: {} offered; of the offered, {} succeeded and {} were lost ({} rejected{edge}, {} timed out, {} failed{local}); latency p50 {}, p95 {}, p99 {}\n",
        human_count(offered),
        pct(share(r.succeeded)),
        pct(share(r.rejected) + share(r.timed_out) + share(r.failed) + local_share),
        pct(share(r.rejected)),
        pct(share(r.timed_out)),
        pct(share(r.failed)),
        latency(0),
        latency(1),
        latency(2),
    )
}

/// A number with three decimals (attempts per call).
fn three_places(x: f64) -> String {
    format!("{x:.3}")
}

/// The attempts that reached a tier per call made (`per_call`, worded), when some tier retries
/// its callee (`[tier.retry]`), and the share of them that were retries of the tier before it
/// (`retries`: `None` at the first tier, whose caller is the client).
fn hop_line(name: &str, per_call: &str, retries: Option<f64>, arrivals: Option<f64>) -> String {
    let Some(a) = arrivals else {
        return String::new();
    };
    match retries {
        Some(r) => format!(
            "  {name}: {per_call} attempts arrived per call made, {} of them retries by the tier before it\n",
            pct(r / a.max(1.0))
        ),
        None => format!(
            "  {name}: {per_call} attempts arrived per call made (the clients' own retries, `requests.retries`)\n"
        ),
    }
}

/// The outage lines, one per level (requests, calls, and users where the model has them), told
/// over the typed summary with the users on the site read from the replications' time series.
fn outage_lines(
    model: &Model,
    (summary, outs): (&RunSummary, &[RunOutput]),
    span: &Simulated,
    label: &dyn Fn(f64) -> String,
) -> String {
    let mut levels = vec![Level::Requests, Level::Calls];
    if levels::has_users(model) {
        levels.push(Level::Users);
    }
    let users_at = |r: usize, crash: f64| users_at(&outs[r], crash);
    let medium = Medium::Terminal {
        model,
        span,
        users_at: &users_at,
    };
    let runs = summary.runs();
    (levels.into_iter())
        .map(|level| story(&runs, level, label, &medium))
        .collect()
}

/// Users on the site as a replication went down at `crash`: the most in the quarter hour before
/// the crash (once errors begin, users leave fast).
fn users_at(out: &RunOutput, crash: f64) -> f64 {
    let series = &out.series;
    if series.is_empty() {
        return 0.0;
    }
    let b = ((crash / series.bucket_s) as usize).min(series.len() - 1);
    let from = b.saturating_sub((900.0 / series.bucket_s).ceil() as usize);
    series.users[from..=b].iter().copied().fold(0.0, f64::max)
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
fn slo_line(model: &Model, figures: &SloFigures) -> String {
    let slo = &model.slo;
    let est = |x: MeanCi, fmt: &dyn Fn(f64) -> String| match x {
        None => "-".to_string(),
        Some((mean, half)) if half.is_finite() => crate::fmt::plus_minus(fmt(mean), half, fmt),
        Some((mean, _)) => fmt(mean),
    };
    let share = |x: MeanCi| match x {
        None => "-".to_string(),
        Some((mean, half)) if half.is_finite() => crate::fmt::share_plus_minus(mean, half),
        Some((mean, _)) => pct(mean),
    };
    format!(
        "SLO (success rate at least {}, p95 at most {}, over {} windows): success rate {} of the requests that ended in the measured period; {} of windows met the SLO, {} out of it; error budget used {}\n",
        pct(slo.success_rate),
        human_duration(slo.latency_s),
        human_duration(slo.window_s),
        share(figures.success_rate),
        share(figures.windows_met_share),
        est(figures.time_out_s, &human_duration),
        est(figures.error_budget_used, &|x| format!("{:.0}%", 100.0 * x)),
    )
}
