//! The canonical form of an effective model (the file with every `--set` applied): its TOML as a
//! JSON value with keys sorted, with the bytes of every file it names (traces, empirical
//! samples) digested in. Key order, comments, spacing and quoting style do not change it; any
//! value, and any byte of a named file, does; a field added to a Rust struct does not, nor do the
//! model's `[[variant]]` tables (`surge compare` reads them; a run does not). Sweeps fingerprint
//! it (`experiment::fingerprint`).

use serde_json::{Map, Value};
use std::path::Path;

/// The canonical text of model `text` whose files are read from `base`. A text that is not TOML
/// (never the case for a loaded model) gives itself.
pub(crate) fn canonical(text: &str, base: &Path) -> String {
    let Ok(mut doc) = toml::from_str::<toml::Table>(text) else {
        return text.to_string();
    };
    // `[[variant]]` tables are alternatives for `surge compare`, not part of a run of the model.
    doc.remove("variant");
    // serde_json's maps keep keys sorted.
    let Ok(model) = serde_json::to_value(&doc) else {
        return text.to_string();
    };
    let mut files = Map::new();
    named_files(&model, &mut |f| {
        let digest = std::fs::read(base.join(f)).map_or_else(
            |e| format!("unreadable: {e}"),
            |b| format!("{:016x}", fnv1a(&b)),
        );
        files.insert(f.to_string(), Value::String(digest));
    });
    let mut top = Map::new();
    top.insert("model".into(), model);
    top.insert("files".into(), Value::Object(files));
    Value::Object(top).to_string()
}

/// Every string under a `file` key.
fn named_files(v: &Value, found: &mut dyn FnMut(&str)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("file", Value::String(f)) => found(f),
                    _ => named_files(x, found),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| named_files(x, found)),
        _ => {}
    }
}

/// 64-bit FNV-1a: small, stable across platforms and versions, enough to tell inputs apart.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_the_published_function() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn key_order_comments_and_spacing_do_not_count() {
        let base = Path::new(".");
        let a = canonical("[s]\na = 1\nb = \"x\"\n[t]\nc = [1, 2]\n", base);
        let b = canonical(
            "# note\n[t]\nc = [ 1,2 ]\n\n[s]\nb = 'x'   # quoted otherwise\na = 1\n",
            base,
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            canonical("[s]\na = 2\nb = \"x\"\n[t]\nc = [1, 2]\n", base)
        );
        assert_ne!(
            a,
            canonical("[s]\na = 1\nb = \"x\"\n[t]\nc = [2, 1]\n", base)
        );
    }

    #[test]
    fn named_files_are_digested() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[[source]]\nkind = \"trace\"\nfile = \"t.csv\"\n";
        std::fs::write(dir.path().join("t.csv"), "time\n1\n").unwrap();
        let a = canonical(text, dir.path());
        std::fs::write(dir.path().join("t.csv"), "time\n2\n").unwrap();
        assert_ne!(a, canonical(text, dir.path()));
    }
}
