//! Checks a pipeline can fail on (`--assert EXPR`, as k6's thresholds): `KEY OP VALUE` over the
//! keys of a result document (`summary.json`), e.g. `slo.success_rate>=0.99`,
//! `outage.crashed==false`, `latency_s.p95<0.5`, `tiers.web.utilization<0.7`.
//!
//! KEY is a dotted path; in a list of named things (`tiers`) a step is the name (or an index).
//! OP is one of `>=`, `<=`, `>`, `<`, `==`, `!=`. VALUE is a number (`0.99`, `99%`, `1e6`), a
//! duration with a unit for keys in seconds (`500ms`), `true`, `false` or `null`. A boolean key
//! of a replicated summary holds the share of replications for which it was true, so
//! `outage.crashed==false` passes only when none crashed.
//!
//! Parsing and key checking happen before anything runs (a bad expression or an unknown key is
//! bad input, exit code 2, with the keys that come close); evaluation gives one [`Outcome`] per
//! check, and [`Failed`] is the error (exit code 1) when any failed.

use serde::Serialize;
use serde_json::Value;

use crate::error::BadInput;

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Op {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
    Ne,
}

impl Op {
    /// Spelled as typed, the two-character ones first (so `>=` is not read as `>`).
    const ALL: [(&'static str, Op); 6] = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];

    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Ge => a >= b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Lt => a < b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// The value a key is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) enum Expected {
    Number(f64),
    Bool(bool),
    Null,
}

/// One parsed `--assert`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Assertion {
    /// As typed.
    pub expression: String,
    pub key: String,
    pub op: Op,
    pub expected: Expected,
}

/// How a check came out.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Outcome {
    pub expression: String,
    pub key: String,
    pub passed: bool,
    /// The value found (`null` when the result has none, e.g. no latency without successes).
    pub actual: Value,
}

impl Outcome {
    /// The actual value for people.
    pub fn actual_text(&self) -> String {
        match &self.actual {
            Value::Null => "no value (null)".to_string(),
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                crate::output::points::format_number(x)
            }
            v => v.to_string(),
        }
    }

    /// The line printed for it: `passed  slo.success_rate>=0.99  (actual 0.9934)`.
    pub fn line(&self) -> String {
        format!(
            "{} {} (actual {})",
            if self.passed { "passed:" } else { "FAILED:" },
            self.expression,
            self.actual_text()
        )
    }
}

/// Some checks failed (exit code 1): the outputs are written, the pipeline should stop.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} --assert checks failed")]
pub(crate) struct Failed {
    pub failed: usize,
    pub total: usize,
}

/// Parse `KEY OP VALUE`.
pub(crate) fn parse(expr: &str) -> Result<Assertion, BadInput> {
    let shown = clip(expr, 80);
    let bad = |why: String| {
        BadInput(format!(
            "--assert {shown:?}: {}; expected KEY OP VALUE, e.g. slo.success_rate>=0.99 or \
             outage.crashed==false (OP one of >= <= > < == !=)",
            clip(&why, 300)
        ))
    };
    if expr.len() > MAX_EXPRESSION {
        return Err(bad(format!(
            "{} bytes is too long for a check (at most {MAX_EXPRESSION})",
            expr.len()
        )));
    }
    let at = expr
        .find(['<', '>', '=', '!'])
        .ok_or_else(|| bad("no comparison".into()))?;
    let (key, rest) = expr.split_at(at);
    let (sym, op) = Op::ALL
        .iter()
        .find(|(s, _)| rest.starts_with(s))
        .copied()
        .ok_or_else(|| {
            bad(format!(
                "{:?} is not a comparison",
                rest.chars().take(2).collect::<String>()
            ))
        })?;
    let key = key.trim();
    if key.is_empty() {
        return Err(bad("no key before the comparison".into()));
    }
    if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        || key.starts_with('.')
        || key.ends_with('.')
        || key.contains("..")
    {
        return Err(bad(format!(
            "{key:?} is not a key path (words joined by dots)"
        )));
    }
    let value = rest[sym.len()..].trim();
    if value.starts_with(['<', '>', '=', '!']) {
        return Err(bad(format!("{rest:?} is not a comparison")));
    }
    let expected = match value {
        "" => return Err(bad("no value after the comparison".into())),
        "true" => Expected::Bool(true),
        "false" => Expected::Bool(false),
        "null" => Expected::Null,
        v => Expected::Number(number(v, key).map_err(bad)?),
    };
    if matches!(expected, Expected::Bool(_) | Expected::Null) && !matches!(op, Op::Eq | Op::Ne) {
        return Err(bad(format!("{value} can only be compared with == or !=")));
    }
    Ok(Assertion {
        expression: expr.trim().to_string(),
        key: key.to_string(),
        op,
        expected,
    })
}

/// Whether the key is a share, between 0 and 1 (a success rate, a utilisation, a probability).
fn is_share(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    last.ends_with("_rate")
        || last.ends_with("probability")
        || last.ends_with("_share")
        || matches!(last, "utilization" | "prob_wait" | "outage_below")
}

/// Whether the key is a ratio a percentage may be written for: a share, or the error budget
/// used (1 = all of it).
fn is_ratio(key: &str) -> bool {
    is_share(key) || key.rsplit('.').next() == Some("error_budget_used")
}

/// The longest `--assert` expression taken.
const MAX_EXPRESSION: usize = 1000;

/// Text shown back in a message, cut to `n` characters.
fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// A number, a percentage (for a share or a ratio only), or (for a key in seconds) a duration
/// with a unit; a share above 1 (`slo.success_rate>=99`) is refused, as it could never hold.
fn number(v: &str, key: &str) -> Result<f64, String> {
    if let Some(p) = v.strip_suffix('%') {
        if !is_ratio(key) {
            return Err(format!(
                "{v:?} is a percentage, but `{key}` is not a share or a ratio (it counts, or \
                 is in seconds): write a plain number{}",
                if key.rsplit('.').any(|part| part.ends_with("_s")) {
                    " or a duration such as 500ms"
                } else {
                    ""
                }
            ));
        }
        return p
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(|x| x / 100.0)
            .ok_or_else(|| format!("{v:?} is not a percentage"));
    }
    if let Some(x) = v.parse::<f64>().ok().filter(|x| x.is_finite()) {
        if is_share(key) && !(0.0..=1.0).contains(&x) {
            return Err(format!(
                "`{key}` is a share between 0 and 1, so {v} cannot be meant: write {} or {}%",
                crate::fmt::format_number(x / 100.0),
                v
            ));
        }
        return Ok(x);
    }
    let in_seconds = key.rsplit('.').any(|part| part.ends_with("_s"));
    if in_seconds && let Ok(x) = crate::model::units::parse_duration(v) {
        return Ok(x);
    }
    Err(format!(
        "{v:?} is not a number, a percentage, true, false or null{}",
        if in_seconds {
            " (nor a duration such as 500ms)"
        } else {
            ""
        }
    ))
}

/// Step into `doc` along a dotted path; in a list, a step names an element by its `name` (or
/// its index).
pub(crate) fn lookup<'a>(doc: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(doc, |v, step| match v {
        Value::Object(m) => m.get(step),
        Value::Array(a) => a
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(step))
            .or_else(|| step.parse::<usize>().ok().and_then(|i| a.get(i))),
        _ => None,
    })
}

/// Every key a check can name in `doc`: paths to numbers, booleans and nulls, list elements by
/// name. Lists of plain values (outage intervals) and the replications are left out.
pub(crate) fn keys(doc: &Value) -> Vec<String> {
    fn go(v: &Value, path: &str, out: &mut Vec<String>) {
        let join = |k: &str| {
            if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            }
        };
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if path.is_empty() && (k == "replications" || k == "ci95") {
                        continue;
                    }
                    go(x, &join(k), out);
                }
            }
            Value::Array(a) => {
                for e in a {
                    if let Some(name) = e.get("name").and_then(Value::as_str) {
                        go(e, &join(name), out);
                    }
                }
            }
            Value::String(_) => {}
            _ => out.push(path.to_string()),
        }
    }
    let mut out = Vec::new();
    go(doc, "", &mut out);
    out
}

/// Check that every assertion names a key of `template` (a document of the shape the result will
/// have); `what` names the document in the error ("summary.json").
pub(crate) fn check_keys(
    asserts: &[Assertion],
    template: &Value,
    what: &str,
) -> Result<(), BadInput> {
    let known = keys(template);
    for a in asserts {
        if known.contains(&a.key) {
            continue;
        }
        let under: Vec<&String> = known
            .iter()
            .filter(|k| k.starts_with(&format!("{}.", a.key)))
            .collect();
        let hint = if !under.is_empty() {
            format!("it is a group of keys; name one: {}", first_keys(under, 8))
        } else {
            let mut close: Vec<(f64, &String)> = known
                .iter()
                .map(|k| (strsim::jaro_winkler(&a.key, k), k))
                .filter(|(s, _)| *s > 0.75)
                .collect();
            close.sort_by(|x, y| y.0.total_cmp(&x.0));
            if close.is_empty() {
                format!("keys include {}", first_keys(known.iter(), 8))
            } else {
                format!(
                    "did you mean {}?",
                    first_keys(close.iter().map(|(_, k)| *k), 5)
                )
            }
        };
        return Err(BadInput(format!(
            "--assert {:?}: {what} has no key {:?}; {hint} (the keys are listed in \
             docs/outputs.md)",
            clip(&a.expression, 80),
            clip(&a.key, 80)
        )));
    }
    Ok(())
}

/// The first `n` of `keys`, joined by commas.
fn first_keys<'k>(keys: impl IntoIterator<Item = &'k String>, n: usize) -> String {
    keys.into_iter()
        .take(n)
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse every expression and check its key against `template`.
pub(crate) fn prepare(
    exprs: &[String],
    template: &Value,
    what: &str,
) -> Result<Vec<Assertion>, BadInput> {
    let parsed = exprs
        .iter()
        .map(|e| parse(e))
        .collect::<Result<Vec<_>, _>>()?;
    check_keys(&parsed, template, what)?;
    Ok(parsed)
}

/// Evaluate one check against the result document.
pub(crate) fn evaluate(a: &Assertion, doc: &Value) -> Outcome {
    let actual = lookup(doc, &a.key).cloned().unwrap_or(Value::Null);
    let as_number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    let passed = match (a.expected, as_number(&actual)) {
        (Expected::Null, _) => (actual.is_null()) == (a.op == Op::Eq),
        (Expected::Number(x), Some(v)) => a.op.holds(v, x),
        (Expected::Bool(b), Some(v)) => a.op.holds(v, if b { 1.0 } else { 0.0 }),
        // No value: nothing to compare, so the check does not hold.
        (_, None) => false,
    };
    Outcome {
        expression: a.expression.clone(),
        key: a.key.clone(),
        passed,
        actual,
    }
}

/// Evaluate every check.
pub(crate) fn evaluate_all(asserts: &[Assertion], doc: &Value) -> Vec<Outcome> {
    asserts.iter().map(|a| evaluate(a, doc)).collect()
}

/// Where a folder keeps its checks' outcomes, for `surge plot` to put them back in the report.
pub(crate) const CHECKS_FILE: &str = "checks.json";

/// Keep the checks' outcomes beside the results (`checks.json`); with no checks, remove the one
/// an earlier command left there.
pub(crate) fn write_checks(dir: &std::path::Path, outcomes: &[Outcome]) -> anyhow::Result<()> {
    let path = dir.join(CHECKS_FILE);
    if outcomes.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        };
    }
    crate::store::atomic::write_json(&path, &outcomes)
}

/// The checks kept in `dir` (none when it keeps none).
pub(crate) fn read_checks(dir: &std::path::Path) -> anyhow::Result<Vec<Outcome>> {
    let path = dir.join(CHECKS_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    crate::store::json::read_json(&path)
}

/// The lines printed for the checks, and the error to return when any failed.
pub(crate) fn verdict(outcomes: &[Outcome]) -> (String, Option<Failed>) {
    let mut s = String::new();
    for o in outcomes {
        s.push_str(&o.line());
        s.push('\n');
    }
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let err = (failed > 0).then_some(Failed {
        failed,
        total: outcomes.len(),
    });
    (s, err)
}

/// The shape of a run's `summary.json` for `model`, to check keys before running: every field,
/// tiers by the model's names.
pub(crate) fn summary_template(model: &crate::model::Model) -> Value {
    use crate::metrics::summary::{RequestCounts, Summary, TierSummary};
    let client = |f: fn(&crate::model::Client) -> bool| {
        model.sources.iter().any(|s| f(&s.client)).then_some(0)
    };
    let hops = model.tiers.iter().any(|t| t.retry.is_some());
    let pooled = model.tiers.iter().any(|t| t.pool.is_some());
    let s = Summary {
        tiers: model
            .tiers
            .iter()
            .map(|t| TierSummary {
                name: t.name.clone(),
                // The keys a tier's policies add, where it has them.
                cost: t.cost_per_instance_hour.map(|_| 0.0),
                ejections: t.outlier_detection.map(|_| 0),
                limited: t.concurrency_limit.map(|_| 0),
                arrivals: hops.then_some(0),
                retries: hops.then_some(0),
                attempts_per_call: hops.then_some(0.0),
                ..TierSummary::pool_template(t.pool.is_some(), pooled)
            })
            .collect(),
        sessions: (model.sources.iter())
            .any(|s| s.kind == crate::model::SourceKind::Users)
            .then(Default::default),
        requests: RequestCounts {
            short_circuited: client(|c| c.breaker.is_some()),
            throttled: client(|c| c.throttle.is_some()),
            rate_limited: (model.rate_limit.is_some()
                || model.sources.iter().any(|s| s.rate_limit.is_some()))
            .then_some(0),
            ..Default::default()
        },
        waiting_room: model.waiting_room.as_ref().map(|_| Default::default()),
        ..Default::default()
    };
    serde_json::to_value(s).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "slo": {"success_rate": 0.995, "broken": false},
            "outage": {"crashed": true, "crash_time_s": null},
            "latency_s": {"p95": 0.42},
            "tiers": [{"name": "web", "utilization": 0.65}, {"name": "db", "utilization": 0.2}],
        })
    }

    #[test]
    fn expressions_parse_with_or_without_spaces() {
        let a = parse("slo.success_rate>=0.99").unwrap();
        assert_eq!((a.key.as_str(), a.op), ("slo.success_rate", Op::Ge));
        assert_eq!(a.expected, Expected::Number(0.99));
        let a = parse(" tiers.web.utilization < 70% ").unwrap();
        assert_eq!(a.op, Op::Lt);
        assert_eq!(a.expected, Expected::Number(0.7));
        assert_eq!(
            parse("outage.crashed==false").unwrap().expected,
            Expected::Bool(false)
        );
        assert_eq!(
            parse("latency_s.p95<500ms").unwrap().expected,
            Expected::Number(0.5)
        );
        assert_eq!(parse("a!=null").unwrap().op, Op::Ne);
        assert_eq!(parse("a>1e6").unwrap().expected, Expected::Number(1e6));
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        for (e, says) in [
            ("slo.success_rate", "no comparison"),
            (">=0.9", "no key"),
            ("a>=", "no value"),
            ("a=>1", "not a comparison"),
            ("a=1", "not a comparison"),
            ("a>=>1", "not a comparison"),
            ("a>=abc", "not a number"),
            ("a>true", "only be compared with == or !="),
            ("a b>=1", "not a key path"),
            ("a..b>=1", "not a key path"),
            ("a>=500ms", "not a number"),
            ("slo.success_rate>=x%", "not a percentage"),
            (
                "a>=5%",
                "is a percentage, but `a` is not a share or a ratio",
            ),
            ("latency_s.p95<5%", "or a duration such as 500ms"),
            ("slo.success_rate>=99", "write 0.99 or 99%"),
            ("tiers.web.utilization<=1.5", "a share between 0 and 1"),
        ] {
            let err = parse(e).unwrap_err().0;
            assert!(err.contains(says), "{e}: {err}");
            assert!(err.contains("expected KEY OP VALUE"), "{err}");
        }
    }

    #[test]
    fn checks_compare_the_value_found() {
        let d = doc();
        let run = |e: &str| evaluate(&parse(e).unwrap(), &d);
        assert!(run("slo.success_rate>=0.99").passed);
        assert!(!run("slo.success_rate>0.995").passed);
        assert!(run("slo.success_rate<=0.995").passed);
        assert!(!run("outage.crashed==false").passed);
        assert!(run("outage.crashed==true").passed);
        assert!(run("slo.broken!=true").passed);
        assert!(run("tiers.web.utilization<0.7").passed);
        assert!(!run("tiers.db.utilization>0.5").passed);
        assert!(run("tiers.1.utilization==0.2").passed);
        assert!(run("outage.crash_time_s==null").passed);
        // A value that does not exist fails a numeric check, and says so.
        let o = run("outage.crash_time_s<100");
        assert!(!o.passed);
        assert_eq!(o.actual_text(), "no value (null)");
        assert_eq!(
            run("latency_s.p95<0.5").line(),
            "passed: latency_s.p95<0.5 (actual 0.42)"
        );
        // The share of replications that crashed is compared as a number.
        let reps = json!({"outage": {"crashed": 0.3}});
        assert!(!evaluate(&parse("outage.crashed==false").unwrap(), &reps).passed);
        let (text, err) = verdict(&[run("latency_s.p95<0.5"), run("outage.crashed==false")]);
        assert!(
            text.contains("FAILED: outage.crashed==false (actual true)"),
            "{text}"
        );
        assert_eq!(err.unwrap().to_string(), "1 of 2 --assert checks failed");
    }

    #[test]
    fn unknown_keys_are_refused_with_the_close_ones() {
        let d = doc();
        let known = keys(&d);
        assert!(known.contains(&"tiers.web.utilization".to_string()));
        assert!(known.contains(&"outage.crash_time_s".to_string()));
        let err = prepare(&["slo.sucess_rate>=0.9".into()], &d, "summary.json")
            .unwrap_err()
            .0;
        assert!(err.contains("did you mean slo.success_rate"), "{err}");
        let err = prepare(&["tiers.web>=0.9".into()], &d, "summary.json")
            .unwrap_err()
            .0;
        assert!(
            err.contains("group of keys") && err.contains("tiers.web.utilization"),
            "{err}"
        );
        assert!(prepare(&["tiers.db.utilization<1".into()], &d, "summary.json").is_ok());
    }
}
