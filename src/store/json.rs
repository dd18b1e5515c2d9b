//! [`read_json`]: the one reader of result documents (`summary.json`, `sweep.json`,
//! `crashpoint.json`, `compare.json`, `fit.json`, a bench's results), each into its Rust type,
//! and [`Documented`], a document with the provenance written beside its fields. An error names
//! the file, and for a field of the wrong shape its JSON path (`variants[1].key[0].values`); a
//! file that is not the document it should be is bad input (exit code 2). It is not the writer
//! (`store::atomic::write_json`), and it reads no CSV.

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::error::BadInput;
use crate::store::provenance::Provenance;

/// The document of type `T` in the JSON file `path`.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_json(&text, path).map_err(anyhow::Error::from)
}

/// The document of type `T` in `text`, read from `path` (named in the error).
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, BadInput> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let doc: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        let what = e.into_inner();
        if at == "." || what.is_syntax() || what.is_eof() {
            BadInput(format!("{}: {what}", path.display()))
        } else {
            BadInput(format!("{}: at {at}: {what}", path.display()))
        }
    })?;
    Ok(doc)
}

/// A result document as written: its own fields and, beside them, the provenance of the
/// command that wrote it (absent from a document of an earlier surge).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Documented<T> {
    #[serde(flatten)]
    pub(crate) doc: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) provenance: Option<Provenance>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[allow(dead_code)]
        points: Vec<Point>,
    }

    #[derive(Debug, Deserialize)]
    struct Point {
        #[allow(dead_code)]
        runs: u32,
    }

    #[test]
    fn an_error_names_the_file_and_the_field() {
        let path = Path::new("out/sweep.json");
        let e = parse_json::<Doc>(r#"{"points": [{"runs": 1}, {"runs": "two"}]}"#, path)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("out/sweep.json: at points[1].runs: "), "{e}");
        let e = parse_json::<Doc>("{\"points\": [", path)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("out/sweep.json: "), "{e}");
        let e = read_json::<Doc>(Path::new("/nonexistent/compare.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/compare.json"), "{e}");
    }
}
