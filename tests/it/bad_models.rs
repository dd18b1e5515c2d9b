//! The bad-model corpus (`tests/bad-models/`): every file there is a model that is wrong in one
//! way, with its expected message in leading comment lines (see the folder's README). Each one
//! must make `surge run` exit with code 2 and a one-paragraph message on stderr that names the
//! file, the place (line and column, key path or `--set`) and the expected text, with no panic
//! or backtrace, nothing on stdout, and no file written.

use crate::common::{refusal_problems, surge};
use std::path::{Path, PathBuf};

/// The corpus must stay at least this large.
const MIN_CASES: usize = 40;

struct Case {
    path: PathBuf,
    expect: Vec<String>,
    place: String,
    args: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-models")
}

fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/bad-models exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            // Read as bytes: a case may hold bytes that are not UTF-8 on purpose.
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let mut case = Case {
                path,
                expect: Vec::new(),
                place: String::new(),
                args: Vec::new(),
            };
            for line in text.lines().take_while(|l| l.starts_with('#')) {
                if let Some(e) = line.strip_prefix("# expect: ") {
                    case.expect.push(e.to_string());
                } else if let Some(p) = line.strip_prefix("# place: ") {
                    case.place = p.to_string();
                } else if let Some(s) = line.strip_prefix("# set: ") {
                    case.args.push("--set".into());
                    case.args.push(s.to_string());
                } else if let Some(a) = line.strip_prefix("# args: ") {
                    case.args.extend(a.split_whitespace().map(str::to_string));
                }
            }
            case
        })
        .collect()
}

/// What the message must contain to name the place.
fn place_text(place: &str, file: &str) -> Result<String, String> {
    if let Some(k) = place.strip_prefix("key ") {
        Ok(format!("at key `{k}`"))
    } else if place.starts_with("--set ") {
        Ok(format!("{file} (in {place})"))
    } else if place.split(':').count() == 2 && place.split(':').all(|n| n.parse::<u32>().is_ok()) {
        Ok(format!("{file}:{place}:"))
    } else {
        Err(format!(
            "test bug: `# place: {place}` is not L:C, key PATH or --set K=V"
        ))
    }
}

fn run_case(case: &Case) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if case.expect.is_empty() {
        problems.push("test bug: no `# expect:` line".to_string());
    }
    let file = case.path.display().to_string();
    let place = place_text(&case.place, &file).map_err(|e| vec![e])?;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = surge()
        .current_dir(dir.path())
        .arg("run")
        .arg(&case.path)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .args(&case.args)
        .output()
        .expect("run surge");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let expect: Vec<&str> = case.expect.iter().map(String::as_str).collect();
    problems.extend(refusal_problems(&output, &file, &stderr, &expect));
    let body = stderr.trim_end();
    if body.is_empty() || body.lines().any(|l| l.trim().is_empty()) {
        problems.push("stderr is not one paragraph".into());
    }
    if !stderr.contains(&place) {
        problems.push(format!("stderr does not name the place `{place}`"));
    }
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    if !written.is_empty() {
        problems.push(format!("files were written: {written:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.push(format!("stderr: {stderr:?}"));
        Err(problems)
    }
}

#[test]
fn every_bad_model_exits_2_with_one_paragraph_naming_the_place() {
    let cases = cases();
    assert!(
        cases.len() >= MIN_CASES,
        "the corpus holds {} cases, fewer than {MIN_CASES}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.path.file_name().unwrap().to_string_lossy();
        match run_case(case) {
            Ok(()) => println!("ok   {name}"),
            Err(p) => failures.push(format!("{name}:\n    - {}", p.join("\n    - "))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad models are not refused as they should be:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Positive control: a case with its fault removed runs, so the corpus does not pass by
/// accident (a broken base model would make every case "fail" for the wrong reason).
#[test]
fn the_corpus_base_model_runs() {
    let text = std::fs::read_to_string(corpus_dir().join("26-rate-zero.toml")).unwrap();
    let fixed = text.replace("rate = 0", "rate = 5");
    assert_ne!(text, fixed);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fixed.toml");
    std::fs::write(&file, fixed).unwrap();
    let output = crate::common::run_output(&file, dir.path(), &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("out/summary.json").exists());
}

/// The guide (docs/guide.md, "How surge is checked") states the size of the corpus: it must be
/// the number of files here.
#[test]
fn the_guide_states_the_corpus_size() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/guide.md"))
            .unwrap();
    let marker = "the corpus `tests/bad-models/` (";
    let at = readme
        .find(marker)
        .expect("docs/guide.md describes the corpus")
        + marker.len();
    let stated: usize = readme[at..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("docs/guide.md gives the corpus size as `(N files`");
    assert_eq!(
        stated,
        cases().len(),
        "docs/guide.md says the corpus has {stated} files; tests/bad-models/ has {}",
        cases().len()
    );
}
