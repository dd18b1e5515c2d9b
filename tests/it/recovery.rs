//! Issue 26, item 3: an outage that ended before the horizon is over, even when `slo.stable`
//! does not fit in what is left of the run: "outage over at ...; recovery not confirmed: the
//! SLO held for ... of the 1 h slo.stable before the end", never "not recovered ... at least";
//! and `surge check` warns when `slo.stable` is longer than what the horizon leaves after the
//! surge's peak.

use crate::common::{read_json, write_file};

/// One server of 20 req/s offered 5 req/s, a 10x surge from 10 to about 22 minutes, a horizon
/// of one hour: the outage ends with the surge, 38 minutes before the end, short of the default
/// `slo.stable` of one hour.
const MODEL: &str = "[scenario]\nname = \"short-tail\"\nduration = \"1h\"\nseed = 5\nbucket = \"1m\"\n\
     [surge]\npeak = 10\nstart = \"10m\"\nramp = \"1m\"\nhold = \"10m\"\ndecay = \"1m\"\n\
     [[source]]\nkind = \"requests\"\nrate = 5\n\
     [[tier]]\nname = \"server\"\ninstances = 1\nthreads = 2\nqueue = 5\n\
     service = { dist = \"exponential\", mean = \"100ms\" }\n";

/// `surge run` on `MODEL`: (its folder, stdout).
fn run(args: &[&str]) -> (tempfile::TempDir, String) {
    crate::common::run_text(MODEL, args)
}

#[test]
fn an_outage_over_before_the_end_is_over_and_its_recovery_not_confirmed() {
    let (dir, text) = run(&[]);
    let s = read_json(&dir.path().join("out/summary.json"));
    let o = &s["outage"];
    assert_eq!(o["crashed"], true, "{o}");
    assert_eq!(o["recovered"], false, "{o}");
    assert_eq!(o["down_at_end"], false, "{o}");
    let end = o["intervals"][0][1].as_f64().unwrap();
    assert!(
        (1200.0..1500.0).contains(&end),
        "the outage ends with the surge: {o}"
    );
    // The SLO held from about the end of the outage to the end of the run.
    let held = o["held_at_end_s"].as_f64().unwrap();
    assert!(held > 1800.0 && held <= 3600.0 - end + 60.0, "{o}");
    let line = text
        .lines()
        .find(|l| l.starts_with("outage by requests: "))
        .unwrap();
    let minutes = (held / 60.0).round();
    assert!(
        line.contains("; outage over at t = 2")
            && line.contains(&format!(
                "recovery not confirmed: the SLO held for {minutes} min of the 1 h 0 min slo.stable before the end"
            )),
        "{line}"
    );
    assert!(
        !line.contains("at least") && !line.contains("not recovered"),
        "{line}"
    );
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("the outage over at t = 2"), "{md}");
    assert!(!md.contains("still down at the end"), "{md}");
}

#[test]
fn replications_tell_still_down_from_over() {
    let (_dir, text) = run(&["--reps", "3"]);
    let line = text
        .lines()
        .find(|l| l.starts_with("outage by requests: "))
        .unwrap();
    assert!(
        line.contains("over but recovery not confirmed in 3 of 3 (the SLO held for ")
            && !line.contains("not recovered in")
            && !line.contains("at least"),
        "{line}"
    );
}

#[test]
fn check_warns_when_slo_stable_does_not_fit_after_the_surge() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "model.toml", MODEL);
    let text = crate::common::check_ok(&file);
    assert!(
        text.contains(
            "warning: slo.stable (1 h 0 min) is longer than the 39 min the horizon leaves after \
             the surge's peak (it ends at 21 min)"
        ),
        "{text}"
    );
    let fits = write_file(
        dir.path(),
        "fits.toml",
        &format!("{MODEL}[slo]\nstable = \"30m\"\n"),
    );
    assert!(!crate::common::check_ok(&fits).contains("warning"));
}
