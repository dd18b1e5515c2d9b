//! `surge check`'s work: the model loaded and checked, then what it offers, computed once as
//! typed values: the request rate at baseline and at the surge's busiest moment, each tier's
//! offered load against its threads, each closed population's throughput bound, the exact
//! prediction where the model is a textbook queue (`predict`), the estimated events of one run,
//! the warnings, and every duration as the file writes it.
//!
//! Not here: the wording (`commands::check`, `commands::check_closed`), nor the queueing
//! formulas (`analytic`) and the nominal loads (`model::offered`) it reads.

mod pools;
mod predict;

pub(crate) use crate::model::amplification::Amplification;

pub(crate) use pools::PoolLoad;
pub(crate) use predict::{ClosedMiss, Figure, NoPrediction, Prediction, Queue};

use anyhow::Result;

use super::ModelSource;
use crate::experiment::variant;
use crate::model::durations::{WrittenDuration, written_durations};
use crate::model::offered::{
    TierLoad, admitted_rate, request_rate, request_rate_of, through_source_limits, tier_loads,
};
use crate::model::{Model, Population, RateLimit, SourceKind};

/// What `surge check` checks: the model and its overrides.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckSettings {
    pub(crate) source: ModelSource,
}

/// What `surge check` found, for the command to say.
pub(crate) struct CheckOutcome {
    /// The checked model (its name, sources, tiers, horizon and surge).
    pub(crate) model: Model,
    pub(crate) offered: Offered,
    /// Each tier's offered load, in the model's order, its connection pools applied (`pools`):
    /// a callee's capped at the pool, a caller's grown by the requests held waiting.
    pub(crate) tiers: Vec<TierLoad>,
    /// What each connection pool does to those loads, from the deepest pool up.
    pub(crate) pools: Vec<PoolLoad>,
    /// Whether any source is a closed population (a tier short of threads then makes users
    /// wait rather than pile up).
    pub(crate) closed: bool,
    /// One bound per closed source, in the model's order.
    pub(crate) closed_bounds: Vec<ClosedBound>,
    pub(crate) prediction: Prediction,
    /// Events one run is estimated to handle (`experiment::guard`).
    pub(crate) events: f64,
    /// What is legal but probably not meant (`model::warnings`).
    pub(crate) warnings: Vec<String>,
    /// Every duration the model's text states, in file order.
    pub(crate) durations: Vec<DurationRead>,
    /// The edge rate limits: the site's first, then each source's, in the model's order.
    pub(crate) rate_limits: Vec<EdgeLimit>,
    /// The names of the model's `[[variant]]` tables, each loaded and checked as `compare`
    /// would (a bad key in one is bad input here, not at the comparison).
    pub(crate) variants: Vec<String>,
    /// The retry amplification per requests source, when tiers retry their callees
    /// (`amplification`).
    pub(crate) amplification: Vec<Amplification>,
}

/// One edge rate limit (a token bucket) and what it must refuse at the surge peak.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EdgeLimit {
    /// The source it serves (`None`: the site's, shared by every source).
    pub(crate) source: Option<String>,
    /// Tokens per second.
    pub(crate) rate: f64,
    pub(crate) burst: u32,
    /// The requests per second offered to this bucket at the surge peak.
    pub(crate) offered_peak: f64,
    /// The share of first attempts it must refuse at the surge peak, a fluid bound
    /// `1 - rate / offered` (0 when the offer fits; retries of the 429s add more).
    pub(crate) refused_at_peak: f64,
}

/// Requests per second offered to the first tier, at nominal speed, at the surge's busiest
/// moment (its hold): without the surge and with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Offered {
    pub(crate) base: f64,
    pub(crate) peak: f64,
    /// Of `peak`, what the edge rate limits let through (`peak` without limits): the tiers'
    /// loads count this.
    pub(crate) admitted_peak: f64,
    /// How many sources replay a trace (the surge does not scale them).
    pub(crate) traces: usize,
}

/// The throughput bound of one closed population: N / (R0 + Z).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClosedBound {
    pub(crate) source: String,
    /// N, the users at t = 0.
    pub(crate) users: f64,
    /// Z, the mean think time, seconds.
    pub(crate) think_s: f64,
    /// R0, the nominal response time, seconds.
    pub(crate) nominal_response_s: f64,
    /// N / (R0 + Z), pages per second.
    pub(crate) pages_per_s: f64,
}

/// One duration as the file writes it, and what to say of its unit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DurationRead {
    pub(crate) written: WrittenDuration,
    pub(crate) unit: UnitNote,
}

/// What a duration's unit calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitNote {
    /// A unit written, or 0.
    None,
    /// A bare number, read as seconds.
    BareSeconds,
    /// A bare number so large it was more likely meant as milliseconds.
    MaybeMilliseconds,
}

/// A bare number this large in a duration key is more likely milliseconds than seconds.
const SUSPICIOUS_BARE_S: f64 = 1000.0;

/// Load and check the model, and compute what `surge check` says of it.
pub(crate) fn check(settings: &CheckSettings) -> Result<CheckOutcome> {
    let (model, text) = settings.source.load_with_text()?;
    let declared = variant::declared(&text, &settings.source.file_name())?;
    let src = &settings.source;
    // Each variant is loaded (and refused with its name) on the baseline already read.
    let mut all = variant::load_all_on(model, src.file.as_deref(), &src.sets, &declared)?;
    let variants = all.drain(1..).map(|(v, _)| v.name).collect();
    let (_, model) = all.pop().expect("load_all_on keeps the baseline first");
    let mut tiers = tier_loads(&model);
    let pools = pools::apply(&model, &mut tiers);
    Ok(CheckOutcome {
        rate_limits: rate_limits(&model),
        variants,
        offered: offered(&model),
        tiers,
        pools,
        closed: (model.sources.iter()).any(|s| s.population == Population::Closed),
        closed_bounds: closed_bounds(&model),
        prediction: predict::prediction(&model),
        events: crate::experiment::guard::estimate_events(&model),
        warnings: crate::model::warnings::warnings(&model),
        durations: durations_read(&text),
        amplification: crate::model::amplification::amplification(&model),
        model,
    })
}

/// The request rates at the busiest moment of the surge (its hold), and the baseline then.
fn offered(model: &Model) -> Offered {
    let peak_t = peak_time(model);
    Offered {
        base: request_rate(model, peak_t, false),
        peak: request_rate(model, peak_t, true),
        admitted_peak: admitted_rate(model, peak_t, true),
        traces: (model.sources.iter())
            .filter(|s| s.kind == SourceKind::Trace)
            .count(),
    }
}

/// The site's bucket, then each source's, with the share each must refuse at the surge peak.
fn rate_limits(model: &Model) -> Vec<EdgeLimit> {
    let t = peak_time(model);
    let limit = |source: Option<&str>, l: RateLimit, offered_peak: f64| EdgeLimit {
        source: source.map(str::to_string),
        rate: l.rate,
        burst: l.burst,
        offered_peak,
        refused_at_peak: (1.0 - l.rate / offered_peak.max(1e-12)).max(0.0),
    };
    let sources: Vec<EdgeLimit> = (model.sources.iter())
        .filter_map(|s| {
            let offered = request_rate_of(model, s, t, true);
            s.rate_limit.map(|l| limit(Some(&s.name), l, offered))
        })
        .collect();
    // The site's bucket is asked after each source's own: it is offered what those let through.
    let site = (model.rate_limit).map(|l| limit(None, l, through_source_limits(model, t, true)));
    site.into_iter().chain(sources).collect()
}

/// The busiest moment of the surge (the start of its hold), within the horizon.
fn peak_time(model: &Model) -> f64 {
    let [_, top, _, _] = model.surge.breakpoints();
    top.min(model.scenario.duration_s)
}

/// One bound per closed source: its users at t = 0 and N / (R0 + Z).
fn closed_bounds(model: &Model) -> Vec<ClosedBound> {
    let r0 = model.nominal_response_s();
    (model.sources.iter())
        .filter(|s| s.population == Population::Closed)
        .map(|src| {
            let z = src.think.as_ref().map_or(0.0, |d| d.mean());
            let n = src.baseline * src.profile.at(0.0);
            let users = (n * model.surge.factor(0.0)).round();
            ClosedBound {
                source: src.name.clone(),
                users,
                think_s: z,
                nominal_response_s: r0,
                pages_per_s: users / (r0 + z),
            }
        })
        .collect()
}

/// Every duration the model `text` states, with what its unit calls for, so that a unit
/// mistake (`timeout = 30000` meant as milliseconds) shows; each named by its key path as the
/// planner writes it (`tier.web.service.mean`).
fn durations_read(text: &str) -> Vec<DurationRead> {
    (written_durations(text).into_iter())
        .map(|mut d| {
            d.key = crate::model::error::named_path(text, &d.key);
            let unit = match d.seconds {
                Some(v) if d.bare && v >= SUSPICIOUS_BARE_S => UnitNote::MaybeMilliseconds,
                Some(v) if d.bare && v != 0.0 => UnitNote::BareSeconds,
                _ => UnitNote::None,
            };
            DurationRead { written: d, unit }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_mmck(sets: &[&str]) -> CheckOutcome {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mmck.toml");
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        check(&CheckSettings {
            source: ModelSource::new(Some(&file), &sets),
        })
        .unwrap()
    }

    fn value(p: &Prediction, name: &str) -> Option<f64> {
        let Prediction::Exact { figures, .. } = p else {
            panic!("no prediction: {p:?}")
        };
        figures.iter().find(|f| f.name == name).unwrap().value
    }

    #[test]
    fn mmck_is_the_textbook_queue_with_its_exact_figures() {
        let o = check_mmck(&[]);
        // l = 95/s, m = 10/s, c = 10, K = 20: a = 9.5 Erlangs.
        assert_eq!(
            o.offered,
            Offered {
                base: 95.0,
                peak: 95.0,
                admitted_peak: 95.0,
                traces: 0
            }
        );
        let Prediction::Exact { queue, .. } = &o.prediction else {
            panic!("{:?}", o.prediction)
        };
        assert_eq!(
            *queue,
            Queue::Mmck {
                c: 10,
                k: 20,
                l: 95.0,
                m: 10.0,
                a: 9.5
            }
        );
        // P(K) = a^K / (c! c^(K-c)) p0, from the birth-death chain.
        let b = value(&o.prediction, "blocking_probability").unwrap();
        assert!((b - 0.046597).abs() < 1e-6, "{b}");
        // Without a queue: Erlang B(10, 9.5) = 0.191379 (tables).
        let o = check_mmck(&["tier.server.queue=0"]);
        let b = value(&o.prediction, "blocking_probability").unwrap();
        assert!((b - 0.191379).abs() < 1e-6, "{b}");
        assert!(o.closed_bounds.is_empty() && !o.closed);
    }

    #[test]
    fn several_instances_and_general_service_have_no_prediction() {
        let o = check_mmck(&["tier.server.instances=3"]);
        assert_eq!(
            o.prediction,
            Prediction::None(NoPrediction::SeveralInstances {
                instances: 3,
                balancer: crate::model::Balancer::RoundRobin
            })
        );
        let o = check_mmck(&[r#"tier.server.service={dist="lognormal",mean="50ms",cv=2}"#]);
        assert_eq!(o.prediction, Prediction::None(NoPrediction::GeneralService));
    }

    #[test]
    fn bare_durations_are_told_apart_from_likely_milliseconds() {
        let o = check_mmck(&["scenario.duration=5000", "scenario.bucket=2"]);
        let unit = |key: &str| {
            o.durations
                .iter()
                .find(|d| d.written.key == key)
                .unwrap()
                .unit
        };
        assert_eq!(unit("scenario.duration"), UnitNote::MaybeMilliseconds);
        assert_eq!(unit("scenario.bucket"), UnitNote::BareSeconds);
        assert_eq!(unit("scenario.warmup"), UnitNote::None);
        assert_eq!(o.durations.len(), 4);
    }

    #[test]
    fn a_closed_population_gets_its_bound_and_the_finite_source_prediction() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("closed.toml");
        std::fs::write(
            &file,
            "[scenario]\nduration = \"1h\"\n[[source]]\nkind = \"users\"\n\
             population = \"closed\"\nusers = 10\npages = { dist = \"geometric\", mean = 5 }\n\
             think = { dist = \"exponential\", mean = \"2s\" }\n[[tier]]\ninstances = 1\n\
             threads = 2\nservice = { dist = \"exponential\", mean = \"100ms\" }\n",
        )
        .unwrap();
        let o = check(&CheckSettings {
            source: ModelSource::new(Some(&file), &[]),
        })
        .unwrap();
        assert!(o.closed);
        let [b] = o.closed_bounds.as_slice() else {
            panic!("{:?}", o.closed_bounds)
        };
        // N / (R0 + Z) = 10 / (0.1 + 2).
        assert_eq!((b.users, b.think_s, b.nominal_response_s), (10.0, 2.0, 0.1));
        assert!((b.pages_per_s - 10.0 / 2.1).abs() < 1e-12);
        let Prediction::Exact { queue, .. } = &o.prediction else {
            panic!("{:?}", o.prediction)
        };
        assert!(matches!(
            queue,
            Queue::FiniteSource {
                n: 10,
                c: 2,
                k: None,
                ..
            }
        ));
        // M/M/2//10, Z = 2 s, S = 0.1 s: X = 4.752471/s (the machine-repair chain).
        let x = value(&o.prediction, "throughput_per_s").unwrap();
        assert!((x - 4.752471).abs() < 1e-6, "{x}");
    }
}
