//! Issue 26, items 2 and 7: in `surge compare` users the waiting room turns away are lost users
//! (in "lost" and in the ranking), and `--assert` checks one variant (`variants.NAME.KEY`) or
//! every variant; the examples of `surge compare --help` run as written.

use crate::common::{read_json, surge, variant, write_file};
use serde_json::Value;

/// Users surging 3x onto a web tier that holds the surge with a few errors (users refresh
/// them); the variant puts a waiting room in front that turns away whoever finds it full.
const ROOM: &str = r#"
[scenario]
name = "room-compare"
duration = "40m"
bucket = "1m"
seed = 9

[surge]
peak = 3
start = "10m"
ramp = "2m"
hold = "15m"
decay = "2m"

[[source]]
name = "visitors"
kind = "users"
users = 300
pages = { dist = "geometric", mean = 4 }
think = { dist = "exponential", mean = "15s" }

[client]
refresh = 0.9
refresh_after = { dist = "exponential", mean = "3s" }
give_up_after = 3

[[tier]]
name = "web"
instances = 1
threads = 12
queue = 30
service = { dist = "exponential", mean = "200ms" }

[slo]
window = "5m"

[[variant]]
name = "room"
set = { "waiting_room.active_users" = 500, "waiting_room.method" = "reject" }
"#;

fn compare(model: &str, args: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "model.toml", model);
    let out = crate::common::compare_output(&file, &dir.path().join("cmp"), args);
    (dir, out)
}

fn mean(v: &Value, key: &str) -> f64 {
    (v["key"].as_array().unwrap().iter())
        .find(|k| k["key"] == key)
        .and_then(|k| k["estimate"]["mean"].as_f64())
        .unwrap_or_else(|| panic!("no {key} in {}", v["name"]))
}

#[test]
fn users_turned_away_are_lost_users_and_rank_the_variant_last() {
    let (dir, out) = compare(ROOM, &["--reps", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = read_json(&dir.path().join("cmp/compare.json"));
    let (base, room) = (variant(&doc, "baseline"), variant(&doc, "room"));
    // The room turns away users; each is a lost user and a lost call, not a lost request.
    let turned: f64 = (room["replications"].as_array().unwrap().iter())
        .map(|r| r["waiting_room"]["rejected"].as_f64().unwrap())
        .sum::<f64>()
        / 3.0;
    assert!(turned > 500.0, "the room turned away {turned} users");
    assert!(mean(room, "sessions.lost") >= turned);
    assert!(mean(room, "calls.lost") >= turned);
    assert!(
        mean(room, "requests.lost") < mean(base, "requests.lost"),
        "the room spares requests: {} against {}",
        mean(room, "requests.lost"),
        mean(base, "requests.lost")
    );
    assert!(mean(room, "sessions.lost") > mean(base, "sessions.lost"));
    // Ranked by what users got: the baseline first, everywhere.
    assert_eq!(doc["ranking"], serde_json::json!(["baseline", "room"]));
    let table = String::from_utf8_lossy(&out.stdout);
    let first = table.lines().find(|l| l.starts_with("1 ")).unwrap();
    assert!(first.contains("baseline"), "{table}");
    assert!(table.contains("users lost"), "{table}");
    assert!(table.contains("Ranked by users lost"), "{table}");
    let md = std::fs::read_to_string(dir.path().join("cmp/report.md")).unwrap();
    assert!(
        md.contains("ranked by users lost, then calls lost, then downtime (least first): baseline"),
        "{md}"
    );
}

/// The `--assert` examples in `surge compare --help`, as written there.
fn help_examples() -> Vec<String> {
    let out = surge().args(["compare", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap().replace('\n', " ");
    let mut found = Vec::new();
    let mut rest = help.as_str();
    while let Some(i) = rest.find("--assert '") {
        let after = &rest[i + "--assert '".len()..];
        let end = after.find('\'').unwrap();
        found.push(after[..end].split_whitespace().collect::<Vec<_>>().join(""));
        rest = &after[end..];
    }
    found
}

#[test]
fn the_help_examples_of_compare_assert_run() {
    let examples = help_examples();
    assert!(
        examples.len() >= 3
            && examples.iter().any(|e| e.starts_with("variants.baseline."))
            && examples.iter().any(|e| e.starts_with("variants.*.")),
        "{examples:?}"
    );
    let mut args = vec!["--reps", "2"];
    for e in &examples {
        args.extend(["--assert", e.as_str()]);
    }
    let (_dir, out) = compare(ROOM, &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_ne!(
        out.status.code(),
        Some(2),
        "an example is refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One line per variant checked: the baseline's example once, the others for both.
    for e in &examples {
        let lines = text
            .lines()
            .filter(|l| {
                l.ends_with(&format!("{e} (actual ")) || l.contains(&format!("] {e} (actual "))
            })
            .count();
        let want = if e.starts_with("variants.baseline.") {
            1
        } else {
            2
        };
        assert_eq!(lines, want, "{e}:\n{text}");
    }
}

#[test]
fn a_check_on_one_variant_reads_that_variant_only() {
    let (_dir, out) = compare(
        ROOM,
        &[
            "--reps",
            "2",
            "--assert",
            "variants.room.sessions.turned_away>0",
            "--assert",
            "variants.baseline.sessions.turned_away==0",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("passed: [room] variants.room.sessions.turned_away>0"),
        "{text}"
    );
    assert_eq!(text.matches("passed:").count(), 2, "{text}");
    // A name that is not a variant's is bad input, naming the variants.
    let (_dir, out) = compare(
        ROOM,
        &[
            "--reps",
            "2",
            "--assert",
            "variants.rooms.outage.crashed<0.5",
        ],
    );
    let err = crate::common::refused(&out, "");
    assert!(err.contains("baseline, room"), "{err}");
}
