//! The columns of `points.csv` and `compare.csv` for what capacity costs and for the waiting
//! room: a tier of a fixed number of instances has instances x measured hours of
//! instance-hours, exactly, and its cost is that times the price; a variant with two more
//! instances differs from the baseline by exactly two instances x the measured hours in every
//! replication; the room's columns are there for a model with a room (empty cells for a variant
//! without one) and absent for a model without one.

use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::common::{assert_success, compare_in_temp, read_json, surge, variant, write_file};

/// Users reading pages from one web tier of `instances` fixed instances, 2 h simulated after a
/// 30 min warm-up: 1.5 measured hours. Light load (about 5 pages a second on 60 threads), so
/// nothing crashes and no instance leaves.
const MODEL: &str = r#"
[scenario]
name = "columns"
duration = "2h"
warmup = "30m"
bucket = "1m"
seed = 5

[[source]]
name = "visitors"
kind = "users"
users = 100
pages = { dist = "geometric", mean = 5 }
think = { dist = "exponential", mean = "20s" }

[[tier]]
name = "web"
instances = 3
threads = 20
cost_per_instance_hour = 0.5
service = { dist = "exponential", mean = "50ms" }

[[variant]]
name = "5 instances"
set = { "tier.web.instances" = 5 }

[[variant]]
name = "waiting room"
set = { "waiting_room.active_users" = 60 }
"#;

const MEASURED_HOURS: f64 = 1.5;
const PRICE: f64 = 0.5;

const ROOM_KEYS: [&str; 5] = [
    "waiting_room.admitted",
    "waiting_room.abandoned",
    "waiting_room.wait_p50_s",
    "waiting_room.wait_p95_s",
    "waiting_room.max_waiting",
];

fn write(dir: &Path, text: &str) -> PathBuf {
    write_file(dir, "model.toml", text)
}

/// A CSV's header and rows, split on commas (no cell here holds one).
fn table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(String::from).collect());
    (lines.next().unwrap(), lines.collect())
}

/// Column `key` of the rows, as numbers (NaN for an empty cell); panics when there is none.
fn col(header: &[String], rows: &[Vec<String>], key: &str) -> Vec<f64> {
    let i = header
        .iter()
        .position(|h| h == key)
        .unwrap_or_else(|| panic!("no column {key} in {header:?}"));
    rows.iter()
        .map(|r| r[i].parse().unwrap_or(f64::NAN))
        .collect()
}

fn sweep(file: &Path, out: &Path, vary: &str) {
    let o = surge()
        .arg("sweep")
        .arg(file)
        .args(["--vary", vary, "--reps", "2", "--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert_success(&o);
}

#[test]
fn points_csv_has_instance_hours_exactly_and_no_room_columns_without_a_room() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), MODEL);
    let out = dir.path().join("sweep");
    sweep(&file, &out, "tier.web.instances=3,5");
    let (header, rows) = table(&out.join("points.csv"));
    let instances = col(&header, &rows, "tier.web.instances");
    let hours = col(&header, &rows, "tiers.web.instance_hours");
    let cost = col(&header, &rows, "tiers.web.cost");
    let total = col(&header, &rows, "cost");
    assert_eq!(rows.len(), 4);
    for (((n, h), c), t) in instances.iter().zip(&hours).zip(&cost).zip(&total) {
        assert_eq!(*h, n * MEASURED_HOURS, "instances {n}");
        assert_eq!(*c, n * MEASURED_HOURS * PRICE, "instances {n}");
        assert_eq!(t, c, "one priced tier: the total is its cost");
    }
    for h in &header {
        assert!(
            !h.starts_with("waiting_room."),
            "{h}: the model has no room"
        );
    }
    // sweep.json: the mean of each point, with its interval (two equal values: 0).
    let doc = read_json(&out.join("sweep.json"));
    let p = &doc["points"][1];
    assert_eq!(p["mean"]["tiers.web.instance_hours"], 5.0 * MEASURED_HOURS);
    assert_eq!(p["ci95"]["tiers.web.instance_hours"], 0.0);

    // Without a price, no cost columns at all.
    let free = MODEL.replace("cost_per_instance_hour = 0.5\n", "");
    let file = write(dir.path(), &free);
    let out = dir.path().join("free");
    sweep(&file, &out, "tier.web.instances=3,5");
    let (header, _) = table(&out.join("points.csv"));
    assert!(header.iter().any(|h| h == "tiers.web.instance_hours"));
    for h in &header {
        assert!(!h.contains("cost"), "{h}: no tier has a price");
    }
}

#[test]
fn points_csv_of_a_model_with_a_room_has_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let with_room = MODEL.split("[[variant]]").next().unwrap().to_string()
        + "[waiting_room]\nactive_users = 60\n";
    let file = write(dir.path(), &with_room);
    let out = dir.path().join("sweep");
    sweep(&file, &out, "waiting_room.active_users=40,60");
    let (header, rows) = table(&out.join("points.csv"));
    for k in ROOM_KEYS {
        let xs = col(&header, &rows, k);
        assert!(xs.iter().all(|x| x.is_finite()), "{k}: {xs:?}");
    }
    // The cells are those of each replication's summary.json: check one run against them.
    let admitted = col(&header, &rows, "waiting_room.admitted");
    let max_waiting = col(&header, &rows, "waiting_room.max_waiting");
    assert!(admitted.iter().all(|a| *a > 0.0), "{admitted:?}");
    // 100 users for 40 places: some wait.
    assert!(max_waiting[0] > 0.0, "{max_waiting:?}");
    // Point 0, rep 0, run alone with its seed.
    let seed = &rows[0][header.iter().position(|h| h == "seed").unwrap()];
    let run = dir.path().join("run");
    let o = surge()
        .arg("run")
        .arg(&file)
        .args(["--set", "waiting_room.active_users=40", "--seed", seed])
        .args(["--quiet", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert_success(&o);
    let s = read_json(&run.join("summary.json"));
    assert_eq!(admitted[0], s["waiting_room"]["admitted"].as_f64().unwrap());
    assert_eq!(
        max_waiting[0],
        s["waiting_room"]["max_waiting"].as_f64().unwrap()
    );
}

fn key<'a>(v: &'a Value, key: &str) -> &'a Value {
    v["key"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == key)
        .unwrap_or_else(|| panic!("no key metric {key} in {}", v["name"]))
}

#[test]
fn compare_has_instance_hours_and_cost_with_paired_differences_and_room_columns() {
    let cmp = compare_in_temp(MODEL, &["--reps", "3"]);
    let out = &cmp.out;
    let text = String::from_utf8_lossy(&cmp.output.stdout).to_string();

    let (header, rows) = table(&out.join("compare.csv"));
    assert_eq!(rows.len(), 9);
    let hours = col(&header, &rows, "tiers.web.instance_hours");
    for (r, h) in rows.iter().zip(&hours) {
        let n = if r[0] == "5 instances" { 5.0 } else { 3.0 };
        assert_eq!(*h, n * MEASURED_HOURS, "{r:?}");
    }
    // The baseline has no room: its rows leave the room's cells empty; the room's rows fill them.
    for k in ROOM_KEYS {
        let xs = col(&header, &rows, k);
        for (r, x) in rows.iter().zip(&xs) {
            assert_eq!(r[0] == "waiting room", x.is_finite(), "{k} of {r:?}");
        }
    }

    let doc = read_json(&out.join("compare.json"));
    let more = variant(&doc, "5 instances");
    for (k, per_instance) in [
        ("tiers.web.instance_hours", MEASURED_HOURS),
        ("tiers.web.cost", MEASURED_HOURS * PRICE),
        ("cost", MEASURED_HOURS * PRICE),
    ] {
        let s = key(more, k);
        assert_eq!(s["estimate"]["mean"], 5.0 * per_instance, "{k}");
        let d = &s["difference"];
        assert_eq!(d["pairs"], 3, "{k}");
        assert_eq!(d["estimate"]["mean"], 2.0 * per_instance, "{k}");
        assert_eq!(d["estimate"]["ci95"], 0.0, "{k}");
    }
    assert_eq!(
        key(more, "tiers.web.instance_hours")["label"],
        "web: instance-hours"
    );
    let room = variant(&doc, "waiting room");
    assert!(
        room["metrics"]["waiting_room.admitted"]["mean"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(
        variant(&doc, "baseline")["metrics"]
            .get("waiting_room.admitted")
            .is_none()
    );

    // The terminal table says it too, with the difference.
    assert!(text.contains("web: inst-h"), "{text}");
    assert!(text.contains("7.5 (+3.0)"), "{text}");
    assert!(text.contains("inst-h: instances x hours"), "{text}");
}
