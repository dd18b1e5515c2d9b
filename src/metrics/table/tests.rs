//! Tests of the metrics table: every column reads back by its key, columns a model lacks are
//! left out, and recovery times count only runs that recovered.

use super::*;
use crate::metrics::outage::Outage;

#[test]
fn every_column_reads_back_by_its_key() {
    let tier = |name: &str, cost| TierSummary {
        name: name.into(),
        cost,
        ..TierSummary::default()
    };
    let s = Summary {
        tiers: vec![tier("web", Some(1.0)), tier("db.main", None)],
        waiting_room: Some(RoomSummary::default()),
        ..Summary::default()
    };
    let cols = Column::of(&s);
    for c in &cols {
        let back = Column::parse(&c.key()).expect("parses");
        assert_eq!(back.key(), c.key());
    }
    let keys: Vec<String> = cols.iter().map(Column::key).collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "duplicate keys");
    assert!(Column::parse("tiers.web.nothing").is_none());
    assert!(Column::parse("nothing").is_none());
    for k in ["tiers.web.cost", "cost", "waiting_room.wait_p95_s"] {
        assert!(keys.iter().any(|x| x == k), "{k}");
    }
    assert!(!keys.iter().any(|x| x == "tiers.db.main.cost"));
}

#[test]
fn columns_of_what_a_model_does_not_have_are_left_out() {
    let plain = Summary {
        tiers: vec![TierSummary {
            name: "web".into(),
            instances: 3,
            instance_hours: 6.0,
            ..TierSummary::default()
        }],
        ..Summary::default()
    };
    let keys = |s: &Summary| -> Vec<String> { Column::of(s).iter().map(Column::key).collect() };
    let k = keys(&plain);
    assert!(k.contains(&"tiers.web.instance_hours".to_string()));
    assert!(
        !k.iter()
            .any(|k| k.contains("cost") || k.starts_with("waiting_room"))
    );
    let roomy = Summary {
        waiting_room: Some(RoomSummary {
            admitted: 5,
            ..RoomSummary::default()
        }),
        ..plain.clone()
    };
    // The room's columns come last, so the others keep their places.
    let u = Column::union([&plain, &roomy]);
    let uk: Vec<String> = u.iter().map(Column::key).collect();
    assert_eq!(uk[..k.len()], k[..]);
    assert_eq!(uk[k.len()], "waiting_room.admitted");
    let run = |s| Run {
        summary: s,
        down_at_end: false,
    };
    assert_eq!(u[k.len()].value(&run(&roomy)), Some(5.0));
    assert_eq!(u[k.len()].value(&run(&plain)), None);
    let ih = u
        .iter()
        .find(|c| c.key() == "tiers.web.instance_hours")
        .unwrap();
    assert_eq!(ih.value(&run(&plain)), Some(6.0));
    assert_eq!(ih.label(), "web: instance-hours");
}

#[test]
fn recovery_time_only_for_runs_that_recovered() {
    let mut s = Summary {
        outage: Outage {
            crashed: true,
            crash_time_s: Some(100.0),
            recovered: Some(false),
            recovery_time_s: Some(500.0),
            downtime_s: 500.0,
            episodes: 1,
            intervals: vec![[100.0, 600.0]],
            recovered_at_s: None,
            down_at_end: true,
            held_at_end_s: None,
        },
        ..Summary::default()
    };
    let get = |s: &Summary, down_at_end, k: &str| {
        (metric(k).unwrap().value)(&Run {
            summary: s,
            down_at_end,
        })
    };
    assert_eq!(get(&s, true, RECOVERY_TIME), None);
    assert_eq!(get(&s, true, DOWNTIME_CENSORED), Some(1.0));
    assert_eq!(get(&s, true, OUTAGE_RECOVERED), Some(0.0));
    s.outage.recovered = Some(true);
    s.outage.recovery_time_s = Some(200.0);
    s.outage.intervals = vec![[100.0, 300.0]];
    assert_eq!(get(&s, false, RECOVERY_TIME), Some(200.0));
    assert_eq!(get(&s, false, DOWNTIME_CENSORED), Some(0.0));
}

/// A run without a waiting room labels its lost calls and users without naming one (issue 29);
/// with a room, the labels say what it adds.
#[test]
fn labels_name_the_waiting_room_only_where_there_is_one() {
    let label = |s: &Summary, key: &str| {
        (Column::of(s).into_iter())
            .find(|c| c.key() == key)
            .map(|c| c.label())
            .unwrap_or_else(|| panic!("no column {key}"))
    };
    let plain = Summary::default();
    assert_eq!(
        label(&plain, CALLS_LOST),
        "calls lost (every attempt failed)"
    );
    let roomy = Summary {
        waiting_room: Some(RoomSummary::default()),
        ..Summary::default()
    };
    assert_eq!(
        label(&roomy, CALLS_LOST),
        "calls lost (every attempt failed, or turned away at the waiting room)"
    );
    let no_room_anywhere = Column::of(&plain)
        .iter()
        .all(|c| !c.label().contains("waiting room"));
    assert!(no_room_anywhere);
}
