//! The fingerprint of a sweep: everything that decides its results, hashed. Shards of one sweep,
//! and a journal and the sweep that resumes it, must agree on it. It hashes the canonical form
//! of the effective model of the first point (`model::canonical`: sorted keys, after `--set`,
//! with the bytes of the files it names; the other points differ from it only in the varied
//! keys), the grid, the replications and the seed: not a Rust structure's debug text, so a field
//! added to a struct does not change it, while any value in the model does.

use super::seeds::Seeds;
use super::vary::Vary;
use crate::model::Model;
use crate::model::canonical::fnv1a;

/// 16 hex digits of FNV-1a over the canonical model, the grid, `reps` and `seed`; the same on
/// every platform and run. The model file's name does not count (the same model under another
/// path is the same sweep).
pub fn fingerprint(
    first_point: &Model,
    varies: &[Vary],
    reps: u32,
    seed: u64,
    seeds: Seeds,
) -> String {
    let mut text = format!("model {}\n", first_point.canonical);
    for v in varies {
        text.push_str(&format!("vary {}={}\n", v.key, v.values.join(",")));
    }
    text.push_str(&format!("reps {reps}\nseed {seed}\n"));
    // Independent seeds add nothing, so sweeps from before `--seeds` keep their fingerprint.
    if seeds == Seeds::Common {
        text.push_str("seeds common\n");
    }
    format!("{:016x}", fnv1a(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_text;
    use std::path::Path;

    const MODEL: &str = r#"[scenario]
duration = "10m"
seed = 4

[[source]]
kind = "requests"
rate = 5

[[tier]]
name = "web"
instances = 2
threads = 4
service = { dist = "exponential", mean = "100ms" }
"#;

    /// The same model with its tables and keys in another order, other comments and spacing.
    const REORDERED: &str = r#"# the same model, written otherwise
[[tier]]
service = { mean = "100ms", dist = "exponential" }
threads = 4
instances = 2
name = 'web'

[[source]]
rate = 5
kind = "requests"

[scenario]
seed = 4
duration = "10m"   # ten minutes
"#;

    fn hash(text: &str, file: &str) -> String {
        let m = parse_text(text, file, Path::new(".")).unwrap();
        let v = Vary {
            key: "tier.web.instances".into(),
            values: vec!["2".into(), "3".into()],
        };
        fingerprint(&m, &[v], 3, 7, Seeds::Independent)
    }

    #[test]
    fn stable_under_key_order_comments_and_file_name() {
        assert_eq!(hash(MODEL, "a.toml"), hash(REORDERED, "elsewhere/b.toml"));
        assert_eq!(hash(MODEL, "a.toml").len(), 16);
    }

    /// Pinned: the fingerprint depends on the model file's values and the grid only, so a change
    /// to surge's Rust types leaves it (and journals and shards made before) as it is. It may
    /// change only with the canonical form itself, on purpose. (The value is FNV-1a of
    /// `model {"files":{},"model":{...sorted...}}`, the grid, reps and seed, as written below.)
    #[test]
    fn pinned_for_a_fixed_model() {
        let m = parse_text(MODEL, "a.toml", Path::new(".")).unwrap();
        assert_eq!(
            m.canonical,
            r#"{"files":{},"model":{"scenario":{"duration":"10m","seed":4},"source":[{"kind":"requests","rate":5}],"tier":[{"instances":2,"name":"web","service":{"dist":"exponential","mean":"100ms"},"threads":4}]}}"#
        );
        assert_eq!(hash(MODEL, "a.toml"), "8fa5635f5e78348e");
    }

    #[test]
    fn changes_when_a_value_changes() {
        let base = hash(MODEL, "a.toml");
        assert_ne!(base, hash(&MODEL.replace("rate = 5", "rate = 6"), "a.toml"));
        assert_ne!(
            base,
            hash(&MODEL.replace("\"100ms\"", "\"101ms\""), "a.toml")
        );
        // A key written out at its default value is still a change of the text: conservative.
        assert_ne!(
            base,
            hash(&MODEL.replace("seed = 4", "seed = 4\nwarmup = 0"), "a.toml")
        );
        let m = parse_text(MODEL, "a.toml", Path::new(".")).unwrap();
        assert_ne!(
            fingerprint(&m, &[], 3, 7, Seeds::Independent),
            fingerprint(&m, &[], 4, 7, Seeds::Independent)
        );
        assert_ne!(
            fingerprint(&m, &[], 3, 7, Seeds::Independent),
            fingerprint(&m, &[], 3, 8, Seeds::Independent)
        );
    }
}
