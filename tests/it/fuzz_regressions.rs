//! Replays every saved fuzz input (`tests/fuzz-regressions/`, found by `scripts/fuzz.sh`), and
//! the shipped and bad models, through the fuzz target's entry point: parse, check and a short
//! bounded run must return without a panic, each in a moment.

use std::path::{Path, PathBuf};
use std::time::Instant;

const MAX_EVENTS: u64 = 20_000;

fn files(dir: &str, ext: Option<&str>) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| ext.is_none_or(|x| p.extension().is_some_and(|e| e == x)))
        .collect();
    v.sort();
    v
}

fn replay(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).unwrap();
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(());
    };
    let base = path.parent().unwrap().to_path_buf();
    let text = text.to_string();
    let started = Instant::now();
    let result = std::panic::catch_unwind(move || {
        surge::experiment::guard::try_text(&text, &base, MAX_EVENTS).map(|s| s.is_some())
    });
    let took = started.elapsed().as_secs_f64();
    match result {
        Err(_) => Err(format!("{}: panicked", path.display())),
        Ok(_) if took > 10.0 => Err(format!("{}: took {took:.1} s", path.display())),
        Ok(_) => Ok(()),
    }
}

#[test]
fn saved_fuzz_inputs_neither_panic_nor_hang() {
    let mut inputs = files("tests/fuzz-regressions", None);
    inputs.retain(|p| p.file_name().is_some_and(|n| n != "README.md"));
    inputs.extend(files("tests/bad-models", Some("toml")));
    inputs.extend(files("models", Some("toml")));
    // Keep panics quiet in the log; a failure names the file.
    std::panic::set_hook(Box::new(|_| {}));
    let failures: Vec<String> = inputs.iter().filter_map(|p| replay(p).err()).collect();
    let _ = std::panic::take_hook();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The policy seed of the fuzz corpus (every policy section, two variants, a grid in `# vary:`
/// comments) is a valid model that runs, with variants that load and a grid that counts, so
/// that mutations start from every policy key.
#[test]
fn the_policy_seed_is_valid_and_runs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions/policies-every-section.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let ran = surge::experiment::guard::try_text(&text, path.parent().unwrap(), MAX_EVENTS)
        .map(|s| s.is_some());
    if let Err(e) = &ran {
        panic!("{e}");
    }
    assert_eq!(ran.ok(), Some(true));
    let variants = surge::experiment::variant::declared(&text, "p.toml").unwrap();
    assert_eq!(variants.len(), 2);
    let varies: Vec<_> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# vary: "))
        .map(|v| surge::experiment::vary::parse_vary(v, 4).unwrap())
        .collect();
    assert_eq!(surge::experiment::sweep::grid_size(&varies).unwrap(), 12);
}
