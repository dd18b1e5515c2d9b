//! The options of the planner's commands that start from a model and ask for a design: `surge
//! new` (a starter model), `surge sensitivity` (which keys matter) and `surge optimize` (the
//! cheapest configuration that holds). Only clap definitions; the rest of the command line is
//! `cli`.

use clap::Args;
use std::path::PathBuf;

use super::{SearchArgs, confidence};
use crate::app::crashpoint::CONFIDENCE;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Where to write the model.
    #[arg(default_value = "model.toml")]
    pub path: PathBuf,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
    /// The kind of site (asked on a terminal when left out; else api).
    #[arg(long, value_enum)]
    pub kind: Option<SiteKindArg>,
    /// Peak requests per second (api), or sessions starting per second (shop, public-service).
    #[arg(long)]
    pub peak: Option<f64>,
    /// The peak over the usual load (e.g. 5: five times the usual traffic).
    #[arg(long)]
    pub surge: Option<f64>,
    /// The tiers, front first: web | web,app | web,app,db.
    #[arg(long, value_delimiter = ',')]
    pub tiers: Option<Vec<String>>,
    /// Instances of each tier, comma-separated in --tiers order (e.g. 4,4,2).
    #[arg(long, value_delimiter = ',')]
    pub instances: Option<Vec<u32>>,
    /// Threads per instance of each tier, comma-separated in --tiers order (e.g. 64,32,20).
    #[arg(long, value_delimiter = ',')]
    pub threads: Option<Vec<u32>>,
    /// The SLO's p95 latency of successes (e.g. 500ms, 2s).
    #[arg(long, value_name = "DURATION")]
    pub slo_p95: Option<String>,
    /// The SLO's share of requests that succeed (e.g. 0.99).
    #[arg(long, value_name = "SHARE")]
    pub slo_success: Option<f64>,
}

/// The kinds of site `surge new` writes a model for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SiteKindArg {
    /// An API: requests from programs, retried on error.
    Api,
    /// An online shop: user sessions; visitors give up after errors.
    Shop,
    /// A public-service site: user sessions that refresh on error and come back.
    PublicService,
}

/// `--budget` of `surge sensitivity`: its own words, as a budget changes how the screening
/// runs (one trajectory after the other), which the other searches' `--budget` does not.
const SENSITIVITY_BUDGET: &str = "Wall-clock time for the screening (e.g. 10m, 1h): the \
    trajectories then run one after the other, none starts past it (the first always runs), and \
    the effects rest on those finished; --resume goes on with the others";

#[derive(Debug, Args)]
#[command(mut_arg("budget", |a| a.help(SENSITIVITY_BUDGET)))]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub search: SearchArgs,
    /// A key and its range, K=LO..HI (e.g. tier.web.instances=4..12); repeat for each key.
    #[arg(long, value_name = "K=LO..HI", required = true)]
    pub vary: Vec<String>,
    /// Morris trajectories: each moves every key once, from a random start (10 is usual).
    #[arg(long, default_value_t = crate::app::sensitivity::TRAJECTORIES, value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub trajectories: u32,
    /// Levels of each key's grid (even; a step moves a key half of them).
    #[arg(long, default_value_t = crate::app::sensitivity::LEVELS, value_parser = clap::value_parser!(u32).range(2..=100))]
    pub levels: u32,
    /// Replications of each point, on the same seeds at every point.
    #[arg(long, default_value_t = crate::app::sensitivity::REPS, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub reps: u32,
}

#[derive(Debug, Args)]
pub struct OptimizeArgs {
    #[command(flatten)]
    pub search: SearchArgs,
    /// The surge's peak multiplier (sets surge.peak), e.g. --surge 12; the model's own when left out.
    #[arg(long)]
    pub surge: Option<f64>,
    /// What the configuration must keep: the SLO (no window below its success target or above
    /// its latency target) or no outage (no window below slo.outage_below).
    #[arg(long, value_enum)]
    pub keep: Keep,
    /// A key and its values: K=LO..HI (every whole value for counts, 5 values otherwise),
    /// K=LO..HI:STEP or K=v1,v2,v3. Repeat for a grid, e.g. --vary tier.web.instances=4..12
    /// --vary tier.web.threads=8..32:8.
    #[arg(long, value_name = "K=SPEC", required = true)]
    pub vary: Vec<String>,
    /// Confidence with which the optimum and its cheaper neighbours are told from a 50%
    /// failure probability.
    #[arg(long, default_value_t = CONFIDENCE, value_parser = confidence)]
    pub confidence: f64,
    /// Most replications of one configuration.
    #[arg(long, default_value_t = crate::app::optimize::MAX_REPS, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_reps: u32,
}

/// What `surge optimize` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Keep {
    /// No break of the SLO (`--criterion slo`).
    Slo,
    /// No outage (`--criterion outage`).
    NoOutage,
}
