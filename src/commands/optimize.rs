//! `surge optimize`: resolves the flags into `app::optimize`'s settings and prints the answer:
//! the cheapest configuration that keeps the SLO (or avoids an outage) with its cost as a sum,
//! its runs, its strictly cheaper neighbours and theirs, the configurations of the same cost, how much the monotonicity pruning saved, any
//! contradiction of it, and the outputs.

use anyhow::Result;

use crate::app::optimize::{OptimizeOutcome, OptimizeSettings, keep_words};
use crate::cli::{Keep, OptimizeArgs};
use crate::experiment::optimize::{Config, End, Headroom, Optimization, Status};
use crate::fmt::format_number;
use crate::metrics::slo::Criterion;
use crate::output::stdout::outln;

/// The optimization `args` ask for.
pub(crate) fn settings(args: &OptimizeArgs) -> OptimizeSettings {
    OptimizeSettings {
        search: super::search_settings(&args.search),
        criterion: match args.keep {
            Keep::Slo => Criterion::Slo,
            Keep::NoOutage => Criterion::Outage,
        },
        confidence: args.confidence,
        surge: args.surge,
        varies: args.vary.clone(),
        max_reps: args.max_reps,
    }
}

pub fn optimize(args: &OptimizeArgs) -> Result<()> {
    let s = settings(args);
    let outcome = crate::app::optimize::optimize(&s)?;
    if s.search.quiet {
        return Ok(());
    }
    print(&s, &outcome)
}

/// The configuration's values, `key=value` each.
fn name(o: &Optimization, c: &Config) -> String {
    (o.keys.iter().zip(&c.values))
        .map(|(k, v)| format!("{}={v}", k.key))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Its cost per hour as the sum it is.
fn cost_sum(c: &Config) -> String {
    let terms: Vec<String> = (c.cost_lines.iter())
        .map(|l| {
            format!(
                "{} {} x {}",
                l.what,
                format_number(l.quantity),
                format_number(l.unit_price)
            )
        })
        .collect();
    format!("{} = {}", terms.join(" + "), format_number(c.cost_per_hour))
}

/// What its own runs say, or how its verdict is implied.
fn evidence(o: &Optimization, c: &Config) -> String {
    let n = c.runs.len() as u32;
    match c.status {
        Status::ImpliedFails => "fails, implied (a configuration with at least as much of \
                                 each key failed; not run)"
            .into(),
        Status::ImpliedHolds => "holds, implied (not run)".into(),
        Status::NotNeeded => "not run".into(),
        s => format!(
            "{}: {} of {n} runs held (seeds of replications 0..{}), {}",
            s.name(),
            n - c.failures,
            n.saturating_sub(1),
            if c.told == Some(true) {
                format!("told from 50% at {}% confidence", o.confidence * 100.0)
            } else {
                format!(
                    "NOT told from 50% (the majority of {n} runs; --max-reps {})",
                    o.max_reps
                )
            }
        ),
    }
}

/// Under `--keep no-outage`, the optimum's SLO figures and losses (means over its runs that
/// held and were simulated now), so that "keeps no outage" is not read as "fine".
pub(crate) fn slo_line(c: &Config) -> String {
    let figs: Vec<&crate::experiment::optimize::RunSlo> =
        c.runs.iter().filter_map(|r| r.slo.as_ref()).collect();
    if figs.is_empty() {
        return "its SLO figures: not known (no run of it that held was simulated now: those \
                read from the journal keep only held or failed)"
            .into();
    }
    let mean = |f: &dyn Fn(&crate::experiment::optimize::RunSlo) -> Option<f64>| {
        let xs: Vec<f64> = figs.iter().filter_map(|r| f(r)).collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    };
    let out = mean(&|r| Some(r.time_out_of_slo_s)).unwrap_or(0.0);
    let lost = |x: Option<f64>| x.map_or("-".into(), |x| crate::fmt::pct(1.0 - x));
    let kept = if out > 0.0 {
        format!("the SLO was broken for {}", crate::fmt::human_duration(out))
    } else {
        "the SLO held".into()
    };
    format!(
        "its SLO figures (means of {} of its runs{}): {kept}; {} of attempts and {} of calls \
         were lost{}",
        figs.len(),
        if figs.iter().any(|r| r.partial) {
            ", each up to where the search stopped it"
        } else {
            ""
        },
        lost(mean(&|r| r.success_rate)),
        lost(mean(&|r| r.call_success_rate)),
        if out > 0.0 {
            ": no outage, but not the SLO (--keep slo asks for it)"
        } else {
            ""
        }
    )
}

/// The optimum's evidence below it: each neighbour one value down on a key that costs strictly
/// less, with its runs (or that there is none); then the configurations that cost the same,
/// as such (equally cheap alternatives, not cheaper ones).
pub(crate) fn neighbour_lines(o: &Optimization) -> Vec<String> {
    let Some(p) = o.optimum else {
        return Vec::new();
    };
    let mut out: Vec<String> = (o.neighbours.iter())
        .map(|&q| {
            let n = &o.configs[q];
            format!(
                "one step cheaper, {} (cost {}/h): {}",
                name(o, n),
                format_number(n.cost_per_hour),
                evidence(o, n)
            )
        })
        .collect();
    if out.is_empty() {
        out.push(
            "no cheaper neighbour: no configuration one value down on a key costs less (each \
             key is at the bottom of its range, or one value down costs the same)"
                .into(),
        );
    }
    const SHOWN: usize = 5;
    for &q in o.same_cost.iter().take(SHOWN) {
        let n = &o.configs[q];
        out.push(format!(
            "same cost, not cheaper, {} (cost {}/h): {}",
            name(o, n),
            format_number(n.cost_per_hour),
            evidence(o, n)
        ));
    }
    if o.same_cost.len() > SHOWN {
        out.push(format!(
            "... and {} more configurations of the same cost {}/h (optimize.json, same_cost)",
            o.same_cost.len() - SHOWN,
            format_number(o.configs[p].cost_per_hour)
        ));
    }
    out
}

/// The optimum's headroom in words: "headroom: holds up to at least x6.6 (...)", or "NO
/// HEADROOM: holds at x6; at x6.6 it breaks the SLO (...)".
pub(crate) fn headroom_words(h: &Headroom, c: Criterion) -> String {
    let (asked, tried) = (format_number(h.surge), format_number(h.tried));
    let seeds = format!(
        "on its seeds, replications 0 to {}",
        h.runs.saturating_sub(1)
    );
    if h.holds {
        format!(
            "headroom: holds up to at least x{tried}, 10% above the x{asked} asked ({} of {} \
             runs held there, {seeds})",
            h.runs - h.failures,
            h.runs
        )
    } else {
        let breaks = match c {
            Criterion::Slo => "it breaks the SLO",
            _ => "it has an outage",
        };
        format!(
            "NO HEADROOM: holds at x{asked}; at x{tried} (10% more) {breaks} ({} of {} runs \
             failed, {seeds}): a slightly bigger surge than asked is not covered",
            h.failures, h.runs
        )
    }
}

/// What the answer cannot see past: the optimum's priced keys at an end of their range, and
/// the keys with no price.
pub(crate) fn range_words(o: &Optimization) -> Vec<String> {
    let mut out: Vec<String> = (o.range_edges.iter())
        .map(|e| match e.end {
            End::Low => format!(
                "AT THE EDGE: {}={} is the lowest value of its range: a smaller one, outside the \
                 range, might hold too and cost less (widen the range down to know)",
                e.key, e.value
            ),
            End::High => format!(
                "AT THE EDGE: {}={} is the highest value of its range: more of it with less of \
                 another key, outside the range, might hold for less (widen the range up to know)",
                e.key, e.value
            ),
        })
        .collect();
    for k in &o.unpriced_keys {
        out.push(format!(
            "NO PRICE: {k} changes no configuration's cost (it counts 0: price it in the model's \
             [cost] table, or instances and threads with cost_per_instance_hour and \
             cost_per_thread_hour); the configurations along it cost the same, so the value \
             picked is arbitrary among those of that cost that hold"
        ));
    }
    out
}

/// The answer (see the module's comment).
pub(crate) fn print(s: &OptimizeSettings, out: &OptimizeOutcome) -> Result<()> {
    let o = &out.opt;
    let keep = keep_words(s.criterion);
    let surge = s.surge.map_or(String::new(), |x| {
        format!(" under a surge of x{}", format_number(x))
    });
    match o.optimum {
        Some(p) => {
            let c = &o.configs[p];
            let marked = if o.budget_reached {
                "BEST FOUND SO FAR (--budget reached; not shown to be the cheapest)"
            } else {
                "cheapest configuration"
            };
            outln!("{marked} that keeps {keep}{surge}: {}", name(o, c));
            outln!("  cost per hour (as provisioned): {}", cost_sum(c));
            outln!("  its runs: {}", evidence(o, c));
            if let Some(h) = &o.headroom {
                outln!("  {}", headroom_words(h, s.criterion));
            }
            if s.criterion == Criterion::Outage {
                outln!("  {}", slo_line(c));
            }
            for line in neighbour_lines(o) {
                outln!("  {line}");
            }
        }
        None => outln!(
            "no configuration of the grid keeps {keep}{surge}{}: widen the ranges",
            if o.budget_reached {
                " among those run before --budget"
            } else {
                ""
            }
        ),
    }
    for line in range_words(o) {
        outln!("{line}");
    }
    let grid = o.configs.len();
    let told = out.told_reps as usize;
    outln!(
        "configurations run: {} of the grid's {grid}; runs: {} ({} simulated now, {} from the \
         journal); a brute-force sweep of the grid takes {grid} runs at one replication each, \
         {} at the {told} each that tell a holding configuration from 50%",
        o.configs_run,
        o.runs,
        o.runs_simulated,
        o.runs_from_journal,
        grid * told
    );
    let assumed: Vec<&str> = (o.keys.iter())
        .filter(|k| k.monotone_assumed)
        .map(|k| k.key.as_str())
        .collect();
    if !assumed.is_empty() {
        outln!(
            "ASSUMPTION: more of {} never hurts (monotonicity: configurations implied, not run); \
             checked on every pair run on the same seeds",
            assumed.join(", ")
        );
    }
    let at = |values: &[String]| {
        (o.keys.iter().zip(values))
            .map(|(k, v)| format!("{}={v}", k.key))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for x in &o.contradictions {
        outln!(
            "CONTRADICTION of monotonicity: replication {} (seed {}) held at {} but failed at {}, \
             which has more of {}: no more pruning on {}",
            x.rep,
            x.seed,
            at(&x.held),
            at(&x.failed),
            x.keys.join(", "),
            x.keys.join(", ")
        );
    }
    outln!(
        "outputs: {}/ (optimize.json, optimize.csv, optimize.png, optimize.svg); {} wall",
        out.dir.display(),
        crate::fmt::human_duration(out.wall_s)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::optimize::Key;

    /// Instances 1..2 (priced) x a queue of 10, 100 (unpriced): the optimum (2, 100) has one
    /// cheaper neighbour (1, 100) and one of the same cost (2, 10), said as such.
    #[test]
    fn a_same_cost_neighbour_is_not_called_cheaper() {
        let config = |point: usize, v: [&str; 2], cost: f64, status: Status| {
            Config::unrun(point, &v, cost, status)
        };
        let key = |k: &str, v: [&str; 2]| Key::monotone(k, &v);
        let mut o = Optimization {
            keys: vec![
                key("tier.app.instances", ["1", "2"]),
                key("tier.app.queue", ["10", "100"]),
            ],
            criterion: Criterion::Outage,
            seed: 1,
            seeds: "common".into(),
            confidence: 0.95,
            max_reps: 12,
            cost_basis: String::new(),
            optimum: Some(3),
            neighbours: vec![1],
            same_cost: vec![2],
            configs: vec![
                config(0, ["1", "10"], 1.0, Status::ImpliedFails),
                config(1, ["1", "100"], 1.0, Status::ImpliedFails),
                config(2, ["2", "10"], 2.0, Status::ImpliedFails),
                config(3, ["2", "100"], 2.0, Status::ImpliedHolds),
            ],
            pareto: Vec::new(),
            contradictions: Vec::new(),
            configs_run: 0,
            runs: 0,
            runs_simulated: 0,
            runs_from_journal: 0,
            budget_reached: false,
            range_edges: Vec::new(),
            unpriced_keys: Vec::new(),
            headroom: None,
        };
        let lines = neighbour_lines(&o);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with(
                "one step cheaper, tier.app.instances=1 tier.app.queue=100 (cost 1/h)"
            ),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with(
                "same cost, not cheaper, tier.app.instances=2 tier.app.queue=10 (cost 2/h)"
            ),
            "{lines:?}"
        );
        o.neighbours.clear();
        assert!(neighbour_lines(&o)[0].starts_with("no cheaper neighbour"));
    }

    /// Under --keep no-outage the optimum's SLO figures and losses are told: a configuration
    /// that keeps no outage but broke its SLO is not read as fine (issue 29).
    #[test]
    fn the_optimum_of_no_outage_tells_its_slo_and_losses() {
        use crate::experiment::optimize::{RunRecord, RunSlo};
        let run = |rep: u32, out: f64, ok: f64, calls: f64| RunRecord {
            rep,
            seed: u64::from(rep),
            failed: false,
            slo: Some(RunSlo {
                time_out_of_slo_s: out,
                success_rate: Some(ok),
                call_success_rate: Some(calls),
                partial: false,
            }),
        };
        let mut c = Config {
            point: 0,
            values: vec!["1".into()],
            cost_per_hour: 1.0,
            cost_lines: Vec::new(),
            status: Status::Holds,
            runs: vec![run(0, 1200.0, 0.6, 0.8), run(1, 1440.0, 0.58, 0.84)],
            failures: 0,
            share_holding: Some(1.0),
            told: Some(true),
        };
        assert_eq!(
            slo_line(&c),
            "its SLO figures (means of 2 of its runs): the SLO was broken for 22 min; 41.0% of \
             attempts and 18.0% of calls were lost: no outage, but not the SLO (--keep slo asks \
             for it)"
        );
        c.runs = vec![run(0, 0.0, 1.0, 1.0)];
        assert!(
            slo_line(&c).contains("the SLO held; 0.0% of attempts"),
            "{}",
            slo_line(&c)
        );
        c.runs[0].slo = None;
        assert!(slo_line(&c).contains("not known"));
    }

    /// The optimum's headroom is said either way: a margin of 10%, or none (issue 29).
    #[test]
    fn the_optimums_headroom_is_said() {
        let mut h = Headroom {
            surge: 6.0,
            tried: 6.6,
            runs: 4,
            failures: 3,
            holds: false,
        };
        assert_eq!(
            headroom_words(&h, Criterion::Slo),
            "NO HEADROOM: holds at x6; at x6.6 (10% more) it breaks the SLO (3 of 4 runs \
             failed, on its seeds, replications 0 to 3): a slightly bigger surge than asked is \
             not covered"
        );
        assert!(headroom_words(&h, Criterion::Outage).contains("it has an outage"));
        (h.failures, h.holds) = (0, true);
        assert_eq!(
            headroom_words(&h, Criterion::Slo),
            "headroom: holds up to at least x6.6, 10% above the x6 asked (4 of 4 runs held \
             there, on its seeds, replications 0 to 3)"
        );
    }
}
