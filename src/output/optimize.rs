//! The chart of `surge optimize` (`optimize.png`, `optimize.svg`) from its answer ([`draw`]).
//!
//! Not here: the chart itself (`chart::draw_pareto`), the search (`experiment::optimize`), the
//! other files (`app::optimize`).

use anyhow::Result;
use std::path::Path;

use crate::experiment::optimize::{Optimization, Status};
use crate::output::chart;

/// The chart of `o`, titled `title`, into `dir`.
pub(crate) fn draw(title: &str, o: &Optimization, keep: &str, dir: &Path) -> Result<()> {
    let run: Vec<&crate::experiment::optimize::Config> =
        o.configs.iter().filter(|c| !c.runs.is_empty()).collect();
    let points: Vec<chart::ParetoPoint> = (run.iter())
        .map(|c| chart::ParetoPoint {
            cost: c.cost_per_hour,
            share: c.share_holding.unwrap_or(0.0),
            runs: c.runs.len() as u32,
            holds: c.status == Status::Holds,
        })
        .collect();
    let index = |p: usize| run.iter().position(|c| c.point == p);
    let front: Vec<usize> = o.pareto.iter().filter_map(|&p| index(p)).collect();
    let optimum = o.optimum.and_then(|p| {
        let name: Vec<String> = (o.keys.iter().zip(&o.configs[p].values))
            .map(|(k, v)| format!("{}={v}", k.key))
            .collect();
        let what = if o.budget_reached {
            "best found before --budget"
        } else {
            "cheapest that holds"
        };
        index(p).map(|i| (i, format!("{what}: {}", name.join(", "))))
    });
    let spec = chart::ParetoChart {
        title,
        points: &points,
        front: &front,
        optimum,
        keep,
    };
    chart::draw_pareto(&spec, &dir.join("optimize.png"), &dir.join("optimize.svg"))
}
