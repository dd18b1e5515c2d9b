//! Errors in a model, told the way a planner can act on them: which file, which line and column
//! (or which key path, or which `--set`), and what was expected. One paragraph, no backtrace.

use std::fmt;

use super::hint::did_you_mean;
pub(crate) use crate::error::BadInput;

/// Where a model error sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A position in the model file (1-based line and column).
    File { line: usize, column: usize },
    /// A `--set K=V` override from the command line.
    Override(String),
    /// One value of a sweep's `--vary K=SPEC`.
    Vary { key: String, value: String },
    /// One `KEY=VALUE` of a variant compared by `surge compare` (`[[variant]]` or `--variant`):
    /// `variant "NAME", at KEY=VALUE` (one string, so that the error stays small).
    Variant(String),
    /// Only the file as a whole is known.
    Whole,
}

/// A model that cannot be used, and why.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ModelError {
    /// The model file as the user named it.
    pub file: String,
    pub place: Place,
    /// Dotted key path of the offending value, when known, tiers and sources named by their
    /// names as `--set` takes them (`tier.app.threads`: `named_path`).
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Place::File { line, column } => write!(f, "{}:{line}:{column}", self.file)?,
            // An unset travels as `unset KEY` (`overrides::UNSET`): name the flag typed.
            Place::Override(s) => match s.strip_prefix(super::overrides::UNSET) {
                Some(k) => write!(f, "{} (in --unset {k})", self.file)?,
                None => write!(f, "{} (in --set {s})", self.file)?,
            },
            Place::Vary { key, value } => {
                write!(f, "{} (in --vary {key}, at the value {value})", self.file)?
            }
            Place::Variant(v) => write!(f, "{} (in {v})", self.file)?,
            Place::Whole => write!(f, "{}", self.file)?,
        }
        if let Some(k) = &self.key {
            write!(f, ": at key `{k}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// 1-based line and column of a byte offset in `text` (columns count characters).
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// Names between backticks in a serde message: "unknown field `x`, expected one of `a`, `b`".
fn backticked(msg: &str) -> Vec<&str> {
    msg.split('`').skip(1).step_by(2).collect()
}

/// Reword serde's messages for people: unknown keys and variants get a "did you mean" hint,
/// missing fields are called required keys.
pub(crate) fn humanize(msg: &str) -> String {
    let msg = msg.trim();
    for (prefix, noun) in [("unknown field", "key"), ("unknown variant", "value")] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            let names = backticked(rest);
            if let Some((word, expected)) = names.split_first() {
                let hint = did_you_mean(word, expected)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let list = if expected.is_empty() {
                    "no keys are allowed here".to_string()
                } else {
                    format!(
                        "expected one of {}",
                        expected
                            .iter()
                            .map(|e| format!("`{e}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return format!("unknown {noun} `{word}`{hint}; {list}");
            }
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field")
        && let Some(name) = backticked(rest).first()
    {
        return format!("missing required key `{name}`");
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let rest = rest
            .replacen("found map", "found a table", 1)
            .replacen("sequence", "list", 1);
        let rest = if rest.starts_with("map") {
            rest.replacen("map", "a table", 1)
        } else {
            rest
        };
        let rest = if rest.starts_with("sequence") {
            rest.replacen("sequence", "a list", 1)
        } else {
            rest
        };
        return format!("wrong type: found {rest}");
    }
    msg.replace('\n', " ")
}

/// The key path `key` as a planner writes it (and `--set` takes it): a tier or a source named
/// by its name, `tier.app.threads` for `tier[1].threads`, `source.shoppers.rate` for
/// `source[0].rate` (an unnamed one by the name the model gives it, `tier2`); by its index,
/// `tier.1.threads`, where that name would not pick it (two tiers of one name, a name with a
/// dot). Any other key path is returned as it is.
pub(crate) fn named_path(text: &str, key: &str) -> String {
    let Some((head, rest)) = key.split_once('[') else {
        return key.to_string();
    };
    if !matches!(head, "tier" | "source") {
        return key.to_string();
    }
    let Some((idx, tail)) = rest.split_once(']') else {
        return key.to_string();
    };
    let Ok(i) = idx.parse::<usize>() else {
        return key.to_string();
    };
    let names: Vec<String> = toml_edit::Document::parse(text.to_string())
        .ok()
        .and_then(|doc| {
            let list = doc.as_item().get(head)?;
            let n = match list {
                toml_edit::Item::ArrayOfTables(a) => a.len(),
                toml_edit::Item::Value(toml_edit::Value::Array(a)) => a.len(),
                _ => return None,
            };
            Some(
                (0..n)
                    .map(|j| {
                        (list.get(j).and_then(|t| t.get("name")))
                            .and_then(|n| n.as_str())
                            .map_or_else(|| format!("{head}{}", j + 1), str::to_string)
                    })
                    .collect(),
            )
        })
        .unwrap_or_default();
    let pick = match names.get(i) {
        Some(n)
            if !n.is_empty()
                && !n.contains(['.', ' ', '=', '['])
                && names.iter().filter(|m| *m == n).count() == 1 =>
        {
            n.clone()
        }
        _ => i.to_string(),
    };
    format!("{head}.{pick}{tail}")
}

/// Line and column of the entry `entry` of the top-level table `table` (`[cost]`'s
/// `"tier.db.threads"`, a key with dots in it that `locate` would split), if it is there.
pub(crate) fn locate_entry(text: &str, table: &str, entry: &str) -> Option<(usize, usize)> {
    let doc: toml_edit::Document<String> = toml_edit::Document::parse(text.to_string()).ok()?;
    let t = doc.as_table().get(table)?.as_table_like()?;
    let (key, item) = t.get_key_value(entry)?;
    let span = key.span().or_else(|| item.span())?;
    Some(line_column(text, span.start))
}

/// Line and column of a key path such as `tier[1].threads` in the model text, if it is there.
pub(crate) fn locate(text: &str, key: &str) -> Option<(usize, usize)> {
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
    span.map(|s| line_column(text, s.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let t = "a = 1\nbb = 2\n";
        assert_eq!(line_column(t, 0), (1, 1));
        assert_eq!(line_column(t, 6), (2, 1));
        assert_eq!(line_column(t, 11), (2, 6));
    }

    #[test]
    fn tiers_and_sources_are_named_by_their_names() {
        let t = "[[tier]]\nname = \"web\"\n[[tier]]\nname = \"app\"\n[[tier]]\n\
                 [[source]]\nname = \"shoppers\"\n";
        assert_eq!(named_path(t, "tier[1].threads"), "tier.app.threads");
        assert_eq!(named_path(t, "tier[0]"), "tier.web");
        assert_eq!(
            named_path(t, "tier[2].service.means[0]"),
            "tier.tier3.service.means[0]"
        );
        assert_eq!(named_path(t, "source[0].rate"), "source.shoppers.rate");
        assert_eq!(named_path(t, "operator[0].at"), "operator[0].at");
        assert_eq!(named_path(t, "scenario.duration"), "scenario.duration");
        // Two tiers of one name: the index picks it.
        let twice = "[[tier]]\nname = \"a\"\n[[tier]]\nname = \"a\"\n";
        assert_eq!(named_path(twice, "tier[1].name"), "tier.1.name");
        // Inline arrays too.
        let inline = "tier = [{ name = \"x\" }, { name = \"y\" }]\n";
        assert_eq!(named_path(inline, "tier[1].threads"), "tier.y.threads");
    }

    #[test]
    fn unknown_keys_get_a_hint() {
        let m =
            humanize("unknown field `instnaces`, expected one of `name`, `instances`, `threads`");
        assert_eq!(
            m,
            "unknown key `instnaces` (did you mean `instances`?); expected one of `name`, `instances`, `threads`"
        );
        assert_eq!(
            humanize("missing field `duration`"),
            "missing required key `duration`"
        );
        assert!(
            humanize("unknown variant `roundrobin`, expected one of `round_robin`, `random`")
                .contains("did you mean `round_robin`")
        );
    }
}
