//! The command line: the clap definitions of every command and its options, and nothing else.
//! `src/main.rs` parses them and dispatches to `commands`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::app::crashpoint::{CONFIDENCE, MAX_RUNS, REPS, TOLERANCE};
use crate::experiment::sweep::Seeds;

mod planning;
pub use planning::{Keep, NewArgs, OptimizeArgs, SensitivityArgs, SiteKindArg};

#[derive(Debug, Parser)]
#[command(
    name = "surge",
    version,
    about = "Discrete-event capacity simulator for web services under traffic surges."
)]
#[command(
    long_about = "Discrete-event capacity simulator for web services under traffic surges.\n\n\
With no command, runs the built-in model of the IRCC website on US election night 2016 and writes its outputs."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a model (the built-in IRCC model when none is given) and write its outputs.
    Run(RunArgs),
    /// Check a model and print offered load, utilisation and exact queueing predictions.
    Check(CheckArgs),
    /// Vary model keys over a grid, with replications, in parallel: points.csv, sweep.json, charts.
    Sweep(SweepArgs),
    /// Find where the outage probability crosses 0.5 as one parameter varies.
    Crashpoint(CrashpointArgs),
    /// The cheapest configuration of the varied keys (instances, threads, any key the model
    /// prices) that keeps the SLO, or avoids an outage, under a surge: optimize.json,
    /// optimize.csv, optimize.png.
    Optimize(OptimizeArgs),
    /// Redraw the charts of a finished run, sweep, crash-point search, comparison or sensitivity
    /// screening from its data files.
    Plot(PlotArgs),
    /// Measure speed: the event set alone, an M/M/c/K reference, the IRCC night, a sweep.
    Bench(BenchArgs),
    /// Combine the shard files of one sweep (run with --shard or a job array) into points.csv,
    /// sweep.json and charts, checking that every shard is there once.
    Merge(MergeArgs),
    /// Fit a starting model to access logs (nginx, Apache) or load-test results (JMeter JTL,
    /// k6, Locust, vegeta): model.toml, arrivals.csv, fit.json and fit.png.
    Fit(FitArgs),
    /// The planner's one command: run the model, find its crash point, and write one report
    /// (report.html, report.md) of the whole, within a time budget.
    Report(ReportArgs),
    /// Compare policies on the same random numbers: the model as written (baseline) and its
    /// variants, each over the same replication seeds: compare.csv, compare.json, compare.png.
    Compare(CompareArgs),
    /// Screen which keys move the outcome most (Morris elementary effects on common random
    /// numbers): sensitivity.json, sensitivity.csv, tornado.png and a ranked table.
    Sensitivity(SensitivityArgs),
    /// Write a starter model (commented TOML) from flags, or from a few questions on a terminal.
    #[command(alias = "init")]
    New(NewArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Model file (TOML); the built-in models/ircc-2016.toml when left out.
    pub model: Option<PathBuf>,
    /// The parameter and range of the crash-point search, K=LO..HI (default: the instances of
    /// the bottleneck `surge check` finds, the tier offered the largest share of its threads at
    /// the surge peak, from 1 up to its count if the run held, else from it up to 3 times it).
    #[arg(long, value_name = "K=LO..HI")]
    pub vary: Option<String>,
    /// A key and range to screen after the crash point, as `surge sensitivity` (repeatable).
    #[arg(long, value_name = "K=LO..HI")]
    pub sensitivity: Vec<String>,
    #[command(flatten)]
    pub failure: Failure,
    /// Wall-clock time for the whole report (e.g. 10m, 1h); steps that would not fit are
    /// skipped, and the report says which and why.
    #[arg(long, default_value = "10m", value_parser = wall_duration)]
    pub budget: f64,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Random seed (default: scenario.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Parallel runs in the crash-point search (default: every core; at most 4 per core).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub jobs: Option<usize>,
    /// Output folder (default: outputs/<model name>/report/); the run and the search write
    /// their own files in run/ and crashpoint/ inside it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub checks: SummaryChecks,
    /// Continue an interrupted report: its crash-point search and comparison resume from their
    /// journals (the run is done again).
    #[arg(long)]
    pub resume: bool,
    /// Nothing on the terminal but the checks (the report is in the output folder).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Model file (TOML); its [[variant]] tables are compared unless --variant is given.
    pub model: PathBuf,
    /// A variant instead of the model's own: NAME:KEY=VALUE,KEY=VALUE with keys as --set takes
    /// them, e.g. --variant "11 servers:tier.web.instances=11"; `unset KEY` removes a table as
    /// --unset does, e.g. --variant "no autoscaler:unset tier.web.autoscale". Repeat for
    /// several.
    #[arg(long = "variant", value_name = "NAME:K=V,...")]
    pub variants: Vec<String>,
    /// Replications of each variant, on the same seeds for every variant (as `surge run --reps
    /// N`): `auto` runs 2 of each, then adds one per round to each variant not yet told apart
    /// from the baseline (outage share, then downtime) at --confidence, up to --max-reps; a
    /// number runs exactly that many of each.
    #[arg(long, default_value = "auto", value_name = "auto|N", value_parser = reps_flag)]
    pub reps: RepsFlag,
    /// With --reps auto: the most replications of a variant.
    #[arg(long, default_value_t = crate::app::compare::MAX_REPS, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub max_reps: u32,
    /// The confidence of telling the variants from the baseline, for the whole comparison.
    #[arg(long, default_value_t = crate::experiment::compare::CONFIDENCE, value_parser = confidence)]
    pub confidence: f64,
    #[command(flatten)]
    pub runs: ManyRuns,
    /// A check on the variants' metric means (keys as in compare.csv): on one variant, e.g.
    /// --assert 'variants.baseline.outage.crashed<0.5', or on every variant, e.g. --assert
    /// 'calls.success_rate>=0.9' or --assert 'variants.*.latency_s.p95<2s' (repeatable; exit
    /// code 1 when any fails).
    #[arg(long = "assert", value_name = "EXPR")]
    pub asserts: Vec<String>,
    /// Continue an interrupted comparison from its journal in the output folder, running only
    /// the (variant, replication) runs it does not hold.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar and no table.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Access logs or load-test result files, plain or gzip; several are merged in time order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format (auto: told from the first line).
    #[arg(long, value_enum, default_value_t = crate::fit::Format::Auto)]
    pub format: crate::fit::Format,
    /// An access-log format in nginx variable syntax or Apache's, e.g.
    /// '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time'.
    #[arg(long, value_name = "F")]
    pub log_format: Option<String>,
    /// Width of the arrival buckets (whole seconds) [default: 1m, capped to the data's span].
    #[arg(long)]
    pub bucket: Option<String>,
    /// The busiest endpoints (path without query string) fitted on their own.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub endpoints: usize,
    /// Threads x instances of the site as you know them (its config): the model's threads,
    /// and the waiting of that many threads is taken out before contention is measured.
    /// Without it the thread count is an assumption.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=50_000_000))]
    pub threads: Option<u32>,
    /// Output folder (default: outputs/fit/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No summary on the terminal.
    #[arg(long)]
    pub quiet: bool,
    /// The service time, for logs without response times: DIST:MEAN[:CV], e.g.
    /// lognormal:120ms:0.8 (also exponential:MEAN, gamma, weibull, normal, hyperexponential
    /// with MEAN:CV, erlang:MEAN:K, pareto:MEAN:SHAPE, uniform:MIN:MAX, deterministic:VALUE).
    #[arg(long, value_name = "DIST")]
    pub service: Option<String>,
    /// Inactivity that ends a session (sessions: a client's requests in an access log).
    #[arg(long, default_value = "30m", value_name = "DURATION")]
    pub session_gap: String,
    /// Requests for assets rather than pages, by target (a regular expression); the default
    /// matches images, style sheets, scripts, fonts and icons.
    #[arg(long, value_name = "REGEX")]
    pub assets: Option<String>,
    /// The model's source: requests (open arrivals) or users (sessions); the default is users
    /// where the data show sessions.
    #[arg(long, value_enum)]
    pub source: Option<crate::fit::logs_doc::SourceKind>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Small sizes, no IRCC night: a check that the benchmarks run, in seconds.
    #[arg(long)]
    pub quick: bool,
    /// Runs of each workload (each in a fresh process); the table shows medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeat: u32,
    /// SimPy's M/M/c/K arrivals per second measured on this machine (bench/peers/run.sh).
    #[arg(long)]
    pub simpy_rate: Option<f64>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Run one workload in this process and print its measure (used by `surge bench` itself).
    #[arg(long, hide = true)]
    pub workload: Option<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Folders holding the shard files of one sweep (shard-000I-of-000N.csv and .json).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output folder (default: the first DIR).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No table on the terminal.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The output folder of a run, sweep, crashpoint, compare, sensitivity or report command.
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct CrashpointArgs {
    #[command(flatten)]
    pub search: SearchArgs,
    /// The parameter and the range to search: K=LO..HI (integers for counts), e.g. surge.peak=2..20.
    #[arg(long, value_name = "K=LO..HI")]
    pub vary: String,
    /// Replications at each end when one each does not tell the direction, and replications added
    /// per value near the crossing while a logistic fit is too wide (the bracket takes one per
    /// value, its two final values enough to tell each from 0.5 at the confidence).
    #[arg(long, default_value_t = REPS, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub reps: u32,
    /// Confidence of the crash point's interval.
    #[arg(long, default_value_t = CONFIDENCE)]
    pub confidence: f64,
    /// Stop once the interval is narrower than this share of the crash point.
    #[arg(long, default_value_t = TOLERANCE)]
    pub tolerance: f64,
    /// At most this many runs in all.
    #[arg(long, default_value_t = MAX_RUNS)]
    pub max_runs: u32,
    /// Replication r's seed: the same at every value tried (common, paired comparisons) or one
    /// of its own per value (independent).
    #[arg(long, value_enum, default_value = "common")]
    pub seeds: Seeds,
    #[command(flatten)]
    pub failure: Failure,
}

/// The options of the searches over many runs (`crashpoint`, `optimize`, `sensitivity`), which
/// mean the same in each: the model, the wall-clock budget, resuming from the journal, the runs'
/// options and quiet.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Model file (TOML).
    pub model: PathBuf,
    /// Wall-clock time for the search (e.g. 20m, 1h): past it no new run starts (the runs
    /// already started end), and the answer is the best so far, from the runs that finished,
    /// and says so; --resume goes on with the others.
    #[arg(long, value_parser = wall_duration)]
    pub budget: Option<f64>,
    /// Continue an interrupted (or budget-cut) search from its journal in the output folder,
    /// running only the runs it does not hold.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub runs: ManyRuns,
    /// Nothing on the terminal (the results are in the output folder).
    #[arg(long)]
    pub quiet: bool,
}

/// The options of the commands that run a model many times (`compare`, `sweep`, `crashpoint`).
/// `--set` and `--unset`: the model's values changed by key path, for every run (in compare,
/// every variant, the baseline included).
#[derive(Debug, Args, Default)]
pub struct Overrides {
    /// Override a model value by key path, e.g. --set surge.peak=6 --set tier.web.instances=12
    /// (in compare: for every variant, the baseline included).
    #[arg(long = "set", value_name = "K=V")]
    pub sets: Vec<String>,
    /// Remove a key or a whole table from the model, e.g. --unset tier.web.autoscale (turns the
    /// autoscaler off); applied before every --set. A key that is not there is an error.
    #[arg(long = "unset", value_name = "K")]
    pub unsets: Vec<String>,
}

impl Overrides {
    /// The override list the model is loaded with: every `--unset` (as `unset K`), then every
    /// `--set`.
    pub fn list(&self) -> Vec<String> {
        crate::model::overrides::command_line(&self.sets, &self.unsets)
    }
}

#[derive(Debug, Args)]
pub struct ManyRuns {
    /// Parallel runs (default: every core; a compare or sweep in a Slurm job:
    /// SLURM_CPUS_PER_TASK); at most 4 per core (more is capped, with a note on stderr).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Base seed (default: scenario.seed): every run's seed is derived from it (in compare,
    /// replication r gets the seed `surge run --reps N` gives it).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default: outputs/<model name>/<command>/, e.g. .../sweep/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run even if a run's estimated event count is absurd.
    #[arg(long)]
    pub allow_huge: bool,
}

/// The service layer's notes (`app::notes`), printed on stderr as they come: the command line's
/// side of them (commands/ hands the same to every `app` call).
pub(crate) fn stderr_notes() -> crate::app::notes::Notes {
    crate::app::notes::Notes::new(|n| eprintln!("{n}"))
}

impl From<&ManyRuns> for crate::app::ManyRuns {
    /// The resolved options (the `--set` overrides go in the command's `app::ModelSource`).
    fn from(r: &ManyRuns) -> Self {
        Self {
            jobs: r.jobs,
            seed: r.seed,
            out: r.out.clone(),
            allow_huge: r.allow_huge,
            notes: stderr_notes(),
        }
    }
}

/// When a run of a sweep or crash-point search counts as failed.
#[derive(Debug, Args)]
pub struct Failure {
    /// When a run counts as failed: an outage by requests (the attempts' success rate below
    /// slo.outage_below over a window), any break of the SLO (a window below the success target
    /// or above the latency target), an outage by calls (the share of calls, a request with its
    /// retries or a page with its refreshes, that succeeded) or by users (the share of sessions
    /// that got every page).
    #[arg(long, value_enum, default_value_t)]
    pub criterion: crate::metrics::slo::Criterion,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Model file (TOML).
    pub model: PathBuf,
    /// A key path and its values: K=a..b:step, K=a..b (with --points), or K=v1,v2,v3. Repeat for a grid.
    #[arg(long, value_name = "K=SPEC", required = true)]
    pub vary: Vec<String>,
    /// Values of a range given without a step.
    #[arg(long, default_value_t = crate::app::sweep::POINTS)]
    pub points: usize,
    /// Replications per point.
    #[arg(long, default_value_t = crate::app::sweep::REPS, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub reps: u32,
    /// Replication r's seed: one of its own per point (independent) or the same at every point
    /// (common, paired comparisons between points).
    #[arg(long, value_enum, default_value = "independent")]
    pub seeds: Seeds,
    #[command(flatten)]
    pub runs: ManyRuns,
    #[command(flatten)]
    pub failure: Failure,
    /// No progress bar and no table.
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard I of N (0-based): the points p with p mod N = I, written to
    /// shard-000I-of-000N.csv and .json (4 digits, more past 9999) for `surge merge`. Without it, the shard comes from a job array:
    /// SLURM_ARRAY_TASK_ID (index ID - SLURM_ARRAY_TASK_MIN, count SLURM_ARRAY_TASK_COUNT),
    /// JOB_COMPLETION_INDEX (Kubernetes; count from --shards) or AWS_BATCH_JOB_ARRAY_INDEX (count
    /// AWS_BATCH_JOB_ARRAY_SIZE or --shards).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The number of shards, for a job array that passes only the index (Kubernetes Indexed
    /// Jobs: the Job's completions); checked against the array's own count where it has one.
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// Continue an interrupted sweep (or shard) from its journal in the output folder, running
    /// only the (point, replication) pairs not yet done.
    #[arg(long)]
    pub resume: bool,
    /// Print the points (index and values), one per line, and run nothing.
    #[arg(long, conflicts_with = "count_points")]
    pub list_points: bool,
    /// Print the number of points (to size a job array) and run nothing.
    #[arg(long)]
    pub count_points: bool,
    /// Start a sweep of 1,000 runs or more without asking (on a pipe it never asks).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Stop each run as soon as it answers the one question of the sweep: at its first outage
    /// (`outage`) or its first window that breaks the SLO (`slo`). Runs that stop are marked
    /// partial; only the outage probability (or SLO breach) of the points is then complete.
    #[arg(long, value_enum, value_name = "WHEN")]
    pub until: Option<UntilArg>,
}

/// The question that ends a run early (`sweep --until`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UntilArg {
    /// The first outage (success rate below slo.outage_below over a window).
    Outage,
    /// The first window that breaks the SLO (success rate or p95 latency).
    Slo,
    /// The first outage by calls (call success rate below slo.outage_below over a window).
    CallOutage,
    /// The first outage by users (share of sessions served below slo.outage_below).
    UserOutage,
}

impl From<UntilArg> for crate::experiment::guard::Until {
    fn from(u: UntilArg) -> Self {
        match u {
            UntilArg::Outage => Self::FirstOutage,
            UntilArg::Slo => Self::FirstSloBreach,
            UntilArg::CallOutage => Self::FirstCallOutage,
            UntilArg::UserOutage => Self::FirstUserOutage,
        }
    }
}

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Model file (TOML); the built-in models/ircc-2016.toml when left out.
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Random seed (default: scenario.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replications: means and 95% confidence intervals over this many independent runs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub reps: u32,
    /// Parallel replications (default: every core); at most 4 per core. The results are the
    /// same for any number: replication r always has its own seed.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub jobs: Option<usize>,
    /// Output folder (default: outputs/<model name>/run/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar and no summary on the terminal.
    #[arg(long)]
    pub quiet: bool,
    /// Also write the effective model (after --set) to this file, as TOML `surge run` reads.
    #[arg(long, value_name = "FILE")]
    pub save_model: Option<PathBuf>,
    #[command(flatten)]
    pub checks: SummaryChecks,
    #[command(flatten)]
    pub bounds: BoundArgs,
}

/// `--assert` of the commands that check a run's summary.json (`run`, and `report` of its run):
/// the same keys and the same checks. (`compare` checks other keys, its variants' means.)
#[derive(Debug, Args, Default)]
pub struct SummaryChecks {
    /// A check on the run's summary.json keys, e.g. --assert 'slo.success_rate>=0.99' --assert
    /// 'tiers.web.utilization<0.7' (repeatable): each is printed passed or failed with the actual
    /// value, and the exit code is 1 when any fails.
    #[arg(long = "assert", value_name = "EXPR")]
    pub asserts: Vec<String>,
}

/// Guard rails of a run (see `experiment::guard`).
#[derive(Debug, Args, Default, Clone)]
pub struct BoundArgs {
    /// Stop each replication after N events; its results are written, marked partial.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_events: Option<u64>,
    /// Stop each replication after this much wall-clock time (e.g. 90s, 10m); results marked partial.
    #[arg(long, value_name = "DURATION", value_parser = wall_duration)]
    pub max_wall: Option<f64>,
    /// Run a model even when its estimated event count is absurd (above 5e9 events) or it would
    /// hold more than 20,000,000 requests at once (it then stops, marked partial, when it does).
    #[arg(long)]
    pub allow_huge: bool,
}

impl BoundArgs {
    pub fn limits(&self) -> crate::experiment::guard::Limits {
        crate::experiment::guard::Limits {
            max_events: self.max_events,
            max_wall_s: self.max_wall,
            ..Default::default()
        }
    }
}

/// `--reps` of `surge compare`: `auto`, or a count of replications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepsFlag {
    Auto,
    Count(u32),
}

fn reps_flag(s: &str) -> Result<RepsFlag, String> {
    if s.trim() == "auto" {
        return Ok(RepsFlag::Auto);
    }
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(RepsFlag::Count(n)),
        _ => Err("expected auto or a count of replications from 1 to 100000".into()),
    }
}

fn confidence(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(c) if c > 0.5 && c < 1.0 => Ok(c),
        _ => Err("expected a confidence above 0.5 and below 1, e.g. 0.95".into()),
    }
}

fn wall_duration(s: &str) -> Result<f64, String> {
    let v = crate::model::units::parse_duration(s)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err("the wall-clock bound must be longer than 0".into())
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Model file (TOML); the built-in models/ircc-2016.toml when left out.
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub overrides: Overrides,
}

#[cfg(test)]
mod defaults;
