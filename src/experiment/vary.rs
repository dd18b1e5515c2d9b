//! `--vary K=SPEC`: the values a sweep gives one model key. A range `a..b:step` (numbers,
//! durations such as `50ms..200ms:50ms`, or sizes such as `1GiB..4GiB:1GiB`), a range `a..b` cut
//! into `--points` values, or a list `v1,v2,v3`. A step must divide the range, and a count key
//! (instances, threads...) takes whole values only: nothing is rounded silently. This module
//! reads the specification; running the points is `experiment::sweep`.

use serde::{Deserialize, Serialize};

use crate::error::BadInput;
use crate::fmt::format_number;
use crate::model::units::{parse_duration, parse_size};
use crate::model::{self, COUNT_KEYS, Model, ModelError, Place};

/// One varied key and its values (as they are passed to `--set`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vary {
    pub key: String,
    pub values: Vec<String>,
}

/// Most values one `--vary` may give.
const MAX_VALUES: usize = 100_000;

/// What the ends and step of a range are: plain numbers, durations (written out in seconds) or
/// sizes (written out in bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Quantity {
    Number,
    Duration,
    Size,
}

impl Quantity {
    fn unit(self) -> &'static str {
        match self {
            Quantity::Number => "",
            Quantity::Duration => " s",
            Quantity::Size => " bytes",
        }
    }
}

/// Read the ends and the step (if any) of a range as one kind of quantity.
fn quantities(parts: &[&str]) -> Result<(Quantity, Vec<f64>), String> {
    let plain: Option<Vec<f64>> = parts
        .iter()
        .map(|s| s.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    if let Some(v) = plain {
        return Ok((Quantity::Number, v));
    }
    let durations: Result<Vec<f64>, String> = parts.iter().map(|s| parse_duration(s)).collect();
    if let Ok(v) = durations {
        return Ok((Quantity::Duration, v));
    }
    let sizes: Result<Vec<f64>, String> = parts.iter().map(|s| parse_size(s)).collect();
    if let Ok(v) = sizes {
        return Ok((Quantity::Size, v));
    }
    // Say what is wrong with the first part that is none of the three.
    for s in parts {
        let s = s.trim();
        if s.parse::<f64>().is_err() && parse_duration(s).is_err() && parse_size(s).is_err() {
            return Err(format!(
                "`{s}` is not a number, a duration (\"50ms\", \"2 min\") or a size (\"1GiB\")"
            ));
        }
    }
    Err(format!(
        "`{}` mixes kinds: the ends and the step must all be numbers, all durations or all sizes",
        parts.join("`, `")
    ))
}

/// Parse `K=SPEC`: `a..b:step`, `a..b` (with `points` values), or a list `v1,v2,v3`.
pub fn parse_vary(raw: &str, points: usize) -> Result<Vary, BadInput> {
    let bad = |why: String| BadInput(format!("{why} (in --vary {raw})"));
    let (key, spec) = raw.split_once('=').ok_or_else(|| {
        bad("expected KEY=SPEC, e.g. tier.web.instances=4..20:2 or surge.peak=6,9,12".into())
    })?;
    let key = key.trim().to_string();
    let spec = spec.trim();
    if key.is_empty() || spec.is_empty() {
        return Err(bad("expected KEY=SPEC".into()));
    }
    // Counts (instances, threads, queue places...) take whole values.
    let last = key.rsplit('.').next().unwrap_or("");
    let whole = COUNT_KEYS.contains(&last);
    let values = if let Some((a, rest)) = spec.split_once("..") {
        let (b, step) = match rest.split_once(':') {
            Some((b, s)) => (b, Some(s)),
            None => (rest, None),
        };
        let mut parts = vec![a, b];
        parts.extend(step);
        let (kind, v) = quantities(&parts).map_err(bad)?;
        let (lo, hi) = (v[0], v[1]);
        let u = kind.unit();
        if hi < lo {
            return Err(bad(format!(
                "the range ends ({}{u}) before it starts ({}{u})",
                format_number(hi),
                format_number(lo)
            )));
        }
        let xs = match v.get(2) {
            Some(&st) => stepped(lo, hi, st, u).map_err(bad)?,
            None => {
                if points < 2 {
                    return Err(bad("a range without a step needs --points 2 or more".into()));
                }
                // Refused before the values are made: `--points` is the user's number.
                if points > MAX_VALUES {
                    return Err(bad(format!(
                        "--points {points} is too many values (at most {MAX_VALUES})"
                    )));
                }
                (0..points)
                    .map(|i| lo + (hi - lo) * i as f64 / (points - 1) as f64)
                    .collect()
            }
        };
        if whole && let Some(x) = xs.iter().find(|x| (*x - x.round()).abs() > 1e-9) {
            let how = if step.is_some() {
                "use whole ends and a whole step".to_string()
            } else {
                format!(
                    "--points {points} gives {}; give a whole step instead, e.g. {a}..{b}:1",
                    format_number(*x)
                )
            };
            return Err(bad(format!("`{last}` takes whole numbers: {how}")));
        }
        let mut out: Vec<String> = xs
            .iter()
            .map(|x| {
                if whole {
                    format!("{}", x.round() as i64)
                } else {
                    format_number(*x)
                }
            })
            .collect();
        out.dedup();
        out
    } else {
        let list: Vec<String> = spec
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        // The same value twice would be two points with one name, run twice.
        let mut seen = std::collections::HashSet::new();
        if let Some(v) = list.iter().find(|v| !seen.insert(v.as_str())) {
            return Err(bad(format!("the value `{v}` is listed twice")));
        }
        list
    };
    if values.is_empty() {
        return Err(bad("no values".into()));
    }
    Ok(Vary { key, values })
}

/// The range of `crashpoint --vary K=LO..HI`: its ends in the model's units (seconds for
/// durations, bytes for sizes) and whether the key takes whole values.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub key: String,
    pub lo: f64,
    pub hi: f64,
    pub whole: bool,
}

/// Parse `K=LO..HI` (numbers, durations or sizes, as `parse_vary` reads them, with its errors).
pub fn parse_range(raw: &str) -> Result<Range, BadInput> {
    let bad = |why: String| BadInput(format!("{why} (in --vary {raw})"));
    let expected = "expected KEY=LO..HI, e.g. tier.web.instances=8..20 or \
                    tier.web.request_timeout=5s..30s";
    let (key, spec) = raw.split_once('=').ok_or_else(|| bad(expected.into()))?;
    let key = key.trim().to_string();
    let (a, b) = spec.split_once("..").ok_or_else(|| bad(expected.into()))?;
    if key.is_empty() || b.contains(':') || b.contains("..") {
        return Err(bad(expected.into()));
    }
    let (kind, v) = quantities(&[a, b]).map_err(bad)?;
    let (lo, hi, u) = (v[0], v[1], kind.unit());
    if hi <= lo {
        return Err(bad(format!(
            "the range must go up: it ends ({}{u}) where or before it starts ({}{u})",
            format_number(hi),
            format_number(lo)
        )));
    }
    let last = key.rsplit('.').next().unwrap_or("");
    let whole = COUNT_KEYS.contains(&last);
    if whole && (lo.fract() != 0.0 || hi.fract() != 0.0) {
        return Err(bad(format!("`{last}` takes whole numbers: use whole ends")));
    }
    Ok(Range { key, lo, hi, whole })
}

/// The values `lo, lo + step, ..., hi`; the step must divide `hi - lo`.
fn stepped(lo: f64, hi: f64, step: f64, unit: &str) -> Result<Vec<f64>, String> {
    if step <= 0.0 {
        return Err(format!(
            "the step must be above 0, got {}{unit}",
            format_number(step)
        ));
    }
    let steps = (hi - lo) / step;
    let n = steps.round();
    if (steps - n).abs() > 1e-6 * n.max(1.0) {
        let below = lo + step * steps.floor();
        return Err(format!(
            "the step {}{unit} does not divide the range {}..{}{unit} ({} steps): end the range at {}{unit} or choose another step",
            format_number(step),
            format_number(lo),
            format_number(hi),
            format_number((steps * 100.0).round() / 100.0),
            format_number(below)
        ));
    }
    if n + 1.0 > MAX_VALUES as f64 {
        return Err(format!(
            "{} values are too many (at most {MAX_VALUES})",
            n + 1.0
        ));
    }
    Ok((0..=n as usize).map(|i| lo + step * i as f64).collect())
}

/// Load the model of one point: `sets`, then each varied key at this point's value. An error in
/// a varied value names the `--vary` it came from, not a `--set`.
pub fn load_point(
    path: Option<&std::path::Path>,
    sets: &[String],
    varies: &[Vary],
    point: &[String],
) -> Result<Model, ModelError> {
    let mut all = sets.to_vec();
    let from_vary: Vec<String> = varies
        .iter()
        .zip(point)
        .map(|(v, x)| format!("{}={x}", v.key))
        .collect();
    all.extend(from_vary.iter().cloned());
    model::load(path, &all).map_err(|mut e| {
        if let Place::Override(raw) = &e.place {
            // A key checked once every override is in (an unknown key, a value out of range)
            // comes back placed on the last override applied: name the --vary whose key ends
            // as the offending key path does (`tier.db.eror` for `tier[2].eror`) instead.
            // The last override keeps the blame when its own key ends so (two --vary of
            // `threads` on different tiers).
            let last = |k: &str| k.rsplit(['.', ']']).next().unwrap_or("").to_string();
            let named = from_vary.iter().position(|s| s == raw);
            let fits = |i: usize| e.key.as_deref().map(last) == Some(last(&varies[i].key));
            let by_key = (0..varies.len()).find(|&i| fits(i));
            let chosen = match named {
                Some(i) if fits(i) || by_key.is_none() => Some(i),
                _ => by_key.or(named),
            };
            if let Some(i) = chosen {
                let v = &varies[i];
                e.place = Place::Vary {
                    key: v.key.clone(),
                    value: point[i].clone(),
                };
            }
        }
        e
    })
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

/// Most points one sweep may have.
pub const MAX_POINTS: usize = 100_000;

/// The number of points of the grid, multiplied without overflow and without making the grid:
/// an error (naming each key's count) when the product passes `usize`.
pub fn grid_size(varies: &[Vary]) -> Result<usize, BadInput> {
    varies.iter().try_fold(1usize, |n, v| {
        n.checked_mul(v.values.len()).ok_or_else(|| {
            let counts: Vec<String> = varies
                .iter()
                .map(|v| format!("{} ({} values)", v.key, v.values.len()))
                .collect();
            BadInput(format!(
                "the grid {} has more points than can be counted; a sweep takes at most \
                 {MAX_POINTS}",
                counts.join(" x ")
            ))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(raw: &str, points: usize) -> Vec<String> {
        parse_vary(raw, points).unwrap().values
    }

    fn error(raw: &str) -> String {
        parse_vary(raw, 10).unwrap_err().0
    }

    #[test]
    fn numbers_points_and_lists() {
        assert_eq!(
            values("tier.web.instances=4..10:2", 10),
            ["4", "6", "8", "10"]
        );
        assert_eq!(
            values("surge.peak=1..2", 5),
            ["1", "1.25", "1.5", "1.75", "2"]
        );
        assert_eq!(values("x=0..9", 4), ["0", "3", "6", "9"]);
        assert_eq!(values("surge.peak=0.1..0.3:0.1", 10), ["0.1", "0.2", "0.3"]);
        assert_eq!(
            values("tier.web.balancer=random,round_robin", 10),
            ["random", "round_robin"]
        );
        assert!(parse_vary("nothing", 10).is_err());
        assert!(parse_vary("x=5..1", 10).is_err());
        assert!(parse_vary("x=1..5:0", 10).is_err());
        assert!(error("x=1,1").contains("the value `1` is listed twice"));
    }

    #[test]
    fn a_crash_point_range_reads_durations_and_sizes() {
        let r = parse_range("tier.web.request_timeout=5s..30s").unwrap();
        assert_eq!(
            (r.key.as_str(), r.lo, r.hi, r.whole),
            ("tier.web.request_timeout", 5.0, 30.0, false)
        );
        let r = parse_range("tier.web.instances=8..20").unwrap();
        assert_eq!((r.lo, r.hi, r.whole), (8.0, 20.0, true));
        assert_eq!(
            parse_range("tier.app.memory.limit=1GiB..2GiB").unwrap().hi,
            2147483648.0
        );
        let e = |raw: &str| parse_range(raw).unwrap_err().0;
        assert!(e("x=30s..5s").contains("must go up"), "{}", e("x=30s..5s"));
        assert!(e("x=5s..1GiB").contains("mixes kinds"));
        assert!(e("x=5s..1GiB").ends_with("(in --vary x=5s..1GiB)"));
        assert!(e("x=1..5:1").contains("expected KEY=LO..HI"));
        assert!(e("x=1,5").contains("expected KEY=LO..HI"));
        assert!(e("tier.web.instances=8.5..20").contains("whole numbers"));
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(
            values("client.timeout=50ms..200ms:50ms", 10),
            ["0.05", "0.1", "0.15", "0.2"]
        );
        assert_eq!(
            values("slo.window=1 min..3 min:1 min", 10),
            ["60", "120", "180"]
        );
        assert_eq!(
            values("tier.web.memory.limit=1GiB..4GiB:1GiB", 10),
            ["1073741824", "2147483648", "3221225472", "4294967296"]
        );
        assert!(error("client.timeout=50ms..1GiB:50ms").contains("mixes kinds"));
        assert!(error("client.timeout=50ms..2 parsecs:50ms").contains("`2 parsecs` is not"));
    }

    #[test]
    fn a_step_that_does_not_divide_the_range_is_refused() {
        let e = error("tier.web.instances=4..10:4");
        assert!(e.contains("does not divide the range 4..10"), "{e}");
        assert!(e.contains("end the range at 8"), "{e}");
        assert!(e.ends_with("(in --vary tier.web.instances=4..10:4)"), "{e}");
        let e = error("client.timeout=50ms..200ms:40ms");
        assert!(e.contains("does not divide"), "{e}");
        assert!(e.contains(" s"), "{e}");
    }

    #[test]
    fn counts_are_not_rounded_silently() {
        let e = parse_vary("tier.web.instances=4..20", 10).unwrap_err().0;
        assert!(e.contains("takes whole numbers"), "{e}");
        assert!(e.contains("4..20:1"), "{e}");
        assert_eq!(
            values("tier.web.instances=4..20", 5),
            ["4", "8", "12", "16", "20"]
        );
        assert!(error("tier.web.threads=1.5..3.5:1").contains("whole numbers"));
    }

    #[test]
    fn every_error_names_the_vary() {
        for raw in ["nothing", "x=", "x=5..1", "x=1..5:0", "x=a..b", "x=1..5:3"] {
            let e = error(raw);
            assert!(e.ends_with(&format!("(in --vary {raw})")), "{e}");
        }
    }
}
