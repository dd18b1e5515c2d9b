//! `surge new` (alias `surge init`): the flags, and for what they leave out a few questions when
//! standard input is a terminal (defaults otherwise), resolved into `app::new::NewSettings`; the
//! model written by `app::new::write` and what to do next printed.
//!
//! Not here: the model's text and its checks (`app::new`).

use anyhow::{Context, Result};
use std::io::{BufRead, IsTerminal, Write};

use crate::app::new::{INSTANCES, NewSettings, SiteKind, THREADS};
use crate::cli::{NewArgs, SiteKindArg};
use crate::error::BadInput;
use crate::output::stdout::outln;

pub fn new(args: &NewArgs) -> Result<()> {
    let ask = std::io::stdin().is_terminal();
    let s = settings(args, ask)?;
    let path = crate::app::new::write(&s)?;
    outln!(
        "wrote {} ({} site, {} tiers: {}); next: surge check {p}, surge run {p}",
        path.display(),
        s.kind.name(),
        s.tiers.len(),
        s.tiers.join(","),
        p = path.display()
    );
    Ok(())
}

/// The answers: each flag given, else asked on a terminal (`ask`), else the default.
fn settings(args: &NewArgs, ask: bool) -> Result<NewSettings> {
    let mut q = Questions { ask };
    let kind = match args.kind {
        Some(k) => k,
        None => q.kind()?,
    };
    let kind = match kind {
        SiteKindArg::Api => SiteKind::Api,
        SiteKindArg::Shop => SiteKind::Shop,
        SiteKindArg::PublicService => SiteKind::PublicService,
    };
    let default_peak = if kind == SiteKind::Api { 500.0 } else { 20.0 };
    let peak = match args.peak {
        Some(p) => p,
        None => q.number(kind.peak_words(), default_peak)?,
    };
    let surge = match args.surge {
        Some(x) => x,
        None => q.number("surge factor (the peak over the usual load)", 5.0)?,
    };
    let tiers = match &args.tiers {
        Some(t) => t.iter().map(|x| x.trim().to_string()).collect(),
        None => q
            .text(
                "tiers, front first (web | web,app | web,app,db)",
                "web,app,db",
            )?
            .split(',')
            .map(|x| x.trim().to_string())
            .collect::<Vec<_>>(),
    };
    let n = tiers.len().min(3);
    let counts =
        |given: &Option<Vec<u32>>, q: &mut Questions, what: &str, dflt: &[u32; 3]| match given {
            Some(v) => Ok(v.clone()),
            None => {
                let d: Vec<String> = dflt[..n].iter().map(u32::to_string).collect();
                let raw = q.text(
                    &format!("{what} per tier ({})", tiers.join(",")),
                    &d.join(","),
                )?;
                raw.split(',')
                    .map(|x| {
                        x.trim().parse::<u32>().map_err(|_| {
                            BadInput(format!("`{x}` is not a whole number ({what})")).into()
                        })
                    })
                    .collect::<Result<Vec<u32>>>()
            }
        };
    let instances = counts(&args.instances, &mut q, "instances", &INSTANCES)?;
    let threads = counts(&args.threads, &mut q, "threads per instance", &THREADS)?;
    let p95 = match &args.slo_p95 {
        Some(v) => v.clone(),
        None => q.text("SLO: p95 latency of successes", "1s")?,
    };
    let p95_s = crate::model::units::parse_duration(&p95)
        .map_err(|e| BadInput(format!("--slo-p95 {p95}: {e}")))?;
    let success = match args.slo_success {
        Some(x) => x,
        None => q.number("SLO: share of requests that succeed", 0.99)?,
    };
    Ok(NewSettings {
        path: args.path.clone(),
        force: args.force,
        kind,
        peak,
        surge,
        tiers,
        instances,
        threads,
        p95_s,
        success,
    })
}

/// The questions asked on a terminal; without one, every answer is the default.
struct Questions {
    ask: bool,
}

impl Questions {
    /// The answer to `question` (the default on an empty line, or without a terminal).
    fn text(&mut self, question: &str, default: &str) -> Result<String> {
        if !self.ask {
            return Ok(default.to_string());
        }
        eprint!("{question} [{default}]: ");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the answer from standard input")?;
        let line = line.trim();
        Ok(if line.is_empty() { default } else { line }.to_string())
    }

    fn number(&mut self, question: &str, default: f64) -> Result<f64> {
        let raw = self.text(question, &crate::fmt::format_number(default))?;
        raw.parse::<f64>()
            .map_err(|_| BadInput(format!("`{raw}` is not a number ({question})")).into())
    }

    fn kind(&mut self) -> Result<SiteKindArg> {
        let raw = self.text("kind of site (api | shop | public-service)", "api")?;
        match raw.as_str() {
            "api" => Ok(SiteKindArg::Api),
            "shop" => Ok(SiteKindArg::Shop),
            "public-service" => Ok(SiteKindArg::PublicService),
            other => Err(BadInput(format!(
                "`{other}` is not a kind of site: api, shop or public-service"
            ))
            .into()),
        }
    }
}
