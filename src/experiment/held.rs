//! The memory guard of a run: how many requests a model would hold at once, estimated before it
//! runs so that an overloaded tier with an unbounded queue (arrivals above its capacity for
//! hours) is refused with a clear message instead of growing until the process aborts, and the
//! cap that stops a run which holds too many anyway (a retry storm the estimate did not see).
//!
//! The estimate is a fluid one, per tier: the open arrivals that reach it (requests and trace
//! sources, x `visit`, no faster than the tiers before it can pass them on) less its nominal
//! capacity (instances x threads / mean service), integrated over the horizon; the backlog is
//! never below 0, and its peak is what the tier holds. Only tiers that can hold without bound
//! count: no `queue` bound, not CoDel, no memory limit (a crash empties the instance), no
//! concurrency limit; and only sources whose clients cannot shed it (no patience, breaker or
//! throttle). Users sources hold at most their users, which the model already caps.
//!
//! Not here: the event-count guard (`guard`), which this one runs beside.

use crate::fmt::sci;
use crate::model::schema::Discipline;
use crate::model::{Model, ModelError, Place, SourceKind, Tier};

/// Requests held at once (in flight anywhere in the site) above which a run is refused before it
/// starts, and at which a run that gets there anyway is stopped (results marked partial).
pub(crate) const MAX_HELD: u64 = 20_000_000;

/// Bytes one held request takes, measured: a tier of 1 thread and a 1 s service offered
/// 100,000 requests/s holds 2 M requests after 20 s (peak resident memory 180 MB) and 4 M after
/// 40 s (352 MB), 86 bytes each; rounded up.
pub(crate) const BYTES_PER_HELD: f64 = 90.0;

/// Steps of the fluid integration over the horizon.
const STEPS: usize = 4000;

/// The peak a tier would hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Backlog {
    pub tier: usize,
    /// Requests held at the peak.
    pub held: f64,
    /// Its nominal capacity, requests per second.
    pub capacity_per_s: f64,
    /// The highest arrival rate reaching it, requests per second.
    pub peak_arrivals_per_s: f64,
}

/// Whether `tier` can hold requests without a bound.
fn unbounded(tier: &Tier) -> bool {
    tier.queue.is_none()
        && tier.discipline != Discipline::Codel
        && tier.memory_limit.is_none()
        && tier.concurrency_limit.is_none()
}

/// Nominal capacity of a tier, requests per second.
fn capacity(tier: &Tier) -> f64 {
    let mean = tier.service.mean();
    if mean > 0.0 {
        f64::from(tier.instances) * f64::from(tier.threads) / mean
    } else {
        f64::INFINITY
    }
}

/// Open arrivals per second at `t` from the sources whose clients cannot shed load.
fn open_rate(model: &Model, t: f64, dt: f64) -> f64 {
    model
        .sources
        .iter()
        .filter(|s| {
            let c = &s.client;
            c.patience.is_none() && c.breaker.is_none() && c.throttle.is_none()
        })
        .map(|s| match s.kind {
            SourceKind::Users => 0.0,
            SourceKind::Requests => s.baseline * s.profile.at(t) * model.surge.factor(t),
            SourceKind::Trace => s.trace.as_ref().map_or(0.0, |tr| {
                let lo = (t - dt / 2.0).max(0.0);
                (tr.count_before(t + dt / 2.0) - tr.count_before(lo)) / dt
            }),
        })
        .sum()
}

/// The tier that would hold the most, if any holds more than nothing.
pub(crate) fn peak_backlog(model: &Model) -> Option<Backlog> {
    let d = model.scenario.duration_s;
    let dt = d / STEPS as f64;
    let rates: Vec<f64> = (0..STEPS)
        .map(|k| open_rate(model, (k as f64 + 0.5) * dt, dt))
        .collect();
    let mut best: Option<Backlog> = None;
    // The flow that can reach tier t: no more than each earlier tier passes on.
    let mut upstream = f64::INFINITY;
    for (i, tier) in model.tiers.iter().enumerate() {
        let cap = capacity(tier);
        let visit = tier.visit;
        let (mut backlog, mut peak, mut top) = (0.0f64, 0.0f64, 0.0f64);
        for &r in &rates {
            let arriving = (r * visit).min(upstream * visit);
            top = top.max(arriving);
            backlog = (backlog + (arriving - cap) * dt).max(0.0);
            peak = peak.max(backlog);
        }
        if unbounded(tier) && peak > best.as_ref().map_or(0.0, |b| b.held) {
            best = Some(Backlog {
                tier: i,
                held: peak,
                capacity_per_s: cap,
                peak_arrivals_per_s: top,
            });
        }
        if visit > 0.0 {
            upstream = upstream.min(cap / visit);
        }
    }
    best
}

/// Refuse a model whose estimated peak of held requests passes `MAX_HELD`, naming the tier, the
/// memory it would take and settings that run.
pub(crate) fn check_held(model: &Model) -> Result<(), ModelError> {
    let Some(b) = peak_backlog(model) else {
        return Ok(());
    };
    if b.held <= MAX_HELD as f64 {
        return Ok(());
    }
    let tier = &model.tiers[b.tier];
    // A queue bound that keeps the tier's holding far below the cap: 10 x its threads per
    // instance, at most 10,000 places.
    let queue = (u64::from(tier.threads) * 10).clamp(100, 10_000);
    Err(ModelError {
        file: model.file.clone(),
        place: Place::Whole,
        key: Some(format!("tier.{}.queue", tier.name)),
        message: format!(
            "tier `{}` would hold about {} requests at once ({} per second arriving at the peak \
             against a capacity of {} per second, its queue unbounded), about {} of memory, \
             above the limit of {} requests held: bound its queue (e.g. --set tier.{}.queue={queue}), \
             add capacity, or shorten `scenario.duration`; with --allow-huge the run stops, \
             marked partial, once it holds {} requests",
            tier.name,
            sci(b.held),
            crate::fmt::format_number(round3(b.peak_arrivals_per_s)),
            crate::fmt::format_number(round3(b.capacity_per_s)),
            crate::fmt::human_bytes(b.held * BYTES_PER_HELD),
            crate::fmt::human_count(MAX_HELD as f64),
            tier.name,
            crate::fmt::human_count(MAX_HELD as f64),
        ),
    })
}

/// Three significant figures.
fn round3(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = x.abs().log10().floor() as i32 - 2;
    (x / 10f64.powi(e)).round() * 10f64.powi(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn model(text: &str) -> Model {
        crate::model::parse_text(text, "m.toml", Path::new(".")).unwrap()
    }

    const OVERLOADED: &str = "[scenario]\nduration = \"4h\"\n[[source]]\nkind = \"requests\"\n\
        rate = 100000\n[[tier]]\nname = \"web\"\ninstances = 1\nthreads = 1\n\
        service = { dist = \"deterministic\", value = \"1s\" }\n";

    #[test]
    fn an_overloaded_unbounded_tier_holds_arrivals_less_capacity() {
        let b = peak_backlog(&model(OVERLOADED)).unwrap();
        // (100,000 - 1) requests/s for 14,400 s.
        assert!((b.held - 99_999.0 * 14_400.0).abs() < 1.0, "{b:?}");
        assert_eq!(b.capacity_per_s, 1.0);
        let e = check_held(&model(OVERLOADED)).unwrap_err().to_string();
        assert!(
            e.contains("tier `web` would hold about 1.4e9 requests"),
            "{e}"
        );
        assert!(e.contains("--set tier.web.queue=100"), "{e}");
        // The suggested bound holds nothing beyond its places.
        let bounded = model(&format!("{OVERLOADED}queue = 100\n"));
        assert_eq!(peak_backlog(&bounded), None);
        assert!(check_held(&bounded).is_ok());
    }

    #[test]
    fn a_tier_behind_a_slower_one_holds_nothing() {
        // The first tier passes on at most 10 requests/s; the second serves 20.
        let m = model(
            "[scenario]\nduration = \"1h\"\n[[source]]\nkind = \"requests\"\nrate = 1000\n\
             [[tier]]\nname = \"a\"\ninstances = 1\nthreads = 1\nqueue = 5\n\
             service = { dist = \"deterministic\", value = \"100ms\" }\n\
             [[tier]]\nname = \"b\"\ninstances = 1\nthreads = 2\n\
             service = { dist = \"deterministic\", value = \"100ms\" }\n",
        );
        assert_eq!(peak_backlog(&m), None);
    }
}
