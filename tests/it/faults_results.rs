//! Hostile input, round two (issue 27, items 11-16): inputs that gave wrong results with exit
//! code 0. Names that cannot be keys, variants that break the pairing, a model name that writes
//! outside `outputs/`, journals and manifests taken on trust, and events at a bucket's first
//! instant counted in the bucket before.

use crate::common::{MEMORY_CRASH, assert_bad_input, assert_success, column, repo_file};
use crate::common::{surge, write_file};
use crate::journal_common::{crash_search_args, journal_of_killed, two_shards};
use std::path::Path;

/// Item 11: a variant named with a dot (tier and source names: corpus cases faults-06..08).
#[test]
fn a_variant_name_with_a_dot_is_refused() {
    let o = surge()
        .arg("compare")
        .arg(repo_file("models/mmck.toml"))
        .args(["--variant", "v1.2:tier.server.threads=12", "--reps", "2"])
        .output()
        .unwrap();
    assert_bad_input(&o, &["mmck.toml", "the variant name \"v1.2\" has a dot"]);
}

/// Item 12: a variant may not change the horizon, the warm-up or the seed (its replications would
/// not pair with the baseline's); the same key for every variant with `--set` is fine.
#[test]
fn a_variant_that_breaks_the_pairing_is_refused() {
    let mmck = repo_file("models/mmck.toml");
    for set in [
        "scenario.duration=2h",
        "scenario.warmup=5m",
        "scenario.seed=9",
    ] {
        let o = surge()
            .arg("compare")
            .arg(&mmck)
            .args(["--variant", &format!("x:{set}"), "--reps", "2"])
            .output()
            .unwrap();
        let key = set.split('=').next().unwrap();
        assert_bad_input(&o, &[&format!("variant \"x\" sets `{key}`"), "same seeds"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let model = format!(
        "{}\n[[variant]]\nname = \"longer\"\nset = {{ scenario.duration = \"2h\" }}\n",
        std::fs::read_to_string(&mmck).unwrap()
    );
    let file = write_file(dir.path(), "m.toml", &model);
    let o = surge().arg("compare").arg(&file).output().unwrap();
    assert_bad_input(&o, &["variant \"longer\" sets `scenario.duration`"]);
}

/// Item 13: a model named `../../x` (or `/x`) writes under `outputs/`, nowhere else.
#[test]
fn a_model_name_is_one_folder_inside_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("a/b");
    std::fs::create_dir_all(&cwd).unwrap();
    let mmck = std::fs::read_to_string(repo_file("models/mmck.toml")).unwrap();
    for (name, folder) in [
        ("../../x", "_.._.._x"),
        ("/surge-faults-abs", "_surge-faults-abs"),
        ("..", "_.."),
    ] {
        let model = mmck.replacen("[scenario]", &format!("[scenario]\nname = {name:?}"), 1);
        let model = model.replacen("\nname = \"mmck\"", "", 1);
        let file = write_file(&cwd, "m.toml", &model);
        let o = surge()
            .current_dir(&cwd)
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--set", "scenario.duration=2m"])
            .output()
            .unwrap();
        assert_success(&o);
        assert!(
            cwd.join("outputs")
                .join(folder)
                .join("run/summary.json")
                .exists(),
            "{name}: not in outputs/{folder}"
        );
    }
    assert!(
        !dir.path().join("x").exists(),
        "written outside the working folder"
    );
    assert!(!Path::new("/surge-faults-abs").exists());
}

/// Item 14: crash-point journal rows with NaN, inf, another seed or a contradiction are refused
/// and the journal named as the crash-point journal's.
#[test]
fn a_crash_point_journal_row_that_is_not_a_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "crash.toml", MEMORY_CRASH);
    let out = dir.path().join("cp");
    let journal = out.join("crashpoint.partial.csv");
    let args = crash_search_args(file.to_str().unwrap(), out.to_str().unwrap());
    let lines = journal_of_killed(&args, &journal, 2);
    let (head, row) = (&lines[..2], &lines[2]);
    let f: Vec<&str> = row.split(',').collect();
    let other = if f[3] == "1" { "0" } else { "1" };
    for (bad, why) in [
        (
            format!("NaN,{},{},{}", f[1], f[2], f[3]),
            "is not a finite number",
        ),
        (
            format!("inf,{},{},{}", f[1], f[2], f[3]),
            "is not a finite number",
        ),
        (format!("{},{},12345,{}", f[0], f[1], f[3]), "not `12345`"),
        (
            format!("{},{},{},{other}", f[0], f[1], f[2]),
            "different outcomes",
        ),
        (
            format!("{},4294967296,{},{}", f[0], f[2], f[3]),
            "not a whole number",
        ),
    ] {
        let text = format!("{}\n{row}\n{bad}\n", head.join("\n"));
        std::fs::write(&journal, text).unwrap();
        let mut again = args.to_vec();
        again.push("--resume");
        let o = surge().args(&again).output().unwrap();
        assert_bad_input(&o, &["crashpoint.partial.csv", "crash-point journal", why]);
    }
}

/// Item 14: a sweep journal row with an edited seed (or a metric that is no number) is refused.
#[test]
fn a_sweep_journal_row_with_an_edited_seed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mmck = repo_file("models/mmck.toml");
    let out = dir.path().join("sw");
    let journal = out.join("points.partial.csv");
    let args = [
        "sweep",
        mmck.to_str().unwrap(),
        "--vary",
        "tier.server.threads=8..11:1",
        "--reps",
        "3",
        "--set",
        "scenario.duration=2h",
        "--jobs",
        "1",
        "-y",
        "--out",
        out.to_str().unwrap(),
    ];
    let lines = journal_of_killed(&args, &journal, 2);
    let row = &lines[2];
    let mut f: Vec<String> = row.split(',').map(str::to_string).collect();
    let seed = f[3].clone();
    for (i, bad) in [(3, "42"), (5, "banana")] {
        let mut g = f.clone();
        g[i] = bad.to_string();
        let text = format!("{}\n{}\n", lines[..2].join("\n"), g.join(","));
        std::fs::write(&journal, text).unwrap();
        let mut again = args.to_vec();
        again.push("--resume");
        let o = surge().args(&again).output().unwrap();
        assert_bad_input(&o, &["points.partial.csv", "is not a run of this sweep"]);
    }
    // The row as written resumes.
    f[3] = seed;
    std::fs::write(
        &journal,
        format!("{}\n{}\n", lines[..2].join("\n"), f.join(",")),
    )
    .unwrap();
    let mut again = args.to_vec();
    again.push("--resume");
    assert_success(&surge().args(&again).output().unwrap());
}

fn merge(dir: &Path) -> std::process::Output {
    surge()
        .arg("merge")
        .arg(dir)
        .arg("--quiet")
        .arg("--out")
        .arg(dir.join("merged"))
        .output()
        .unwrap()
}

/// Item 15: a manifest naming `/etc/passwd` or `../x` is not opened; a CSV with a row more than
/// its manifest says is refused.
#[test]
fn a_shard_manifest_names_a_bare_file_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    two_shards(dir.path());
    let manifest = dir.path().join("shard-0000-of-0002.json");
    let original = std::fs::read_to_string(&manifest).unwrap();
    for name in ["/etc/passwd", "../x.csv", "sub/shard-0000-of-0002.csv"] {
        let mut doc: serde_json::Value = serde_json::from_str(&original).unwrap();
        doc["file"] = serde_json::json!(name);
        std::fs::write(&manifest, doc.to_string()).unwrap();
        let o = merge(dir.path());
        assert_bad_input(
            &o,
            &[
                "shard-0000-of-0002.json",
                &format!("names the file `{name}`"),
            ],
        );
    }
    std::fs::write(&manifest, &original).unwrap();
    let csv = dir.path().join("shard-0000-of-0002.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let extra = text.lines().nth(1).unwrap().to_string();
    std::fs::write(&csv, format!("{text}{extra}\n")).unwrap();
    let o = merge(dir.path());
    assert_bad_input(
        &o,
        &["shard-0000-of-0002.csv holds 3 rows where its manifest"],
    );
    std::fs::write(&csv, &text).unwrap();
    assert_success(&merge(dir.path()));
}

/// Item 16: every event at a bucket's first instant is counted in that bucket (`t_s` is its
/// start). One thread, a 4 s service, patience 2 s, arrivals at 0.5, 2 and 5 s, all known:
/// 0.5 is served until 4.5; 2 waits and gives up at 4; 5 is served until 9. The events at 4, 5
/// and 9 s were scheduled before the bucket that holds them began (they fell in the bucket
/// before).
#[test]
fn events_at_a_bucket_start_are_counted_in_that_bucket() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("arrivals.csv"), "time\n0.5\n2\n5\n").unwrap();
    let model = "[scenario]\nduration = \"10s\"\nbucket = \"1s\"\nseed = 1\n\n\
        [client]\npatience = { dist = \"deterministic\", value = \"2s\" }\n\n\
        [[source]]\nkind = \"trace\"\nfile = \"arrivals.csv\"\n\n\
        [[tier]]\nname = \"web\"\ninstances = 1\nthreads = 1\n\
        service = { dist = \"deterministic\", value = \"4s\" }\n";
    let file = write_file(dir.path(), "model.toml", model);
    let s = crate::common::run_file(&file, dir.path(), &[]);
    assert_eq!(s["requests"]["succeeded"], 2, "{}", s["requests"]);
    assert_eq!(s["requests"]["timed_out"], 1, "{}", s["requests"]);
    let at = |rows: &[usize]| -> Vec<f64> {
        (0..10)
            .map(|i| f64::from(u8::from(rows.contains(&i))))
            .collect()
    };
    assert_eq!(
        column(dir.path(), "t_s"),
        (0..10).map(f64::from).collect::<Vec<_>>()
    );
    assert_eq!(column(dir.path(), "offered"), at(&[0, 2, 5]), "offered");
    assert_eq!(column(dir.path(), "succeeded"), at(&[4, 9]), "succeeded");
    assert_eq!(column(dir.path(), "timed_out"), at(&[4]), "timed out");

    // A completion at exactly the horizon is outside the run ([0, horizon)): in flight at the
    // end, in no bucket (it was counted a success in the last bucket).
    std::fs::write(dir.path().join("arrivals.csv"), "time\n0\n5\n").unwrap();
    let file = write_file(
        dir.path(),
        "model.toml",
        &model.replace("\"4s\"", "\"5s\"").replace(
            "[client]\npatience = { dist = \"deterministic\", value = \"2s\" }\n\n",
            "",
        ),
    );
    let s = crate::common::run_file(&file, dir.path(), &[]);
    assert_eq!(s["requests"]["succeeded"], 1, "{}", s["requests"]);
    assert_eq!(s["requests"]["in_flight"], 1, "{}", s["requests"]);
    assert_eq!(column(dir.path(), "succeeded"), at(&[5]), "succeeded");
}
