//! Where a result came from: the surge version, a hash of the effective model (after `--set`),
//! the overrides and the command line, recorded in `summary.json` and `crashpoint.json`
//! (`sweep.json` records the same but the command line, which differs between a sweep run on one
//! machine and one merged from shards). Also the effective model itself as TOML, for
//! `surge run --save-model`.
//!
//! The hash covers the model text only, not the files it refers to (traces).

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::model::{self, ModelError, Place, overrides};

/// What `summary.json` and `crashpoint.json` record under `provenance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Provenance {
    pub surge_version: String,
    /// FNV-1a (64 bits, hex) of the effective model in canonical form: keys sorted, comments and
    /// layout dropped, after the overrides.
    pub model_hash: String,
    /// The `--set` overrides, in the order given.
    pub overrides: Vec<String>,
    /// The command line, arguments as given.
    pub command_line: Vec<String>,
}

impl Provenance {
    /// Provenance of a command on the model at `path` (the built-in one when `None`).
    pub(crate) fn of(path: Option<&Path>, sets: &[String]) -> Result<Provenance, ModelError> {
        let text = effective_text(path, sets)?;
        Ok(Provenance {
            surge_version: env!("CARGO_PKG_VERSION").to_string(),
            model_hash: model_hash(&text),
            overrides: sets.to_vec(),
            command_line: std::env::args().collect(),
        })
    }
}

/// The model text after the overrides, as `surge run` reads it again.
pub(crate) fn effective_text(path: Option<&Path>, sets: &[String]) -> Result<String, ModelError> {
    let (file, text) = match path {
        None => (
            model::BUILTIN_NAME.to_string(),
            model::BUILTIN_TEXT.to_string(),
        ),
        Some(p) => {
            let file = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| ModelError {
                file: file.clone(),
                place: Place::Whole,
                key: None,
                message: format!("cannot read the model file: {e}"),
            })?;
            (file, text)
        }
    };
    if sets.is_empty() {
        return Ok(text);
    }
    let parsed = sets
        .iter()
        .map(|s| overrides::parse(s).map_err(|m| (s.clone(), m)))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|p| overrides::apply(&text, &p));
    parsed.map_err(|(raw, message)| ModelError {
        file,
        place: Place::Override(raw),
        key: None,
        message,
    })
}

/// FNV-1a 64 of the canonical form of model text (keys sorted, no comments), as 16 hex digits;
/// of the text itself if it is not TOML.
pub(crate) fn model_hash(text: &str) -> String {
    let canonical = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| toml::to_string(&t).ok())
        .unwrap_or_else(|| text.to_string());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canonical.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_ignores_layout_and_comments_but_not_values() {
        let a = model_hash("[a]\nx = 1\ny = 2\n");
        assert_eq!(a, model_hash("# c\n[a]\ny = 2   # two\nx = 1\n"));
        assert_ne!(a, model_hash("[a]\nx = 1\ny = 3\n"));
        assert_eq!(a.len(), 16);
    }
}
