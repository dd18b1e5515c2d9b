//! `--set K=V`: change one value of a model by dotted key path before it is checked. Tiers and
//! sources are picked by name (`tier.web.instances=12`) or by index (`tier.0.instances=12`);
//! missing tables on the way are created, so `--set tier.web.memory.base=1GiB` works on a model
//! that has no `[tier.memory]` yet, and `operator.N.action=...` with N the number of operators
//! adds one (`operator.0` the first, on a model without any). A typo in the last key is caught
//! afterwards as an unknown key.
//!
//! `--unset KEY` removes a key or a whole table (`--unset tier.web.autoscale` turns the
//! autoscaler off); it travels in the same list as the sets, written `unset KEY` (what
//! provenance records), and a key that is not there is an error, so a typo is not silently a
//! no-op. The command line applies every `--unset` before the `--set`s.

use toml_edit::{DocumentMut, Item, Table, Value};

/// One parsed `--set` (a value) or `--unset` (no value).
#[derive(Debug, Clone)]
pub(crate) struct Override {
    pub raw: String,
    pub path: Vec<String>,
    pub value: Option<Value>,
}

/// How an `--unset KEY` is written in the list of overrides.
pub(crate) const UNSET: &str = "unset ";

/// The override list of a command line: every `--unset` (as `unset KEY`), then every `--set`.
pub(crate) fn command_line(sets: &[String], unsets: &[String]) -> Vec<String> {
    unsets
        .iter()
        .map(|k| format!("{UNSET}{}", k.trim()))
        .chain(sets.iter().cloned())
        .collect()
}

/// The dotted key path `k`, checked.
fn key_path(k: &str) -> Result<Vec<String>, String> {
    let path: Vec<String> = k.trim().split('.').map(|s| s.trim().to_string()).collect();
    if path.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "`{k}` is not a dotted key path (e.g. tier.web.instances)"
        ));
    }
    Ok(path)
}

/// Split `K=V` and read V as a TOML value, or as a string when it is not one (`2h`, `web`);
/// `unset K` removes K.
pub(crate) fn parse(raw: &str) -> Result<Override, String> {
    if let Some(k) = raw.strip_prefix(UNSET) {
        return Ok(Override {
            raw: raw.to_string(),
            path: key_path(k)?,
            value: None,
        });
    }
    let (k, v) = raw
        .split_once('=')
        .ok_or_else(|| format!("`{raw}` is not of the form KEY=VALUE (e.g. surge.peak=12)"))?;
    let path = key_path(k)?;
    let v = v.trim();
    let value = match v.parse::<Value>() {
        Ok(Value::Datetime(_)) | Err(_) => Value::from(v),
        Ok(x) => x,
    };
    Ok(Override {
        raw: raw.to_string(),
        path,
        value: Some(value),
    })
}

/// Apply the overrides to the model text, giving the text to check.
pub(crate) fn apply(text: &str, sets: &[Override]) -> Result<String, (String, String)> {
    let mut doc: DocumentMut = text.parse().map_err(|e| (String::new(), format!("{e}")))?;
    for o in sets {
        match &o.value {
            Some(v) => set_path(doc.as_table_mut(), &o.path, v.clone()),
            None => unset_path(doc.as_table_mut(), &o.path),
        }
        .map_err(|e| (o.raw.clone(), e))?;
    }
    Ok(doc.to_string())
}

/// Remove the key or table at `path` (tiers and sources picked by name or index, as `--set`
/// picks them); an error when it is not there.
fn unset_path(table: &mut Table, path: &[String]) -> Result<(), String> {
    let (head, rest) = path.split_first().expect("path is not empty");
    let missing = || format!("there is no `{head}` here to unset");
    if rest.is_empty() {
        return table.remove(head).map(drop).ok_or_else(missing);
    }
    match table.get_mut(head) {
        Some(Item::ArrayOfTables(arr)) => {
            let (pick, rest2) = rest.split_first().expect("rest is not empty");
            let idx = element_index(arr, head, pick)?;
            if rest2.is_empty() {
                arr.remove(idx);
                return Ok(());
            }
            unset_path(arr.get_mut(idx).expect("index checked"), rest2)
        }
        Some(Item::Table(t)) => unset_path(t, rest),
        Some(Item::Value(Value::InlineTable(t))) => {
            let mut owned = t.clone().into_table();
            unset_path(&mut owned, rest)?;
            *table.get_mut(head).expect("present") =
                Item::Value(Value::InlineTable(owned.into_inline_table()));
            Ok(())
        }
        _ => Err(missing()),
    }
}

/// The index of the `head` entry (a tier, a source, an operator) that `pick` names, by name or
/// by 0-based index; an error with a "did you mean" and the names there are.
fn element_index(arr: &toml_edit::ArrayOfTables, head: &str, pick: &str) -> Result<usize, String> {
    let names: Vec<String> = arr
        .iter()
        .enumerate()
        .map(|(i, t)| element_name(t, i, head))
        .collect();
    names
        .iter()
        .position(|n| n == pick)
        .or_else(|| pick.parse::<usize>().ok().filter(|i| *i < names.len()))
        .ok_or_else(|| {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let hint = super::hint::did_you_mean(pick, &refs)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!(
                "there is no {head} named `{pick}`{hint}; the model has {}",
                names.join(", ")
            )
        })
}

fn element_name(t: &Table, i: usize, what: &str) -> String {
    t.get("name")
        .and_then(|n| n.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{what}{}", i + 1))
}

fn set_path(table: &mut Table, path: &[String], value: Value) -> Result<(), String> {
    let (head, rest) = path.split_first().expect("path is not empty");
    if rest.is_empty() {
        match table.get_mut(head) {
            Some(item) if item.is_table() || item.is_array_of_tables() => Err(format!(
                "`{head}` is a table, not a value: name a key inside it"
            )),
            Some(item) => {
                *item = Item::Value(value);
                Ok(())
            }
            None => {
                table.insert(head, Item::Value(value));
                Ok(())
            }
        }
    } else if table.get(head).is_some_and(Item::is_array_of_tables) {
        let arr = table
            .get_mut(head)
            .and_then(Item::as_array_of_tables_mut)
            .expect("checked");
        let (pick, rest2) = rest.split_first().expect("rest is not empty");
        // Operators have no name: the index one past the last adds one (`operator.1.action=...`
        // on a model with one operator).
        if head == "operator" && pick.parse::<usize>().ok() == Some(arr.len()) {
            arr.push(Table::new());
        }
        let idx = element_index(arr, head, pick)?;
        if rest2.is_empty() {
            return Err(format!(
                "`{head}.{pick}` is a whole {head}: name a key inside it"
            ));
        }
        set_path(arr.get_mut(idx).expect("index checked"), rest2, value)
    } else {
        match table.get_mut(head) {
            Some(Item::Table(t)) => set_path(t, rest, value),
            Some(Item::Value(Value::InlineTable(t))) => {
                let mut owned = t.clone().into_table();
                set_path(&mut owned, rest, value)?;
                *table.get_mut(head).expect("present") =
                    Item::Value(Value::InlineTable(owned.into_inline_table()));
                Ok(())
            }
            Some(Item::ArrayOfTables(_)) => unreachable!("handled above"),
            Some(_) => Err(format!(
                "`{head}` holds a value, not a table, so `{head}.{}` does not exist",
                rest.join(".")
            )),
            None if matches!(head.as_str(), "tier" | "source") => Err(format!(
                "the model has no [[{head}]], so `{head}.{}` does not exist",
                rest.join(".")
            )),
            // The first operator of a model without any: `operator.0.action=restart` adds it,
            // as `operator.N` adds one after N.
            None if head == "operator" => {
                if rest[0] != "0" {
                    return Err(
                        "the model has no [[operator]]: the first is `operator.0` (e.g. \
                                --set operator.0.action=restart)"
                            .into(),
                    );
                }
                table.insert(head, Item::ArrayOfTables(Default::default()));
                set_path(table, path, value)
            }
            None => {
                let mut t = Table::new();
                set_path(&mut t, rest, value)?;
                table.insert(head, Item::Table(t));
                Ok(())
            }
        }
    }
}

/// The number written at the dotted key path `key` in the model text (tiers and sources picked
/// by name or index, as `--set` picks them): what `[cost]` prices. An error when the key is not
/// written there or holds no number.
pub(crate) fn number_at(text: &str, key: &str) -> Result<f64, String> {
    let doc: DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let path = key_path(key)?;
    let absent = || format!("`{key}` is not written in the model (price a key it sets)");
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut i = 0;
    loop {
        let head = &path[i];
        let item = table.get(head).ok_or_else(absent)?;
        if i + 1 == path.len() {
            return item
                .as_float()
                .or_else(|| item.as_integer().map(|n| n as f64))
                .ok_or_else(|| {
                    format!("`{key}` holds no number (price a numeric key: a count, a rate)")
                });
        }
        match item {
            Item::ArrayOfTables(arr) => {
                let idx = element_index(arr, head, &path[i + 1])?;
                table = arr.get(idx).ok_or_else(absent)?;
                i += 2;
                if i == path.len() {
                    return Err(absent());
                }
            }
            other => {
                table = other.as_table_like().ok_or_else(absent)?;
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "[scenario]\nduration = \"1h\"\n[[tier]]\nname = \"web\"\ninstances = 2\nservice = { dist = \"exponential\", mean = \"1s\" }\n";

    #[test]
    fn sets_by_name_index_and_new_tables() {
        let sets = [
            parse("tier.web.instances=5").unwrap(),
            parse("surge.peak=12").unwrap(),
            parse("tier.0.service.mean=2s").unwrap(),
        ];
        let out = apply(M, &sets).unwrap();
        let v: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(v["tier"][0]["instances"].as_integer(), Some(5));
        assert_eq!(v["surge"]["peak"].as_integer(), Some(12));
        assert_eq!(v["tier"][0]["service"]["mean"].as_str(), Some("2s"));
        // One past the last operator adds one; further past is an error.
        let ops = format!("{M}[[operator]]\naction = \"restart\"\n");
        let two = [
            parse("operator.1.action=shed_load").unwrap(),
            parse("operator.1.detect=10m").unwrap(),
        ];
        let v: toml::Table = toml::from_str(&apply(&ops, &two).unwrap()).unwrap();
        assert_eq!(v["operator"][1]["action"].as_str(), Some("shed_load"));
        assert_eq!(v["operator"][1]["detect"].as_str(), Some("10m"));
        assert!(apply(&ops, &[parse("operator.2.action=restart").unwrap()]).is_err());
        // The first operator of a model without one.
        let v: toml::Table =
            toml::from_str(&apply(M, &[parse("operator.0.action=restart").unwrap()]).unwrap())
                .unwrap();
        assert_eq!(v["operator"][0]["action"].as_str(), Some("restart"));
        let e = apply(M, &[parse("operator.1.action=restart").unwrap()]).unwrap_err();
        assert!(e.1.contains("the first is `operator.0`"), "{e:?}");
    }

    #[test]
    fn bad_paths_are_explained() {
        let e = apply(M, &[parse("tier.wbe.instances=5").unwrap()]).unwrap_err();
        assert!(e.1.contains("did you mean `web`"), "{e:?}");
        let e = apply(M, &[parse("scenario.duration.x=5").unwrap()]).unwrap_err();
        assert!(e.1.contains("holds a value"), "{e:?}");
        assert!(parse("nonsense").is_err());
        let e = apply(M, &[parse("source.x.rate=5").unwrap()]).unwrap_err();
        assert!(e.1.contains("no [[source]]"), "{e:?}");
    }

    #[test]
    fn unset_removes_tables_and_values_and_refuses_what_is_not_there() {
        let m =
            format!("{M}[tier.autoscale]\nmin = 1\nmax = 4\n[[operator]]\naction = \"restart\"\n");
        let all = command_line(
            &["tier.web.threads=3".into()],
            &["tier.web.autoscale".into()],
        );
        assert_eq!(all, ["unset tier.web.autoscale", "tier.web.threads=3"]);
        let parsed: Vec<Override> = all.iter().map(|s| parse(s).unwrap()).collect();
        let v: toml::Table = toml::from_str(&apply(&m, &parsed).unwrap()).unwrap();
        let web = v["tier"][0].as_table().unwrap();
        assert!(!web.contains_key("autoscale"), "{web:?}");
        assert_eq!(web["threads"].as_integer(), Some(3));
        assert_eq!(web["instances"].as_integer(), Some(2));
        // A value, an inline table's key, a whole operator.
        let v: toml::Table = toml::from_str(
            &apply(
                &m,
                &[
                    parse("unset tier.0.instances").unwrap(),
                    parse("unset tier.web.service.mean").unwrap(),
                    parse("unset operator.0").unwrap(),
                ],
            )
            .unwrap(),
        )
        .unwrap();
        assert!(!v["tier"][0].as_table().unwrap().contains_key("instances"));
        assert_eq!(v["tier"][0]["service"].as_table().unwrap().len(), 1);
        // No operator left: nothing of `[[operator]]` is written.
        assert!(v.get("operator").is_none(), "{v:?}");
        // What is not there.
        let e = apply(&m, &[parse("unset tier.web.autoscal").unwrap()]).unwrap_err();
        assert_eq!(e.0, "unset tier.web.autoscal");
        assert!(e.1.contains("no `autoscal` here to unset"), "{e:?}");
        let e = apply(&m, &[parse("unset tier.db.autoscale").unwrap()]).unwrap_err();
        assert!(e.1.contains("no tier named `db`"), "{e:?}");
        assert!(parse("unset tier..x").is_err());
    }
}
