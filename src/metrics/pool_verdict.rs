//! What a run's connection pools (`[tier.pool]`) measured, in words, and whether one of them was
//! the bottleneck. The rule reads measured state only, never key names: a pool limited the site
//! when requests waited for its connections (at least `WAITED_AT_LEAST` of those that asked),
//! its instances' pools had every connection in use for at least `FULL_AT_LEAST` of the
//! instance-time, and meanwhile the tier it calls had threads to spare (its busiest bucket used
//! less than `CALLEE_SPARE_BELOW` of them). When the callee's threads were all busy, its threads
//! were the limit and a full pool only passed their queue upstream: the pool is not blamed.
//! A request that waits for a connection holds its thread at the caller, so the caller and the
//! tiers before it queue and turn attempts away: their refusals are the pool's doing.
//!
//! When no pool was the bottleneck but a tier's threads were all busy in its busiest bucket,
//! that tier is named ([`saturated_words`]).
//!
//! Not here: the measuring (`crate::system::pool`), where the words are printed
//! (`commands::run`, `report::run`, `app::report`).

use super::means::TierMeans;
use crate::fmt::{human_count, human_duration, pct};

/// Share of the requests that asked for a connection that had to wait for one.
const WAITED_AT_LEAST: f64 = 0.01;
/// Share of the caller's instance-time with every connection of its pool in use.
const FULL_AT_LEAST: f64 = 0.05;
/// The callee's utilisation in its busiest bucket below which it had threads to spare.
const CALLEE_SPARE_BELOW: f64 = 0.95;
/// A tier's utilisation in its busiest bucket at or above which all its threads were busy: it
/// ran at its limit (`saturated_words`).
const SATURATED_AT_LEAST: f64 = 0.99;

/// A pool's figures, read from the caller's means (over replications: means of each figure).
struct Figures {
    connections: f64,
    instances: f64,
    requests: f64,
    waited: f64,
    timeouts: f64,
    mean_wait_s: Option<f64>,
    peak: f64,
    full_share: f64,
    mean_in_use: f64,
    mean_waiting: f64,
}

impl Figures {
    fn of(caller: &TierMeans) -> Option<Figures> {
        Some(Figures {
            connections: caller.pool_connections?,
            instances: caller.instances_mean.or(caller.instances).unwrap_or(0.0),
            requests: caller.pool_requests.unwrap_or(0.0),
            waited: caller.pool_waited.unwrap_or(0.0),
            timeouts: caller.pool_timeouts.unwrap_or(0.0),
            mean_wait_s: caller.pool_mean_wait_s,
            peak: caller.pool_peak_connections.unwrap_or(0.0),
            full_share: caller.pool_full_share.unwrap_or(0.0),
            mean_in_use: caller.pool_mean_in_use.unwrap_or(0.0),
            mean_waiting: caller.pool_mean_waiting.unwrap_or(0.0),
        })
    }

    fn waited_share(&self) -> f64 {
        self.waited / self.requests.max(1.0)
    }

    /// "6 connections per instance x 4 instances = 24".
    fn size(&self) -> String {
        let n = |x: f64| crate::fmt::format_number((x * 10.0).round() / 10.0);
        format!(
            "{} connections per instance x {} instances = {}",
            n(self.connections),
            n(self.instances),
            n(self.connections * self.instances)
        )
    }

    /// The waits: "41% of the 12,000 requests that asked for a connection waited for one (mean
    /// wait 2.1 s over the requests that got one), 1,200 timed out waiting (29% of those that
    /// waited)".
    fn waits(&self) -> String {
        format!(
            "{} of the {} requests that asked for a connection waited for one (mean wait {} over \
             the requests that got one), {} timed out waiting ({} of those that waited)",
            pct(self.waited_share()),
            human_count(self.requests),
            self.mean_wait_s.map_or("-".into(), human_duration),
            human_count(self.timeouts),
            pct(self.timeouts / self.waited.max(1.0)),
        )
    }
}

/// Whether tier `k`'s pool was the bottleneck, by the rule above (its callee is tier `k + 1`).
fn limits(tiers: &[TierMeans], k: usize) -> bool {
    let (Some(f), Some(callee)) = (Figures::of(&tiers[k]), tiers.get(k + 1)) else {
        return false;
    };
    let callee_peak = callee.utilization_peak_bucket.unwrap_or(1.0);
    f.waited_share() >= WAITED_AT_LEAST
        && f.full_share >= FULL_AT_LEAST
        && callee_peak < CALLEE_SPARE_BELOW
}

/// The first pool that was the bottleneck (the index of its caller tier), if any.
pub(crate) fn bottleneck(tiers: &[TierMeans]) -> Option<usize> {
    (0..tiers.len()).find(|&k| limits(tiers, k))
}

/// The line of tier `k`'s pool, when it has one: its size, the waits, its peak and how full it
/// was, and, where it was full for a while, whether its callee's threads or the pool limited.
pub(crate) fn pool_line(tiers: &[TierMeans], k: usize) -> Option<String> {
    let f = Figures::of(&tiers[k])?;
    let callee = tiers.get(k + 1)?;
    let verdict = if limits(tiers, k) {
        "; the pool limited the site (see the bottleneck line)".to_string()
    } else if f.full_share >= FULL_AT_LEAST && f.waited_share() >= WAITED_AT_LEAST {
        format!(
            "; not the bottleneck: {}'s threads were all busy ({} in its busiest bucket), the \
             pool only passed their queue upstream",
            callee.name,
            callee.utilization_peak_bucket.map_or("-".into(), pct)
        )
    } else {
        String::new()
    };
    Some(format!(
        "pool {} -> {}: {}; {}; at most {} in use at once; every connection of an instance's \
         pool in use {} of the instance-time (mean over the run {:.1} in use, {:.1} waiting){verdict}",
        tiers[k].name,
        callee.name,
        f.size(),
        f.waits(),
        human_count(f.peak),
        pct(f.full_share),
        f.mean_in_use,
        f.mean_waiting,
    ))
}

/// The bottleneck in words when a pool was it: what it measured, why its callee was not the
/// limit, and what the waits did upstream; `None` when no pool was the bottleneck.
pub(crate) fn bottleneck_words(tiers: &[TierMeans]) -> Option<String> {
    let k = bottleneck(tiers)?;
    let f = Figures::of(&tiers[k])?;
    let (caller, callee) = (&tiers[k].name, &tiers[k + 1].name);
    // Where nothing was turned away up to the pool, its waits only added latency.
    let refused = tiers[..=k]
        .iter()
        .any(|t| t.blocking_probability.is_some_and(|b| b > 0.0));
    let upstream = match (refused, k) {
        (false, _) => {
            "; no attempt was turned away in this run: the waits added latency only".to_string()
        }
        (true, 0) => {
            format!(", so {caller} queues and turns attempts away: their refusals are the pool's")
        }
        (true, _) => format!(
            ", so {caller} and the tiers before it queue and turn attempts away: their refusals \
             are the pool's"
        ),
    };
    Some(format!(
        "the {caller} -> {callee} pool ({}): every connection of an instance's pool in use {} \
         of the instance-time while {callee} had threads to spare ({} busy in its busiest \
         bucket); {}. A request waiting for a connection holds its thread at {caller}\
         {upstream}. More {callee} capacity does not help; \
         more connections (tier.{caller}.pool.connections) or more {caller} instances do, \
         while {callee}'s threads keep up",
        f.size(),
        pct(f.full_share),
        tiers[k + 1].utilization_peak_bucket.map_or("-".into(), pct),
        f.waits(),
    ))
}

/// When no pool was the bottleneck: the deepest tier whose threads were all busy in its busiest
/// bucket (at least `SATURATED_AT_LEAST`, measured; a full tier holds the threads of the tiers
/// calling it, so they fill too and the deepest full one is the limit), and the tiers up to it
/// that turned attempts away: "db, all threads busy in its busiest bucket (100.0%); attempts
/// were turned away upstream at api". `None` when a pool was the bottleneck, no tier was full,
/// or the summary has no busiest bucket (one written before every run measured it).
pub(crate) fn saturated_words(tiers: &[TierMeans]) -> Option<String> {
    if bottleneck(tiers).is_some() {
        return None;
    }
    let peak = |t: &TierMeans| {
        t.utilization_peak_bucket
            .filter(|&u| u >= SATURATED_AT_LEAST)
    };
    let k = (0..tiers.len())
        .rev()
        .find(|&k| peak(&tiers[k]).is_some())?;
    let refused = |t: &&TierMeans| t.blocking_probability.unwrap_or(0.0) > 0.0;
    let names = |ts: &[TierMeans]| -> Vec<String> {
        ts.iter().filter(refused).map(|t| t.name.clone()).collect()
    };
    let (before, at) = (names(&tiers[..k]), names(&tiers[k..=k]));
    let away = match (before.is_empty(), at.is_empty()) {
        (true, true) => String::new(),
        (true, false) => format!("; attempts were turned away at {}", tiers[k].name),
        (false, true) => format!(
            "; attempts were turned away upstream at {}",
            before.join(", ")
        ),
        (false, false) => format!(
            "; attempts were turned away at {} and upstream at {}",
            tiers[k].name,
            before.join(", ")
        ),
    };
    Some(format!(
        "{}, all threads busy in its busiest bucket ({}){away}",
        tiers[k].name,
        pct(peak(&tiers[k]).unwrap_or(1.0))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An app tier with a pool to a db tier: `full` of its instance-time full, half the
    /// requests waiting, the db's busiest bucket at `db_peak`.
    fn tiers(full: f64, db_peak: f64) -> Vec<TierMeans> {
        use crate::metrics::summary::{Summary, TierSummary};
        let app = TierSummary {
            name: "app".into(),
            instances: 4,
            instances_mean: 4.0,
            pool_connections: Some(6),
            pool_requests: Some(1000),
            pool_waited: Some(500),
            pool_timeouts: Some(100),
            pool_mean_wait_s: Some(0.5),
            pool_peak_connections: Some(24),
            pool_full_share: Some(full),
            pool_mean_in_use: Some(20.0),
            pool_mean_waiting: Some(10.0),
            utilization_peak_bucket: Some(1.0),
            ..Default::default()
        };
        let db = TierSummary {
            name: "db".into(),
            utilization_peak_bucket: Some(db_peak),
            ..Default::default()
        };
        let s = Summary {
            tiers: vec![app, db],
            ..Default::default()
        };
        crate::metrics::means::over_replications(&[&s]).0.tiers
    }

    #[test]
    fn a_full_pool_before_idle_threads_is_the_bottleneck() {
        let t = tiers(0.9, 0.5);
        assert_eq!(bottleneck(&t), Some(0));
        let words = bottleneck_words(&t).expect("a bottleneck");
        assert!(
            words.starts_with("the app -> db pool (6 connections per instance x 4 instances = 24): every connection of an instance's pool in use 90.0% of the instance-time while db had threads to spare (50.0% busy in its busiest bucket); 50.0% of the 1,000 requests"),
            "{words}"
        );
        assert!(words.contains("100 timed out waiting (20.0% of those that waited)"));
    }

    #[test]
    fn a_full_pool_before_busy_threads_is_not_blamed() {
        let t = tiers(0.9, 0.99);
        assert_eq!(bottleneck(&t), None);
        assert!(bottleneck_words(&t).is_none());
        let line = pool_line(&t, 0).expect("a pool");
        assert!(
            line.ends_with("; not the bottleneck: db's threads were all busy (99.0% in its busiest bucket), the pool only passed their queue upstream"),
            "{line}"
        );
    }

    #[test]
    fn a_pool_rarely_full_is_not_blamed() {
        assert_eq!(bottleneck(&tiers(0.01, 0.5)), None);
    }

    /// No pool blamed, the db's threads all busy in its busiest bucket and the app refusing
    /// attempts: the db is named the bottleneck, with the refusals upstream (issue 29).
    #[test]
    fn a_full_tier_behind_no_blamed_pool_is_the_bottleneck() {
        let mut t = tiers(0.9, 1.0);
        t[0].blocking_probability = Some(0.3);
        assert_eq!(
            saturated_words(&t).as_deref(),
            Some(
                "db, all threads busy in its busiest bucket (100.0%); attempts were turned away \
                 upstream at app"
            )
        );
        // A pool that was the bottleneck is said instead; a db with threads to spare is none.
        assert_eq!(saturated_words(&tiers(0.9, 0.5)), None);
        let mut spare = tiers(0.01, 0.9);
        spare[0].utilization_peak_bucket = Some(0.5);
        assert_eq!(saturated_words(&spare), None);
    }

    /// A pool that set the pace of a run that turned nothing away: its waits are told as
    /// latency, never as refusals (issue 29's trial).
    #[test]
    fn a_blamed_pool_without_refusals_says_latency_only() {
        let mut t = tiers(0.9, 0.5);
        t[0].blocking_probability = Some(0.0);
        let words = bottleneck_words(&t).unwrap();
        assert!(words.contains("holds its thread at app; no attempt was turned away in this run: the waits added latency only. More db"), "{words}");
        assert!(!words.contains("refusals"), "{words}");
        t[0].blocking_probability = Some(0.2);
        let words = bottleneck_words(&t).unwrap();
        assert!(words.contains("holds its thread at app, so app queues and turns attempts away: their refusals are the pool's. More db"), "{words}");
    }
}
