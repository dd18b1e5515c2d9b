//! Loading a model: read the file (or the built-in text), apply `--set` overrides, parse the
//! TOML into the schema and hand it to `build` with the folder the model's own files are read
//! from. Errors carry the file, the line and column (or the `--set`) and the key path.

use std::path::{Path, PathBuf};

use super::build::build;
use super::ctx::Ctx;
use super::error::{self, ModelError, Place};
use super::{BUILTIN_NAME, BUILTIN_TEXT, Model, overrides, schema};

/// Read, override and check a model. `path = None` loads the built-in default model.
pub fn load(path: Option<&Path>, sets: &[String]) -> Result<Model, ModelError> {
    load_with_text(path, sets).map(|(model, _)| model)
}

/// [`load`], also returning the effective model text (the file with every `--set` applied).
pub fn load_with_text(path: Option<&Path>, sets: &[String]) -> Result<(Model, String), ModelError> {
    let (file, text, base) = match path {
        None => (
            BUILTIN_NAME.to_string(),
            BUILTIN_TEXT.to_string(),
            PathBuf::from("."),
        ),
        Some(p) => {
            let file = p.display().to_string();
            let bytes = std::fs::read(p).map_err(|e| ModelError {
                file: file.clone(),
                place: Place::Whole,
                key: None,
                message: format!("cannot read the model file: {e}"),
            })?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let good = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(&e.as_bytes()[..good]);
                let (line, column) = error::line_column(&text, good);
                ModelError {
                    file: file.clone(),
                    place: Place::File { line, column },
                    key: None,
                    message: "the model file is not UTF-8 text (a TOML file must be)".into(),
                }
            })?;
            let base = p
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            (file, text, base)
        }
    };
    let model = parse_text(&text, &file, &base)?;
    if sets.is_empty() {
        return Ok((model, text));
    }
    let parsed = sets
        .iter()
        .map(|s| overrides::parse(s).map_err(|m| (s.clone(), m)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|(raw, message)| ModelError {
            file: file.clone(),
            place: Place::Override(raw),
            key: None,
            message,
        })?;
    let new_text = overrides::apply(&text, &parsed).map_err(|(raw, message)| ModelError {
        file: file.clone(),
        place: Place::Override(raw),
        key: None,
        message,
    })?;
    let model = parse_text(&new_text, &file, &base).map_err(|mut e| {
        // The file itself was fine, so the fault lies with an override.
        let key = e.key.clone().unwrap_or_default();
        let culprit = parsed
            .iter()
            .find(|o| {
                let k = o.path.join(".");
                !key.is_empty() && (key.starts_with(&k) || k.starts_with(&key))
            })
            .unwrap_or(&parsed[parsed.len() - 1]);
        e.place = Place::Override(culprit.raw.clone());
        e
    })?;
    Ok((model, new_text))
}

/// Parse and check model text; `file` names it in errors, `base` resolves files it refers to.
pub fn parse_text(text: &str, file: &str, base: &Path) -> Result<Model, ModelError> {
    let at = |offset: Option<usize>| match offset {
        Some(o) => {
            let (line, column) = error::line_column(text, o);
            Place::File { line, column }
        }
        None => Place::Whole,
    };
    check_source_count(text, file)?;
    let de = toml::Deserializer::parse(text).map_err(|e| ModelError {
        file: file.to_string(),
        place: at(e.span().map(|s| s.start)),
        key: None,
        message: format!("not valid TOML: {}", error::humanize(e.message())),
    })?;
    check_shape(text, file)?;
    let raw: schema::RawModel = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ModelError {
            file: file.to_string(),
            place: at(inner.span().map(|s| s.start)),
            key: (path != ".").then(|| error::named_path(text, &path)),
            message: error::humanize(inner.message()),
        }
    })?;
    build(raw, &Ctx { text, file, base })
}

/// Refuse a text with more `[[source]]` tables than a model may have before it is parsed, so that
/// a file of a million sources costs one pass over its lines, not the parser's time and memory.
/// (Sources written otherwise, say as an inline array, are counted by `build` after parsing.)
fn check_source_count(text: &str, file: &str) -> Result<(), ModelError> {
    let mut count = 0;
    for (i, line) in text.lines().enumerate() {
        let header: String = line
            .trim_start()
            .chars()
            .take(32)
            .filter(|c| !c.is_whitespace())
            .collect();
        if header.starts_with("[[source]]") {
            count += 1;
            if count > super::limits::MAX_SOURCES {
                return Err(ModelError {
                    file: file.to_string(),
                    place: Place::File {
                        line: i + 1,
                        column: 1,
                    },
                    key: Some("source".into()),
                    message: super::limits::too_many_sources(),
                });
            }
        }
    }
    Ok(())
}

/// Tables written as arrays of tables or the other way round (`[[scenario]]`, `[tier]`): say so
/// plainly rather than in serde's words.
fn check_shape(text: &str, file: &str) -> Result<(), ModelError> {
    let Ok(doc) = toml_edit::Document::parse(text.to_string()) else {
        return Ok(());
    };
    let root = doc.as_table();
    for (key, item) in root.iter() {
        let (single, many) = (
            item.is_table() || item.is_inline_table(),
            item.is_array_of_tables() || item.is_array(),
        );
        let message = match key {
            "scenario" | "surge" | "slo" | "waiting_room" if many => {
                format!("`{key}` must be one table, written [{key}], not [[{key}]]")
            }
            "tier" | "source" if single => {
                format!(
                    "`{key}` is a list: write each one as [[{key}]] (with double brackets), not [{key}]"
                )
            }
            _ => continue,
        };
        let place = item
            .span()
            .or_else(|| root.key(key).and_then(|k| k.span()))
            .map_or(Place::Whole, |s| {
                let (line, column) = error::line_column(text, s.start);
                Place::File { line, column }
            });
        return Err(ModelError {
            file: file.to_string(),
            place,
            key: Some(key.to_string()),
            message,
        });
    }
    Ok(())
}
