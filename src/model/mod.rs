//! The model: what a planner writes in TOML (`schema`), how it is read and checked (`load`),
//! and the checked, defaulted form the simulator runs (`Model`). Units, distributions, `--set`
//! overrides and error messages each have their own file.

pub mod dist;
pub mod error;
pub mod overrides;
pub mod schema;
pub mod units;

use std::path::{Path, PathBuf};

pub use dist::Dist;
pub use error::{ModelError, Place};
pub use schema::{Balancer, Discipline, SourceKind};

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

#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    /// Baseline requests per second (`requests`) or concurrent users (`users`).
    pub baseline: f64,
    pub profile: Profile,
    /// Pages per session (users).
    pub pages: Option<Dist>,
    /// Think time between pages, seconds (users).
    pub think: Option<Dist>,
}

#[derive(Debug, Clone)]
pub struct Tier {
    pub name: String,
    pub instances: u32,
    pub threads: u32,
    /// Waiting places per instance beyond the busy threads; `None` is unbounded.
    pub queue: Option<u32>,
    pub discipline: Discipline,
    pub service: Dist,
    pub contention: f64,
    pub visit: f64,
    pub balancer: Balancer,
    pub memory_base: f64,
    pub memory_per_request: f64,
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
    let (file, text, base) = match path {
        None => (
            BUILTIN_NAME.to_string(),
            BUILTIN_TEXT.to_string(),
            PathBuf::from("."),
        ),
        Some(p) => {
            let file = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| ModelError {
                file: file.clone(),
                place: Place::Whole,
                key: None,
                message: format!("cannot read the model file: {e}"),
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
        return Ok(model);
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
    parse_text(&new_text, &file, &base).map_err(|mut e| {
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
    })
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
    let mut sources = Vec::new();
    for (i, s) in raw.sources.into_iter().enumerate() {
        let key = format!("source[{i}]");
        let name = s.name.unwrap_or_else(|| format!("source{}", i + 1));
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
        let (baseline, pages, think) = match s.kind {
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
        sources.push(Source {
            name,
            kind: s.kind,
            baseline,
            profile,
            pages,
            think,
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
        let (memory_base, memory_per_request) = t.memory.map_or((0.0, 0.0), |m| {
            (
                m.base.map_or(0.0, |s| s.0),
                m.per_request.map_or(0.0, |s| s.0),
            )
        });
        tiers.push(Tier {
            name,
            instances: t.instances.0,
            threads: t.threads.0,
            queue: t.queue.map(|q| q.0),
            discipline: t.discipline.unwrap_or_default(),
            service: t.service.0,
            contention: t.contention.map_or(0.0, |c| c.0),
            visit: t.visit.map_or(1.0, |v| v.0),
            balancer: t.balancer.unwrap_or_default(),
            memory_base,
            memory_per_request,
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
    Ok(Model {
        file: file.to_string(),
        scenario,
        surge,
        sources,
        tiers,
        slo,
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
