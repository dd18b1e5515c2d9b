//! Guard rails around a run: a rough count of the events a model will take, checked before
//! running so that an absurd model (a rate or a horizon off by a few orders of magnitude) is
//! refused with a clear message instead of running for days; and the bounds (`--max-events`,
//! `--max-wall`, and `until`: the first outage or SLO breach, once a yes/no answer is all that
//! is wanted, and with `hold` the point where the answer is known to be no) that end a run
//! early, cleanly, with its results marked partial.
//!
//! The estimate is nominal, not a promise: arrivals integrated over the horizon (baseline x
//! profile x surge; users sources at users / (response + think) pages per second; trace sources
//! their recorded count) times the events one request takes when nothing fails (its arrival, a
//! completion per tier visited, the timers it sets), plus health-check probes. Retries and
//! refreshes in an outage can add to it; a refusal only needs the order of magnitude.
//!
//! Memory is guarded beside events (`held`): a model that would hold more requests at once than
//! `held::MAX_HELD` is refused first, so that the settings an event refusal suggests run.

use std::path::Path;

use crate::fmt::sci;
use crate::metrics::Summary;
pub use crate::metrics::summary::EndedBy;
use crate::model::{Model, ModelError, Place, SourceKind};
pub use crate::system::Until;

/// Events above which a run is refused unless bounded or allowed (about 10 minutes of CPU).
pub const HUGE_EVENTS: f64 = 5e9;

/// Events per second of CPU assumed when telling the user how long a run would take.
pub const EVENTS_PER_S: f64 = 8e6;

/// Bounds on one replication. The default bounds nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// Stop after this many events.
    pub max_events: Option<u64>,
    /// Stop after this many seconds of wall-clock time (checked every 65,536 events).
    pub max_wall_s: Option<f64>,
    /// Stop at the end of the first SLO window that answers this question with yes: whether
    /// the run crashes (or breaks the SLO) is then known and cannot change.
    pub until: Option<Until>,
    /// With `until`, also stop once the hold rule (`crate::system::hold`) decides the answer
    /// is no: the surge has passed and the site has met its SLO for `slo.stable` since, with
    /// nothing pending that can break it. The run is then marked `EndedBy::Held`: its
    /// whole-horizon figures (downtime, recovery, totals) cover only what it simulated.
    pub hold: bool,
    /// The hold rule alone, for this question: no stop at a failure; a stop (`EndedBy::Held`)
    /// once the rule says no failure can follow, whether or not one came before (a night that
    /// fell and recovered). A comparison's replications use it: what follows the stop adds no
    /// downtime, by the rule, while a night still down needs its horizon for its downtime.
    pub hold_only: Option<Until>,
    /// Stop once this many requests are held at once (`None`: `held::MAX_HELD`, the cap that
    /// keeps a run's memory bounded; tests set a small one).
    pub max_held: Option<u64>,
}

impl Limits {
    /// No bound but `until`.
    pub fn until(until: Until) -> Limits {
        Limits {
            until: Some(until),
            ..Limits::default()
        }
    }

    /// Only the yes/no answer to `until` is wanted: stop at the first failure, or once the hold
    /// rule decides the run holds (the crash-point search; a comparison may use it too).
    pub fn answer(until: Until) -> Limits {
        Limits {
            hold: true,
            ..Limits::until(until)
        }
    }

    /// Does this bound a run, so that its size needs no check? (`until` does not: a run that
    /// never goes down runs to its horizon.)
    pub fn bounded(&self) -> bool {
        self.max_events.is_some() || self.max_wall_s.is_some()
    }
}

/// Requests (pages, for users) each source offers over the horizon at nominal speed.
pub fn requests_per_source(model: &Model) -> Vec<f64> {
    let d = model.scenario.duration_s;
    let steps = 4000;
    let dt = d / steps as f64;
    let response = model.nominal_response_s();
    model
        .sources
        .iter()
        .map(|s| {
            let per_s = match s.kind {
                SourceKind::Trace => {
                    return s.trace.as_ref().map_or(0.0, |t| t.count_before(d));
                }
                SourceKind::Requests => 1.0,
                SourceKind::Users => {
                    let think = s.think.as_ref().map_or(0.0, |t| t.mean());
                    // Pages per second of the users on the site.
                    1.0 / (response + think).max(1e-9)
                }
            };
            // Midpoint rule; the surge's and profile's kinks make it rough, enough here.
            let integral: f64 = (0..steps)
                .map(|k| {
                    let t = (k as f64 + 0.5) * dt;
                    s.profile.at(t) * model.surge.factor(t)
                })
                .sum::<f64>()
                * dt;
            s.baseline * per_s * integral
        })
        .collect()
}

/// Rough number of events one replication of `model` takes (see the module comment).
pub fn estimate_events(model: &Model) -> f64 {
    let d = model.scenario.duration_s;
    let requests: f64 = requests_per_source(model).iter().sum();
    // Events of one request: its arrival (or page), the client's timers, and at each tier it
    // visits a completion and the server's timer.
    let client_timers = model
        .sources
        .iter()
        .map(|s| {
            f64::from(u8::from(s.client.timeout_s.is_some()))
                + f64::from(u8::from(s.client.patience.is_some()))
        })
        .fold(0.0, f64::max);
    let per_request = 1.0
        + client_timers
        + model
            .tiers
            .iter()
            .map(|t| t.visit * (1.0 + f64::from(u8::from(t.request_timeout_s.is_some()))))
            .sum::<f64>();
    let probes: f64 = model
        .tiers
        .iter()
        .filter_map(|t| {
            t.health_check
                .map(|h| 3.0 * f64::from(t.instances) * d / h.interval_s)
        })
        .sum();
    let buckets = model.buckets() as f64;
    requests * per_request + probes + buckets
}

/// Refuse a run of `runs` replications that would take absurdly many events, unless it is
/// bounded by `limits` or allowed (`--allow-huge`).
pub fn check_size(
    model: &Model,
    runs: u64,
    limits: &Limits,
    allow: bool,
) -> Result<(), ModelError> {
    if allow {
        return Ok(());
    }
    // A run bounded by few enough events cannot hold more requests than it handles events.
    if limits.max_events.is_none_or(|n| n > super::held::MAX_HELD) {
        super::held::check_held(model)?;
    }
    if limits.bounded() {
        return Ok(());
    }
    refuse_huge(model, runs, true)
}

/// The same check for one run of a sweep or crash-point search, which take no bounds:
/// `--allow-huge` is the way out.
pub fn check_run_size(model: &Model, allow: bool) -> Result<(), ModelError> {
    if allow {
        return Ok(());
    }
    super::held::check_held(model)?;
    refuse_huge(model, 1, false)
}

fn refuse_huge(model: &Model, runs: u64, boundable: bool) -> Result<(), ModelError> {
    let each = estimate_events(model);
    let total = each * runs as f64;
    if total.is_finite() && total <= HUGE_EVENTS {
        return Ok(());
    }
    let runs_text = if runs > 1 {
        format!(" ({} per replication, {runs} replications)", sci(each))
    } else {
        String::new()
    };
    // Name the source that brings the most traffic: that is where a slip usually is.
    let busiest = requests_per_source(model)
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| format!("source.{}", model.sources[i].name));
    Err(ModelError {
        file: model.file.clone(),
        place: Place::Whole,
        key: busiest,
        message: format!(
            "this run would take about {} events{runs_text}, roughly {} of CPU at {} M events/s, \
             above the limit of {} events: check this source's rate or users and `scenario.duration` for a \
             unit slip; to run it anyway pass --allow-huge{}",
            sci(total),
            crate::fmt::human_duration(total / EVENTS_PER_S),
            EVENTS_PER_S / 1e6,
            sci(HUGE_EVENTS),
            if boundable {
                ", or bound it with --max-events N or --max-wall DURATION (the results are then \
                 marked partial)"
            } else {
                ""
            },
        ),
    })
}

/// The body of the fuzz target (`fuzz/fuzz_targets/model.rs`) and of its regression test: read
/// `text` as a model (files it names are looked up under `base`) and, if it is valid and small
/// enough to run in a moment, run it for at most `max_events` events. Whatever the text, this
/// must return, soon, without a panic: that is what the fuzzer checks.
pub fn try_text(text: &str, base: &Path, max_events: u64) -> Result<Option<Summary>, ModelError> {
    let model = crate::model::parse_text(text, "fuzz.toml", base)?;
    // The guards (`check_size` and the held-requests estimate) see every valid model; then its
    // variants and a grid, as `compare` and `sweep --count-points` load them.
    let _ = check_size(&model, 1, &Limits::default(), false);
    try_variants_and_grid(text, base);
    // Models that are valid but need a big world just to start (millions of instances or users
    // set up at t = 0) are slow by design, not broken: the fuzzer skips running them.
    let instances: u64 = model.tiers.iter().map(|t| u64::from(t.instances)).sum();
    let users: f64 = model
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Users)
        .map(|s| s.baseline * s.profile.at(0.0) * model.surge.factor(0.0))
        .sum();
    if instances > 10_000 || users > 100_000.0 || model.buckets() > 100_000 {
        return Ok(None);
    }
    let limits = Limits {
        max_events: Some(max_events),
        ..Limits::default()
    };
    let out = super::run_bounded(&model, model.scenario.seed, &limits);
    Ok(Some(out.summary))
}

/// The fuzz target's look at what a sweep and a comparison would load from `text`: its
/// `[[variant]]` tables (each loaded, as `compare` does), and a grid from comment lines
/// `# vary: K=SPEC` (with `# points: N`), counted as `sweep --count-points` counts it and, when
/// small, each point loaded. Errors are expected; a panic, a hang or a runaway allocation is not.
fn try_variants_and_grid(text: &str, base: &Path) {
    use crate::model::overrides;
    let load = |sets: &[String]| -> Option<()> {
        let parsed: Vec<_> = sets
            .iter()
            .map(|s| overrides::parse(s).ok())
            .collect::<Option<_>>()?;
        let t = overrides::apply(text, &parsed).ok()?;
        crate::model::parse_text(&t, "fuzz.toml", base)
            .ok()
            .map(|_| ())
    };
    if let Ok(variants) = super::variant::declared(text, "fuzz.toml") {
        for v in variants.iter().take(16) {
            load(&v.set);
        }
    }
    let points = text
        .lines()
        .find_map(|l| l.strip_prefix("# points: "))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(10);
    let varies: Vec<super::vary::Vary> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# vary: "))
        .filter_map(|spec| super::vary::parse_vary(spec, points).ok())
        .collect();
    if varies.is_empty() {
        return;
    }
    match super::vary::grid_size(&varies) {
        Ok(n) if n <= 64 => {
            for point in super::vary::grid(&varies) {
                let sets: Vec<String> = varies
                    .iter()
                    .zip(&point)
                    .map(|(v, x)| format!("{}={x}", v.key))
                    .collect();
                load(&sets);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn model(text: &str) -> Model {
        crate::model::parse_text(text, "m.toml", Path::new(".")).unwrap()
    }

    #[test]
    fn estimates_follow_rate_and_horizon() {
        let m = model(
            "[scenario]\nduration = \"1h\"\n[[source]]\nkind = \"requests\"\nrate = 100\n\
             [[tier]]\ninstances = 1\nthreads = 10\nservice = { dist = \"exponential\", mean = \"10ms\" }\n",
        );
        // 360,000 requests x (arrival + completion) + 60 buckets.
        let e = estimate_events(&m);
        assert!((e - 720_060.0).abs() < 1.0, "{e}");
        assert!(check_size(&m, 1, &Limits::default(), false).is_ok());
    }

    #[test]
    fn absurd_models_are_refused_unless_bounded() {
        let m = model(
            "[scenario]\nduration = \"30d\"\nbucket = \"1h\"\n[[source]]\nkind = \"requests\"\nrate = 1e6\n\
             [[tier]]\ninstances = 1\nthreads = 10\nqueue = 100\n\
             service = { dist = \"exponential\", mean = \"10ms\" }\n",
        );
        let e = check_size(&m, 1, &Limits::default(), false).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("5.2e12 events"), "{text}");
        assert!(
            text.contains("--allow-huge") && text.contains("--max-events"),
            "{text}"
        );
        assert!(check_size(&m, 1, &Limits::default(), true).is_ok());
        let bounded = Limits {
            max_events: Some(1000),
            ..Limits::default()
        };
        assert!(check_size(&m, 1, &bounded, false).is_ok());
        assert_eq!(sci(5e9), "5.0e9");
    }
}
