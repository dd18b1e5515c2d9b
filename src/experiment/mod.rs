//! Running experiments: one replication of a model (`run_once`), several in parallel
//! (`replicate`, which returns each run's output; their means and intervals are
//! `metrics::means`'), and the seeds that make them reproducible; the searches, sweeps and
//! comparisons built on them live in the child modules. Not here: the simulated site itself
//! (`system`) and what is written out (`output`, `report`).

pub(crate) mod compare;
pub(crate) mod crashpoint;
pub(crate) mod fingerprint;
pub mod guard;
pub(crate) mod held;
pub(crate) mod optimize;
pub(crate) mod runner;
pub(crate) mod search;
pub(crate) mod seeds;
pub(crate) mod sensitivity;
pub(crate) mod shard;
pub mod sweep;
pub mod variant;
pub mod vary;

use std::time::Instant;

use crate::engine::{Calendar, derive_seed};
use crate::metrics::outage;
use crate::metrics::summary::{
    CallCounts, EndedBy, Latency, RequestCounts, SessionCounts, TierSummary,
};
use crate::metrics::{Summary, TimeSeries};
use crate::model::Model;
use crate::system::World;
use guard::{Limits, Until};
use runner::Runner;

/// The confidence of every decision surge makes when none is asked for: the crash point's
/// interval, a comparison's decisions and optimize's evidence (`--confidence`). Written once.
pub(crate) const CONFIDENCE: f64 = 0.95;

/// What one replication produces.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub summary: Summary,
    pub series: TimeSeries,
}

impl RunOutput {
    /// The run's outage was still on when it ended (its last SLO window was down, below
    /// `outage_below`): its downtime is only a lower bound, cut by the horizon.
    pub fn down_at_end(&self, outage_below: f64) -> bool {
        self.summary.outage.crashed
            && self
                .series
                .window_success_rate
                .last()
                .is_some_and(|rate| *rate < outage_below)
    }

    /// What the metrics table reads of this run.
    pub fn as_run(&self, outage_below: f64) -> crate::metrics::table::Run<'_> {
        crate::metrics::table::Run {
            summary: &self.summary,
            down_at_end: self.down_at_end(outage_below),
        }
    }
}

/// Seed of replication `rep` of a run seeded with `seed`. Replication 0 uses the seed itself,
/// so `--reps 1` and a plain run agree.
pub fn replication_seed(seed: u64, rep: u64) -> u64 {
    if rep == 0 {
        seed
    } else {
        derive_seed(seed, &[rep])
    }
}

/// Simulate the model once with `seed`.
pub fn run_once(model: &Model, seed: u64) -> RunOutput {
    run_bounded(model, seed, &Limits::default())
}

/// Events between two looks at the wall clock.
const WALL_CHECK_EVERY: u64 = 1 << 16;

/// Simulate the model once with `seed`, stopping early (results marked partial) at `limits`:
/// an event or wall-clock bound, or the first outage (or SLO breach) when only whether there is
/// one is wanted. The summary then says where and why it stopped (`ended_by`,
/// `simulated_until_s`), and the time series ends there.
pub fn run_bounded(model: &Model, seed: u64, limits: &Limits) -> RunOutput {
    run_watched(model, seed, limits, None)
}

/// `run_bounded`, calling `progress` with the simulated time every `WALL_CHECK_EVERY` events.
pub fn run_watched(
    model: &Model,
    seed: u64,
    limits: &Limits,
    progress: Option<&dyn Fn(f64)>,
) -> RunOutput {
    let wall = Instant::now();
    let mut world = World::new(model, seed);
    world.stop_when(limits.until, limits.hold);
    if let Some(u) = limits.hold_only {
        world.hold_alone(u);
    }
    let mut cal = Calendar::with_capacity(4096);
    world.start(&mut cal);
    let ended_by = simulate(&mut world, &mut cal, limits, progress, wall);
    let summary = summarise(model, seed, &world, &cal, ended_by, wall);
    RunOutput {
        summary,
        series: world.metrics.series.clone(),
    }
}

/// Handle events until the run ends: at its horizon, at the answer to its question
/// (`limits.until`), or at a bound (`EndedBy`, then the run is partial).
fn simulate(
    world: &mut World,
    cal: &mut Calendar<crate::system::Event>,
    limits: &Limits,
    progress: Option<&dyn Fn(f64)>,
    wall: Instant,
) -> Option<EndedBy> {
    // One comparison per event: `handled` against `next_check`, the nearer of the event bound
    // and the next look at the clock.
    let max_events = limits.max_events.unwrap_or(u64::MAX);
    // Every `WALL_CHECK_EVERY` events (sooner when few requests more would reach the cap on
    // requests held at once): a look at the clock, the progress and the requests held.
    let step = WALL_CHECK_EVERY;
    let max_held = limits.max_held.unwrap_or(held::MAX_HELD);
    let mut next_check = max_events.min(step).min(max_held.max(1));
    let mut handled: u64 = 0;
    let mut ended_by = None;
    while let Some((now, ev)) = cal.pop() {
        world.handle(now, ev, cal);
        if world.finished() {
            if let Some((_, yes)) = world.answered_at() {
                ended_by = Some(match limits.until {
                    _ if !yes => EndedBy::Held,
                    Some(Until::FirstSloBreach) => EndedBy::FirstSloBreach,
                    Some(Until::FirstCallOutage) => EndedBy::FirstCallOutage,
                    Some(Until::FirstUserOutage) => EndedBy::FirstUserOutage,
                    _ => EndedBy::FirstOutage,
                });
            }
            break;
        }
        handled += 1;
        if handled >= next_check {
            if let Some(p) = progress {
                p(now.secs());
            }
            let holding = world.in_flight() as u64;
            if handled >= max_events {
                ended_by = Some(EndedBy::MaxEvents);
            } else if holding >= max_held {
                ended_by = Some(EndedBy::MaxHeld);
            } else if limits
                .max_wall_s
                .is_some_and(|w| wall.elapsed().as_secs_f64() >= w)
            {
                ended_by = Some(EndedBy::MaxWall);
            }
            if ended_by.is_some() {
                world.stop_early(now, cal);
                break;
            }
            let headroom = (max_held - holding).max(1);
            next_check = max_events.min(handled.saturating_add(step.min(headroom)));
        }
    }
    ended_by
}

/// The summary of a run that `simulate` ended (`ended_by`), begun at `wall`.
fn summarise(
    model: &Model,
    seed: u64,
    world: &World,
    cal: &Calendar<crate::system::Event>,
    ended_by: Option<EndedBy>,
    wall: Instant,
) -> Summary {
    let events = cal.events_handled();
    let in_flight = world.in_flight() as u64;
    let horizon = world.horizon();
    let wall_s = wall.elapsed().as_secs_f64();
    let m = &world.metrics;
    let sc = &model.scenario;
    let span_s = (horizon.secs() - sc.warmup_s).max(0.0);
    let until_s = if ended_by.is_some() {
        horizon.secs()
    } else {
        sc.duration_s
    };
    let t = m.totals;
    let ended = t.ended();
    let has = |f: fn(&crate::model::Client) -> bool| model.sources.iter().any(|s| f(&s.client));
    let q = |x: f64| {
        (!m.latency.is_empty()).then(|| crate::stats::histogram::quantile_s(&m.latency, x))
    };
    let tiers = tier_summaries(
        model,
        world,
        span_s,
        t.attempts.first_attempts + t.calls_unsent,
    );
    let outage = outage::detect(&m.series, &model.slo, sc.warmup_s, until_s);
    // The same analysis at the call and the user levels.
    let detect =
        |rates: &[f64]| outage::detect_in(&m.series, rates, &model.slo, sc.warmup_s, until_s);
    let calls = CallCounts {
        made: t.attempts.first_attempts + t.calls_unsent,
        succeeded: t.attempts.succeeded,
        lost: t.calls_lost,
        success_rate: (t.attempts.succeeded + t.calls_lost > 0)
            .then(|| t.attempts.succeeded as f64 / (t.attempts.succeeded + t.calls_lost) as f64),
        outage: detect(&m.series.window_call_success_rate),
    };
    let has_users = (model.sources.iter()).any(|s| s.kind == crate::model::SourceKind::Users);
    let room = world.room_summary(span_s);
    let sessions = has_users.then(|| {
        let s = m.sessions;
        let (turned_away, left_room) = room.as_ref().map_or((0, 0), |r| (r.rejected, r.abandoned));
        let lost = s.gave_up + turned_away + left_room;
        SessionCounts {
            arrived: s.arrived,
            completed: s.completed,
            gave_up: s.gave_up,
            turned_away,
            left_room,
            lost,
            success_rate: (s.completed + lost > 0)
                .then(|| s.completed as f64 / (s.completed + lost) as f64),
            outage: detect(&m.series.window_user_success_rate),
        }
    });
    let mut summary = Summary {
        model: sc.name.clone(),
        seed,
        partial: ended_by.is_some(),
        ended_by,
        simulated_until_s: ended_by.map(|_| until_s),
        sim_time_s: horizon.secs(),
        warmup_s: sc.warmup_s,
        wall_s,
        events,
        events_per_s: events as f64 / wall_s.max(1e-9),
        peak_pending_events: cal.peak_heap() as u64,
        requests: RequestCounts {
            attempts: t.attempts,
            short_circuited: has(|c| c.breaker.is_some()).then_some(t.short_circuited),
            throttled: has(|c| c.throttle.is_some()).then_some(t.throttled),
            rate_limited: world.rate_limited(),
            in_flight: t.attempts.offered - ended,
            wasted: world.wasted,
        },
        calls,
        sessions,
        latency_s: Latency {
            mean: (t.attempts.succeeded > 0)
                .then(|| m.latency_sum_s / m.latency.len().max(1) as f64),
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
        },
        peak_concurrent_users: m.users.peak,
        mean_concurrent_users: m.users.mean(span_s),
        outage,
        slo: Default::default(),
        tiers,
        waiting_room: room,
    };
    summary.slo = crate::metrics::slo::measure(
        &m.series,
        &model.slo,
        (
            summary.requests.attempts.succeeded,
            summary.requests.ended(),
        ),
        sc.warmup_s,
        until_s,
    );
    debug_assert!(in_flight >= summary.requests.in_flight);
    summary
}

/// Each tier's figures over the measured span (`span_s`, seconds), with `calls` calls made.
fn tier_summaries(model: &Model, world: &World, span_s: f64, calls: u64) -> Vec<TierSummary> {
    let hops = model.tiers.iter().any(|t| t.retry.is_some());
    let warmup_s = model.scenario.warmup_s;
    model
        .tiers
        .iter()
        .zip(&world.metrics.tiers)
        .enumerate()
        .map(|(k, (tier, s))| {
            let pool = world.pool_measures(k, span_s);
            TierSummary {
                name: tier.name.clone(),
                threads: tier.threads,
                instances: tier.instances,
                // Busy threads over the threads of the instances that were up (time averages).
                utilization: {
                    let up = s.up_threads.mean(span_s);
                    if up > 0.0 {
                        s.busy.mean(span_s) / up
                    } else {
                        0.0
                    }
                },
                mean_in_system: s.in_tier.mean(span_s),
                mean_queue_wait_s: (s.started > 0).then(|| s.wait_sum_s / s.started as f64),
                mean_response_s: (s.served > 0).then(|| s.response_sum_s / s.served as f64),
                blocking_probability: (s.arrivals > 0)
                    .then(|| s.rejected as f64 / s.arrivals as f64),
                crashes: s.crashes,
                first_crash_s: s.first_crash.map(|t| t.secs()),
                // A run stopped by a bound before the warm-up ended has no span to divide by.
                throughput_per_s: s.served as f64 / span_s.max(f64::MIN_POSITIVE),
                departures_per_s: s.departures as f64 / span_s.max(f64::MIN_POSITIVE),
                mean_time_in_tier_s: (s.departures > 0)
                    .then(|| s.departure_time_s / s.departures as f64),
                time_in_tier_s: s.time_in_tier_s,
                in_tier_at_end: s.in_tier_at_end,
                mean_busy_threads: s.busy.mean(span_s),
                mean_queued: s.queued.mean(span_s),
                prob_wait: (s.started > 0).then(|| s.waited as f64 / s.started as f64),
                wait_p50_s: wait_q(s, 0.50),
                wait_p90_s: wait_q(s, 0.90),
                wait_p99_s: wait_q(s, 0.99),
                instance_hours: world.instance_hours(k),
                instances_min: world.instance_range(k).0,
                instances_max: world.instance_range(k).1,
                instances_mean: world.instance_range(k).2,
                cost: tier
                    .cost_per_instance_hour
                    .map(|price| price * world.instance_hours(k)),
                ejections: world.ejections(k),
                limited: world.limited(k),
                pool_timeouts: world.pool_timeouts(k),
                pool_mean_wait_s: world.pool_mean_wait_s(k),
                pool_peak_connections: world.pool_peak_connections(k),
                pool_connections: pool.map(|p| p.connections),
                pool_requests: pool.map(|p| p.asked),
                pool_waited: pool.map(|p| p.waited),
                pool_mean_in_use: pool.map(|p| p.mean_in_use),
                pool_mean_waiting: pool.map(|p| p.mean_waiting),
                pool_full_share: pool.map(|p| {
                    let instance_s = world.instance_hours(k) * 3600.0;
                    if instance_s > 0.0 {
                        (p.full_s / instance_s).min(1.0)
                    } else {
                        0.0
                    }
                }),
                // Every model: one pass over the per-bucket series already kept.
                utilization_peak_bucket: Some({
                    let series = &world.metrics.series;
                    (series.tiers[k])
                        .peak_bucket_utilization(&series.t_s, warmup_s)
                        .unwrap_or(0.0)
                }),
                peak_in_tier: world.has_pools().then_some(s.in_tier.peak as u32),
                arrivals: hops.then_some(s.arrivals),
                retries: hops.then_some(s.retries),
                attempts_per_call: (hops && calls > 0).then(|| s.arrivals as f64 / calls as f64),
            }
        })
        .collect()
}

/// A quantile of a tier's queue wait; waits of 1 ns stand for "did not wait".
fn wait_q(s: &crate::metrics::collector::TierStats, q: f64) -> Option<f64> {
    if s.started == 0 {
        return None;
    }
    let v = s.wait.median_equivalent(s.wait.value_at_quantile(q));
    Some(if v <= 1 { 0.0 } else { v as f64 / 1e9 })
}

/// Several replications on `runner` (its threads, its stop, its limits, its progress), each
/// with its own derived seed. The result is the same for any number of threads: replication r
/// always uses `replication_seed(seed, r)`. Once the runner's stop is set no new replication
/// starts: fewer than `reps` come back (those that ended, in the order of their index), and the
/// caller says the run was interrupted.
pub(crate) fn replicate(model: &Model, seed: u64, reps: u32, runner: &Runner) -> Vec<RunOutput> {
    let reps: Vec<u32> = (0..reps).collect();
    let run = |&r: &u32| Ok(runner.run(model, replication_seed(seed, u64::from(r))));
    let outs = runner.each(&reps, &run);
    outs.expect("replications cannot fail")
        .into_iter()
        .flatten()
        .collect()
}

/// The time series averaged over replications, bucket by bucket (NaN-aware for latencies).
pub fn mean_series(outs: &[RunOutput]) -> TimeSeries {
    // The first of the longest series gives the columns that are not averaged (the times).
    let size = |o: &RunOutput| o.series.t_s.len().max(o.series.window_success_rate.len());
    let first = (outs.iter()).fold(&outs[0], |a, o| if size(o) > size(a) { o } else { a });
    let mut s = first.series.clone();
    if outs.len() == 1 {
        return s;
    }
    // Series of different lengths (a replication stopped by the hold rule ends early): each
    // bucket's mean is over the replications that reached it.
    fn avg(cols: Vec<&Vec<f64>>) -> Vec<f64> {
        let n = cols.iter().map(|c| c.len()).max().unwrap_or(0);
        (0..n)
            .map(|i| {
                let vals: Vec<f64> = (cols.iter().filter_map(|c| c.get(i).copied()))
                    .filter(|x| !x.is_nan())
                    .collect();
                if vals.is_empty() {
                    f64::NAN
                } else {
                    vals.iter().sum::<f64>() / vals.len() as f64
                }
            })
            .collect()
    }
    macro_rules! col {
        ($f:ident) => {
            s.$f = avg(outs.iter().map(|o| &o.series.$f).collect());
        };
    }
    col!(users);
    col!(offered);
    col!(first_attempts);
    col!(retries);
    col!(succeeded);
    col!(rejected);
    col!(timed_out);
    col!(failed);
    col!(short_circuited);
    col!(throttled);
    col!(rate_limited);
    col!(p50_s);
    col!(p95_s);
    col!(p99_s);
    col!(window_success_rate);
    col!(window_p95_s);
    col!(calls_lost);
    col!(window_call_success_rate);
    col!(sessions_completed);
    col!(sessions_lost);
    col!(window_user_success_rate);
    for k in 0..s.tiers.len() {
        macro_rules! tcol {
            ($f:ident) => {
                s.tiers[k].$f = avg(outs.iter().map(|o| &o.series.tiers[k].$f).collect());
            };
        }
        tcol!(instances_up);
        tcol!(in_rotation);
        tcol!(busy_threads);
        tcol!(queued);
        tcol!(memory_max_bytes);
        tcol!(concurrency_limit);
        tcol!(ejected);
        tcol!(pool_in_use);
        tcol!(pool_waiting);
        tcol!(arrivals);
        tcol!(retries);
    }
    if s.room.is_some() {
        let all: Vec<_> = outs.iter().filter_map(|o| o.series.room.as_ref()).collect();
        s.room = Some(crate::metrics::room::RoomSeries::mean(&all));
    }
    s
}
