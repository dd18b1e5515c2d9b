//! What-if sweeps: a grid over any model key paths, with replications, run in parallel. Point p
//! and replication r always use the seed derived from (scenario seed, p, r), so the results do
//! not depend on the number of threads or the order of execution.

use anyhow::{Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};

use super::run_once;
use crate::engine::derive_seed;
use crate::model::error::BadInput;
use crate::model::{self, Model};

/// One varied key and its values (as they are passed to `--set`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vary {
    pub key: String,
    pub values: Vec<String>,
}

/// Parse `K=SPEC`: `a..b:step`, `a..b` (with `points` values), or a list `v1,v2,v3`.
pub fn parse_vary(raw: &str, points: usize) -> Result<Vary, BadInput> {
    let bad = |why: String| BadInput(format!("--vary {raw}: {why}"));
    let (key, spec) = raw.split_once('=').ok_or_else(|| {
        bad("expected KEY=SPEC, e.g. tier.web.instances=4..20:2 or surge.peak=6,9,12".into())
    })?;
    let key = key.trim().to_string();
    let spec = spec.trim();
    if key.is_empty() || spec.is_empty() {
        return Err(bad("expected KEY=SPEC".into()));
    }
    let values = if let Some((a, rest)) = spec.split_once("..") {
        let (b, step) = match rest.split_once(':') {
            Some((b, s)) => (b, Some(s)),
            None => (rest, None),
        };
        let num = |s: &str, what: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(format!("the range {what} `{s}` is not a number")))
        };
        let (lo, hi) = (num(a, "start")?, num(b, "end")?);
        if hi < lo {
            return Err(bad(format!(
                "the range ends ({hi}) before it starts ({lo})"
            )));
        }
        // Counts (instances, threads, queue places...) take whole values.
        let last = key.rsplit('.').next().unwrap_or("");
        let integer = super::crashpoint::COUNT_KEYS.contains(&last);
        let xs: Vec<f64> = match step {
            Some(s) => {
                let st = num(s, "step")?;
                if st <= 0.0 {
                    return Err(bad(format!("the step must be above 0, got {st}")));
                }
                let n = ((hi - lo) / st + 1e-9).floor() as usize + 1;
                if n > 100_000 {
                    return Err(bad(format!("{n} values are too many")));
                }
                (0..n).map(|i| lo + st * i as f64).collect()
            }
            None => {
                if points < 2 {
                    return Err(bad("a range without a step needs --points 2 or more".into()));
                }
                (0..points)
                    .map(|i| lo + (hi - lo) * i as f64 / (points - 1) as f64)
                    .collect()
            }
        };
        let mut out: Vec<String> = xs
            .iter()
            .map(|x| {
                if integer {
                    format!("{}", x.round() as i64)
                } else {
                    format_number(*x)
                }
            })
            .collect();
        out.dedup();
        out
    } else {
        spec.split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    };
    if values.is_empty() {
        return Err(bad("no values".into()));
    }
    Ok(Vary { key, values })
}

/// A number written without noise: 12, 0.25, 1.3333333.
pub fn format_number(x: f64) -> String {
    let s = format!("{:.9}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// The grid: every combination of the varied values, the first key varying slowest.
pub fn grid(varies: &[Vary]) -> Vec<Vec<String>> {
    let mut points = vec![Vec::new()];
    for v in varies {
        points = points
            .into_iter()
            .flat_map(|p| {
                v.values.iter().map(move |x| {
                    let mut q = p.clone();
                    q.push(x.clone());
                    q
                })
            })
            .collect();
    }
    points
}

/// Seed of replication `rep` of point `point`.
pub fn point_seed(seed: u64, point: u64, rep: u64) -> u64 {
    derive_seed(seed, &[point, rep])
}

/// Which seed replication r of a point (a sweep's point, a crash-point search's value) uses.
/// `Common`: the same at every point (common random numbers: a comparison between points is
/// paired, the noise each replication brings is shared); `Independent`: one of its own per
/// point and replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Seeds {
    Common,
    #[default]
    Independent,
}

impl Seeds {
    /// The seed of replication `rep` at the point identified by `point` (a sweep's point index,
    /// a crash-point value's bits). Common seeds are those of `surge run --reps`: replication 0
    /// uses `seed` itself.
    pub fn seed(self, seed: u64, point: u64, rep: u64) -> u64 {
        match self {
            Seeds::Common => super::replication_seed(seed, rep),
            Seeds::Independent => point_seed(seed, point, rep),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Seeds::Common => "common",
            Seeds::Independent => "independent",
        }
    }
}

/// The summary of one (point, replication).
#[derive(Debug, Clone)]
pub struct Row {
    pub point: usize,
    pub rep: u32,
    pub seed: u64,
    pub summary: Value,
}

/// Load the model of every point (checking each), then run them all.
pub fn load_points(
    path: &std::path::Path,
    sets: &[String],
    varies: &[Vary],
) -> Result<(Vec<Vec<String>>, Vec<Model>)> {
    let points = grid(varies);
    if points.len() > 100_000 {
        bail!(BadInput(format!(
            "{} points is too many for one sweep",
            points.len()
        )));
    }
    let mut models = Vec::with_capacity(points.len());
    for p in &points {
        let mut all = sets.to_vec();
        all.extend(varies.iter().zip(p).map(|(v, x)| format!("{}={x}", v.key)));
        models.push(model::load(Some(path), &all)?);
    }
    Ok((points, models))
}

/// Run every (point, replication) on `jobs` threads; rows come back in (point, rep) order.
pub fn run_points(
    models: &[Model],
    seed: u64,
    reps: u32,
    jobs: usize,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Row>> {
    let tasks: Vec<(usize, u32)> = (0..models.len())
        .flat_map(|p| (0..reps).map(move |r| (p, r)))
        .collect();
    let no_stop = AtomicBool::new(false);
    run_tasks(
        models,
        seed,
        Seeds::Independent,
        &tasks,
        jobs,
        &no_stop,
        &|_| {
            done();
            Ok(())
        },
    )
}

/// Run the given (point, replication) pairs on `jobs` threads. `finished` sees each row as soon
/// as its run ends (in any order: the sweep journals it there); once `stop` is set no new run
/// starts. The rows that ran come back in the order of `tasks`; an error from `finished` stops
/// the work and is returned.
pub fn run_tasks(
    models: &[Model],
    seed: u64,
    seeds: Seeds,
    tasks: &[(usize, u32)],
    jobs: usize,
    stop: &AtomicBool,
    finished: &(dyn Fn(&Row) -> Result<()> + Sync),
) -> Result<Vec<Row>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()?;
    let rows = pool.install(|| {
        tasks
            .par_iter()
            .map(|&(p, r)| {
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                let s = seeds.seed(seed, p as u64, u64::from(r));
                let out = run_once(&models[p], s);
                let row = Row {
                    point: p,
                    rep: r,
                    seed: s,
                    summary: serde_json::to_value(&out.summary)?,
                };
                if let Err(e) = finished(&row) {
                    stop.store(true, Ordering::SeqCst);
                    return Err(e);
                }
                Ok(Some(row))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(rows.into_iter().flatten().collect())
}

/// A sweep stopped by Ctrl-C or a termination signal before every run was done (exit code 130).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// The fingerprint of everything that decides a sweep's results: the effective model of its
/// first point (after `--set`; the other points differ from it only in the varied keys), the
/// grid, the replications and the seed. Shards of one sweep, and a journal and the sweep that
/// resumes it, must agree on it. 16 hex digits of FNV-1a over a canonical text of those inputs,
/// the same on every platform and run of one surge version. Independent seeds add nothing to the
/// text (the fingerprints of sweeps from before `--seeds` stay as they were).
pub fn fingerprint(
    first_point: &Model,
    varies: &[Vary],
    reps: u32,
    seed: u64,
    seeds: Seeds,
) -> String {
    let mut model = first_point.clone();
    model.file.clear(); // the same model under another path is the same sweep
    let mut text = format!("{model:?}\n");
    for v in varies {
        text.push_str(&format!("vary {}={}\n", v.key, v.values.join(",")));
    }
    text.push_str(&format!("reps {reps}\nseed {seed}\n"));
    if seeds == Seeds::Common {
        text.push_str("seeds common\n");
    }
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// 64-bit FNV-1a: small, stable, and enough to tell two sweeps apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Fields left out of `points.csv`: they describe the computer or the run's identity, not the
/// model's behaviour, or are lists.
const SKIP: &[&str] = &[
    "model",
    "seed",
    "wall_s",
    "events_per_s",
    "intervals",
    "peak_pending_events",
];

/// Flatten a summary into dotted metric names (tiers by name), numbers only (booleans as 0/1,
/// null as NaN).
pub fn flatten(summary: &Value) -> Vec<(String, f64)> {
    fn go(prefix: &str, v: &Value, out: &mut Vec<(String, f64)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if SKIP.contains(&k.as_str()) {
                        continue;
                    }
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    if k == "tiers" {
                        for t in x.as_array().into_iter().flatten() {
                            let tier = t["name"].as_str().unwrap_or("tier");
                            let mut inner = Map::new();
                            for (tk, tv) in t.as_object().into_iter().flatten() {
                                if tk != "name" {
                                    inner.insert(tk.clone(), tv.clone());
                                }
                            }
                            go(&format!("tiers.{tier}"), &Value::Object(inner), out);
                        }
                    } else {
                        go(&name, x, out);
                    }
                }
            }
            Value::Number(n) => out.push((prefix.to_string(), n.as_f64().unwrap_or(f64::NAN))),
            Value::Bool(b) => out.push((prefix.to_string(), if *b { 1.0 } else { 0.0 })),
            Value::Null => out.push((prefix.to_string(), f64::NAN)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    go("", summary, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            parse_vary("tier.web.instances=4..10:2", 10).unwrap().values,
            ["4", "6", "8", "10"]
        );
        assert_eq!(
            parse_vary("surge.peak=1..2", 5).unwrap().values,
            ["1", "1.25", "1.5", "1.75", "2"]
        );
        assert_eq!(
            parse_vary("x=0..9", 4).unwrap().values,
            ["0", "3", "6", "9"]
        );
        assert_eq!(
            parse_vary("tier.web.balancer=random,round_robin", 10)
                .unwrap()
                .values,
            ["random", "round_robin"]
        );
        assert!(parse_vary("nothing", 10).is_err());
        assert!(parse_vary("x=5..1", 10).is_err());
        assert!(parse_vary("x=1..5:0", 10).is_err());
    }

    #[test]
    fn fnv1a_is_the_published_function() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn grids_vary_the_last_key_fastest() {
        let a = Vary {
            key: "a".into(),
            values: vec!["1".into(), "2".into()],
        };
        let b = Vary {
            key: "b".into(),
            values: vec!["x".into(), "y".into(), "z".into()],
        };
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], ["1", "x"]);
        assert_eq!(g[1], ["1", "y"]);
        assert_eq!(g[3], ["2", "x"]);
    }
}
