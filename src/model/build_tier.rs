//! Building the tiers of a model: defaults for restarts, health checks, autoscaling and CoDel,
//! and the checks that span a tier's keys (a memory limit above the base, CoDel's target within
//! its interval). Part of `build`.

use super::ctx::Ctx;
use super::error::ModelError;
use super::schema::{self, Discipline};
use super::spec::{Autoscale, Codel, HealthCheck, Restart, Tier};
use super::tier_policies;

pub(super) fn tiers(raw: Vec<schema::RawTier>, ctx: &Ctx) -> Result<Vec<Tier>, ModelError> {
    if raw.is_empty() {
        return Err(ctx.fail(
            "tier",
            "the model has no [[tier]]: add one with `instances`, `threads` and `service`".into(),
        ));
    }
    if raw.len() > 64 {
        return Err(ctx.fail("tier", "at most 64 tiers are supported".into()));
    }
    let mut tiers: Vec<Tier> = Vec::new();
    let n = raw.len();
    for (i, t) in raw.into_iter().enumerate() {
        let key = format!("tier[{i}]");
        let name = t.name.unwrap_or_else(|| format!("tier{}", i + 1));
        super::limits::check_name("tier", &name, &format!("{key}.name"), ctx)?;
        if tiers.iter().any(|o| o.name == name) {
            return Err(ctx.fail(
                &format!("{key}.name"),
                format!("two tiers are named `{name}`"),
            ));
        }
        let service = ctx.dist(&t.service, &format!("{key}.service"))?;
        let mean = service.mean();
        if !(mean.is_finite() && mean > 0.0) {
            return Err(ctx.fail(
                &format!("{key}.service"),
                format!("service time needs a finite mean above 0 (it is {mean})"),
            ));
        }
        if u64::from(t.instances.0) * u64::from(t.threads.0) > 50_000_000 {
            return Err(ctx.fail(
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
                return Err(ctx.fail(
                    &format!("{key}.memory.limit"),
                    format!(
                        "the memory limit ({limit} bytes) must be above the base ({memory_base} bytes)"
                    ),
                ));
            }
            if memory_per_request <= 0.0 {
                return Err(ctx.fail(
                    &format!("{key}.memory.per_request"),
                    "a memory limit needs `per_request` above 0 (memory grows with the requests held)".into(),
                ));
            }
        }
        let restart = restart(t.restart, &key, ctx)?;
        let health_check = health_check(t.health_check, &key, ctx)?;
        let autoscale = autoscale(t.autoscale, t.instances.0, &key, ctx)?;
        let codel = codel(t.discipline, t.codel.as_ref(), &key, ctx)?;
        let concurrency_limit =
            tier_policies::concurrency_limit(t.concurrency_limit.as_ref(), &key, ctx)?;
        let outlier_detection =
            tier_policies::outlier_detection(t.outlier_detection.as_ref(), &key, ctx)?;
        let pool = super::pool::pool(t.pool.as_ref(), i, n, &key, ctx)?;
        let retry = super::tier_retry::retry(t.retry.as_ref(), i, n, &key, ctx)?;
        tiers.push(Tier {
            name,
            instances: t.instances.0,
            threads: t.threads.0,
            queue: t.queue.map(|q| q.0),
            discipline: t.discipline.unwrap_or_default(),
            codel,
            service,
            contention: t.contention.map_or(0.0, |c| c.0),
            visit: t.visit.map_or(1.0, |v| v.0),
            errors: t.errors.map_or(0.0, |e| e.0),
            balancer: t.balancer.unwrap_or_default(),
            memory_base,
            memory_per_request,
            memory_limit,
            request_timeout_s: t.request_timeout.map(|d| d.0).filter(|d| *d > 0.0),
            refused_after_s: t.refused_after.map(|d| d.0).filter(|d| *d > 0.0),
            restart,
            health_check,
            autoscale,
            concurrency_limit,
            outlier_detection,
            pool,
            retry,
            cost_per_instance_hour: tier_policies::cost(t.cost_per_instance_hour),
            cost_per_thread_hour: tier_policies::cost(t.cost_per_thread_hour),
        });
    }

    Ok(tiers)
}

/// Crash recovery: restart after 2 minutes by default, for ever.
fn restart(raw: Option<schema::RawRestart>, key: &str, ctx: &Ctx) -> Result<Restart, ModelError> {
    Ok(match raw {
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
                return Err(ctx.fail(
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
    })
}

fn health_check(
    raw: Option<schema::RawHealthCheck>,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<HealthCheck>, ModelError> {
    Ok(match raw {
        None => None,
        Some(h) => {
            if h.interval.0 <= 0.0 || h.timeout.0 <= 0.0 {
                return Err(ctx.fail(
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
    })
}

fn autoscale(
    raw: Option<schema::RawAutoscale>,
    instances: u32,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<Autoscale>, ModelError> {
    Ok(match raw {
        None => None,
        Some(a) => {
            if a.target_utilization.0 <= 0.0 {
                return Err(ctx.fail(
                    &format!("{key}.autoscale.target_utilization"),
                    "the target utilisation must be above 0".into(),
                ));
            }
            if a.max_instances.0 < instances {
                return Err(ctx.fail(
                    &format!("{key}.autoscale.max_instances"),
                    format!(
                        "max_instances ({}) is below the starting instances ({})",
                        a.max_instances.0, instances
                    ),
                ));
            }
            Some(Autoscale {
                target_utilization: a.target_utilization.0,
                max_instances: a.max_instances.0,
                provision_s: a.provision.map_or(300.0, |d| d.0),
                cooldown_s: a.cooldown.map_or(120.0, |d| d.0),
                scale_in: tier_policies::scale_in(
                    a.scale_in_below,
                    a.min_instances,
                    a.scale_in_after,
                    a.target_utilization.0,
                    instances,
                    key,
                    ctx,
                )?,
            })
        }
    })
}

/// CoDel's settings (target 5 ms, interval 100 ms by default), for discipline = "codel" only.
fn codel(
    discipline: Option<Discipline>,
    c: Option<&schema::RawCodel>,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<Codel>, ModelError> {
    Ok(match (discipline, c) {
        (Some(Discipline::Codel), c) => {
            let target_s = c.as_ref().and_then(|c| c.target).map_or(0.005, |d| d.0);
            let interval_s = c.as_ref().and_then(|c| c.interval).map_or(0.1, |d| d.0);
            if !(target_s > 0.0 && target_s <= interval_s) {
                return Err(ctx.fail(
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
            return Err(ctx.fail(
                &format!("{key}.codel"),
                "`codel` settings need discipline = \"codel\" in the same tier".into(),
            ));
        }
        _ => None,
    })
}
