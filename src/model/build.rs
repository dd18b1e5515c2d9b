//! From the model as written (`schema::RawModel`) to the checked model (`spec::Model`): apply
//! defaults, build distributions and read trace files (relative to the model's folder, passed in
//! explicitly), and check what spans several keys. One function per part of the file, each
//! failing with the key path it is about. The shape of each value was already checked while it
//! was read; tiers are built in `build_tier`.

use std::path::Path;

use super::build_tier::tiers;
use super::ctx::Ctx;
use super::dist::{Dist, RawDist};
use super::error::ModelError;
use super::limits::{MAX_SOURCES, too_many_sources};
use super::schema::{self, Action, RawClient, SourceKind};
use super::spec::{Client, Model, Operator, Profile, Scenario, Slo, Source, Surge, Tier};
use super::trace::Trace;

/// Apply defaults and check what spans several keys.
pub(super) fn build(raw: schema::RawModel, ctx: &Ctx) -> Result<Model, ModelError> {
    let scenario = scenario(raw.scenario, ctx)?;
    let surge = surge(raw.surge, ctx)?;
    let global = raw.client.unwrap_or_default();
    let client_retry = global.retry.is_some();
    let global_dists = ClientDists::build(&global, "client", ctx)?;
    let sources = sources(
        raw.sources,
        &global,
        &global_dists,
        scenario.duration_s,
        ctx,
    )?;
    let tiers = tiers(raw.tiers, ctx)?;
    let slo = slo(raw.slo, ctx)?;
    super::limits::series_memory(&scenario, &slo, tiers.len(), ctx)?;
    let operators = operators(raw.operators, &tiers, ctx)?;
    super::population::check_room(&sources, raw.waiting_room.is_some(), ctx)?;
    let waiting_room = super::build_room::build(raw.waiting_room, &sources, ctx)?;
    let rate_limit = super::rate_limit::build(raw.rate_limit, "rate_limit", ctx)?;
    let prices = super::cost::build(raw.cost, &tiers, ctx)?;
    Ok(Model {
        file: ctx.file.to_string(),
        scenario,
        surge,
        sources,
        tiers,
        slo,
        operators,
        waiting_room,
        rate_limit,
        prices,
        client_retry,
        canonical: super::canonical::canonical(ctx.text, ctx.base),
    })
}

fn scenario(sc: schema::RawScenario, ctx: &Ctx) -> Result<Scenario, ModelError> {
    let duration_s = sc.duration.0;
    if duration_s <= 0.0 {
        return Err(ctx.fail(
            "scenario.duration",
            "the simulated horizon must be longer than 0".into(),
        ));
    }
    if duration_s > 400.0 * 86_400.0 {
        return Err(ctx.fail(
            "scenario.duration",
            format!("{duration_s} s is absurdly long (at most 400 days)"),
        ));
    }
    let warmup_s = sc.warmup.map_or(0.0, |d| d.0);
    if warmup_s >= duration_s {
        return Err(ctx.fail(
            "scenario.warmup",
            format!("warm-up ({warmup_s} s) must end before the horizon ({duration_s} s)"),
        ));
    }
    let bucket_s = sc.bucket.map_or(60.0, |d| d.0).min(duration_s);
    if bucket_s <= 0.0 {
        return Err(ctx.fail(
            "scenario.bucket",
            "a time-series bucket must be longer than 0".into(),
        ));
    }
    if duration_s / bucket_s > 2_000_000.0 {
        return Err(ctx.fail(
            "scenario.bucket",
            format!(
                "{:.0} buckets is too many (at most 2,000,000): use a longer bucket",
                duration_s / bucket_s
            ),
        ));
    }
    let name = sc.name.unwrap_or_else(|| {
        Path::new(ctx.file).file_stem().map_or("model".into(), |s| {
            s.to_string_lossy().replace(" (built in)", "")
        })
    });
    Ok(Scenario {
        name,
        start_clock_s: sc.start.map(|c| c.0),
        duration_s,
        warmup_s,
        seed: sc.seed.unwrap_or(1),
        bucket_s,
    })
}

fn surge(raw: Option<schema::RawSurge>, ctx: &Ctx) -> Result<Surge, ModelError> {
    let surge = match raw {
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
        return Err(ctx.fail(
            "surge.peak",
            format!("a surge of {}x is absurd (at most 10,000x)", surge.peak),
        ));
    }
    Ok(surge)
}

fn sources(
    raw: Vec<schema::RawSource>,
    global: &RawClient,
    global_dists: &ClientDists,
    duration_s: f64,
    ctx: &Ctx,
) -> Result<Vec<Source>, ModelError> {
    if raw.is_empty() {
        return Err(ctx.fail(
            "source",
            "the model has no [[source]]: add one with kind = \"requests\" or \"users\"".into(),
        ));
    }
    if raw.len() > MAX_SOURCES {
        return Err(ctx.fail(&format!("source[{MAX_SOURCES}]"), too_many_sources()));
    }
    let mut sources: Vec<Source> = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, s) in raw.into_iter().enumerate() {
        let key = format!("source[{i}]");
        let source = source(s, &key, i, global, global_dists, duration_s, ctx)?;
        if !names.insert(source.name.clone()) {
            return Err(ctx.fail(
                &format!("{key}.name"),
                format!("two sources are named `{}`", source.name),
            ));
        }
        sources.push(source);
    }
    Ok(sources)
}

/// The arrivals of a source: (baseline, pages, think, trace).
type Arrivals = (f64, Option<Dist>, Option<Dist>, Option<Trace>);

fn source(
    s: schema::RawSource,
    key: &str,
    i: usize,
    global: &RawClient,
    global_dists: &ClientDists,
    duration_s: f64,
    ctx: &Ctx,
) -> Result<Source, ModelError> {
    let name = s.name.clone().unwrap_or_else(|| format!("source{}", i + 1));
    super::limits::check_name("source", &name, &format!("{key}.name"), ctx)?;
    let has_profile = s.profile.is_some();
    let profile = match &s.profile {
        None => Profile::flat(),
        Some(p) if p.is_empty() => {
            return Err(ctx.fail(
                &format!("{key}.profile"),
                "a profile needs at least one [time, factor] point".into(),
            ));
        }
        Some(p) => {
            let points: Vec<(f64, f64)> = p.iter().map(|(t, f)| (t.0, f.0)).collect();
            if points.windows(2).any(|w| w[1].0 < w[0].0) {
                return Err(ctx.fail(
                    &format!("{key}.profile"),
                    "profile times must not go backwards".into(),
                ));
            }
            Profile { points }
        }
    };
    if s.kind != SourceKind::Trace && s.file.is_some() {
        return Err(ctx.fail(
            &format!("{key}.file"),
            "`file` belongs to kind = \"trace\" (arrivals read from a CSV file)".into(),
        ));
    }
    let population = super::population::population(&s, key, global, ctx)?;
    let (baseline, pages, think, trace) = match s.kind {
        SourceKind::Trace => trace_arrivals(&s, key, has_profile, duration_s, ctx)?,
        SourceKind::Requests => request_arrivals(&s, key, ctx)?,
        SourceKind::Users => user_arrivals(&s, key, ctx)?,
    };
    let own_dists = match &s.client {
        Some(c) => Some(ClientDists::build(c, &format!("{key}.client"), ctx)?),
        None => None,
    };
    let client = client(
        global,
        global_dists,
        s.client.as_ref().zip(own_dists.as_ref()),
        s.kind,
        key,
    )
    .map_err(|(k, m)| ctx.fail(&k, m))?;
    let rate_limit =
        super::rate_limit::build(s.rate_limit.clone(), &format!("{key}.rate_limit"), ctx)?;
    let source = Source {
        name,
        kind: s.kind,
        baseline,
        population,
        profile,
        pages,
        think,
        trace,
        client,
        rate_limit,
    };
    super::population::check_think(&source, key, ctx)?;
    Ok(source)
}

fn trace_arrivals(
    s: &schema::RawSource,
    key: &str,
    has_profile: bool,
    duration_s: f64,
    ctx: &Ctx,
) -> Result<Arrivals, ModelError> {
    for (k, present) in [
        ("rate", s.rate.is_some()),
        ("users", s.users.is_some()),
        ("pages", s.pages.is_some()),
        ("think", s.think.is_some()),
        ("profile", has_profile),
    ] {
        if present {
            return Err(ctx.fail(
                &format!("{key}.{k}"),
                format!(
                    "`{k}` does not apply to kind = \"trace\": its arrivals are replayed as recorded in `file`"
                ),
            ));
        }
    }
    let file = s.file.as_ref().ok_or_else(|| {
        ctx.fail(
            key,
            "a source of kind \"trace\" needs `file` (a CSV of arrival times, or `start,count` per bucket)".into(),
        )
    })?;
    let t = ctx.trace(file, &format!("{key}.file"))?;
    let rate = t.count_before(duration_s) / duration_s;
    Ok((rate, None, None, Some(t)))
}

fn request_arrivals(s: &schema::RawSource, key: &str, ctx: &Ctx) -> Result<Arrivals, ModelError> {
    for (k, present) in [
        ("users", s.users.is_some()),
        ("pages", s.pages.is_some()),
        ("think", s.think.is_some()),
    ] {
        if present {
            return Err(ctx.fail(
                &format!("{key}.{k}"),
                format!("`{k}` belongs to kind = \"users\"; a requests source takes `rate`"),
            ));
        }
    }
    let rate = s.rate.ok_or_else(|| {
        ctx.fail(
            key,
            "a source of kind \"requests\" needs `rate` (requests per second)".into(),
        )
    })?;
    Ok((rate.0, None, None, None))
}

fn user_arrivals(s: &schema::RawSource, key: &str, ctx: &Ctx) -> Result<Arrivals, ModelError> {
    if s.rate.is_some() {
        return Err(ctx.fail(&format!("{key}.rate"), "`rate` belongs to kind = \"requests\"; a users source takes `users`, `pages` and `think`".into()));
    }
    let users = s.users.ok_or_else(|| {
        ctx.fail(
            key,
            "a source of kind \"users\" needs `users` (baseline concurrent users)".into(),
        )
    })?;
    if users.0 > 10_000_000.0 {
        return Err(ctx.fail(
            &format!("{key}.users"),
            format!(
                "{} concurrent users is absurdly many (at most 10,000,000)",
                users.0
            ),
        ));
    }
    let pages = s.pages.as_ref().ok_or_else(|| {
        ctx.fail(
            key,
            "a source of kind \"users\" needs `pages` (a distribution of pages per visit)".into(),
        )
    })?;
    let think = s.think.as_ref().ok_or_else(|| {
        ctx.fail(
            key,
            "a source of kind \"users\" needs `think` (a distribution of think time)".into(),
        )
    })?;
    let pages = ctx.dist(pages, &format!("{key}.pages"))?;
    let think = ctx.dist(think, &format!("{key}.think"))?;
    Ok((users.0, Some(pages), Some(think), None))
}

/// The distributions of a `[client]` table, built.
#[derive(Debug, Clone, Default)]
struct ClientDists {
    patience: Option<Dist>,
    refresh_after: Option<Dist>,
    return_after: Option<Dist>,
}

impl ClientDists {
    /// Build the distributions of `c`, whose key path is `prefix` (`client`, `source[0].client`).
    fn build(c: &RawClient, prefix: &str, ctx: &Ctx) -> Result<ClientDists, ModelError> {
        let one = |d: Option<&RawDist>, k: &str| {
            d.map(|d| ctx.dist(d, &format!("{prefix}.{k}"))).transpose()
        };
        Ok(ClientDists {
            patience: one(c.patience.as_ref(), "patience")?,
            refresh_after: one(c.refresh_after.as_ref(), "refresh_after")?,
            return_after: one(c.come_back.as_ref().map(|r| &r.after), "return.after")?,
        })
    }
}

/// A source's client: its own `client` keys over the model's `[client]`.
fn client(
    global: &RawClient,
    global_dists: &ClientDists,
    own: Option<(&RawClient, &ClientDists)>,
    kind: SourceKind,
    key: &str,
) -> Result<Client, (String, String)> {
    let c = |k: &str| {
        if own.is_some() {
            format!("{key}.client.{k}")
        } else {
            format!("client.{k}")
        }
    };
    let (own, own_dists) = own.unzip();
    // Each key from the source's own table where it has it, else from `[client]`.
    let pick = |has: fn(&RawClient) -> bool| own.filter(|o| has(o)).is_some();
    let patience = if pick(|o| o.patience.is_some()) {
        own_dists.and_then(|d| d.patience.clone())
    } else {
        global_dists.patience.clone()
    };
    let refresh_after = if pick(|o| o.refresh_after.is_some()) {
        own_dists.and_then(|d| d.refresh_after.clone())
    } else {
        global_dists.refresh_after.clone()
    };
    let come_back = match own.and_then(|o| o.come_back.as_ref()) {
        Some(r) => Some((
            r.probability.0,
            own_dists.and_then(|d| d.return_after.clone()),
        )),
        None => global
            .come_back
            .as_ref()
            .map(|r| (r.probability.0, global_dists.return_after.clone())),
    };
    let retry = match own.and_then(|o| o.retry.as_ref()).or(global.retry.as_ref()) {
        None => None,
        Some(r) => {
            if kind == SourceKind::Users && own.is_some_and(|o| o.retry.is_some()) {
                return Err((c("retry"), "automatic retries are for kind = \"requests\"; users refresh instead (`refresh`)".into()));
            }
            Some(super::build_client::retry(r, &c)?)
        }
    };
    let (breaker, throttle) = super::build_client::policies(global, own, &c)?;
    let timeout = own.and_then(|o| o.timeout).or(global.timeout);
    let refresh = own.and_then(|o| o.refresh).or(global.refresh);
    let give_up_after = own.and_then(|o| o.give_up_after).or(global.give_up_after);
    Ok(Client {
        timeout_s: timeout.map(|d| d.0).filter(|d| *d > 0.0),
        patience,
        refresh: refresh.map_or(0.0, |p| p.0),
        refresh_after,
        give_up_after: give_up_after.map(|c| c.0),
        return_probability: come_back.as_ref().map_or(0.0, |r| r.0),
        return_after: come_back.and_then(|r| r.1),
        retry: if kind != SourceKind::Users {
            retry
        } else {
            None
        },
        breaker,
        throttle,
    })
}

fn slo(raw: Option<schema::RawSlo>, ctx: &Ctx) -> Result<Slo, ModelError> {
    let slo = raw.map_or(
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
        return Err(ctx.fail("slo.window", "the SLO window must be longer than 0".into()));
    }
    Ok(slo)
}

fn operators(
    raw: Vec<schema::RawOperator>,
    tiers: &[Tier],
    ctx: &Ctx,
) -> Result<Vec<Operator>, ModelError> {
    let mut operators = Vec::new();
    for (i, o) in raw.into_iter().enumerate() {
        let key = format!("operator[{i}]");
        let tier = match &o.tier {
            None => None,
            Some(name) => Some(tiers.iter().position(|t| &t.name == name).ok_or_else(|| {
                let names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
                let hint = super::hint::did_you_mean(name, &names)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                ctx.fail(
                    &format!("{key}.tier"),
                    format!("there is no tier named `{name}`{hint}"),
                )
            })?),
        };
        if o.action == Action::AddInstances && o.instances.is_none_or(|n| n.0 == 0) {
            return Err(ctx.fail(
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
    Ok(operators)
}
