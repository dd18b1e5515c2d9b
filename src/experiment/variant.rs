//! The variants `surge compare` runs: the model as written (`baseline`), then each alternative,
//! declared in the model (`[[variant]]` with `name`, `set = { "key.path" = value, ... }` and
//! `unset = ["key.path", ...]`) or on the command line (`--variant NAME:KEY=VALUE,unset
//! KEY,...`). A variant's keys are `--set` and `--unset` overrides (`model::overrides`; its
//! unsets first), so it accepts any key they accept and is checked the same way; an error names
//! the variant and the key. Running them is `experiment::compare`.

use serde::{Deserialize, Serialize};
use std::path::Path;
use toml_edit::{Item, Value};

use crate::error::BadInput;
use crate::model::overrides::UNSET;
use crate::model::{self, Model, ModelError, Place};

/// The name of the model as written, the first variant.
pub const BASELINE: &str = "baseline";

/// One alternative: its name and the keys it changes, each as `--set` takes it (`K=V`) or as
/// an unset (`unset K`, `model::overrides::UNSET`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    pub set: Vec<String>,
}

/// The `[[variant]]` tables of model text `text`; `file` names it in errors.
pub fn declared(text: &str, file: &str) -> Result<Vec<Variant>, ModelError> {
    let Ok(doc) = toml_edit::Document::parse(text.to_string()) else {
        return Ok(Vec::new()); // not TOML: loading the model says where
    };
    let err = |span: Option<std::ops::Range<usize>>, key: &str, message: String| {
        let place = span.map_or(Place::Whole, |s| {
            let (line, column) = model::error::line_column(text, s.start);
            Place::File { line, column }
        });
        ModelError {
            file: file.to_string(),
            place,
            key: Some(key.to_string()),
            message,
        }
    };
    let Some(item) = doc.as_table().get("variant") else {
        return Ok(Vec::new());
    };
    let Some(tables) = item.as_array_of_tables() else {
        return Err(err(
            item.span(),
            "variant",
            "`variant` is a list: write each one as [[variant]] (with double brackets)".into(),
        ));
    };
    let mut out = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let at = format!("variant[{i}]");
        for (k, v) in t.iter() {
            if !matches!(k, "name" | "set" | "unset") {
                return Err(err(
                    v.span().or(t.span()),
                    &format!("{at}.{k}"),
                    format!("unknown key `{k}`; expected `name`, `set` and `unset`"),
                ));
            }
        }
        let name = match t.get("name") {
            Some(n) => n.as_str().map(str::to_string).ok_or_else(|| {
                err(
                    n.span(),
                    &format!("{at}.name"),
                    "the name must be text".into(),
                )
            })?,
            None => {
                return Err(err(t.span(), &at, "missing required key `name`".into()));
            }
        };
        let mut set = Vec::new();
        if let Some(u) = t.get("unset") {
            let keys = u.as_array().and_then(|a| {
                a.iter()
                    .map(|k| k.as_str().map(|k| format!("{UNSET}{k}")))
                    .collect::<Option<Vec<_>>>()
            });
            set = keys.ok_or_else(|| {
                err(
                    u.span(),
                    &format!("{at}.unset"),
                    "`unset` must be a list of key paths, e.g. unset = [\"tier.web.autoscale\"]"
                        .into(),
                )
            })?;
        }
        match t.get("set") {
            None => {}
            Some(Item::Table(s)) => flatten_table(s, "", &mut set),
            Some(Item::Value(Value::InlineTable(s))) => flatten_inline(s, "", &mut set),
            Some(other) => {
                return Err(err(
                    other.span(),
                    &format!("{at}.set"),
                    "`set` must be a table of key paths and values, e.g. set = { \"tier.web.instances\" = 12 }"
                        .into(),
                ));
            }
        }
        out.push(Variant { name, set });
    }
    Ok(out)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A value as `--set` reads it back: its TOML text without comments or spacing around it.
fn text_of(v: &Value) -> String {
    let mut v = v.clone();
    v.decor_mut().clear();
    v.to_string()
}

/// `"a.b" = 1` and the dotted form `a.b = 1` both give `a.b=1`; an inline table written as a
/// value (`"tier.web.service" = { dist = ... }`) replaces the whole value.
fn flatten_inline(t: &toml_edit::InlineTable, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in t.iter() {
        match v {
            Value::InlineTable(inner) if inner.is_dotted() => {
                flatten_inline(inner, &join(prefix, k), out)
            }
            _ => out.push(format!("{}={}", join(prefix, k), text_of(v))),
        }
    }
}

fn flatten_table(t: &toml_edit::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, item) in t.iter() {
        match item {
            Item::Table(inner) => flatten_table(inner, &join(prefix, k), out),
            Item::Value(Value::InlineTable(inner)) if inner.is_dotted() => {
                flatten_inline(inner, &join(prefix, k), out)
            }
            Item::Value(v) => out.push(format!("{}={}", join(prefix, k), text_of(v))),
            _ => {}
        }
    }
}

/// Split `--variant NAME:KEY=VALUE,KEY=VALUE` (commas inside brackets, braces or quotes belong to
/// the value).
pub fn parse_cli(raw: &str) -> Result<Variant, BadInput> {
    let bad = |why: &str| {
        BadInput(format!(
            "--variant {raw}: {why}; expected NAME:KEY=VALUE,KEY=VALUE (or unset KEY), e.g. \"11 servers:tier.web.instances=11\""
        ))
    };
    let (name, rest) = raw
        .split_once(':')
        .ok_or_else(|| bad("no `:` after the name"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    let mut set = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    let mut push = |part: &str| -> Result<(), BadInput> {
        let part = part.trim();
        if part.is_empty() {
            return Ok(());
        }
        if !part.contains('=') && !part.starts_with(UNSET) {
            return Err(bad(&format!("`{part}` is not KEY=VALUE (nor unset KEY)")));
        }
        set.push(part.to_string());
        Ok(())
    };
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                push(&rest[start..i])?;
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&rest[start..])?;
    Ok(Variant {
        name: name.to_string(),
        set,
    })
}

/// Keys a variant may not change: every variant runs the same replication seeds over the same
/// horizon and warm-up, so that its replications pair with the baseline's.
pub const UNPAIRED_KEYS: [&str; 3] = ["scenario.duration", "scenario.warmup", "scenario.seed"];

/// The variants to compare: `baseline` (the model with `sets` applied), then `variants`, each
/// loaded with `sets` and its own keys and checked (`path = None`: the built-in model). Names
/// must be unique, not `baseline`, not empty and without dots (they are keys of `--assert`
/// paths: `variants.NAME.KEY`); no variant may set an `UNPAIRED_KEYS` key.
pub fn load_all(
    path: Option<&Path>,
    sets: &[String],
    variants: &[Variant],
) -> anyhow::Result<Vec<(Variant, Model)>> {
    load_all_on(model::load(path, sets)?, path, sets, variants)
}

/// [`load_all`] with the baseline already loaded (`base`: the model of `path` with `sets`), so
/// a caller that has it does not read the model twice.
pub(crate) fn load_all_on(
    base: Model,
    path: Option<&Path>,
    sets: &[String],
    variants: &[Variant],
) -> anyhow::Result<Vec<(Variant, Model)>> {
    let mut out = vec![(
        Variant {
            name: BASELINE.into(),
            set: Vec::new(),
        },
        base,
    )];
    let file = path.map_or(model::BUILTIN_NAME.to_string(), |p| p.display().to_string());
    for v in variants {
        if v.name.trim().is_empty() {
            anyhow::bail!(BadInput(format!("{file}: a variant's name is empty")));
        }
        if v.name.chars().any(char::is_control) {
            anyhow::bail!(BadInput(format!(
                "{file}: the variant name {:?} has a control character (a newline, a tab...): \
                 it would break the reports' lines and tables",
                v.name
            )));
        }
        if v.name.contains('.') {
            anyhow::bail!(BadInput(format!(
                "{file}: the variant name \"{}\" has a dot: names are keys of --assert paths \
                 (variants.NAME.KEY), so use another character",
                v.name
            )));
        }
        if let Some(k) = v.set.iter().find_map(|kv| {
            let kv = kv.strip_prefix(UNSET).unwrap_or(kv);
            let key = kv.split_once('=').map_or(kv, |(k, _)| k).trim();
            UNPAIRED_KEYS.contains(&key).then_some(key)
        }) {
            anyhow::bail!(BadInput(format!(
                "{file}: variant \"{}\" sets `{k}`, but a comparison runs every variant on the same \
                 seeds over the same horizon and warm-up, replication paired with replication: \
                 set it for all with --set instead, or compare the two settings in separate runs",
                v.name
            )));
        }
        if out.iter().any(|(w, _)| w.name == v.name) {
            anyhow::bail!(BadInput(format!(
                "two variants are named \"{}\" (the model as written is \"{BASELINE}\"): names must differ",
                v.name
            )));
        }
        let all: Vec<String> = sets.iter().chain(&v.set).cloned().collect();
        let m = model::load(path, &all).map_err(|mut e| {
            if let Place::Override(raw) = &e.place
                && v.set.contains(raw)
            {
                e.place = Place::Variant(format!("variant \"{}\", at {raw}", v.name));
            }
            e
        })?;
        out.push((v.clone(), m));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_variants_read_as_set_overrides() {
        let text = r#"
[scenario]
duration = "1h"
[[variant]]
name = "more"
set = { "tier.web.instances" = 12, tier.web.service = { dist = "exponential", mean = "1s" } }
[[variant]]
name = "same"
[[variant]]
name = "dotted"
set = { tier.web.threads = 4, "client.timeout" = "30s" }
[[variant]]
name = "no autoscaler"
unset = ["tier.web.autoscale"]
set = { tier.web.instances = 9 }
"#;
        let v = declared(text, "m.toml").unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(
            v[3].set,
            ["unset tier.web.autoscale", "tier.web.instances=9"]
        );
        let e = declared("[[variant]]\nname = \"x\"\nunset = \"a.b\"\n", "m.toml").unwrap_err();
        assert!(e.to_string().contains("a list of key paths"), "{e}");
        assert_eq!(v[0].name, "more");
        assert_eq!(
            v[0].set,
            [
                "tier.web.instances=12",
                "tier.web.service={ dist = \"exponential\", mean = \"1s\" }"
            ]
        );
        assert!(v[1].set.is_empty());
        assert_eq!(v[2].set, ["tier.web.threads=4", "client.timeout=\"30s\""]);
        let e = declared("[[variant]]\nset = {}\n", "m.toml").unwrap_err();
        assert!(e.to_string().contains("missing required key `name`"), "{e}");
        let e = declared("[[variant]]\nname = \"x\"\nsett = {}\n", "m.toml").unwrap_err();
        assert!(e.to_string().starts_with("m.toml:3:"), "{e}");
        assert!(declared("[variant]\nname = \"x\"\n", "m.toml").is_err());
    }

    #[test]
    fn command_line_variants_split_at_top_level_commas() {
        let v = parse_cli("bare: unset tier.web.autoscale, tier.web.instances=3").unwrap();
        assert_eq!(v.set, ["unset tier.web.autoscale", "tier.web.instances=3"]);
        assert!(parse_cli("bad: tier.web.autoscale").is_err());
        let v = parse_cli("wide: tier.web.instances=12, tier.web.service={ dist = \"exponential\", mean = \"1s\" },x=[1, 2]").unwrap();
        assert_eq!(v.name, "wide");
        assert_eq!(
            v.set,
            [
                "tier.web.instances=12",
                "tier.web.service={ dist = \"exponential\", mean = \"1s\" }",
                "x=[1, 2]"
            ]
        );
        assert!(parse_cli("no colon").is_err());
        assert!(parse_cli(":a=1").is_err());
        assert!(parse_cli("n:a").is_err());
        assert!(parse_cli("same:").unwrap().set.is_empty());
    }
}
