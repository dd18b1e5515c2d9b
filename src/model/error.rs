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
    /// Dotted key path of the offending value, when known (`tier[0].threads`).
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
    if let Some(rest) = msg.strip_prefix("missing field") {
        if let Some(name) = backticked(rest).first() {
            return format!("missing required key `{name}`");
        }
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
