//! `surge new` (alias `surge init`): each kind of site gives a model that `surge check` accepts
//! and `surge run` runs; the flags give the values asked; an existing file is not overwritten
//! without --force (exit code 2).

use crate::common::{assert_bad_input, assert_success, surge};

/// A TOML number, written with or without a decimal point.
fn num(v: &toml::Value) -> Option<f64> {
    v.as_float().or(v.as_integer().map(|i| i as f64))
}

fn new(args: &[&str]) -> std::process::Output {
    surge().arg("new").args(args).output().unwrap()
}

#[test]
fn each_kind_is_checked_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["api", "shop", "public-service"] {
        let path = dir.path().join(format!("{kind}.toml"));
        // Standard input is not a terminal here: every value not given is the default.
        assert_success(&new(&[path.to_str().unwrap(), "--kind", kind]));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("ASSUMPTION"), "{text}");
        crate::common::check_ok(&path);
        let out = dir.path().join(format!("{kind}-run"));
        let o = surge()
            .arg("run")
            .arg(&path)
            .arg("--quiet")
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_success(&o);
        assert!(out.join("summary.json").is_file(), "{kind}");
    }
}

#[test]
fn the_flags_give_the_values_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let p = path.to_str().unwrap();
    assert_success(&new(&[
        p,
        "--kind",
        "api",
        "--peak",
        "600",
        "--surge",
        "4",
        "--tiers",
        "web,app",
        "--instances",
        "3,5",
        "--threads",
        "10,20",
        "--slo-p95",
        "500ms",
        "--slo-success",
        "0.995",
    ]));
    let v: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        num(&v["source"][0]["rate"]),
        Some(150.0),
        "600 at the peak / 4"
    );
    assert_eq!(v["source"][0]["kind"].as_str(), Some("requests"));
    assert_eq!(num(&v["surge"]["peak"]), Some(4.0));
    let tiers = v["tier"].as_array().unwrap();
    assert_eq!(tiers.len(), 2);
    assert_eq!(tiers[0]["name"].as_str(), Some("web"));
    assert_eq!(tiers[0]["instances"].as_integer(), Some(3));
    assert_eq!(tiers[1]["instances"].as_integer(), Some(5));
    assert_eq!(tiers[0]["threads"].as_integer(), Some(10));
    assert_eq!(tiers[1]["threads"].as_integer(), Some(20));
    assert_eq!(v["slo"]["latency"].as_str(), Some("500ms"));
    assert_eq!(num(&v["slo"]["success_rate"]), Some(0.995));
    // Users: the sessions per second at the peak become users on the site (Little's law).
    let shop = dir.path().join("shop.toml");
    assert_success(&new(&[
        shop.to_str().unwrap(),
        "--kind",
        "shop",
        "--peak",
        "10",
        "--surge",
        "5",
        "--tiers",
        "web",
        "--instances",
        "2",
        "--threads",
        "50",
    ]));
    let v: toml::Value = toml::from_str(&std::fs::read_to_string(&shop).unwrap()).unwrap();
    // 10 / 5 = 2 sessions/s x 8 pages x 20 s.
    assert_eq!(num(&v["source"][0]["users"]), Some(320.0));
    assert_eq!(v["tier"].as_array().unwrap().len(), 1);
}

#[test]
fn an_existing_file_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.toml");
    std::fs::write(&path, "mine").unwrap();
    let p = path.to_str().unwrap();
    assert_bad_input(&new(&[p, "--kind", "api"]), &["already exists", "--force"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
    assert_success(&new(&[p, "--kind", "api", "--force"]));
    assert!(std::fs::read_to_string(&path).unwrap().contains("[[tier]]"));
    // The alias, and answers the model could not hold.
    let other = dir.path().join("other.toml");
    let o = other.to_str().unwrap();
    assert_success(
        &surge()
            .args(["init", o, "--kind", "shop"])
            .output()
            .unwrap(),
    );
    assert_bad_input(
        &new(&[o, "--force", "--tiers", "web,db"]),
        &["--tiers web,db"],
    );
    assert_bad_input(
        &new(&[o, "--force", "--instances", "1,2"]),
        &["--instances"],
    );
    assert_bad_input(
        &new(&[o, "--force", "--slo-success", "1.5"]),
        &["--slo-success"],
    );
}
