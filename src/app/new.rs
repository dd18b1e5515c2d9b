//! The work of `surge new` (alias `surge init`): a starter model for a kind of site (an API, an
//! online shop, a public-service site) from a few answers (the peak load, the surge factor, the
//! tiers with their instances and threads, the SLO), written as commented TOML in which every key
//! says what it means, checked by reading it back as `surge run` would before it is written, and
//! never over an existing file unless asked (`force`).
//!
//! Not here: the flags and the questions on a terminal (`commands::new`), the model's keys
//! (`model`; each explained in docs/model.md).

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

use crate::error::BadInput;
use crate::fmt::format_number;

/// The kinds of site a starter model is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SiteKind {
    /// An API: requests from programs, each retried on error.
    Api,
    /// An online shop: user sessions browsing pages, some giving up after errors.
    Shop,
    /// A public-service site (forms, information): user sessions that refresh on error.
    PublicService,
}

impl SiteKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SiteKind::Api => "api",
            SiteKind::Shop => "shop",
            SiteKind::PublicService => "public-service",
        }
    }

    /// What `peak` counts for this kind.
    pub(crate) fn peak_words(self) -> &'static str {
        match self {
            SiteKind::Api => "requests per second at the peak",
            _ => "user sessions starting per second at the peak",
        }
    }
}

/// The answers a starter model is written from.
#[derive(Debug, Clone)]
pub(crate) struct NewSettings {
    pub(crate) path: PathBuf,
    pub(crate) force: bool,
    pub(crate) kind: SiteKind,
    /// Requests (api) or sessions starting (shop, public-service) per second at the peak.
    pub(crate) peak: f64,
    /// The peak over the usual load.
    pub(crate) surge: f64,
    /// Tier names, front first: `web`, `web,app` or `web,app,db`.
    pub(crate) tiers: Vec<String>,
    /// Instances and threads of each tier, in `tiers` order.
    pub(crate) instances: Vec<u32>,
    pub(crate) threads: Vec<u32>,
    /// The SLO: p95 latency of successes (seconds) and the share of requests that succeed.
    pub(crate) p95_s: f64,
    pub(crate) success: f64,
}

/// The tiers a starter model may have, in the order requests cross them.
pub(crate) const TIERS: [&str; 3] = ["web", "app", "db"];

/// Default instances and threads of `web`, `app` and `db`.
pub(crate) const INSTANCES: [u32; 3] = [4, 4, 2];
pub(crate) const THREADS: [u32; 3] = [64, 32, 20];

/// Refuse answers the model could not hold, naming the flag.
pub(crate) fn check(s: &NewSettings) -> Result<(), BadInput> {
    let bad = |m: String| Err(BadInput(m));
    if !(s.peak.is_finite() && s.peak > 0.0) {
        return bad(format!("--peak {}: give a number above 0", s.peak));
    }
    if !(s.surge.is_finite() && (1.0..=10_000.0).contains(&s.surge)) {
        return bad(format!(
            "--surge {}: the peak over the usual load, from 1 (no surge) to 10000",
            s.surge
        ));
    }
    let known = s.tiers.iter().all(|t| TIERS.contains(&t.as_str()));
    let prefix = s.tiers.iter().zip(TIERS).all(|(t, w)| t == w);
    if s.tiers.is_empty() || !known || !prefix || s.tiers.len() > 3 {
        return bad(format!(
            "--tiers {}: give web, web,app or web,app,db",
            s.tiers.join(",")
        ));
    }
    for (flag, v) in [("--instances", &s.instances), ("--threads", &s.threads)] {
        if v.len() != s.tiers.len() || v.contains(&0) {
            return bad(format!(
                "{flag}: give one count above 0 per tier ({} tiers: {}), e.g. {flag} {}",
                s.tiers.len(),
                s.tiers.join(","),
                vec!["4"; s.tiers.len()].join(",")
            ));
        }
    }
    if !(s.p95_s.is_finite() && s.p95_s > 0.0) {
        return bad("--slo-p95: give a duration above 0, e.g. 500ms".into());
    }
    if !(s.success > 0.0 && s.success < 1.0) {
        return bad(format!(
            "--slo-success {}: a share above 0 and below 1, e.g. 0.99",
            s.success
        ));
    }
    Ok(())
}

/// What a tier does in the starter model: its mean service time (seconds), spread (cv), share of
/// requests that reach it, and the comment that says so.
fn tier_role(name: &str) -> (f64, f64, f64, &'static str) {
    match name {
        "web" => (0.02, 1.0, 1.0, "front servers: TLS, routing, rendering"),
        "app" => (0.08, 1.0, 1.0, "application servers: the business logic"),
        _ => (
            0.01,
            1.5,
            0.6,
            "the database: 6 requests in 10 query it, the rest hit a cache",
        ),
    }
}

/// Pages per session and think time (seconds) of each kind with users.
fn session_shape(kind: SiteKind) -> (f64, f64) {
    match kind {
        SiteKind::Shop => (8.0, 20.0),
        _ => (5.0, 30.0),
    }
}

/// The starter model's text.
pub(crate) fn model_text(s: &NewSettings) -> String {
    let mut t = String::new();
    let base = s.peak / s.surge;
    t.push_str(&format!(
        "# A starter model of {} site, written by `surge new`. Every key is explained in a\n\
         # comment; the full list is in docs/model.md. Values marked ASSUMPTION are guesses to\n\
         # replace with yours (`surge fit` reads them from access logs).\n\
         # Next: `surge check {f}` (the exact predictions), `surge run {f}`, `surge report {f}`.\n\n",
        match s.kind {
            SiteKind::Api => "an API",
            SiteKind::Shop => "an online shop",
            SiteKind::PublicService => "a public-service",
        },
        f = s.path.display()
    ));
    t.push_str(&format!(
        "[scenario]\n\
         name = \"{}\"            # names the outputs: outputs/<name>/<command>/\n\
         duration = \"3h\"         # simulated time: the usual load, the surge and after it\n\
         warmup = \"10m\"          # left out of the summary while the site fills up\n\
         seed = 1                # same model and seed, same results\n\
         bucket = \"1m\"           # resolution of the time series and of the outage analysis\n\n",
        s.kind.name()
    ));
    t.push_str(&format!(
        "[surge]                 # the traffic multiplier over time: 1, up to `peak`, back to 1\n\
         peak = {}               # the peak is {} times the usual load\n\
         start = \"30m\"           # ASSUMPTION: the surge begins 30 minutes in ...\n\
         ramp = \"15m\"            # ... rises over 15 minutes ...\n\
         hold = \"1h\"             # ... stays at the peak an hour ...\n\
         decay = \"30m\"           # ... and falls back over 30 minutes\n\n",
        format_number(s.surge),
        format_number(s.surge)
    ));
    t.push_str(&source(s, base));
    t.push_str(&client(s.kind));
    for (i, name) in s.tiers.iter().enumerate() {
        t.push_str(&tier(name, s.instances[i], s.threads[i]));
    }
    t.push_str(&format!(
        "[slo]                   # what the site promises, and when it is down\n\
         success_rate = {}       # share of requests that must succeed\n\
         latency = \"{}\"          # p95 latency of successes must be at most this\n\
         window = \"5m\"           # both measured over sliding 5-minute windows\n\
         outage_below = 0.5      # a window where fewer than half succeed is down (an outage)\n\
         stable = \"30m\"          # recovered once the SLO has held 30 minutes without a break\n",
        format_number(s.success),
        crate::fmt::exact_duration(s.p95_s).replace(' ', "")
    ));
    t
}

/// The `[[source]]` of the kind, at the usual load `base` (the peak over the surge factor).
fn source(s: &NewSettings, base: f64) -> String {
    if s.kind == SiteKind::Api {
        return format!(
            "[[source]]\n\
             name = \"clients\"\n\
             kind = \"requests\"        # open arrivals: programs calling the API\n\
             rate = {}             # requests per second usually: {} at the peak / surge {}\n\n",
            format_number(round3(base)),
            format_number(s.peak),
            format_number(s.surge)
        );
    }
    let (pages, think) = session_shape(s.kind);
    // Little's law: users on the site = sessions per second x session length, a session being
    // `pages` pages each followed by a think (the response time is left out: it is short).
    let users = (base * pages * think).max(1.0).round();
    format!(
        "[[source]]\n\
         name = \"visitors\"\n\
         kind = \"users\"           # user sessions: each reads pages, thinking between them\n\
         users = {}             # users on the site usually: {} sessions/s at the peak / surge {} \
         x {} pages x {} s each\n\
         pages = {{ dist = \"geometric\", mean = {} }}   # ASSUMPTION: pages per session\n\
         think = {{ dist = \"exponential\", mean = \"{}s\" }}   # ASSUMPTION: reading time \
         between pages\n\n",
        format_number(users),
        format_number(s.peak),
        format_number(s.surge),
        format_number(pages),
        format_number(think),
        format_number(pages),
        format_number(think)
    )
}

/// The `[client]` of the kind: how callers wait, retry or refresh.
fn client(kind: SiteKind) -> String {
    match kind {
        SiteKind::Api => "[client]                # how the callers behave\n\
             timeout = \"10s\"         # a caller stops waiting after 10 s (the attempt times out)\n\n\
             [client.retry]          # ASSUMPTION: callers retry failed attempts\n\
             max_attempts = 3        # attempts in all, the first included\n\
             backoff = \"exponential\" # wait base, 2 x base, ... before each retry\n\
             base = \"200ms\"          # the first wait\n\
             jitter = \"full\"         # each wait drawn uniformly below its ceiling\n\n"
            .to_string(),
        SiteKind::Shop => "[client]                # how the visitors behave\n\
             timeout = \"30s\"         # a visitor stops waiting for a page after 30 s\n\
             refresh = 0.5           # ASSUMPTION: half of those who see an error ask again ...\n\
             refresh_after = { dist = \"exponential\", mean = \"5s\" }   # ... after a few seconds\n\
             give_up_after = 3       # after 3 errors in a row the visitor leaves (a lost sale)\n\n"
            .to_string(),
        SiteKind::PublicService => "[client]                # how the visitors behave\n\
             timeout = \"60s\"         # a visitor stops waiting for a page after a minute\n\
             refresh = 0.8           # ASSUMPTION: most who see an error ask again (they must) ...\n\
             refresh_after = { dist = \"exponential\", mean = \"10s\" }   # ... after a while\n\
             give_up_after = 4       # after 4 errors in a row the visitor leaves\n\
             return = { probability = 0.6, after = { dist = \"exponential\", mean = \"30m\" } }   \
             # and comes back later with this chance\n\n"
            .to_string(),
    }
}

/// One `[[tier]]`.
fn tier(name: &str, instances: u32, threads: u32) -> String {
    let (mean, cv, visit, role) = tier_role(name);
    let mut t = format!(
        "[[tier]]                # {role}\n\
         name = \"{name}\"\n\
         instances = {instances}           # servers (or pods) of this tier\n\
         threads = {threads}            # requests one instance serves at once (workers, pool size)\n\
         queue = {}             # ASSUMPTION (4 x threads): waiting places per instance beyond \
         the busy threads; past them, rejected\n\
         service = {{ dist = \"lognormal\", mean = \"{}ms\", cv = {} }}   # ASSUMPTION: time to \
         serve one request here\n\
         request_timeout = \"30s\" # the server abandons a request that held a thread this long\n\
         cost_per_instance_hour = 0.1   # ASSUMPTION: price of one instance for an hour (any \
         currency): the outputs report the cost\n",
        4 * threads,
        format_number(mean * 1000.0),
        format_number(cv)
    );
    if visit < 1.0 {
        t.push_str(&format!(
            "visit = {}              # share of requests that reach this tier\n",
            format_number(visit)
        ));
    }
    t.push('\n');
    t
}

fn round3(x: f64) -> f64 {
    if x >= 100.0 {
        x.round()
    } else {
        (x * 1000.0).round() / 1000.0
    }
}

/// Check the answers, write the model to `s.path` (refused over an existing file without
/// `force`) once it reads back as `surge run` reads it; the path written.
pub(crate) fn write(s: &NewSettings) -> Result<PathBuf> {
    check(s)?;
    if s.path.exists() && !s.force {
        bail!(BadInput(format!(
            "{} already exists: give another path, or --force to overwrite it",
            s.path.display()
        )));
    }
    let text = model_text(s);
    let base = s.path.parent().unwrap_or(Path::new("."));
    crate::model::parse_text(&text, &s.path.display().to_string(), base).map_err(|e| {
        anyhow::anyhow!("internal error: the starter model does not read back: {e}")
    })?;
    crate::store::atomic::write_atomic(&s.path, text.as_bytes())?;
    Ok(s.path.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(kind: SiteKind, tiers: usize) -> NewSettings {
        NewSettings {
            path: PathBuf::from("model.toml"),
            force: false,
            kind,
            peak: 300.0,
            surge: 6.0,
            tiers: TIERS[..tiers].iter().map(|t| t.to_string()).collect(),
            instances: INSTANCES[..tiers].to_vec(),
            threads: THREADS[..tiers].to_vec(),
            p95_s: 0.5,
            success: 0.99,
        }
    }

    #[test]
    fn every_kind_and_tier_count_reads_back() {
        for kind in [SiteKind::Api, SiteKind::Shop, SiteKind::PublicService] {
            for n in 1..=3 {
                let s = settings(kind, n);
                let text = model_text(&s);
                let m = crate::model::parse_text(&text, "model.toml", Path::new("."))
                    .unwrap_or_else(|e| panic!("{kind:?} {n}: {e}\n{text}"));
                assert_eq!(m.tiers.len(), n);
                assert_eq!(m.slo.success_rate, 0.99);
                assert_eq!(m.slo.latency_s, 0.5);
            }
        }
    }

    #[test]
    fn bad_answers_name_their_flag() {
        let mut s = settings(SiteKind::Api, 2);
        s.instances = vec![4];
        assert!(check(&s).unwrap_err().0.starts_with("--instances"));
        let mut s = settings(SiteKind::Api, 2);
        s.tiers = vec!["web".into(), "db".into()];
        assert!(check(&s).unwrap_err().0.starts_with("--tiers"));
        let mut s = settings(SiteKind::Api, 1);
        s.surge = 0.5;
        assert!(check(&s).unwrap_err().0.starts_with("--surge"));
    }
}
