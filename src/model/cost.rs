//! What a configuration costs per hour (`surge optimize`): each tier's `cost_per_instance_hour`
//! x its instances, its `cost_per_thread_hour` x instances x threads, and each `[cost]` price x
//! the value its key has in the model (`[cost] "tier.db.threads" = 0.02` is 0.02 per unit of
//! `tier.db.threads` per hour). The cost is an explicit sum of lines ([`Line`]), printed as such.
//!
//! ASSUMPTION: the configured instances are paid for every hour (an autoscaler's extra instances
//! are not priced here: `summary.json`'s `cost` prices the instance-hours a run used).
//!
//! Not here: the run's own cost from its instance-hours (`experiment::tier_summaries`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::ctx::Ctx;
use super::error::ModelError;
use super::error::Place;
use super::spec::{Model, Price, Tier};
use super::units::NonNegative;

/// Read `[cost]`: each key must be written in the model as a number, and priced once (a
/// tier's instances priced by both its `cost_per_instance_hour` and a `[cost]` entry, or its
/// threads by both `cost_per_thread_hour` and an entry, is refused: which price is meant is the
/// planner's to say, and charging both would double the cost). Errors are placed at the entry's
/// line and column.
pub(super) fn build(
    raw: Option<BTreeMap<String, NonNegative>>,
    tiers: &[Tier],
    ctx: &Ctx,
) -> Result<Vec<Price>, ModelError> {
    let mut prices = Vec::new();
    for (key, price) in raw.unwrap_or_default() {
        let fail = |why: String| cost_error(ctx, &key, why);
        let value = super::overrides::number_at(ctx.text, &key).map_err(&fail)?;
        if let Some(why) = priced_twice(&key, tiers, ctx) {
            return Err(fail(why));
        }
        prices.push(Price {
            key,
            per_unit_hour: price.0,
            value,
        });
    }
    Ok(prices)
}

/// An error at the `[cost]` entry `key`, placed at its line and column.
fn cost_error(ctx: &Ctx, key: &str, why: String) -> ModelError {
    let place = super::error::locate_entry(ctx.text, "cost", key)
        .map_or(Place::Whole, |(line, column)| Place::File { line, column });
    ModelError {
        file: ctx.file.to_string(),
        place,
        key: Some(format!("cost.\"{key}\"")),
        message: format!("[cost]: {why}"),
    }
}

/// Why the `[cost]` entry `key` prices what a tier's own price already does: `tier.X.instances`
/// on a tier with `cost_per_instance_hour`, `tier.X.threads` on one with `cost_per_thread_hour`
/// (tiers picked by name or index, as `--set` picks them).
fn priced_twice(key: &str, tiers: &[Tier], ctx: &Ctx) -> Option<String> {
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    let [head, pick, what] = parts[..] else {
        return None;
    };
    if head != "tier" {
        return None;
    }
    let i = (tiers.iter().position(|t| t.name == pick))
        .or_else(|| pick.parse::<usize>().ok().filter(|&i| i < tiers.len()))?;
    let t = &tiers[i];
    let (own, price) = match what {
        "instances" => ("cost_per_instance_hour", t.cost_per_instance_hour?),
        "threads" => ("cost_per_thread_hour", t.cost_per_thread_hour?),
        _ => return None,
    };
    let at = super::error::locate(ctx.text, &format!("tier[{i}].{own}"))
        .map_or(String::new(), |(line, column)| {
            format!(" ({}:{line}:{column})", ctx.file)
        });
    Some(format!(
        "`{key}` is priced here and by tier `{}`'s `{own} = {}`{at}: its {what} would be \
         charged twice; keep one of the two prices (docs/model.md, \"Cost\")",
        t.name,
        crate::fmt::format_number(price)
    ))
}

/// One term of a configuration's cost per hour: `quantity` x `unit_price` = `amount`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Line {
    /// What is priced: `tier.web instances`, `tier.web threads (instances x threads)`, or a
    /// `[cost]` key.
    pub(crate) what: String,
    pub(crate) quantity: f64,
    /// Price per unit per hour.
    pub(crate) unit_price: f64,
    /// quantity x unit_price, per hour.
    pub(crate) amount: f64,
}

/// The lines of `model`'s cost per hour (none when it prices nothing).
pub(crate) fn lines(model: &Model) -> Vec<Line> {
    let line = |what: String, quantity: f64, unit_price: f64| Line {
        what,
        quantity,
        unit_price,
        amount: quantity * unit_price,
    };
    let mut out = Vec::new();
    for t in &model.tiers {
        let n = f64::from(t.instances);
        if let Some(p) = t.cost_per_instance_hour {
            out.push(line(format!("tier.{} instances", t.name), n, p));
        }
        if let Some(p) = t.cost_per_thread_hour {
            let threads = n * f64::from(t.threads);
            out.push(line(
                format!("tier.{} threads (instances x threads)", t.name),
                threads,
                p,
            ));
        }
    }
    for p in &model.prices {
        out.push(line(p.key.clone(), p.value, p.per_unit_hour));
    }
    out
}

/// The sum of the lines, per hour.
pub(crate) fn total(lines: &[Line]) -> f64 {
    lines.iter().map(|l| l.amount).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(extra_tier: &str, extra: &str) -> Result<Model, ModelError> {
        let text = format!(
            "[scenario]\nduration = \"1h\"\n[[source]]\nkind = \"requests\"\nrate = 10\n\
             [[tier]]\nname = \"web\"\ninstances = 4\nthreads = 8\n\
             service = {{ dist = \"exponential\", mean = \"100ms\" }}\n{extra_tier}\
             [[tier]]\nname = \"db\"\ninstances = 2\nthreads = 16\n\
             service = {{ dist = \"exponential\", mean = \"10ms\" }}\n{extra}"
        );
        crate::model::parse_text(&text, "m.toml", std::path::Path::new("."))
    }

    #[test]
    fn a_configuration_costs_the_sum_of_its_priced_lines() {
        let m = model(
            "cost_per_instance_hour = 0.5\ncost_per_thread_hour = 0.01\n",
            "[cost]\n\"tier.db.threads\" = 0.02\n\"tier.1.instances\" = 1.5\n",
        )
        .unwrap();
        let l = lines(&m);
        let got: Vec<(&str, f64, f64)> = (l.iter())
            .map(|x| (x.what.as_str(), x.quantity, x.amount))
            .collect();
        assert_eq!(
            got,
            [
                ("tier.web instances", 4.0, 2.0),
                ("tier.web threads (instances x threads)", 32.0, 0.32),
                ("tier.1.instances", 2.0, 3.0),
                ("tier.db.threads", 16.0, 0.32),
            ]
        );
        assert!((total(&l) - 5.64).abs() < 1e-12);
        assert!(lines(&model("", "").unwrap()).is_empty());
    }

    #[test]
    fn a_price_on_a_key_the_model_does_not_write_is_refused() {
        let e = model("", "[cost]\n\"tier.db.queue\" = 0.1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`tier.db.queue` is not written in the model"),
            "{e}"
        );
        let e = model("", "[cost]\n\"tier.cache.threads\" = 0.1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no tier named `cache`"), "{e}");
        // Placed at the entry's line and column, as other model errors are.
        let e = model("", "[cost]\n\"tier.db.queue\" = 0.1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("m.toml:17:1: at key `cost.\"tier.db.queue\"`"),
            "{e}"
        );
        let e = model("", "[cost]\n\"tier.db.threads\" = -1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 0"), "{e}");
    }

    #[test]
    fn a_tier_priced_twice_is_refused_naming_both_places() {
        // tier.web's instances by its cost_per_instance_hour (line 11) and by [cost] (line 18).
        let e = model(
            "cost_per_instance_hour = 0.5\n",
            "[cost]\n\"tier.web.instances\" = 1\n",
        )
        .unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("m.toml:18:1: at key `cost.\"tier.web.instances\"`"),
            "{e}"
        );
        assert!(
            e.contains("by tier `web`'s `cost_per_instance_hour = 0.5` (m.toml:11:"),
            "{e}"
        );
        assert!(e.contains("charged twice"), "{e}");
        // By index too, and threads priced both ways.
        let e = model(
            "cost_per_thread_hour = 0.01\n",
            "[cost]\n\"tier.0.threads\" = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`cost_per_thread_hour = 0.01`"), "{e}");
        // Pricing another tier's instances, or another key, is no double charge.
        let m = model(
            "cost_per_instance_hour = 0.5\n",
            "[cost]\n\"tier.db.instances\" = 1\n\"tier.web.threads\" = 0.1\n",
        )
        .unwrap();
        assert_eq!(lines(&m).len(), 3);
    }
}
