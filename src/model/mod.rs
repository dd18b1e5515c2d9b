//! The model: what a planner writes in TOML (`schema`), how it is read and checked (`load`),
//! and the checked, defaulted form the simulator runs (`Model`). Units, distributions, `--set`
//! overrides and error messages each have their own file.

pub mod dist;
pub mod durations;
pub mod error;
pub mod overrides;
pub mod schema;
pub mod trace;
pub mod units;

use std::path::{Path, PathBuf};

pub use dist::Dist;
pub use error::{ModelError, Place};
pub use schema::{Action, Backoff, Balancer, COUNT_KEYS, Discipline, Jitter, SourceKind};
pub use trace::Trace;

/// The default model, embedded so that `surge` with no arguments runs it.
pub const BUILTIN_NAME: &str = "models/ircc-2016.toml (built in)";
pub const BUILTIN_TEXT: &str = include_str!("../../models/ircc-2016.toml");

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// Clock time of t = 0, seconds after midnight.
    pub start_clock_s: Option<f64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub seed: u64,
    pub bucket_s: f64,
}

/// The surge multiplier: 1 before `start_s`, up to `peak` over `ramp_s`, held for `hold_s`, back
/// to 1 over `decay_s`.
#[derive(Debug, Clone, Copy)]
pub struct Surge {
    pub peak: f64,
    pub start_s: f64,
    pub ramp_s: f64,
    pub hold_s: f64,
    pub decay_s: f64,
}

impl Surge {
    /// The multiplier at time `t` (seconds).
    pub fn factor(&self, t: f64) -> f64 {
        let p = self.peak;
        let t1 = self.start_s;
        let t2 = t1 + self.ramp_s;
        let t3 = t2 + self.hold_s;
        let t4 = t3 + self.decay_s;
        if t < t1 {
            1.0
        } else if t < t2 {
            1.0 + (p - 1.0) * (t - t1) / self.ramp_s
        } else if t < t3 {
            p
        } else if t < t4 {
            p + (1.0 - p) * (t - t3) / self.decay_s
        } else {
            1.0
        }
    }

    /// Times where the multiplier changes slope.
    pub fn breakpoints(&self) -> [f64; 4] {
        let t2 = self.start_s + self.ramp_s;
        let t3 = t2 + self.hold_s;
        [self.start_s, t2, t3, t3 + self.decay_s]
    }
}

/// A piecewise-linear factor over time; flat before the first and after the last point.
#[derive(Debug, Clone)]
pub struct Profile {
    pub points: Vec<(f64, f64)>,
}

impl Profile {
    pub fn flat() -> Profile {
        Profile {
            points: vec![(0.0, 1.0)],
        }
    }

    pub fn at(&self, t: f64) -> f64 {
        let p = &self.points;
        if t <= p[0].0 {
            return p[0].1;
        }
        for w in p.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t < t1 {
                return if t1 > t0 {
                    v0 + (v1 - v0) * (t - t0) / (t1 - t0)
                } else {
                    v1
                };
            }
        }
        p[p.len() - 1].1
    }

    pub fn is_flat(&self) -> bool {
        self.points.windows(2).all(|w| w[0].1 == w[1].1)
    }
}

/// Automatic retries of a requests source.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub base_s: f64,
    pub cap_s: f64,
    pub jitter: Jitter,
    /// Retry token bucket: each success earns `budget` tokens, each retry spends one.
    pub budget: Option<f64>,
}

/// How clients behave when the site is slow or failing. Every part is off by default.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// A response not back by then counts as timed out; the server may keep working on it.
    pub timeout_s: Option<f64>,
    /// A client whose request is still waiting for a thread after this long abandons it.
    pub patience: Option<Dist>,
    /// Probability that a user who saw an error or a timeout asks for the page again.
    pub refresh: f64,
    pub refresh_after: Option<Dist>,
    /// Consecutive failures after which a user leaves.
    pub give_up_after: Option<u32>,
    /// Probability that a user who left after failures comes back later, and when.
    pub return_probability: f64,
    pub return_after: Option<Dist>,
    pub retry: Option<Retry>,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    /// Baseline requests per second (`requests`) or concurrent users (`users`); for a trace,
    /// its mean rate over the horizon.
    pub baseline: f64,
    pub profile: Profile,
    /// Pages per session (users).
    pub pages: Option<Dist>,
    /// Think time between pages, seconds (users).
    pub think: Option<Dist>,
    /// The recorded arrivals of a trace source.
    pub trace: Option<Trace>,
    pub client: Client,
}

/// Crash recovery of an instance.
#[derive(Debug, Clone, Copy)]
pub struct Restart {
    pub after_s: f64,
    /// Service slower by this factor right after a restart, decaying linearly to 1 over
    /// `cold_warmup_s`.
    pub cold_factor: f64,
    pub cold_warmup_s: f64,
    /// More crashes than this within `window_s` stop the instance until an operator restarts
    /// it (rapid-fail protection); `None` restarts for ever.
    pub max_crashes: Option<u32>,
    pub window_s: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct HealthCheck {
    pub interval_s: f64,
    pub timeout_s: f64,
    pub unhealthy_after: u32,
    pub healthy_after: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Autoscale {
    pub target_utilization: f64,
    pub max_instances: u32,
    pub provision_s: f64,
    pub cooldown_s: f64,
}

/// People on call and what they do once an outage is noticed.
#[derive(Debug, Clone)]
pub struct Operator {
    pub detect_s: f64,
    pub action: Action,
    pub instances: u32,
    pub delay_s: f64,
    /// Tier index acted on; `None` is every tier (restart) or the first (add_instances).
    pub tier: Option<usize>,
    pub fraction: f64,
    /// How long shed_load lasts (default 1 h; a repeated action extends it).
    pub duration_s: f64,
}

#[derive(Debug, Clone)]
pub struct Tier {
    pub name: String,
    pub instances: u32,
    pub threads: u32,
    /// Waiting places per instance beyond the busy threads; `None` is unbounded.
    pub queue: Option<u32>,
    pub discipline: Discipline,
    /// CoDel's settings, when the discipline is CoDel.
    pub codel: Option<Codel>,
    pub service: Dist,
    pub contention: f64,
    pub visit: f64,
    pub balancer: Balancer,
    pub memory_base: f64,
    pub memory_per_request: f64,
    /// The instance crashes when its memory passes this many bytes.
    pub memory_limit: Option<f64>,
    pub request_timeout_s: Option<f64>,
    pub restart: Restart,
    pub health_check: Option<HealthCheck>,
    pub autoscale: Option<Autoscale>,
}

/// Controlled delay (Nichols and Jacobson's CoDel, as servers use it): a waiting request is
/// dropped when a thread would take it if it waited longer than `target_s` while the queue has
/// been non-empty for over `interval_s` (a standing queue), or longer than `interval_s` otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Codel {
    pub target_s: f64,
    pub interval_s: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct Slo {
    pub success_rate: f64,
    pub latency_s: f64,
    pub window_s: f64,
    pub outage_below: f64,
    pub stable_s: f64,
}

/// A checked model with every default applied.
#[derive(Debug, Clone)]
pub struct Model {
    /// The file as the user named it (for messages).
    pub file: String,
    pub scenario: Scenario,
    pub surge: Surge,
    pub sources: Vec<Source>,
    pub tiers: Vec<Tier>,
    pub slo: Slo,
    pub operators: Vec<Operator>,
}

impl Model {
    /// Mean time a request spends in service along the tiers when nothing queues, seconds.
    pub fn nominal_response_s(&self) -> f64 {
        self.tiers.iter().map(|t| t.visit * t.service.mean()).sum()
    }

    /// Mean length of a user session at nominal speed: pages x (response + think), seconds.
    pub fn session_length_s(&self, source: &Source) -> f64 {
        let pages = source.pages.as_ref().map_or(1.0, Dist::mean);
        let think = source.think.as_ref().map_or(0.0, Dist::mean);
        pages * (self.nominal_response_s() + think)
    }

    /// Number of time-series buckets.
    pub fn buckets(&self) -> usize {
        (self.scenario.duration_s / self.scenario.bucket_s)
            .ceil()
            .max(1.0) as usize
    }
}

/// Read, override and check a model. `path = None` loads the built-in default model.
pub fn load(path: Option<&Path>, sets: &[String]) -> Result<Model, ModelError> {
    load_with_text(path, sets).map(|(model, _)| model)
}

/// [`load`], also returning the effective model text (the file with every `--set` applied).
pub fn load_with_text(path: Option<&Path>, sets: &[String]) -> Result<(Model, String), ModelError> {
    let (file, text, base) = match path {
        None => (
            BUILTIN_NAME.to_string(),
            BUILTIN_TEXT.to_string(),
            PathBuf::from("."),
        ),
        Some(p) => {
            let file = p.display().to_string();
            let bytes = std::fs::read(p).map_err(|e| ModelError {
                file: file.clone(),
                place: Place::Whole,
                key: None,
                message: format!("cannot read the model file: {e}"),
            })?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let good = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(&e.as_bytes()[..good]);
                let (line, column) = error::line_column(&text, good);
                ModelError {
                    file: file.clone(),
                    place: Place::File { line, column },
                    key: None,
                    message: "the model file is not UTF-8 text (a TOML file must be)".into(),
                }
            })?;
            let base = p
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            (file, text, base)
        }
    };
    let model = parse_text(&text, &file, &base)?;
    if sets.is_empty() {
        return Ok((model, text));
    }
    let parsed = sets
        .iter()
        .map(|s| overrides::parse(s).map_err(|m| (s.clone(), m)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|(raw, message)| ModelError {
            file: file.clone(),
            place: Place::Override(raw),
            key: None,
            message,
        })?;
    let new_text = overrides::apply(&text, &parsed).map_err(|(raw, message)| ModelError {
        file: file.clone(),
        place: Place::Override(raw),
        key: None,
        message,
    })?;
    let model = parse_text(&new_text, &file, &base).map_err(|mut e| {
        // The file itself was fine, so the fault lies with an override.
        let key = e.key.clone().unwrap_or_default();
        let culprit = parsed
            .iter()
            .find(|o| {
                let k = o.path.join(".");
                !key.is_empty() && (key.starts_with(&k) || k.starts_with(&key))
            })
            .unwrap_or(&parsed[parsed.len() - 1]);
        e.place = Place::Override(culprit.raw.clone());
        e
    })?;
    Ok((model, new_text))
}

/// Parse and check model text; `file` names it in errors, `base` resolves files it refers to.
pub fn parse_text(text: &str, file: &str, base: &Path) -> Result<Model, ModelError> {
    let at = |offset: Option<usize>| match offset {
        Some(o) => {
            let (line, column) = error::line_column(text, o);
            Place::File { line, column }
        }
        None => Place::Whole,
    };
    let de = toml::Deserializer::parse(text).map_err(|e| ModelError {
        file: file.to_string(),
        place: at(e.span().map(|s| s.start)),
        key: None,
        message: format!("not valid TOML: {}", error::humanize(e.message())),
    })?;
    check_shape(text, file)?;
    schema::BASE_DIR.with(|b| *b.borrow_mut() = base.to_path_buf());
    let raw: schema::RawModel = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ModelError {
            file: file.to_string(),
            place: at(inner.span().map(|s| s.start)),
            key: (path != ".").then_some(path),
            message: error::humanize(inner.message()),
        }
    })?;
    build(raw, text, file)
}

/// Tables written as arrays of tables or the other way round (`[[scenario]]`, `[tier]`): say so
/// plainly rather than in serde's words.
fn check_shape(text: &str, file: &str) -> Result<(), ModelError> {
    let Ok(doc) = toml_edit::Document::parse(text.to_string()) else {
        return Ok(());
    };
    let root = doc.as_table();
    for (key, item) in root.iter() {
        let (single, many) = (
            item.is_table() || item.is_inline_table(),
            item.is_array_of_tables() || item.is_array(),
        );
        let message = match key {
            "scenario" | "surge" | "slo" if many => {
                format!("`{key}` must be one table, written [{key}], not [[{key}]]")
            }
            "tier" | "source" if single => {
                format!(
                    "`{key}` is a list: write each one as [[{key}]] (with double brackets), not [{key}]"
                )
            }
            _ => continue,
        };
        let place = item
            .span()
            .or_else(|| root.key(key).and_then(|k| k.span()))
            .map_or(Place::Whole, |s| {
                let (line, column) = error::line_column(text, s.start);
                Place::File { line, column }
            });
        return Err(ModelError {
            file: file.to_string(),
            place,
            key: Some(key.to_string()),
            message,
        });
    }
    Ok(())
}

/// Apply defaults and check what spans several keys.
fn build(raw: schema::RawModel, text: &str, file: &str) -> Result<Model, ModelError> {
    let fail = |key: &str, message: String| {
        let place =
            locate(text, key).map_or(Place::Whole, |(line, column)| Place::File { line, column });
        ModelError {
            file: file.to_string(),
            place,
            key: Some(key.to_string()),
            message,
        }
    };
    let sc = raw.scenario;
    let duration_s = sc.duration.0;
    if duration_s <= 0.0 {
        return Err(fail(
            "scenario.duration",
            "the simulated horizon must be longer than 0".into(),
        ));
    }
    if duration_s > 400.0 * 86_400.0 {
        return Err(fail(
            "scenario.duration",
            format!("{duration_s} s is absurdly long (at most 400 days)"),
        ));
    }
    let warmup_s = sc.warmup.map_or(0.0, |d| d.0);
    if warmup_s >= duration_s {
        return Err(fail(
            "scenario.warmup",
            format!("warm-up ({warmup_s} s) must end before the horizon ({duration_s} s)"),
        ));
    }
    let bucket_s = sc.bucket.map_or(60.0, |d| d.0).min(duration_s);
    if bucket_s <= 0.0 {
        return Err(fail(
            "scenario.bucket",
            "a time-series bucket must be longer than 0".into(),
        ));
    }
    if duration_s / bucket_s > 2_000_000.0 {
        return Err(fail(
            "scenario.bucket",
            format!(
                "{:.0} buckets is too many (at most 2,000,000): use a longer bucket",
                duration_s / bucket_s
            ),
        ));
    }
    let name = sc.name.unwrap_or_else(|| {
        Path::new(file).file_stem().map_or("model".into(), |s| {
            s.to_string_lossy().replace(" (built in)", "")
        })
    });
    let scenario = Scenario {
        name,
        start_clock_s: sc.start.map(|c| c.0),
        duration_s,
        warmup_s,
        seed: sc.seed.unwrap_or(1),
        bucket_s,
    };
    let surge = match raw.surge {
        None => Surge {
            peak: 1.0,
            start_s: 0.0,
            ramp_s: 0.0,
            hold_s: f64::INFINITY,
            decay_s: 0.0,
        },
        Some(s) => Surge {
            peak: s.peak.map_or(1.0, |p| p.0),
            start_s: s.start.map_or(0.0, |d| d.0),
            ramp_s: s.ramp.map_or(0.0, |d| d.0),
            hold_s: s.hold.map_or(f64::INFINITY, |d| d.0),
            decay_s: s.decay.map_or(0.0, |d| d.0),
        },
    };
    if surge.peak > 10_000.0 {
        return Err(fail(
            "surge.peak",
            format!("a surge of {}x is absurd (at most 10,000x)", surge.peak),
        ));
    }

    if raw.sources.is_empty() {
        return Err(fail(
            "source",
            "the model has no [[source]]: add one with kind = \"requests\" or \"users\"".into(),
        ));
    }
    let global_client = raw.client.unwrap_or_default();
    let mut sources = Vec::new();
    for (i, s) in raw.sources.into_iter().enumerate() {
        let key = format!("source[{i}]");
        let name = s.name.unwrap_or_else(|| format!("source{}", i + 1));
        let has_profile = s.profile.is_some();
        let profile = match s.profile {
            None => Profile::flat(),
            Some(p) if p.is_empty() => {
                return Err(fail(
                    &format!("{key}.profile"),
                    "a profile needs at least one [time, factor] point".into(),
                ));
            }
            Some(p) => {
                let points: Vec<(f64, f64)> = p.iter().map(|(t, f)| (t.0, f.0)).collect();
                if points.windows(2).any(|w| w[1].0 < w[0].0) {
                    return Err(fail(
                        &format!("{key}.profile"),
                        "profile times must not go backwards".into(),
                    ));
                }
                Profile { points }
            }
        };
        if s.kind != SourceKind::Trace && s.file.is_some() {
            return Err(fail(
                &format!("{key}.file"),
                "`file` belongs to kind = \"trace\" (arrivals read from a CSV file)".into(),
            ));
        }
        let mut trace = None;
        let (baseline, pages, think) = match s.kind {
            SourceKind::Trace => {
                for (k, present) in [
                    ("rate", s.rate.is_some()),
                    ("users", s.users.is_some()),
                    ("pages", s.pages.is_some()),
                    ("think", s.think.is_some()),
                    ("profile", has_profile),
                ] {
                    if present {
                        return Err(fail(
                            &format!("{key}.{k}"),
                            format!(
                                "`{k}` does not apply to kind = \"trace\": its arrivals are replayed as recorded in `file`"
                            ),
                        ));
                    }
                }
                let t = s.file.map(|f| f.0).ok_or_else(|| {
                    fail(
                        &key,
                        "a source of kind \"trace\" needs `file` (a CSV of arrival times, or `start,count` per bucket)".into(),
                    )
                })?;
                let rate = t.count_before(duration_s) / duration_s;
                trace = Some(t);
                (rate, None, None)
            }
            SourceKind::Requests => {
                for (k, present) in [
                    ("users", s.users.is_some()),
                    ("pages", s.pages.is_some()),
                    ("think", s.think.is_some()),
                ] {
                    if present {
                        return Err(fail(
                            &format!("{key}.{k}"),
                            format!(
                                "`{k}` belongs to kind = \"users\"; a requests source takes `rate`"
                            ),
                        ));
                    }
                }
                let rate = s.rate.ok_or_else(|| {
                    fail(
                        &key,
                        "a source of kind \"requests\" needs `rate` (requests per second)".into(),
                    )
                })?;
                (rate.0, None, None)
            }
            SourceKind::Users => {
                if s.rate.is_some() {
                    return Err(fail(&format!("{key}.rate"), "`rate` belongs to kind = \"requests\"; a users source takes `users`, `pages` and `think`".into()));
                }
                let users = s.users.ok_or_else(|| {
                    fail(
                        &key,
                        "a source of kind \"users\" needs `users` (baseline concurrent users)"
                            .into(),
                    )
                })?;
                if users.0 > 10_000_000.0 {
                    return Err(fail(
                        &format!("{key}.users"),
                        format!(
                            "{} concurrent users is absurdly many (at most 10,000,000)",
                            users.0
                        ),
                    ));
                }
                let pages = s.pages.ok_or_else(|| fail(&key, "a source of kind \"users\" needs `pages` (a distribution of pages per visit)".into()))?;
                let think = s.think.ok_or_else(|| {
                    fail(
                        &key,
                        "a source of kind \"users\" needs `think` (a distribution of think time)"
                            .into(),
                    )
                })?;
                (users.0, Some(pages.0), Some(think.0))
            }
        };
        if sources.iter().any(|o: &Source| o.name == name) {
            return Err(fail(
                &format!("{key}.name"),
                format!("two sources are named `{name}`"),
            ));
        }
        let client = client(&global_client, s.client.as_ref(), s.kind, &key)
            .map_err(|(k, m)| fail(&k, m))?;
        sources.push(Source {
            name,
            kind: s.kind,
            baseline,
            profile,
            pages,
            think,
            trace,
            client,
        });
    }

    if raw.tiers.is_empty() {
        return Err(fail(
            "tier",
            "the model has no [[tier]]: add one with `instances`, `threads` and `service`".into(),
        ));
    }
    if raw.tiers.len() > 64 {
        return Err(fail("tier", "at most 64 tiers are supported".into()));
    }
    let mut tiers = Vec::new();
    for (i, t) in raw.tiers.into_iter().enumerate() {
        let key = format!("tier[{i}]");
        let name = t.name.unwrap_or_else(|| format!("tier{}", i + 1));
        if tiers.iter().any(|o: &Tier| o.name == name) {
            return Err(fail(
                &format!("{key}.name"),
                format!("two tiers are named `{name}`"),
            ));
        }
        let mean = t.service.0.mean();
        if !(mean.is_finite() && mean > 0.0) {
            return Err(fail(
                &format!("{key}.service"),
                format!("service time needs a finite mean above 0 (it is {mean})"),
            ));
        }
        if u64::from(t.instances.0) * u64::from(t.threads.0) > 50_000_000 {
            return Err(fail(
                &key,
                "instances x threads is absurdly large (at most 50,000,000)".into(),
            ));
        }
        let (memory_base, memory_per_request, memory_limit) =
            t.memory.map_or((0.0, 0.0, None), |m| {
                (
                    m.base.map_or(0.0, |s| s.0),
                    m.per_request.map_or(0.0, |s| s.0),
                    m.limit.map(|s| s.0),
                )
            });
        if let Some(limit) = memory_limit {
            if limit <= memory_base {
                return Err(fail(
                    &format!("{key}.memory.limit"),
                    format!(
                        "the memory limit ({limit} bytes) must be above the base ({memory_base} bytes)"
                    ),
                ));
            }
            if memory_per_request <= 0.0 {
                return Err(fail(
                    &format!("{key}.memory.per_request"),
                    "a memory limit needs `per_request` above 0 (memory grows with the requests held)".into(),
                ));
            }
        }
        let restart = match t.restart {
            None => Restart {
                after_s: 120.0,
                cold_factor: 1.0,
                cold_warmup_s: 0.0,
                max_crashes: None,
                window_s: 300.0,
            },
            Some(r) => {
                let (cold_factor, cold_warmup_s) =
                    r.cold.map_or((1.0, 0.0), |c| (c.factor.0, c.warmup.0));
                if cold_factor < 1.0 {
                    return Err(fail(
                        &format!("{key}.restart.cold.factor"),
                        format!(
                            "a cold-start factor slows service, so it must be at least 1 (got {cold_factor})"
                        ),
                    ));
                }
                Restart {
                    after_s: r.after.map_or(120.0, |d| d.0),
                    cold_factor,
                    cold_warmup_s,
                    max_crashes: r.max_crashes.map(|c| c.0),
                    window_s: r.window.map_or(300.0, |d| d.0),
                }
            }
        };
        let health_check = match t.health_check {
            None => None,
            Some(h) => {
                if h.interval.0 <= 0.0 || h.timeout.0 <= 0.0 {
                    return Err(fail(
                        &format!("{key}.health_check"),
                        "health-check `interval` and `timeout` must be longer than 0".into(),
                    ));
                }
                Some(HealthCheck {
                    interval_s: h.interval.0,
                    timeout_s: h.timeout.0,
                    unhealthy_after: h.unhealthy_after.map_or(3, |c| c.0),
                    healthy_after: h.healthy_after.map_or(2, |c| c.0),
                })
            }
        };
        let autoscale = match t.autoscale {
            None => None,
            Some(a) => {
                if a.target_utilization.0 <= 0.0 {
                    return Err(fail(
                        &format!("{key}.autoscale.target_utilization"),
                        "the target utilisation must be above 0".into(),
                    ));
                }
                if a.max_instances.0 < t.instances.0 {
                    return Err(fail(
                        &format!("{key}.autoscale.max_instances"),
                        format!(
                            "max_instances ({}) is below the starting instances ({})",
                            a.max_instances.0, t.instances.0
                        ),
                    ));
                }
                Some(Autoscale {
                    target_utilization: a.target_utilization.0,
                    max_instances: a.max_instances.0,
                    provision_s: a.provision.map_or(300.0, |d| d.0),
                    cooldown_s: a.cooldown.map_or(120.0, |d| d.0),
                })
            }
        };
        let codel = match (t.discipline, &t.codel) {
            (Some(Discipline::Codel), c) => {
                let target_s = c.as_ref().and_then(|c| c.target).map_or(0.005, |d| d.0);
                let interval_s = c.as_ref().and_then(|c| c.interval).map_or(0.1, |d| d.0);
                if !(target_s > 0.0 && target_s <= interval_s) {
                    return Err(fail(
                        &format!("{key}.codel.target"),
                        format!(
                            "CoDel's target ({target_s} s) must be above 0 and at most its interval ({interval_s} s)"
                        ),
                    ));
                }
                Some(Codel {
                    target_s,
                    interval_s,
                })
            }
            (_, Some(_)) => {
                return Err(fail(
                    &format!("{key}.codel"),
                    "`codel` settings need discipline = \"codel\" in the same tier".into(),
                ));
            }
            _ => None,
        };
        tiers.push(Tier {
            name,
            instances: t.instances.0,
            threads: t.threads.0,
            queue: t.queue.map(|q| q.0),
            discipline: t.discipline.unwrap_or_default(),
            codel,
            service: t.service.0,
            contention: t.contention.map_or(0.0, |c| c.0),
            visit: t.visit.map_or(1.0, |v| v.0),
            balancer: t.balancer.unwrap_or_default(),
            memory_base,
            memory_per_request,
            memory_limit,
            request_timeout_s: t.request_timeout.map(|d| d.0).filter(|d| *d > 0.0),
            restart,
            health_check,
            autoscale,
        });
    }

    let slo = raw.slo.map_or(
        Slo {
            success_rate: 0.99,
            latency_s: 2.0,
            window_s: 300.0,
            outage_below: 0.5,
            stable_s: 3600.0,
        },
        |s| Slo {
            success_rate: s.success_rate.map_or(0.99, |p| p.0),
            latency_s: s.latency.map_or(2.0, |d| d.0),
            window_s: s.window.map_or(300.0, |d| d.0),
            outage_below: s.outage_below.map_or(0.5, |p| p.0),
            stable_s: s.stable.map_or(3600.0, |d| d.0),
        },
    );
    if slo.window_s <= 0.0 {
        return Err(fail(
            "slo.window",
            "the SLO window must be longer than 0".into(),
        ));
    }
    let mut operators = Vec::new();
    for (i, o) in raw.operators.into_iter().enumerate() {
        let key = format!("operator[{i}]");
        let tier = match &o.tier {
            None => None,
            Some(name) => Some(tiers.iter().position(|t| &t.name == name).ok_or_else(|| {
                let names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
                let hint = error::did_you_mean(name, &names)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                fail(
                    &format!("{key}.tier"),
                    format!("there is no tier named `{name}`{hint}"),
                )
            })?),
        };
        if o.action == Action::AddInstances && o.instances.is_none_or(|n| n.0 == 0) {
            return Err(fail(
                &key,
                "action = \"add_instances\" needs `instances` (how many to add, at least 1)".into(),
            ));
        }
        operators.push(Operator {
            detect_s: o.detect.map_or(0.0, |d| d.0),
            action: o.action,
            instances: o.instances.map_or(0, |n| n.0),
            delay_s: o.delay.map_or(0.0, |d| d.0),
            tier,
            fraction: o.fraction.map_or(0.5, |p| p.0),
            duration_s: o.duration.map_or(3600.0, |d| d.0),
        });
    }
    Ok(Model {
        file: file.to_string(),
        scenario,
        surge,
        sources,
        tiers,
        slo,
        operators,
    })
}

/// A source's client: its own `client` keys over the model's `[client]`.
fn client(
    global: &schema::RawClient,
    own: Option<&schema::RawClient>,
    kind: SourceKind,
    key: &str,
) -> Result<Client, (String, String)> {
    let pick = |f: fn(&schema::RawClient) -> bool| own.is_some_and(f);
    let c = |k: &str| {
        if pick(|_| true) {
            format!("{key}.client.{k}")
        } else {
            format!("client.{k}")
        }
    };
    let merged = schema::RawClient {
        timeout: own.and_then(|o| o.timeout).or(global.timeout),
        patience: own
            .and_then(|o| o.patience.clone())
            .or_else(|| global.patience.clone()),
        refresh: own.and_then(|o| o.refresh).or(global.refresh),
        refresh_after: own
            .and_then(|o| o.refresh_after.clone())
            .or_else(|| global.refresh_after.clone()),
        give_up_after: own.and_then(|o| o.give_up_after).or(global.give_up_after),
        come_back: own
            .and_then(|o| o.come_back.clone())
            .or_else(|| global.come_back.clone()),
        retry: own
            .and_then(|o| o.retry.clone())
            .or_else(|| global.retry.clone()),
    };
    let retry = match merged.retry {
        None => None,
        Some(r) => {
            if kind == SourceKind::Users && own.is_some_and(|o| o.retry.is_some()) {
                return Err((c("retry"), "automatic retries are for kind = \"requests\"; users refresh instead (`refresh`)".into()));
            }
            let base_s = r.base.map_or(1.0, |d| d.0);
            let cap_s = r.cap.map_or(f64::INFINITY, |d| d.0);
            if cap_s < base_s {
                return Err((
                    c("retry.cap"),
                    format!("the backoff cap ({cap_s} s) is below its base ({base_s} s)"),
                ));
            }
            Some(Retry {
                max_attempts: r.max_attempts.0,
                backoff: r.backoff.unwrap_or_default(),
                base_s,
                cap_s,
                jitter: r.jitter.unwrap_or_default(),
                budget: r.budget.map(|b| b.0),
            })
        }
    };
    let refresh = merged.refresh.map_or(0.0, |p| p.0);
    Ok(Client {
        timeout_s: merged.timeout.map(|d| d.0).filter(|d| *d > 0.0),
        patience: merged.patience.map(|d| d.0),
        refresh,
        refresh_after: merged.refresh_after.map(|d| d.0),
        give_up_after: merged.give_up_after.map(|c| c.0),
        return_probability: merged.come_back.as_ref().map_or(0.0, |r| r.probability.0),
        return_after: merged.come_back.map(|r| r.after.0),
        retry: if kind != SourceKind::Users {
            retry
        } else {
            None
        },
    })
}

/// Line and column of a key path such as `tier[1].threads` in the model text, if it is there.
fn locate(text: &str, key: &str) -> Option<(usize, usize)> {
    let doc: toml_edit::Document<String> = toml_edit::Document::parse(text.to_string()).ok()?;
    let mut item: &toml_edit::Item = doc.as_item();
    let mut span = None;
    for seg in key.split('.') {
        let (name, idx) = match seg.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        let next = item.get(name)?;
        span = next.span().or(span);
        item = next;
        if let Some(i) = idx {
            let elem = item.get(i)?;
            span = elem.span().or(span);
            item = elem;
        }
    }
    span.map(|s| error::line_column(text, s.start))
}
