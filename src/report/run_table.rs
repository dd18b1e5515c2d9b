//! The key-metrics table of a run's report: each figure's mean (one run's value), its 95%
//! interval over the replications, and what it measures, read from the typed summary
//! (the means, half-widths and replications of `run::View`). Not here: the sentences of the answer (`run`, `levels`).

use super::Table;
use super::levels;
use super::mean::Mean;
use super::rows::{Fmt, Row, pick, row, rows};
use super::story::down_at_end;
use crate::fmt::{human_count, human_duration, pct};
use crate::metrics::means::{SummaryCi, SummaryMeans};
use crate::metrics::summary::Summary;

fn plain(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// The rows of the request level, the SLO and the outage by requests; the peak of users on
/// the site only where the model has a users source (a requests-only model has no users, not
/// "0 users").
fn request_rows(users: bool) -> Vec<Row> {
    let (count, dur, share): (Fmt, Fmt, Fmt) = (human_count, human_duration, pct);
    let mut rows = rows![
        "requests offered", pick!(requests.attempts.offered), count, "first attempts, retries and refreshes";
        "requests succeeded", pick!(requests.attempts.succeeded), count, "attempts that got an answer in time";
        "requests rejected", pick!(requests.attempts.rejected), count, "turned away: queue full or no instance";
        "requests timed out", pick!(requests.attempts.timed_out), count, "the client gave up waiting";
        "requests failed", pick!(requests.attempts.failed), count, "errors (crashed instance, failed dependency)";
        "latency p50", pick!(latency_s.p50), dur, "of successful requests";
        "latency p95", pick!(latency_s.p95), dur, "of successful requests";
        "latency p99", pick!(latency_s.p99), dur, "of successful requests";
        "SLO success rate", pick!(slo.success_rate), share, "succeeded / ended, measured period";
        "SLO windows met", pick!(slo.windows_met_share), share, "windows meeting success rate and latency";
        "time out of SLO", pick!(slo.time_out_of_slo_s), dur, "windows that broke the SLO";
        "error budget used", pick!(slo.error_budget_used), share, "failures over those the target allows";
        "outage episodes", pick!(outage.episodes), plain, "times the success rate fell below the outage line";
    ];
    // The downtime by requests: a lower bound where a run was still down at the end.
    let downtime = row(
        "downtime",
        pick!(outage.downtime_s),
        dur,
        "time below the outage line",
    );
    rows.push(Row {
        downtime: true,
        ..downtime
    });
    if users {
        rows.extend(rows![
            "peak users on the site", pick!(peak_concurrent_users), count, "after the warm-up";
        ]);
    }
    rows
}

/// The rows of tier `i`, named `name` (with its pool's when it has one).
fn tier_rows(i: usize, name: &str, pooled: bool) -> Vec<Row> {
    let (dur, share): (Fmt, Fmt) = (human_duration, pct);
    let mut rows = rows![
        format!("{name}: utilisation"), pick!(tiers[i] utilization), share, "busy threads / threads, mean over the run";
        format!("{name}: blocking"), pick!(tiers[i] blocking_probability), share, "arrivals turned away by the tier";
        format!("{name}: mean queue wait"), pick!(tiers[i] mean_queue_wait_s), dur, "wait for a thread";
        format!("{name}: instance crashes"), pick!(tiers[i] crashes), plain, "out of memory or failed";
    ];
    if pooled {
        rows.extend(pool_rows(i, name));
    }
    rows
}

/// The rows of tier `i`'s connection pool (`[tier.pool]`, to the tier it calls).
fn pool_rows(i: usize, name: &str) -> Vec<Row> {
    let (dur, share, count): (Fmt, Fmt, Fmt) = (human_duration, pct, human_count);
    rows![
        format!("{name}: pool connections per instance"), pick!(tiers[i] pool_connections), plain, "the pool's size is this x the instances";
        format!("{name}: requests that waited for a connection"), pick!(tiers[i] pool_waited), count, "found every connection of their instance's pool in use";
        format!("{name}: mean wait for a connection"), pick!(tiers[i] pool_mean_wait_s), dur, "of the requests that got one";
        format!("{name}: pool timeouts"), pick!(tiers[i] pool_timeouts), count, "requests that failed waiting for a connection";
        format!("{name}: peak connections in use"), pick!(tiers[i] pool_peak_connections), count, "all instances together, at any instant";
        format!("{name}: pool full"), pick!(tiers[i] pool_full_share), share, "share of the instance-time with every connection in use";
    ]
}

/// A row whose value is a share that cannot leave 0-100% (a rate, a utilisation: written in
/// percent), so an interval past either end is shown clipped, as the terminal does. The error
/// budget used is a share that can pass 100%, so it is not one.
fn bounded_share(r: &Row) -> bool {
    (r.f)(0.5) == pct(0.5) && !r.label.starts_with("error budget")
}

/// The interval of a bounded share that reaches past 0% or 100%, cut to the shares possible and
/// saying so ("5.0% to 100.0% (clipped to 0-100%: too wide to say much)"); `None` for any
/// other row or interval.
fn clipped_interval(r: &Row, mean: f64, half: f64) -> Option<String> {
    (bounded_share(r) && half > 0.0 && (mean - half < 0.0 || mean + half > 1.0)).then(|| {
        format!(
            "{} to {} (clipped to 0-100%: too wide to say much)",
            pct((mean - half).max(0.0)),
            pct((mean + half).min(1.0))
        )
    })
}

/// The key metrics with their 95% intervals (over replications; none for one run).
pub(super) fn metrics_table(
    (m, ci): (&SummaryMeans, &SummaryCi),
    replications: &[Summary],
    one: Option<&Summary>,
    reps: u64,
) -> Table {
    let mut rows_spec = request_rows(levels::has_users(m));
    rows_spec.extend(levels::rows(m));
    for (i, t) in m.tiers.iter().enumerate() {
        rows_spec.extend(tier_rows(i, &t.name, t.pool_connections.is_some()));
        if t.utilization_peak_bucket.is_some() {
            let name = &t.name;
            rows_spec.extend(rows![
                format!("{name}: utilisation in its busiest bucket"), pick!(tiers[i] utilization_peak_bucket), pct, "busy threads / threads, the busiest bucket after the warm-up";
            ]);
        }
    }
    // Each replication's own figures, shaped as the means.
    let runs: Vec<SummaryMeans> = replications
        .iter()
        .map(|r| crate::metrics::means::over_replications(&[r]).0)
        .collect();
    let cut_downtime = if reps > 1 {
        replications.iter().filter(|r| down_at_end(r)).count() as u32
    } else {
        u32::from(one.is_some_and(down_at_end))
    };
    let clipped = std::cell::Cell::new(false);
    let rows: Vec<Vec<String>> = rows_spec
        .into_iter()
        .map(|r| {
            let values = runs.iter().filter(|x| (r.mean)(x).is_some()).count() as u32;
            let cut = if r.downtime { cut_downtime } else { 0 };
            let half = (r.ci)(ci).unwrap_or(f64::NAN);
            let mean = (r.mean)(m).unwrap_or(f64::NAN);
            let m = Mean::of(mean, half, values.max(1)).censored(cut);
            let f = r.f;
            let interval = match (reps > 1, m.interval(&f)) {
                (false, _) => "one run".to_string(),
                (true, Some(h)) => match clipped_interval(&r, mean, half) {
                    Some(c) => {
                        clipped.set(true);
                        c
                    }
                    None => h,
                },
                (true, None) if m.alike() => format!("none: all {} alike", m.values),
                (true, None) if cut > 0 => "none: a lower bound".to_string(),
                (true, None) => "-".to_string(),
            };
            vec![r.label, m.value(&f), interval, r.meaning]
        })
        .collect();
    Table {
        caption: if reps > 1 {
            format!(
                "Means over {reps} replications, with the half-width of their 95% confidence interval"
            )
        } else {
            "One replication: no interval (run with --reps to get one)".to_string()
        },
        header: vec![
            "metric".into(),
            "value".into(),
            "95% interval".into(),
            "what it measures".into(),
        ],
        rows,
        note: Some(format!(
            "Counts cover the attempts offered after the warm-up; \"-\" is a value that does not \
             exist (no successes, so no latency); \"all n alike\": every replication gave the \
             same value, so there is no interval; \"at least\": the outage was still on at the \
             end, so the downtime is cut by the horizon.{}",
            if clipped.get() {
                " \"clipped to 0-100%\": the interval of a share reached past 0% or 100% (few \
                 replications that differ much), so it is shown cut to the shares possible; \
                 more replications narrow it."
            } else {
                ""
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_interval_past_100_percent_is_shown_clipped_as_the_terminal_does() {
        let rate = row("SLO success rate", pick!(slo.success_rate), pct, "");
        assert_eq!(
            clipped_interval(&rate, 0.9, 0.2).as_deref(),
            Some("70.0% to 100.0% (clipped to 0-100%: too wide to say much)")
        );
        assert_eq!(
            clipped_interval(&rate, 0.1, 0.3).as_deref(),
            Some("0.0% to 40.0% (clipped to 0-100%: too wide to say much)")
        );
        // Inside 0-100%: the plain half-width stays.
        assert_eq!(clipped_interval(&rate, 0.9, 0.05), None);
        // The error budget can pass 100%, and a duration is no share.
        let budget = row("error budget used", pick!(slo.error_budget_used), pct, "");
        assert_eq!(clipped_interval(&budget, 0.9, 0.2), None);
        let p95 = row("latency p95", pick!(latency_s.p95), human_duration, "");
        assert_eq!(clipped_interval(&p95, 0.9, 0.2), None);
    }
}
